//! Background work that runs inside the server every minute, or alone as `flexportal worker`.
//! Every job is idempotent and safe to run on several nodes at once.

pub mod webhooks;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;

use flexportal_domain::time::{time_zone, today_in};
use flexportal_store::rentals::{self, ContractEnd, DueRental};
use flexportal_store::tenancy::{self, BusinessUnit};
use flexportal_store::{Db, Dialect, StoreError, Wire};

/// Makes the event payload renderer for a currency's exponent; the API crate provides it, so
/// events written by the worker look exactly like those written by requests.
pub type Shapes = dyn Fn(u32) -> Box<dyn Wire> + Send + Sync;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub ended: usize,
    pub renewed: usize,
    pub flagged: usize,
    pub skipped: usize,
}

const BATCH: i64 = 500;
/// Rentals ended at once on PostgreSQL, well under its connection pool so requests keep being
/// served. SQLite has one writer: there, overlapping transactions only queue, so one at a time.
const POSTGRES_CONCURRENCY: usize = 4;

/// Applies each business unit's contract-end policy to its active rentals whose last day has
/// passed in that unit's calendar.
pub async fn sweep_contract_ends(
    db: &Db,
    region: &str,
    shapes: &Shapes,
) -> Result<SweepReport, StoreError> {
    // Candidates are read up to tomorrow in UTC, which covers every zone's today; each rental
    // is then checked against its own business unit's date.
    let horizon = today_in(&time_zone("UTC"))
        .tomorrow()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut units: HashMap<String, Option<BusinessUnit>> = HashMap::new();
    let mut report = SweepReport::default();
    let mut cursor: Option<DueRental> = None;
    loop {
        let batch = rentals::due_for_contract_end(db, &horizon, cursor.as_ref(), BATCH).await?;
        let Some(last) = batch.last().cloned() else {
            break;
        };
        for due in &batch {
            if !units.contains_key(&due.tenant_id) {
                let unit = tenancy::business_unit(db, &due.tenant_id).await?;
                units.insert(due.tenant_id.clone(), unit);
            }
        }
        let mut jobs = Vec::with_capacity(batch.len());
        for due in &batch {
            // A deployment serves one region; other regions' rentals are their workers' business.
            match units
                .get(&due.tenant_id)
                .and_then(Option::as_ref)
                .filter(|u| u.region == region)
            {
                Some(unit) => jobs.push((unit, due.rental_id.as_str())),
                None => report.skipped += 1,
            }
        }
        // Each rental ends in its own transaction; running a few at once lets PostgreSQL commit
        // them together instead of waiting for one disk flush per rental.
        let pending: Vec<_> = jobs
            .into_iter()
            .map(|(unit, rental_id)| end_one(db, unit, rental_id, shapes))
            .collect();
        let outcomes: Vec<Result<ContractEnd, StoreError>> = futures_util::stream::iter(pending)
            .buffer_unordered(match db.dialect() {
                Dialect::Postgres => POSTGRES_CONCURRENCY,
                Dialect::Sqlite => 1,
            })
            .collect()
            .await;
        for outcome in outcomes {
            match outcome? {
                ContractEnd::Ended => report.ended += 1,
                ContractEnd::Renewed => report.renewed += 1,
                ContractEnd::Flagged => report.flagged += 1,
                ContractEnd::Skipped => report.skipped += 1,
            }
        }
        if (batch.len() as i64) < BATCH {
            break;
        }
        cursor = Some(last);
    }
    Ok(report)
}

async fn end_one(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    shapes: &Shapes,
) -> Result<ContractEnd, StoreError> {
    let today = today_in(&time_zone(&unit.timezone));
    let wire = shapes(flexportal_domain::money::currency_exponent(&unit.currency));
    rentals::end_contract(db, unit, rental_id, today, wire.as_ref()).await
}

/// Runs the sweep every `every` until the task is dropped; a failed sweep is logged and retried
/// at the next tick.
pub async fn run(db: Db, region: String, shapes: Box<Shapes>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match sweep_contract_ends(&db, &region, shapes.as_ref()).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::info!(
                    ended = report.ended,
                    renewed = report.renewed,
                    flagged = report.flagged,
                    "contract-end sweep"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "contract-end sweep failed; retrying at the next tick")
            }
        }
    }
}
