//! `/v1/orders`: checkout to a priced, numbered order, then confirm, notes, cancel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::contact::is_email;
use flexportal_domain::money::major_json;
use flexportal_domain::orders::{STATUSES, TYPES};
use flexportal_domain::permissions::Required;
use flexportal_domain::settings::{CustomFieldSection, custom_value_violations};
use flexportal_domain::time::{format_instant, parse_instant, time_zone};
use flexportal_store::customers::CustomerFields;
use flexportal_store::orders::{
    self as store, Created, NewOrder, Order, OrderFilters, RequestedItem,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::shapes::{Address, Shapes};
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("orders");
const WRITE: Required = Required::write("orders");

// ---- wire shapes -------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    pub customer_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub customer_type: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemBody {
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_image_url: Option<String>,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    pub quantity: i64,
    /// Monthly price of one unit, fixed when the order was made.
    #[schema(value_type = f64)]
    pub unit_price: serde_json::Value,
    pub contract_length: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub list_price: Option<serde_json::Value>,
    pub list_price_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub acquisition_cost: Option<serde_json::Value>,
    pub acquisition_cost_source: String,
    pub rental_ids: Vec<String>,
    /// `pending`, `partial` or `completed`.
    pub rental_status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    #[schema(value_type = f64)]
    pub subtotal: serde_json::Value,
    #[schema(value_type = f64)]
    pub tax_amount: serde_json::Value,
    /// The monthly amount due.
    #[schema(value_type = f64)]
    pub total: serde_json::Value,
    pub currency: String,
    pub total_devices: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalProgress {
    pub total_devices: i64,
    pub rented_devices: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderBody {
    pub order_id: String,
    /// Human order number: the business unit's prefix and a sequence, e.g. `FP-000042`.
    pub order_number: String,
    pub tenant_id: String,
    pub status: String,
    pub order_type: String,
    pub customer: OrderCustomer,
    #[schema(value_type = Object)]
    pub billing_address: Box<RawValue>,
    #[schema(value_type = Object)]
    pub shipping_address: Box<RawValue>,
    pub items: Vec<OrderItemBody>,
    pub totals: Totals,
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Box<RawValue>,
    pub rental_progress: RentalProgress,
    pub rental_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extension_details: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub upgrade_details: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The API key (`key_…`) that created the order.
    pub created_by: String,
}

/// The customer as the order stored it: text fields only, absent or not text read as missing.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StoredCustomer {
    #[serde(deserialize_with = "text_or_none")]
    email: Option<String>,
    #[serde(deserialize_with = "text_or_none")]
    first_name: Option<String>,
    #[serde(deserialize_with = "text_or_none")]
    last_name: Option<String>,
    #[serde(deserialize_with = "text_or_none")]
    company: Option<String>,
    #[serde(deserialize_with = "text_or_none")]
    phone: Option<String>,
    #[serde(deserialize_with = "text_or_none")]
    customer_type: Option<String>,
}

fn text_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    })
}

/// Stored JSON text as it is: checked, not rebuilt into a tree and serialized again.
fn raw_json(text: &str) -> Option<Box<RawValue>> {
    RawValue::from_string(text.to_string()).ok()
}

/// [`raw_json`], `null` when absent or not JSON.
fn stored_json(text: Option<&str>) -> Box<RawValue> {
    text.and_then(raw_json)
        .unwrap_or_else(|| RawValue::NULL.to_owned())
}

