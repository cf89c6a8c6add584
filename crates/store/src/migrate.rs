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

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "customers_orders",
        sqlite: include_str!("../migrations/sqlite/0002_customers_orders.sql"),
        postgres: include_str!("../migrations/postgres/0002_customers_orders.sql"),
    },
    Migration {
        version: 3,
        name: "assets",
        sqlite: include_str!("../migrations/sqlite/0003_assets.sql"),
        postgres: include_str!("../migrations/postgres/0003_assets.sql"),
    },
    Migration {
        version: 4,
        name: "rentals_payments",
        sqlite: include_str!("../migrations/sqlite/0004_rentals_payments.sql"),
        postgres: include_str!("../migrations/postgres/0004_rentals_payments.sql"),
    },
    Migration {
        version: 5,
        name: "asset_rentals",
        sqlite: include_str!("../migrations/sqlite/0005_asset_rentals.sql"),
        postgres: include_str!("../migrations/postgres/0005_asset_rentals.sql"),
    },
    Migration {
        version: 6,
        name: "webhooks",
        sqlite: include_str!("../migrations/sqlite/0006_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0006_webhooks.sql"),
    },
    Migration {
        version: 7,
        name: "webhook_leases",
        sqlite: include_str!("../migrations/sqlite/0007_webhook_leases.sql"),
        postgres: include_str!("../migrations/postgres/0007_webhook_leases.sql"),
    },
    Migration {
        version: 8,
        name: "billing_groups",
        sqlite: include_str!("../migrations/sqlite/0008_billing_groups.sql"),
        postgres: include_str!("../migrations/postgres/0008_billing_groups.sql"),
    },
    Migration {
        version: 9,
        name: "files",
        sqlite: include_str!("../migrations/sqlite/0009_files.sql"),
        postgres: include_str!("../migrations/postgres/0009_files.sql"),
    },
    Migration {
        version: 10,
        name: "invoices",
        sqlite: include_str!("../migrations/sqlite/0010_invoices.sql"),
        postgres: include_str!("../migrations/postgres/0010_invoices.sql"),
    },
    Migration {
        version: 11,
        name: "auth_epoch",
        sqlite: include_str!("../migrations/sqlite/0011_auth_epoch.sql"),
        postgres: include_str!("../migrations/postgres/0011_auth_epoch.sql"),
    },
    Migration {
        version: 12,
        name: "orders_by_unit",
        sqlite: include_str!("../migrations/sqlite/0012_orders_by_unit.sql"),
        postgres: include_str!("../migrations/postgres/0012_orders_by_unit.sql"),
    },
];

crate::row! {
    struct Applied {
        #[allow(dead_code)]
        version: i64,
    }
}

/// Applies every migration not yet applied. Returns how many were applied now.
pub async fn run(db: &Db) -> Result<usize> {
    run_until(db, latest_version()).await
}

/// Applies the migrations not yet applied up to and including `last`, as a database written by
/// an older release has them; upgrade tests start there.
pub async fn run_until(db: &Db, last: i64) -> Result<usize> {
    let mut tx = db.begin().await?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        vec![],
    )
    .await?;
    tx.commit().await?;

    let mut applied_now = 0;
    for migration in MIGRATIONS.iter().take_while(|m| m.version <= last) {
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
                crate::args![
                    migration.version,
                    migration.name,
                    flexportal_domain::time::now_micros()
                ],
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

/// The shape of a migrated schema, for comparing the two dialects: tables with their columns,
/// and indexes with their table, columns and uniqueness (primary keys excluded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaShape {
    pub columns: std::collections::BTreeSet<(String, String)>,
    pub indexes: std::collections::BTreeSet<(String, String, String, bool)>,
}

crate::row! {
    struct ColumnRow {
        table_name: String,
        column_name: String,
    }
}

crate::row! {
    struct IndexRow {
        index_name: String,
        table_name: String,
        definition: String,
    }
}

/// Reads the schema's shape from the database's own catalog. The catalogs differ by dialect;
/// this is the one place that knows both.
pub async fn schema_shape(db: &Db) -> Result<SchemaShape> {
    let (columns_sql, indexes_sql) = match db.dialect() {
        Dialect::Sqlite => (
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            "SELECT m.name AS index_name, m.tbl_name AS table_name, \
             (CASE WHEN i.\"unique\" = 1 THEN 'unique:' ELSE '' END) || (SELECT group_concat(name, ',') FROM (SELECT c.name FROM pragma_index_info(m.name) c ORDER BY c.seqno)) AS definition \
             FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) i ON i.name = m.name \
             WHERE m.type = 'index' AND m.sql IS NOT NULL",
        ),
        Dialect::Postgres => (
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns WHERE table_schema = current_schema()",
            "SELECT indexname::text AS index_name, tablename::text AS table_name, indexdef::text AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey'",
        ),
    };
    let columns: Vec<ColumnRow> = db.fetch_all(columns_sql, vec![]).await?;
    let indexes: Vec<IndexRow> = db.fetch_all(indexes_sql, vec![]).await?;
    let mut shape = SchemaShape {
        columns: columns
            .into_iter()
            .map(|c| (c.table_name, c.column_name))
            .collect(),
        indexes: Default::default(),
    };
    for index in indexes {
        let (unique, columns) = match db.dialect() {
            Dialect::Sqlite => match index.definition.strip_prefix("unique:") {
                Some(rest) => (true, rest.to_string()),
                None => (false, index.definition.clone()),
            },
            Dialect::Postgres => {
                let unique = index.definition.starts_with("CREATE UNIQUE");
                // A partial index ends in `WHERE (…)`; its columns are in the parentheses before.
                let definition = index.definition.split(" WHERE ").next().unwrap_or_default();
                let inner = definition
                    .rsplit_once('(')
                    .map(|(_, r)| r.trim_end_matches(')'))
                    .unwrap_or("");
                let columns: Vec<&str> = inner
                    .split(',')
                    .map(|c| c.trim().trim_matches('"'))
                    .collect();
                (unique, columns.join(","))
            }
        };
        shape
            .indexes
            .insert((index.index_name, index.table_name, columns, unique));
    }
    Ok(shape)
}
