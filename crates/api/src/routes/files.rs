//! `/v1/files`: documents kept for orders (upload, list, read, delete), signed links to their
//! contents, and `/files/{fileId}/content`, the route those links point at, which needs no API
//! key because the link's signature is the permission.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::file_links::{
    DEFAULT_TTL_MINUTES, Link, LinkSigner, MAX_TTL_MINUTES, Refusal, expiry,
};
use flexportal_domain::files::{Disposition, FILE_TYPES, MAX_FILE_BYTES, safe_filename, sniff};
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, now_micros};
use flexportal_store::StoreError;
use flexportal_store::files::{self as store, File, FileFilters, NewFile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::contracts;
use crate::error::{ApiError, ApiResult, Detail, ErrorBody};
use crate::input::{JsonBody, ListParams, Problems, QueryParams, one_of, parse_json};
use crate::pipeline::Caller;
use crate::routes::next_cursor;
use crate::routes::shapes::Shapes;

const READ: Required = Required::read("files");
const WRITE: Required = Required::write("files");

/// An upload body: the file's 25 MiB plus room for the other fields and the multipart framing.
pub const UPLOAD_LIMIT: usize = MAX_FILE_BYTES + 1024 * 1024;

/// The longest `metadata` accepted, in bytes of JSON.
const METADATA_LIMIT: usize = 16 * 1024;

/// The upload and list routes. Uploads take multipart bodies larger than axum's default
/// extractor limit; the pipeline has bounded and buffered them already.
pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file, list_files))
        .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT))
        .routes(routes!(file_url))
        .routes(routes!(generate_contract))
        .routes(routes!(get_file, delete_file))
}

/// The route signed links point at: outside `/v1`, without API key or tenant header.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(file_content))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileBody {
    pub file_id: String,
    pub tenant_id: String,
    pub order_id: String,
    /// The order's customer.
    pub customer_id: String,
    /// `contract`, `invoice`, `document` or `attachment`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// `uploaded` through the API, or `generated` by the server.
    pub category: String,
    /// The name the file is served under.
    pub filename: String,
    /// The name the uploader sent, before anything unsafe was taken out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_filename: Option<String>,
    /// Judged from the bytes, never from what the uploader claimed.
    pub content_type: String,
    /// Bytes.
    pub file_size: i64,
    /// Where the bytes are kept in the file store.
    pub storage_path: String,
    /// The API key (`key_…`) that stored it.
    pub uploaded_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// As given at upload; `{}` when none was.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

pub(crate) fn file_body(file: &File) -> FileBody {
    FileBody {
        file_id: file.file_id.clone(),
        tenant_id: file.tenant_id.clone(),
        order_id: file.order_id.clone(),
        customer_id: file.customer_id.clone(),
        file_type: file.file_type.clone(),
        category: file.category.clone(),
        filename: file.filename.clone(),
        original_filename: file.original_filename.clone(),
        content_type: file.content_type.clone(),
        file_size: file.file_size,
        storage_path: file.storage_path.clone(),
        uploaded_by: file.uploaded_by.clone(),
        created_at: format_instant(file.created_at),
        updated_at: format_instant(file.updated_at),
        metadata: file
            .metadata
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_else(|| serde_json::json!({})),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileCreated {
    pub success: bool,
    pub message: String,
    pub file_id: String,
    pub file: FileBody,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileList {
    pub files: Vec<FileBody>,
    pub count: usize,
    pub limit: i64,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileDeleted {
    pub success: bool,
    pub message: String,
    pub file_id: String,
    /// Whether the contents were removed from the file store too.
    pub deleted_from_storage: bool,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFileInput {
    /// Remove the contents from the file store as well (default `true`); with `false` only the
    /// record goes and the bytes stay where they are.
    pub delete_from_storage: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileUrlInput {
    pub file_id: Option<String>,
    /// `view` (shown in the browser, the default) or `download` (saved).
    pub action: Option<String>,
    /// How long the link works: 1 to 10080 minutes (7 days), default 60.
    pub expires_in_minutes: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileUrl {
    pub success: bool,
    /// Fetch it without credentials until `expiresAt`.
    pub url: String,
    pub filename: String,
    pub content_type: String,
    pub file_size: i64,
    /// Unix epoch milliseconds.
    pub expires_at: i64,
}

/// The multipart form of an upload, as read.
#[derive(Default)]
struct Upload {
    file: Option<(Option<String>, Bytes)>,
    order_id: Option<String>,
    file_type: Option<String>,
    metadata: Option<String>,
}

fn malformed() -> ApiError {
    ApiError::field("", "invalid_value", "the multipart body is malformed")
}

fn file_too_large() -> ApiError {
    ApiError {
        details: vec![Detail::new(
            "file",
            "too_large",
            format!("the file exceeds {MAX_FILE_BYTES} bytes"),
        )],
        ..ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("Files are limited to {MAX_FILE_BYTES} bytes (25 MiB)"),
        )
    }
}

async fn read_upload(request: Request) -> ApiResult<Upload> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::field(
            "",
            "invalid_value",
            "send multipart/form-data with the file in the part named file",
        ));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| malformed())?;
    let mut upload = Upload::default();
    while let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let filename = field.file_name().map(str::to_string);
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        return Err(file_too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                upload.file = Some((filename, Bytes::from(bytes)));
            }
            "orderId" | "type" | "fileType" | "metadata" => {
                let text = field.text().await.map_err(|_| malformed())?;
                let slot = match name.as_str() {
                    "orderId" => &mut upload.order_id,
                    "metadata" => &mut upload.metadata,
                    _ => &mut upload.file_type,
                };
                *slot = Some(text);
            }
            // Other parts are not ours to read; the pipeline has bounded the body already.
            _ => {}
        }
    }
    Ok(upload)
}

/// `metadata`: the text of a JSON object.
fn metadata(p: &mut Problems, text: Option<String>) -> Option<String> {
    let text = text?;
    if text.trim().is_empty() {
        return None;
    }
    if text.len() > METADATA_LIMIT {
        p.add(
            "metadata",
            "too_long",
            format!("must be at most {METADATA_LIMIT} bytes"),
        );
        return None;
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) if value.is_object() => Some(value.to_string()),
        _ => {
            p.add("metadata", "invalid_value", "must be a JSON object");
            None
        }
    }
}

