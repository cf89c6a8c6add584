//! `/v1/payments`: a rental's schedule and one-off charges, and what collection reports.

use crate::json::Json;
use axum::extract::{Path, State};
use flexportal_domain::money::major_json;
use flexportal_domain::payments::STATUSES;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, parse_instant, time_zone};
use flexportal_store::payments::{self as store, Change, Payment, PaymentFilters};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::shapes::Shapes;
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("payments");
const WRITE: Required = Required::write("payments");

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentBody {
    pub payment_id: String,
    pub tenant_id: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    /// `individual` or `consolidated`.
    pub payment_type: String,
    /// `rental`, `buyout` or `early_return_fee`.
    pub category: String,
    /// `YYYY-MM` of the due date.
    pub billing_period: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    #[schema(value_type = f64)]
    pub subtotal: serde_json::Value,
    #[schema(value_type = f64)]
    pub tax_amount: serde_json::Value,
    /// Percent.
    #[schema(value_type = f64)]
    pub tax_rate: serde_json::Value,
    #[schema(value_type = f64)]
    pub total: serde_json::Value,
    /// Same as `total`.
    #[schema(value_type = f64)]
    pub amount: serde_json::Value,
    pub currency: String,
    pub status: String,
    pub idempotency_key: String,
    pub manually_marked: bool,
    /// How it was paid: `manual`, `stripe`, `adyen` or `paypal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marked_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub next_retry_at: Option<String>,
    pub paid_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A consolidated payment's lines: one per member rental.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<LineItemBody>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineItemBody {
    pub rental_id: String,
    pub description: String,
    /// Net of tax.
    #[schema(value_type = f64)]
    pub amount: serde_json::Value,
    #[schema(value_type = f64)]
    pub tax_amount: serde_json::Value,
}

fn line_items(p: &Payment, exponent: u32) -> Option<Vec<LineItemBody>> {
    let lines: Vec<flexportal_domain::billing_groups::Line> =
        serde_json::from_str(p.line_items.as_deref()?).ok()?;
    Some(
        lines
            .into_iter()
            .map(|line| LineItemBody {
                rental_id: line.rental_id,
                description: line.description,
                amount: major_json(line.amount, exponent),
                tax_amount: major_json(line.tax_amount, exponent),
            })
            .collect(),
    )
}

