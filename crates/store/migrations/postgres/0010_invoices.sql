-- Invoices: one per payment, numbered without gaps per business unit. The counter lives on the
-- business unit and is advanced in the transaction that writes the invoice and its file, so a
-- refused or failed request never uses a number.
ALTER TABLE business_units ADD COLUMN invoice_sequence BIGINT NOT NULL DEFAULT 0;

CREATE TABLE invoices (
    tenant_id TEXT COLLATE "C" NOT NULL,
    payment_id TEXT COLLATE "C" NOT NULL,
    -- The business unit's counter value the number was made from.
    sequence BIGINT NOT NULL,
    invoice_number TEXT COLLATE "C" NOT NULL,
    -- The PDF in `files`; replaced by a fresh rendering, with the same number, if deleted.
    file_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    billing_group_id TEXT COLLATE "C",
    -- YYYY-MM-DD in the business unit's time zone.
    issue_date TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, payment_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, payment_id)
);
CREATE UNIQUE INDEX invoices_number ON invoices (tenant_id, invoice_number);
CREATE UNIQUE INDEX invoices_sequence ON invoices (tenant_id, sequence);
