//! Webhook rules: Standard Webhooks signatures, the retry schedule, and which targets a webhook
//! may point at.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::AtomicU64;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Delays before each retry after a failed attempt, in seconds: ten attempts over about three
/// and a half days, then the message has failed.
pub const RETRY_SCHEDULE: [u64; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];

/// An endpoint that has failed every delivery for this long is disabled.
pub const FAILING_FOR_DISABLE_SECS: i64 = 5 * 24 * 3_600;

/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP_SECS: i64 = 24 * 3_600;

/// Delivery outcomes since the process started, shared by the dispatcher and `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryCounters {
    pub succeeded: AtomicU64,
    /// Attempts that failed and will be retried.
    pub retried: AtomicU64,
    /// Deliveries that failed for good: schedule exhausted, or 410 Gone.
    pub failed: AtomicU64,
}

/// The webhook event types a business unit can subscribe to, and `ping` for tests.
pub const EVENT_TYPES: &[&str] = &[
    "order.created",
    "order.fulfilled",
    "order.cancelled",
    "subscription.created",
    "subscription.extended",
    "subscription.upgraded",
    "subscription.ended",
    "payment.scheduled",
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "asset.assigned",
    "asset.returned",
];

/// The `webhook-id` of an event's message: the event's own id under the message prefix, the same
/// for every endpoint and every retry, so receivers can deduplicate.
pub fn message_id(event_id: &str) -> String {
    match event_id.strip_prefix("evt_") {
        Some(rest) => format!("msg_{rest}"),
        None => format!("msg_{event_id}"),
    }
}

/// Seconds to wait before the next attempt after `attempts_made` failed ones under `schedule`
/// (normally [`RETRY_SCHEDULE`]), or `None` when it is exhausted. A receiver's `Retry-After` can
/// only push the retry later, and never past a day.
pub fn retry_delay(
    schedule: &[u64],
    attempts_made: u32,
    retry_after_secs: Option<u64>,
) -> Option<u64> {
    let scheduled = *schedule.get(attempts_made.checked_sub(1)? as usize)?;
    Some(scheduled.max(retry_after_secs.unwrap_or(0).min(86_400)))
}

/// A fresh signing secret: `whsec_` and 24 random bytes in base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).unwrap_or_else(|_| fallback_random(&mut bytes));
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// Fills `bytes` from the clock and a fresh UUIDv7 should the system's random source fail,
/// which it does not on any supported platform.
fn fallback_random(bytes: &mut [u8]) {
    let noise = uuid::Uuid::now_v7().as_u128().to_le_bytes();
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = noise[i % noise.len()];
    }
}

/// The key bytes of a `whsec_…` secret (the prefix is optional).
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD.decode(encoded).ok().filter(|k| !k.is_empty())
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under `key`.
pub fn sign(key: &[u8], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this never falls through.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Host names answered without asking DNS, like curl's `--resolve`: how tests point a name at
/// an address. Whatever a name resolves to, the private-address rule applies to the answer.
#[derive(Debug, Clone, Default)]
pub struct HostOverrides(std::sync::Arc<std::collections::HashMap<String, Vec<IpAddr>>>);

impl HostOverrides {
    pub fn new(entries: impl IntoIterator<Item = (String, Vec<IpAddr>)>) -> HostOverrides {
        HostOverrides(std::sync::Arc::new(entries.into_iter().collect()))
    }

    pub fn get(&self, host: &str) -> Option<&[IpAddr]> {
        self.0.get(&host.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// Why a webhook URL is refused at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    NotAUrl,
    NotHttps,
    /// The host is, or resolves to, an address inside a private network.
    PrivateTarget(IpAddr),
}

impl UrlProblem {
    pub fn message(&self) -> String {
        match self {
            UrlProblem::NotAUrl => "must be an absolute http(s) URL".into(),
            UrlProblem::NotHttps => "must use https".into(),
            UrlProblem::PrivateTarget(ip) => {
                format!("points at {ip}, a private, loopback or link-local address")
            }
        }
    }
}

/// Addresses a webhook must never reach unless the operator allows private targets: loopback,
/// private ranges, link-local (cloud metadata lives there), carrier-grade NAT, unspecified,
/// multicast and broadcast, and their IPv6 counterparts including IPv4-mapped forms.
pub fn is_private_target(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6 == Ipv6Addr::LOCALHOST
        }
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signs_like_the_standard() {
        // The Standard Webhooks specification's published signing example.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret_key(&secret).unwrap().len(), 24);
        assert_ne!(generate_secret(), secret);
        assert_eq!(secret_key("whsec_"), None);
        assert_eq!(secret_key("whsec_!!"), None);
    }

    #[test]
    fn schedule() {
        let s = &RETRY_SCHEDULE;
        assert_eq!(retry_delay(s, 0, None), None);
        assert_eq!(retry_delay(s, 1, None), Some(5));
        assert_eq!(retry_delay(s, 2, None), Some(300));
        assert_eq!(retry_delay(s, 1, Some(60)), Some(60));
        assert_eq!(retry_delay(s, 2, Some(60)), Some(300));
        assert_eq!(retry_delay(s, 1, Some(999_999)), Some(86_400));
        assert_eq!(retry_delay(s, 9, None), Some(86_400));
        assert_eq!(retry_delay(s, 10, None), None);
        assert_eq!(message_id("evt_01abc"), "msg_01abc");
    }

    #[test]
    fn private_targets() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
        ] {
            assert!(is_private_target(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "100.128.0.1",
        ] {
            assert!(!is_private_target(ip.parse().unwrap()), "{ip}");
        }
    }

    proptest! {
        #[test]
        fn a_signature_changes_with_every_input(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            ts in 0i64..4_000_000_000,
            flip in 0usize..200,
        ) {
            let key = secret_key(&generate_secret()).unwrap();
            let signed = sign(&key, "msg_x", ts, &body);
            prop_assert!(signed.starts_with("v1,"));
            prop_assert_eq!(&signed, &sign(&key, "msg_x", ts, &body));
            prop_assert_ne!(&signed, &sign(&key, "msg_y", ts, &body));
            prop_assert_ne!(&signed, &sign(&key, "msg_x", ts + 1, &body));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip % changed.len();
                changed[i] ^= 1;
                prop_assert_ne!(&signed, &sign(&key, "msg_x", ts, &changed));
            }
        }
    }
}
