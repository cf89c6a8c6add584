//! The untyped side of the client: hand-built requests, whole responses, and what observers see.

use reqwest::header::HeaderMap;

/// One response as the client received it, handed to the observer before any decoding so that
/// checks (schema conformance, required headers) see exactly what the server sent.
#[derive(Debug)]
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The request path without its query string, e.g. `/v1/products/prod_01abc`.
    pub path: &'a str,
    pub status: u16,
    pub headers: &'a HeaderMap,
    /// The body, when it parsed as JSON.
    pub body: Option<&'a serde_json::Value>,
}

/// A request built by hand, for what the typed methods deliberately cannot express: malformed
/// bodies, missing or foreign credentials, unusual headers.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    /// `GET`, `POST`, … sent as given.
    pub method: String,
    /// Relative to the base URL; may include `?query`.
    pub path: String,
    /// Sent after the credentials; naming `Authorization` or `Tenant-ID` here replaces the
    /// client's own value instead of sending two.
    pub headers: Vec<(String, String)>,
    pub body: Option<RawBody>,
    /// Send no `Authorization` header.
    pub omit_auth: bool,
    /// Send no `Tenant-ID` header.
    pub omit_tenant: bool,
}

/// The body of a [`RawRequest`].
#[derive(Debug, Clone)]
pub enum RawBody {
    /// Sent as `application/json`.
    Json(serde_json::Value),
    /// Sent verbatim, e.g. broken JSON or a CSV file.
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
    },
}

impl RawRequest {
    fn new(method: &str, path: impl Into<String>, body: Option<RawBody>) -> RawRequest {
        RawRequest {
            method: method.to_string(),
            path: path.into(),
            body,
            ..RawRequest::default()
        }
    }

    pub fn get(path: impl Into<String>) -> RawRequest {
        RawRequest::new("GET", path, None)
    }

    pub fn post(path: impl Into<String>, json: serde_json::Value) -> RawRequest {
        RawRequest::new("POST", path, Some(RawBody::Json(json)))
    }

    pub fn put(path: impl Into<String>, json: serde_json::Value) -> RawRequest {
        RawRequest::new("PUT", path, Some(RawBody::Json(json)))
    }

    pub fn patch(path: impl Into<String>, json: serde_json::Value) -> RawRequest {
        RawRequest::new("PATCH", path, Some(RawBody::Json(json)))
    }

    pub fn delete(path: impl Into<String>) -> RawRequest {
        RawRequest::new("DELETE", path, None)
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> RawRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body with `bytes`, e.g. to send JSON the server must refuse as malformed.
    pub fn bytes(mut self, content_type: &str, bytes: Vec<u8>) -> RawRequest {
        self.body = Some(RawBody::Bytes {
            content_type: content_type.to_string(),
            bytes,
        });
        self
    }

    /// Sends the request without `Authorization`, as an anonymous caller would.
    pub fn without_auth(mut self) -> RawRequest {
        self.omit_auth = true;
        self
    }

    /// Sends the request without `Tenant-ID`.
    pub fn without_tenant(mut self) -> RawRequest {
        self.omit_tenant = true;
        self
    }

    /// Whether the caller supplied its own header `name`, which then takes the client's place.
    pub(crate) fn names_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// A whole response, whatever its status.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    /// The body, when it parsed as JSON.
    pub json: Option<serde_json::Value>,
}

impl RawResponse {
    /// The value of header `name` (case-insensitive), if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an error body, e.g. `AUTH_REQUIRED`.
    pub fn error_code(&self) -> Option<&str> {
        self.json.as_ref()?.pointer("/error/code")?.as_str()
    }

    /// The field paths a validation error names, to assert which fields were refused.
    pub fn detail_paths(&self) -> Vec<String> {
        let details = self
            .json
            .as_ref()
            .and_then(|j| j.pointer("/error/details"))
            .and_then(|d| d.as_array());
        details
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("path").and_then(|p| p.as_str()).map(str::to_string))
            .collect()
    }
}