pub fn order_body(order: &Order, exponent: u32) -> OrderBody {
    let money = |minor: i64| major_json(minor, exponent);
    let customer: StoredCustomer = serde_json::from_str(&order.customer).unwrap_or_default();
    let items: Vec<OrderItemBody> = order
        .items()
        .into_iter()
        .map(|item| OrderItemBody {
            rental_status: match item.rental_ids.len() as i64 {
                0 => "pending".into(),
                n if n < item.quantity => "partial".into(),
                _ => "completed".into(),
            },
            list_price_source: if item.list_price.is_some() {
                "variant"
            } else {
                "unknown"
            }
            .into(),
            acquisition_cost_source: if item.acquisition_cost.is_some() {
                "variant"
            } else {
                "unknown"
            }
            .into(),
            product_id: item.product_id,
            product_image_url: item.product_image_url,
            variant_id: item.variant_id,
            sku: item.sku,
            product_name: item.product_name,
            quantity: item.quantity,
            unit_price: money(item.unit_price),
            contract_length: item.contract_length,
            list_price: item.list_price.map(money),
            acquisition_cost: item.acquisition_cost.map(money),
            rental_ids: item.rental_ids,
        })
        .collect();
    let rental_ids = items.iter().flat_map(|i| i.rental_ids.clone()).collect();
    OrderBody {
        order_id: order.order_id.clone(),
        order_number: order.order_number.clone(),
        tenant_id: order.tenant_id.clone(),
        status: order.status.clone(),
        order_type: order.order_type.clone(),
        customer: OrderCustomer {
            customer_id: order.customer_id.clone(),
            email: customer.email.unwrap_or_default(),
            first_name: customer.first_name.unwrap_or_default(),
            last_name: customer.last_name.unwrap_or_default(),
            company: customer.company,
            phone: customer.phone,
            customer_type: customer
                .customer_type
                .unwrap_or_else(|| "individual".into()),
        },
        billing_address: stored_json(Some(&order.billing_address)),
        shipping_address: stored_json(Some(&order.shipping_address)),
        items,
        totals: Totals {
            subtotal: money(order.subtotal),
            tax_amount: money(order.tax_amount),
            total: money(order.total),
            currency: order.currency.clone(),
            total_devices: order.total_devices,
        },
        custom_fields: stored_json(order.custom_fields.as_deref()),
        rental_progress: RentalProgress {
            total_devices: order.total_devices,
            rented_devices: order.rented_devices,
        },
        rental_ids,
        notes: order.notes.clone(),
        extension_details: order.extension_details.as_deref().and_then(raw_json),
        upgrade_details: order.upgrade_details.as_deref().and_then(raw_json),
        cancellation_reason: order.cancellation_reason.clone(),
        confirmed_at: order.confirmed_at.map(format_instant),
        cancelled_at: order.cancelled_at.map(format_instant),
        created_at: format_instant(order.created_at),
        updated_at: format_instant(order.updated_at),
        created_by: order.created_by.clone(),
    }
}

