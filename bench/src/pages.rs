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

use crate::{median, throughput};

/// Values of the custom field; the filter picks one, so a tenth of the orders match.
const REGIONS: usize = 10;

pub async fn run(url: &str, count: usize) -> Result<(), String> {
    let running = crate::server::start(url, |_| {}).await?;
    let (db, client, tenant_id) = (running.db, running.client, running.tenant_id);
    crate::server::product(&client, "DESK", 12, 39).await?;
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
    let unit = Arc::new(
        flexportal_store::tenancy::business_unit(&db, &tenant_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no business unit")?,
    );
    let seeded = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    throughput(count, 8, {
        let (db, unit) = (db.clone(), unit.clone());
        move || {
            let (db, unit) = (db.clone(), unit.clone());
            let i = next.fetch_add(1, Ordering::Relaxed);
            async move {
                let shapes = flexportal_server::shapes();
                let wire = shapes(2);
                orders::create(&db, &unit, order(i), wire.as_ref())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    })
    .await?;
    db.analyze(&["orders", "order_custom_values", "customers", "events"])
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "database: {}; {count} orders seeded in {:.0} s",
        crate::server::database_name(url),
        seeded.elapsed().as_secs_f64()
    );

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
        let times = walk(&client, &query).await?;
        let window = 10.min(times.len());
        let first = median(&times[..window]);
        let deep = median(&times[times.len() - window..]);
        println!(
            "{label:<28} {:>5} pages; first {window}: {:>6.2} ms, last {window}: {:>6.2} ms; deep/first = {:.2}",
            times.len(),
            first.as_secs_f64() * 1000.0,
            deep.as_secs_f64() * 1000.0,
            deep.as_secs_f64() / first.as_secs_f64()
        );
    }
    Ok(())
}

/// Every page of 100 of the list `query` selects; how long each took.
async fn walk(client: &flexportal_client::Client, query: &str) -> Result<Vec<Duration>, String> {
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/orders?{query}&limit=100&startAfter={c}"),
            None => format!("/v1/orders?{query}&limit=100"),
        };
        let at = Instant::now();
        let page = client
            .send(RawRequest::get(path))
            .await
            .map_err(|e| e.to_string())?;
        times.push(at.elapsed());
        let body = page.json.unwrap_or_default();
        if page.status != 200 {
            return Err(format!("list: {} {body}", page.status));
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Ok(times),
        }
    }
}

fn order(i: usize) -> NewOrder {
    let mut custom = serde_json::Map::new();
    custom.insert("region".into(), json!(format!("r{}", i % REGIONS)));
    NewOrder {
        order_type: "standard".into(),
        customer: CustomerFields {
            email: Some(format!("deep{i}@example.com")),
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
