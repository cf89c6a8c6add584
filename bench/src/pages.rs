//! Deep pages of the order list: `orders` orders (written through the store), then every page
//! of 100 walked through `GET /v1/orders` for each sort and for a custom-field filter. Keyset
//! pagination should make the thousandth page cost what the first does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flexportal_client::RawRequest;
use flexportal_store::customers::CustomerFields;
use flexportal_store::orders::{self, NewOrder, RequestedItem};
use serde_json::json;

use crate::report::Measure;
use crate::server::Running;
use crate::{median, throughput};

/// Values of the custom field; the filter picks one, so a tenth of the orders match.
const REGIONS: usize = 10;

pub async fn run(url: &str, count: usize) -> Result<Vec<Measure>, String> {
    let running = crate::server::start(url, |_| {}).await?;
    seed(&running, count).await?;
    let measures = walk_every_sort(&running.client).await?;
    running.stop().await;
    Ok(measures)
}

/// The catalog and custom field a unit's orders need, on `client`'s business unit.
pub async fn prepare_unit(client: &flexportal_client::Client) -> Result<(), String> {
    crate::server::product(client, "DESK", 12, 39).await?;
    let settings = client
        .send(RawRequest::patch(
            "/v1/business-units/current",
            json!({ "settings": { "customFields": [
                { "id": "region", "label": "Region", "type": "text", "section": "order" }
            ] } }),
        ))
        .await
        .map_err(|e| e.to_string())?;
    if settings.status != 200 {
        return Err(format!("settings: {}", settings.status));
    }
    Ok(())
}

/// `count` orders on the running server's business unit, through the store, 8 at a time; their
/// ids.
pub async fn seed(running: &Running, count: usize) -> Result<Vec<String>, String> {
    let (db, tenant_id) = (&running.db, &running.tenant_id);
    prepare_unit(&running.client).await?;
    let unit = Arc::new(
        flexportal_store::tenancy::business_unit(db, tenant_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no business unit")?,
    );
    let seeded = Instant::now();
    let mut ids = create_orders(db, &[unit], "deep", count).await?;
    println!(
        "{count} orders seeded in {:.0} s",
        seeded.elapsed().as_secs_f64()
    );
    Ok(ids.pop().unwrap_or_default())
}

/// Every page of the order list for each sort and the custom-field filter: deep page over first.
pub async fn walk_every_sort(client: &flexportal_client::Client) -> Result<Vec<Measure>, String> {
    let mut measures = Vec::new();

    let mut cases: Vec<(String, String)> = [
        "createdAt",
        "updatedAt",
        "orderId",
        "status",
        "totals.total",
    ]
    .iter()
    .map(|sort| (format!("sortBy={sort}"), format!("sorted by {sort}")))
    .collect();
    cases.push((
        "customField_region=r3".into(),
        "filtered on a custom field".into(),
    ));
    for (query, label) in cases {
        let paths = walk(client, &query).await?;
        let window = WINDOW.min(paths.len());
        let (first, deep) = first_and_deep(client, &paths, window).await?;
        println!(
            "{label:<28} {:>5} pages; first {window}: {:>6.2} ms, last {window}: {:>6.2} ms; deep/first = {:.2}",
            paths.len(),
            first.as_secs_f64() * 1000.0,
            deep.as_secs_f64() * 1000.0,
            deep.as_secs_f64() / first.as_secs_f64()
        );
        measures.push(Measure::at_most(
            format!("order list, last pages / first pages, {label}"),
            deep.as_secs_f64() / first.as_secs_f64(),
            1.2,
        ));
        if label.starts_with("filtered") {
            measures.push(Measure::info(
                format!("order list {label}: one page of 100"),
                format!("{:.2} ms", first.as_secs_f64() * 1000.0),
            ));
        }
    }
    Ok(measures)
}

/// Tables whose planner statistics matter to the order list and to order creation.
const ORDER_TABLES: &[&str] = &["orders", "order_custom_values", "customers", "events"];

/// `count` orders spread over `units` in turn, straight through the store, 8 at a time, the
/// planner's statistics refreshed as autovacuum would (it may be off on a test machine, and plans
/// made for an empty table are wrong for a full one); each unit's order ids.
pub async fn create_orders(
    db: &flexportal_store::Db,
    units: &[Arc<flexportal_store::tenancy::BusinessUnit>],
    tag: &str,
    count: usize,
) -> Result<Vec<Vec<String>>, String> {
    let units: Arc<Vec<_>> = Arc::new(units.to_vec());
    let ids = Arc::new(std::sync::Mutex::new(Vec::with_capacity(count)));
    let next = Arc::new(AtomicUsize::new(0));
    let mut done = 0;
    while done < count {
        let batch = (count - done).min(20_000.max(done));
        throughput(batch, 8, {
            let (db, units, ids, next, tag) = (
                db.clone(),
                units.clone(),
                ids.clone(),
                next.clone(),
                tag.to_string(),
            );
            move || {
                let (db, ids) = (db.clone(), ids.clone());
                let i = next.fetch_add(1, Ordering::Relaxed);
                let slot = i % units.len();
                let unit = units[slot].clone();
                let tag = tag.clone();
                async move {
                    let shapes = flexportal_server::shapes();
                    let wire = shapes(2);
                    let created = orders::create(&db, &unit, order(&tag, i), wire.as_ref())
                        .await
                        .map_err(|e| e.to_string())?;
                    let (orders::Created::New(o) | orders::Created::Existing(o)) = created;
                    if let Ok(mut ids) = ids.lock() {
                        ids.push((slot, o.order_id));
                    }
                    Ok(())
                }
            }
        })
        .await?;
        done += batch;
        db.analyze(ORDER_TABLES).await.map_err(|e| e.to_string())?;
    }
    let mut by_unit = vec![Vec::new(); units.len()];
    for (unit, id) in ids.lock().map(|ids| ids.clone()).unwrap_or_default() {
        by_unit[unit].push(id);
    }
    Ok(by_unit)
}

/// Every page of 100 of the list `query` selects; how long each took.
/// Pages at each end of a list whose medians are compared.
const WINDOW: usize = 10;
/// Times each of those pages is read, after the walk that found them.
const ROUNDS: usize = 5;

/// Every page of the list, in order: the path that reads each.
async fn walk(client: &flexportal_client::Client, query: &str) -> Result<Vec<String>, String> {
    let mut paths = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/orders?{query}&limit=100&startAfter={c}"),
            None => format!("/v1/orders?{query}&limit=100"),
        };
        let page = client
            .send(RawRequest::get(path.clone()))
            .await
            .map_err(|e| e.to_string())?;
        let body = page.json.unwrap_or_default();
        if page.status != 200 {
            return Err(format!("list: {} {body}", page.status));
        }
        paths.push(path);
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(paths),
        }
    }
}

