//! Counts API key uses in memory and writes them in batches.
//!
//! Counting with an `UPDATE` per request would make every read wait for SQLite's single writer;
//! a batch per second costs one short transaction instead. Readers of the counts flush first,
//! so what the API shows is never behind.

use std::collections::HashMap;
use std::sync::Mutex;

use flexportal_domain::time::now_micros;
use flexportal_store::{Db, tenancy};

#[derive(Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<String, (i64, i64)>>,
}

impl KeyUsage {
    pub fn record(&self, key_id: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_micros();
        match pending.get_mut(key_id) {
            Some(entry) => *entry = (entry.0 + 1, now),
            None => {
                pending.insert(key_id.to_string(), (1, now));
            }
        }
    }

    /// Writes the counted uses. On failure they are kept for the next flush.
    pub async fn flush(&self, db: &Db) {
        let batch: Vec<(String, i64, i64)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().map(|(k, (n, at))| (k, n, at)).collect()
        };
        if let Err(e) = tenancy::add_key_usage(db, &batch).await {
            tracing::warn!(error = %e, "could not write API key usage; will retry");
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (key, n, at) in batch {
                let entry = pending.entry(key).or_insert((0, 0));
                entry.0 += n;
                entry.1 = entry.1.max(at);
            }
        }
    }
}
