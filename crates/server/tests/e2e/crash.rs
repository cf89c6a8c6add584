//! Crash safety: writers log every write the server acknowledged while the server is killed
//! (SIGKILL) at random moments; after each restart every acknowledged write is there, no rental
//! is half-written, and no order number was handed out twice.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flexportal_client::{Client, RawRequest};
use serde_json::{Value, json};

use crate::support::process::Process;
use crate::support::{Backend, fresh_database, simple_product};

/// What the server acknowledged with a 2xx.
#[derive(Default)]
struct Acknowledged {
    orders: Vec<String>,
    rentals: Vec<String>,
    paid: Vec<String>,
}

/// A small deterministic generator, so a failure can be replayed from the printed seed.
fn next_random(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

async fn post(client: &Client, path: String, body: Value) -> Option<Value> {
    let response = client.send(RawRequest::post(path, body)).await.ok()?;
    (200..300)
        .contains(&response.status)
        .then(|| response.json.unwrap_or_default())
}

/// One writer: order → asset → rental → first payment paid, again and again, until the server
/// stops answering.
async fn write_until_killed(client: Client, writer: usize, log: Arc<Mutex<Acknowledged>>) {
    for n in 0.. {
        let tag = format!(
            "w{writer}-{n}-{}",
            flexportal_domain::ids::IdKind::Event.generate()
        );
        let Some(order) = post(
            &client,
            "/v1/orders".into(),
            json!({
                "customer": { "email": format!("{tag}@example.com"), "firstName": "Cra", "lastName": "Sh" },
                "billingAddress": { "contactName": "C", "streetAddress": "1 St", "city": "Berlin", "country": "DE" },
                "items": [{ "sku": "LAPTOP-A", "quantity": 1, "contractLength": 12 }]
            }),
        )
        .await
        else {
            return;
        };
        let order_id = order["order"]["orderId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        log.lock().unwrap().orders.push(order_id.clone());
        if post(
            &client,
            "/v1/assets".into(),
            json!({ "serialNumber": tag, "sku": "LAPTOP-A" }),
        )
        .await
        .is_none()
        {
            return;
        }
        let Some(rental) = post(
            &client,
            "/v1/subscriptions".into(),
            json!({ "orderId": order_id, "assetSerialNumber": tag }),
        )
        .await
        else {
            return;
        };
        log.lock()
            .unwrap()
            .rentals
            .push(rental["rentalId"].as_str().unwrap_or_default().to_string());
        let payment = rental["payments"][0]["paymentId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if post(
            &client,
            format!("/v1/payments/{payment}/mark-paid"),
            json!({ "paymentReference": tag }),
        )
        .await
        .is_none()
        {
            return;
        }
        log.lock().unwrap().paid.push(payment);
    }
}

async fn get(client: &Client, path: String) -> (u16, Value) {
    let response = client.send(RawRequest::get(path)).await.unwrap();
    (response.status, response.json.unwrap_or_default())
}

/// Every page of a list.
async fn all(client: &Client, path: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}?limit=100&startAfter={c}"),
            None => format!("{path}?limit=100"),
        };
        let (status, page) = get(client, page_path).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page[key].as_array().unwrap().iter().cloned());
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

async fn survives_kills(backend: Backend) {
    let Some((db, url, cleanup)) = fresh_database(backend).await else {
        return;
    };
    let tenant = crate::support::organization_in(&db, "growth").await;
    let (key, tenant_id) = (tenant.api_key, tenant.tenant_id);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    eprintln!("crash test seed: {seed}");
    let log = Arc::new(Mutex::new(Acknowledged::default()));
    for round in 0..3 {
        let server = Process::start(&url).await;
        let client = Client::new(&server.base, &key, &tenant_id);
        if round == 0 {
            client
                .create_product(&simple_product("LAPTOP", "Laptop"))
                .await
                .unwrap();
        }
        let writers: Vec<_> = (0..4)
            .map(|w| {
                tokio::spawn(write_until_killed(
                    client.clone(),
                    round * 10 + w,
                    log.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400 + next_random(&mut seed) % 800)).await;
        server.kill();
        for writer in writers {
            writer.await.unwrap();
        }
    }

    let server = Process::start(&url).await;
    let client = Client::new(&server.base, &key, &tenant_id);
    let log = std::mem::take(&mut *log.lock().unwrap());
    assert!(!log.rentals.is_empty(), "the writers got rentals through");
    for order_id in &log.orders {
        let (status, _) = get(&client, format!("/v1/orders/{order_id}")).await;
        assert_eq!(status, 200, "acknowledged order {order_id} is there");
    }
    for payment_id in &log.paid {
        let (_, payment) = get(&client, format!("/v1/payments/{payment_id}")).await;
        assert_eq!(payment["payment"]["status"], "paid", "{payment_id}");
    }
    let acknowledged: BTreeSet<&String> = log.rentals.iter().collect();

    // Every rental is whole: its asset on it, its twelve payments, its order fulfilled.
    let rentals = all(&client, "/v1/subscriptions", "rentals").await;
    let ids: BTreeSet<String> = rentals
        .iter()
        .map(|r| r["rentalId"].as_str().unwrap().to_string())
        .collect();
    assert!(
        acknowledged.iter().all(|id| ids.contains(*id)),
        "every acknowledged rental is there"
    );
    for rental in &rentals {
        let rental_id = rental["rentalId"].as_str().unwrap();
        let serial = rental["assetSerialNumber"].as_str().unwrap();
        let (_, asset) = get(&client, format!("/v1/assets/{serial}")).await;
        assert_eq!(
            (asset["status"].as_str(), asset["rentalId"].as_str()),
            (Some("rented_out"), Some(rental_id)),
            "{asset}"
        );
        let (_, payments) = get(
            &client,
            format!("/v1/payments?rentalId={rental_id}&limit=100"),
        )
        .await;
        assert_eq!(
            payments["payments"].as_array().unwrap().len(),
            12,
            "{rental_id}"
        );
        let order_id = rental["orderId"].as_str().unwrap();
        let (_, order) = get(&client, format!("/v1/orders/{order_id}")).await;
        assert_eq!(order["status"], "fulfilled", "{order}");
    }
    // No asset is out on a rental that does not exist.
    let assets = all(&client, "/v1/assets", "assets").await;
    for asset in assets.iter().filter(|a| a["status"] == "rented_out") {
        assert!(
            ids.contains(asset["rentalId"].as_str().unwrap_or_default()),
            "{asset}"
        );
    }
    let orders = all(&client, "/v1/orders", "orders").await;
    let numbers: BTreeSet<&str> = orders
        .iter()
        .map(|o| o["orderNumber"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), orders.len(), "order numbers are unique");
    eprintln!(
        "crash test: {} orders, {} rentals, {} payments paid acknowledged across 3 kills",
        log.orders.len(),
        log.rentals.len(),
        log.paid.len()
    );
    drop(server);
    db.close().await;
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_keeps_every_acknowledged_write_sqlite() {
    survives_kills(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_keeps_every_acknowledged_write_postgres() {
    survives_kills(Backend::Postgres).await;
}
