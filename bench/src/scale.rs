//! The contract-end sweep and the payment list as the rental table grows: 10k, 100k and 1M
//! rentals, each with its asset, binding and payment, of which one in fifty has reached its end.
//!
//! A hundred rentals are made through the store as a template; the rest are copies written by
//! one `INSERT … SELECT` per table (new ids, the same shape), because a million rentals through the
//! API or the store would take hours here. What is measured then runs the real code:
//!
//! - the sweep: seconds per due rental; flat across sizes means its total cost is linear in what
//!   is due, whatever else the table holds. Each size's sweeps end at least [`MIN_SWEPT`] rentals
//!   (the smallest size sweeps several times for it), each from an empty write-ahead log;
//! - the payment list: the first 50 pages of 100 through `GET /v1/payments`, by creation and
//!   filtered on status by due date; milliseconds per row, flat means the list costs the same at
//!   any table size. After an untimed walk, the median of [`WALKS`] walks counts, so every size
//!   is read from warm caches; the first walk's ratios are printed beside.

use std::time::{Duration, Instant};

use flexportal_client::RawRequest;
use flexportal_store::db::Arg;
use flexportal_store::tenancy;
use flexportal_store::{Db, Dialect};

use crate::report::Measure;

/// Rentals made through the store; every other row is a copy of one of these.
const TEMPLATE: usize = 100;
/// One copy in this many is past its end date when made.
const DUE_EVERY: usize = 50;
/// Due rentals a size's sweeps must end before its cost per rental is taken.
const MIN_SWEPT: usize = 2_000;
/// Copies of the template, all of them due, made before each extra sweep.
const REFILL: usize = 2;
const PAGES: usize = 50;
/// Timed walks of each list at each size, after an untimed one.
const WALKS: usize = 5;
const TABLES: &[&str] = &["rentals", "assets", "asset_rentals", "payments"];

