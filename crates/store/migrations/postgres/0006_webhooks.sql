-- Webhooks: the endpoints a business unit registers, one outbox row per (event, endpoint)
-- written in the transaction that records the event, and every delivery attempt.

CREATE TABLE webhook_endpoints (
    tenant_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    -- 1: every event type; 0: only those in webhook_endpoint_types.
    all_events BIGINT NOT NULL,
    enabled BIGINT NOT NULL,
    disabled_reason TEXT,
    -- Sealed with the server key; the previous secret keeps signing until previous_secret_until.
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until BIGINT,
    max_in_flight BIGINT NOT NULL,
    -- The first failure of the current run of failures, cleared by a success.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, endpoint_id)
);
CREATE INDEX webhook_endpoints_created ON webhook_endpoints (tenant_id, created_at, endpoint_id);

CREATE TABLE webhook_endpoint_types (
    tenant_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, endpoint_id, event_type)
);

CREATE TABLE webhook_deliveries (
    tenant_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    event_created_at BIGINT NOT NULL,
    -- pending (to send, or being sent under a lease), succeeded, failed.
    status TEXT COLLATE "C" NOT NULL,
    attempts BIGINT NOT NULL,
    -- When the row is next due; a claim moves it to the lease's expiry, so a delivery whose
    -- server died becomes due again by itself.
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    last_status_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, event_id, endpoint_id)
);
-- The dispatcher looks across all tenants for due rows: like the contract-end sweep, an index
-- that deliberately does not start with tenant_id.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, tenant_id, event_id, endpoint_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, status, event_created_at, event_id);

CREATE TABLE webhook_attempts (
    tenant_id TEXT COLLATE "C" NOT NULL,
    attempt_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    response_excerpt TEXT,
    error TEXT,
    succeeded BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, attempt_id)
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (tenant_id, endpoint_id, attempted_at, attempt_id);
CREATE INDEX webhook_attempts_event ON webhook_attempts (tenant_id, event_id, attempted_at, attempt_id);
