//! `GET /v1/events`: the business unit's change log, newest first.

use crate::json::Json;
use axum::extract::State;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::format_instant;
use flexportal_store::events::{self, EventFilters};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiResult;
use crate::input::{ListParams, QueryParams};
use crate::pipeline::Caller;
use crate::routes::next_cursor;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The resource as its own `GET` returns it, at the time of the change.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub success: bool,
    pub events: Vec<EventBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List events. Filters: `type` (e.g. `product.created`), `resourceId`.
#[utoipa::path(get, path = "/v1/events", tag = "Events",
    params(
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query), ("sortDir" = Option<String>, Query),
        ("type" = Option<String>, Query), ("resourceId" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of events", body = EventList)))]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<EventList>> {
    caller.require(Required::read("events"))?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    let filters = EventFilters {
        event_type: query.get("type"),
        resource_id: query.get("resourceId"),
    };
    let page = events::list(
        &state.db,
        caller.tenant_id(),
        filters,
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let events: Vec<EventBody> = page
        .items
        .into_iter()
        .map(|e| EventBody {
            event_id: e.event_id,
            event_type: e.event_type,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
            created_at: format_instant(e.created_at),
        })
        .collect();
    Ok(Json(EventList {
        success: true,
        count: events.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &events, |e| &e.event_id),
        events,
    }))
}
