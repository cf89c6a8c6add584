//! Reading requests: JSON bodies, query strings, and collecting every problem with a body
//! before answering, so a caller fixes all fields in one round trip.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use flexportal_domain::money;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Detail};

/// A JSON body decoded into `T`. Malformed JSON and wrong types are 400 `VALIDATION_ERROR` with
/// the path of the offending field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The pipeline has already enforced the size limit and buffered the body.
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::payload_too_large(crate::pipeline::JSON_LIMIT))?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::field(
            "",
            "required",
            "the request needs a JSON body",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::field(
            "",
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::field(
            "",
            "invalid_type",
            "the body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path: Vec<String> = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = e.inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        let code = if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            path.push(field.to_string());
            "required"
        } else {
            "invalid_type"
        };
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        ApiError::field(&path.join("."), code, message)
    })
}

/// Query-string parameters. Unknown ones are simply not read.
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(map) =
            axum::extract::Query::<HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|_| {
                    ApiError::field("", "invalid_value", "the query string is malformed")
                })?;
        Ok(QueryParams(map))
    }
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A date filter (`YYYY-MM-DD`, or an instant read in `zone`) as ISO text; a problem when
    /// it is neither.
    pub fn date(
        &self,
        problems: &mut Problems,
        name: &str,
        zone: &jiff::tz::TimeZone,
    ) -> Option<String> {
        let text = self.get(name)?;
        let date = flexportal_domain::time::parse_date_in(&text, zone);
        if date.is_none() {
            problems.add(name, "invalid_type", "must be a date");
        }
        date.map(|d| d.to_string())
    }
}

/// Collects problems with a request body, then fails once with all of them.
#[derive(Default)]
pub struct Problems(Vec<Detail>);

impl Problems {
    pub fn new() -> Problems {
        Problems::default()
    }

    pub fn add(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(Detail::new(path, code, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems so far; lets a caller tell whether a part of the body added any.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }

    /// A required, non-empty string of at most `max` characters.
    pub fn required_text(
        &mut self,
        path: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        match value {
            None => {
                self.add(path, "required", "is required");
                None
            }
            Some(v) => self.text(path, Some(v), max),
        }
    }

    /// An optional string which, when present, is non-empty and at most `max` characters.
    pub fn text(&mut self, path: &str, value: Option<String>, max: usize) -> Option<String> {
        let v = value?;
        let trimmed = v.trim();
        if trimmed.is_empty() {
            self.add(path, "invalid_value", "must not be empty");
            None
        } else if trimmed.chars().count() > max {
            self.add(
                path,
                "too_long",
                format!("must be at most {max} characters"),
            );
            None
        } else {
            Some(trimmed.to_string())
        }
    }

    /// An optional amount in major units, converted to minor units.
    pub fn amount(&mut self, path: &str, value: Option<f64>, exponent: u32) -> Option<i64> {
        let v = value?;
        match money::minor_from_major(v, exponent) {
            Ok(minor) => Some(minor),
            Err(e) => {
                self.add(path, "invalid_value", format!("{e}"));
                None
            }
        }
    }

    pub fn urls(&mut self, path: &str, value: Option<Vec<String>>) -> Option<Vec<String>> {
        let list = value?;
        if list.len() > 50 {
            self.add(path, "too_long", "at most 50 images");
        }
        for (i, url) in list.iter().enumerate() {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 2048
                && !url.contains(char::is_whitespace);
            if !ok {
                self.add(
                    format!("{path}.{i}"),
                    "invalid_value",
                    "must be an http(s) URL",
                );
            }
        }
        Some(list)
    }
}

/// Parameters every list takes.
pub struct ListParams {
    pub limit: i64,
    pub start_after: Option<String>,
    pub sort_by: String,
    pub descending: bool,
}

impl ListParams {
    /// Reads `limit`, `startAfter`, `sortBy`, `sortDir`; `sortBy` must be one of `allowed`.
    pub fn parse(
        query: &QueryParams,
        default_limit: i64,
        max_limit: i64,
        allowed: &[&str],
    ) -> Result<ListParams, ApiError> {
        let mut problems = Problems::new();
        let limit = match query.get("limit") {
            None => default_limit,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => n.min(max_limit),
                Ok(_) => {
                    problems.add("limit", "out_of_range", "must be at least 1");
                    default_limit
                }
                Err(_) => {
                    problems.add("limit", "invalid_type", "must be a whole number");
                    default_limit
                }
            },
        };
        let sort_by = query
            .get("sortBy")
            .unwrap_or_else(|| "createdAt".to_string());
        if !allowed.contains(&sort_by.as_str()) {
            problems.add(
                "sortBy",
                "invalid_value",
                format!("must be one of: {}", allowed.join(", ")),
            );
        }
        let descending = match query.get("sortDir").as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                problems.add("sortDir", "invalid_value", "must be asc or desc");
                true
            }
        };
        problems.finish()?;
        Ok(ListParams {
            limit,
            start_after: query.get("startAfter"),
            sort_by,
            descending,
        })
    }
}

/// One of a fixed set of values, or a validation problem.
pub fn one_of(
    problems: &mut Problems,
    path: &str,
    value: Option<String>,
    allowed: &[&str],
) -> Option<String> {
    let v = value?;
    if allowed.contains(&v.as_str()) {
        Some(v)
    } else {
        problems.add(
            path,
            "invalid_value",
            format!("must be one of: {}", allowed.join(", ")),
        );
        None
    }
}