pub async fn run(url: &str, sizes: &[usize]) -> Result<Vec<Measure>, String> {
    let running = crate::server::start(url, |_| {}).await?;
    let (db, client, tenant_id) = (&running.db, &running.client, &running.tenant_id);
    let shapes = flexportal_server::shapes();
    crate::server::product(client, "BIKE", 1, 49).await?;
    let unit = tenancy::business_unit(db, tenant_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no business unit")?;
    let today = flexportal_domain::time::today_in(&flexportal_domain::time::time_zone("UTC"));
    crate::sweep::seed_order(db, &unit, "TPL", 0, TEMPLATE, today, "bench-template").await?;

    let mut rows = Vec::new();
    let mut cold = Vec::new();
    let mut copies = 1;
    for &size in sizes {
        let target = size.div_ceil(TEMPLATE);
        let copied = Instant::now();
        copy(db, tenant_id, copies, target, Due::OneIn(DUE_EVERY)).await?;
        copies = target;
        db.analyze(TABLES).await.map_err(|e| e.to_string())?;
        let copy_secs = copied.elapsed().as_secs_f64();

        // One sweep at the smallest size ends only a couple of hundred rentals, a fraction of a
        // second: too short a sample to hold a 20 % band from run to run. There the step sweeps
        // again, each time after copying a few more rentals that are all due, until
        // [`MIN_SWEPT`] have ended, and it adds at most a fifth of the size while doing so.
        let mut ended = 0;
        let mut sweeps = 0;
        let mut sweep = Duration::ZERO;
        let mut added = 0;
        loop {
            checkpoint(db).await?;
            // Marks the sweep's start and end, for a profiler attached to this process.
            println!("sweep at {size} rentals begins");
            let started = Instant::now();
            let report = flexportal_worker::sweep_contract_ends(db, "eu", shapes.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            sweep += started.elapsed();
            println!("sweep at {size} rentals ends");
            if report.ended == 0 {
                return Err(format!(
                    "nothing was due at {size} rentals ({report:?}); sizes must be at least {}",
                    TEMPLATE * 2
                ));
            }
            ended += report.ended;
            sweeps += 1;
            if ended >= MIN_SWEPT || added + TEMPLATE * REFILL > size / 5 {
                break;
            }
            copy(db, tenant_id, copies, copies + REFILL, Due::All).await?;
            copies += REFILL;
            added += TEMPLATE * REFILL;
            db.analyze(TABLES).await.map_err(|e| e.to_string())?;
        }
        // Each list is walked once untimed, then [`WALKS`] times, and the walk of median time
        // counts. The copy leaves a small table entirely in the database's buffers and a large one
        // mostly outside them, so a first walk would compare memory with disk cache rather than
        // the list's work at each size; and one warm walk of 5,000 rows at the smallest size
        // varied by a fifth between runs, as much as the goal allows.
        checkpoint(db).await?;
        let cold_by_due = walk(client, "status=pending&sortBy=dueDate").await?;
        let by_due = median_walk(client, "status=pending&sortBy=dueDate").await?;
        let cold_by_creation = walk(client, "").await?;
        let by_creation = median_walk(client, "").await?;
        let per_due = sweep.as_secs_f64() / ended as f64;
        println!(
            "{size:>8} rentals (copied in {copy_secs:.0} s): {ended} due swept in {:.2} s by {sweeps} \
             sweep(s), {added} due rentals copied between them, {:.3} ms each; \
             payment list {:.4} ms/row by creation, {:.4} ms/row pending by due date",
            sweep.as_secs_f64(),
            per_due * 1000.0,
            per_row(&by_creation),
            per_row(&by_due)
        );
        println!(
            "{size:>8} rentals, first walk: {:.4} ms/row by creation, {:.4} ms/row pending by due date",
            per_row(&cold_by_creation),
            per_row(&cold_by_due)
        );
        rows.push((size, per_due, per_row(&by_creation), per_row(&by_due)));
        cold.push((per_row(&cold_by_creation), per_row(&cold_by_due)));
    }
    running.stop().await;

    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let sizes = format!("{} / {}", label(last.0), label(first.0));
    let mut measures = vec![
        Measure::info(
            "contract-end sweep, ms per due rental at each size",
            rows.iter()
                .map(|r| format!("{:.2}", r.1 * 1000.0))
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        Measure::at_most(
            format!("contract-end sweep cost per rental, {sizes} rentals"),
            last.1 / first.1,
            1.2,
        ),
        Measure::info(
            "payment list, µs per row at each size",
            rows.iter()
                .map(|r| format!("{:.1}", r.2 * 1000.0))
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        Measure::at_most(
            format!("payment list cost per row, {sizes} rentals"),
            last.2 / first.2,
            1.2,
        ),
        Measure::at_most(
            format!("pending payments by due date, cost per row, {sizes} rentals"),
            last.3 / first.3,
            1.2,
        ),
    ];
    if let (Some(cold_first), Some(cold_last)) = (cold.first(), cold.last()) {
        measures.push(Measure::info(
            format!(
                "first walk of each list, cost per row {sizes}: by creation / pending by due date"
            ),
            format!(
                "{:.2} / {:.2}",
                cold_last.0 / cold_first.0,
                cold_last.1 / cold_first.1
            ),
        ));
    }
    measures[0].label = format!(
        "contract-end sweep, ms per due rental at {}",
        rows.iter()
            .map(|r| label(r.0))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    measures[2].label = format!(
        "payment list, µs per row at {}",
        rows.iter()
            .map(|r| label(r.0))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    Ok(measures)
}

fn label(size: usize) -> String {
    match size {
        s if s >= 1_000_000 && s % 1_000_000 == 0 => format!("{}M", s / 1_000_000),
        s if s >= 1_000 && s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

/// Milliseconds per row over the pages walked.
fn per_row(pages: &[Duration]) -> f64 {
    pages.iter().sum::<Duration>().as_secs_f64() * 1000.0 / (pages.len() * 100) as f64
}

/// [`WALKS`] walks of the list; the pages of the one whose total time is the median.
async fn median_walk(
    client: &flexportal_client::Client,
    query: &str,
) -> Result<Vec<Duration>, String> {
    let mut walks = Vec::with_capacity(WALKS);
    for _ in 0..WALKS {
        walks.push(walk(client, query).await?);
    }
    walks.sort_by_key(|pages| pages.iter().sum::<Duration>());
    Ok(walks.swap_remove(WALKS / 2))
}

/// The first [`PAGES`] pages of 100 of `GET /v1/payments?{query}`; how long each took.
async fn walk(client: &flexportal_client::Client, query: &str) -> Result<Vec<Duration>, String> {
    let reads_before = read_calls();
    let mut times = Vec::with_capacity(PAGES);
    let mut cursor: Option<String> = None;
    for _ in 0..PAGES {
        let mut path = format!("/v1/payments?limit=100&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&startAfter={c}"));
        }
        let at = Instant::now();
        let page = client
            .send(RawRequest::get(path))
            .await
            .map_err(|e| e.to_string())?;
        times.push(at.elapsed());
        let body = page.json.unwrap_or_default();
        if page.status != 200 {
            return Err(format!("payments: {} {body}", page.status));
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    if let (Some(before), Some(after)) = (reads_before, read_calls()) {
        println!(
            "  walk of /v1/payments?{query}: {} pages, {} read calls by the process",
            times.len(),
            after.saturating_sub(before)
        );
    }
    Ok(times)
}

/// Read system calls this process has made so far (Linux's `/proc/self/io`): the pages SQLite
/// fetches from the operating system, plus the HTTP exchanges' socket reads, which are the same
/// at every size. `None` where that file does not exist.
fn read_calls() -> Option<u64> {
    crate::proc_file::number("/proc/self/io", "syscr")
}

/// Which copies of the template ended long ago.
enum Due {
    OneIn(usize),
    All,
}

/// Empties the write-ahead log before each timed phase, at every size. The copy leaves its pages
/// there, more at a larger size, and the sweep's first checkpoints would otherwise write them back
/// into the database on the sweep's time; a list would read them through the log's index.
async fn checkpoint(db: &Db) -> Result<(), String> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
        Dialect::Postgres => "CHECKPOINT",
    };
    db.execute(sql, Vec::new())
        .await
        .map(|_| ())
        .map_err(|e| format!("checkpoint: {e}"))
}

/// Copies `from..to` of the template: every template rental, its asset, binding and payments
/// again with ids suffixed `-{copy}`; the copies `due` says ended long ago.
async fn copy(db: &Db, tenant_id: &str, from: usize, to: usize, due: Due) -> Result<(), String> {
    if to <= from {
        return Ok(());
    }
    // The template's keys spelled out, so every copy is found by primary key rather than by a
    // scan of a table that grows with each slice.
    let template: Vec<(String, String)> = db
        .fetch_all(
            "SELECT rental_id, asset_serial_number FROM rentals WHERE tenant_id = $1 AND created_by = 'bench-template'",
            vec![Arg::Text(tenant_id.to_string())],
        )
        .await
        .map_err(|e| e.to_string())?;
    let list = |values: Vec<&String>| {
        values
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rental_ids = list(template.iter().map(|t| &t.0).collect());
    let serials = list(template.iter().map(|t| &t.1).collect());
    // Both dialects take a recursive CTE in front of an INSERT; the copy numbers drive the loop.
    let copies = "WITH RECURSIVE n(k) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT k + 1 FROM n WHERE k + 1 < $2) ";
    let due = match due {
        Due::OneIn(every) => format!("n.k % {every} = 1"),
        Due::All => "1 = 1".to_string(),
    };
    // Copy k is stamped k seconds after its template, as if each batch came a second after the
    // one before: creation order is then insertion order, as it is for rows the API writes. With
    // one timestamp shared by all copies of a row, a page by creation would gather rows from
    // every corner of the table, a layout real data never has.
    const SECOND: i64 = 1_000_000;
    let statements = [
        format!(
            "{copies}INSERT INTO rentals (tenant_id, rental_id, order_id, customer_id, asset_serial_number, product_id, variant_id, sku, product_name, product_image_url, monthly_amount, currency, status, original_contract_length, contract_length, start_date, end_date, list_price, acquisition_cost, total_collected, billing_group_id, customer_email, customer_name, cancellation_details, buyout_details, extension_history, early_return_details, replacement_history, notes, ended_at, contract_end_flagged_at, upgrade_from_rental_id, created_by, created_at, updated_at) \
             SELECT r.tenant_id, r.rental_id || '-' || CAST(n.k AS TEXT), r.order_id, r.customer_id, r.asset_serial_number || '-' || CAST(n.k AS TEXT), r.product_id, r.variant_id, r.sku, r.product_name, r.product_image_url, r.monthly_amount, r.currency, r.status, r.original_contract_length, r.contract_length, \
             CASE WHEN {due} THEN '2019-12-01' ELSE r.start_date END, CASE WHEN {due} THEN '2019-12-31' ELSE r.end_date END, \
             r.list_price, r.acquisition_cost, r.total_collected, r.billing_group_id, r.customer_email, r.customer_name, r.cancellation_details, r.buyout_details, r.extension_history, r.early_return_details, r.replacement_history, r.notes, r.ended_at, r.contract_end_flagged_at, r.upgrade_from_rental_id, 'bench-copy', r.created_at + n.k * {SECOND}, r.updated_at + n.k * {SECOND} \
             FROM n CROSS JOIN rentals r WHERE r.tenant_id = $3 AND r.rental_id IN ({rental_ids})"
        ),
        format!(
            "{copies}INSERT INTO assets (tenant_id, serial_number, product_id, variant_id, sku, product_name, product_image_url, status, identifier_type, condition, location, notes, acquisition_cost, customer_id, rental_id, unavailable_reason, created_at, updated_at) \
             SELECT a.tenant_id, a.serial_number || '-' || CAST(n.k AS TEXT), a.product_id, a.variant_id, a.sku, a.product_name, a.product_image_url, a.status, a.identifier_type, a.condition, a.location, a.notes, a.acquisition_cost, a.customer_id, a.rental_id || '-' || CAST(n.k AS TEXT), a.unavailable_reason, a.created_at + n.k * {SECOND}, a.updated_at + n.k * {SECOND} \
             FROM n CROSS JOIN assets a WHERE a.tenant_id = $3 AND a.serial_number IN ({serials})"
        ),
        format!(
            "{copies}INSERT INTO asset_rentals (tenant_id, serial_number, rental_id, assigned_at, released_at, release_reason, collected) \
             SELECT b.tenant_id, b.serial_number || '-' || CAST(n.k AS TEXT), b.rental_id || '-' || CAST(n.k AS TEXT), b.assigned_at, b.released_at, b.release_reason, b.collected \
             FROM n CROSS JOIN asset_rentals b WHERE b.tenant_id = $3 AND b.serial_number IN ({serials})"
        ),
        format!(
            "{copies}INSERT INTO payments (tenant_id, payment_id, customer_id, rental_id, billing_group_id, payment_type, category, billing_period, due_date, subtotal, tax_amount, tax_rate_bp, total, currency, status, idempotency_key, provider, payment_reference, marked_by, notes, cancellation_reason, failure_reason, next_retry_at, paid_at, created_at, updated_at, line_items) \
             SELECT p.tenant_id, p.payment_id || '-' || CAST(n.k AS TEXT), p.customer_id, p.rental_id || '-' || CAST(n.k AS TEXT), p.billing_group_id, p.payment_type, p.category, p.billing_period, p.due_date, p.subtotal, p.tax_amount, p.tax_rate_bp, p.total, p.currency, p.status, p.idempotency_key || '-' || CAST(n.k AS TEXT), p.provider, p.payment_reference, p.marked_by, p.notes, p.cancellation_reason, p.failure_reason, p.next_retry_at, p.paid_at, p.created_at + n.k * {SECOND}, p.updated_at + n.k * {SECOND}, p.line_items \
             FROM n CROSS JOIN payments p WHERE p.tenant_id = $3 AND p.rental_id IN ({rental_ids})"
        ),
    ];
    // Slices of at most 1,000 copies (100,000 rows) per statement keep each transaction short.
    let mut start = from;
    while start < to {
        let end = (start + 1_000).min(to);
        for sql in &statements {
            db.execute(
                sql.clone(),
                vec![
                    Arg::Int(start as i64),
                    Arg::Int(end as i64),
                    Arg::Text(tenant_id.to_string()),
                ],
            )
            .await
            .map_err(|e| format!("copying rows: {e}"))?;
        }
        start = end;
    }
    Ok(())
}
