//! The JSON body of a successful response.
//!
//! axum's own `Json` grows its buffer from 128 bytes, reallocating several times for one order,
//! and answers a value that fails to serialize with a 500 whose text is serde's message. Here
//! the buffer starts at the size of a typical single resource, and a failure is the documented
//! internal error, with the cause only in the log.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// Room for one order, rental or product without growing; lists grow from there.
const INITIAL_CAPACITY: usize = 4096;

pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(INITIAL_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a response body did not serialize");
                ApiError::internal().into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use axum::http::StatusCode;
    use std::collections::BTreeMap;

    async fn answer(response: Response) -> (StatusCode, Option<String>, serde_json::Value) {
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or_default();
        (status, content_type, body)
    }

    #[tokio::test]
    async fn a_value_is_sent_as_json() {
        let (status, content_type, body) =
            answer(Json(serde_json::json!({ "orderId": "ord_1", "total": 19.5 })).into_response())
                .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(
            body,
            serde_json::json!({ "orderId": "ord_1", "total": 19.5 })
        );
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_json_is_the_internal_error_without_its_cause() {
        // JSON object keys must be strings; serde_json refuses a map keyed by pairs.
        let unserializable: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        let (status, _, body) = answer(Json(unserializable).into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "INTERNAL_ERROR");
        assert!(!body.to_string().contains("key must be"), "{body}");
    }
}
