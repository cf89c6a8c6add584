//! Assets: registered against a variant by SKU, addressed by serial number, moved between the
//! statuses the API may set; rentals (a later module) move them to `rented_out` and back.

use flexportal_domain::assets::check_transition;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::products::Variant;
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Asset {
        pub tenant_id: String,
        pub serial_number: String,
        pub product_id: String,
        pub variant_id: String,
        pub sku: String,
        pub product_name: String,
        pub product_image_url: Option<String>,
        pub status: String,
        pub identifier_type: String,
        pub condition: Option<String>,
        pub location: Option<String>,
        pub notes: Option<String>,
        pub acquisition_cost: i64,
        pub customer_id: Option<String>,
        pub rental_id: Option<String>,
        pub unavailable_reason: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const ASSET_COLUMNS: &str = "tenant_id, serial_number, product_id, variant_id, sku, product_name, product_image_url, status, identifier_type, condition, location, notes, acquisition_cost, customer_id, rental_id, unavailable_reason, created_at, updated_at";

/// A new asset; the variant has been looked up by the caller through [`variant_by_sku`].
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub serial_number: String,
    pub status: String,
    pub identifier_type: String,
    pub condition: Option<String>,
    pub location: Option<String>,
    pub notes: Option<String>,
    /// Minor units; the variant's acquisition cost (or 0) when `None`.
    pub acquisition_cost: Option<i64>,
    pub product_image_url: Option<String>,
}

/// Changes to an asset; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AssetChanges {
    pub status: Option<String>,
    pub condition: Option<String>,
    pub location: Option<String>,
    pub notes: Option<String>,
    pub acquisition_cost: Option<i64>,
    pub unavailable_reason: Option<String>,
}

/// The variant `sku` with its product's category, for registering an asset.
pub async fn variant_by_sku(
    db: &Db,
    tenant_id: &str,
    sku: &str,
) -> Result<Option<(Variant, String)>> {
    crate::row! {
        struct Category {
            category: String,
        }
    }
    let variant: Option<Variant> = db
        .fetch_optional(
            "SELECT v.tenant_id, v.variant_id, v.product_id, p.product_sku, p.name AS product_name, v.variant_sku, v.variant_name, v.grade, \
             v.condition, v.color_name, v.images, v.list_price, v.acquisition_cost, v.pricing, v.status, v.created_at, v.updated_at \
             FROM variants v JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id \
             WHERE v.tenant_id = $1 AND v.variant_sku = $2",
            args![tenant_id, sku],
        )
        .await?;
    let Some(variant) = variant else {
        return Ok(None);
    };
    let category: Option<Category> = db
        .fetch_optional(
            "SELECT category FROM products WHERE tenant_id = $1 AND product_id = $2",
            args![tenant_id, &variant.product_id],
        )
        .await?;
    Ok(Some((
        variant,
        category.map(|c| c.category).unwrap_or_default(),
    )))
}

pub async fn create(
    db: &Db,
    tenant_id: &str,
    variant: &Variant,
    new: NewAsset,
    wire: &dyn Wire,
) -> Result<Asset> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    if get_in(&mut tx, tenant_id, &new.serial_number)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict {
            code: "ASSET_EXISTS",
            message: format!("An asset with serial number {} exists", new.serial_number),
        });
    }
    let images: Vec<String> = serde_json::from_str(&variant.images).unwrap_or_default();
    let inserted = tx
        .execute(
            format!("INSERT INTO assets ({ASSET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, NULL, $14, $14)"),
            args![
                tenant_id,
                &new.serial_number,
                &variant.product_id,
                &variant.variant_id,
                &variant.variant_sku,
                format!("{} {}", variant.product_name, variant.variant_name),
                new.product_image_url.or_else(|| images.into_iter().next()),
                &new.status,
                &new.identifier_type,
                new.condition,
                new.location,
                new.notes,
                new.acquisition_cost.or(variant.acquisition_cost).unwrap_or(0),
                now
            ],
        )
        .await;
    match inserted {
        Ok(_) => {}
        // A concurrent registration of the same serial won.
        Err(StoreError::Unique(_)) => {
            return Err(StoreError::Conflict {
                code: "ASSET_EXISTS",
                message: format!("An asset with serial number {} exists", new.serial_number),
            });
        }
        Err(e) => return Err(e),
    }
    let asset = get_in(&mut tx, tenant_id, &new.serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &asset, "asset.created", wire).await?;
    tx.commit().await?;
    Ok(asset)
}

pub(crate) async fn get_in(tx: &mut Tx, tenant_id: &str, serial: &str) -> Result<Option<Asset>> {
    tx.fetch_optional(
        format!("SELECT {ASSET_COLUMNS} FROM assets WHERE tenant_id = $1 AND serial_number = $2"),
        args![tenant_id, serial],
    )
    .await
}

