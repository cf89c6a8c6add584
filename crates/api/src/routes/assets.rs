//! `/v1/assets`: the fleet, one serial number per physical unit.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::assets::{SETTABLE, STATUSES, is_imei, is_phone_category};
use flexportal_domain::cost_recovery::{past_halfway, recovery};
use flexportal_domain::money::major_json;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, today_in};
use flexportal_store::assets::{self as store, Asset, AssetChanges, AssetFilters, NewAsset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::shapes::Shapes;
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("assets");
const WRITE: Required = Required::write("assets");
const REASONS: &[&str] = &[
    "damaged",
    "stolen",
    "defective",
    "lost",
    "retired",
    "maintenance",
    "other",
];

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetBody {
    pub serial_number: String,
    pub tenant_id: String,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_image_url: Option<String>,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    /// `available`, `rented_out`, `returned`, `sold` or `unavailable`.
    pub status: String,
    /// `serial` or `imei` (15 digits with a Luhn check digit).
    pub identifier_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[schema(value_type = f64)]
    pub acquisition_cost: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The rental the asset is on, while it is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub fn asset_body(a: &Asset, exponent: u32) -> AssetBody {
    AssetBody {
        serial_number: a.serial_number.clone(),
        tenant_id: a.tenant_id.clone(),
        product_id: a.product_id.clone(),
        product_image_url: a.product_image_url.clone(),
        variant_id: a.variant_id.clone(),
        sku: a.sku.clone(),
        product_name: a.product_name.clone(),
        status: a.status.clone(),
        identifier_type: a.identifier_type.clone(),
        condition: a.condition.clone(),
        location: a.location.clone(),
        notes: a.notes.clone(),
        acquisition_cost: major_json(a.acquisition_cost, exponent),
        customer_id: a.customer_id.clone(),
        rental_id: a.rental_id.clone(),
        unavailable_reason: a.unavailable_reason.clone(),
        created_at: format_instant(a.created_at),
        updated_at: format_instant(a.updated_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetInput {
    /// Unique within the business unit; matched exactly.
    pub serial_number: Option<String>,
    /// The variant SKU this unit is.
    #[serde(alias = "variantSku")]
    pub sku: Option<String>,
    /// `available` (default) or `unavailable`; other statuses come from rentals.
    pub status: Option<String>,
    /// `serial` (default) or `imei`; phones are checked as IMEIs either way.
    pub identifier_type: Option<String>,
    pub condition: Option<String>,
    pub location: Option<String>,
    pub notes: Option<String>,
    /// What this unit cost; the variant's acquisition cost when omitted.
    pub acquisition_cost: Option<f64>,
    pub product_image_url: Option<String>,
    /// Why the asset is unavailable: `damaged`, `stolen`, `defective`, `lost`, `retired`, `maintenance`, `other`.
    pub unavailable_reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetResponse {
    pub success: bool,
    pub message: String,
    pub asset: AssetBody,
}

/// Register an asset. A serial number already registered is 409 `ASSET_EXISTS`; an unknown SKU
/// is 400 `VARIANT_NOT_FOUND`, a deactivated one `VARIANT_INACTIVE`. Serials of phones (and of `identifierType: imei`) must be IMEIs.
#[utoipa::path(post, path = "/v1/assets", tag = "Assets", request_body = AssetInput,
    responses(
        (status = 201, description = "Registered", body = AssetResponse),
        (status = 400, description = "VALIDATION_ERROR, VARIANT_NOT_FOUND or VARIANT_INACTIVE", body = ErrorBody),
        (status = 409, description = "ASSET_EXISTS", body = ErrorBody),
    ))]
pub async fn create_asset(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<AssetInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let serial = p.required_text("serialNumber", input.serial_number, 100);
    let sku = p.required_text("sku", input.sku, 100);
    let status =
        one_of(&mut p, "status", input.status, SETTABLE).unwrap_or_else(|| "available".into());
    let identifier_type = one_of(
        &mut p,
        "identifierType",
        input.identifier_type,
        &["serial", "imei"],
    );
    let acquisition_cost = p.amount("acquisitionCost", input.acquisition_cost, caller.exponent());
    let product_image_url = p
        .urls("productImageUrl", input.product_image_url.map(|u| vec![u]))
        .and_then(|mut v| v.pop());
    let condition = p.text("condition", input.condition, 100);
    let location = p.text("location", input.location, 200);
    let notes = p.text("notes", input.notes, 5000);
    p.finish()?;
    let (serial, sku) = (serial.unwrap_or_default(), sku.unwrap_or_default());
    let (variant, category) = store::variant_by_sku(&state.db, caller.tenant_id(), &sku)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "VARIANT_NOT_FOUND",
                format!("No variant has the SKU {sku}"),
            )
        })?;
    if variant.status != "active" {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VARIANT_INACTIVE",
            format!("The variant {sku} is {}", variant.status),
        ));
    }
    let imei = identifier_type.as_deref() == Some("imei") || is_phone_category(&category);
    if imei && !is_imei(&serial) {
        return Err(ApiError::field(
            "serialNumber",
            "invalid_imei",
            "must be an IMEI: 15 digits with a valid check digit",
        ));
    }
    let new = NewAsset {
        serial_number: serial,
        status,
        identifier_type: if imei { "imei".into() } else { "serial".into() },
        condition,
        location,
        notes,
        acquisition_cost,
        product_image_url,
    };
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let asset = store::create(&state.db, caller.tenant_id(), &variant, new, &shapes).await?;
    let body = AssetResponse {
        success: true,
        message: "Asset registered".into(),
        asset: asset_body(&asset, caller.exponent()),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetList {
    pub assets: Vec<AssetBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    /// The serial number of the last asset on the page.
    pub next_cursor: Option<String>,
}

/// List assets. Filters: `status`, `sku`, `productId`, `customerId`, `rentalId`.
#[utoipa::path(get, path = "/v1/assets", tag = "Assets",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query, description = "a serial number"),
        ("sortBy" = Option<String>, Query, description = "createdAt | serialNumber | status | acquisitionCost"),
        ("sortDir" = Option<String>, Query), ("status" = Option<String>, Query), ("sku" = Option<String>, Query),
        ("productId" = Option<String>, Query), ("customerId" = Option<String>, Query), ("rentalId" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of assets", body = AssetList)))]
pub async fn list_assets(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<AssetList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::ASSET_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let mut p = Problems::new();
    let filters = AssetFilters {
        status: one_of(&mut p, "status", query.get("status"), STATUSES),
        sku: query.get("sku"),
        product_id: query.get("productId"),
        customer_id: query.get("customerId"),
        rental_id: query.get("rentalId"),
    };
    p.finish()?;
    let sort = sort_column(store::ASSET_SORTS, &params.sort_by);
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
    let assets: Vec<AssetBody> = page
        .items
        .iter()
        .map(|a| asset_body(a, caller.exponent()))
        .collect();
    Ok(Json(AssetList {
        count: assets.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &assets, |a| &a.serial_number),
        assets,
    }))
}

fn not_found(e: flexportal_store::StoreError) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Asset"),
        other => other.into(),
    }
}

