//! Schema migrations for both dialects, embedded in the binary.
//!
//! Each version is applied in one transaction that first claims its row in `schema_migrations`.
//! Two nodes starting together on PostgreSQL serialise on that primary key (the loser's insert
//! waits, then fails and re-checks), so no advisory lock is needed.

use crate::db::{Db, Dialect};
use crate::{Result, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "foundation",
    sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
    postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
}];

#[derive(sqlx::FromRow)]
struct Applied {
    #[allow(dead_code)]
    version: i64,
}

/// Applies every migration not yet applied. Returns how many were applied now.
pub async fn run(db: &Db) -> Result<usize> {
    let mut tx = db.begin().await?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        vec![],
    )
    .await?;
    tx.commit().await?;

    let mut applied_now = 0;
    for migration in MIGRATIONS {
        let mut tx = db.begin().await?;
        let done: Option<Applied> = tx
            .fetch_optional(
                "SELECT version FROM schema_migrations WHERE version = $1",
                crate::args![migration.version],
            )
            .await?;
        if done.is_some() {
            continue;
        }
        let claimed = tx
            .execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                crate::args![migration.version, migration.name, flexportal_domain::time::now_micros()],
            )
            .await;
        match claimed {
            Ok(_) => {}
            // Another node applied it between our check and our insert.
            Err(StoreError::Unique(_)) => continue,
            Err(e) => return Err(e),
        }
        let script = match tx.dialect() {
            Dialect::Sqlite => migration.sqlite,
            Dialect::Postgres => migration.postgres,
        };
        tx.execute_script(script).await?;
        tx.commit().await?;
        applied_now += 1;
    }
    Ok(applied_now)
}

/// The latest version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}
