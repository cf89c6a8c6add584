//! `/v1/api-keys`: keys of the caller's organization. Secrets are shown once, at creation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::permissions::{self, Access, Required};
use flexportal_domain::time::{format_instant, now_micros, parse_instant};
use flexportal_store::tenancy::{self, ApiKey, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams};
use crate::pipeline::Caller;
use crate::routes::next_cursor;

const READ: Required = Required::read("api_keys");
const WRITE: Required = Required::write("api_keys");

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyBody {
    pub key_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    /// The business units the key may act for; `null` means all of the organization's.
    pub business_unit_ids: Option<Vec<String>>,
    pub last_used_at: Option<String>,
    pub usage_count: i64,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The key that created this one, if it was created through the API.
    pub created_by: Option<String>,
}

pub fn key_body(k: &ApiKey) -> ApiKeyBody {
    ApiKeyBody {
        key_id: k.key_id.clone(),
        name: k.name.clone(),
        permissions: k.permissions(),
        business_unit_ids: k.business_unit_ids(),
        last_used_at: k.last_used_at.map(format_instant),
        usage_count: k.usage_count,
        created_at: format_instant(k.created_at),
        expires_at: k.expires_at.map(format_instant),
        revoked_at: k.revoked_at.map(format_instant),
        created_by: k.created_by.clone(),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyList {
    pub success: bool,
    pub api_keys: Vec<ApiKeyBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// List the organization's API keys, newest first. Secrets are never returned.
#[utoipa::path(get, path = "/v1/api-keys", tag = "API keys",
    params(("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query)),
    responses((status = 200, description = "A page of keys", body = ApiKeyList)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<ApiKeyList>> {
    caller.require(READ)?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    state.key_usage.flush(&state.db).await;
    let page = tenancy::list_api_keys(
        &state.db,
        &caller.organization.organization_id,
        params.limit,
        params.start_after,
    )
    .await?;
    let has_more = page.has_more;
    let keys = page.items;
    let api_keys: Vec<ApiKeyBody> = keys.iter().map(key_body).collect();
    Ok(Json(ApiKeyList {
        success: true,
        count: api_keys.len(),
        limit: params.limit,
        has_more,
        next_cursor: next_cursor(has_more, &api_keys, |k| &k.key_id),
        api_keys,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInput {
    pub name: Option<String>,
    /// `<resource>:read`, `<resource>:write`, `<resource>:*` or `*`. A key can grant only what it
    /// holds itself.
    pub permissions: Option<Vec<String>>,
    /// Business units the new key may act for; omitted or null for all.
    pub business_unit_ids: Option<Vec<String>>,
    /// RFC 3339 instant or date after which the key stops working.
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    pub success: bool,
    pub message: String,
    pub key_id: String,
    pub api_key: ApiKeyBody,
    /// The secret. It is shown only in this response; store it now.
    pub secret: String,
}

/// Create an API key. The response is the only place its secret ever appears.
#[utoipa::path(post, path = "/v1/api-keys", tag = "API keys", request_body = ApiKeyInput,
    responses((status = 201, description = "Created", body = ApiKeyCreated)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<ApiKeyInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let name = p.required_text("name", input.name, 100);
    let permissions = input.permissions.unwrap_or_else(|| {
        p.add("permissions", "required", "is required");
        Vec::new()
    });
    for (i, perm) in permissions.iter().enumerate() {
        if !permissions::is_valid(perm) {
            p.add(
                format!("permissions.{i}"),
                "invalid_value",
                "must be '*' or '<resource>:read|write|*'",
            );
        }
    }
    let units =
        tenancy::list_business_units(&state.db, &caller.organization.organization_id).await?;
    if let Some(ids) = &input.business_unit_ids {
        for (i, id) in ids.iter().enumerate() {
            if !units
                .iter()
                .any(|u| &u.tenant_id == id && u.region == state.region)
            {
                p.add(
                    format!("businessUnitIds.{i}"),
                    "invalid_value",
                    "is not a business unit of this organization",
                );
            }
        }
    }
    let zone = flexportal_domain::time::time_zone(&caller.business_unit.timezone);
    let expires_at = match input.expires_at {
        None => None,
        Some(text) => match parse_instant(&text, &zone) {
            Some(at) if at > now_micros() => Some(at),
            Some(_) => {
                p.add("expiresAt", "invalid_value", "must be in the future");
                None
            }
            None => {
                p.add(
                    "expiresAt",
                    "invalid_type",
                    "must be an RFC 3339 instant or a date",
                );
                None
            }
        },
    };
    p.finish()?;
    // A key must not mint a key more powerful than itself.
    for perm in &permissions {
        if !grants(&caller.permissions, perm) {
            return Err(ApiError::insufficient_permissions(perm));
        }
    }
    let business_unit_ids = match (input.business_unit_ids, caller.key.business_unit_ids()) {
        (Some(wanted), Some(own)) if wanted.iter().any(|w| !own.contains(w)) => {
            return Err(ApiError::insufficient_permissions(
                "access to every named business unit",
            ));
        }
        (None, Some(own)) => Some(own),
        (wanted, _) => wanted,
    };
    let created = tenancy::create_api_key(
        &state.db,
        &caller.organization.organization_id,
        caller.tenant_id(),
        &state.region,
        NewApiKey {
            name: name.unwrap_or_default(),
            permissions,
            business_unit_ids,
            expires_at,
            created_by: Some(caller.key.key_id.clone()),
        },
    )
    .await?;
    let body = ApiKeyCreated {
        success: true,
        message: "API key created; its secret is shown only now".into(),
        key_id: created.key.key_id.clone(),
        api_key: key_body(&created.key),
        secret: created.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn grants(held: &[String], wanted: &str) -> bool {
    if wanted == "*" {
        return held.iter().any(|h| h == "*");
    }
    let Some((resource, access)) = wanted.split_once(':') else {
        return false;
    };
    let Some(resource) = permissions::RESOURCES.iter().find(|r| **r == resource) else {
        return false;
    };
    let needs = match access {
        "read" => vec![Access::Read],
        _ => vec![Access::Read, Access::Write],
    };
    needs.into_iter().all(|a| {
        permissions::allows(
            held,
            Required {
                resource,
                access: a,
            },
        )
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRevoked {
    pub success: bool,
    pub message: String,
    pub key_id: String,
    pub api_key: ApiKeyBody,
}

/// Revoke an API key. It stops working at once; revoking it again changes nothing. The key
/// making the request cannot revoke itself.
#[utoipa::path(delete, path = "/v1/api-keys/{keyId}", tag = "API keys",
    params(("keyId" = String, Path)),
    responses(
        (status = 200, description = "Revoked", body = ApiKeyRevoked),
        (status = 400, description = "VALIDATION_ERROR: the key revoking itself", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(key_id): Path<String>,
) -> ApiResult<Json<ApiKeyRevoked>> {
    caller.require(WRITE)?;
    // A key revoking itself could lock its organization out; another key (or the CLI) does it.
    if key_id == caller.key.key_id {
        return Err(ApiError::field(
            "keyId",
            "self_revocation",
            "a key cannot revoke itself; revoke it with another key",
        ));
    }
    let key = tenancy::revoke_api_key(
        &state.db,
        &caller.organization.organization_id,
        caller.tenant_id(),
        &key_id,
    )
    .await
    .map_err(|e| match e {
        flexportal_store::StoreError::NotFound => ApiError::not_found("API key"),
        other => other.into(),
    })?;
    state.auth_cache.invalidate();
    Ok(Json(ApiKeyRevoked {
        success: true,
        message: "API key revoked".into(),
        key_id: key.key_id.clone(),
        api_key: key_body(&key),
    }))
}