/// Read one asset by serial number (URL-encode serials containing `/` or spaces).
/// One asset with every rental it has been on and what it has earned across them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetDetail {
    #[serde(flatten)]
    pub asset: AssetBody,
    /// The rentals the asset has served, newest first, including one it left through a
    /// replacement (`releaseReason: replaced_<reason>`).
    pub rental_history: Vec<AssetRentalBody>,
    pub cost_recovery: AssetRecoveryBody,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetRentalBody {
    pub rental_id: String,
    pub customer_id: String,
    pub customer_name: String,
    /// The rental's status now.
    pub status: String,
    pub start_date: String,
    pub end_date: String,
    #[schema(value_type = f64)]
    pub monthly_amount: serde_json::Value,
    pub assigned_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
    /// `replaced_<reason>` or the status the rental ended in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_reason: Option<String>,
    /// Paid while the asset was on this rental.
    #[schema(value_type = f64)]
    pub collected: serde_json::Value,
}

/// Lifetime cost recovery: everything collected on the asset across its rentals against what it
/// cost.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetRecoveryBody {
    #[schema(value_type = f64)]
    pub acquisition_cost: serde_json::Value,
    #[schema(value_type = f64)]
    pub lifetime_collected: serde_json::Value,
    /// Absent without an acquisition cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_recovery_percent: Option<f64>,
    #[schema(value_type = f64)]
    pub current_profit: serde_json::Value,
    pub has_reached_breakeven: bool,
    /// As on rentals; an asset on no rental counts as past its halfway mark (it earns nothing).
    #[schema(value_type = String)]
    pub recovery_status: &'static str,
    pub rental_count: usize,
}

