//! `/v1/subscriptions`: rentals ("subscriptions" in paths, "rentals" in bodies).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::cost_recovery::{Recovery, breakeven_months, past_halfway, recovery};
use flexportal_domain::money::major_json;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, parse_date_in, time_zone, today_in};
use flexportal_store::rentals::{self as store, NewRental, Rental, RentalFilters};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::payments::{PaymentBody, payment_body};
use crate::routes::shapes::Shapes;
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("subscriptions");
const WRITE: Required = Required::write("subscriptions");
pub const STATUSES: &[&str] = &[
    "active",
    "cancelled",
    "ended_completed",
    "ended_buyout",
    "ended_upgrade",
    "ended_early_return",
];
const CANCEL_REASONS: &[&str] = &[
    "customer_request",
    "payment_failure",
    "fraud",
    "admin_decision",
    "other",
];

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalBody {
    pub rental_id: String,
    pub tenant_id: String,
    pub asset_serial_number: String,
    pub customer_id: String,
    pub product_id: String,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_image_url: Option<String>,
    #[schema(value_type = f64)]
    pub monthly_amount: serde_json::Value,
    pub currency: String,
    pub status: String,
    pub original_contract_length: i64,
    pub contract_length: i64,
    /// First day of the contract, `YYYY-MM-DD` in the business unit's calendar.
    pub start_date: String,
    /// Last day of the contract.
    pub end_date: String,
    pub extension_history: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub replacement_history: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub early_return_details: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub list_price: Option<serde_json::Value>,
    #[schema(value_type = f64)]
    pub acquisition_cost: serde_json::Value,
    /// What the rental's paid payments brought in.
    #[schema(value_type = f64)]
    pub total_collected: serde_json::Value,
    /// Collected as a percentage of the asset's acquisition cost.
    pub cost_recovery_percent: f64,
    #[schema(value_type = f64)]
    pub current_profit: serde_json::Value,
    /// Months of payments needed to recover the acquisition cost.
    pub breakeven_months: i64,
    pub has_reached_breakeven: bool,
    /// `profitable` (over 100 %), `recovering` (over 50 %, or less with most of the contract to
    /// run), `at_risk` (at most 50 % past the contract's halfway day) or `no_data` (no cost).
    #[schema(value_type = String)]
    pub recovery_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub cancellation_details: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub buyout_details: Option<serde_json::Value>,
    pub order_id: String,
    /// The rental this one replaced in an upgrade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_from_rental_id: Option<String>,
    pub customer_email: String,
    pub customer_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
}

/// The rental's own cost recovery, judged on today's date in UTC: a day either way only moves
/// the halfway mark, never the money.
fn rental_recovery(r: &Rental) -> Recovery {
    let today = today_in(&jiff::tz::TimeZone::UTC);
    let halfway = match (
        r.start_date.parse::<jiff::civil::Date>(),
        r.end_date.parse(),
    ) {
        (Ok(start), Ok(end)) => r.status != "active" || past_halfway(start, end, today),
        _ => true,
    };
    recovery(r.acquisition_cost, r.total_collected, halfway)
}

