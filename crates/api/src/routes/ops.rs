//! Health, readiness and metrics, the OpenAPI document and its docs UI. No authentication.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

/// The operational routes that belong in the OpenAPI document.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The document itself and the docs UI, which reads it; both served from the binary.
pub fn docs(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    let json = serde_json::to_value(&document).unwrap_or_default();
    Router::new()
        .route("/openapi.json", get(move || async move { Json(json) }))
        .merge(SwaggerUi::new("/docs").url("/docs/openapi.json", document))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
    /// `ok` or `unreachable`; readiness only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "Operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: None,
    })
}

/// Readiness: the database answers too. 503 while it does not.
#[utoipa::path(get, path = "/readyz", tag = "Operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        Json(Health {
            status: "ready".into(),
            database: Some("ok".into()),
        })
        .into_response()
    } else {
        let body = Health {
            status: "unavailable".into(),
            database: Some("unreachable".into()),
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// Prometheus metrics: requests and their latencies by method, route and status; webhook
/// deliveries by outcome, the outbox backlog and the age of its oldest row.
#[utoipa::path(get, path = "/metrics", tag = "Operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    use std::sync::atomic::Ordering;
    let mut out = state.metrics.render();
    let counters = &state.webhook_counters;
    out.push_str("# HELP flexportal_webhook_deliveries_total Webhook delivery attempts by outcome.\n# TYPE flexportal_webhook_deliveries_total counter\n");
    for (outcome, value) in [
        ("succeeded", &counters.succeeded),
        ("retried", &counters.retried),
        ("failed", &counters.failed),
    ] {
        let _ = writeln!(
            out,
            "flexportal_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}",
            value.load(Ordering::Relaxed)
        );
    }
    // The backlog is the database's, so every server reports the same figure.
    if let Ok((pending, oldest)) = flexportal_store::webhooks::backlog(&state.db).await {
        let age = oldest.map_or(0.0, |at| {
            (flexportal_domain::time::now_micros() - at).max(0) as f64 / 1e6
        });
        let _ = writeln!(
            out,
            "# HELP flexportal_webhook_outbox_pending Webhook deliveries not yet done.\n# TYPE flexportal_webhook_outbox_pending gauge\nflexportal_webhook_outbox_pending {pending}"
        );
        let _ = writeln!(
            out,
            "# HELP flexportal_webhook_outbox_oldest_age_seconds Age of the oldest pending delivery's event.\n# TYPE flexportal_webhook_outbox_oldest_age_seconds gauge\nflexportal_webhook_outbox_oldest_age_seconds {age}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
