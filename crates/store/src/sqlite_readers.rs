//! SQLite's read connections, lent out without sqlx's pool.
//!
//! An sqlx SQLite connection lives on its own worker thread, and every call is a hand-off to that
//! thread and back. sqlx's pool adds two more per query: it pings a connection when lending it
//! and again, unconditionally, when taking it back. A primary-key read thus cost three thread
//! round trips where one does the work. These connections are local files, so there is nothing for
//! a ping to find out: a connection is lent as it was left.
//!
//! The one case the ping on return covered is a borrower that never finished, such as a request
//! cancelled by its deadline while its query ran. Such a connection is closed instead of being
//! lent again, and the next borrower opens a fresh one.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Readers {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Semaphore,
    acquire_timeout: Duration,
}

/// A connection on loan. Call [`Lent::give_back`] once its work has finished; dropping it
/// otherwise closes the connection.
pub struct Lent<'a> {
    readers: &'a Readers,
    connection: SqliteConnection,
    permit: SemaphorePermit<'a>,
}

impl Readers {
    /// At most `size` connections, opened as borrowers need them; waiting longer than
    /// `acquire_timeout` for one fails as sqlx's pool does, so the API answers 503.
    pub fn new(options: SqliteConnectOptions, size: usize, acquire_timeout: Duration) -> Readers {
        Readers {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
            acquire_timeout,
        }
    }

    pub async fn lend(&self) -> Result<Lent<'_>, sqlx::Error> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle_connections().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => {
                let mut connection = self.options.connect().await?;
                crate::db::keep_plans(&mut connection).await?;
                connection
            }
        };
        Ok(Lent {
            readers: self,
            connection,
            permit,
        })
    }

    /// Refuses every later loan and closes the idle connections; one on loan is closed when it
    /// comes back.
    pub async fn close(&self) {
        self.permits.close();
        let idle: Vec<SqliteConnection> = std::mem::take(&mut *self.idle_connections());
        for connection in idle {
            let _ = connection.close().await;
        }
    }

    fn idle_connections(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Lent<'_> {
    pub fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }

    /// Returns a connection whose last call has finished, successfully or not. The permit goes
    /// back after the connection, so the next borrower finds it idle rather than opening another.
    pub fn give_back(self) {
        let Lent {
            readers,
            connection,
            permit,
        } = self;
        if !readers.permits.is_closed() {
            readers.idle_connections().push(connection);
        }
        drop(permit);
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn readers(size: usize, acquire_timeout: Duration) -> (Readers, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "flexportal-readers-{}",
            flexportal_domain::ids::IdKind::Event.generate()
        ));
        let _ = std::fs::create_dir_all(&dir);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}/r.db", dir.display()))
            .map(|o| o.create_if_missing(true))
            .expect("a valid URL");
        (Readers::new(options, size, acquire_timeout), dir)
    }

    /// Whether this connection has seen [`mark`]: temporary tables live only as long as the
    /// connection that made them.
    async fn marked(lent: &mut Lent<'_>) -> bool {
        sqlx::query("SELECT 1 FROM temp.seen")
            .fetch_optional(lent.connection())
            .await
            .is_ok()
    }

    async fn mark(lent: &mut Lent<'_>) {
        sqlx::query("CREATE TEMP TABLE seen (x)")
            .execute(lent.connection())
            .await
            .expect("a temporary table");
    }

    #[tokio::test]
    async fn a_connection_given_back_is_lent_again_and_an_abandoned_one_is_not() {
        let (readers, dir) = readers(1, Duration::from_secs(5));
        let mut lent = readers.lend().await.expect("a connection");
        mark(&mut lent).await;
        lent.give_back();
        let mut lent = readers.lend().await.expect("a connection");
        assert!(marked(&mut lent).await, "the same connection comes back");

        // A borrower cancelled in the middle of a long query: its connection is not reused.
        let long = async {
            sqlx::query(
                "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 3000000) \
                 SELECT count(*) FROM n",
            )
            .fetch_one(lent.connection())
            .await
        };
        let cut = tokio::time::timeout(Duration::from_millis(50), long).await;
        assert!(cut.is_err(), "the query outlives its deadline");
        drop(lent);
        let mut fresh = readers.lend().await.expect("a connection");
        assert!(!marked(&mut fresh).await, "a new connection");
        let one: (i64,) = sqlx::query_as("SELECT 1")
            .fetch_one(fresh.connection())
            .await
            .expect("the new connection answers");
        assert_eq!(one, (1,));
        fresh.give_back();
        readers.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn waiting_past_the_timeout_and_lending_after_close_fail_as_sqlx_pools_do() {
        let (readers, dir) = readers(1, Duration::from_millis(100));
        let held = readers.lend().await.expect("a connection");
        assert!(matches!(
            readers.lend().await.err(),
            Some(sqlx::Error::PoolTimedOut)
        ));
        held.give_back();
        readers.close().await;
        assert!(matches!(
            readers.lend().await.err(),
            Some(sqlx::Error::PoolClosed)
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
