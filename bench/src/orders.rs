//! Orders through the API against the database's own ceiling, same database, same concurrency:
//!
//! - creates: `POST /v1/orders` against `store::orders::create` called directly (the same
//!   transaction without HTTP, authentication, rate limiting and JSON);
//! - reads: `GET /v1/orders/{id}` against the raw primary-key select;
//! - the HTTP floor: `GET /healthz` (no authentication, no database) against the same select, the
//!   most any endpoint could reach on this machine, client and server sharing its cores;
//!   both HTTP read rates are taken with the lean client of `http.rs`;
//! - latency at a fixed offered load of reads: p50 and p99.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flexportal_client::RawRequest;
use flexportal_store::customers::CustomerFields;
use flexportal_store::orders::{self, NewOrder, RequestedItem};
use serde_json::json;

use crate::report::Measure;
use crate::throughput;

/// Reads by id each way, at least: enough for a couple of seconds at the rates seen here.
const READS: usize = 60_000;

pub async fn run(url: &str, count: usize, concurrency: usize) -> Result<Vec<Measure>, String> {
    let running = crate::server::start(url, |_| {}).await?;
    let (db, client, tenant_id) = (
        running.db.clone(),
        running.client.clone(),
        running.tenant_id.clone(),
    );
    crate::server::product(&client, "TAB", 12, 19).await?;
    let mut measures = Vec::new();
    println!(
        "database: {}; {count} orders each way, {concurrency} at a time",
        crate::server::database_name(url)
    );

    // Creates through HTTP and straight through the store, in the order API, store, store, API,
    // so that whatever drifts during the run (table size, WAL, caches) weighs on both alike.
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(std::sync::Mutex::new(Vec::with_capacity(count)));
    let unit = flexportal_store::tenancy::business_unit(&db, &tenant_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no business unit")?;
    let unit = Arc::new(unit);
    let (first, second) = (count / 2, count - count / 2);
    let api_first = api_creates(&client, &next, &ids, first, concurrency).await?;
    let store_first = store_creates(&db, &unit, &next, first, concurrency).await?;
    let store_second = store_creates(&db, &unit, &next, second, concurrency).await?;
    let api_second = api_creates(&client, &next, &ids, second, concurrency).await?;
    let combined = |a: f64, b: f64| count as f64 / (first as f64 / a + second as f64 / b);
    let (api_rate, db_rate) = (
        combined(api_first, api_second),
        combined(store_first, store_second),
    );
    println!(
        "creates: API {api_rate:.0}/s, store {db_rate:.0}/s; API/store = {:.2}",
        api_rate / db_rate
    );
    measures.push(Measure::at_least(
        "orders created/s: API / store",
        api_rate / db_rate,
        0.5,
    ));

    // Reads by id: through HTTP, and the primary-key select alone. A few thousand reads take a
    // fraction of a second, where a pause of the virtual machine moves the rate by a third; so
    // each way reads [`READS`] in two halves, in the order API, select, select, API.
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().map(|v| v.clone()).unwrap_or_default());
    let reads = READS.max(count * 2);
    let credentials = crate::http::Credentials {
        secret: running.secret.clone(),
        tenant_id: tenant_id.clone(),
    };
    let api_reads = |n: usize| {
        crate::http::get_rate(
            running.address,
            Some(credentials.clone()),
            n,
            concurrency,
            {
                let ids = ids.clone();
                move |k| format!("/v1/orders/{}", ids[(k * 7) % ids.len()])
            },
        )
    };
    let select_reads = |n: usize| {
        throughput(n, concurrency, {
            let (db, ids, tenant_id, next) = (
                db.clone(),
                ids.clone(),
                tenant_id.clone(),
                Arc::new(AtomicUsize::new(0)),
            );
            move || {
                let (db, tenant_id) = (db.clone(), tenant_id.clone());
                let id = ids[next.fetch_add(7, Ordering::Relaxed) % ids.len()].clone();
                async move {
                    orders::get(&db, &tenant_id, &id)
                        .await
                        .map_err(|e| e.to_string())?
                        .map(|_| ())
                        .ok_or("missing order".to_string())
                }
            }
        })
    };
    let half = reads / 2;
    let api_first = api_reads(half).await?;
    let select_first = select_reads(half).await?;
    let select_second = select_reads(half).await?;
    let api_second = api_reads(half).await?;
    let both = |a: f64, b: f64| 2.0 / (1.0 / a + 1.0 / b);
    let (api_get, db_get) = (
        both(api_first, api_second),
        both(select_first, select_second),
    );
    println!(
        "GET /v1/orders/{{id}}: API {api_get:.0}/s, primary-key select {db_get:.0}/s; API/select = {:.2}",
        api_get / db_get
    );
    measures.push(Measure::at_least(
        "GET /v1/orders/{id}/s: API / primary-key select",
        api_get / db_get,
        0.5,
    ));
    let auth = throughput(reads, concurrency, {
        let (db, secret, tenant_id) = (db.clone(), running.secret.clone(), tenant_id.clone());
        move || {
            let (db, secret, tenant_id) = (db.clone(), secret.clone(), tenant_id.clone());
            async move {
                flexportal_store::tenancy::authenticate(&db, &secret, &tenant_id, "eu")
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|_| ())
                    .ok_or("key not found".to_string())
            }
        }
    })
    .await?;
    println!("API key lookup alone: {auth:.0}/s");
    measures.push(ratio(
        "API key lookup/s / primary-key select",
        auth / db_get,
    ));
    let floor = crate::http::get_rate(running.address, None, reads, concurrency, |_| {
        "/healthz".to_string()
    })
    .await?;
    println!("GET /healthz (no auth, no database): {floor:.0}/s");
    measures.push(ratio(
        "GET /healthz/s (HTTP alone) / primary-key select",
        floor / db_get,
    ));
    measures.push(ratio(
        "GET /v1/orders/{id}/s / GET /healthz/s",
        api_get / floor,
    ));
    // A read by id is at least one exchange and one select on the same cores; taking both in
    // turn bounds API/select from above before any work of the API's own.
    measures.push(ratio(
        "bound on API/select: one HTTP exchange plus one select, with nothing else",
        floor / (floor + db_get),
    ));

    // The pipeline alone: authentication, rate limit and key usage in front of a handler that
    // answers from the caller's cached business unit, so the difference to `/healthz` is what
    // every `/v1` request pays before its own work.
    let pipeline = crate::http::get_rate(
        running.address,
        Some(credentials.clone()),
        reads,
        concurrency,
        |_| "/v1/business-units/current".to_string(),
    )
    .await?;
    println!("GET /v1/business-units/current (authenticated, no database): {pipeline:.0}/s");
    measures.push(ratio(
        "GET /v1/business-units/current/s (authenticated, no database) / GET /healthz/s",
        pipeline / floor,
    ));

    // Latency at a fixed offered load: half the measured read rate, for five seconds, over as
    // many connections as the rate measurement used.
    let offered = (api_get / 2.0).max(1.0);
    let mut latencies = crate::http::latencies_at(
        running.address,
        Some(credentials),
        offered,
        5.0,
        concurrency,
        {
            let ids = ids.clone();
            move |k| format!("/v1/orders/{}", ids[(k * 13) % ids.len()])
        },
    )
    .await?;
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "GET at {offered:.0}/s offered for 5 s: {} answered, p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
    measures.push(Measure::info(
        "GET /v1/orders/{id} at half that rate: p50 / p99",
        format!(
            "{:.2} / {:.2} ms",
            at(0.50).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0
        ),
    ));
    running.stop().await;
    Ok(measures)
}