fn not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found("File"),
        other => other.into(),
    }
}

/// Upload a file for an order: `multipart/form-data` with the file in part `file` and the
/// fields `orderId`, `type` (`contract`, `invoice`, `document`, `attachment`) and optionally
/// `metadata` (a JSON object). At most 25 MiB. The content type is judged from the bytes; the
/// one the client sends is ignored.
#[utoipa::path(post, path = "/v1/files", tag = "Files",
    request_body(content_type = "multipart/form-data", content = String,
        description = "Parts: file (the bytes), orderId, type, metadata (optional JSON object)"),
    responses(
        (status = 201, description = "Stored", body = FileCreated),
        (status = 400, description = "VALIDATION_ERROR, ORDER_NOT_FOUND", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE: the file exceeds 25 MiB", body = ErrorBody),
    ))]
pub async fn upload_file(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let upload = read_upload(request).await?;
    let mut p = Problems::new();
    let order_id = p.required_text("orderId", upload.order_id, 100);
    let file_type = match upload.file_type {
        None => {
            p.add("type", "required", "is required");
            None
        }
        Some(t) => one_of(&mut p, "type", Some(t.trim().to_string()), FILE_TYPES),
    };
    let metadata = metadata(&mut p, upload.metadata);
    let file = match upload.file {
        None => {
            p.add("file", "required", "send the file in the part named file");
            None
        }
        Some((_, bytes)) if bytes.is_empty() => {
            p.add("file", "invalid_value", "the file is empty");
            None
        }
        Some(file) => Some(file),
    };
    p.finish()?;
    let (Some(order_id), Some(file_type), Some((original, bytes))) = (order_id, file_type, file)
    else {
        return Err(ApiError::internal());
    };
    let original = original
        .map(|name| name.chars().take(1000).collect::<String>())
        .filter(|name| !name.trim().is_empty());
    let filename = safe_filename(original.as_deref().unwrap_or(""));
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let file = store::create(
        &state.db,
        &state.files.blobs,
        caller.tenant_id(),
        NewFile {
            order_id,
            file_type,
            category: "uploaded",
            filename,
            original_filename: original,
            content_type: sniff(&bytes).to_string(),
            bytes,
            uploaded_by: caller.key.key_id.clone(),
            metadata,
        },
        &shapes,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(FileCreated {
            success: true,
            message: format!("File {} stored", file.file_id),
            file_id: file.file_id.clone(),
            file: file_body(&file),
        }),
    )
        .into_response())
}

/// List files, newest first; filters `orderId`, `type` and `customerId`.
#[utoipa::path(get, path = "/v1/files", tag = "Files",
    params(
        ("orderId" = Option<String>, Query), ("type" = Option<String>, Query), ("customerId" = Option<String>, Query),
        ("limit" = Option<i64>, Query), ("startAfter" = Option<String>, Query), ("sortDir" = Option<String>, Query),
    ),
    responses((status = 200, description = "Files", body = FileList)))]
