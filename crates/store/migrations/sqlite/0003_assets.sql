-- Assets: serial-numbered units of a variant, addressed by serial number within a business unit.

CREATE TABLE assets (
    tenant_id TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    product_image_url TEXT,
    status TEXT NOT NULL,
    identifier_type TEXT NOT NULL,
    condition TEXT,
    location TEXT,
    notes TEXT,
    acquisition_cost BIGINT NOT NULL,
    customer_id TEXT,
    rental_id TEXT,
    unavailable_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, serial_number)
);
CREATE INDEX assets_created ON assets (tenant_id, created_at, serial_number);
CREATE INDEX assets_status ON assets (tenant_id, status, created_at, serial_number);
CREATE INDEX assets_status_sort ON assets (tenant_id, status, serial_number);
CREATE INDEX assets_sku ON assets (tenant_id, sku, created_at, serial_number);
CREATE INDEX assets_product ON assets (tenant_id, product_id, created_at, serial_number);
CREATE INDEX assets_cost ON assets (tenant_id, acquisition_cost, serial_number);
CREATE INDEX assets_customer ON assets (tenant_id, customer_id, created_at, serial_number);
CREATE INDEX assets_rental ON assets (tenant_id, rental_id);
