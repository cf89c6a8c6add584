use serde::Deserialize;

/// Everything a call can fail with. Match on [`Error::Api`] (or use [`Error::code`]) to react
/// to what the server refused; the other variants mean the conversation itself went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error body.
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Vec<ErrorDetail>,
    },
    /// The request never got an answer: connection refused, reset, invalid URL, …
    #[error("HTTP transport failed: {0}")]
    Http(#[from] reqwest::Error),
    /// A 2xx whose body did not decode into the expected type.
    #[error("the {status} response did not decode: {message}")]
    Decode {
        status: u16,
        message: String,
        body: String,
    },
    /// The request could not be built (e.g. a malformed method name in a [`crate::RawRequest`]);
    /// nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The HTTP status behind the failure, when there was a response at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Http(e) => e.status().map(|s| s.as_u16()),
            Error::InvalidRequest(_) => None,
        }
    }

    /// The machine-readable error code the server sent, e.g. `VALIDATION_ERROR` or `NOT_FOUND`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One problem with one field of a request, as reported in a validation error.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ErrorDetail {
    /// Dotted path of the field, e.g. `variants.0.pricing.1.monthlyPrice`; empty for the whole body.
    pub path: String,
    pub message: String,
    /// Why the field was refused: `required`, `invalid_type`, `invalid_value`, …
    pub code: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: String,
    message: String,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

/// Turns a non-2xx response into [`Error::Api`]. A body that is not the documented error shape
/// (a proxy's HTML page, say) still becomes an `Api` error so callers have one thing to match.
pub(crate) fn api_error(status: u16, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorEnvelope>(bytes) {
        Ok(ErrorEnvelope { error }) => Error::Api {
            status,
            code: error.code,
            message: error.message,
            details: error.details,
        },
        Err(_) => Error::Api {
            status,
            code: "UNKNOWN".to_string(),
            message: String::from_utf8_lossy(bytes).into_owned(),
            details: Vec::new(),
        },
    }
}
