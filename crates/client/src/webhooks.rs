//! Checking that a webhook came from flexportal, per the Standard Webhooks specification: the
//! `webhook-signature` header holds `v1,<base64 HMAC-SHA256>` of `id.timestamp.body` under the
//! endpoint's `whsec_…` secret (two of them, space-separated, while a secret is being rotated).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

/// Messages older or newer than this are refused, so a captured request cannot be replayed.
pub const TOLERANCE_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the secret is not a whsec_ secret")]
    BadSecret,
    #[error("the {0} header is missing or unreadable")]
    MissingHeader(&'static str),
    #[error("the webhook-timestamp is too far from now")]
    Expired,
    #[error("no signature matches")]
    NoMatch,
}

/// Verifies a received webhook against `secret` at the current time.
pub fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    verify_at(secret, headers, body, now)
}

/// [`verify`] as of `now` (seconds since the epoch).
pub fn verify_at(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or(WebhookError::BadSecret)?;
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(WebhookError::MissingHeader(name))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| WebhookError::MissingHeader("webhook-timestamp"))?;
    // `abs_diff` cannot overflow, whatever timestamp a sender makes up.
    if now.abs_diff(sent) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::Expired);
    }
    for candidate in signatures.split(' ') {
        let Some(("v1", encoded)) = candidate.split_once(',') else {
            continue;
        };
        let Ok(expected) = STANDARD.decode(encoded) else {
            continue;
        };
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&key) else {
            return Err(WebhookError::BadSecret);
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // Constant-time comparison.
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(WebhookError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SENT: i64 = 1_614_265_330;

    fn headers(signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "webhook-id",
            HeaderValue::from_static("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        );
        h.insert(
            "webhook-timestamp",
            HeaderValue::from_str(&SENT.to_string()).unwrap(),
        );
        h.insert(
            "webhook-signature",
            HeaderValue::from_str(signature).unwrap(),
        );
        h
    }

    /// The Standard Webhooks specification's published example.
    #[test]
    fn the_published_vector_verifies() {
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(verify_at(SECRET, &headers(good), BODY, SENT), Ok(()));
        // Among several signatures, one match is enough.
        let several = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc {good}");
        assert_eq!(
            verify_at(SECRET, &headers(&several), BODY, SENT + 60),
            Ok(())
        );
        // The bare secret, without its prefix, works too.
        assert_eq!(verify_at(&SECRET[6..], &headers(good), BODY, SENT), Ok(()));
    }

    #[test]
    fn refusals() {
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(
            verify_at(SECRET, &headers(good), br#"{"test": 2432232315}"#, SENT),
            Err(WebhookError::NoMatch)
        );
        assert_eq!(
            verify_at(SECRET, &headers(good), BODY, SENT + TOLERANCE_SECS + 1),
            Err(WebhookError::Expired)
        );
        assert_eq!(
            verify_at(SECRET, &headers(good), BODY, SENT - TOLERANCE_SECS - 1),
            Err(WebhookError::Expired)
        );
        // Timestamps at the ends of the range are expired, not a panic (found by fuzzing).
        for extreme in [i64::MIN, i64::MAX] {
            let mut far = headers(good);
            far.insert(
                "webhook-timestamp",
                HeaderValue::from_str(&extreme.to_string()).unwrap(),
            );
            assert_eq!(
                verify_at(SECRET, &far, BODY, SENT),
                Err(WebhookError::Expired)
            );
        }
        let mut missing = headers(good);
        missing.remove("webhook-id");
        assert_eq!(
            verify_at(SECRET, &missing, BODY, SENT),
            Err(WebhookError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            verify_at("whsec_", &headers(good), BODY, SENT),
            Err(WebhookError::BadSecret)
        );
        assert_eq!(
            verify_at(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx",
                &headers(good),
                BODY,
                SENT
            ),
            Err(WebhookError::NoMatch)
        );
    }
}