// ---- requests ----------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomerInput {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    /// `individual` (default) or `business`.
    pub customer_type: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItemInput {
    /// The variant SKU.
    #[serde(alias = "variantSku")]
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    /// Months; the business unit's default contract length when omitted.
    pub contract_length: Option<f64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderInput {
    /// `standard` (default), `extension` or `upgrade`.
    pub order_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub extension_details: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub upgrade_details: Option<serde_json::Value>,
    pub customer: Option<OrderCustomerInput>,
    /// Values of the business unit's order custom fields, by field id.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
    pub billing_address: Option<Address>,
    /// The billing address when omitted.
    pub shipping_address: Option<Address>,
    pub items: Option<Vec<OrderItemInput>>,
    pub notes: Option<String>,
}

const NOTES_MAX: usize = 5000;

/// Checks a details object for its required keys; returns it as stored JSON text.
fn details(
    p: &mut Problems,
    path: &str,
    value: Option<serde_json::Value>,
    required: &[&str],
) -> Option<String> {
    let value = value.filter(|v| !v.is_null())?;
    let Some(object) = value.as_object() else {
        p.add(path, "invalid_type", "must be an object");
        return None;
    };
    for key in required {
        if object.get(*key).is_none_or(serde_json::Value::is_null) {
            p.add(format!("{path}.{key}"), "required", "is required");
        }
    }
    Some(value.to_string())
}

fn new_order(caller: &Caller, input: OrderInput) -> ApiResult<NewOrder> {
    let mut p = Problems::new();
    let order_type =
        one_of(&mut p, "orderType", input.order_type, TYPES).unwrap_or_else(|| "standard".into());
    let customer = match input.customer {
        None => {
            p.add("customer", "required", "is required");
            CustomerFields::default()
        }
        Some(c) => {
            let email = p.required_text("customer.email", c.email, 254);
            if email.as_deref().is_some_and(|e| !is_email(e)) {
                p.add(
                    "customer.email",
                    "invalid_value",
                    "must be an email address",
                );
            }
            CustomerFields {
                email,
                first_name: p.required_text("customer.firstName", c.first_name, 100),
                last_name: p.required_text("customer.lastName", c.last_name, 100),
                company: p.text("customer.company", c.company, 200),
                phone: p.text("customer.phone", c.phone, 50),
                customer_type: one_of(
                    &mut p,
                    "customer.customerType",
                    c.customer_type,
                    &["individual", "business"],
                ),
                ..CustomerFields::default()
            }
        }
    };
    let billing_address = match input.billing_address {
        None => {
            p.add("billingAddress", "required", "is required");
            None
        }
        Some(a) => a.checked(&mut p, "billingAddress"),
    };
    let shipping_address = input
        .shipping_address
        .and_then(|a| a.checked(&mut p, "shippingAddress"));
    let mut items = Vec::new();
    match input.items {
        None => p.add("items", "required", "is required"),
        Some(list) if list.is_empty() => p.add("items", "too_short", "needs at least one item"),
        Some(list) if list.len() > 100 => p.add("items", "too_long", "at most 100 items per order"),
        Some(list) => {
            for (i, item) in list.into_iter().enumerate() {
                let sku = p.required_text(&format!("items.{i}.sku"), item.sku, 100);
                let quantity = match item.quantity {
                    None => {
                        p.add(format!("items.{i}.quantity"), "required", "is required");
                        None
                    }
                    Some(q) if !(1..=1000).contains(&q) => {
                        p.add(
                            format!("items.{i}.quantity"),
                            "out_of_range",
                            "must be between 1 and 1000",
                        );
                        None
                    }
                    Some(q) => Some(q),
                };
                let contract_length = match item.contract_length {
                    Some(m) if m.fract() != 0.0 || !(1.0..=120.0).contains(&m) => {
                        p.add(
                            format!("items.{i}.contractLength"),
                            "out_of_range",
                            "must be a whole number of months from 1 to 120",
                        );
                        None
                    }
                    other => other.map(|m| m as i64),
                };
                if let (Some(sku), Some(quantity)) = (sku, quantity) {
                    items.push(RequestedItem {
                        sku,
                        quantity,
                        contract_length,
                    });
                }
            }
        }
    }
    let custom_fields = match input.custom_fields {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Object(map)) => Some(map),
        Some(_) => {
            p.add("customFields", "invalid_type", "must be an object");
            None
        }
    };
    let definitions = caller
        .business_unit
        .settings()
        .map(|s| s.custom_fields)
        .unwrap_or_default();
    let empty = serde_json::Map::new();
    for (field, message) in custom_value_violations(
        &definitions,
        CustomFieldSection::Order,
        custom_fields.as_ref().unwrap_or(&empty),
    ) {
        p.add(format!("customFields.{field}"), "invalid_value", message);
    }
    let notes = input.notes.filter(|n| {
        let ok = n.chars().count() <= NOTES_MAX;
        if !ok {
            p.add(
                "notes",
                "too_long",
                format!("must be at most {NOTES_MAX} characters"),
            );
        }
        ok
    });
    let extension_details = details(
        &mut p,
        "extensionDetails",
        input.extension_details,
        &[
            "originalOrderId",
            "extensionMonths",
            "previousEndDate",
            "newEndDate",
        ],
    );
    let upgrade_details = details(
        &mut p,
        "upgradeDetails",
        input.upgrade_details,
        &[
            "previousDevice",
            "previousSerialNumber",
            "previousMonthlyAmount",
            "previousRentalId",
        ],
    );
    p.finish()?;
    Ok(NewOrder {
        order_type,
        customer,
        billing_address: billing_address.unwrap_or_default(),
        shipping_address,
        items,
        custom_fields,
        notes,
        extension_details,
        upgrade_details,
        created_by: caller.key.key_id.clone(),
    })
}

