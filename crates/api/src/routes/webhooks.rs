//! `/v1/webhook-endpoints`: where a business unit's events are delivered, their signing secrets,
//! their delivery log, and sending events again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, now_micros, parse_instant};
use flexportal_domain::webhooks::{EVENT_TYPES, UrlProblem, generate_secret, is_private_target};
use flexportal_store::webhooks::{self as store, EndpointChanges, EndpointView, NewEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams};
use crate::pipeline::Caller;
use crate::routes::next_cursor;

const READ: Required = Required::read("webhooks");
const WRITE: Required = Required::write("webhooks");
const DEFAULT_IN_FLIGHT: i64 = 4;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointBody {
    pub endpoint_id: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The event types delivered; `["*"]` for all of them.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the endpoint stopped receiving: a 410 answer or five days of failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Deliveries sent to this endpoint at the same time, at most.
    pub max_in_flight: i64,
    /// Since when every delivery has failed, while that lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Until when the previous secret still signs alongside the current one, after a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn endpoint_body(view: &EndpointView) -> EndpointBody {
    let e = &view.endpoint;
    EndpointBody {
        endpoint_id: e.endpoint_id.clone(),
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: view.event_types.clone().unwrap_or_else(|| vec!["*".into()]),
        enabled: e.enabled == 1,
        disabled_reason: e.disabled_reason.clone(),
        max_in_flight: e.max_in_flight,
        failing_since: e.failing_since.map(format_instant),
        previous_secret_expires_at: e
            .previous_secret_until
            .filter(|until| *until > now_micros())
            .map(format_instant),
        created_at: format_instant(e.created_at),
        updated_at: format_instant(e.updated_at),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointInput {
    /// `https://…`; plain `http` only when the server allows insecure webhooks.
    pub url: Option<String>,
    pub description: Option<String>,
    /// Event types to deliver; omitted or `["*"]` for all.
    pub event_types: Option<Vec<String>>,
    /// Default `true`.
    pub enabled: Option<bool>,
    /// 1–16, default 4.
    pub max_in_flight: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCreated {
    pub success: bool,
    pub endpoint: EndpointBody,
    /// The signing secret (`whsec_…`), shown this once.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointResponse {
    pub success: bool,
    pub endpoint: EndpointBody,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointList {
    pub success: bool,
    pub endpoints: Vec<EndpointBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// Checks a target URL: https unless allowed otherwise, and no host inside a private network
/// unless allowed (checked again at every send, against DNS rebinding).
async fn check_url(state: &AppState, url: &str) -> Result<(), UrlProblem> {
    let parsed = url::Url::parse(url).map_err(|_| UrlProblem::NotAUrl)?;
    match parsed.scheme() {
        "https" => {}
        "http" if state.webhooks.allow_insecure => {}
        "http" => return Err(UrlProblem::NotHttps),
        _ => return Err(UrlProblem::NotAUrl),
    }
    let host = parsed.host_str().ok_or(UrlProblem::NotAUrl)?;
    if state.webhooks.allow_private {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<std::net::IpAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match state.webhooks.host_overrides.get(host) {
            Some(ips) => ips.to_vec(),
            // A name that does not resolve now may later; only what it resolves to is judged,
            // here and again at every send.
            None => tokio::net::lookup_host((host, port))
                .await
                .map(|found| found.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        },
    };
    match addresses.into_iter().find(|ip| is_private_target(*ip)) {
        Some(ip) => Err(UrlProblem::PrivateTarget(ip)),
        None => Ok(()),
    }
}

fn event_types(p: &mut Problems, value: Option<Vec<String>>) -> Option<Option<Vec<String>>> {
    let types = value?;
    if types.is_empty() || types.iter().any(|t| t == "*") {
        return Some(None);
    }
    let mut chosen = Vec::new();
    for (i, t) in types.into_iter().enumerate() {
        if !EVENT_TYPES.contains(&t.as_str()) {
            p.add(
                format!("eventTypes.{i}"),
                "invalid_value",
                format!("must be one of {}, or *", EVENT_TYPES.join(", ")),
            );
        } else if !chosen.contains(&t) {
            chosen.push(t);
        }
    }
    Some(Some(chosen))
}

fn in_flight(p: &mut Problems, value: Option<i64>) -> Option<i64> {
    let v = value?;
    if !(1..=16).contains(&v) {
        p.add("maxInFlight", "out_of_range", "must be between 1 and 16");
    }
    Some(v)
}

/// Register an endpoint. The signing secret is in the answer, and only there.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "Webhooks", request_body = EndpointInput,
    responses(
        (status = 201, description = "Registered", body = EndpointCreated),
        (status = 400, description = "VALIDATION_ERROR (e.g. a non-https or private target)", body = ErrorBody),
    ))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<EndpointInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let url = p.required_text("url", input.url, 2000);
    let description = p.text("description", input.description, 500);
    let types = event_types(&mut p, input.event_types).unwrap_or(None);
    let max_in_flight = in_flight(&mut p, input.max_in_flight).unwrap_or(DEFAULT_IN_FLIGHT);
    if let Some(url) = &url
        && let Err(problem) = check_url(&state, url).await
    {
        p.add("url", "invalid_url", problem.message());
    }
    p.finish()?;
    let secret = generate_secret();
    let sealed = state
        .webhooks
        .sealing_key
        .seal(&secret)
        .ok_or_else(ApiError::internal)?;
    let view = store::create(
        &state.db,
        caller.tenant_id(),
        NewEndpoint {
            url: url.unwrap_or_default(),
            description,
            event_types: types,
            enabled: input.enabled.unwrap_or(true),
            secret_sealed: sealed,
            max_in_flight,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointCreated {
            success: true,
            endpoint: endpoint_body(&view),
            secret,
        }),
    )
        .into_response())
}

/// List endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "Webhooks",
    params(("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query), ("sortDir" = Option<String>, Query)),
    responses((status = 200, description = "A page of endpoints", body = EndpointList)))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<EndpointList>> {
    caller.require(READ)?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    let page = store::list(
        &state.db,
        caller.tenant_id(),
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let endpoints: Vec<EndpointBody> = page.items.iter().map(endpoint_body).collect();
    Ok(Json(EndpointList {
        success: true,
        count: endpoints.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &endpoints, |e| &e.endpoint_id),
        endpoints,
    }))
}

async fn load(state: &AppState, caller: &Caller, endpoint_id: &str) -> ApiResult<EndpointView> {
    store::get(&state.db, caller.tenant_id(), endpoint_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Webhook endpoint"))
}

#[utoipa::path(get, path = "/v1/webhook-endpoints/{endpointId}", tag = "Webhooks", params(("endpointId" = String, Path)),
    responses((status = 200, description = "The endpoint", body = EndpointResponse), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
) -> ApiResult<Json<EndpointResponse>> {
    caller.require(READ)?;
    let view = load(&state, &caller, &endpoint_id).await?;
    Ok(Json(EndpointResponse {
        success: true,
        endpoint: endpoint_body(&view),
    }))
}

/// Change an endpoint. Enabling a disabled endpoint clears why it was disabled; what failed
/// meanwhile can be sent again with `recover`.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{endpointId}", tag = "Webhooks", request_body = EndpointInput,
    params(("endpointId" = String, Path)),
    responses(
        (status = 200, description = "Updated", body = EndpointResponse),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
    JsonBody(input): JsonBody<EndpointInput>,
) -> ApiResult<Json<EndpointResponse>> {
    caller.require(WRITE)?;
    load(&state, &caller, &endpoint_id).await?;
    let mut p = Problems::new();
    let url = p.text("url", input.url, 2000);
    let description = p.text("description", input.description, 500);
    let types = event_types(&mut p, input.event_types);
    let max_in_flight = in_flight(&mut p, input.max_in_flight);
    if let Some(url) = &url
        && let Err(problem) = check_url(&state, url).await
    {
        p.add("url", "invalid_url", problem.message());
    }
    p.finish()?;
    let view = store::update(
        &state.db,
        caller.tenant_id(),
        &endpoint_id,
        EndpointChanges {
            url,
            description,
            event_types: types,
            enabled: input.enabled,
            max_in_flight,
        },
    )
    .await?;
    Ok(Json(EndpointResponse {
        success: true,
        endpoint: endpoint_body(&view),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    pub success: bool,
    pub message: String,
}

/// Delete an endpoint; what it still had to receive is dropped, its delivery log is kept.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{endpointId}", tag = "Webhooks", params(("endpointId" = String, Path)),
    responses((status = 200, description = "Deleted", body = Done), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
) -> ApiResult<Json<Done>> {
    caller.require(WRITE)?;
    store::delete(&state.db, caller.tenant_id(), &endpoint_id)
        .await
        .map_err(|e| match e {
            flexportal_store::StoreError::NotFound => ApiError::not_found("Webhook endpoint"),
            other => other.into(),
        })?;
    Ok(Json(Done {
        success: true,
        message: format!("Webhook endpoint {endpoint_id} deleted"),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRotated {
    pub success: bool,
    /// The new signing secret, shown this once.
    pub secret: String,
    /// Until then deliveries carry signatures by both the old and the new secret.
    pub previous_secret_expires_at: String,
}

/// Rotate the signing secret. For 24 hours every delivery carries two signatures, by the old and
/// the new secret, so receivers can switch without missing a message.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{endpointId}/rotate-secret", tag = "Webhooks", params(("endpointId" = String, Path)),
    responses((status = 200, description = "Rotated", body = SecretRotated), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
) -> ApiResult<Json<SecretRotated>> {
    caller.require(WRITE)?;
    load(&state, &caller, &endpoint_id).await?;
    let secret = generate_secret();
    let sealed = state
        .webhooks
        .sealing_key
        .seal(&secret)
        .ok_or_else(ApiError::internal)?;
    let until = now_micros() + state.webhooks.rotation_overlap_secs * 1_000_000;
    store::rotate_secret(&state.db, caller.tenant_id(), &endpoint_id, &sealed, until).await?;
    Ok(Json(SecretRotated {
        success: true,
        secret,
        previous_secret_expires_at: format_instant(until),
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub success: bool,
    /// The event sent (for `test`: the new `ping` event).
    pub event_id: String,
    /// Deliveries queued.
    pub queued: u64,
}

/// Send a `ping` event to this endpoint (enabled or not), through the normal delivery path.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{endpointId}/test", tag = "Webhooks", params(("endpointId" = String, Path)),
    responses((status = 200, description = "Queued", body = Queued), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn test_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
) -> ApiResult<Json<Queued>> {
    caller.require(WRITE)?;
    load(&state, &caller, &endpoint_id).await?;
    let event_id = store::ping(&state.db, caller.tenant_id(), &endpoint_id).await?;
    Ok(Json(Queued {
        success: true,
        event_id,
        queued: 1,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoverInput {
    /// Events since this instant (RFC 3339) whose delivery failed are sent again.
    pub since: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recovered {
    pub success: bool,
    /// Failed deliveries queued again.
    pub queued: u64,
}

/// Send again everything that failed for good to this endpoint since a time.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{endpointId}/recover", tag = "Webhooks", request_body = RecoverInput,
    params(("endpointId" = String, Path)),
    responses(
        (status = 200, description = "Queued", body = Recovered),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn recover_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
    JsonBody(input): JsonBody<RecoverInput>,
) -> ApiResult<Json<Recovered>> {
    caller.require(WRITE)?;
    load(&state, &caller, &endpoint_id).await?;
    let mut p = Problems::new();
    let since = p.required_text("since", input.since, 100);
    let instant = since
        .as_deref()
        .and_then(|t| parse_instant(t, &jiff::tz::TimeZone::UTC));
    if since.is_some() && instant.is_none() {
        p.add("since", "invalid_type", "must be an RFC 3339 instant");
    }
    p.finish()?;
    let queued = store::recover(
        &state.db,
        caller.tenant_id(),
        &endpoint_id,
        instant.unwrap_or_default(),
    )
    .await?;
    Ok(Json(Recovered {
        success: true,
        queued,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptBody {
    pub attempt_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The `webhook-id` the receiver saw.
    pub message_id: String,
    pub attempted_at: String,
    /// Absent when no answer came (timeout, refused connection, blocked target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub succeeded: bool,
    /// The first KiB of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptList {
    pub success: bool,
    pub deliveries: Vec<AttemptBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// Every delivery attempt to this endpoint, newest first. Filter: `eventId`.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{endpointId}/deliveries", tag = "Webhooks",
    params(
        ("endpointId" = String, Path), ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query),
        ("sortDir" = Option<String>, Query), ("eventId" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of attempts", body = AttemptList), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(endpoint_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<AttemptList>> {
    caller.require(READ)?;
    load(&state, &caller, &endpoint_id).await?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    let page = store::attempts(
        &state.db,
        caller.tenant_id(),
        &endpoint_id,
        query.get("eventId"),
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let deliveries: Vec<AttemptBody> = page
        .items
        .into_iter()
        .map(|a| AttemptBody {
            message_id: flexportal_domain::webhooks::message_id(&a.event_id),
            attempt_id: a.attempt_id,
            event_id: a.event_id,
            event_type: a.event_type,
            attempted_at: format_instant(a.attempted_at),
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            succeeded: a.succeeded == 1,
            response_excerpt: a.response_excerpt,
            error: a.error,
        })
        .collect();
    Ok(Json(AttemptList {
        success: true,
        count: deliveries.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &deliveries, |a| &a.attempt_id),
        deliveries,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayInput {
    /// Only to this endpoint; otherwise to every enabled endpoint subscribed to the event's type.
    pub endpoint_id: Option<String>,
}

/// Send an event again, under its original `webhook-id`.
#[utoipa::path(post, path = "/v1/events/{eventId}/replay", tag = "Webhooks", request_body = ReplayInput,
    params(("eventId" = String, Path)),
    responses(
        (status = 200, description = "Queued", body = Queued),
        (status = 400, description = "WEBHOOK_ENDPOINT_NOT_FOUND", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn replay_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(event_id): Path<String>,
    JsonBody(input): JsonBody<ReplayInput>,
) -> ApiResult<Json<Queued>> {
    caller.require(WRITE)?;
    let queued = store::replay(
        &state.db,
        caller.tenant_id(),
        &event_id,
        input.endpoint_id.as_deref(),
    )
    .await
    .map_err(|e| match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("Event"),
        other => other.into(),
    })?;
    Ok(Json(Queued {
        success: true,
        event_id,
        queued: queued as u64,
    }))
}
