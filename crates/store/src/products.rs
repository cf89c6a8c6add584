//! The catalog: products, their variants, and the prices of each variant per contract length.

use flexportal_domain::catalog::PricingTier;
use flexportal_domain::ids::IdKind;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn};
use crate::{Result, StoreError, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Product {
        pub tenant_id: String,
        pub product_id: String,
        pub product_sku: String,
        pub name: String,
        pub specification: String,
        pub category: String,
        pub brand: String,
        pub description: Option<String>,
        /// JSON array of image URLs.
        pub images: String,
        pub status: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Variant {
        pub tenant_id: String,
        pub variant_id: String,
        pub product_id: String,
        pub product_sku: String,
        pub product_name: String,
        pub variant_sku: String,
        pub variant_name: String,
        pub grade: String,
        pub condition: Option<String>,
        pub color_name: Option<String>,
        pub images: String,
        pub list_price: Option<i64>,
        pub acquisition_cost: Option<i64>,
        /// JSON array of [`PricingTier`] in minor units.
        pub pricing: String,
        pub status: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl Variant {
    pub fn pricing(&self) -> Vec<PricingTier> {
        serde_json::from_str(&self.pricing).unwrap_or_default()
    }
}

/// A product write. On create every product field is present (the API checks); on update a
/// `None` leaves the field unchanged.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub product_sku: Option<String>,
    pub name: Option<String>,
    pub specification: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub description: Option<String>,
    pub images: Option<Vec<String>>,
    pub variants: Vec<VariantChanges>,
}

/// A variant write, matched to an existing variant by `variant_id` or `variant_sku`.
#[derive(Debug, Clone, Default)]
pub struct VariantChanges {
    pub variant_id: Option<String>,
    pub variant_sku: Option<String>,
    pub variant_name: Option<String>,
    pub grade: Option<String>,
    pub condition: Option<String>,
    pub color_name: Option<String>,
    pub images: Option<Vec<String>>,
    pub list_price: Option<i64>,
    pub acquisition_cost: Option<i64>,
    pub pricing: Option<Vec<PricingTier>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpsertOutcome {
    pub product_id: String,
    pub product_sku: String,
    pub created: bool,
    /// Per variant of the request, in order: its SKU and whether it was created.
    pub variants: Vec<(String, bool)>,
}

/// Renders a product with its variants as the event payload (the API's wire form).
pub type RenderProduct<'a> = &'a (dyn Fn(&Product, &[Variant]) -> serde_json::Value + Send + Sync);

const PRODUCT_COLUMNS: &str = "tenant_id, product_id, product_sku, name, specification, category, brand, description, images, status, created_at, updated_at";
const VARIANT_FROM: &str =
    "variants v JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id";
const VARIANT_COLUMNS: &str = "v.tenant_id, v.variant_id, v.product_id, p.product_sku, p.name AS product_name, v.variant_sku, v.variant_name, v.grade, v.condition, v.color_name, v.images, v.list_price, v.acquisition_cost, v.pricing, v.status, v.created_at, v.updated_at";

/// Creates the product `changes.product_sku`, or updates it when it exists.
pub async fn upsert(
    db: &Db,
    tenant_id: &str,
    changes: ProductChanges,
    render: RenderProduct<'_>,
) -> Result<UpsertOutcome> {
    let mut tx = db.begin().await?;
    let outcome = upsert_in(&mut tx, tenant_id, changes).await?;
    record_product_event(
        &mut tx,
        tenant_id,
        &outcome.product_id,
        write_event(&outcome),
        render,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

fn write_event(outcome: &UpsertOutcome) -> &'static str {
    if outcome.created {
        "product.created"
    } else {
        "product.updated"
    }
}

/// The writes of an upsert, without its event: the caller records one per product.
async fn upsert_in(tx: &mut Tx, tenant_id: &str, changes: ProductChanges) -> Result<UpsertOutcome> {
    let sku = changes.product_sku.clone().unwrap_or_default();
    let existing: Option<Product> = tx
        .fetch_optional(
            format!(
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND product_sku = $2"
            ),
            args![tenant_id, &sku],
        )
        .await?;
    match existing {
        Some(product) => write_existing(tx, tenant_id, product, changes).await,
        None => {
            let now = now_micros();
            let product_id = IdKind::Product.generate();
            tx.execute(
                format!("INSERT INTO products ({PRODUCT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10)"),
                args![
                    tenant_id,
                    &product_id,
                    &sku,
                    changes.name.unwrap_or_default(),
                    changes.specification.unwrap_or_default(),
                    changes.category.unwrap_or_default(),
                    changes.brand.unwrap_or_default(),
                    changes.description,
                    json_list(&changes.images.unwrap_or_default()),
                    now
                ],
            )
            .await?;
            let variants =
                apply_variants(tx, tenant_id, &product_id, changes.variants, now).await?;
            Ok(UpsertOutcome {
                product_id,
                product_sku: sku,
                created: true,
                variants,
            })
        }
    }
}

/// Applies a partial update to the product `product_id`.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    product_id: &str,
    changes: ProductChanges,
    render: RenderProduct<'_>,
) -> Result<UpsertOutcome> {
    let mut tx = db.begin().await?;
    let product = product_in(&mut tx, tenant_id, product_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(new_sku) = changes
        .product_sku
        .as_deref()
        .filter(|s| *s != product.product_sku)
    {
        let taken: Option<Product> = tx
            .fetch_optional(
                format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND product_sku = $2"),
                args![tenant_id, new_sku],
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict {
                code: "DUPLICATE_SKU",
                message: format!("product SKU {new_sku} belongs to another product"),
            });
        }
    }
    let outcome = write_existing(&mut tx, tenant_id, product, changes).await?;
    record_product_event(
        &mut tx,
        tenant_id,
        &outcome.product_id,
        "product.updated",
        render,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn write_existing(
    tx: &mut Tx,
    tenant_id: &str,
    product: Product,
    changes: ProductChanges,
) -> Result<UpsertOutcome> {
    let now = now_micros();
    tx.execute(
        "UPDATE products SET product_sku = COALESCE($3, product_sku), name = COALESCE($4, name), \
         specification = COALESCE($5, specification), category = COALESCE($6, category), brand = COALESCE($7, brand), \
         description = COALESCE($8, description), images = COALESCE($9, images), updated_at = $10 \
         WHERE tenant_id = $1 AND product_id = $2",
        args![
            tenant_id,
            &product.product_id,
            changes.product_sku.clone(),
            changes.name,
            changes.specification,
            changes.category,
            changes.brand,
            changes.description,
            changes.images.as_deref().map(json_list),
            now
        ],
    )
    .await?;
    let variants =
        apply_variants(tx, tenant_id, &product.product_id, changes.variants, now).await?;
    Ok(UpsertOutcome {
        product_sku: changes.product_sku.unwrap_or(product.product_sku),
        product_id: product.product_id,
        created: false,
        variants,
    })
}

async fn apply_variants(
    tx: &mut Tx,
    tenant_id: &str,
    product_id: &str,
    variants: Vec<VariantChanges>,
    now: i64,
) -> Result<Vec<(String, bool)>> {
    let mut results = Vec::with_capacity(variants.len());
    for change in variants {
        let existing = match (&change.variant_id, &change.variant_sku) {
            (Some(id), _) => {
                let found = variant_in(tx, tenant_id, "v.variant_id = $2", id).await?;
                match found {
                    Some(v) => Some(v),
                    None => {
                        return Err(StoreError::Refused {
                            code: "VARIANT_NOT_FOUND",
                            message: format!("variant {id} does not exist"),
                        });
                    }
                }
            }
            (None, Some(sku)) => variant_in(tx, tenant_id, "v.variant_sku = $2", sku).await?,
            (None, None) => None,
        };
        if let Some(v) = &existing
            && v.product_id != product_id
        {
            return Err(StoreError::Conflict {
                code: "DUPLICATE_SKU",
                message: format!("variant SKU {} belongs to another product", v.variant_sku),
            });
        }
        // Renaming a variant's SKU onto another variant's SKU is a conflict too.
        if let (Some(v), Some(new_sku)) = (&existing, &change.variant_sku)
            && *new_sku != v.variant_sku
            && variant_in(tx, tenant_id, "v.variant_sku = $2", new_sku)
                .await?
                .is_some()
        {
            return Err(StoreError::Conflict {
                code: "DUPLICATE_SKU",
                message: format!("variant SKU {new_sku} belongs to another variant"),
            });
        }
        let pricing = change
            .pricing
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        match existing {
            Some(v) => {
                tx.execute(
                    "UPDATE variants SET variant_sku = COALESCE($3, variant_sku), variant_name = COALESCE($4, variant_name), \
                     grade = COALESCE($5, grade), condition = COALESCE($6, condition), color_name = COALESCE($7, color_name), \
                     images = COALESCE($8, images), list_price = COALESCE($9, list_price), \
                     acquisition_cost = COALESCE($10, acquisition_cost), pricing = COALESCE($11, pricing), updated_at = $12 \
                     WHERE tenant_id = $1 AND variant_id = $2",
                    args![
                        tenant_id,
                        &v.variant_id,
                        change.variant_sku.clone(),
                        change.variant_name,
                        change.grade,
                        change.condition,
                        change.color_name,
                        change.images.as_deref().map(json_list),
                        change.list_price,
                        change.acquisition_cost,
                        pricing,
                        now
                    ],
                )
                .await?;
                results.push((change.variant_sku.unwrap_or(v.variant_sku), false));
            }
            None => {
                let sku = change.variant_sku.unwrap_or_default();
                tx.execute(
                    "INSERT INTO variants (tenant_id, variant_id, product_id, variant_sku, variant_name, grade, condition, color_name, images, list_price, acquisition_cost, pricing, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13, $13)",
                    args![
                        tenant_id,
                        IdKind::Variant.generate(),
                        product_id,
                        &sku,
                        change.variant_name.unwrap_or_default(),
                        change.grade.unwrap_or_default(),
                        change.condition,
                        change.color_name,
                        json_list(&change.images.unwrap_or_default()),
                        change.list_price,
                        change.acquisition_cost,
                        pricing.unwrap_or_else(|| "[]".into()),
                        now
                    ],
                )
                .await?;
                results.push((sku, true));
            }
        }
    }
    Ok(results)
}

async fn variant_in(
    tx: &mut Tx,
    tenant_id: &str,
    condition: &str,
    value: &str,
) -> Result<Option<Variant>> {
    tx.fetch_optional(
        format!(
            "SELECT {VARIANT_COLUMNS} FROM {VARIANT_FROM} WHERE v.tenant_id = $1 AND {condition}"
        ),
        args![tenant_id, value],
    )
    .await
}

async fn product_in(tx: &mut Tx, tenant_id: &str, product_id: &str) -> Result<Option<Product>> {
    tx.fetch_optional(
        format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND product_id = $2"),
        args![tenant_id, product_id],
    )
    .await
}

async fn variants_of_in(tx: &mut Tx, tenant_id: &str, product_id: &str) -> Result<Vec<Variant>> {
    tx.fetch_all(
        format!("SELECT {VARIANT_COLUMNS} FROM {VARIANT_FROM} WHERE v.tenant_id = $1 AND v.product_id = $2 ORDER BY v.created_at, v.variant_id"),
        args![tenant_id, product_id],
    )
    .await
}

async fn record_product_event(
    tx: &mut Tx,
    tenant_id: &str,
    product_id: &str,
    event_type: &str,
    render: RenderProduct<'_>,
) -> Result<()> {
    let product = product_in(tx, tenant_id, product_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let variants = variants_of_in(tx, tenant_id, product_id).await?;
    events::record(
        tx,
        NewEvent {
            tenant_id,
            event_type,
            resource_type: "product",
            resource_id: product_id,
            data: render(&product, &variants),
        },
    )
    .await?;
    Ok(())
}

pub async fn get(
    db: &Db,
    tenant_id: &str,
    product_id: &str,
) -> Result<Option<(Product, Vec<Variant>)>> {
    let product: Option<Product> = db
        .fetch_optional(
            format!(
                "SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant_id = $1 AND product_id = $2"
            ),
            args![tenant_id, product_id],
        )
        .await?;
    let Some(product) = product else {
        return Ok(None);
    };
    let variants = db
        .fetch_all(
            format!("SELECT {VARIANT_COLUMNS} FROM {VARIANT_FROM} WHERE v.tenant_id = $1 AND v.product_id = $2 ORDER BY v.created_at, v.variant_id"),
            args![tenant_id, product_id],
        )
        .await?;
    Ok(Some((product, variants)))
}

/// Marks a product discontinued and all its variants inactive.
pub async fn discontinue(
    db: &Db,
    tenant_id: &str,
    product_id: &str,
    render: RenderProduct<'_>,
) -> Result<Product> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let touched = tx
        .execute(
            "UPDATE products SET status = 'discontinued', updated_at = $3 WHERE tenant_id = $1 AND product_id = $2",
            args![tenant_id, product_id, now],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        "UPDATE variants SET status = 'inactive', updated_at = $3 WHERE tenant_id = $1 AND product_id = $2 AND status <> 'inactive'",
        args![tenant_id, product_id, now],
    )
    .await?;
    record_product_event(
        &mut tx,
        tenant_id,
        product_id,
        "product.discontinued",
        render,
    )
    .await?;
    let product = product_in(&mut tx, tenant_id, product_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(product)
}

/// Sets a variant's status. Records `product.updated` for its product.
pub async fn set_variant_status(
    db: &Db,
    tenant_id: &str,
    variant_id: &str,
    status: &str,
    render: RenderProduct<'_>,
) -> Result<Variant> {
    let mut tx = db.begin().await?;
    let variant = variant_in(&mut tx, tenant_id, "v.variant_id = $2", variant_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if status == "inactive" && variant.status != status {
        crate::row! {
            struct OpenOrder {
                order_number: String,
            }
        }
        let open: Option<OpenOrder> = tx
            .fetch_optional(
                "SELECT o.order_number FROM order_variants ov JOIN orders o ON o.tenant_id = ov.tenant_id AND o.order_id = ov.order_id \
                 WHERE ov.tenant_id = $1 AND ov.variant_id = $2 AND o.status IN ('pending', 'confirmed', 'partial') LIMIT 1",
                args![tenant_id, variant_id],
            )
            .await?;
        if let Some(open) = open {
            return Err(StoreError::Conflict {
                code: "VARIANT_IN_USE",
                message: format!(
                    "The variant is on open order {}; fulfil or cancel it first",
                    open.order_number
                ),
            });
        }
    }
    if variant.status != status {
        tx.execute(
            "UPDATE variants SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND variant_id = $2",
            args![tenant_id, variant_id, status, now_micros()],
        )
        .await?;
        record_product_event(
            &mut tx,
            tenant_id,
            &variant.product_id,
            "product.updated",
            render,
        )
        .await?;
    }
    let variant = variant_in(&mut tx, tenant_id, "v.variant_id = $2", variant_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(variant)
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilters {
    pub status: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
}

pub const PRODUCT_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: list::SortKind::Int,
        },
    ),
    (
        "updatedAt",
        SortColumn {
            expr: "updated_at",
            kind: list::SortKind::Int,
        },
    ),
    (
        "productName",
        SortColumn {
            expr: "name",
            kind: list::SortKind::Text,
        },
    ),
    (
        "name",
        SortColumn {
            expr: "name",
            kind: list::SortKind::Text,
        },
    ),
    (
        "productSku",
        SortColumn {
            expr: "product_sku",
            kind: list::SortKind::Text,
        },
    ),
];

pub struct ListedProduct {
    pub product: Product,
    pub variant_count: i64,
}

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: ProductFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<ListedProduct>> {
    let mut conditions = Vec::new();
    if let Some(v) = filters.status {
        conditions.push(Filter::new("status = {}", v));
    }
    if let Some(v) = filters.category {
        conditions.push(Filter::new("category = {}", v));
    }
    if let Some(v) = filters.brand {
        conditions.push(Filter::new("brand = {}", v));
    }
    let spec = ListSpec {
        from: "products",
        columns: PRODUCT_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "product_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    let page: Page<Product> = list::fetch_page(db, tenant_id, &spec).await?;
    let counts = variant_counts(db, tenant_id, &page.items).await?;
    Ok(page.map(|product| {
        let variant_count = counts
            .iter()
            .find(|c| c.product_id == product.product_id)
            .map_or(0, |c| c.n);
        ListedProduct {
            product,
            variant_count,
        }
    }))
}

crate::row! {
    struct VariantCount {
        product_id: String,
        n: i64,
    }
}

async fn variant_counts(
    db: &Db,
    tenant_id: &str,
    products: &[Product],
) -> Result<Vec<VariantCount>> {
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..products.len()).map(|i| format!("${}", i + 2)).collect();
    let mut values = args![tenant_id];
    values.extend(
        products
            .iter()
            .map(|p| crate::Arg::Text(p.product_id.clone())),
    );
    db.fetch_all(
        format!(
            "SELECT product_id, COUNT(*) AS n FROM variants WHERE tenant_id = $1 AND product_id IN ({}) GROUP BY product_id",
            placeholders.join(", ")
        ),
        values,
    )
    .await
}

#[derive(Debug, Clone, Default)]
pub struct VariantFilters {
    pub status: Option<String>,
    pub product_sku: Option<String>,
    pub product_id: Option<String>,
    pub grade: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Variant SKU prefix.
    pub sku_prefix: Option<String>,
}

pub const VARIANT_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "v.created_at",
            kind: list::SortKind::Int,
        },
    ),
    (
        "updatedAt",
        SortColumn {
            expr: "v.updated_at",
            kind: list::SortKind::Int,
        },
    ),
    (
        "variantSku",
        SortColumn {
            expr: "v.variant_sku",
            kind: list::SortKind::Text,
        },
    ),
];

pub async fn list_variants(
    db: &Db,
    tenant_id: &str,
    filters: VariantFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Variant>> {
    let mut conditions = Vec::new();
    if let Some(v) = filters.status {
        conditions.push(Filter::new("v.status = {}", v));
    }
    if let Some(v) = filters.product_sku {
        conditions.push(Filter::new("p.product_sku = {}", v));
    }
    if let Some(v) = filters.product_id {
        conditions.push(Filter::new("v.product_id = {}", v));
    }
    if let Some(v) = filters.grade {
        conditions.push(Filter::new("v.grade = {}", v));
    }
    if let Some(v) = filters.category {
        conditions.push(Filter::new("p.category = {}", v));
    }
    if let Some(v) = filters.brand {
        conditions.push(Filter::new("p.brand = {}", v));
    }
    if let Some(prefix) = filters.sku_prefix {
        // A range on the unique SKU index instead of LIKE, whose escaping and case rules differ
        // between the two databases.
        conditions.push(Filter::new("v.variant_sku >= {}", prefix.clone()));
        conditions.push(Filter::new(
            "v.variant_sku < {}",
            format!("{prefix}\u{10ffff}"),
        ));
    }
    let spec = ListSpec {
        from: VARIANT_FROM,
        columns: VARIANT_COLUMNS,
        tenant_column: "v.tenant_id",
        id_column: "v.variant_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}

/// One row of a bulk import: its upsert, or why it was refused.
pub type ImportResult = std::result::Result<UpsertOutcome, (&'static str, String)>;

/// Upserts many products in one transaction; a row refused by a business rule is rolled back
/// alone (savepoint) and reported, the others are kept.
pub async fn import(
    db: &Db,
    tenant_id: &str,
    rows: Vec<ProductChanges>,
    render: RenderProduct<'_>,
) -> Result<Vec<ImportResult>> {
    let mut tx = db.begin().await?;
    let mut results = Vec::with_capacity(rows.len());
    // One event per product touched, recorded after all rows, so a product imported across many
    // rows is rendered once rather than once per row.
    let mut touched: Vec<(String, &'static str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        tx.execute("SAVEPOINT import_row", vec![]).await?;
        match upsert_in(&mut tx, tenant_id, row).await {
            Ok(outcome) => {
                tx.execute("RELEASE SAVEPOINT import_row", vec![]).await?;
                if seen.insert(outcome.product_id.clone()) {
                    touched.push((outcome.product_id.clone(), write_event(&outcome)));
                }
                results.push(Ok(outcome));
            }
            Err(StoreError::Refused { code, message } | StoreError::Conflict { code, message }) => {
                tx.execute("ROLLBACK TO SAVEPOINT import_row", vec![])
                    .await?;
                results.push(Err((code, message)));
            }
            Err(e) => return Err(e),
        }
    }
    for (product_id, event_type) in &touched {
        record_product_event(&mut tx, tenant_id, product_id, event_type, render).await?;
    }
    tx.commit().await?;
    if results.len() >= BULK_ROWS {
        db.analyze(&["products", "variants"]).await?;
    }
    Ok(results)
}

/// Imports at least this large change the tables enough to refresh their statistics at once.
const BULK_ROWS: usize = 500;

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}
