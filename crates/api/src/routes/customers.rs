//! `/v1/customers`: the people and companies that rent, with figures derived from their orders,
//! rentals and payments.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::contact::is_email;
use flexportal_domain::money::major_json;
use flexportal_domain::permissions::Required;
use flexportal_domain::settings::{CustomFieldSection, custom_value_violations};
use flexportal_domain::time::format_instant;
use flexportal_store::customers::{self as store, Customer, CustomerFields, CustomerFilters};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::shapes::{Address, Shapes, address_value};
use crate::routes::{next_cursor, sort_column};

const READ: Required = Required::read("customers");
const WRITE: Required = Required::write("customers");
const PAYMENT_TERMS: &[&str] = &["due_immediately", "net_7", "net_14", "net_30"];

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBody {
    pub customer_id: String,
    pub tenant_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub customer_type: String,
    /// For business customers: `due_immediately`, `net_7`, `net_14` or `net_30`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    #[schema(value_type = Object)]
    pub custom_fields: serde_json::Value,
    pub status: String,
    pub total_orders: i64,
    /// Orders neither fulfilled nor cancelled.
    pub open_orders: i64,
    pub active_rentals: i64,
    pub total_devices_rented: i64,
    #[schema(value_type = f64)]
    pub total_monthly_revenue: serde_json::Value,
    #[schema(value_type = f64)]
    pub lifetime_collected: serde_json::Value,
    pub order_ids: Vec<String>,
    pub rental_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_billing_address: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_shipping_address: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
}

