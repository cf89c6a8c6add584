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
    /// By (hash of the secret, business unit).
    entries: HashMap<(String, String), Caller>,
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
        inner
            .entries
            .get(&(secret_hash.to_string(), tenant_id.to_string()))
            .cloned()
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
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(
            (secret_hash, caller.tenant_id().to_string()),
            caller.clone(),
        );
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
