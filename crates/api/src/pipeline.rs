//! What every `/v1` request passes through before its handler: body limit, bearer auth, the
//! tenant check, the rate limit, key usage, and `Idempotency-Key`.

use axum::body::{Body, Bytes, to_bytes};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flexportal_domain::api_key;
use flexportal_domain::permissions::{self, Required};
use flexportal_domain::tier::Tier;
use flexportal_domain::time::now_micros;
use flexportal_store::idempotency::{self, Claim};
use flexportal_store::tenancy::{self, ApiKey, BusinessUnit, Organization};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::rate_limit::Decision;

pub const JSON_LIMIT: usize = 1024 * 1024;
pub const CSV_LIMIT: usize = 10 * 1024 * 1024 + 64 * 1024;

/// Who is calling, and for which business unit: a handle, since every request hands its caller
/// from the cache to the pipeline to the handler.
#[derive(Clone)]
pub struct Caller(Arc<Verified>);

/// What the key lookup established.
pub struct Verified {
    pub key: ApiKey,
    pub permissions: Vec<String>,
    pub organization: Organization,
    pub business_unit: BusinessUnit,
}

impl std::ops::Deref for Caller {
    type Target = Verified;

    fn deref(&self) -> &Verified {
        &self.0
    }
}

impl From<Verified> for Caller {
    fn from(verified: Verified) -> Caller {
        Caller(Arc::new(verified))
    }
}

impl Caller {
    pub fn tenant_id(&self) -> &str {
        &self.business_unit.tenant_id
    }

    pub fn require(&self, required: Required) -> Result<(), ApiError> {
        if permissions::allows(&self.permissions, required) {
            Ok(())
        } else {
            Err(ApiError::insufficient_permissions(&required.to_string()))
        }
    }

    /// Decimal places of the business unit's currency.
    pub fn exponent(&self) -> u32 {
        flexportal_domain::money::currency_exponent(&self.business_unit.currency)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(ApiError::internal)
    }
}

fn body_limit(path: Option<&str>) -> usize {
    match path {
        Some("/v1/products/csv") => CSV_LIMIT,
        Some("/v1/files") => crate::routes::files::UPLOAD_LIMIT,
        _ => JSON_LIMIT,
    }
}

pub async fn v1(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (caller, decision) = match authenticate(&state, request.headers()).await {
        Ok(found) => found,
        Err(e) => return refused_before_auth(&state, &request, e),
    };
    let policy = caller.organization.tier.clone();
    let mut response = if !decision.allowed {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "Too many requests; retry in {} s",
                decision.retry_after_secs
            ),
        );
        e.retry_after_secs = Some(decision.retry_after_secs);
        e.into_response()
    } else {
        state.key_usage.record(&caller.key.key_id);
        admitted(&state, caller, request, next).await
    };
    rate_limit_headers(response.headers_mut(), &decision, &policy);
    response
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Caller, Decision), ApiError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(ApiError::auth_required)?;
    let tenant_id = headers
        .get("tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let secret_hash = api_key::hash_secret(secret);
    let caller = match state.auth_cache.get(&secret_hash, tenant_id) {
        Some(caller) if caller.key.is_usable_at(now_micros()) => caller,
        Some(_) => return Err(ApiError::invalid_token()),
        None => {
            let generation = state.auth_cache.generation();
            let caller = look_up(state, secret, tenant_id).await?;
            state.auth_cache.keep(generation, secret_hash, &caller);
            caller
        }
    };
    let tier = Tier::parse(&caller.organization.tier).unwrap_or(Tier::Starter);
    let decision = state.limiter.check(
        &caller.organization.organization_id,
        tier.requests_per_minute(state.fair_use_per_minute),
    );
    Ok((caller, decision))
}

