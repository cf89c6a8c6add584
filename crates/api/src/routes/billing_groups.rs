//! `/v1/billing-groups`: one business customer's rentals billed together, one consolidated
//! payment a month on the group's billing day.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::billing_groups::valid_billing_day;
use flexportal_domain::money::major_json;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::format_instant;
use flexportal_store::StoreError;
use flexportal_store::billing_groups::{
    self as store, GroupChanges, GroupFilters, GroupView, NewGroup,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of};
use crate::pipeline::Caller;
use crate::routes::next_cursor;
use crate::routes::shapes::Shapes;

const READ: Required = Required::read("billing_groups");
const WRITE: Required = Required::write("billing_groups");
const STATUSES: &[&str] = &["active", "inactive"];

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupBody {
    pub billing_group_id: String,
    pub tenant_id: String,
    pub customer_id: String,
    pub group_name: String,
    /// The active rentals in the group.
    pub rental_ids: Vec<String>,
    /// Day of the month its payment is issued, 1–28.
    pub billing_day: i64,
    /// The members' monthly amounts added up.
    #[schema(value_type = f64)]
    pub total_monthly_amount: serde_json::Value,
    pub active_rental_count: usize,
    pub currency: String,
    /// `active` or `inactive` (an inactive group bills no one; its members pay on their own).
    pub status: String,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn group_body(view: &GroupView, exponent: u32) -> BillingGroupBody {
    let g = &view.group;
    BillingGroupBody {
        billing_group_id: g.billing_group_id.clone(),
        tenant_id: g.tenant_id.clone(),
        customer_id: g.customer_id.clone(),
        group_name: g.group_name.clone(),
        rental_ids: view.rental_ids.clone(),
        billing_day: g.billing_day,
        total_monthly_amount: major_json(view.total_monthly_amount, exponent),
        active_rental_count: view.rental_ids.len(),
        currency: g.currency.clone(),
        status: g.status.clone(),
        created_by: g.created_by.clone(),
        notes: g.notes.clone(),
        created_at: format_instant(g.created_at),
        updated_at: format_instant(g.updated_at),
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupInput {
    pub customer_id: Option<String>,
    pub group_name: Option<String>,
    pub billing_day: Option<i64>,
    /// On update, replaces the membership.
    pub rental_ids: Option<Vec<String>>,
    pub notes: Option<String>,
    /// Update only: `active` or `inactive`.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupChanged {
    pub success: bool,
    pub message: String,
    pub billing_group: BillingGroupBody,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupResponse {
    pub success: bool,
    pub billing_group: BillingGroupBody,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupList {
    pub success: bool,
    pub billing_groups: Vec<BillingGroupBody>,
    pub count: usize,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupDeleted {
    pub success: bool,
    pub message: String,
}

/// `INVALID_BILLING_DAY` has its own code; it is checked once the rest of the body is valid.
fn billing_day(day: Option<i64>) -> Result<Option<i64>, ApiError> {
    match day {
        Some(day) if !valid_billing_day(day) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_BILLING_DAY",
            "billingDay must be a day every month has: 1 to 28",
        )),
        other => Ok(other),
    }
}

fn rental_ids(p: &mut Problems, ids: Option<Vec<String>>, required: bool) -> Option<Vec<String>> {
    let Some(ids) = ids else {
        if required {
            p.add(
                "rentalIds",
                "required",
                "at least one subscription is required",
            );
        }
        return None;
    };
    if required && ids.is_empty() {
        p.add(
            "rentalIds",
            "too_short",
            "at least one subscription is required",
        );
    }
    if ids.len() > 1000 {
        p.add("rentalIds", "too_long", "at most 1000 subscriptions");
    }
    let mut unique: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Some(unique)
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("Billing group"),
        other => other.into(),
    }
}

/// Create a billing group. Its members' unpaid months from the next billing day on are billed
/// together.
#[utoipa::path(post, path = "/v1/billing-groups", tag = "Billing Groups", request_body = BillingGroupInput,
    responses(
        (status = 201, description = "Created", body = BillingGroupChanged),
        (status = 400, description = "VALIDATION_ERROR, CUSTOMER_NOT_FOUND, SUBSCRIPTION_NOT_FOUND, SUBSCRIPTION_DIFFERENT_CUSTOMER, SUBSCRIPTION_NOT_ACTIVE, INVALID_BILLING_DAY", body = ErrorBody),
    ))]
pub async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<BillingGroupInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let customer_id = p.required_text("customerId", input.customer_id, 100);
    let group_name = p.required_text("groupName", input.group_name, 200);
    if input.billing_day.is_none() {
        p.add("billingDay", "required", "billingDay is required");
    }
    let members = rental_ids(&mut p, input.rental_ids, true);
    let notes = p.text("notes", input.notes, 5000);
    p.finish()?;
    let day = billing_day(input.billing_day)?.unwrap_or(1);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let view = store::create(
        &state.db,
        caller.tenant_id(),
        &caller.business_unit.currency,
        NewGroup {
            customer_id: customer_id.unwrap_or_default(),
            group_name: group_name.unwrap_or_default(),
            billing_day: day,
            rental_ids: members.unwrap_or_default(),
            notes,
            created_by: caller.key.key_id.clone(),
        },
        &shapes,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(BillingGroupChanged {
            success: true,
            message: format!("Billing group {} created", view.group.billing_group_id),
            billing_group: group_body(&view, caller.exponent()),
        }),
    )
        .into_response())
}