pub fn payment_body(p: &Payment, exponent: u32) -> PaymentBody {
    let money = |minor: i64| major_json(minor, exponent);
    PaymentBody {
        payment_id: p.payment_id.clone(),
        tenant_id: p.tenant_id.clone(),
        customer_id: p.customer_id.clone(),
        rental_id: p.rental_id.clone(),
        billing_group_id: p.billing_group_id.clone(),
        payment_type: p.payment_type.clone(),
        category: p.category.clone(),
        billing_period: p.billing_period.clone(),
        due_date: p.due_date.clone(),
        subtotal: money(p.subtotal),
        tax_amount: money(p.tax_amount),
        tax_rate: major_json(p.tax_rate_bp, 2),
        total: money(p.total),
        amount: money(p.total),
        currency: p.currency.clone(),
        status: p.status.clone(),
        idempotency_key: p.idempotency_key.clone(),
        manually_marked: p.marked_by.is_some(),
        provider: p.provider.clone(),
        payment_reference: p.payment_reference.clone(),
        marked_by: p.marked_by.clone(),
        notes: p.notes.clone(),
        cancellation_reason: p.cancellation_reason.clone(),
        failure_reason: p.failure_reason.clone(),
        next_retry_at: p.next_retry_at.map(format_instant),
        paid_at: p.paid_at.map(format_instant),
        created_at: format_instant(p.created_at),
        updated_at: format_instant(p.updated_at),
        line_items: line_items(p, exponent),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentList {
    pub success: bool,
    pub payments: Vec<PaymentBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List payments. Filters: `status`, `customerId`, `rentalId`, `billingGroupId`,
/// `dueDateFrom`/`dueDateTo` (dates, inclusive).
#[utoipa::path(get, path = "/v1/payments", tag = "Payments",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query),
        ("sortBy" = Option<String>, Query, description = "createdAt | dueDate | amount | status"), ("sortDir" = Option<String>, Query),
        ("status" = Option<String>, Query), ("customerId" = Option<String>, Query), ("rentalId" = Option<String>, Query),
        ("billingGroupId" = Option<String>, Query), ("dueDateFrom" = Option<String>, Query), ("dueDateTo" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of payments", body = PaymentList)))]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<PaymentList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::PAYMENT_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let zone = time_zone(&caller.business_unit.timezone);
    let mut p = Problems::new();
    let mut date = |name: &str| query.date(&mut p, name, &zone);
    let (due_from, due_to) = (date("dueDateFrom"), date("dueDateTo"));
    let filters = PaymentFilters {
        status: one_of(&mut p, "status", query.get("status"), STATUSES),
        customer_id: query.get("customerId"),
        rental_id: query.get("rentalId"),
        billing_group_id: query.get("billingGroupId"),
        due_from,
        due_to,
    };
    p.finish()?;
    let sort = sort_column(store::PAYMENT_SORTS, &params.sort_by);
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
    let payments: Vec<PaymentBody> = page
        .items
        .iter()
        .map(|x| payment_body(x, caller.exponent()))
        .collect();
    Ok(Json(PaymentList {
        success: true,
        count: payments.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &payments, |x| &x.payment_id),
        payments,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentResponse {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub payment: PaymentBody,
}

fn not_found(e: flexportal_store::StoreError) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Payment"),
        other => other.into(),
    }
}

/// Read one payment.
#[utoipa::path(get, path = "/v1/payments/{paymentId}", tag = "Payments", params(("paymentId" = String, Path)),
    responses((status = 200, description = "The payment", body = PaymentResponse), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(payment_id): Path<String>,
) -> ApiResult<Json<PaymentResponse>> {
    caller.require(READ)?;
    let payment = store::get(&state.db, caller.tenant_id(), &payment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Payment"))?;
    Ok(Json(PaymentResponse {
        success: true,
        message: None,
        payment: payment_body(&payment, caller.exponent()),
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct MarkPaidInput {
    /// How it was paid: `manual` (default), `stripe`, `adyen` or `paypal`.
    #[serde(alias = "provider")]
    pub method: Option<String>,
    /// The bank transfer or receipt reference.
    pub payment_reference: Option<String>,
    /// When the money arrived: an instant or a date; now when omitted. Not in the future.
    pub paid_at: Option<String>,
    pub notes: Option<String>,
}

async fn change(
    state: &AppState,
    caller: &Caller,
    payment_id: &str,
    change: Change,
    message: &str,
) -> ApiResult<Json<PaymentResponse>> {
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let payment = store::change(&state.db, caller.tenant_id(), payment_id, change, &shapes)
        .await
        .map_err(not_found)?;
    Ok(Json(PaymentResponse {
        success: true,
        message: Some(message.into()),
        payment: payment_body(&payment, caller.exponent()),
    }))
}

/// Record a payment received outside a payment provider (transfer, cash). A paid payment is 400
/// `ALREADY_PAID`; a cancelled one 400 `PAYMENT_CANCELLED`.
#[utoipa::path(post, path = "/v1/payments/{paymentId}/mark-paid", tag = "Payments", request_body = MarkPaidInput, params(("paymentId" = String, Path)),
    responses(
        (status = 200, description = "Paid", body = PaymentResponse),
        (status = 400, description = "ALREADY_PAID or PAYMENT_CANCELLED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    Path(payment_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PaymentResponse>> {
    caller.require(WRITE)?;
    let input: MarkPaidInput = if body.iter().all(u8::is_ascii_whitespace) {
        MarkPaidInput::default()
    } else {
        crate::input::parse_json(&body)?
    };
    let mut p = Problems::new();
    let reference = p.text("paymentReference", input.payment_reference, 200);
    let notes = p.text("notes", input.notes, 5000);
    let provider = one_of(
        &mut p,
        "method",
        input.method,
        &["manual", "stripe", "adyen", "paypal"],
    )
    .unwrap_or_else(|| "manual".into());
    let zone = time_zone(&caller.business_unit.timezone);
    let paid_at = input
        .paid_at
        .and_then(|text| match parse_instant(&text, &zone) {
            Some(at) if at <= flexportal_domain::time::now_micros() => Some(at),
            Some(_) => {
                p.add("paidAt", "invalid_value", "must not be in the future");
                None
            }
            None => {
                p.add(
                    "paidAt",
                    "invalid_type",
                    "must be an RFC 3339 instant or a date",
                );
                None
            }
        });
    p.finish()?;
    let paid = Change::Paid {
        provider,
        reference,
        notes,
        paid_at,
        marked_by: caller.key.key_id.clone(),
    };
    change(&state, &caller, &payment_id, paid, "Payment marked paid").await
}

#[derive(Deserialize, ToSchema)]
pub struct CancelPaymentInput {
    /// Why the payment is not collected.
    pub reason: Option<String>,
}

/// Cancel a payment that is not paid. `reason` is required.
#[utoipa::path(post, path = "/v1/payments/{paymentId}/cancel", tag = "Payments", request_body = CancelPaymentInput, params(("paymentId" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = PaymentResponse),
        (status = 400, description = "VALIDATION_ERROR, ALREADY_PAID, ALREADY_CANCELLED or PAYMENT_PROCESSING", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn cancel_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(payment_id): Path<String>,
    JsonBody(input): JsonBody<CancelPaymentInput>,
) -> ApiResult<Json<PaymentResponse>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let reason = p.required_text("reason", input.reason, 1000);
    p.finish()?;
    change(
        &state,
        &caller,
        &payment_id,
        Change::Cancelled {
            reason: reason.unwrap_or_default(),
        },
        "Payment cancelled",
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkFailedInput {
    pub reason: Option<String>,
    /// When collection will be tried again; an instant or a date.
    pub next_retry_at: Option<String>,
}

/// Record that collecting a payment failed, so dunning can follow up.
#[utoipa::path(post, path = "/v1/payments/{paymentId}/mark-failed", tag = "Payments", request_body = MarkFailedInput, params(("paymentId" = String, Path)),
    responses(
        (status = 200, description = "Failed", body = PaymentResponse),
        (status = 400, description = "VALIDATION_ERROR, ALREADY_PAID, PAYMENT_CANCELLED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn mark_failed(
    State(state): State<AppState>,
    caller: Caller,
    Path(payment_id): Path<String>,
    JsonBody(input): JsonBody<MarkFailedInput>,
) -> ApiResult<Json<PaymentResponse>> {
    caller.require(WRITE)?;
    let zone = time_zone(&caller.business_unit.timezone);
    let mut p = Problems::new();
    let reason = p.required_text("reason", input.reason, 1000);
    let next_retry_at = input.next_retry_at.and_then(|t| {
        let at = parse_instant(&t, &zone);
        if at.is_none() {
            p.add(
                "nextRetryAt",
                "invalid_type",
                "must be an RFC 3339 instant or a date",
            );
        }
        at
    });
    p.finish()?;
    change(
        &state,
        &caller,
        &payment_id,
        Change::Failed {
            reason: reason.unwrap_or_default(),
            next_retry_at,
        },
        "Payment failed",
    )
    .await
}