// ---- handlers ----------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    pub success: bool,
    pub message: String,
    pub order_id: String,
    pub order: OrderBody,
}

/// Create an order.
///
/// Every line is priced from its variant's tier for the contract length. The customer is found
/// by email (case-insensitive) or created. The same email ordering the same items again within
/// the business unit's `naturalIdempotencyMinutes` gets the first order back with 200.
#[utoipa::path(post, path = "/v1/orders", tag = "Orders", request_body = OrderInput,
    responses(
        (status = 201, description = "Created", body = OrderResponse),
        (status = 200, description = "The same order was placed moments ago; it is returned", body = OrderResponse),
        (status = 400, description = "VALIDATION_ERROR, VARIANT_NOT_FOUND, VARIANT_INACTIVE, INVALID_CONTRACT_LENGTH, CUSTOMER_INACTIVE", body = ErrorBody),
    ))]
pub async fn create_order(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<OrderInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let new = new_order(&caller, input)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let (status, message, order) =
        match store::create(&state.db, &caller.business_unit, new, &shapes).await? {
            Created::New(order) => (StatusCode::CREATED, "Order created", order),
            Created::Existing(order) => (
                StatusCode::OK,
                "The same order was placed moments ago; returning it",
                order,
            ),
        };
    let body = OrderResponse {
        success: true,
        message: message.into(),
        order_id: order.order_id.clone(),
        order: order_body(&order, caller.exponent()),
    };
    Ok((status, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderList {
    pub orders: Vec<OrderBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List orders, newest first by default.
///
/// Filters: `status`, `customerId`, `orderType`, `createdFrom`/`createdTo` (date or instant;
/// from inclusive, to exclusive), and `customField_<id>=<value>` for any order custom field.
#[utoipa::path(get, path = "/v1/orders", tag = "Orders",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query),
        ("sortBy" = Option<String>, Query, description = "createdAt | updatedAt | orderId | status | totals.total"),
        ("sortDir" = Option<String>, Query), ("status" = Option<String>, Query), ("customerId" = Option<String>, Query),
        ("orderType" = Option<String>, Query), ("createdFrom" = Option<String>, Query), ("createdTo" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of orders", body = OrderList)))]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<OrderList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::ORDER_SORTS.iter().map(|(name, _)| *name).collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let mut p = Problems::new();
    let zone = time_zone(&caller.business_unit.timezone);
    let mut instant = |name: &str| {
        query.get(name).and_then(|text| {
            let at = parse_instant(&text, &zone);
            if at.is_none() {
                p.add(
                    name,
                    "invalid_type",
                    "must be a date or an RFC 3339 instant",
                );
            }
            at
        })
    };
    let (created_from, created_to) = (instant("createdFrom"), instant("createdTo"));
    let filters = OrderFilters {
        status: one_of(&mut p, "status", query.get("status"), STATUSES),
        customer_id: query.get("customerId"),
        order_type: one_of(&mut p, "orderType", query.get("orderType"), TYPES),
        custom_fields: query
            .0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("customField_")
                    .map(|id| (id.to_string(), v.clone()))
            })
            .collect(),
        created_from,
        created_to,
    };
    p.finish()?;
    let sort = sort_column(store::ORDER_SORTS, &params.sort_by);
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
    let orders: Vec<OrderBody> = page
        .items
        .iter()
        .map(|o| order_body(o, caller.exponent()))
        .collect();
    Ok(Json(OrderList {
        count: orders.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &orders, |o| &o.order_id),
        orders,
    }))
}

fn not_found(e: flexportal_store::StoreError) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Order"),
        other => other.into(),
    }
}

