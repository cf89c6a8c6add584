-- Every binding of an asset to a rental, kept after a replacement moves the rental to another
-- asset, with the money collected while the binding held: an asset's history and its lifetime
-- cost recovery across all of its rentals.

CREATE TABLE asset_rentals (
    tenant_id TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    rental_id TEXT COLLATE "C" NOT NULL,
    assigned_at BIGINT NOT NULL,
    -- Set when a replacement takes the asset off a rental that goes on; otherwise the rental's
    -- own end is the binding's end.
    released_at BIGINT,
    release_reason TEXT,
    collected BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, serial_number, rental_id)
);
CREATE INDEX asset_rentals_history ON asset_rentals (tenant_id, serial_number, assigned_at, rental_id);

INSERT INTO asset_rentals (tenant_id, serial_number, rental_id, assigned_at, collected)
SELECT tenant_id, asset_serial_number, rental_id, created_at, total_collected FROM rentals;