pub async fn list_files(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<FileList>> {
    caller.require(READ)?;
    let params = ListParams::parse(&query, 50, 100, &["createdAt"])?;
    let mut p = Problems::new();
    let file_type = one_of(
        &mut p,
        "type",
        query.get("type").or_else(|| query.get("fileType")),
        FILE_TYPES,
    );
    p.finish()?;
    let page = store::list(
        &state.db,
        caller.tenant_id(),
        FileFilters {
            order_id: query.get("orderId"),
            file_type,
            customer_id: query.get("customerId"),
        },
        params.descending,
        params.limit,
        params.start_after,
    )
    .await?;
    let files: Vec<FileBody> = page.items.iter().map(file_body).collect();
    Ok(Json(FileList {
        count: files.len(),
        limit: params.limit,
        has_more: page.has_more,
        next_cursor: next_cursor(page.has_more, &files, |f| &f.file_id),
        files,
    }))
}

/// A file's description (not its contents: ask for a signed link for those).
#[utoipa::path(get, path = "/v1/files/{fileId}", tag = "Files", params(("fileId" = String, Path)),
    responses((status = 200, description = "The file", body = FileBody), (status = 404, description = "NOT_FOUND", body = ErrorBody)))]
pub async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(file_id): Path<String>,
) -> ApiResult<Json<FileBody>> {
    caller.require(READ)?;
    let file = store::get(&state.db, caller.tenant_id(), &file_id)
        .await?
        .ok_or_else(|| ApiError::not_found("File"))?;
    Ok(Json(file_body(&file)))
}

/// Delete a file. With `deleteFromStorage` (default `true`) its contents are removed from the
/// file store too; with `false` only the record goes. The flag may also be sent as a query
/// parameter, for clients that cannot send a body with DELETE.
#[utoipa::path(delete, path = "/v1/files/{fileId}", tag = "Files",
    params(("fileId" = String, Path), ("deleteFromStorage" = Option<bool>, Query)),
    request_body(content = Option<DeleteFileInput>),
    responses(
        (status = 200, description = "Deleted", body = FileDeleted),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 500, description = "DELETE_FAILED: the contents could not be removed; nothing was deleted", body = ErrorBody),
    ))]
pub async fn delete_file(
    State(state): State<AppState>,
    caller: Caller,
    Path(file_id): Path<String>,
    query: QueryParams,
    body: Bytes,
) -> ApiResult<Json<FileDeleted>> {
    caller.require(WRITE)?;
    let input: DeleteFileInput = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteFileInput::default()
    } else {
        parse_json(&body)?
    };
    let from_query = match query.get("deleteFromStorage").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::field(
                "deleteFromStorage",
                "invalid_type",
                "must be true or false",
            ));
        }
    };
    let remove_contents = input.delete_from_storage.or(from_query).unwrap_or(true);
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    store::delete(
        &state.db,
        &state.files.blobs,
        caller.tenant_id(),
        &file_id,
        remove_contents,
        &shapes,
    )
    .await
    .map_err(|e| match e {
        StoreError::Blob(reason) => {
            tracing::error!(%reason, "could not remove a file's contents");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "DELETE_FAILED",
                "The file's contents could not be removed from storage; nothing was deleted. Retry the request.",
            )
        }
        other => not_found(other),
    })?;
    Ok(Json(FileDeleted {
        success: true,
        message: format!("File {file_id} deleted"),
        file_id,
        deleted_from_storage: remove_contents,
    }))
}