pub fn customer_body(c: &Customer, order_ids: Vec<String>, exponent: u32) -> CustomerBody {
    CustomerBody {
        customer_id: c.customer_id.clone(),
        tenant_id: c.tenant_id.clone(),
        email: c.email.clone(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company: c.company.clone(),
        phone: c.phone.clone(),
        customer_type: c.customer_type.clone(),
        payment_terms: c.payment_terms.clone(),
        custom_fields: serde_json::from_str(&c.custom_fields)
            .unwrap_or_else(|_| serde_json::json!({})),
        status: c.status.clone(),
        total_orders: c.total_orders,
        open_orders: c.open_orders,
        active_rentals: c.active_rentals,
        total_devices_rented: c.total_devices_rented,
        total_monthly_revenue: major_json(c.total_monthly_revenue, exponent),
        lifetime_collected: major_json(c.lifetime_collected, exponent),
        order_ids,
        rental_ids: Vec::new(),
        last_billing_address: address_value(c.last_billing_address.as_deref()),
        last_shipping_address: address_value(c.last_shipping_address.as_deref()),
        created_at: format_instant(c.created_at),
        updated_at: format_instant(c.updated_at),
        created_by: c.created_by.clone(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInput {
    /// On update, optional; when given it must be the path's id.
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    /// `individual` or `business`.
    pub customer_type: Option<String>,
    /// `due_immediately`, `net_7`, `net_14` or `net_30`.
    pub payment_terms: Option<String>,
    /// `active` reactivates an inactive customer (update only).
    pub status: Option<String>,
    /// Values of the business unit's customer custom fields, by field id; replaces them all.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
}

fn fields(caller: &Caller, input: CustomerInput, creating: bool) -> ApiResult<CustomerFields> {
    let mut p = Problems::new();
    let text = |p: &mut Problems, path: &str, v: Option<String>, max: usize| {
        if creating {
            p.required_text(path, v, max)
        } else {
            p.text(path, v, max)
        }
    };
    let email = text(&mut p, "email", input.email, 254);
    if email.as_deref().is_some_and(|e| !is_email(e)) {
        p.add("email", "invalid_value", "must be an email address");
    }
    let custom_fields = match input.custom_fields {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Object(map)) => Some(map),
        Some(_) => {
            p.add("customFields", "invalid_type", "must be an object");
            None
        }
    };
    if creating || custom_fields.is_some() {
        let definitions = caller
            .business_unit
            .settings()
            .map(|s| s.custom_fields)
            .unwrap_or_default();
        let empty = serde_json::Map::new();
        for (field, message) in custom_value_violations(
            &definitions,
            CustomFieldSection::Customer,
            custom_fields.as_ref().unwrap_or(&empty),
        ) {
            p.add(format!("customFields.{field}"), "invalid_value", message);
        }
    }
    let result = CustomerFields {
        email,
        first_name: text(&mut p, "firstName", input.first_name, 100),
        last_name: text(&mut p, "lastName", input.last_name, 100),
        company: p.text("company", input.company, 200),
        phone: p.text("phone", input.phone, 50),
        customer_type: one_of(
            &mut p,
            "customerType",
            input.customer_type,
            &["individual", "business"],
        ),
        payment_terms: one_of(&mut p, "paymentTerms", input.payment_terms, PAYMENT_TERMS),
        custom_fields,
        status: one_of(&mut p, "status", input.status, &["active", "inactive"]),
        billing_address: input
            .billing_address
            .and_then(|a| a.checked(&mut p, "billingAddress")),
        shipping_address: input
            .shipping_address
            .and_then(|a| a.checked(&mut p, "shippingAddress")),
    };
    p.finish()?;
    Ok(result)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResponse {
    pub success: bool,
    pub message: String,
    pub customer_id: String,
    pub customer: CustomerBody,
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    customer: Customer,
    message: &str,
    status: StatusCode,
) -> ApiResult<Response> {
    let ids = store::order_ids(&state.db, caller.tenant_id(), &customer.customer_id).await?;
    let body = CustomerResponse {
        success: true,
        message: message.into(),
        customer_id: customer.customer_id.clone(),
        customer: customer_body(&customer, ids, caller.exponent()),
    };
    Ok((status, Json(body)).into_response())
}

/// Create a customer without an order. An email already in use is 409 `DUPLICATE_EMAIL`.
#[utoipa::path(post, path = "/v1/customers", tag = "Customers", request_body = CustomerInput,
    responses((status = 201, description = "Created", body = CustomerResponse), (status = 409, description = "DUPLICATE_EMAIL", body = ErrorBody)))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<CustomerInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let new = fields(&caller, input, true)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let customer = store::create(
        &state.db,
        caller.tenant_id(),
        new,
        &caller.key.key_id,
        &shapes,
    )
    .await?;
    respond(
        &state,
        &caller,
        customer,
        "Customer created",
        StatusCode::CREATED,
    )
    .await
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerList {
    pub customers: Vec<CustomerBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List customers. Filters: `status`, `customerType`, `email` (exact, case-insensitive),
/// `hasActiveRentals` (`true`/`false`).
#[utoipa::path(get, path = "/v1/customers", tag = "Customers",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query),
        ("sortBy" = Option<String>, Query, description = "createdAt | firstName | lastName | email | totalMonthlyRevenue | totalDevicesRented"),
        ("sortDir" = Option<String>, Query), ("status" = Option<String>, Query), ("customerType" = Option<String>, Query),
        ("email" = Option<String>, Query), ("hasActiveRentals" = Option<bool>, Query),
    ),
    responses((status = 200, description = "A page of customers", body = CustomerList)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<CustomerList>> {
    caller.require(READ)?;
    let sorts: Vec<&str> = store::CUSTOMER_SORTS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    let params = ListParams::parse(&query, 50, 100, &sorts)?;
    let mut p = Problems::new();
    let filters = CustomerFilters {
        status: one_of(
            &mut p,
            "status",
            query.get("status"),
            &["active", "inactive"],
        ),
        customer_type: one_of(
            &mut p,
            "customerType",
            query.get("customerType"),
            &["individual", "business"],
        ),
        email: query.get("email"),
        has_active_rentals: one_of(
            &mut p,
            "hasActiveRentals",
            query.get("hasActiveRentals"),
            &["true", "false"],
        )
        .map(|v| v == "true"),
    };
    p.finish()?;
    let sort = sort_column(store::CUSTOMER_SORTS, &params.sort_by);
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
    let ids: Vec<String> = page.items.iter().map(|c| c.customer_id.clone()).collect();
    let mut orders = store::order_ids_of(&state.db, caller.tenant_id(), &ids).await?;
    let customers: Vec<CustomerBody> = page
        .items
        .iter()
        .map(|c| {
            customer_body(
                c,
                orders.remove(&c.customer_id).unwrap_or_default(),
                caller.exponent(),
            )
        })
        .collect();
    Ok(Json(CustomerList {
        count: customers.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &customers, |c| &c.customer_id),
        customers,
    }))
}

fn not_found(e: flexportal_store::StoreError) -> ApiError {
    match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Customer"),
        other => other.into(),
    }
}

/// Read one customer with its figures.
#[utoipa::path(get, path = "/v1/customers/{customerId}", tag = "Customers", params(("customerId" = String, Path)),
    responses((status = 200, description = "The customer", body = CustomerBody), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
) -> ApiResult<Json<CustomerBody>> {
    caller.require(READ)?;
    let customer = store::get(&state.db, caller.tenant_id(), &customer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Customer"))?;
    let ids = store::order_ids(&state.db, caller.tenant_id(), &customer_id).await?;
    Ok(Json(customer_body(&customer, ids, caller.exponent())))
}

/// Update a customer; omitted fields keep their values. `{"status":"active"}` reactivates.
#[utoipa::path(put, path = "/v1/customers/{customerId}", tag = "Customers", request_body = CustomerInput, params(("customerId" = String, Path)),
    responses(
        (status = 200, description = "Updated", body = CustomerResponse),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "DUPLICATE_EMAIL", body = ErrorBody),
    ))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
    JsonBody(input): JsonBody<CustomerInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    if input
        .customer_id
        .as_ref()
        .is_some_and(|id| *id != customer_id)
    {
        return Err(ApiError::field(
            "customerId",
            "invalid_value",
            "must match the customer in the path",
        ));
    }
    let changes = fields(&caller, input, false)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let customer = store::update(
        &state.db,
        caller.tenant_id(),
        &customer_id,
        changes,
        &shapes,
    )
    .await
    .map_err(not_found)?;
    respond(
        &state,
        &caller,
        customer,
        "Customer updated",
        StatusCode::OK,
    )
    .await
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDeleted {
    pub success: bool,
    pub message: String,
    pub customer_id: String,
}

/// Deactivate a customer (soft delete). Refused while it has active rentals
/// (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`) or open orders (`CUSTOMER_HAS_PENDING_ORDERS`).
#[utoipa::path(delete, path = "/v1/customers/{customerId}", tag = "Customers", params(("customerId" = String, Path)),
    responses(
        (status = 200, description = "Deactivated", body = CustomerDeleted),
        (status = 400, description = "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS or CUSTOMER_HAS_PENDING_ORDERS", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn delete_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(customer_id): Path<String>,
) -> ApiResult<Json<CustomerDeleted>> {
    caller.require(WRITE)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let customer = store::deactivate(&state.db, caller.tenant_id(), &customer_id, &shapes)
        .await
        .map_err(not_found)?;
    Ok(Json(CustomerDeleted {
        success: true,
        message: "Customer deactivated".into(),
        customer_id: customer.customer_id,
    }))
}
