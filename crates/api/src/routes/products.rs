//! The catalog: `/v1/products`, its variants and the CSV import.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::catalog::{self, Discount, PricingTier};
use flexportal_domain::money;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::format_instant;
use flexportal_store::products::{
    self as store, Product, ProductChanges, ProductFilters, UpsertOutcome, Variant, VariantChanges,
    VariantFilters,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::to_json;
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("products");
pub(crate) const WRITE: Required = Required::write("products");

// ---- wire shapes -------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingBody {
    pub contract_length: i64,
    #[schema(value_type = f64)]
    pub monthly_price: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub setup_fee: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<DiscountBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calculated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset_used: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DiscountBody {
    /// `percentage` or `fixed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A percentage (0–100), or an amount in major units.
    pub value: f64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantBody {
    pub variant_id: String,
    pub tenant_id: String,
    pub product_id: String,
    pub product_sku: String,
    /// The parent product's name.
    pub product_name: String,
    pub variant_sku: String,
    /// Same as `variantSku`.
    pub sku: String,
    pub variant_name: String,
    pub grade: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_name: Option<String>,
    pub images: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub list_price: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub acquisition_cost: Option<serde_json::Value>,
    pub pricing: Vec<PricingBody>,
    /// `active` or `inactive`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SyncBody {
    /// Where the product is maintained: `manual` for products written through this API.
    pub source: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductBody {
    pub product_id: String,
    pub tenant_id: String,
    pub product_sku: String,
    pub name: String,
    pub specification: String,
    pub category: String,
    pub brand: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub images: Vec<String>,
    /// `active` or `discontinued`.
    pub status: String,
    #[serde(rename = "_sync")]
    pub sync: SyncBody,
    /// Present when the product is read alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantBody>>,
    pub variant_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

fn pricing_body(tier: PricingTier, exponent: u32) -> PricingBody {
    PricingBody {
        contract_length: tier.contract_length,
        monthly_price: money::major_json(tier.monthly_price, exponent),
        setup_fee: tier.setup_fee.map(|f| money::major_json(f, exponent)),
        discount: tier.discount.map(|d| match d {
            Discount::Percentage(p) => DiscountBody {
                kind: "percentage".into(),
                value: p,
            },
            Discount::Fixed(minor) => DiscountBody {
                kind: "fixed".into(),
                value: money::major_json(minor, exponent)
                    .as_f64()
                    .unwrap_or_default(),
            },
        }),
        source: tier.source,
        calculated_at: tier.calculated_at,
        preset_used: tier.preset_used,
    }
}

fn images(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn variant_body(v: &Variant, exponent: u32) -> VariantBody {
    VariantBody {
        variant_id: v.variant_id.clone(),
        tenant_id: v.tenant_id.clone(),
        product_id: v.product_id.clone(),
        product_sku: v.product_sku.clone(),
        product_name: v.product_name.clone(),
        variant_sku: v.variant_sku.clone(),
        sku: v.variant_sku.clone(),
        variant_name: v.variant_name.clone(),
        grade: v.grade.clone(),
        condition: v.condition.clone(),
        color_name: v.color_name.clone(),
        images: images(&v.images),
        list_price: v.list_price.map(|p| money::major_json(p, exponent)),
        acquisition_cost: v.acquisition_cost.map(|p| money::major_json(p, exponent)),
        pricing: v
            .pricing()
            .into_iter()
            .map(|t| pricing_body(t, exponent))
            .collect(),
        status: v.status.clone(),
        created_at: format_instant(v.created_at),
        updated_at: format_instant(v.updated_at),
    }
}

pub fn product_body(
    p: &Product,
    variants: Option<&[Variant]>,
    variant_count: i64,
    exponent: u32,
) -> ProductBody {
    ProductBody {
        product_id: p.product_id.clone(),
        tenant_id: p.tenant_id.clone(),
        product_sku: p.product_sku.clone(),
        name: p.name.clone(),
        specification: p.specification.clone(),
        category: p.category.clone(),
        brand: p.brand.clone(),
        description: p.description.clone(),
        images: images(&p.images),
        status: p.status.clone(),
        sync: SyncBody {
            source: "manual".into(),
        },
        variants: variants.map(|vs| vs.iter().map(|v| variant_body(v, exponent)).collect()),
        variant_count,
        created_at: format_instant(p.created_at),
        updated_at: format_instant(p.updated_at),
    }
}

/// The event payload of a product change: the product as `GET` returns it.
pub(crate) fn renderer(
    exponent: u32,
) -> impl Fn(&Product, &[Variant]) -> serde_json::Value + Send + Sync {
    move |p, vs| to_json(&product_body(p, Some(vs), vs.len() as i64, exponent))
}

// ---- requests ----------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingInput {
    /// Months, 1–120.
    pub contract_length: Option<i64>,
    pub monthly_price: Option<f64>,
    pub setup_fee: Option<f64>,
    pub discount: Option<DiscountBody>,
    /// `suggested` or `manual`.
    pub source: Option<String>,
    #[schema(value_type = Option<String>)]
    pub calculated_at: Option<serde_json::Value>,
    pub preset_used: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantInput {
    /// Addresses an existing variant of the product (alternative to `variantSku`).
    pub variant_id: Option<String>,
    #[serde(alias = "sku")]
    pub variant_sku: Option<String>,
    pub variant_name: Option<String>,
    pub grade: Option<String>,
    pub condition: Option<String>,
    #[serde(alias = "color")]
    pub color_name: Option<String>,
    pub images: Option<Vec<String>>,
    pub list_price: Option<f64>,
    pub acquisition_cost: Option<f64>,
    pub pricing: Option<Vec<PricingInput>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductInput {
    pub product_sku: Option<String>,
    #[serde(alias = "productName")]
    pub name: Option<String>,
    /// A string; an object is accepted and stored as its JSON text.
    #[schema(value_type = Option<String>)]
    pub specification: Option<serde_json::Value>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub description: Option<String>,
    pub images: Option<Vec<String>>,
    pub variants: Option<Vec<VariantInput>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// POST: the whole product, every required field present.
    Create,
    /// PUT: any subset.
    Patch,
}

const TEXT_MAX: usize = 500;
const SKU_MAX: usize = 100;

fn specification(problems: &mut Problems, value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => problems.text("specification", Some(s), 10_000),
        v @ serde_json::Value::Object(_) => Some(v.to_string()),
        _ => {
            problems.add(
                "specification",
                "invalid_type",
                "must be a string or an object",
            );
            None
        }
    }
}

fn product_changes(input: ProductInput, mode: Mode, exponent: u32) -> ApiResult<ProductChanges> {
    let mut p = Problems::new();
    let text = |p: &mut Problems, path: &str, v: Option<String>, max: usize| match mode {
        Mode::Create => p.required_text(path, v, max),
        Mode::Patch => p.text(path, v, max),
    };
    let product_sku = text(&mut p, "productSku", input.product_sku, SKU_MAX);
    let name = text(&mut p, "name", input.name, TEXT_MAX);
    let spec_missing = input.specification.is_none();
    let specification = specification(&mut p, input.specification);
    if mode == Mode::Create && spec_missing {
        p.add("specification", "required", "is required");
    }
    let category = text(&mut p, "category", input.category, TEXT_MAX);
    let brand = text(&mut p, "brand", input.brand, TEXT_MAX);
    let description = p.text("description", input.description, 10_000);
    let images = p.urls("images", input.images);
    let variants = match input.variants {
        None if mode == Mode::Create => {
            p.add("variants", "required", "is required");
            Vec::new()
        }
        None => Vec::new(),
        Some(list) => {
            if list.is_empty() && mode == Mode::Create {
                p.add("variants", "too_short", "needs at least one variant");
            }
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(list.len());
            for (i, v) in list.into_iter().enumerate() {
                let change = variant_changes(&mut p, &format!("variants.{i}"), v, exponent);
                if let Some(sku) = &change.variant_sku
                    && !seen.insert(sku.clone())
                {
                    p.add(
                        format!("variants.{i}.variantSku"),
                        "duplicate",
                        "appears twice in this request",
                    );
                }
                out.push(change);
            }
            out
        }
    };
    p.finish()?;
    Ok(ProductChanges {
        product_sku,
        name,
        specification,
        category,
        brand,
        description,
        images,
        variants,
    })
}

/// A variant of a request. A variant addressed only by `variantId` may be partial; one that
/// may be new needs its SKU, name, grade and pricing.
fn variant_changes(p: &mut Problems, base: &str, v: VariantInput, exponent: u32) -> VariantChanges {
    let addressed_by_id = v.variant_id.is_some();
    let text = |p: &mut Problems, field: &str, value: Option<String>, max: usize| {
        let path = format!("{base}.{field}");
        if addressed_by_id {
            p.text(&path, value, max)
        } else {
            p.required_text(&path, value, max)
        }
    };
    let variant_sku = text(p, "variantSku", v.variant_sku, SKU_MAX);
    let variant_name = text(p, "variantName", v.variant_name, TEXT_MAX);
    let grade = text(p, "grade", v.grade, 20);
    let pricing = match v.pricing {
        None if !addressed_by_id => {
            p.add(format!("{base}.pricing"), "required", "is required");
            None
        }
        None => None,
        Some(tiers) => Some(pricing(p, &format!("{base}.pricing"), tiers, exponent)),
    };
    VariantChanges {
        variant_id: v.variant_id,
        variant_sku,
        variant_name,
        grade,
        condition: p.text(&format!("{base}.condition"), v.condition, TEXT_MAX),
        color_name: p.text(&format!("{base}.colorName"), v.color_name, TEXT_MAX),
        images: p.urls(&format!("{base}.images"), v.images),
        list_price: p.amount(&format!("{base}.listPrice"), v.list_price, exponent),
        acquisition_cost: p.amount(
            &format!("{base}.acquisitionCost"),
            v.acquisition_cost,
            exponent,
        ),
        pricing,
    }
}

fn pricing(
    p: &mut Problems,
    base: &str,
    tiers: Vec<PricingInput>,
    exponent: u32,
) -> Vec<PricingTier> {
    if tiers.is_empty() {
        p.add(base, "too_short", "needs at least one pricing tier");
    }
    let mut out = Vec::with_capacity(tiers.len());
    for (i, t) in tiers.into_iter().enumerate() {
        let path = |field: &str| format!("{base}.{i}.{field}");
        let contract_length = t.contract_length;
        if contract_length.is_none() {
            p.add(path("contractLength"), "required", "is required");
        }
        let monthly_price = match t.monthly_price {
            None => {
                p.add(path("monthlyPrice"), "required", "is required");
                None
            }
            some => p.amount(&path("monthlyPrice"), some, exponent),
        };
        let discount = t.discount.and_then(|d| match d.kind.as_str() {
            "percentage" => Some(Discount::Percentage(d.value)),
            "fixed" => p
                .amount(&path("discount.value"), Some(d.value), exponent)
                .map(Discount::Fixed),
            _ => {
                p.add(
                    path("discount.type"),
                    "invalid_value",
                    "must be percentage or fixed",
                );
                None
            }
        });
        let source = one_of(p, &path("source"), t.source, &["suggested", "manual"]);
        let setup_fee = p.amount(&path("setupFee"), t.setup_fee, exponent);
        if let (Some(contract_length), Some(monthly_price)) = (contract_length, monthly_price) {
            out.push(PricingTier {
                contract_length,
                monthly_price,
                setup_fee,
                discount,
                source,
                calculated_at: t.calculated_at.map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                }),
                preset_used: t.preset_used,
            });
        }
    }
    for (i, field, message) in catalog::pricing_violations(&out) {
        p.add(format!("{base}.{i}.{field}"), "invalid_value", message);
    }
    out
}

// ---- responses ---------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    pub variant_sku: String,
    /// `create` or `update`.
    pub operation: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductWriteResponse {
    pub success: bool,
    pub message: String,
    pub product_id: String,
    pub product_sku: String,
    /// `created` or `updated`.
    pub operation: String,
    pub variant_results: Vec<VariantResult>,
    /// The product after the write, as `GET /v1/products/{productId}` returns it.
    pub product: ProductBody,
}

async fn write_response(
    state: &AppState,
    caller: &Caller,
    outcome: UpsertOutcome,
    status: StatusCode,
) -> ApiResult<Response> {
    let (product, variants) = store::get(&state.db, caller.tenant_id(), &outcome.product_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Product"))?;
    let body = ProductWriteResponse {
        success: true,
        message: if outcome.created {
            "Product created".into()
        } else {
            "Product updated".into()
        },
        product_id: outcome.product_id,
        product_sku: outcome.product_sku,
        operation: if outcome.created {
            "created".into()
        } else {
            "updated".into()
        },
        variant_results: outcome
            .variants
            .into_iter()
            .map(|(variant_sku, created)| VariantResult {
                variant_sku,
                operation: if created { "create" } else { "update" }.into(),
            })
            .collect(),
        product: product_body(
            &product,
            Some(&variants),
            variants.len() as i64,
            caller.exponent(),
        ),
    };
    Ok((status, Json(body)).into_response())
}

// ---- handlers ----------------------------------------------------------------------------------

/// Create a product, or update the product with the same `productSku` (upsert).
///
/// Variants are matched by `variantSku`; variants the request does not name are left as they
/// are. A variant SKU that belongs to another product is refused with 409 `DUPLICATE_SKU`.
#[utoipa::path(post, path = "/v1/products", tag = "Products", request_body = ProductInput,
    responses(
        (status = 201, description = "Created or updated", body = ProductWriteResponse),
        (status = 409, description = "DUPLICATE_SKU", body = ErrorBody),
    ))]
pub async fn create_product(
    state: axum::extract::State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let changes = product_changes(input, Mode::Create, caller.exponent())?;
    let render = renderer(caller.exponent());
    let outcome = store::upsert(&state.db, caller.tenant_id(), changes, &render).await?;
    write_response(&state, &caller, outcome, StatusCode::CREATED).await
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductList {
    pub products: Vec<ProductBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List products, newest first by default.
///
/// Filters: `status`, `category`, `brand`. Sorts (`sortBy`): `createdAt`, `updatedAt`,
/// `productName`, `productSku`. Each product carries `variantCount`; read one product for its
/// variants.
#[utoipa::path(get, path = "/v1/products", tag = "Products",
    params(
        ("limit" = Option<i64>, Query, description = "1–100, default 50"),
        ("startAfter" = Option<String>, Query, description = "`nextCursor` of the previous page"),
        ("sortBy" = Option<String>, Query, description = "createdAt | updatedAt | productName | productSku"),
        ("sortDir" = Option<String>, Query, description = "asc | desc (default)"),
        ("status" = Option<String>, Query, description = "active | discontinued"),
        ("category" = Option<String>, Query),
        ("brand" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of products", body = ProductList)))]
pub async fn list_products(
    state: axum::extract::State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<ProductList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::PRODUCT_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let mut problems = Problems::new();
    let status = one_of(
        &mut problems,
        "status",
        query.get("status"),
        catalog::PRODUCT_STATUSES,
    );
    problems.finish()?;
    let sort = sort_column(store::PRODUCT_SORTS, &params.sort_by);
    let filters = ProductFilters {
        status,
        category: query.get("category"),
        brand: query.get("brand"),
    };
    let page = store::list(
        &state.db,
        caller.tenant_id(),
        filters,
        sort,
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let exponent = caller.exponent();
    let products: Vec<ProductBody> = page
        .items
        .iter()
        .map(|l| product_body(&l.product, None, l.variant_count, exponent))
        .collect();
    Ok(Json(ProductList {
        count: products.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &products, |p| &p.product_id),
        products,
    }))
}

/// Read one product with all its variants.
#[utoipa::path(get, path = "/v1/products/{productId}", tag = "Products",
    params(("productId" = String, Path)),
    responses(
        (status = 200, description = "The product", body = ProductBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn get_product(
    state: axum::extract::State<AppState>,
    caller: Caller,
    Path(product_id): Path<String>,
) -> ApiResult<Json<ProductBody>> {
    caller.require(READ)?;
    let (product, variants) = store::get(&state.db, caller.tenant_id(), &product_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Product"))?;
    Ok(Json(product_body(
        &product,
        Some(&variants),
        variants.len() as i64,
        caller.exponent(),
    )))
}

/// Update a product. Every field is optional; omitted fields keep their values. Variants are
/// matched by `variantId` or `variantSku`; new SKUs add variants.
#[utoipa::path(put, path = "/v1/products/{productId}", tag = "Products", request_body = ProductInput,
    params(("productId" = String, Path)),
    responses(
        (status = 200, description = "Updated", body = ProductWriteResponse),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "DUPLICATE_SKU", body = ErrorBody),
    ))]
pub async fn update_product(
    state: axum::extract::State<AppState>,
    caller: Caller,
    Path(product_id): Path<String>,
    JsonBody(input): JsonBody<ProductInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let changes = product_changes(input, Mode::Patch, caller.exponent())?;
    let render = renderer(caller.exponent());
    let outcome = store::update(&state.db, caller.tenant_id(), &product_id, changes, &render)
        .await
        .map_err(|e| not_found_as(e, "Product"))?;
    write_response(&state, &caller, outcome, StatusCode::OK).await
}

fn not_found_as(e: flexportal_store::StoreError, what: &str) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found(what),
        other => other.into(),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    pub success: bool,
    pub message: String,
    pub product_id: String,
    pub product_sku: String,
}

/// Discontinue a product: its status becomes `discontinued` and its variants `inactive`.
/// Nothing is erased; orders and rentals keep their references.
#[utoipa::path(delete, path = "/v1/products/{productId}", tag = "Products",
    params(("productId" = String, Path)),
    responses(
        (status = 200, description = "Discontinued", body = ProductDeleted),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn delete_product(
    state: axum::extract::State<AppState>,
    caller: Caller,
    Path(product_id): Path<String>,
) -> ApiResult<Json<ProductDeleted>> {
    caller.require(WRITE)?;
    let render = renderer(caller.exponent());
    let product = store::discontinue(&state.db, caller.tenant_id(), &product_id, &render)
        .await
        .map_err(|e| not_found_as(e, "Product"))?;
    Ok(Json(ProductDeleted {
        success: true,
        message: "Product discontinued".into(),
        product_id: product.product_id,
        product_sku: product.product_sku,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantList {
    pub variants: Vec<VariantBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List variants across all products.
///
/// Filters: `status`, `productSku`, `productId`, `grade`, `category`, `brand` (of the product),
/// and `sku` (variant SKU prefix). `limit` up to 5000.
#[utoipa::path(get, path = "/v1/products/variants", tag = "Products",
    params(
        ("limit" = Option<i64>, Query, description = "1–5000, default 50"),
        ("startAfter" = Option<String>, Query),
        ("sortBy" = Option<String>, Query, description = "createdAt | updatedAt | variantSku"),
        ("sortDir" = Option<String>, Query),
        ("status" = Option<String>, Query), ("productSku" = Option<String>, Query), ("productId" = Option<String>, Query),
        ("grade" = Option<String>, Query), ("category" = Option<String>, Query), ("brand" = Option<String>, Query),
        ("sku" = Option<String>, Query, description = "variant SKU prefix"),
    ),
    responses((status = 200, description = "A page of variants", body = VariantList)))]
pub async fn list_variants(
    state: axum::extract::State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<VariantList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::VARIANT_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 5000, &sorts)?;
    let mut problems = Problems::new();
    let status = one_of(
        &mut problems,
        "status",
        query.get("status"),
        catalog::VARIANT_STATUSES,
    );
    problems.finish()?;
    let filters = VariantFilters {
        status,
        product_sku: query.get("productSku"),
        product_id: query.get("productId"),
        grade: query.get("grade"),
        category: query.get("category"),
        brand: query.get("brand"),
        sku_prefix: query.get("sku"),
    };
    let sort = sort_column(store::VARIANT_SORTS, &params.sort_by);
    let page = store::list_variants(
        &state.db,
        caller.tenant_id(),
        filters,
        sort,
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let exponent = caller.exponent();
    let variants: Vec<VariantBody> = page
        .items
        .iter()
        .map(|v| variant_body(v, exponent))
        .collect();
    Ok(Json(VariantList {
        count: variants.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &variants, |v| &v.variant_id),
        variants,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct VariantStatusInput {
    /// `active` or `inactive`.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantStatusResponse {
    pub success: bool,
    pub message: String,
    pub variant_id: String,
    pub variant: VariantBody,
}

/// Activate or deactivate one variant. Inactive variants cannot be ordered.
#[utoipa::path(patch, path = "/v1/products/variants/{variantId}/status", tag = "Products", request_body = VariantStatusInput,
    params(("variantId" = String, Path)),
    responses(
        (status = 200, description = "Status set", body = VariantStatusResponse),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "VARIANT_IN_USE", body = ErrorBody),
    ))]
pub async fn set_variant_status(
    state: axum::extract::State<AppState>,
    caller: Caller,
    Path(variant_id): Path<String>,
    JsonBody(input): JsonBody<VariantStatusInput>,
) -> ApiResult<Json<VariantStatusResponse>> {
    caller.require(WRITE)?;
    let mut problems = Problems::new();
    if input.status.is_none() {
        problems.add("status", "required", "is required");
    }
    let status = one_of(
        &mut problems,
        "status",
        input.status,
        catalog::VARIANT_STATUSES,
    );
    problems.finish()?;
    let status = status.unwrap_or_default();
    let render = renderer(caller.exponent());
    let variant =
        store::set_variant_status(&state.db, caller.tenant_id(), &variant_id, &status, &render)
            .await
            .map_err(|e| not_found_as(e, "Variant"))?;
    Ok(Json(VariantStatusResponse {
        success: true,
        message: format!("Variant is {status}"),
        variant_id: variant.variant_id.clone(),
        variant: variant_body(&variant, caller.exponent()),
    }))
}