/// A signed link to a file's contents that works without an API key until it expires:
/// `view` shows the file in the browser, `download` saves it.
#[utoipa::path(post, path = "/v1/files/url", tag = "Files", request_body = FileUrlInput,
    responses(
        (status = 200, description = "The link", body = FileUrl),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn file_url(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(input): JsonBody<FileUrlInput>,
) -> ApiResult<Json<FileUrl>> {
    caller.require(READ)?;
    let mut p = Problems::new();
    let file_id = p.required_text("fileId", input.file_id, 100);
    let disposition = match input.action.as_deref() {
        None => Some(Disposition::View),
        Some(action) => {
            let parsed = Disposition::parse(action);
            if parsed.is_none() {
                p.add("action", "invalid_value", "must be one of: view, download");
            }
            parsed
        }
    };
    let minutes = match input.expires_in_minutes {
        None => Some(DEFAULT_TTL_MINUTES),
        Some(m) if m.fract() == 0.0 && (1.0..=MAX_TTL_MINUTES as f64).contains(&m) => {
            Some(m as i64)
        }
        Some(_) => {
            p.add(
                "expiresInMinutes",
                "out_of_range",
                format!("must be a whole number of minutes from 1 to {MAX_TTL_MINUTES} (7 days)"),
            );
            None
        }
    };
    p.finish()?;
    let (Some(file_id), Some(disposition), Some(minutes)) = (file_id, disposition, minutes) else {
        return Err(ApiError::internal());
    };
    let file = store::get(&state.db, caller.tenant_id(), &file_id)
        .await?
        .ok_or_else(|| ApiError::not_found("File"))?;
    let base = public_base(&state, &headers)?;
    let expires_at_ms = expiry(now_micros() / 1000, minutes);
    let url = signed_url(&state, &base, &file, disposition, expires_at_ms)?;
    Ok(Json(FileUrl {
        success: true,
        url,
        filename: file.filename,
        content_type: file.content_type,
        file_size: file.file_size,
        expires_at: expires_at_ms,
    }))
}

/// The server's address as clients reach it: the configured public URL, else the `Host` the
/// request was sent to (plain HTTP; behind a TLS proxy, configure the public URL).
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = &state.files.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| {
            ApiError::field(
                "Host",
                "invalid_value",
                "send the Host header the server is reached at",
            )
        })?;
    Ok(format!("http://{host}"))
}

/// A link to `file`'s contents under `base`, signed with the server's key.
pub(crate) fn signed_url(
    state: &AppState,
    base: &str,
    file: &File,
    disposition: Disposition,
    expires_at_ms: i64,
) -> ApiResult<String> {
    let link = Link {
        tenant_id: &file.tenant_id,
        file_id: &file.file_id,
        disposition,
        expires_at_ms,
    };
    let signature = LinkSigner::new(&state.webhooks.sealing_key).sign(&link);
    let mut url = url::Url::parse(base).map_err(|e| {
        tracing::error!(error = %e, "the public URL does not parse");
        ApiError::internal()
    })?;
    url.path_segments_mut()
        .map_err(|_| ApiError::internal())?
        .pop_if_empty()
        .extend(["files", &file.file_id, "content"]);
    url.query_pairs_mut()
        .append_pair("tenant", &file.tenant_id)
        .append_pair("action", disposition.as_str())
        .append_pair("expires", &expires_at_ms.to_string())
        .append_pair("signature", &signature);
    Ok(url.to_string())
}

#[derive(Deserialize)]
pub struct LinkParams {
    tenant: Option<String>,
    action: Option<String>,
    expires: Option<String>,
    signature: Option<String>,
}

/// A signed link refused: the same answer for file and export links.
pub(crate) fn refused_link(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Invalid => ApiError::new(
            StatusCode::FORBIDDEN,
            "INVALID_SIGNATURE",
            "This link is not valid; ask for a new one",
        ),
        Refusal::Expired => ApiError::new(
            StatusCode::FORBIDDEN,
            "LINK_EXPIRED",
            "This link has expired; ask for a new one",
        ),
    }
}

/// A file's contents through a signed link (made by `POST /v1/files/url`); no API key. A link
/// that was altered in any part is refused with 403 `INVALID_SIGNATURE`, an expired one with
/// 403 `LINK_EXPIRED`; a file deleted since is 404.
#[utoipa::path(get, path = "/files/{fileId}/content", tag = "Files",
    params(("fileId" = String, Path), ("tenant" = String, Query), ("action" = String, Query),
        ("expires" = i64, Query), ("signature" = String, Query)),
    responses(
        (status = 200, description = "The file's bytes, with its content type; Content-Disposition inline (view) or attachment (download)", content_type = "application/octet-stream", body = String),
        (status = 403, description = "INVALID_SIGNATURE or LINK_EXPIRED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND: the file was deleted", body = ErrorBody),
    ))]
pub async fn file_content(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    Query(params): Query<LinkParams>,
) -> ApiResult<Response> {
    let invalid = || refused_link(Refusal::Invalid);
    let tenant_id = params.tenant.ok_or_else(invalid)?;
    let disposition = params
        .action
        .as_deref()
        .and_then(Disposition::parse)
        .ok_or_else(invalid)?;
    let expires_at_ms: i64 = params
        .expires
        .and_then(|e| e.parse().ok())
        .ok_or_else(invalid)?;
    let signature = params.signature.ok_or_else(invalid)?;
    let link = Link {
        tenant_id: &tenant_id,
        file_id: &file_id,
        disposition,
        expires_at_ms,
    };
    let now_ms = now_micros() / 1000;
    LinkSigner::new(&state.webhooks.sealing_key)
        .verify(&link, &signature, now_ms)
        .map_err(refused_link)?;
    let file = store::get(&state.db, &tenant_id, &file_id)
        .await?
        .ok_or_else(|| ApiError::not_found("File"))?;
    let blob = state
        .files
        .blobs
        .get(&file.storage_path)
        .await?
        .ok_or_else(|| {
            tracing::warn!(file_id = %file.file_id, "a file's contents are missing from the store");
            ApiError::not_found("File")
        })?;
    let content_type = if file.content_type.starts_with("text/") {
        format!("{}; charset=utf-8", file.content_type)
    } else {
        file.content_type.clone()
    };
    // Caches may keep it no longer than the link lives.
    let max_age = ((expires_at_ms - now_ms) / 1000).max(0);
    Ok(signed_content(
        blob,
        content_type,
        disposition.header(&file.filename),
        max_age,
    ))
}