/// Read one order.
#[utoipa::path(get, path = "/v1/orders/{orderId}", tag = "Orders", params(("orderId" = String, Path)),
    responses((status = 200, description = "The order", body = OrderBody), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderBody>> {
    caller.require(READ)?;
    let order = store::get(&state.db, caller.tenant_id(), &order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Json(order_body(&order, caller.exponent())))
}

#[derive(Deserialize, ToSchema)]
pub struct NotesInput {
    /// Replaces the notes; at most 5000 characters.
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderChanged {
    pub success: bool,
    pub message: String,
    pub order_id: String,
    /// The order after the change.
    pub order: OrderBody,
}

fn changed(order: Order, message: &str, exponent: u32) -> Json<OrderChanged> {
    Json(OrderChanged {
        success: true,
        message: message.into(),
        order_id: order.order_id.clone(),
        order: order_body(&order, exponent),
    })
}

/// Replace an order's notes.
#[utoipa::path(patch, path = "/v1/orders/{orderId}/notes", tag = "Orders", request_body = NotesInput, params(("orderId" = String, Path)),
    responses((status = 200, description = "Notes replaced", body = OrderChanged), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn update_notes(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    JsonBody(input): JsonBody<NotesInput>,
) -> ApiResult<Json<OrderChanged>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    match &input.notes {
        None => p.add("notes", "required", "is required"),
        Some(n) if n.chars().count() > NOTES_MAX => p.add(
            "notes",
            "too_long",
            format!("must be at most {NOTES_MAX} characters"),
        ),
        Some(_) => {}
    }
    p.finish()?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let order = store::set_notes(
        &state.db,
        caller.tenant_id(),
        &order_id,
        &input.notes.unwrap_or_default(),
        &shapes,
    )
    .await
    .map_err(not_found)?;
    Ok(changed(order, "Notes updated", caller.exponent()))
}

/// Confirm a pending order. Refused with 400 `ORDER_NOT_CONFIRMABLE` in any other status.
#[utoipa::path(post, path = "/v1/orders/{orderId}/confirm", tag = "Orders", params(("orderId" = String, Path)),
    responses(
        (status = 200, description = "Confirmed", body = OrderChanged),
        (status = 400, description = "ORDER_NOT_CONFIRMABLE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn confirm_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> ApiResult<Json<OrderChanged>> {
    caller.require(WRITE)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let order = store::confirm(&state.db, caller.tenant_id(), &order_id, &shapes)
        .await
        .map_err(not_found)?;
    Ok(changed(order, "Order confirmed", caller.exponent()))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CancelInput {
    /// Why; at most 1000 characters.
    pub reason: Option<String>,
}

/// Cancel a pending or confirmed order that has no rentals.
#[utoipa::path(post, path = "/v1/orders/{orderId}/cancel", tag = "Orders", request_body = CancelInput, params(("orderId" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = OrderChanged),
        (status = 400, description = "ORDER_NOT_CANCELLABLE or ALREADY_CANCELLED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<OrderChanged>> {
    caller.require(WRITE)?;
    // The body is optional: an empty one cancels without a reason.
    let input: CancelInput = if body.iter().all(u8::is_ascii_whitespace) {
        CancelInput::default()
    } else {
        crate::input::parse_json(&body)?
    };
    let mut p = Problems::new();
    let reason = p.text("reason", input.reason, 1000);
    p.finish()?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let order = store::cancel(&state.db, caller.tenant_id(), &order_id, reason, &shapes)
        .await
        .map_err(not_found)?;
    Ok(changed(order, "Order cancelled", caller.exponent()))
}
