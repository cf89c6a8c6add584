//! The database layer: one SQL text for SQLite and PostgreSQL, one module per resource, every
//! write in one transaction together with the event it records.

pub mod assets;
pub mod billing_groups;
pub mod blobs;
pub mod customers;
pub mod db;
pub mod events;
pub mod exports;
pub mod files;
pub mod idempotency;
pub mod invoices;
pub mod list;
pub mod migrate;
pub mod orders;
pub mod payments;
pub mod products;
pub mod rentals;
mod sqlite_readers;
pub mod tenancy;
pub mod wal;
pub mod webhooks;

pub use db::{Arg, Db, Dialect, Tx};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; the text names the table and columns, for logs only.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// A list cursor that names no item of this tenant.
    #[error("unknown cursor")]
    UnknownCursor,
    /// A business rule refused the change; `code` is the API error code.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The change conflicts with existing data; `code` is the API error code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("configuration: {0}")]
    Config(String),
    /// The file store failed; the text is for logs only.
    #[error("file store: {0}")]
    Blob(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Unique(db.constraint().unwrap_or(db.message()).to_string());
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    /// The database cannot serve right now (unreachable, restarting, out of connections, disk
    /// full or read-only) as opposed to a bug or bad data: worth retrying later.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            // A connection cut mid-conversation surfaces as I/O or protocol trouble.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // Busy (5), locked (6), read-only (8), I/O error (10), disk full (13),
                    // cannot open (14); extended codes keep the primary one in the low byte.
                    code.parse::<i64>()
                        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
                } else {
                    // Connection exceptions (08…), shutting down or starting up (57P0…), out
                    // of disk, memory or connections (53…).
                    code.starts_with("08") || code.starts_with("57P0") || code.starts_with("53")
                }
            }
            _ => false,
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The wire form of each resource, which event payloads carry. The API implements it; the store
/// calls it inside the transaction that records the event, so an event shows exactly what a read
/// right after the change would.
pub trait Wire: Send + Sync {
    fn order(&self, order: &orders::Order) -> serde_json::Value;
    fn asset(&self, asset: &assets::Asset) -> serde_json::Value;
    fn rental(&self, rental: &rentals::Rental) -> serde_json::Value;
    fn payment(&self, payment: &payments::Payment) -> serde_json::Value;
    /// `order_ids`: the customer's orders, newest first.
    fn customer(&self, customer: &customers::Customer, order_ids: &[String]) -> serde_json::Value;
    fn file(&self, file: &files::File) -> serde_json::Value;
}