/// The response a signed link answers with: the stored bytes streamed, cacheable privately for
/// no longer than the link lives, never sniffed, and with no referrer leaking the link.
pub(crate) fn signed_content(
    blob: flexportal_store::blobs::Blob,
    content_type: String,
    disposition: String,
    max_age: i64,
) -> Response {
    let size = blob.size;
    let mut response = Response::new(Body::from_stream(blob.stream));
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, size.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, format!("private, max-age={max_age}")),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A viewed document's links must not carry the signed URL to other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContractInput {
    pub order_id: Option<String>,
    /// `order`, `extension` or `upgrade`; when omitted, the order's own type decides
    /// (`extension` and `upgrade` orders get their kind of contract, all others `order`).
    pub contract_type: Option<String>,
    /// Only the built-in `default` template exists.
    pub template_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContractGenerated {
    pub success: bool,
    pub message: String,
    /// The stored `contract` file.
    pub file_id: String,
    pub order_id: String,
    pub tenant_id: String,
    /// `order`, `extension` or `upgrade`: the kind rendered.
    pub contract_type: String,
    pub file_name: String,
    /// A signed `view` link to the PDF, as `POST /v1/files/url` makes.
    pub download_url: String,
    /// When `downloadUrl` stops working (RFC 3339).
    pub expires_at: String,
}

/// Render an order's contract as a PDF and keep it as a `contract` file of the order: lessor,
/// customer, one line per ordered unit (its asset's serial number once a rental holds it), the
/// monthly amounts and VAT, the payment schedule, the buyout and early-return terms and the
/// signature lines. Each call stores a new file; earlier contracts of the order stay listed.
/// Records `contract.generated` beside `file.created`.
#[utoipa::path(post, path = "/v1/files/contracts/generate", tag = "Files", request_body = GenerateContractInput,
    responses(
        (status = 201, description = "Generated and stored", body = ContractGenerated),
        (status = 400, description = "VALIDATION_ERROR, ORDER_NOT_FOUND, TEMPLATE_NOT_FOUND", body = ErrorBody),
        (status = 422, description = "CONTRACT_NOT_RENDERABLE: the order's data cannot make a contract (too many units, a text too long)", body = ErrorBody),
    ))]
pub async fn generate_contract(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(input): JsonBody<GenerateContractInput>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let mut p = Problems::new();
    let order_id = p.required_text("orderId", input.order_id, 100);
    let kind = one_of(
        &mut p,
        "contractType",
        input.contract_type.map(|t| t.trim().to_string()),
        contracts::CONTRACT_TYPES,
    )
    .and_then(|t| contracts::parse_kind(&t));
    p.finish()?;
    let Some(order_id) = order_id else {
        return Err(ApiError::internal());
    };
    if let Some(template) = input.template_id
        && template != "default"
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "TEMPLATE_NOT_FOUND",
            "The only contract template is default",
        ));
    }
    let base = public_base(&state, &headers)?;
    let generated = contracts::generate(
        &state,
        &caller.business_unit,
        &order_id,
        kind,
        &caller.key.key_id,
        contracts::Trigger::Request,
    )
    .await?;
    let file = generated.file;
    let expires_at_ms = expiry(now_micros() / 1000, DEFAULT_TTL_MINUTES);
    let download_url = signed_url(&state, &base, &file, Disposition::View, expires_at_ms)?;
    Ok((
        StatusCode::CREATED,
        Json(ContractGenerated {
            success: true,
            message: format!("Contract generated for order {}", file.order_id),
            file_id: file.file_id.clone(),
            order_id: file.order_id.clone(),
            tenant_id: file.tenant_id.clone(),
            contract_type: contracts::kind_name(generated.kind).to_string(),
            file_name: file.filename.clone(),
            download_url,
            expires_at: format_instant(expires_at_ms * 1000),
        }),
    )
        .into_response())
}