/// The caller as the database has it, for a secret and business unit the cache does not know.
async fn look_up(state: &AppState, secret: &str, tenant_id: &str) -> Result<Caller, ApiError> {
    let found = tenancy::authenticate(&state.db, secret, tenant_id, &state.region)
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let (key, organization) = (found.key, found.organization);
    if !key.is_usable_at(now_micros()) {
        return Err(ApiError::invalid_token());
    }
    // Missing, unknown, other-region, other-organization and not-allowed units all look the same.
    let business_unit = found
        .business_unit
        .filter(|bu| key.may_use(&bu.tenant_id))
        .ok_or_else(ApiError::no_tenant_access)?;
    let permissions = key.permissions();
    Ok(Caller::from(Verified {
        key,
        permissions,
        organization,
        business_unit,
    }))
}

/// Failed authentication is limited per client address, so keys and tenant ids cannot be
/// guessed at speed; a well-configured client never touches this budget.
const FAILED_AUTH_PER_MINUTE: u32 = 300;

fn refused_before_auth(state: &AppState, request: &Request, error: ApiError) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let decision = state
        .limiter
        .check(&format!("failed-auth:{address}"), FAILED_AUTH_PER_MINUTE);
    let mut response = if decision.allowed {
        error.into_response()
    } else {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "Too many failed authentications; retry in {} s",
                decision.retry_after_secs
            ),
        );
        e.retry_after_secs = Some(decision.retry_after_secs);
        e.into_response()
    };
    rate_limit_headers(response.headers_mut(), &decision, "failed-auth");
    response
}

fn rate_limit_headers(headers: &mut HeaderMap, d: &Decision, policy: &str) {
    let pairs = [
        (
            "ratelimit-policy",
            format!("\"{policy}\";q={};w=60", d.limit),
        ),
        (
            "ratelimit",
            format!("\"{policy}\";r={};t={}", d.remaining, d.reset_secs),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
}

async fn admitted(state: &AppState, caller: Caller, request: Request, next: Next) -> Response {
    let limit = body_limit(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        discard(request.into_body()).await;
        return too_large(limit);
    }
    let (mut parts, body) = request.into_parts();
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(limit),
    };
    let idempotency_key = (parts.method == Method::POST)
        .then(|| {
            parts
                .headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .flatten();
    let Some(key) = idempotency_key else {
        parts.extensions.insert(caller);
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let tenant_id = caller.tenant_id().to_string();
    parts.extensions.insert(caller);
    if key.is_empty() || key.len() > 255 {
        return ApiError::field(
            "Idempotency-Key",
            "invalid_value",
            "must be 1 to 255 characters",
        )
        .into_response();
    }
    let hash = request_hash(&parts, &bytes);
    match idempotency::claim(&state.db, &tenant_id, &key, &hash).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::DifferentRequest) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used with a different request",
        )
        .into_response(),
        Ok(Claim::InFlight) => ApiError::new(
            StatusCode::CONFLICT,
            "IDEMPOTENCY_KEY_IN_USE",
            "A request with this Idempotency-Key is still being processed",
        )
        .into_response(),
        Ok(Claim::Replay {
            status,
            content_type,
            body,
        }) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Claimed) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            settle(state, &tenant_id, &key, response).await
        }
    }
}

/// Stores the outcome of a claimed request, or releases the claim after a server error so the
/// client's retry runs again.
async fn settle(state: &AppState, tenant_id: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = idempotency::release(&state.db, tenant_id, key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes: Bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return ApiError::internal().into_response(),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    if let Err(e) = idempotency::complete(
        &state.db,
        tenant_id,
        key,
        status.as_u16(),
        &content_type,
        &bytes,
    )
    .await
    {
        tracing::warn!(error = %e, "could not store an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Bytes of an oversized body read and thrown away before answering 413: a client still
/// sending when the connection closes would see a reset instead of the answer. Beyond this the
/// connection is simply closed.
const DISCARD_AT_MOST: usize = 64 * 1024 * 1024;

async fn discard(body: Body) {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut seen = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > DISCARD_AT_MOST {
            break;
        }
    }
}

/// The rest of an oversized body is not kept, so the connection cannot carry another request.
fn too_large(limit: usize) -> Response {
    let mut response = ApiError::payload_too_large(limit).into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn request_hash(parts: &Parts, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    flexportal_domain::hex::lower(&hasher.finalize())
}
