-- Orders clustered by business unit. A rowid table keeps rows in the order they were written, so
-- with many units one unit's newest orders lie on as many pages as there are orders, each among
-- other units' rows; keyed by (tenant_id, order_id), whose ids grow with time, a unit's orders sit
-- side by side and its first page of a list reads a few neighbouring pages.
--
-- SQLite cannot change a table's key in place, and `files` refers to `orders`, so both are
-- rebuilt. The old tables are renamed first (which points `files_old` at `orders_old`), so that
-- dropping them never finds a row that the new tables still refer to.
ALTER TABLE files RENAME TO files_old;
ALTER TABLE orders RENAME TO orders_old;

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
) WITHOUT ROWID;
INSERT INTO orders SELECT * FROM orders_old;

CREATE TABLE files (
    tenant_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    -- The order's customer, copied so that a customer's files list without a join.
    customer_id TEXT NOT NULL,
    file_type TEXT NOT NULL,
    -- `uploaded` through the API or `generated` by the server.
    category TEXT NOT NULL,
    filename TEXT NOT NULL,
    original_filename TEXT,
    content_type TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    storage_path TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    -- A JSON object, as the caller gave it.
    metadata TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id)
);
INSERT INTO files SELECT * FROM files_old;

DROP TABLE files_old;
DROP TABLE orders_old;

CREATE UNIQUE INDEX orders_number ON orders (tenant_id, order_number);
CREATE INDEX orders_created ON orders (tenant_id, created_at, order_id);
CREATE INDEX orders_updated ON orders (tenant_id, updated_at, order_id);
CREATE INDEX orders_status ON orders (tenant_id, status, created_at, order_id);
CREATE INDEX orders_status_sort ON orders (tenant_id, status, order_id);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, created_at, order_id);
CREATE INDEX orders_type ON orders (tenant_id, order_type, created_at, order_id);
CREATE INDEX orders_total ON orders (tenant_id, total, order_id);
CREATE INDEX files_created ON files (tenant_id, created_at, file_id);
CREATE INDEX files_order ON files (tenant_id, order_id, created_at, file_id);
CREATE INDEX files_customer ON files (tenant_id, customer_id, created_at, file_id);
CREATE INDEX files_type ON files (tenant_id, file_type, created_at, file_id);