pub fn rental_body(r: &Rental, exponent: u32) -> RentalBody {
    let money = |minor: i64| major_json(minor, exponent);
    let recovery = rental_recovery(r);
    RentalBody {
        rental_id: r.rental_id.clone(),
        tenant_id: r.tenant_id.clone(),
        asset_serial_number: r.asset_serial_number.clone(),
        customer_id: r.customer_id.clone(),
        product_id: r.product_id.clone(),
        variant_id: r.variant_id.clone(),
        sku: r.sku.clone(),
        product_name: r.product_name.clone(),
        product_image_url: r.product_image_url.clone(),
        monthly_amount: money(r.monthly_amount),
        currency: r.currency.clone(),
        status: r.status.clone(),
        original_contract_length: r.original_contract_length,
        contract_length: r.contract_length,
        start_date: r.start_date.clone(),
        end_date: r.end_date.clone(),
        extension_history: extension_history(r, exponent),
        replacement_history: serde_json::from_str(&r.replacement_history)
            .unwrap_or_else(|_| serde_json::json!([])),
        early_return_details: r
            .early_return_details
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .map(|mut d| {
                let minor = d["fee"].as_i64().unwrap_or_default();
                d["fee"] = major_json(minor, exponent);
                d
            }),
        list_price: r.list_price.map(money),
        acquisition_cost: money(r.acquisition_cost),
        total_collected: money(r.total_collected),
        cost_recovery_percent: recovery.percent_bp.unwrap_or(0) as f64 / 100.0,
        current_profit: money(recovery.profit),
        breakeven_months: breakeven_months(r.acquisition_cost, r.monthly_amount).unwrap_or(0),
        has_reached_breakeven: recovery.has_reached_breakeven,
        recovery_status: recovery.status.as_str(),
        billing_group_id: r.billing_group_id.clone(),
        cancellation_details: r
            .cancellation_details
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        buyout_details: r
            .buyout_details
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .map(|mut d| {
                let minor = d["buyoutPrice"].as_i64().unwrap_or_default();
                d["buyoutPrice"] = major_json(minor, exponent);
                for key in ["remainingMonthsPayment", "listPriceAmount", "flatFee"] {
                    let minor = d["calculationBreakdown"][key].as_i64().unwrap_or_default();
                    d["calculationBreakdown"][key] = major_json(minor, exponent);
                }
                d
            }),
        order_id: r.order_id.clone(),
        upgrade_from_rental_id: r.upgrade_from_rental_id.clone(),
        customer_email: r.customer_email.clone(),
        customer_name: r.customer_name.clone(),
        notes: r.notes.clone(),
        created_at: format_instant(r.created_at),
        updated_at: format_instant(r.updated_at),
        created_by: r.created_by.clone(),
    }
}

/// The stored extension history with its amounts in major units.
fn extension_history(r: &Rental, exponent: u32) -> Vec<serde_json::Value> {
    let mut history: Vec<serde_json::Value> =
        serde_json::from_str(&r.extension_history).unwrap_or_default();
    for entry in &mut history {
        for key in ["oldMonthlyAmount", "newMonthlyAmount"] {
            let minor = entry[key].as_i64().unwrap_or_default();
            entry[key] = major_json(minor, exponent);
        }
    }
    history
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalInput {
    pub order_id: Option<String>,
    #[serde(alias = "serialNumber")]
    pub asset_serial_number: Option<String>,
    /// Optional; when given it must be the order's customer.
    pub customer_id: Option<String>,
    /// A date or an instant; today (in the business unit's zone) when omitted.
    pub start_date: Option<String>,
    /// Months; the order line's length when omitted.
    pub contract_length: Option<i64>,
    pub notes: Option<String>,
    pub billing_group_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalCreated {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub rental: RentalBody,
    /// The payment schedule made with the rental.
    pub payments: Vec<PaymentBody>,
}

/// Fulfil one unit of an order with an asset: the rental starts, the asset is rented out, the
/// order moves to partial or fulfilled, and the payment schedule is created.
#[utoipa::path(post, path = "/v1/subscriptions", tag = "Subscriptions", request_body = RentalInput,
    responses(
        (status = 201, description = "Active rental with its payments", body = RentalCreated),
        (status = 400, description = "VALIDATION_ERROR, ORDER_NOT_FOUND, ORDER_CANCELLED, ORDER_NOT_CONFIRMED, ASSET_NOT_FOUND, ASSET_NOT_AVAILABLE, NO_MATCHING_ORDER_ITEM, CUSTOMER_MISMATCH, INVALID_CONTRACT_LENGTH, BILLING_GROUP_NOT_FOUND, SUBSCRIPTION_DIFFERENT_CUSTOMER", body = ErrorBody),
    ))]
