-- Deliveries out with a dispatcher right now: a claim checks an endpoint has none, and this
-- keeps that check from reading the endpoint's whole backlog.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at) WHERE lease_owner IS NOT NULL;
