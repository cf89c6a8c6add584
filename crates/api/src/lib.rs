//! The HTTP API of flexportal: the FlexPortal v1 routes and our extensions, the request pipeline,
//! and the OpenAPI document generated from the handlers.

pub mod auth_cache;
pub mod contracts;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod json;
pub mod key_usage;
pub mod metrics;
pub mod openapi;
pub mod pipeline;
pub mod rate_limit;
mod routes;

pub use routes::shapes::Shapes;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use flexportal_store::Db;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::key_usage::KeyUsage;
use crate::metrics::Metrics;
use crate::rate_limit::{InProcessLimiter, RateLimiter};

/// Everything a request can reach. axum clones the state for each middleware layer and
/// extractor, several times a request, so it is one `Arc`; configuration before serving
/// changes it in place through `DerefMut`.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    /// In place while this is the only handle; a copy for this handle otherwise.
    fn deref_mut(&mut self) -> &mut App {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub region: String,
    /// Requests per minute for the "unlimited" tiers.
    pub fair_use_per_minute: u32,
    pub limiter: Arc<dyn RateLimiter>,
    pub metrics: Arc<Metrics>,
    pub key_usage: Arc<KeyUsage>,
    /// Callers verified recently; see [`auth_cache`].
    pub auth_cache: Arc<auth_cache::AuthCache>,
    pub webhooks: WebhookPolicy,
    /// Shared with the webhook dispatcher, reported by `/metrics`.
    pub webhook_counters: Arc<flexportal_domain::webhooks::DeliveryCounters>,
    /// A request still running after this long is answered 503; what it had not committed is
    /// rolled back.
    pub request_timeout: std::time::Duration,
    /// A client that has not sent its request head after this long is disconnected.
    pub header_read_timeout: std::time::Duration,
    pub files: FileStorage,
}

/// Where file contents are kept and how links to them are addressed. Links are signed with a
/// key derived from `webhooks.sealing_key`, so servers sharing that key accept each other's.
#[derive(Clone, Debug)]
pub struct FileStorage {
    pub blobs: flexportal_store::blobs::BlobStore,
    /// The address clients reach the server at (e.g. `https://rentals.example.com`), for the
    /// links `POST /v1/files/url` hands out; without it, the request's `Host` over plain HTTP.
    pub public_url: Option<String>,
}

/// How webhook endpoints may be registered and how their secrets are kept.
#[derive(Clone, Debug)]
pub struct WebhookPolicy {
    /// Seals signing secrets at rest; the dispatcher opens them with the same key.
    pub sealing_key: flexportal_domain::sealing::SealingKey,
    /// Allows `http://` targets (tests, local use).
    pub allow_insecure: bool,
    /// Allows targets in private, loopback and link-local networks.
    pub allow_private: bool,
    /// How long a rotated-out secret keeps signing.
    pub rotation_overlap_secs: i64,
    pub host_overrides: flexportal_domain::webhooks::HostOverrides,
}

impl WebhookPolicy {
    /// A strict policy with a key that lives as long as the process: fine for tests, while a
    /// server reads its key from its configuration.
    pub fn ephemeral() -> WebhookPolicy {
        let (key, _) = flexportal_domain::sealing::SealingKey::generate();
        WebhookPolicy {
            sealing_key: key,
            allow_insecure: false,
            allow_private: false,
            rotation_overlap_secs: flexportal_domain::webhooks::ROTATION_OVERLAP_SECS,
            host_overrides: Default::default(),
        }
    }
}

impl AppState {
    pub fn new(db: Db, region: impl Into<String>) -> AppState {
        AppState(Arc::new(App {
            db,
            region: region.into(),
            fair_use_per_minute: 6000,
            limiter: Arc::new(InProcessLimiter::default()),
            metrics: Arc::new(Metrics::default()),
            key_usage: Arc::new(KeyUsage::default()),
            auth_cache: Arc::default(),
            webhooks: WebhookPolicy::ephemeral(),
            webhook_counters: Arc::default(),
            request_timeout: std::time::Duration::from_secs(30),
            header_read_timeout: std::time::Duration::from_secs(10),
            // Kept in memory until the server configures its store.
            files: FileStorage {
                blobs: flexportal_store::blobs::BlobStore::memory(),
                public_url: None,
            },
        }))
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = flexportal_domain::ids::IdKind::Request.generate();
        HeaderValue::from_maybe_shared(axum::body::Bytes::from(id))
            .ok()
            .map(RequestId::new)
    }
}

/// The whole application: `/v1` behind the pipeline, plus health, metrics and docs.
pub fn app(state: AppState) -> Router {
    let (v1, v1_api) = routes::v1().split_for_parts();
    let (ops, ops_api) = routes::ops::documented().split_for_parts();
    let (file_links, file_links_api) = routes::files::public().split_for_parts();
    let (export_links, export_links_api) = routes::exports::public().split_for_parts();
    let v1 = v1.layer(middleware::from_fn_with_state(state.clone(), pipeline::v1));
    let mut document = openapi::finish(v1_api);
    document.merge(ops_api);
    document.merge(file_links_api);
    document.merge(export_links_api);
    Router::new()
        .merge(v1)
        .merge(ops)
        .merge(file_links)
        .merge(export_links)
        .merge(routes::ops::docs(document))
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "This route does not take that method")
        })
        .fallback(|| async { ApiError::not_found("Route") })
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(state, observe))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            // The path only: query strings may carry customer emails. Headers are never logged,
            // so API keys cannot reach the logs.
            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
}

/// Metrics, the region header and the deadline, for every response: one layer rather than
/// two, since each layer costs every request a boxed future and a copy of the service.
///
/// A request that outlives `request_timeout` is answered 503. Dropping the handler drops its
/// open transaction, which rolls back: a timed-out request changes nothing it had not committed.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable(format!(
            "The request did not finish within {} s; retry it",
            state.request_timeout.as_secs_f64()
        ))
        .into_response(),
    };
    state.metrics.observe(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    if let Ok(region) = HeaderValue::from_str(&state.region) {
        response.headers_mut().insert("flexportal-region", region);
    }
    response
}