/// List billing groups, newest first; filters `customerId` and `status`.
#[utoipa::path(get, path = "/v1/billing-groups", tag = "Billing Groups",
    params(
        ("customerId" = Option<String>, Query), ("status" = Option<String>, Query),
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query), ("sortDir" = Option<String>, Query),
    ),
    responses((status = 200, description = "Billing groups", body = BillingGroupList)))]
pub async fn list_groups(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<BillingGroupList>> {
    caller.require(READ)?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    let mut p = Problems::new();
    let status = one_of(&mut p, "status", query.get("status"), STATUSES);
    p.finish()?;
    let page = store::list(
        &state.db,
        caller.tenant_id(),
        GroupFilters {
            customer_id: query.get("customerId"),
            status,
        },
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let groups: Vec<BillingGroupBody> = page
        .items
        .iter()
        .map(|v| group_body(v, caller.exponent()))
        .collect();
    Ok(Json(BillingGroupList {
        success: true,
        count: groups.len(),
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &groups, |g| &g.billing_group_id),
        billing_groups: groups,
    }))
}

#[utoipa::path(get, path = "/v1/billing-groups/{billingGroupId}", tag = "Billing Groups", params(("billingGroupId" = String, Path)),
    responses((status = 200, description = "The billing group", body = BillingGroupResponse), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(group_id): Path<String>,
) -> ApiResult<Json<BillingGroupResponse>> {
    caller.require(READ)?;
    let view = store::get(&state.db, caller.tenant_id(), &group_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Billing group"))?;
    Ok(Json(BillingGroupResponse {
        success: true,
        billing_group: group_body(&view, caller.exponent()),
    }))
}

/// Rename, move the billing day, replace the membership, (de)activate or annotate a group. Only
/// months not yet issued and unpaid are billed anew.
#[utoipa::path(patch, path = "/v1/billing-groups/{billingGroupId}", tag = "Billing Groups", params(("billingGroupId" = String, Path)),
    request_body = BillingGroupInput,
    responses(
        (status = 200, description = "Updated", body = BillingGroupChanged),
        (status = 400, description = "VALIDATION_ERROR, SUBSCRIPTION_NOT_FOUND, SUBSCRIPTION_DIFFERENT_CUSTOMER, SUBSCRIPTION_NOT_ACTIVE, INVALID_BILLING_DAY", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn update_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(group_id): Path<String>,
    JsonBody(input): JsonBody<BillingGroupInput>,
) -> ApiResult<Json<BillingGroupChanged>> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    if input.customer_id.is_some() {
        p.add(
            "customerId",
            "immutable",
            "a group's customer cannot change",
        );
    }
    let group_name = p.text("groupName", input.group_name, 200);
    let members = rental_ids(&mut p, input.rental_ids, false);
    let notes = p.text("notes", input.notes, 5000);
    let status = one_of(&mut p, "status", input.status, STATUSES);
    p.finish()?;
    let day = billing_day(input.billing_day)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let view = store::update(
        &state.db,
        caller.tenant_id(),
        &group_id,
        GroupChanges {
            group_name,
            billing_day: day,
            rental_ids: members,
            notes,
            status,
        },
        &shapes,
    )
    .await
    .map_err(not_found)?;
    Ok(Json(BillingGroupChanged {
        success: true,
        message: format!("Billing group {group_id} updated"),
        billing_group: group_body(&view, caller.exponent()),
    }))
}

/// Delete a group: its members pay on their own again from the next month not yet issued; what
/// was billed or paid stays as it was.
#[utoipa::path(delete, path = "/v1/billing-groups/{billingGroupId}", tag = "Billing Groups", params(("billingGroupId" = String, Path)),
    responses((status = 200, description = "Deleted", body = BillingGroupDeleted), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(group_id): Path<String>,
) -> ApiResult<Json<BillingGroupDeleted>> {
    caller.require(WRITE)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    store::delete(&state.db, caller.tenant_id(), &group_id, &shapes)
        .await
        .map_err(not_found)?;
    Ok(Json(BillingGroupDeleted {
        success: true,
        message: format!("Billing group {group_id} deleted"),
    }))
}