/// Get one asset by its exact serial number (URL-encoded), with its rental history and lifetime
/// cost recovery.
#[utoipa::path(get, path = "/v1/assets/{serialNumber}", tag = "Assets", params(("serialNumber" = String, Path)),
    responses((status = 200, description = "The asset", body = AssetDetail), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<AssetDetail>> {
    caller.require(READ)?;
    let asset = store::get(&state.db, caller.tenant_id(), &serial)
        .await?
        .ok_or_else(|| ApiError::not_found("Asset"))?;
    let history = store::rental_history(&state.db, caller.tenant_id(), &serial).await?;
    let exponent = caller.exponent();
    let money = |minor: i64| major_json(minor, exponent);
    let collected: i64 = history.iter().map(|h| h.collected).sum();
    let today = today_in(&jiff::tz::TimeZone::UTC);
    let halfway = history
        .iter()
        .find(|h| h.rental_status == "active" && h.released_at.is_none())
        .and_then(|h| Some((h.start_date.parse().ok()?, h.end_date.parse().ok()?)))
        .is_none_or(|(start, end)| past_halfway(start, end, today));
    let lifetime = recovery(asset.acquisition_cost, collected, halfway);
    Ok(Json(AssetDetail {
        cost_recovery: AssetRecoveryBody {
            acquisition_cost: money(asset.acquisition_cost),
            lifetime_collected: money(collected),
            cost_recovery_percent: lifetime.percent_bp.map(|bp| bp as f64 / 100.0),
            current_profit: money(lifetime.profit),
            has_reached_breakeven: lifetime.has_reached_breakeven,
            recovery_status: lifetime.status.as_str(),
            rental_count: history.len(),
        },
        rental_history: history
            .into_iter()
            .map(|h| AssetRentalBody {
                monthly_amount: money(h.monthly_amount),
                collected: money(h.collected),
                assigned_at: format_instant(h.assigned_at),
                released_at: h.released_at.map(format_instant),
                rental_id: h.rental_id,
                customer_id: h.customer_id,
                customer_name: h.customer_name,
                status: h.rental_status,
                start_date: h.start_date,
                end_date: h.end_date,
                release_reason: h.release_reason,
            })
            .collect(),
        asset: asset_body(&asset, exponent),
    }))
}

/// Update an asset: location, condition, notes, acquisition cost, or status among `available`
/// and `unavailable` (also `returned` → `available` after inspection). A status change of an
/// asset on an active rental is 400 `ASSET_IN_USE`.
#[utoipa::path(put, path = "/v1/assets/{serialNumber}", tag = "Assets", request_body = AssetInput, params(("serialNumber" = String, Path)),
    responses(
        (status = 200, description = "Updated", body = AssetResponse),
        (status = 400, description = "VALIDATION_ERROR, ASSET_IN_USE or INVALID_STATUS_TRANSITION", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn update_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
    JsonBody(input): JsonBody<AssetInput>,
) -> ApiResult<Json<AssetResponse>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    if input.serial_number.as_ref().is_some_and(|s| *s != serial) {
        p.add(
            "serialNumber",
            "invalid_value",
            "must match the serial number in the path",
        );
    }
    let changes = AssetChanges {
        status: one_of(&mut p, "status", input.status, STATUSES),
        condition: p.text("condition", input.condition, 100),
        location: p.text("location", input.location, 200),
        notes: p.text("notes", input.notes, 5000),
        acquisition_cost: p.amount("acquisitionCost", input.acquisition_cost, caller.exponent()),
        unavailable_reason: one_of(
            &mut p,
            "unavailableReason",
            input.unavailable_reason,
            REASONS,
        ),
    };
    p.finish()?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let asset = store::update(&state.db, caller.tenant_id(), &serial, changes, &shapes)
        .await
        .map_err(not_found)?;
    Ok(Json(AssetResponse {
        success: true,
        message: "Asset updated".into(),
        asset: asset_body(&asset, caller.exponent()),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetDeleted {
    pub success: bool,
    pub message: String,
    pub serial_number: String,
}

/// Retire an asset (soft delete): it becomes `unavailable` with reason `retired`. Refused with
/// 400 `ASSET_IN_USE` while it is on an active rental.
#[utoipa::path(delete, path = "/v1/assets/{serialNumber}", tag = "Assets", params(("serialNumber" = String, Path)),
    responses(
        (status = 200, description = "Retired", body = AssetDeleted),
        (status = 400, description = "ASSET_IN_USE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn delete_asset(
    State(state): State<AppState>,
    caller: Caller,
    Path(serial): Path<String>,
) -> ApiResult<Json<AssetDeleted>> {
    caller.require(WRITE)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let changes = AssetChanges {
        status: Some("unavailable".into()),
        unavailable_reason: Some("retired".into()),
        ..Default::default()
    };
    let asset = store::update(&state.db, caller.tenant_id(), &serial, changes, &shapes)
        .await
        .map_err(not_found)?;
    Ok(Json(AssetDeleted {
        success: true,
        message: "Asset retired".into(),
        serial_number: asset.serial_number,
    }))
}