pub async fn create_rental(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<RentalInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let zone = time_zone(&caller.business_unit.timezone);
    let mut p = Problems::new();
    let order_id = p.required_text("orderId", input.order_id, 100);
    let serial = p.required_text("assetSerialNumber", input.asset_serial_number, 100);
    let start_date = input.start_date.and_then(|text| {
        let date = parse_date_in(&text, &zone);
        if date.is_none() {
            p.add(
                "startDate",
                "invalid_type",
                "must be a date or an RFC 3339 instant",
            );
        }
        date
    });
    if input
        .contract_length
        .is_some_and(|m| !(1..=120).contains(&m))
    {
        p.add(
            "contractLength",
            "out_of_range",
            "must be between 1 and 120 months",
        );
    }
    let notes = p.text("notes", input.notes, 5000);
    p.finish()?;
    let new = NewRental {
        order_id: order_id.unwrap_or_default(),
        serial_number: serial.unwrap_or_default(),
        customer_id: input.customer_id,
        start_date,
        contract_length: input.contract_length,
        notes,
        created_by: caller.key.key_id.clone(),
        monthly_override: None,
        upgrade_from_rental_id: None,
        billing_group_id: input.billing_group_id,
    };
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let (rental, schedule) = store::create(
        &state.db,
        &caller.business_unit,
        new,
        today_in(&zone),
        &shapes,
    )
    .await?;
    // After the commit, so a contract that fails never takes the rental with it.
    crate::contracts::after_rental_created(&state, &caller.business_unit, &rental).await;
    let body = RentalCreated {
        success: true,
        message: "Rental started".into(),
        rental_id: rental.rental_id.clone(),
        rental: rental_body(&rental, caller.exponent()),
        payments: schedule
            .iter()
            .map(|p| payment_body(p, caller.exponent()))
            .collect(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalList {
    pub rentals: Vec<RentalBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List rentals. Filters: `status`, `customerId`, `orderId`, `serialNumber`, `sku`,
/// `billingGroupId`, `startDateFrom`/`startDateTo`, `endDateFrom`/`endDateTo` (dates, inclusive).
#[utoipa::path(get, path = "/v1/subscriptions", tag = "Subscriptions",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query),
        ("sortBy" = Option<String>, Query, description = "createdAt | startDate | endDate | monthlyAmount"), ("sortDir" = Option<String>, Query),
        ("status" = Option<String>, Query), ("customerId" = Option<String>, Query), ("orderId" = Option<String>, Query),
        ("serialNumber" = Option<String>, Query), ("sku" = Option<String>, Query), ("billingGroupId" = Option<String>, Query),
        ("startDateFrom" = Option<String>, Query), ("startDateTo" = Option<String>, Query), ("endDateFrom" = Option<String>, Query), ("endDateTo" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of rentals", body = RentalList)))]
pub async fn list_rentals(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<RentalList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::RENTAL_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let zone = time_zone(&caller.business_unit.timezone);
    let mut p = Problems::new();
    let mut date = |name: &str| query.date(&mut p, name, &zone);
    let (start_from, start_to, end_from, end_to) = (
        date("startDateFrom"),
        date("startDateTo"),
        date("endDateFrom"),
        date("endDateTo"),
    );
    let filters = RentalFilters {
        status: one_of(&mut p, "status", query.get("status"), STATUSES),
        customer_id: query.get("customerId"),
        order_id: query.get("orderId"),
        serial_number: query.get("serialNumber"),
        sku: query.get("sku"),
        billing_group_id: query.get("billingGroupId"),
        start_from,
        start_to,
        end_from,
        end_to,
    };
    p.finish()?;
    let sort = sort_column(store::RENTAL_SORTS, &params.sort_by);
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
    let rentals: Vec<RentalBody> = page
        .items
        .iter()
        .map(|r| rental_body(r, caller.exponent()))
        .collect();
    Ok(Json(RentalList {
        count: rentals.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &rentals, |r| &r.rental_id),
        rentals,
    }))
}

/// Read one rental.
#[utoipa::path(get, path = "/v1/subscriptions/{subscriptionId}", tag = "Subscriptions", params(("subscriptionId" = String, Path)),
    responses((status = 200, description = "The rental", body = RentalBody), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_rental(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
) -> ApiResult<Json<RentalBody>> {
    caller.require(READ)?;
    let rental = store::get(&state.db, caller.tenant_id(), &rental_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rental"))?;
    Ok(Json(rental_body(&rental, caller.exponent())))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelRentalInput {
    /// Optional; when given it must be the path's id.
    pub rental_id: Option<String>,
    /// `customer_request`, `payment_failure`, `fraud`, `admin_decision` or `other`.
    pub reason: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalCancelled {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    pub previous_status: String,
    pub cancelled_at: String,
}

/// Cancel an active rental: payments due after today are cancelled (paid ones stay), the asset
/// is returned.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/cancel", tag = "Subscriptions", request_body = CancelRentalInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = RentalCancelled),
        (status = 400, description = "VALIDATION_ERROR, ALREADY_CANCELLED or ALREADY_ENDED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn cancel_rental(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<CancelRentalInput>,
) -> ApiResult<Json<RentalCancelled>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    if input.rental_id.as_ref().is_some_and(|id| *id != rental_id) {
        p.add(
            "rentalId",
            "invalid_value",
            "must match the rental in the path",
        );
    }
    if input.reason.is_none() {
        p.add("reason", "required", "is required");
    }
    let reason = one_of(&mut p, "reason", input.reason, CANCEL_REASONS);
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    let now = flexportal_domain::time::now_micros();
    let mut details = serde_json::json!({
        "reason": reason,
        "processedBy": { "userId": caller.key.key_id },
        "cancelledAt": format_instant(now),
    });
    if let Some(notes) = notes {
        details["notes"] = serde_json::Value::String(notes);
    }
    let zone = time_zone(&caller.business_unit.timezone);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let rental = store::cancel(
        &state.db,
        caller.tenant_id(),
        &rental_id,
        details,
        today_in(&zone),
        &shapes,
    )
    .await
    .map_err(|e| match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Rental"),
        other => other.into(),
    })?;
    Ok(Json(RentalCancelled {
        success: true,
        message: "Rental cancelled".into(),
        rental_id: rental.rental_id,
        asset_serial_number: rental.asset_serial_number,
        previous_status: "active".into(),
        cancelled_at: format_instant(rental.ended_at.unwrap_or(now)),
    }))
}

fn rental_not_found(e: flexportal_store::StoreError) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Rental"),
        other => other.into(),
    }
}

/// A body's `rentalId`, when given, must name the rental in the path.
fn same_rental(p: &mut Problems, body_id: &Option<String>, path_id: &str) {
    if body_id.as_ref().is_some_and(|id| id != path_id) {
        p.add(
            "rentalId",
            "invalid_value",
            "must match the rental in the path",
        );
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtendInput {
    pub rental_id: Option<String>,
    /// 1–120; the whole term stays within 120 months.
    pub extension_months: Option<i64>,
    /// Applies to every payment not yet due and to the added months.
    pub new_monthly_amount: Option<f64>,
    pub reason: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Extended {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    pub old_end_date: String,
    pub new_end_date: String,
    pub extension_months: i64,
    pub old_contract_length: i64,
    pub new_contract_length: i64,
    pub rental: RentalBody,
}

/// Extend an active rental; the added months get payments.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/extend", tag = "Subscriptions", request_body = ExtendInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Extended", body = Extended),
        (status = 400, description = "VALIDATION_ERROR or SUBSCRIPTION_NOT_ACTIVE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn extend_rental(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<ExtendInput>,
) -> ApiResult<Json<Extended>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    same_rental(&mut p, &input.rental_id, &rental_id);
    match input.extension_months {
        None => p.add("extensionMonths", "required", "is required"),
        Some(m) if !(1..=120).contains(&m) => p.add(
            "extensionMonths",
            "out_of_range",
            "must be between 1 and 120",
        ),
        Some(_) => {}
    }
    let new_monthly_amount = p.amount(
        "newMonthlyAmount",
        input.new_monthly_amount,
        caller.exponent(),
    );
    let reason = p.required_text("reason", input.reason, 1000);
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    let before = store::get(&state.db, caller.tenant_id(), &rental_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Rental"))?;
    let zone = time_zone(&caller.business_unit.timezone);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let extension = store::Extension {
        months: input.extension_months.unwrap_or_default(),
        new_monthly_amount,
        reason: reason.unwrap_or_default(),
        notes,
        by: caller.key.key_id.clone(),
        if_end_date: None,
    };
    let rental = store::extend(
        &state.db,
        &caller.business_unit,
        &rental_id,
        extension,
        today_in(&zone),
        &shapes,
    )
    .await
    .map_err(rental_not_found)?;
    Ok(Json(Extended {
        success: true,
        message: "Rental extended".into(),
        rental_id: rental.rental_id.clone(),
        asset_serial_number: rental.asset_serial_number.clone(),
        old_end_date: before.end_date,
        new_end_date: rental.end_date.clone(),
        extension_months: rental.contract_length - before.contract_length,
        old_contract_length: before.contract_length,
        new_contract_length: rental.contract_length,
        rental: rental_body(&rental, caller.exponent()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteInput {
    #[serde(alias = "subscriptionId")]
    pub rental_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutQuote {
    pub success: bool,
    pub rental_id: String,
    /// What `buyout` would charge today, before VAT is applied as the business unit's VAT mode says.
    #[schema(value_type = f64)]
    pub buyout_price: serde_json::Value,
    /// The scheduled payments after today that the buyout replaces.
    #[schema(value_type = f64)]
    pub remaining_payments: serde_json::Value,
    /// The list-price share of the price (residual value).
    #[schema(value_type = f64)]
    pub depreciated_value: serde_json::Value,
    /// The business unit's buyout method.
    pub calculation_method: String,
    pub currency: String,
}

/// What buying a rental out would cost today; changes nothing. `buyout` charges exactly this
/// unless given a price.
#[utoipa::path(post, path = "/v1/subscriptions/calculate-buyout", tag = "Subscriptions", request_body = QuoteInput,
    responses(
        (status = 200, description = "The quote", body = BuyoutQuote),
        (status = 400, description = "VALIDATION_ERROR or SUBSCRIPTION_NOT_ACTIVE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn calculate_buyout(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<QuoteInput>,
) -> ApiResult<Json<BuyoutQuote>> {
    caller.require(READ)?;
    let mut p = Problems::new();
    let rental_id = p.required_text("rentalId", input.rental_id, 100);
    p.finish()?;
    let zone = time_zone(&caller.business_unit.timezone);
    let (rental, figures) = store::buyout_quote(
        &state.db,
        &caller.business_unit,
        &rental_id.unwrap_or_default(),
        today_in(&zone),
    )
    .await
    .map_err(rental_not_found)?;
    let settings = caller.business_unit.settings().map_err(ApiError::from)?;
    let money = |minor: i64| major_json(minor, caller.exponent());
    Ok(Json(BuyoutQuote {
        success: true,
        rental_id: rental.rental_id,
        buyout_price: money(figures.price),
        remaining_payments: money(figures.remaining_payments),
        depreciated_value: money(figures.depreciated_value),
        calculation_method: crate::routes::to_json(&settings.buyout.method)
            .as_str()
            .unwrap_or_default()
            .to_string(),
        currency: rental.currency,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutInput {
    pub rental_id: Option<String>,
    /// Overrides the business unit's method (`calculationMethod: manual_override`).
    pub buyout_price: Option<f64>,
    /// `customer_request`, `end_of_contract` or `other`.
    pub reason: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoughtOut {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    #[schema(value_type = f64)]
    pub buyout_price: serde_json::Value,
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub effective_date: String,
    /// The buyout payment, due today.
    pub payment_id: String,
    /// `auto_calculated` (by the business unit's method) or `manual_override`.
    pub calculation_method: String,
    /// The business unit's buyout method the price came from.
    pub method: String,
}

/// The customer buys the device: the rental ends (`ended_buyout`), payments after today are
/// cancelled, one buyout payment is due today, the asset is sold.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/buyout", tag = "Subscriptions", request_body = BuyoutInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Bought out", body = BoughtOut),
        (status = 400, description = "VALIDATION_ERROR or SUBSCRIPTION_NOT_ACTIVE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn buyout_rental(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<BuyoutInput>,
) -> ApiResult<Json<BoughtOut>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    same_rental(&mut p, &input.rental_id, &rental_id);
    if input.reason.is_none() {
        p.add("reason", "required", "is required");
    }
    let reason = one_of(
        &mut p,
        "reason",
        input.reason,
        &["customer_request", "end_of_contract", "other"],
    );
    let price_override = p.amount("buyoutPrice", input.buyout_price, caller.exponent());
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    let zone = time_zone(&caller.business_unit.timezone);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let buy = store::Buyout {
        price_override,
        reason: reason.unwrap_or_default(),
        notes,
        by: caller.key.key_id.clone(),
    };
    let (rental, payment) = store::buyout(
        &state.db,
        &caller.business_unit,
        &rental_id,
        buy,
        today_in(&zone),
        &shapes,
    )
    .await
    .map_err(rental_not_found)?;
    let details: serde_json::Value = rental
        .buyout_details
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    Ok(Json(BoughtOut {
        success: true,
        message: "Rental bought out".into(),
        rental_id: rental.rental_id.clone(),
        asset_serial_number: rental.asset_serial_number.clone(),
        buyout_price: major_json(
            details["buyoutPrice"].as_i64().unwrap_or_default(),
            caller.exponent(),
        ),
        currency: rental.currency.clone(),
        effective_date: details["buyoutDate"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        payment_id: payment.payment_id,
        calculation_method: details["calculationMethod"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        method: details["method"].as_str().unwrap_or_default().to_string(),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnQuote {
    pub success: bool,
    pub rental_id: String,
    /// What `early-return` would charge today (before VAT is applied per the business unit's mode).
    #[schema(value_type = f64)]
    pub early_return_fee: serde_json::Value,
    pub remaining_months: i64,
    /// Percent of the remaining payments charged (remaining-months method).
    #[schema(value_type = f64)]
    pub penalty_percentage: serde_json::Value,
    /// `remaining_months`, `flat_fee` or `no_fee`.
    pub method: String,
    pub grace_period_applied: bool,
    pub currency: String,
}

/// The early-return fee today; changes nothing. `early-return` charges exactly this unless the
/// fee is given or waived.
#[utoipa::path(post, path = "/v1/subscriptions/calculate-early-return-fee", tag = "Subscriptions", request_body = QuoteInput,
    responses(
        (status = 200, description = "The quote", body = EarlyReturnQuote),
        (status = 400, description = "VALIDATION_ERROR or SUBSCRIPTION_NOT_ACTIVE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn calculate_early_return_fee(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<QuoteInput>,
) -> ApiResult<Json<EarlyReturnQuote>> {
    caller.require(READ)?;
    let mut p = Problems::new();
    let rental_id = p.required_text("rentalId", input.rental_id, 100);
    p.finish()?;
    let zone = time_zone(&caller.business_unit.timezone);
    let (rental, fee, remaining) = store::early_return_quote(
        &state.db,
        &caller.business_unit,
        &rental_id.unwrap_or_default(),
        today_in(&zone),
    )
    .await
    .map_err(rental_not_found)?;
    Ok(Json(EarlyReturnQuote {
        success: true,
        rental_id: rental.rental_id,
        early_return_fee: major_json(fee.fee, caller.exponent()),
        remaining_months: remaining,
        penalty_percentage: major_json(fee.penalty_bp, 2),
        method: fee.method.into(),
        grace_period_applied: fee.grace_period_applied,
        currency: rental.currency,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnInput {
    pub rental_id: Option<String>,
    /// `excellent`, `good`, `fair`, `poor` or `damaged`.
    pub return_condition: Option<String>,
    /// Overrides the business unit's method.
    pub early_return_fee: Option<f64>,
    /// Charge no fee at all.
    #[serde(default)]
    pub waive_fee: bool,
    pub reason: Option<String>,
    pub damage_assessment: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedEarly {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    #[schema(value_type = f64)]
    pub early_return_fee: serde_json::Value,
    pub currency: String,
    pub actual_months_rented: i64,
    /// `YYYY-MM-DD`.
    pub return_date: String,
    /// The fee payment, when there is a fee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
}

/// The device comes back before the contract ends: the rental ends (`ended_early_return`),
/// payments after today are cancelled, a fee payment is due today when the fee is above zero,
/// the asset is returned.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/early-return", tag = "Subscriptions", request_body = EarlyReturnInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Returned", body = ReturnedEarly),
        (status = 400, description = "VALIDATION_ERROR or SUBSCRIPTION_NOT_ACTIVE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn early_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<EarlyReturnInput>,
) -> ApiResult<Json<ReturnedEarly>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    same_rental(&mut p, &input.rental_id, &rental_id);
    if input.return_condition.is_none() {
        p.add("returnCondition", "required", "is required");
    }
    let condition = one_of(
        &mut p,
        "returnCondition",
        input.return_condition,
        &["excellent", "good", "fair", "poor", "damaged"],
    );
    let fee_override = p.amount("earlyReturnFee", input.early_return_fee, caller.exponent());
    let reason = p.required_text("reason", input.reason, 1000);
    let damage_assessment = p.text("damageAssessment", input.damage_assessment, 5000);
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    let zone = time_zone(&caller.business_unit.timezone);
    let today = today_in(&zone);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let ret = store::EarlyReturn {
        fee_override,
        waive: input.waive_fee,
        return_condition: condition.unwrap_or_default(),
        reason: reason.unwrap_or_default(),
        damage_assessment,
        notes,
        by: caller.key.key_id.clone(),
    };
    let (rental, payment, months) = store::early_return(
        &state.db,
        &caller.business_unit,
        &rental_id,
        ret,
        today,
        &shapes,
    )
    .await
    .map_err(rental_not_found)?;
    let details: serde_json::Value = rental
        .early_return_details
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    Ok(Json(ReturnedEarly {
        success: true,
        message: "Device returned early".into(),
        rental_id: rental.rental_id.clone(),
        asset_serial_number: rental.asset_serial_number.clone(),
        early_return_fee: major_json(
            details["fee"].as_i64().unwrap_or_default(),
            caller.exponent(),
        ),
        currency: rental.currency.clone(),
        actual_months_rented: months,
        return_date: today.to_string(),
        payment_id: payment.map(|p| p.payment_id),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceInput {
    pub rental_id: Option<String>,
    /// An available asset of the rental's SKU.
    pub new_serial_number: Option<String>,
    /// When given, must be the rental's SKU.
    pub new_sku: Option<String>,
    /// `damaged`, `stolen`, `defective` or `lost`.
    pub replacement_reason: Option<String>,
    pub damage_assessment: Option<String>,
    #[serde(default)]
    pub insurance_claim: bool,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Replaced {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub old_serial_number: String,
    pub new_serial_number: String,
    pub reason: String,
}

/// Swap the device of an active rental; same rental, same price. The old device becomes
/// unavailable with the reason.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/replace", tag = "Subscriptions", request_body = ReplaceInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Replaced", body = Replaced),
        (status = 400, description = "VALIDATION_ERROR, SUBSCRIPTION_NOT_ACTIVE, ASSET_NOT_FOUND, ASSET_NOT_AVAILABLE or SKU_MISMATCH", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn replace_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<ReplaceInput>,
) -> ApiResult<Json<Replaced>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    same_rental(&mut p, &input.rental_id, &rental_id);
    let new_serial = p.required_text("newSerialNumber", input.new_serial_number, 100);
    if input.replacement_reason.is_none() {
        p.add("replacementReason", "required", "is required");
    }
    let reason = one_of(
        &mut p,
        "replacementReason",
        input.replacement_reason,
        &["damaged", "stolen", "defective", "lost"],
    );
    let damage_assessment = p.text("damageAssessment", input.damage_assessment, 5000);
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    if let Some(sku) = &input.new_sku {
        let rental = store::get(&state.db, caller.tenant_id(), &rental_id)
            .await?
            .ok_or_else(|| ApiError::not_found("Rental"))?;
        if *sku != rental.sku {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "SKU_MISMATCH",
                format!("The replacement must be a {}", rental.sku),
            ));
        }
    }
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let rep = store::Replacement {
        new_serial_number: new_serial.unwrap_or_default(),
        reason: reason.clone().unwrap_or_default(),
        damage_assessment,
        insurance_claim: input.insurance_claim,
        notes,
        by: caller.key.key_id.clone(),
    };
    let (rental, old_serial) =
        store::replace(&state.db, caller.tenant_id(), &rental_id, rep, &shapes)
            .await
            .map_err(rental_not_found)?;
    Ok(Json(Replaced {
        success: true,
        message: "Device replaced".into(),
        rental_id: rental.rental_id,
        old_serial_number: old_serial,
        new_serial_number: rental.asset_serial_number,
        reason: reason.unwrap_or_default(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RentalNotesInput {
    /// Replaces the notes; at most 5000 characters.
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalNotesSaved {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
}

/// Replace a rental's notes.
#[utoipa::path(patch, path = "/v1/subscriptions/{subscriptionId}/notes", tag = "Subscriptions", request_body = RentalNotesInput,
    params(("subscriptionId" = String, Path)),
    responses((status = 200, description = "Saved", body = RentalNotesSaved), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn update_rental_notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<RentalNotesInput>,
) -> ApiResult<Json<RentalNotesSaved>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    match &input.notes {
        None => p.add("notes", "required", "is required"),
        Some(n) if n.chars().count() > 5000 => {
            p.add("notes", "too_long", "must be at most 5000 characters")
        }
        Some(_) => {}
    }
    p.finish()?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let rental = store::set_notes(
        &state.db,
        caller.tenant_id(),
        &rental_id,
        &input.notes.unwrap_or_default(),
        &shapes,
    )
    .await
    .map_err(rental_not_found)?;
    Ok(Json(RentalNotesSaved {
        success: true,
        message: "Notes updated".into(),
        rental_id: rental.rental_id,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeInput {
    pub rental_id: Option<String>,
    /// The variant SKU of the new device.
    pub new_sku: Option<String>,
    /// An available asset of `newSku`.
    pub new_serial_number: Option<String>,
    /// Months of the new contract.
    pub contract_length: Option<i64>,
    /// The new monthly price; the catalog price for the new term when omitted.
    pub new_monthly_amount: Option<f64>,
    pub reason: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgraded {
    pub success: bool,
    pub message: String,
    pub old_rental_id: String,
    pub new_rental_id: String,
    /// Serial number of the device given back.
    pub old_device: String,
    /// Serial number of the new device.
    pub new_device: String,
    #[schema(value_type = f64)]
    pub new_monthly_amount: serde_json::Value,
    pub currency: String,
    /// The `upgrade` order made for the new device.
    pub order_id: String,
}

/// Upgrade in one step: the rental ends (`ended_upgrade`), its payments after today are
/// cancelled and its asset returned; an `upgrade` order and a new active rental on the new
/// device start, linked by `upgradeFromRentalId`.
#[utoipa::path(post, path = "/v1/subscriptions/{subscriptionId}/upgrade", tag = "Subscriptions", request_body = UpgradeInput,
    params(("subscriptionId" = String, Path)),
    responses(
        (status = 200, description = "Upgraded", body = Upgraded),
        (status = 400, description = "VALIDATION_ERROR, SUBSCRIPTION_NOT_ACTIVE, VARIANT_NOT_FOUND, VARIANT_INACTIVE, INVALID_CONTRACT_LENGTH, ASSET_NOT_FOUND, ASSET_NOT_AVAILABLE, NO_MATCHING_ORDER_ITEM", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn upgrade_rental(
    State(state): State<AppState>,
    caller: Caller,
    Path(rental_id): Path<String>,
    JsonBody(input): JsonBody<UpgradeInput>,
) -> ApiResult<Json<Upgraded>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    same_rental(&mut p, &input.rental_id, &rental_id);
    let new_sku = p.required_text("newSku", input.new_sku, 100);
    let new_serial = p.required_text("newSerialNumber", input.new_serial_number, 100);
    match input.contract_length {
        None => p.add("contractLength", "required", "is required"),
        Some(m) if !(1..=120).contains(&m) => p.add(
            "contractLength",
            "out_of_range",
            "must be between 1 and 120 months",
        ),
        Some(_) => {}
    }
    let new_monthly_amount = p.amount(
        "newMonthlyAmount",
        input.new_monthly_amount,
        caller.exponent(),
    );
    let reason = p.required_text("reason", input.reason, 1000);
    let notes = p.text("notes", input.notes, 1000);
    p.finish()?;
    let zone = time_zone(&caller.business_unit.timezone);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let up = store::Upgrade {
        new_sku: new_sku.unwrap_or_default(),
        new_serial_number: new_serial.unwrap_or_default(),
        contract_length: input.contract_length.unwrap_or_default(),
        new_monthly_amount,
        reason: reason.unwrap_or_default(),
        notes,
        by: caller.key.key_id.clone(),
    };
    let (old, new) = store::upgrade(
        &state.db,
        &caller.business_unit,
        &rental_id,
        up,
        today_in(&zone),
        &shapes,
    )
    .await
    .map_err(rental_not_found)?;
    crate::contracts::after_rental_created(&state, &caller.business_unit, &new).await;
    Ok(Json(Upgraded {
        success: true,
        message: "Rental upgraded".into(),
        old_rental_id: old.rental_id,
        new_rental_id: new.rental_id,
        old_device: old.asset_serial_number,
        new_device: new.asset_serial_number,
        new_monthly_amount: major_json(new.monthly_amount, caller.exponent()),
        currency: new.currency,
        order_id: new.order_id,
    }))
}
