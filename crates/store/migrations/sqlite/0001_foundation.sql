-- Organizations own business units (tenants) and API keys. Every tenant table is keyed by
-- (tenant_id, ...), where tenant_id is the business unit id.

CREATE TABLE organizations (
    organization_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE business_units (
    tenant_id TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    currency TEXT NOT NULL,
    timezone TEXT NOT NULL,
    vat_rate_bp BIGINT NOT NULL,
    vat_mode TEXT NOT NULL,
    default_contract_length BIGINT NOT NULL,
    order_number_prefix TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX business_units_organization ON business_units (organization_id, tenant_id);

CREATE TABLE api_keys (
    key_id TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (organization_id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    business_unit_ids TEXT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    usage_count BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at, key_id);

CREATE TABLE events (
    tenant_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX events_created ON events (tenant_id, created_at, event_id);
CREATE INDEX events_type ON events (tenant_id, type, created_at, event_id);
CREATE INDEX events_resource ON events (tenant_id, resource_id, created_at, event_id);

CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status_code BIGINT,
    content_type TEXT,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);

CREATE TABLE products (
    tenant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    product_sku TEXT NOT NULL,
    name TEXT NOT NULL,
    specification TEXT NOT NULL,
    category TEXT NOT NULL,
    brand TEXT NOT NULL,
    description TEXT,
    images TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, product_id)
);
CREATE UNIQUE INDEX products_sku ON products (tenant_id, product_sku);
CREATE INDEX products_created ON products (tenant_id, created_at, product_id);
CREATE INDEX products_updated ON products (tenant_id, updated_at, product_id);
CREATE INDEX products_name ON products (tenant_id, name, product_id);
CREATE INDEX products_category ON products (tenant_id, category, created_at, product_id);
CREATE INDEX products_brand ON products (tenant_id, brand, created_at, product_id);
CREATE INDEX products_status ON products (tenant_id, status, created_at, product_id);

CREATE TABLE variants (
    tenant_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_sku TEXT NOT NULL,
    variant_name TEXT NOT NULL,
    grade TEXT NOT NULL,
    condition TEXT,
    color_name TEXT,
    images TEXT NOT NULL,
    list_price BIGINT,
    acquisition_cost BIGINT,
    pricing TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, variant_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, product_id)
);
CREATE UNIQUE INDEX variants_sku ON variants (tenant_id, variant_sku);
CREATE INDEX variants_product ON variants (tenant_id, product_id, variant_id);
CREATE INDEX variants_created ON variants (tenant_id, created_at, variant_id);
CREATE INDEX variants_grade ON variants (tenant_id, grade, created_at, variant_id);
CREATE INDEX variants_status ON variants (tenant_id, status, created_at, variant_id);