/// Marks the asset returned from its rental, free of customer and rental; the asset as written.
pub(crate) async fn mark_returned_in(
    tx: &mut Tx,
    tenant_id: &str,
    serial: &str,
    now: i64,
) -> Result<Option<Asset>> {
    tx.fetch_optional(
        format!(
            "UPDATE assets SET status = 'returned', customer_id = NULL, rental_id = NULL, updated_at = $3 \
             WHERE tenant_id = $1 AND serial_number = $2 RETURNING {ASSET_COLUMNS}"
        ),
        args![tenant_id, serial, now],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, serial: &str) -> Result<Option<Asset>> {
    db.fetch_optional(
        format!("SELECT {ASSET_COLUMNS} FROM assets WHERE tenant_id = $1 AND serial_number = $2"),
        args![tenant_id, serial],
    )
    .await
}

pub(crate) async fn record(
    tx: &mut Tx,
    asset: &Asset,
    event_type: &str,
    wire: &dyn Wire,
) -> Result<()> {
    events::record(
        tx,
        NewEvent {
            tenant_id: &asset.tenant_id,
            event_type,
            resource_type: "asset",
            resource_id: &asset.serial_number,
            data: wire.asset(asset),
        },
    )
    .await?;
    Ok(())
}

crate::row! {
    /// One rental an asset has been on, with what was collected while it was.
    #[derive(Debug, Clone)]
    pub struct AssetRental {
        pub rental_id: String,
        pub customer_id: String,
        pub customer_name: String,
        pub rental_status: String,
        pub start_date: String,
        pub end_date: String,
        pub monthly_amount: i64,
        pub assigned_at: i64,
        /// When the asset left the rental: a replacement's time, or the rental's end.
        pub released_at: Option<i64>,
        pub release_reason: Option<String>,
        pub collected: i64,
    }
}

/// Records that `serial` now serves `rental_id`.
pub(crate) async fn bind_in(
    tx: &mut Tx,
    tenant_id: &str,
    serial: &str,
    rental_id: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO asset_rentals (tenant_id, serial_number, rental_id, assigned_at, collected) VALUES ($1, $2, $3, $4, 0)",
        args![tenant_id, serial, rental_id, now],
    )
    .await?;
    Ok(())
}

/// Records that a replacement took `serial` off `rental_id`, which goes on with another asset.
pub(crate) async fn release_in(
    tx: &mut Tx,
    tenant_id: &str,
    serial: &str,
    rental_id: &str,
    reason: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE asset_rentals SET released_at = $4, release_reason = $5 WHERE tenant_id = $1 AND serial_number = $2 AND rental_id = $3",
        args![tenant_id, serial, rental_id, now, reason],
    )
    .await?;
    Ok(())
}

/// Every rental `serial` has been on, newest first.
pub async fn rental_history(db: &Db, tenant_id: &str, serial: &str) -> Result<Vec<AssetRental>> {
    db.fetch_all(
        "SELECT h.rental_id, r.customer_id, r.customer_name, r.status AS rental_status, r.start_date, r.end_date, r.monthly_amount, \
         h.assigned_at, COALESCE(h.released_at, r.ended_at) AS released_at, \
         COALESCE(h.release_reason, CASE WHEN r.status = 'active' THEN NULL ELSE r.status END) AS release_reason, h.collected \
         FROM asset_rentals h JOIN rentals r ON r.tenant_id = h.tenant_id AND r.rental_id = h.rental_id \
         WHERE h.tenant_id = $1 AND h.serial_number = $2 ORDER BY h.assigned_at DESC, h.rental_id DESC",
        args![tenant_id, serial],
    )
    .await
}

/// Applies `changes`; a status change must be one the API may make.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    serial: &str,
    changes: AssetChanges,
    wire: &dyn Wire,
) -> Result<Asset> {
    let mut tx = db.begin().await?;
    let current = get_in(&mut tx, tenant_id, serial)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(status) = &changes.status {
        check_transition(&current.status, status)
            .map_err(|(code, message)| StoreError::Refused { code, message })?;
    }
    // A reason only describes an unavailable asset.
    let reason = match changes.status.as_deref() {
        Some("unavailable") => changes.unavailable_reason.clone(),
        Some(_) => None,
        None => current.unavailable_reason.clone(),
    };
    tx.execute(
        "UPDATE assets SET status = COALESCE($3, status), condition = COALESCE($4, condition), location = COALESCE($5, location), \
         notes = COALESCE($6, notes), acquisition_cost = COALESCE($7, acquisition_cost), unavailable_reason = $8, updated_at = $9 \
         WHERE tenant_id = $1 AND serial_number = $2",
        args![
            tenant_id,
            serial,
            changes.status,
            changes.condition,
            changes.location,
            changes.notes,
            changes.acquisition_cost,
            reason,
            now_micros()
        ],
    )
    .await?;
    let asset = get_in(&mut tx, tenant_id, serial)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &asset, "asset.updated", wire).await?;
    tx.commit().await?;
    Ok(asset)
}

#[derive(Debug, Clone, Default)]
pub struct AssetFilters {
    pub status: Option<String>,
    pub sku: Option<String>,
    pub product_id: Option<String>,
    pub customer_id: Option<String>,
    pub rental_id: Option<String>,
}

pub const ASSET_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
    ),
    (
        "serialNumber",
        SortColumn {
            expr: "serial_number",
            kind: SortKind::Text,
        },
    ),
    (
        "status",
        SortColumn {
            expr: "status",
            kind: SortKind::Text,
        },
    ),
    (
        "acquisitionCost",
        SortColumn {
            expr: "acquisition_cost",
            kind: SortKind::Int,
        },
    ),
];

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: AssetFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Asset>> {
    let mut conditions = Vec::new();
    for (sql, value) in [
        ("status = {}", filters.status),
        ("sku = {}", filters.sku),
        ("product_id = {}", filters.product_id),
        ("customer_id = {}", filters.customer_id),
        ("rental_id = {}", filters.rental_id),
    ] {
        if let Some(v) = value {
            conditions.push(Filter::new(sql, v));
        }
    }
    let spec = ListSpec {
        from: "assets",
        columns: ASSET_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "serial_number",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}