type Ids = Arc<std::sync::Mutex<Vec<String>>>;

/// `n` orders through `POST /v1/orders`; their ids go to `ids`. Returns orders per second.
async fn api_creates(
    client: &flexportal_client::Client,
    next: &Arc<AtomicUsize>,
    ids: &Ids,
    n: usize,
    concurrency: usize,
) -> Result<f64, String> {
    let (client, next, ids) = (client.clone(), next.clone(), ids.clone());
    throughput(n, concurrency, move || {
        let (client, ids) = (client.clone(), ids.clone());
        let i = next.fetch_add(1, Ordering::Relaxed);
        async move {
            let answer = client
                .send(RawRequest::post("/v1/orders", order_json(i)))
                .await
                .map_err(|e| e.to_string())?;
            if answer.status != 201 {
                return Err(format!("order: {}", answer.status));
            }
            let id = answer
                .json
                .as_ref()
                .and_then(|j| j["order"]["orderId"].as_str())
                .unwrap_or_default()
                .to_string();
            if let Ok(mut ids) = ids.lock() {
                ids.push(id);
            }
            Ok(())
        }
    })
    .await
}

/// `n` orders through `store::orders::create`. Returns orders per second.
async fn store_creates(
    db: &flexportal_store::Db,
    unit: &Arc<flexportal_store::tenancy::BusinessUnit>,
    next: &Arc<AtomicUsize>,
    n: usize,
    concurrency: usize,
) -> Result<f64, String> {
    let (db, unit, next) = (db.clone(), unit.clone(), next.clone());
    throughput(n, concurrency, move || {
        let (db, unit) = (db.clone(), unit.clone());
        let i = next.fetch_add(1, Ordering::Relaxed);
        async move {
            let shapes = flexportal_server::shapes();
            let wire = shapes(2);
            orders::create(&db, &unit, store_order(i), wire.as_ref())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await
}

fn order_json(i: usize) -> serde_json::Value {
    json!({
        "customer": { "email": format!("api{i}@example.com"), "firstName": "Api", "lastName": "Buyer" },
        "billingAddress": { "contactName": "A", "streetAddress": "1 St", "city": "Utrecht", "country": "NL" },
        "items": [{ "sku": "TAB-A", "quantity": 1, "contractLength": 12 }]
    })
}

fn store_order(i: usize) -> NewOrder {
    NewOrder {
        order_type: "standard".into(),
        customer: CustomerFields {
            email: Some(format!("store{i}@example.com")),
            first_name: Some("Store".into()),
            last_name: Some("Buyer".into()),
            ..Default::default()
        },
        billing_address:
            r#"{"contactName":"S","streetAddress":"1 St","city":"Utrecht","country":"NL"}"#.into(),
        shipping_address: None,
        items: vec![RequestedItem {
            sku: "TAB-A".into(),
            quantity: 1,
            contract_length: Some(12),
        }],
        custom_fields: None,
        notes: None,
        extension_details: None,
        upgrade_details: None,
        created_by: "bench".into(),
    }
}

/// A ratio the table shows without a goal.
fn ratio(label: &str, value: f64) -> Measure {
    Measure::info(label, format!("{value:.2}"))
}
