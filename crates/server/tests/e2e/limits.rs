//! Limits that keep a busy or broken server answering: a request that runs too long and a
//! database that cannot serve are 503 `SERVICE_UNAVAILABLE` with `Retry-After`, never a hang
//! or a 500 with internals, and leave nothing half-written.

use flexportal_client::RawRequest;
use serde_json::json;

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
