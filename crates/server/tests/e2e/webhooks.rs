//! Webhooks end to end: a receiver in the test gets every event type, signed, in order; failing,
//! vanishing and hanging receivers; secret rotation; targets that must not be reached.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use flexportal_client::webhooks::verify;
use flexportal_client::{AssetChanges, Client, EventQuery, RawRequest};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::on_both;
use crate::support::{Server, Tenant, simple_product};

/// How the receiver answers its next request; 200 when nothing is scripted.
#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 200, but only after this long: longer than the dispatcher waits.
    Hang(Duration),
}

struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
    json: Value,
}

struct Receiver {
    url: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    incoming: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    async fn start() -> Receiver {
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
        let (tx, incoming) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let script = script.clone();
                move |headers: HeaderMap, body: Bytes| {
                    let script = script.clone();
                    let tx = tx.clone();
                    async move {
                        let reply = script.lock().unwrap().pop_front();
                        let _ = tx.send(Received {
                            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            headers,
                            body: body.to_vec(),
                        });
                        match reply {
                            Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap(),
                            Some(Reply::Hang(how_long)) => {
                                tokio::time::sleep(how_long).await;
                                StatusCode::OK
                            }
                            None => StatusCode::OK,
                        }
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            script,
            incoming,
        }
    }

    fn script(&self, replies: &[Reply]) {
        self.script.lock().unwrap().extend(replies.iter().copied());
    }

    /// The next request, failing the test if none comes within 20 s.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(20), self.incoming.recv())
            .await
            .expect("a webhook within 20 s")
            .expect("receiver running")
    }
}

async fn send(client: &Client, request: RawRequest) -> (u16, Value) {
    let response = client.send(request).await.unwrap();
    (response.status, response.json.unwrap_or(Value::Null))
}

async fn register(client: &Client, url: &str, extra: Value) -> (String, String) {
    let mut body = json!({ "url": url, "description": "test receiver" });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, created) = send(client, RawRequest::post("/v1/webhook-endpoints", body)).await;
    assert_eq!(status, 201, "{created}");
    (
        created["endpoint"]["endpointId"]
            .as_str()
            .unwrap()
            .to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

/// Polls `check` until it holds: for state written just after a receiver has answered.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 10 s");
}

