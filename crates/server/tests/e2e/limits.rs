//! Limits that keep a busy or broken server answering: a request that runs too long and a
//! database that cannot serve are 503 `SERVICE_UNAVAILABLE` with `Retry-After`, never a hang
//! or a 500 with internals, and leave nothing half-written.

use flexportal_client::RawRequest;
use serde_json::json;
use std::time::Duration;

use crate::on_both;
use crate::support::{Server, fresh_database, simple_product};

fn order() -> serde_json::Value {
    json!({
        "customer": { "email": "limits@example.com", "firstName": "Lim", "lastName": "Its" },
        "billingAddress": { "contactName": "Lim", "streetAddress": "1 St", "city": "Berlin", "country": "DE" },
        "items": [{ "sku": "LAPTOP-A", "quantity": 1, "contractLength": 12 }]
    })
}

on_both!(
    slow_requests_and_lost_databases,
    slow_requests_and_lost_databases
);
async fn slow_requests_and_lost_databases(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();

    // Past its deadline a request is answered 503, and what it had begun is rolled back. The
    // order waits behind a transaction holding its business unit's row (SQLite: the write
    // lock), so it cannot finish in time however fast the machine is.
    let impatient = s
        .sibling(|state| state.request_timeout = std::time::Duration::from_millis(300))
        .await;
    let mut hold = s.db.begin().await.unwrap();
    hold.execute(
        "UPDATE business_units SET updated_at = updated_at WHERE tenant_id = $1",
        vec![tenant.tenant_id.clone().into()],
    )
    .await
    .unwrap();
    let answer = impatient
        .client(&tenant)
        .send(RawRequest::post("/v1/orders", order()))
        .await
        .unwrap();
    drop(hold);
    let body = answer.json.clone().unwrap_or_default();
    assert_eq!(
        (answer.status, body["error"]["code"].as_str()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "{body}"
    );
    assert_eq!(answer.header("retry-after"), Some("1"));
    // The server it shares a database with saw no order, and takes the same one normally.
    let (status, orders) = {
        let r = client.send(RawRequest::get("/v1/orders")).await.unwrap();
        (r.status, r.json.unwrap_or_default())
    };
    assert_eq!(
        (status, orders["count"].as_u64()),
        (200, Some(0)),
        "{orders}"
    );
    let created = client
        .send(RawRequest::post("/v1/orders", order()))
        .await
        .unwrap();
    assert_eq!(created.status, 201);

    // A client that never finishes its request head is disconnected (slowloris), while
    // everyone else is served.
    let strict = s
        .sibling(|state| state.header_read_timeout = Duration::from_millis(500))
        .await;
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = strict.base.trim_start_matches("http://").to_string();
        let mut dawdler = tokio::net::TcpStream::connect(&address).await.unwrap();
        dawdler
            .write_all(b"GET /v1/orders HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), dawdler.read_to_end(&mut rest))
            .await
            .expect("the connection is closed")
            .ok();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let served = strict
            .client(&tenant)
            .send(RawRequest::get("/v1/orders"))
            .await
            .unwrap();
        assert_eq!(served.status, 200);
    }

    // A database that is gone: 503 with Retry-After, no internals, and /readyz says so.
    let (lost, _, cleanup) = fresh_database(s.backend).await.unwrap();
    lost.close().await;
    let orphaned = s.sibling(|state| state.db = lost.clone()).await;
    let answer = orphaned
        .client(&tenant)
        .send(RawRequest::get("/v1/orders"))
        .await
        .unwrap();
    let body = answer.json.clone().unwrap_or_default();
    assert_eq!(
        (answer.status, body["error"]["code"].as_str()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "{body}"
    );
    assert_eq!(answer.header("retry-after"), Some("1"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.to_lowercase().contains("pool"), "{message}");
    let ready = reqwest::get(format!("{}/readyz", orphaned.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    cleanup.run().await;
}

/// PostgreSQL is stopped under load and started again: meanwhile every request is answered 503
/// with `Retry-After` within the request timeout and `/readyz` fails; afterwards the same
/// process serves again, and every order it acknowledged is there. The cluster is the test's own
/// (`initdb` into a temporary folder, its own port), so stopping it disturbs no other test.
#[tokio::test(flavor = "multi_thread")]
async fn database_outage_under_load() {
    use crate::support::cluster::Cluster;
    use crate::support::process::Process;
    flexportal_worker::webhooks::install_tls_provider();
    let Some(cluster) = Cluster::create() else {
        eprintln!("skipped: PostgreSQL's server programs (initdb, pg_ctl) are not installed");
        return;
    };
    cluster.start();
    let url = cluster.url();
    let db = flexportal_server::open_database(&url).await.unwrap();
    let tenant = crate::support::organization_in(&db, "growth").await;
    db.close().await;
    let (key, tenant_id) = (tenant.api_key, tenant.tenant_id);
    let server = Process::start_with(&url, &["--request-timeout", "3"]).await;
    let client = flexportal_client::Client::new(&server.base, &key, &tenant_id);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();

    let outage = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, outage, stop) = (client.clone(), outage.clone(), stop.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut during_outage = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    n += 1;
                    let mut body = order();
                    body["customer"]["email"] = json!(format!("outage{w}-{n}@example.com"));
                    let started = std::time::Instant::now();
                    let down = outage.load(std::sync::atomic::Ordering::SeqCst);
                    let answer = client
                        .send(RawRequest::post("/v1/orders", body))
                        .await
                        .unwrap();
                    let took = started.elapsed();
                    let json = answer.json.clone().unwrap_or_default();
                    match answer.status {
                        201 => acknowledged
                            .push(json["order"]["orderId"].as_str().unwrap().to_string()),
                        503 => {
                            assert_eq!(json["error"]["code"], "SERVICE_UNAVAILABLE", "{json}");
                            assert_eq!(answer.header("retry-after"), Some("1"));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => panic!("{other}: {json}"),
                    }
                    if down {
                        during_outage.push((answer.status, took));
                    }
                }
                (acknowledged, during_outage)
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    outage.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::task::block_in_place(|| cluster.stop());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is down");
    outage.store(false, std::sync::atomic::Ordering::SeqCst);
    tokio::task::block_in_place(|| cluster.start());
    // The same process recovers: orders go through again without a restart.
    let mut recovered = false;
    for _ in 0..150 {
        let probe = client
            .send(RawRequest::get("/v1/orders?limit=1"))
            .await
            .unwrap();
        if probe.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the server serves again once the database is back"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    let mut during_outage = Vec::new();
    for writer in writers {
        let (acks, down) = writer.await.unwrap();
        acknowledged.extend(acks);
        during_outage.extend(down);
    }
    assert!(
        during_outage.iter().any(|(status, _)| *status == 503),
        "the outage was seen: {during_outage:?}"
    );
    let slowest = during_outage
        .iter()
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(5),
        "no request hung: {slowest:?}"
    );
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    for order_id in &acknowledged {
        let found = client
            .send(RawRequest::get(format!("/v1/orders/{order_id}")))
            .await
            .unwrap();
        assert_eq!(found.status, 200, "acknowledged order {order_id}");
    }
    drop(server);
}

/// SQLite made read-only, then full (`query_only`, `max_page_count` on the writer connection):
/// writes are 503 with `Retry-After`, reads go on, nothing acknowledged is lost and the file
/// stays sound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_only_and_full() {
    crate::support::run(crate::support::Backend::Sqlite, |s| {
        Box::pin(read_only_and_full(s))
    })
    .await;
}

async fn read_only_and_full(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut acknowledged = Vec::new();
    let place = |n: usize| {
        let client = client.clone();
        async move {
            let mut body = order();
            body["customer"]["email"] = json!(format!("full{n}@example.com"));
            client
                .send(RawRequest::post("/v1/orders", body))
                .await
                .unwrap()
        }
    };

    s.db.execute("PRAGMA query_only = 1", vec![]).await.unwrap();
    let refused = place(0).await;
    let body = refused.json.clone().unwrap_or_default();
    assert_eq!(
        (refused.status, body["error"]["code"].as_str()),
        (503, Some("SERVICE_UNAVAILABLE")),
        "{body}"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    let read = client.send(RawRequest::get("/v1/orders")).await.unwrap();
    assert_eq!(read.status, 200, "reads go on");
    s.db.execute("PRAGMA query_only = 0", vec![]).await.unwrap();
    let placed = place(1).await;
    assert_eq!(placed.status, 201);
    acknowledged.push(
        placed.json.unwrap()["order"]["orderId"]
            .as_str()
            .unwrap()
            .to_string(),
    );

    // The file may not grow: orders go in while free pages last, then 503.
    let pages: Vec<(i64,)> = s.db.fetch_all("PRAGMA page_count", vec![]).await.unwrap();
    s.db.execute(format!("PRAGMA max_page_count = {}", pages[0].0), vec![])
        .await
        .unwrap();
    let mut full = false;
    for n in 2..500 {
        let answer = place(n).await;
        match answer.status {
            201 => acknowledged.push(
                answer.json.unwrap()["order"]["orderId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            503 => {
                assert_eq!(answer.json.unwrap()["error"]["code"], "SERVICE_UNAVAILABLE");
                full = true;
                break;
            }
            other => panic!("{other}: {:?}", answer.json),
        }
    }
    assert!(full, "the database filled up");
    s.db.execute("PRAGMA max_page_count = 1073741823", vec![])
        .await
        .unwrap();
    assert_eq!(place(1000).await.status, 201, "room again, writes again");
    let check: Vec<(String,)> =
        s.db.fetch_all("PRAGMA integrity_check", vec![])
            .await
            .unwrap();
    assert_eq!(check[0].0, "ok");
    for order_id in &acknowledged {
        let found = client
            .send(RawRequest::get(format!("/v1/orders/{order_id}")))
            .await
            .unwrap();
        assert_eq!(found.status, 200, "{order_id}");
    }
}
