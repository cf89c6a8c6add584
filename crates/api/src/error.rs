//! The one error type of the API and its wire form:
//! `{"error":{"code","message","details":[{"path","message","code"}]}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flexportal_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Detail {
    /// Dotted path of the field, e.g. `variants.0.pricing.1.monthlyPrice`; empty for the whole body.
    pub path: String,
    pub message: String,
    /// Machine-readable reason: `required`, `invalid_type`, `invalid_value`, `invalid_json`, …
    pub code: String,
}

impl Detail {
    pub fn new(path: impl Into<String>, code: &str, message: impl Into<String>) -> Detail {
        Detail {
            path: path.into(),
            message: message.into(),
            code: code.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn validation(details: Vec<Detail>) -> ApiError {
        let message = match details.as_slice() {
            [one] if one.path.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.path, one.message),
            _ => format!("{} fields are invalid", details.len()),
        };
        ApiError {
            details,
            ..ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
        }
    }

    pub fn field(path: &str, code: &str, message: impl Into<String>) -> ApiError {
        ApiError::validation(vec![Detail::new(path, code, message)])
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "An unexpected error occurred",
        )
    }

    pub fn auth_required() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "Send an API key as 'Authorization: Bearer <key>'",
        )
    }

    pub fn invalid_token() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "The API key is unknown, revoked or expired",
        )
    }

    pub fn no_tenant_access() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "NO_TENANT_ACCESS",
            "Send the id of a business unit this key may use in the Tenant-ID header",
        )
    }

    pub fn insufficient_permissions(required: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "INSUFFICIENT_PERMISSIONS",
            format!("This API key lacks the '{required}' permission"),
        )
    }

    /// 503 with `Retry-After`: nothing was changed, the same request may succeed shortly.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after_secs: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                message,
            )
        }
    }

    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError {
            details: vec![Detail::new(
                "",
                "too_large",
                format!("the body exceeds {limit} bytes"),
            )],
            ..ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("Request bodies are limited to {limit} bytes"),
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("Resource"),
            StoreError::UnknownCursor => ApiError::field(
                "startAfter",
                "invalid_value",
                "the cursor does not name an item of this list",
            ),
            StoreError::Refused { code, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            StoreError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::Unique(constraint) => {
                tracing::warn!(%constraint, "uniqueness conflict reached the API");
                ApiError::new(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    "The change conflicts with existing data; retry it",
                )
            }
            other if other.is_unavailable() => {
                tracing::warn!(error = %other, "database unavailable");
                ApiError::unavailable("The database is unavailable; retry shortly")
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code.to_string(),
                message: self.message,
                details: self.details,
            },
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
            b"{\"error\":{\"code\":\"INTERNAL_ERROR\",\"message\":\"\",\"details\":[]}}".to_vec()
        });
        let mut response = (self.status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