/// Median latency of the first `window` pages and of the last `window`. Each is read
/// [`ROUNDS`] times, a first page and a last page in turn, so a pause of the machine or a
/// cache warmed by the walk weighs on both ends alike. Timed during the walk instead, each end
/// read once and seconds apart, the list sorted by creation gave 1.18 and 1.35 in two runs with
/// the same list code.
async fn first_and_deep(
    client: &flexportal_client::Client,
    paths: &[String],
    window: usize,
) -> Result<(Duration, Duration), String> {
    let deep_start = paths.len() - window;
    let (mut first, mut deep) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for i in 0..window {
            first.push(timed_get(client, &paths[i]).await?);
            deep.push(timed_get(client, &paths[deep_start + i]).await?);
        }
    }
    Ok((median(&first), median(&deep)))
}

async fn timed_get(client: &flexportal_client::Client, path: &str) -> Result<Duration, String> {
    let at = Instant::now();
    let page = client
        .send(RawRequest::get(path))
        .await
        .map_err(|e| e.to_string())?;
    let took = at.elapsed();
    if page.status != 200 {
        return Err(format!("list: {}", page.status));
    }
    Ok(took)
}

fn order(tag: &str, i: usize) -> NewOrder {
    let mut custom = serde_json::Map::new();
    custom.insert("region".into(), json!(format!("r{}", i % REGIONS)));
    NewOrder {
        order_type: "standard".into(),
        customer: CustomerFields {
            email: Some(format!("{tag}{i}@example.com")),
            first_name: Some("Deep".into()),
            last_name: Some("Pager".into()),
            ..Default::default()
        },
        billing_address:
            r#"{"contactName":"D","streetAddress":"1 St","city":"Utrecht","country":"NL"}"#.into(),
        shipping_address: None,
        items: vec![RequestedItem {
            sku: "DESK-A".into(),
            quantity: 1 + (i % 3) as i64,
            contract_length: Some(12),
        }],
        custom_fields: Some(custom),
        notes: None,
        extension_details: None,
        upgrade_details: None,
        created_by: "bench".into(),
    }
}
