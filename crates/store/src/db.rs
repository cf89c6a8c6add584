//! The one place where SQLite and PostgreSQL differ at run time.
//!
//! Store modules write one SQL text with `$1…$n` placeholders (both dialects accept them), pass
//! their parameters as [`Arg`]s, and decode rows into structs declared with [`row!`], which
//! decode from both row types. Nothing outside this file names a backend.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow};

use crate::StoreError;
use crate::sqlite_readers::Readers;
use crate::wal::{self, Checkpointer};

/// A query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    OptText(Option<String>),
    OptInt(Option<i64>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_string))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

/// Declares a row struct that decodes from SQLite and PostgreSQL rows, column by field name.
///
/// sqlx's own derive would pull its macro crate, which builds a second copy of sqlx, the drivers
/// and the bundled SQLite for the compiler host; this does the same job in a few lines.
#[macro_export]
macro_rules! row {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])* $vis struct $name { $($(#[$field_meta])* $field_vis $field: $ty),* }
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $name {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok($name { $($field: row.try_get(stringify!($field))?),* })
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $name {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok($name { $($field: row.try_get(stringify!($field))?),* })
            }
        }
    };
}

/// Builds a `Vec<Arg>` from heterogeneous values.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => { vec![$($crate::db::Arg::from($value)),*] };
}

/// Which SQL dialect a connection speaks, for the rare statement that must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub enum Db {
    /// SQLite allows one writer at a time; a single writer connection makes writers queue in the
    /// pool instead of failing with SQLITE_BUSY, while readers use WAL snapshots in parallel. A
    /// third connection copies the log back into the database file ([`crate::wal`]).
    Sqlite {
        writer: SqlitePool,
        readers: Arc<Readers>,
        checkpointer: Arc<Checkpointer>,
    },
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Rows that decode from both backends.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

pub type Sql = Cow<'static, str>;

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Text(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
            };
        }
        q
    }};
}

macro_rules! run {
    (fetch_all, $exec:expr, $sql:expr, $args:expr) => {
        bind_all!(sqlx::query_as(AssertSqlSafe($sql)), $args)
            .fetch_all($exec)
            .await
    };
    (fetch_optional, $exec:expr, $sql:expr, $args:expr) => {
        bind_all!(sqlx::query_as(AssertSqlSafe($sql)), $args)
            .fetch_optional($exec)
            .await
    };
    (execute, $exec:expr, $sql:expr, $args:expr) => {
        bind_all!(sqlx::query(AssertSqlSafe($sql)), $args)
            .execute($exec)
            .await
            .map(|done| done.rows_affected())
    };
}

/// Runs one read on a connection lent by the SQLite readers, given back once the call has
/// finished, whatever its result.
macro_rules! read {
    ($method:ident, $readers:expr, $sql:expr, $args:expr) => {{
        let mut lent = $readers.lend().await?;
        let result = run!($method, lent.connection(), $sql, $args);
        lent.give_back();
        result
    }};
}

/// Turns on SQLite's query planner stability guarantee for a connection. Without it, SQLite
/// marks a statement for a fresh parse and plan whenever a parameter the planner looked at (a
/// `LIMIT`, a value a join or an index might depend on) is bound again, which with cached
/// statements means on almost every execution: a fifth of the CPU of a read-heavy load went to
/// re-parsing. Our queries are planned for indexes, not for values, as PostgreSQL's generic plans
/// are.
pub(crate) async fn keep_plans(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is an open connection that the locked handle keeps to itself for the call;
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an int pointer, which may be null.
    let rc = unsafe {
        sqlite3_db_config(
            db,
            SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc == SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability setting ({rc})").into(),
        ))
    }
}

/// SQLite reads the database file through a memory map of up to this many bytes (64 GiB, the
/// ceiling `.cargo/config.toml` builds SQLite with) rather than with one `read` call per page.
/// Measured in `bench scale` at a million rentals (a 4.2 GB file, far beyond SQLite's 2 MB page
/// cache): paging through 5,000 pending payments by due date made some 5,500 read calls without
/// the map and 5 with it. The map holds no memory of its own:
/// its pages are the operating system's file cache, which counts in the process's resident size
/// only while mapped and is given back under memory pressure.
const MMAP_BYTES: u64 = 64 << 30;

