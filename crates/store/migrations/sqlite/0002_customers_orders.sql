-- Customers and orders. Figures a list sorts or filters by (devices rented, monthly revenue,
-- active rentals) are kept on the customer row and changed in the same transaction as the rentals
-- and payments they come from.

ALTER TABLE business_units ADD COLUMN order_sequence BIGINT NOT NULL DEFAULT 0;

CREATE TABLE customers (
    tenant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    company TEXT,
    phone TEXT,
    customer_type TEXT NOT NULL,
    payment_terms TEXT,
    custom_fields TEXT NOT NULL,
    status TEXT NOT NULL,
    last_billing_address TEXT,
    last_shipping_address TEXT,
    total_orders BIGINT NOT NULL DEFAULT 0,
    open_orders BIGINT NOT NULL DEFAULT 0,
    active_rentals BIGINT NOT NULL DEFAULT 0,
    total_devices_rented BIGINT NOT NULL DEFAULT 0,
    total_monthly_revenue BIGINT NOT NULL DEFAULT 0,
    lifetime_collected BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE UNIQUE INDEX customers_email ON customers (tenant_id, email_key);
CREATE INDEX customers_created ON customers (tenant_id, created_at, customer_id);
CREATE INDEX customers_first_name ON customers (tenant_id, first_name, customer_id);
CREATE INDEX customers_last_name ON customers (tenant_id, last_name, customer_id);
CREATE INDEX customers_email_sort ON customers (tenant_id, email_key, customer_id);
CREATE INDEX customers_revenue ON customers (tenant_id, total_monthly_revenue, customer_id);
CREATE INDEX customers_devices ON customers (tenant_id, total_devices_rented, customer_id);
CREATE INDEX customers_status ON customers (tenant_id, status, created_at, customer_id);
CREATE INDEX customers_type ON customers (tenant_id, customer_type, created_at, customer_id);
CREATE INDEX customers_active_rentals ON customers (tenant_id, active_rentals, created_at, customer_id);

CREATE TABLE orders (
    tenant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_number TEXT NOT NULL,
    status TEXT NOT NULL,
    order_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    customer TEXT NOT NULL,
    billing_address TEXT NOT NULL,
    shipping_address TEXT NOT NULL,
    items TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    total_devices BIGINT NOT NULL,
    rented_devices BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT,
    notes TEXT,
    extension_details TEXT,
    upgrade_details TEXT,
    cancellation_reason TEXT,
    confirmed_at BIGINT,
    cancelled_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, customer_id)
);
CREATE UNIQUE INDEX orders_number ON orders (tenant_id, order_number);
CREATE INDEX orders_created ON orders (tenant_id, created_at, order_id);
CREATE INDEX orders_updated ON orders (tenant_id, updated_at, order_id);
CREATE INDEX orders_status ON orders (tenant_id, status, created_at, order_id);
CREATE INDEX orders_status_sort ON orders (tenant_id, status, order_id);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, created_at, order_id);
CREATE INDEX orders_type ON orders (tenant_id, order_type, created_at, order_id);
CREATE INDEX orders_total ON orders (tenant_id, total, order_id);

-- One row per custom field value of an order, so filtering by a custom field is an index lookup.
CREATE TABLE order_custom_values (
    tenant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    field_id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, order_id, field_id)
);
CREATE INDEX order_custom_values_lookup ON order_custom_values (tenant_id, field_id, value, order_id);

-- Which variants each order holds, so "is this variant on an open order" is an index lookup.
CREATE TABLE order_variants (
    tenant_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, variant_id, order_id)
);

-- Natural idempotency: the first order with a fingerprint (email + items) holds this row; a
-- concurrent duplicate waits on it and then finds the order.
CREATE TABLE order_fingerprints (
    tenant_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    order_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, fingerprint)
);
