//! A rental export of N rentals (100,000 by default): how long `POST /v1/exports/rentals` takes
//! and how much the process's peak memory grows while it runs, against the size of the CSV.
//!
//! The server runs in this process, so `/proc/self/status` is its memory. Its high-water mark
//! (`VmHWM`) is reset just before the export (writing `5` to `/proc/self/clear_refs`), so the
//! growth is the export's own and not the seeding's. Streaming means the growth stays a small
//! multiple of the CSV (held once as text, once in the JSON response, once in the object
//! store), not of N rental rows.
//!
//! A hundred rentals are made through the store; the rest are copies written by one
//! `INSERT … SELECT` (new ids, amounts varied), as the scale measurement does.

use std::time::{Duration, Instant};

use flexportal_client::RawRequest;
use flexportal_store::db::Arg;
use flexportal_store::tenancy;
use serde_json::json;

use crate::report::Measure;

const TEMPLATE: usize = 100;

fn status_kib(field: &str) -> Result<u64, String> {
    crate::proc_file::number("/proc/self/status", field)
        .ok_or(format!("no {field} in /proc/self/status"))
}

pub async fn run(url: &str, rentals: usize) -> Result<Vec<Measure>, String> {
    let running = crate::server::start(url, |state| {
        state.request_timeout = Duration::from_secs(600);
    })
    .await?;
    let (db, client, tenant_id) = (&running.db, &running.client, &running.tenant_id);
    crate::server::product(client, "BIKE", 1, 49).await?;
    let unit = tenancy::business_unit(db, tenant_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no business unit")?;
    let today = flexportal_domain::time::today_in(&flexportal_domain::time::time_zone("UTC"));
    let template = TEMPLATE.min(rentals.max(1));
    crate::sweep::seed_order(db, &unit, "EXP", 0, template, today, "bench-template").await?;
    let copies = rentals.div_ceil(template) as i64 - 1;
    if copies > 0 {
        db.execute(
            "WITH RECURSIVE n(k) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT k + 1 FROM n WHERE k < $1) \
             INSERT INTO rentals (tenant_id, rental_id, order_id, customer_id, asset_serial_number, product_id, variant_id, sku, product_name, product_image_url, monthly_amount, currency, status, original_contract_length, contract_length, start_date, end_date, list_price, acquisition_cost, total_collected, billing_group_id, customer_email, customer_name, cancellation_details, buyout_details, extension_history, early_return_details, replacement_history, notes, ended_at, contract_end_flagged_at, upgrade_from_rental_id, created_by, created_at, updated_at) \
             SELECT r.tenant_id, r.rental_id || '-' || CAST(n.k AS TEXT), r.order_id, r.customer_id, r.asset_serial_number || '-' || CAST(n.k AS TEXT), r.product_id, r.variant_id, r.sku, r.product_name, r.product_image_url, r.monthly_amount + n.k, r.currency, r.status, r.original_contract_length, r.contract_length, r.start_date, r.end_date, r.list_price, r.acquisition_cost, r.total_collected, r.billing_group_id, r.customer_email, r.customer_name, r.cancellation_details, r.buyout_details, r.extension_history, r.early_return_details, r.replacement_history, r.notes, r.ended_at, r.contract_end_flagged_at, r.upgrade_from_rental_id, 'bench-copy', r.created_at + n.k, r.updated_at \
             FROM n CROSS JOIN rentals r WHERE r.tenant_id = $2 AND r.created_by = 'bench-template'",
            vec![Arg::Int(copies), Arg::Text(tenant_id.clone())],
        )
        .await
        .map_err(|e| format!("copying rentals: {e}"))?;
    }
    db.analyze(&["rentals", "customers"])
        .await
        .map_err(|e| e.to_string())?;

    // Resets the high-water mark to the current resident size (Linux 4.0+); without it the
    // growth below is only a lower bound.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS")?;
    let started = Instant::now();
    let answer = client
        .send(RawRequest::post("/v1/exports/rentals", json!({})))
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let peak = status_kib("VmHWM")?;
    if answer.status != 200 {
        return Err(format!("export: {} {:?}", answer.status, answer.json));
    }
    let body = answer.json.ok_or("export: no JSON body")?;
    let records = body["totalRecords"].as_u64().unwrap_or(0);
    let csv_bytes = body["csvData"].as_str().map(str::len).unwrap_or(0);
    let fetched = Instant::now();
    let download = client
        .fetch_file(body["downloadUrl"].as_str().unwrap_or_default())
        .await;
    let download_secs = fetched.elapsed().as_secs_f64();
    let same = download.is_ok_and(|d| d.bytes.len() == csv_bytes);
    running.stop().await;

    let mib = |kib: u64| kib as f64 / 1024.0;
    let growth = peak.saturating_sub(before);
    let csv_mib = csv_bytes as f64 / (1024.0 * 1024.0);
    println!(
        "export: {records} rentals in {:.2} s ({:.1} µs per rental), CSV {csv_mib:.1} MiB; \
         RSS before {:.1} MiB, peak {:.1} MiB, growth {:.1} MiB ({:.2}× the CSV){}; \
         download {download_secs:.2} s, same size: {same}",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / records.max(1) as f64,
        mib(before),
        mib(peak),
        mib(growth),
        mib(growth) / csv_mib.max(f64::MIN_POSITIVE),
        if reset {
            ""
        } else {
            " (high-water mark not reset: a lower bound)"
        },
    );
    if records as usize != rentals.div_ceil(template) * template {
        return Err(format!("exported {records} rentals of {rentals}"));
    }
    Ok(vec![
        Measure::info(
            format!("export: rentals ({records})"),
            format!("{:.2} s", took.as_secs_f64()),
        ),
        Measure::info("export: CSV size", format!("{csv_mib:.1} MiB")),
        Measure::info(
            "export: peak memory growth",
            format!("{:.1} MiB", mib(growth)),
        ),
        Measure::info(
            "export: growth per CSV byte",
            format!("{:.2}", mib(growth) / csv_mib.max(f64::MIN_POSITIVE)),
        ),
    ])
}
