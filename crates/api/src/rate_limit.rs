//! Request rate limits per organization: the Generic Cell Rate Algorithm behind a trait, so a
//! shared store (Redis) can replace the in-process one when several nodes serve one region.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The verdict on one request, with what the `RateLimit` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the full quota is available again.
    pub reset_secs: u64,
    /// Seconds to wait before a retry can succeed; set when refused.
    pub retry_after_secs: u64,
}

pub trait RateLimiter: Send + Sync {
    /// Counts one request of `key` against `per_minute`.
    fn check(&self, key: &str, per_minute: u32) -> Decision;
}

/// GCRA in memory: one "theoretical arrival time" per key. A full quota may be spent at once
/// (burst = the per-minute limit), then it refills evenly over the minute.
pub struct InProcessLimiter {
    /// Nanoseconds on a monotonic clock.
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
    arrivals: Mutex<HashMap<String, u64>>,
}

impl Default for InProcessLimiter {
    fn default() -> Self {
        let started = Instant::now();
        InProcessLimiter::with_clock(move || started.elapsed().as_nanos() as u64)
    }
}

impl InProcessLimiter {
    /// A limiter reading time from `clock` (monotonic nanoseconds), e.g. a fixed instant so a
    /// test's count of requests does not depend on how fast the machine sends them.
    pub fn with_clock(clock: impl Fn() -> u64 + Send + Sync + 'static) -> InProcessLimiter {
        InProcessLimiter {
            clock: Box::new(clock),
            arrivals: Mutex::new(HashMap::new()),
        }
    }
}

const WINDOW_NANOS: u64 = 60_000_000_000;

impl InProcessLimiter {
    fn check_at(&self, key: &str, per_minute: u32, now: u64) -> Decision {
        let per_minute = per_minute.max(1);
        let interval = WINDOW_NANOS / u64::from(per_minute);
        let window = interval * u64::from(per_minute);
        let mut arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let tat = arrivals.get(key).copied().unwrap_or(now).max(now);
        let new_tat = tat + interval;
        if new_tat - now > window {
            let wait = (new_tat - now) - window;
            return Decision {
                allowed: false,
                limit: per_minute,
                remaining: 0,
                reset_secs: ceil_secs(tat - now),
                retry_after_secs: ceil_secs(wait).max(1),
            };
        }
        match arrivals.get_mut(key) {
            Some(arrival) => *arrival = new_tat,
            None => {
                arrivals.insert(key.to_string(), new_tat);
            }
        }
        if arrivals.len() > 100_000 {
            // Forget keys whose quota is full again; they would start fresh anyway.
            arrivals.retain(|_, t| *t > now);
        }
        Decision {
            allowed: true,
            limit: per_minute,
            remaining: ((window - (new_tat - now)) / interval) as u32,
            reset_secs: ceil_secs(new_tat - now),
            retry_after_secs: 0,
        }
    }
}

impl RateLimiter for InProcessLimiter {
    fn check(&self, key: &str, per_minute: u32) -> Decision {
        self.check_at(key, per_minute, (self.clock)())
    }
}

fn ceil_secs(nanos: u64) -> u64 {
    nanos.div_ceil(1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_quota_then_refusal_then_refill() {
        let limiter = InProcessLimiter::default();
        for i in 0..100 {
            let d = limiter.check_at("org", 100, 0);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 99 - i);
        }
        let refused = limiter.check_at("org", 100, 0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        assert!(limiter.check_at("other", 100, 0).allowed);
        // One interval (0.6 s) later exactly one more request fits.
        assert!(limiter.check_at("org", 100, 600_000_000).allowed);
        assert!(!limiter.check_at("org", 100, 600_000_000).allowed);
        // A minute later the quota is full again.
        assert_eq!(limiter.check_at("org", 100, 61_000_000_000).remaining, 99);
    }
}
