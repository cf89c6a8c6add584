-- Billing groups: one customer's rentals billed together, one payment a month on the group's
-- billing day. Membership is `rentals.billing_group_id`.
CREATE TABLE billing_groups (
    tenant_id TEXT NOT NULL,
    billing_group_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    billing_day BIGINT NOT NULL,
    status TEXT NOT NULL,
    notes TEXT,
    currency TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, billing_group_id)
);
CREATE INDEX billing_groups_created ON billing_groups (tenant_id, created_at, billing_group_id);
CREATE INDEX billing_groups_customer ON billing_groups (tenant_id, customer_id, created_at, billing_group_id);
CREATE INDEX billing_groups_status ON billing_groups (tenant_id, status, created_at, billing_group_id);

-- A consolidated payment's lines, one per member rental: JSON, amounts in minor units.
ALTER TABLE payments ADD COLUMN line_items TEXT;
