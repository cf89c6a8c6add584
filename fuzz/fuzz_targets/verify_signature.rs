//! Any `webhook-id`, `webhook-timestamp`, `webhook-signature` and body (split at 0xFF bytes):
//! accepted or refused, never a panic.
#![no_main]
use flexportal_client::reqwest::header::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0xff);
    let mut headers = HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        if let Some(value) = parts.next().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, value);
        }
    }
    let body = parts.next().unwrap_or_default();
    let _ = flexportal_client::webhooks::verify_at(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        &headers,
        body,
        1_700_000_000,
    );
});
