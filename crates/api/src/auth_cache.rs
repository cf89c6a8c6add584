//! Callers verified recently, so that a request costs one query (its own) rather than two.
//!
//! Looking a key up is a join over keys, organizations and business units on every request; on
//! SQLite that second query per read halves what a process can serve. An entry is kept only while
//! the database's auth epoch, which moves in the same transaction as every key revocation and
//! business unit change, stands still: this process drops its entries at once when it makes such
//! a change, and within one poll when another process (the CLI, another replica) does. If the
//! poll stops answering, nothing is served from memory until it answers again. Expiry is checked
//! on every request, cached or not. Failed lookups are never kept, so guessing keys cannot grow
//! the cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pipeline::Caller;

/// How long a successful poll of the epoch vouches for the entries.
pub const TRUSTED_FOR: Duration = Duration::from_secs(3);
/// How often a serving process polls the epoch.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// Distinct (key, business unit) pairs kept; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct AuthCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// By hash of the secret, then business unit: looked up without building a key.
    entries: HashMap<String, HashMap<String, Caller>>,
    /// Callers in `entries`.
    count: usize,
    epoch: Option<i64>,
    polled_at: Option<Instant>,
    /// Moves on every drop of the entries, so a lookup that began before a change cannot store
    /// what it read.
    generation: u64,
}

impl Inner {
    fn trusted(&self) -> bool {
        self.polled_at.is_some_and(|at| at.elapsed() < TRUSTED_FOR)
    }

    fn drop_all(&mut self) {
        self.entries.clear();
        self.count = 0;
        self.generation += 1;
    }
}

impl AuthCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller verified for this secret hash and business unit, while the entries are trusted.
    pub fn get(&self, secret_hash: &str, tenant_id: &str) -> Option<Caller> {
        let inner = self.lock();
        if !inner.trusted() {
            return None;
        }
        inner.entries.get(secret_hash)?.get(tenant_id).cloned()
    }

    /// To be read before a lookup and handed to [`AuthCache::keep`] after it.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps a verified caller, unless the entries were dropped since `generation` was read.
    pub fn keep(&self, generation: u64, secret_hash: String, caller: &Caller) {
        let mut inner = self.lock();
        if inner.generation != generation || !inner.trusted() {
            return;
        }
        if inner.count >= MAX_ENTRIES {
            inner.entries.clear();
            inner.count = 0;
        }
        let added = inner
            .entries
            .entry(secret_hash)
            .or_default()
            .insert(caller.tenant_id().to_string(), caller.clone())
            .is_none();
        inner.count += usize::from(added);
    }

    /// Drops every entry; called by this process after it changes a key or a business unit.
    pub fn invalidate(&self) {
        self.lock().drop_all();
    }

    /// Records a successful poll of the database's auth epoch.
    pub fn observe_epoch(&self, epoch: i64) {
        let mut inner = self.lock();
        if inner.epoch != Some(epoch) {
            inner.drop_all();
            inner.epoch = Some(epoch);
        }
        inner.polled_at = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexportal_store::tenancy::{ApiKey, BusinessUnit, Organization};

    fn caller(tenant_id: &str) -> Caller {
        Caller::from(crate::pipeline::Verified {
            key: ApiKey {
                key_id: "key_1".into(),
                organization_id: "org_1".into(),
                name: "k".into(),
                permissions_json: "[\"*\"]".into(),
                business_unit_ids_json: None,
                created_by: None,
                created_at: 0,
                last_used_at: None,
                usage_count: 0,
                expires_at: None,
                revoked_at: None,
            },
            permissions: vec!["*".into()],
            organization: Organization {
                organization_id: "org_1".into(),
                name: "Org".into(),
                tier: "growth".into(),
                created_at: 0,
                updated_at: 0,
            },
            business_unit: BusinessUnit {
                tenant_id: tenant_id.into(),
                organization_id: "org_1".into(),
                name: "Unit".into(),
                region: "eu".into(),
                currency: "EUR".into(),
                timezone: "UTC".into(),
                vat_rate_bp: 2100,
                vat_mode: "exclusive".into(),
                default_contract_length: 12,
                order_number_prefix: "FP".into(),
                settings: "{}".into(),
                created_at: 0,
                updated_at: 0,
            },
        })
    }

    fn cached(cache: &AuthCache) -> bool {
        cache.get("hash", "bu_1").is_some()
    }

    #[test]
    fn nothing_is_kept_before_the_first_poll() {
        let cache = AuthCache::default();
        cache.keep(cache.generation(), "hash".into(), &caller("bu_1"));
        assert!(!cached(&cache));
    }

    #[test]
    fn entries_live_while_the_epoch_stands_still() {
        let cache = AuthCache::default();
        cache.observe_epoch(7);
        cache.keep(cache.generation(), "hash".into(), &caller("bu_1"));
        assert!(cached(&cache));
        assert!(
            cache.get("hash", "bu_2").is_none(),
            "keyed by business unit too"
        );
        assert!(cache.get("other", "bu_1").is_none());
        cache.observe_epoch(7);
        assert!(cached(&cache));
        cache.observe_epoch(8);
        assert!(!cached(&cache), "a moved epoch drops everything");
    }

    #[test]
    fn a_lookup_that_began_before_a_change_is_not_kept() {
        let cache = AuthCache::default();
        cache.observe_epoch(1);
        let before = cache.generation();
        cache.invalidate();
        cache.keep(before, "hash".into(), &caller("bu_1"));
        assert!(!cached(&cache));
        let before = cache.generation();
        cache.observe_epoch(2);
        cache.keep(before, "hash".into(), &caller("bu_1"));
        assert!(!cached(&cache));
        cache.keep(cache.generation(), "hash".into(), &caller("bu_1"));
        assert!(cached(&cache));
    }

    #[test]
    fn a_silent_poll_stops_the_cache_from_answering() {
        let cache = AuthCache::default();
        cache.observe_epoch(1);
        cache.keep(cache.generation(), "hash".into(), &caller("bu_1"));
        cache.lock().polled_at = Instant::now().checked_sub(TRUSTED_FOR);
        assert!(!cached(&cache));
        cache.observe_epoch(1);
        assert!(cached(&cache), "trusted again once the poll answers");
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let cache = AuthCache::default();
        cache.observe_epoch(1);
        for i in 0..MAX_ENTRIES + 1 {
            cache.keep(cache.generation(), format!("h{i}"), &caller("bu_1"));
        }
        assert_eq!(cache.lock().count, 1);
        assert_eq!(cache.lock().entries.len(), 1);
    }
}
