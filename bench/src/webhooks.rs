//! Webhook delivery against event recording, on one machine and one database.
//!
//! 1. Orders go in through the API with no dispatcher running: the rate events are recorded at.
//! 2. A dispatcher starts and drains that backlog to a local receiver: the rate it delivers at.
//! 3. Both at once: orders keep coming while the dispatcher delivers; the backlog is sampled.
//!
//! Delivery over recording at or above 1 means the outbox cannot grow without bound however hard
//! an integration writes; phase 3 shows it while both compete for the same database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use flexportal_client::{Client, RawRequest};
use flexportal_domain::time::now_micros;
use flexportal_store::Db;
use flexportal_worker::webhooks::{Dispatcher, DispatcherConfig, run_dispatcher};
use serde_json::json;

use crate::report::Measure;

/// Distinct `webhook-id`s a receiver has seen, every signature checked as a receiver would.
#[derive(Default)]
struct Seen {
    secret: Mutex<String>,
    ids: Mutex<HashSet<String>>,
    bad_signatures: AtomicI64,
}

impl Seen {
    fn count(&self) -> usize {
        self.ids.lock().map_or(0, |ids| ids.len())
    }
}

pub async fn run(url: &str, orders: usize, concurrency: usize) -> Result<Vec<Measure>, String> {
    let mut config = None;
    let running = crate::server::start(url, |state| {
        state.webhooks.allow_insecure = true;
        state.webhooks.allow_private = true;
        let mut dispatch = DispatcherConfig::new(
            state.webhooks.sealing_key.clone(),
            state.webhook_counters.clone(),
        );
        dispatch.allow_private_targets = true;
        config = Some(dispatch);
    })
    .await?;
    // The API serves without a dispatcher; this bench starts one itself after phase 1.
    let config = config.ok_or("no dispatcher settings")?;
    let (db, client, tenant_id) = (
        running.db.clone(),
        running.client.clone(),
        running.tenant_id.clone(),
    );
    crate::server::product(&client, "PHONE", 12, 29).await?;

    let seen = Arc::new(Seen::default());
    let receiver_url = start_receiver(seen.clone()).await?;
    let registered = client
        .send(RawRequest::post(
            "/v1/webhook-endpoints",
            json!({ "url": receiver_url, "description": "bench receiver" }),
        ))
        .await
        .map_err(|e| e.to_string())?;
    let secret = registered
        .json
        .as_ref()
        .and_then(|j| j["secret"].as_str())
        .ok_or(format!("register endpoint: {}", registered.status))?
        .to_string();
    if let Ok(mut held) = seen.secret.lock() {
        *held = secret;
    }

    println!(
        "database: {}; {orders} orders per phase, {concurrency} writers; one endpoint, all events, at most 4 in flight",
        crate::server::database_name(url)
    );

    // 1. Recording alone.
    let (recorded, write_secs) =
        write_orders(&client, &db, &tenant_id, "solo", orders, concurrency).await?;
    let record_rate = recorded as f64 / write_secs;
    println!(
        "1. recorded {recorded} events in {write_secs:.2} s with no dispatcher: {record_rate:.0} events/s"
    );

    // 2. Delivery alone: the dispatcher drains what phase 1 left.
    let dispatcher = Arc::new(Dispatcher::new(db.clone(), config).map_err(|e| e.to_string())?);
    // Everything queued so far, the endpoint's own creation event included.
    let total = queued(&db, &tenant_id).await? as usize;
    let started = Instant::now();
    let dispatching = tokio::spawn(run_dispatcher(dispatcher));
    wait_for(&db, &seen, total, Duration::from_secs(600)).await?;
    let drain_secs = started.elapsed().as_secs_f64();
    let deliver_rate = total as f64 / drain_secs;
    println!(
        "2. delivered all {total} queued in {drain_secs:.2} s: {deliver_rate:.0} events/s; delivered/recorded = {:.2}",
        deliver_rate / record_rate
    );

    // 3. Both at once, the backlog sampled every 100 ms.
    let peak = Arc::new((AtomicI64::new(0), AtomicI64::new(0)));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (db, peak, sampling) = (db.clone(), peak.clone(), sampling.clone());
        async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok((pending, oldest)) = flexportal_store::webhooks::backlog(&db).await {
                    peak.0.fetch_max(pending, Ordering::Relaxed);
                    if let Some(oldest) = oldest {
                        peak.1.fetch_max(now_micros() - oldest, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let before = seen.count();
    let (recorded_again, write_secs) =
        write_orders(&client, &db, &tenant_id, "both", orders, concurrency).await?;
    let delivered_meanwhile = seen.count() - before;
    let (left, _) = flexportal_store::webhooks::backlog(&db)
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    wait_for(
        &db,
        &seen,
        before + recorded_again as usize,
        Duration::from_secs(600),
    )
    .await?;
    let tail_secs = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    dispatching.abort();
    println!(
        "3. together: recorded {:.0} events/s, delivered {:.0} events/s meanwhile; delivered/recorded = {:.2}",
        recorded_again as f64 / write_secs,
        delivered_meanwhile as f64 / write_secs,
        delivered_meanwhile as f64 / recorded_again as f64
    );
    println!(
        "   backlog: peak {} deliveries, oldest {:.2} s; {left} left when writing stopped, drained {:.2} s later",
        peak.0.load(Ordering::Relaxed),
        peak.1.load(Ordering::Relaxed) as f64 / 1e6,
        tail_secs
    );
    let bad = seen.bad_signatures.load(Ordering::Relaxed);
    if bad > 0 {
        return Err(format!("{bad} deliveries failed signature verification"));
    }
    running.stop().await;
    Ok(vec![
        Measure::at_least(
            "webhook events delivered/s / recorded/s",
            deliver_rate / record_rate,
            1.0,
        ),
        Measure::at_least(
            "webhooks, both at once: delivered / recorded",
            delivered_meanwhile as f64 / recorded_again as f64,
            0.9,
        ),
        Measure::info(
            "webhooks, both at once: peak backlog / oldest row",
            format!(
                "{} rows / {:.2} s",
                peak.0.load(Ordering::Relaxed),
                peak.1.load(Ordering::Relaxed) as f64 / 1e6
            ),
        ),
    ])
}

/// A receiver that answers 200 at once after checking the signature.
async fn start_receiver(seen: Arc<Seen>) -> Result<String, String> {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let secret = seen.secret.lock().map(|s| s.clone()).unwrap_or_default();
                let verified =
                    flexportal_client::webhooks::verify(&secret, &headers, &body).is_ok();
                if !verified {
                    seen.bad_signatures.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
                    && let Ok(mut ids) = seen.ids.lock()
                {
                    ids.insert(id.to_string());
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// `count` orders through the API, `concurrency` at a time, each from a new customer; returns
/// how many deliveries they queued and the seconds it took.
async fn write_orders(
    client: &Client,
    db: &Db,
    tenant_id: &str,
    phase: &'static str,
    count: usize,
    concurrency: usize,
) -> Result<(i64, f64), String> {
    let queued_before = queued(db, tenant_id).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    crate::throughput(count, concurrency, {
        let client = client.clone();
        move || {
            let (client, i) = (client.clone(), next.fetch_add(1, Ordering::Relaxed));
            async move {
                let body = json!({
                    "customer": { "email": format!("{phase}{i}@example.com"), "firstName": "Bench", "lastName": "Buyer" },
                    "billingAddress": { "contactName": "B", "streetAddress": "1 St", "city": "Utrecht", "country": "NL" },
                    "items": [{ "sku": "PHONE-A", "quantity": 1, "contractLength": 12 }]
                });
                let response = client
                    .send(RawRequest::post("/v1/orders", body))
                    .await
                    .map_err(|e| e.to_string())?;
                if response.status != 201 {
                    return Err(format!("order: {}", response.status));
                }
                Ok(())
            }
        }
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    Ok((queued(db, tenant_id).await? - queued_before, secs))
}

async fn queued(db: &Db, tenant_id: &str) -> Result<i64, String> {
    let rows: Vec<(i64,)> = db
        .fetch_all(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1",
            vec![tenant_id.into()],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// Waits until the receiver has seen `total` distinct messages and the outbox has recorded
/// them all, so what one phase leaves unrecorded is not counted against the next.
async fn wait_for(db: &Db, seen: &Seen, total: usize, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if seen.count() >= total {
            let (pending, _) = flexportal_store::webhooks::backlog(db)
                .await
                .map_err(|e| e.to_string())?;
            if pending == 0 {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} of {total} delivered in {limit:?}",
                seen.count()
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
