-- Files kept for a business unit: contracts, invoices, documents and attachments, each of one
-- order. The bytes live in the object store under `storage_path`; this row is what makes them
-- visible, so it is written only once they are stored and removed before they are.
CREATE TABLE files (
    tenant_id TEXT COLLATE "C" NOT NULL,
    file_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    -- The order's customer, copied so that a customer's files list without a join.
    customer_id TEXT COLLATE "C" NOT NULL,
    file_type TEXT COLLATE "C" NOT NULL,
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
CREATE INDEX files_created ON files (tenant_id, created_at, file_id);
CREATE INDEX files_order ON files (tenant_id, order_id, created_at, file_id);
CREATE INDEX files_customer ON files (tenant_id, customer_id, created_at, file_id);
CREATE INDEX files_type ON files (tenant_id, file_type, created_at, file_id);
