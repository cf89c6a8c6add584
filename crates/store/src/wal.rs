//! SQLite's write-ahead log is copied back into the database file by a connection of its own,
//! not by the writer.
//!
//! By default the connection whose commit takes the log past 1,000 pages copies it back there and
//! then, with `synchronous = NORMAL`, waits for two `fsync`s before its commit returns. Measured
//! in `bench scale` (2 cores, a virtual disk where one `fsync` took about 4 ms): a swept rental's
//! commit took 0.75–1.1 ms with those checkpoints and 0.24–0.30 ms without them, out of 1.8 ms in
//! all. The writer is SQLite's only one, so every write waited behind that copy.
//!
//! Here the writer's commit only wakes the checkpointer, which runs a passive checkpoint (it
//! never blocks the writer or the readers) on its own connection and thread. Should it fall
//! behind, the writer checkpoints itself past [`WRITER_CHECKPOINTS_AT_PAGES`], so the log stays
//! bounded whatever happens to the checkpointer.

use std::ffi::{c_char, c_int, c_void};
use std::sync::{Arc, Weak};

use libsqlite3_sys::{
    SQLITE_CHECKPOINT_PASSIVE, SQLITE_OK, sqlite3, sqlite3_wal_checkpoint_v2, sqlite3_wal_hook,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tokio::sync::Notify;

/// Pages in the log that wake the checkpointer: SQLite's own threshold for a checkpoint.
const WAKE_AT_PAGES: c_int = 1_000;
/// Pages in the log past which the writer checkpoints itself after a commit, as SQLite does by
/// default at 1,000: the log's bound (40 MB of 4 KiB pages) if the checkpointer falls behind.
const WRITER_CHECKPOINTS_AT_PAGES: c_int = 10_000;

/// The checkpointer's connection, for as long as a [`crate::Db`] holds it.
pub struct Checkpointer {
    pool: SqlitePool,
    wake: Arc<Notify>,
}

impl Drop for Checkpointer {
    /// Wakes the task so it sees the checkpointer gone and ends.
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl Checkpointer {
    /// Opens the checkpointer's connection and starts its task; `wake` is what the writer's
    /// commits signal (see [`notify_on_commit`]).
    pub(crate) async fn start(
        options: SqliteConnectOptions,
        wake: Arc<Notify>,
    ) -> Result<Arc<Checkpointer>, sqlx::Error> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let checkpointer = Arc::new(Checkpointer {
            pool,
            wake: wake.clone(),
        });
        tokio::spawn(run(Arc::downgrade(&checkpointer), wake));
        Ok(checkpointer)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
        self.wake.notify_one();
    }
}

async fn run(checkpointer: Weak<Checkpointer>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(checkpointer) = checkpointer.upgrade() else {
            return;
        };
        if checkpointer.pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&checkpointer.pool)
            .await
        {
            // The next commit past the threshold wakes it again; the writer's own checkpoint
            // bounds the log meanwhile.
            tracing::warn!(error = %e, "background checkpoint failed");
        }
    }
}

/// Replaces the writer connection's automatic checkpoint: its commits wake the checkpointer, and
/// it checkpoints only past [`WRITER_CHECKPOINTS_AT_PAGES`].
pub(crate) async fn notify_on_commit(
    conn: &mut sqlx::SqliteConnection,
    wake: &Arc<Notify>,
) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // The hook keeps this reference for the connection's whole life, which no Rust owner
    // bounds; one `Notify` per writer connection opened is left allocated for it.
    let wake = Arc::into_raw(wake.clone()) as *mut c_void;
    // SAFETY: `db` is an open connection the locked handle keeps to itself for the call; `wake`
    // points to a `Notify` that is never freed, and `on_commit` only reads it.
    unsafe {
        sqlite3_wal_hook(db, Some(on_commit), wake);
    }
    Ok(())
}

/// Called by SQLite after each commit with the pages now in the log.
unsafe extern "C" fn on_commit(
    wake: *mut c_void,
    db: *mut sqlite3,
    name: *const c_char,
    pages: c_int,
) -> c_int {
    if pages >= WRITER_CHECKPOINTS_AT_PAGES {
        // SAFETY: SQLite hands the hook its own open connection and the database's name; a
        // checkpoint from inside the hook is what SQLite's default hook does.
        unsafe {
            sqlite3_wal_checkpoint_v2(
                db,
                name,
                SQLITE_CHECKPOINT_PASSIVE,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
        }
    } else if pages >= WAKE_AT_PAGES {
        // SAFETY: `wake` came from `Arc::into_raw` in `notify_on_commit` and is never freed.
        let wake = unsafe { &*(wake as *const Notify) };
        wake.notify_one();
    }
    SQLITE_OK
}