async fn attempts(client: &Client, endpoint_id: &str) -> Vec<Value> {
    let (status, page) = send(
        client,
        RawRequest::get(format!(
            "/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=100&sortDir=asc"
        )),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["deliveries"].as_array().unwrap().clone()
}

async fn catalog(client: &Client) {
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .create_product(&simple_product("PRO", "Laptop Pro"))
        .await
        .unwrap();
    for (serial, sku) in [("WH-1", "LAPTOP-A"), ("WH-2", "PRO-A")] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some(sku.into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
}

fn order_body(email: &str) -> Value {
    json!({
        "customer": { "email": email, "firstName": "Wendy", "lastName": "Hook" },
        "billingAddress": { "contactName": "Wendy", "streetAddress": "3 Hook St", "city": "Berlin", "country": "DE" },
        "items": [{ "sku": "LAPTOP-A", "quantity": 1, "contractLength": 12 }]
    })
}

/// Drives the business unit through every event type of the webhook list.
async fn every_event_type(client: &Client) {
    catalog(client).await;
    let (_, order) = send(
        client,
        RawRequest::post("/v1/orders", order_body("hooked@example.com")),
    )
    .await;
    let (_, other) = send(
        client,
        RawRequest::post("/v1/orders", order_body("gone@example.com")),
    )
    .await;
    let (status, _) = send(
        client,
        RawRequest::post(
            format!("/v1/orders/{}/cancel", other["orderId"].as_str().unwrap()),
            json!({ "reason": "changed mind" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (_, created) = send(
        client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order["orderId"], "assetSerialNumber": "WH-1" }),
        ),
    )
    .await;
    let rental = created["rentalId"].as_str().unwrap().to_string();
    let payments = created["payments"].as_array().unwrap();
    let (status, _) = send(
        client,
        RawRequest::post(
            format!(
                "/v1/payments/{}/mark-paid",
                payments[0]["paymentId"].as_str().unwrap()
            ),
            json!({}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        client,
        RawRequest::post(
            format!(
                "/v1/payments/{}/mark-failed",
                payments[1]["paymentId"].as_str().unwrap()
            ),
            json!({ "reason": "card declined" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental}/extend"),
            json!({ "extensionMonths": 1, "reason": "loyalty" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, upgraded) = send(
        client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental}/upgrade"),
            json!({ "newSku": "PRO-A", "newSerialNumber": "WH-2", "contractLength": 12, "reason": "more power" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{upgraded}");
    let (status, _) = send(
        client,
        RawRequest::post(
            format!(
                "/v1/subscriptions/{}/buyout",
                upgraded["newRentalId"].as_str().unwrap()
            ),
            json!({ "reason": "customer_request" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
}

on_both!(
    every_event_type_arrives_signed_in_order,
    every_event_type_arrives_signed_in_order
);
async fn every_event_type_arrives_signed_in_order(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    let (_, secret) = register(&client, &receiver.url, json!({ "maxInFlight": 1 })).await;
    every_event_type(&client).await;

    let webhook_types = flexportal_domain::webhooks::EVENT_TYPES;
    let expected: Vec<flexportal_client::Event> = client
        .events(EventQuery {
            limit: Some(100),
            sort_dir: Some("asc".into()),
            ..Default::default()
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| webhook_types.contains(&e.event_type.as_str()))
        .collect();
    let types: BTreeSet<&str> = expected.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types.len(),
        webhook_types.len(),
        "the scenario produces every type: {types:?}"
    );

    let mut received = Vec::new();
    for _ in 0..expected.len() {
        received.push(receiver.next().await);
    }
    let mut ids = BTreeSet::new();
    for message in &received {
        verify(&secret, &message.headers, &message.body).expect("a valid signature");
        let id = message.headers["webhook-id"].to_str().unwrap().to_string();
        assert!(ids.insert(id.clone()), "{id} arrived twice");
        assert!(webhook_types.contains(&message.json["event"].as_str().unwrap()));
        assert!(message.json["data"].is_object());
    }
    let want: BTreeSet<String> = expected
        .iter()
        .map(|e| flexportal_domain::webhooks::message_id(&e.event_id))
        .collect();
    assert_eq!(ids, want, "each event once, under its message id");
    // One at a time to this endpoint: they arrive in the order the events happened.
    let times: Vec<&str> = received
        .iter()
        .map(|m| m.json["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    let rental_created = received
        .iter()
        .find(|m| m.json["event"] == "subscription.created")
        .unwrap();
    assert_eq!(
        rental_created.json["data"]["subscriptionId"],
        rental_created.json["data"]["rentalId"]
    );
}

on_both!(
    failing_vanishing_and_hanging_receivers,
    failing_vanishing_and_hanging_receivers
);
async fn failing_vanishing_and_hanging_receivers(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);

    // Three 500s, then 200: four attempts under one webhook-id, one success.
    let mut receiver = Receiver::start().await;
    receiver.script(&[Reply::Status(500), Reply::Status(500), Reply::Status(500)]);
    let (endpoint, secret) = register(&client, &receiver.url, json!({})).await;
    let (status, ping) = send(
        &client,
        RawRequest::post(format!("/v1/webhook-endpoints/{endpoint}/test"), json!({})),
    )
    .await;
    assert_eq!(status, 200, "{ping}");
    let mut ids = BTreeSet::new();
    for _ in 0..4 {
        let message = receiver.next().await;
        verify(&secret, &message.headers, &message.body).unwrap();
        assert_eq!(message.json["event"], "ping");
        ids.insert(message.headers["webhook-id"].to_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "a retry keeps its webhook-id");
    eventually("the fourth attempt is logged", || async {
        attempts(&client, &endpoint).await.len() == 4
    })
    .await;
    let log = attempts(&client, &endpoint).await;
    let codes: Vec<i64> = log
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 500, 200]);
    assert_eq!(log.iter().filter(|a| a["succeeded"] == true).count(), 1);
    assert!(log.iter().all(|a| a["messageId"] == *ids.first().unwrap()));

    // 410 Gone: the endpoint is disabled, with the reason, and gets nothing more.
    let mut gone = Receiver::start().await;
    gone.script(&[Reply::Status(410)]);
    let (gone_endpoint, _) = register(&client, &gone.url, json!({})).await;
    let mut witness = Receiver::start().await;
    register(
        &client,
        &witness.url,
        json!({ "eventTypes": ["order.created"] }),
    )
    .await;
    send(
        &client,
        RawRequest::post(
            format!("/v1/webhook-endpoints/{gone_endpoint}/test"),
            json!({}),
        ),
    )
    .await;
    gone.next().await;
    eventually("the endpoint is disabled", || async {
        let (_, body) = send(
            &client,
            RawRequest::get(format!("/v1/webhook-endpoints/{gone_endpoint}")),
        )
        .await;
        body["endpoint"]["enabled"] == false
    })
    .await;
    let (_, body) = send(
        &client,
        RawRequest::get(format!("/v1/webhook-endpoints/{gone_endpoint}")),
    )
    .await;
    assert!(
        body["endpoint"]["disabledReason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    catalog(&client).await;
    send(
        &client,
        RawRequest::post("/v1/orders", order_body("after@example.com")),
    )
    .await;
    // The witness endpoint receives the order; the disabled one was not even queued.
    assert_eq!(witness.next().await.json["event"], "order.created");
    assert!(gone.incoming.try_recv().is_err());
    assert_eq!(attempts(&client, &gone_endpoint).await.len(), 1);
    let (_, disabled) = send(
        &client,
        RawRequest::get(format!(
            "/v1/events?type=webhook_endpoint.disabled&resourceId={gone_endpoint}"
        )),
    )
    .await;
    assert_eq!(disabled["events"].as_array().unwrap().len(), 1);

    // A receiver slower than the dispatcher's patience: the timeout is logged, the retry lands.
    let mut slow = Receiver::start().await;
    slow.script(&[Reply::Hang(Duration::from_secs(4))]);
    let (slow_endpoint, _) = register(&client, &slow.url, json!({})).await;
    send(
        &client,
        RawRequest::post(
            format!("/v1/webhook-endpoints/{slow_endpoint}/test"),
            json!({}),
        ),
    )
    .await;
    slow.next().await;
    slow.next().await;
    eventually("the retry is logged", || async {
        attempts(&client, &slow_endpoint).await.len() == 2
    })
    .await;
    let log = attempts(&client, &slow_endpoint).await;
    assert!(log[0].get("statusCode").is_none());
    assert!(
        log[0]["error"].as_str().unwrap().contains("timed out"),
        "{log:?}"
    );
    assert_eq!(log[1]["statusCode"], 200);
}

on_both!(secret_rotation_overlaps, secret_rotation_overlaps);
async fn secret_rotation_overlaps(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let quick = s
        .sibling(|state| {
            state.webhooks.allow_insecure = true;
            state.webhooks.allow_private = true;
            state.webhooks.rotation_overlap_secs = 1;
        })
        .await;
    let mut receiver = Receiver::start().await;
    let (endpoint, old) = register(&client, &receiver.url, json!({})).await;
    let (status, rotated) = send(
        &quick.client(&tenant),
        RawRequest::post(
            format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            json!({}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let ping = || {
        send(
            &client,
            RawRequest::post(format!("/v1/webhook-endpoints/{endpoint}/test"), json!({})),
        )
    };
    ping().await;
    let during = receiver.next().await;
    assert_eq!(
        during.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    verify(&old, &during.headers, &during.body).expect("old secret during the overlap");
    verify(&new, &during.headers, &during.body).expect("new secret during the overlap");
    // The overlap is one second here; what is waited for is time itself.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    ping().await;
    let after = receiver.next().await;
    verify(&new, &after.headers, &after.body).expect("new secret after the overlap");
    assert!(verify(&old, &after.headers, &after.body).is_err());
}

on_both!(private_targets_are_refused, private_targets_are_refused);
async fn private_targets_are_refused(s: &Server) {
    let tenant = s.organization("growth").await;
    let strict = s
        .sibling(|state| {
            state.webhooks.allow_insecure = true;
            state.webhooks.host_overrides = flexportal_domain::webhooks::HostOverrides::new([(
                "internal.example".to_string(),
                vec!["10.0.0.1".parse().unwrap()],
            )]);
        })
        .await;
    let client = strict.client(&tenant);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://internal.example/hook",
        "http://[::1]/hook",
    ] {
        let (status, body) = send(
            &client,
            RawRequest::post("/v1/webhook-endpoints", json!({ "url": url })),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR")),
            "{url}"
        );
        assert_eq!(body["error"]["details"][0]["path"], "url");
        assert!(
            body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("private"),
            "{body}"
        );
    }
    // Plain http is refused unless allowed.
    let https_only = s.sibling(|_| {}).await;
    let (status, body) = send(
        &https_only.client(&tenant),
        RawRequest::post(
            "/v1/webhook-endpoints",
            json!({ "url": "http://example.com/hook" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    // With the allow flag (the main test server), the same private target is accepted.
    let (status, _) = send(
        &s.client(&tenant),
        RawRequest::post(
            "/v1/webhook-endpoints",
            json!({ "url": "http://127.0.0.1:9/hook" }),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let (_, listed) = send(&s.client(&tenant), RawRequest::get("/v1/webhook-endpoints")).await;
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 1);
    assert!(
        listed["endpoints"][0].get("secret").is_none(),
        "secrets are shown once"
    );
    let _: &Tenant = &tenant;
}