/// SQLite connections reading at once, each a snapshot of the write-ahead log.
const READERS: usize = 8;

impl Db {
    /// Opens the database named by `url`: `sqlite://path` (created with its folder when missing)
    /// or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        else {
            return Err(StoreError::Config(format!(
                "unsupported database URL scheme in {url:?}: use sqlite:// or postgres://"
            )));
        };
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Config(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("mmap_size", MMAP_BYTES.to_string());
        let wake = Arc::new(tokio::sync::Notify::new());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .after_connect({
                let wake = wake.clone();
                move |conn, _| {
                    let wake = wake.clone();
                    Box::pin(async move {
                        keep_plans(conn).await?;
                        wal::notify_on_commit(conn, &wake).await
                    })
                }
            })
            .connect_with(options.clone())
            .await?;
        let checkpointer = Checkpointer::start(options.clone(), wake).await?;
        let readers = Arc::new(Readers::new(
            options.read_only(true),
            READERS,
            Duration::from_secs(30),
        ));
        Ok(Db::Sqlite {
            writer,
            readers,
            checkpointer,
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`) so a transaction never fails half-way by upgrading a read lock.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn fetch_all<T: Row>(
        &self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { readers, .. } => read!(fetch_all, readers, sql, args)?,
            Db::Postgres(pool) => run!(fetch_all, pool, sql, args)?,
        })
    }

    pub async fn fetch_optional<T: Row>(
        &self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { readers, .. } => read!(fetch_optional, readers, sql, args)?,
            Db::Postgres(pool) => run!(fetch_optional, pool, sql, args)?,
        })
    }

    /// A single write outside an explicit transaction (bookkeeping such as key usage counters).
    pub async fn execute(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { writer, .. } => run!(execute, writer, sql, args)?,
            Db::Postgres(pool) => run!(execute, pool, sql, args)?,
        })
    }

    /// Refreshes the planner's statistics of `tables` (`ANALYZE`, the same statement in both
    /// dialects). Worth it after a bulk load, which otherwise leaves the planner guessing until
    /// the next automatic analyze.
    pub async fn analyze(&self, tables: &[&str]) -> Result<(), StoreError> {
        for table in tables {
            self.execute(format!("ANALYZE {table}"), vec![]).await?;
        }
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        crate::row! {
            struct One {
                #[allow(dead_code)]
                one: i64,
            }
        }
        self.fetch_optional::<One>("SELECT CAST(1 AS BIGINT) AS one", vec![])
            .await
            .is_ok()
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                writer,
                readers,
                checkpointer,
            } => {
                readers.close().await;
                writer.close().await;
                checkpointer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn fetch_all<T: Row>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Tx::Sqlite(tx) => run!(fetch_all, &mut **tx, sql, args)?,
            Tx::Postgres(tx) => run!(fetch_all, &mut **tx, sql, args)?,
        })
    }

    pub async fn fetch_optional<T: Row>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Tx::Sqlite(tx) => run!(fetch_optional, &mut **tx, sql, args)?,
            Tx::Postgres(tx) => run!(fetch_optional, &mut **tx, sql, args)?,
        })
    }

    pub async fn fetch_one<T: Row>(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<T, StoreError> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn execute(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<u64, StoreError> {
        let sql = sql.into();
        Ok(match self {
            Tx::Sqlite(tx) => run!(execute, &mut **tx, sql, args)?,
            Tx::Postgres(tx) => run!(execute, &mut **tx, sql, args)?,
        })
    }

    /// Runs a script of several statements (migrations). No parameters.
    pub async fn execute_script(&mut self, sql: &str) -> Result<(), StoreError> {
        use sqlx::Executor;
        let sql = AssertSqlSafe(sql.to_string());
        match self {
            Tx::Sqlite(tx) => {
                tx.execute(sql).await?;
            }
            Tx::Postgres(tx) => {
                tx.execute(sql).await?;
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
