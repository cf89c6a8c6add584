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
