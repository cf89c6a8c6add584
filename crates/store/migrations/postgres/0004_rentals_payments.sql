-- Rentals (subscriptions on the wire) bind one ordered unit to one asset; payments are their
-- monthly schedule and one-off charges. Dates are ISO `YYYY-MM-DD` text, which sorts by time.

CREATE TABLE rentals (
    tenant_id TEXT COLLATE "C" NOT NULL,
    rental_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    asset_serial_number TEXT COLLATE "C" NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    sku TEXT COLLATE "C" NOT NULL,
    product_name TEXT NOT NULL,
    product_image_url TEXT,
    monthly_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    original_contract_length BIGINT NOT NULL,
    contract_length BIGINT NOT NULL,
    start_date TEXT COLLATE "C" NOT NULL,
    end_date TEXT COLLATE "C" NOT NULL,
    list_price BIGINT,
    acquisition_cost BIGINT NOT NULL,
    total_collected BIGINT NOT NULL DEFAULT 0,
    billing_group_id TEXT COLLATE "C",
    customer_email TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    cancellation_details TEXT,
    buyout_details TEXT,
    extension_history TEXT NOT NULL DEFAULT '[]',
    early_return_details TEXT,
    replacement_history TEXT NOT NULL DEFAULT '[]',
    notes TEXT,
    ended_at BIGINT,
    contract_end_flagged_at BIGINT,
    upgrade_from_rental_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id)
);
CREATE INDEX rentals_created ON rentals (tenant_id, created_at, rental_id);
CREATE INDEX rentals_start ON rentals (tenant_id, start_date, rental_id);
CREATE INDEX rentals_end ON rentals (tenant_id, end_date, rental_id);
CREATE INDEX rentals_amount ON rentals (tenant_id, monthly_amount, rental_id);
CREATE INDEX rentals_status ON rentals (tenant_id, status, created_at, rental_id);
CREATE INDEX rentals_customer ON rentals (tenant_id, customer_id, created_at, rental_id);
CREATE INDEX rentals_order ON rentals (tenant_id, order_id, created_at, rental_id);
CREATE INDEX rentals_asset ON rentals (tenant_id, asset_serial_number, created_at, rental_id);
CREATE INDEX rentals_sku ON rentals (tenant_id, sku, created_at, rental_id);
CREATE INDEX rentals_billing_group ON rentals (tenant_id, billing_group_id, created_at, rental_id);
-- The contract-end sweep looks across all tenants for active rentals past their end date: the
-- one index that deliberately does not start with tenant_id.
CREATE INDEX rentals_due_sweep ON rentals (status, end_date, tenant_id, rental_id);

CREATE TABLE payments (
    tenant_id TEXT COLLATE "C" NOT NULL,
    payment_id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    rental_id TEXT COLLATE "C",
    billing_group_id TEXT COLLATE "C",
    payment_type TEXT NOT NULL,
    category TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    due_date TEXT COLLATE "C" NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    idempotency_key TEXT COLLATE "C" NOT NULL,
    provider TEXT,
    payment_reference TEXT,
    marked_by TEXT,
    notes TEXT,
    cancellation_reason TEXT,
    failure_reason TEXT,
    next_retry_at BIGINT,
    paid_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, payment_id)
);
CREATE UNIQUE INDEX payments_idempotency ON payments (tenant_id, idempotency_key);
CREATE INDEX payments_created ON payments (tenant_id, created_at, payment_id);
CREATE INDEX payments_due ON payments (tenant_id, due_date, payment_id);
CREATE INDEX payments_total ON payments (tenant_id, total, payment_id);
CREATE INDEX payments_status ON payments (tenant_id, status, due_date, payment_id);
CREATE INDEX payments_status_sort ON payments (tenant_id, status, payment_id);
CREATE INDEX payments_customer ON payments (tenant_id, customer_id, due_date, payment_id);
CREATE INDEX payments_rental ON payments (tenant_id, rental_id, due_date, payment_id);
CREATE INDEX payments_billing_group ON payments (tenant_id, billing_group_id, due_date, payment_id);
