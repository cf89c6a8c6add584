//! Health, readiness, metrics, the OpenAPI document and its docs UI. No authentication.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;

pub fn router(document: utoipa::openapi::OpenApi) -> Router<AppState> {
    let json = serde_json::to_value(&document).unwrap_or_default();
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(move || async move { Json(json) }))
        .merge(SwaggerUi::new("/docs").url("/docs/openapi.json", document))
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.db.ping().await {
        Json(serde_json::json!({ "status": "ready", "database": "ok" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "database": "unreachable" })),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
