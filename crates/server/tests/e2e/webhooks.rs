//! Webhooks end to end: a receiver in the test gets every event type, signed, in order; failing,
//! vanishing and hanging receivers; secret rotation; targets that must not be reached.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
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
use crate::support::process::Process;
use crate::support::{Server, Tenant, simple_product};

/// How the receiver answers its next request; 200 when nothing is scripted.
#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answers 200, but only after this long (a hang, if longer than the dispatcher waits).
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
    /// The most requests it has had open at once.
    peak: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start() -> Receiver {
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
        let (open, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (tx, incoming) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let (script, open, peak) = (script.clone(), open.clone(), peak.clone());
                move |headers: HeaderMap, body: Bytes| {
                    let (script, open, peak) = (script.clone(), open.clone(), peak.clone());
                    let tx = tx.clone();
                    async move {
                        let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now_open, Ordering::SeqCst);
                        let reply = script.lock().unwrap().pop_front();
                        let _ = tx.send(Received {
                            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            headers,
                            body: body.to_vec(),
                        });
                        let answer = match reply {
                            Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap(),
                            Some(Reply::Hang(how_long)) => {
                                tokio::time::sleep(how_long).await;
                                StatusCode::OK
                            }
                            None => StatusCode::OK,
                        };
                        open.fetch_sub(1, Ordering::SeqCst);
                        answer
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
            peak,
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
    assert!(
        crate::support::holds_within(Duration::from_secs(10), &mut check).await,
        "{what} did not happen within 10 s"
    );
}

/// Waits until `endpoint` is disabled; returns why it was.
async fn disabled_reason(client: &Client, endpoint: &str) -> String {
    let read = || async {
        let (_, body) = send(
            client,
            RawRequest::get(format!("/v1/webhook-endpoints/{endpoint}")),
        )
        .await;
        body["endpoint"].clone()
    };
    eventually("the endpoint is disabled", || async {
        read().await["enabled"] == false
    })
    .await;
    read().await["disabledReason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The single number `sql` selects for a tenant's endpoint.
async fn count(
    db: &flexportal_store::Db,
    sql: &'static str,
    tenant_id: &str,
    endpoint_id: &str,
) -> i64 {
    let rows: Vec<(i64,)> = db
        .fetch_all(sql, vec![tenant_id.into(), endpoint_id.into()])
        .await
        .unwrap();
    rows[0].0
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

/// An endpoint for `order.created` on `receiver`, the catalog, and an order by `email`: the
/// endpoint's id and secret, and the order.
async fn order_to_new_endpoint(
    client: &Client,
    receiver: &Receiver,
    email: &str,
) -> (String, String, Value) {
    let (endpoint, secret) = register(
        client,
        &receiver.url,
        json!({ "eventTypes": ["order.created"] }),
    )
    .await;
    catalog(client).await;
    let (_, order) = send(client, RawRequest::post("/v1/orders", order_body(email))).await;
    (endpoint, secret, order)
}

/// Replays the order's `order.created` event to `endpoint` alone, which must queue one
/// delivery; returns the event's id.
async fn replay_order_created(client: &Client, order: &Value, endpoint: &str) -> String {
    let (_, events) = send(
        client,
        RawRequest::get(format!(
            "/v1/events?type=order.created&resourceId={}",
            order["orderId"].as_str().unwrap()
        )),
    )
    .await;
    let event_id = events["events"][0]["eventId"].as_str().unwrap().to_string();
    let (status, replayed) = send(
        client,
        RawRequest::post(
            format!("/v1/events/{event_id}/replay"),
            json!({ "endpointId": endpoint }),
        ),
    )
    .await;
    assert_eq!(
        (status, replayed["queued"].as_u64()),
        (200, Some(1)),
        "{replayed}"
    );
    event_id
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
    assert!(
        disabled_reason(&client, &gone_endpoint)
            .await
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

on_both!(at_most_max_in_flight, at_most_max_in_flight);
async fn at_most_max_in_flight(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    receiver.script(&[Reply::Hang(Duration::from_millis(150)); 12]);
    let (endpoint, _) = register(&client, &receiver.url, json!({ "maxInFlight": 3 })).await;
    for _ in 0..12 {
        let (status, _) = send(
            &client,
            RawRequest::post(format!("/v1/webhook-endpoints/{endpoint}/test"), json!({})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let mut ids = BTreeSet::new();
    for _ in 0..12 {
        ids.insert(
            receiver.next().await.headers["webhook-id"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 12);
    // Twelve slow answers, three at a time: the limit is reached and never passed.
    assert_eq!(receiver.peak.load(Ordering::SeqCst), 3);
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

on_both!(
    private_targets_are_refused_at_send_time,
    private_targets_are_refused_at_send_time,
    |state, dispatcher| {
        // Registration sees `rebind.example` on a public address; by the time of sending it
        // points at this machine: DNS rebinding.
        state.webhooks.allow_private = false;
        state.webhooks.host_overrides = flexportal_domain::webhooks::HostOverrides::new([(
            "rebind.example".to_string(),
            vec!["93.184.216.34".parse().unwrap()],
        )]);
        dispatcher.allow_private_targets = false;
        dispatcher.host_overrides = flexportal_domain::webhooks::HostOverrides::new([(
            "rebind.example".to_string(),
            vec!["127.0.0.1".parse().unwrap()],
        )]);
    }
);
async fn private_targets_are_refused_at_send_time(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().unwrap().to_string();
    let (rebound, _) = register(&client, &format!("http://rebind.example:{port}"), json!({})).await;
    // An address literal allowed when it was registered (by a server with the allow flag) is
    // checked again by a dispatcher without it.
    let lenient = s
        .sibling(|state| {
            state.webhooks.allow_insecure = true;
            state.webhooks.allow_private = true;
        })
        .await;
    let (literal, _) = register(&lenient.client(&tenant), &receiver.url, json!({})).await;
    for (endpoint, refusal) in [
        (&rebound, "rebind.example resolves to no public address"),
        (
            &literal,
            "127.0.0.1 is a private, loopback or link-local address",
        ),
    ] {
        let (status, _) = send(
            &client,
            RawRequest::post(format!("/v1/webhook-endpoints/{endpoint}/test"), json!({})),
        )
        .await;
        assert_eq!(status, 200);
        eventually("the refused attempt is logged", || async {
            !attempts(&client, endpoint).await.is_empty()
        })
        .await;
        let log = attempts(&client, endpoint).await;
        assert!(log[0].get("statusCode").is_none(), "{log:?}");
        assert_eq!(log[0]["succeeded"], false);
        assert_eq!(log[0]["error"], refusal, "{log:?}");
    }
    assert!(
        receiver.incoming.try_recv().is_err(),
        "nothing reached the private address"
    );
}

on_both!(
    failing_for_five_days_disables,
    failing_for_five_days_disables
);
async fn failing_for_five_days_disables(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let day = 86_400_000_000_i64;
    let now = flexportal_domain::time::now_micros();
    // Two endpoints that have failed every delivery since before: one for six days, one for
    // four. Both fail once more; only the first has failed for five days in a row.
    let mut six_days = Receiver::start().await;
    let mut four_days = Receiver::start().await;
    six_days.script(&[Reply::Status(500)]);
    four_days.script(&[Reply::Status(500)]);
    let only_orders = json!({ "eventTypes": ["order.created"] });
    let (long_failing, _) = register(&client, &six_days.url, only_orders.clone()).await;
    let (recently_failing, _) = register(&client, &four_days.url, only_orders).await;
    for (endpoint, since) in [
        (&long_failing, now - 6 * day),
        (&recently_failing, now - 4 * day),
    ] {
        s.db.execute(
            "UPDATE webhook_endpoints SET failing_since = $3 WHERE tenant_id = $1 AND endpoint_id = $2",
            vec![tenant.tenant_id.clone().into(), endpoint.clone().into(), since.into()],
        )
        .await
        .unwrap();
    }
    catalog(&client).await;
    send(
        &client,
        RawRequest::post("/v1/orders", order_body("failing@example.com")),
    )
    .await;
    six_days.next().await;
    four_days.next().await;
    // The four-day endpoint's retry succeeds, which ends its run of failures.
    four_days.next().await;
    let reason = disabled_reason(&client, &long_failing).await;
    assert!(reason.contains("five days"), "{reason}");
    let (_, disabled) = send(
        &client,
        RawRequest::get(format!(
            "/v1/events?type=webhook_endpoint.disabled&resourceId={long_failing}"
        )),
    )
    .await;
    assert_eq!(disabled["events"].as_array().unwrap().len(), 1);
    // Its pending retry is dropped, not sent: one attempt logged, nothing more arrives.
    eventually("the retry is dropped", || async {
        count(
            &s.db,
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'failed'",
            &tenant.tenant_id,
            &long_failing,
        )
        .await
            == 1
    })
    .await;
    assert_eq!(attempts(&client, &long_failing).await.len(), 1);
    assert!(six_days.incoming.try_recv().is_err());

    eventually("the recovered endpoint's run of failures ends", || async {
        count(
            &s.db,
            "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2 AND failing_since IS NULL",
            &tenant.tenant_id,
            &recently_failing,
        )
        .await
            == 1
    })
    .await;
    let (_, body) = send(
        &client,
        RawRequest::get(format!("/v1/webhook-endpoints/{recently_failing}")),
    )
    .await;
    assert_eq!(body["endpoint"]["enabled"], true);
}

on_both!(
    replay_while_the_attempt_is_out,
    replay_while_the_attempt_is_out
);
async fn replay_while_the_attempt_is_out(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    // The first attempt is held open long enough to replay the event before it is answered,
    // and answered within the dispatcher's timeout (2 s in tests).
    receiver.script(&[Reply::Hang(Duration::from_secs(1))]);
    let (endpoint, _, order) = order_to_new_endpoint(&client, &receiver, "held@example.com").await;
    let first = receiver.next().await;
    replay_order_created(&client, &order, &endpoint).await;
    // The held attempt's success must not swallow the replay queued meanwhile.
    let again = receiver.next().await;
    assert_eq!(again.headers["webhook-id"], first.headers["webhook-id"]);
    eventually("both attempts are logged", || async {
        attempts(&client, &endpoint).await.len() == 2
    })
    .await;
    let codes: Vec<i64> = attempts(&client, &endpoint)
        .await
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 200]);
}

on_both!(replay_recover_and_metrics, replay_recover_and_metrics);
async fn replay_recover_and_metrics(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    // Ten refusals: every attempt of the (quick, in tests) schedule fails, the delivery fails
    // for good.
    receiver.script(&[Reply::Status(503); 10]);
    let (endpoint, secret, order) =
        order_to_new_endpoint(&client, &receiver, "replay@example.com").await;
    let mut first_id = None;
    for _ in 0..10 {
        let message = receiver.next().await;
        first_id.get_or_insert(message.headers["webhook-id"].to_str().unwrap().to_string());
    }
    eventually("the tenth attempt is logged", || async {
        attempts(&client, &endpoint).await.len() == 10
    })
    .await;
    let text = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("flexportal_webhook_deliveries_total{outcome=\"failed\"}"));
    assert!(text.contains("flexportal_webhook_outbox_pending"));

    // Recover: everything that failed since before the order goes out again, same webhook-id.
    let (status, recovered) = send(
        &client,
        RawRequest::post(
            format!("/v1/webhook-endpoints/{endpoint}/recover"),
            json!({ "since": "2020-01-01T00:00:00Z" }),
        ),
    )
    .await;
    assert_eq!(
        (status, recovered["queued"].as_u64()),
        (200, Some(1)),
        "{recovered}"
    );
    let again = receiver.next().await;
    assert_eq!(
        again.headers["webhook-id"].to_str().unwrap(),
        first_id.as_deref().unwrap()
    );
    verify(&secret, &again.headers, &again.body).unwrap();
    assert_eq!(again.json["data"]["orderId"], order["orderId"]);

    // Replay: the order.created event once more, to this endpoint only.
    let event_id = replay_order_created(&client, &order, &endpoint).await;
    let replay = receiver.next().await;
    assert_eq!(
        replay.headers["webhook-id"].to_str().unwrap(),
        first_id.as_deref().unwrap()
    );
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/events/{event_id}/replay"),
            json!({ "endpointId": "whe_nope" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("WEBHOOK_ENDPOINT_NOT_FOUND"))
    );
    let (status, _) = send(
        &client,
        RawRequest::post("/v1/events/evt_nope/replay", json!({})),
    )
    .await;
    assert_eq!(status, 404);

    // Deleting the endpoint drops what it still had to receive.
    let (status, _) = send(
        &client,
        RawRequest::delete(format!("/v1/webhook-endpoints/{endpoint}")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &client,
        RawRequest::get(format!("/v1/webhook-endpoints/{endpoint}")),
    )
    .await;
    assert_eq!(status, 404);
}

/// `count` order.created events written straight through the store, as fast as it takes them.
async fn many_events(db: &flexportal_store::Db, tenant: &Tenant, count: usize) {
    let unit = flexportal_store::tenancy::business_unit(db, &tenant.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let shapes = flexportal_api::Shapes { exponent: 2 };
    for i in 0..count {
        let new = flexportal_store::orders::NewOrder {
            order_type: "standard".into(),
            customer: flexportal_store::customers::CustomerFields {
                email: Some(format!("burst{i}@example.com")),
                first_name: Some("Burst".into()),
                last_name: Some("Buyer".into()),
                ..Default::default()
            },
            billing_address:
                json!({ "contactName": "B", "streetAddress": "1 St", "city": "X", "country": "NL" })
                    .to_string(),
            shipping_address: None,
            items: vec![flexportal_store::orders::RequestedItem {
                sku: "LAPTOP-A".into(),
                quantity: 1,
                contract_length: Some(12),
            }],
            custom_fields: None,
            notes: None,
            extension_details: None,
            upgrade_details: None,
            created_by: "key_test".into(),
        };
        flexportal_store::orders::create(db, &unit, new, &shapes)
            .await
            .unwrap();
    }
}

/// Receives until every id in `want` has arrived; returns how often each came.
async fn collect(
    receiver: &mut Receiver,
    want: &BTreeSet<String>,
    counts: &mut std::collections::BTreeMap<String, usize>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while !want.iter().all(|id| counts.contains_key(id)) {
        let message = tokio::time::timeout_at(deadline, receiver.incoming.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {} messages arrived", counts.len(), want.len()))
            .unwrap();
        *counts
            .entry(message.headers["webhook-id"].to_str().unwrap().to_string())
            .or_default() += 1;
    }
}

async fn expected_ids(client: &Client) -> BTreeSet<String> {
    client
        .events(EventQuery {
            event_type: Some("order.created".into()),
            limit: Some(100),
            ..Default::default()
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .iter()
        .map(|e| flexportal_domain::webhooks::message_id(&e.event_id))
        .collect()
}

async fn survives_sigkill(backend: crate::support::Backend) {
    let Some((db, url, cleanup)) = crate::support::fresh_database(backend).await else {
        return;
    };
    let tenant = crate::support::organization_in(&db, "growth").await;
    let first = Process::start(&url).await;
    let client = Client::new(&first.base, &tenant.api_key, &tenant.tenant_id);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut receiver = Receiver::start().await;
    // A receiver taking 10 ms per message keeps most of the stream undelivered at the kill.
    receiver.script(&[Reply::Hang(Duration::from_millis(10)); 1_000]);
    register(
        &client,
        &receiver.url,
        json!({ "eventTypes": ["order.created"] }),
    )
    .await;
    let writer = tokio::spawn({
        let (db, tenant) = (db.clone(), tenant.clone());
        async move { many_events(&db, &tenant, 1_000).await }
    });

    // Cut the server off mid-stream, then start it again.
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..100 {
        let message = receiver.next().await;
        *counts
            .entry(message.headers["webhook-id"].to_str().unwrap().to_string())
            .or_default() += 1;
    }
    first.kill();
    // The rest of the 1,000 are written while no server runs: at the restart most of the stream
    // waits in the outbox, some of it leased by the dead process.
    writer.await.unwrap();
    let undelivered: Vec<(i64,)> = db
        .fetch_all(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'pending'",
            vec![tenant.tenant_id.clone().into()],
        )
        .await
        .unwrap();
    assert!(undelivered[0].0 >= 850, "{} undelivered", undelivered[0].0);
    let second = Process::start(&url).await;
    let client = Client::new(&second.base, &tenant.api_key, &tenant.tenant_id);
    let want = expected_ids(&client).await;
    assert_eq!(want.len(), 1_000);
    collect(&mut receiver, &want, &mut counts).await;
    assert_eq!(
        counts.keys().cloned().collect::<BTreeSet<_>>(),
        want,
        "every event arrived, and nothing else"
    );
    second.kill();
    db.close().await;
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_loses_no_webhook_sqlite() {
    survives_sigkill(crate::support::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_loses_no_webhook_postgres() {
    survives_sigkill(crate::support::Backend::Postgres).await;
}

/// Two servers on one PostgreSQL database deliver each of 1,000 events exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn two_servers_deliver_each_event_once() {
    let Some((db, url, cleanup)) =
        crate::support::fresh_database(crate::support::Backend::Postgres).await
    else {
        return;
    };
    let tenant = crate::support::organization_in(&db, "growth").await;
    let one = Process::start(&url).await;
    let two = Process::start(&url).await;
    let client = Client::new(&one.base, &tenant.api_key, &tenant.tenant_id);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut receiver = Receiver::start().await;
    register(
        &client,
        &receiver.url,
        json!({ "eventTypes": ["order.created"], "maxInFlight": 8 }),
    )
    .await;
    many_events(&db, &tenant, 1_000).await;
    let want = expected_ids(&client).await;
    let mut counts = std::collections::BTreeMap::new();
    collect(&mut receiver, &want, &mut counts).await;
    // Anything delivered twice would have arrived by the time the attempt log is complete.
    let log_complete = || async {
        let (_, page) = send(&client, RawRequest::get("/v1/webhook-endpoints?limit=1")).await;
        let endpoint = page["endpoints"][0]["endpointId"]
            .as_str()
            .unwrap()
            .to_string();
        let mut total = 0;
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => {
                    format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100&startAfter={c}")
                }
                None => format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"),
            };
            let (_, page) = send(&client, RawRequest::get(path)).await;
            total += page["deliveries"].as_array().unwrap().len();
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        total == 1_000
    };
    eventually("every attempt is logged", log_complete).await;
    while let Ok(message) = receiver.incoming.try_recv() {
        *counts
            .entry(message.headers["webhook-id"].to_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), 1_000);
    assert!(
        counts.values().all(|n| *n == 1),
        "{} delivered more than once",
        counts.values().filter(|n| **n > 1).count()
    );
    one.kill();
    two.kill();
    db.close().await;
    cleanup.run().await;
}

on_both!(typed_client_for_webhooks, typed_client_for_webhooks);
async fn typed_client_for_webhooks(s: &Server) {
    use flexportal_client::{ListQuery, WebhookEndpointWrite};
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let mut receiver = Receiver::start().await;
    let created = client
        .create_webhook_endpoint(&WebhookEndpointWrite {
            url: Some(receiver.url.clone()),
            event_types: Some(vec!["order.created".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = created.endpoint.endpoint_id.clone();
    assert_eq!(created.endpoint.event_types, ["order.created"]);
    let updated = client
        .update_webhook_endpoint(
            &id,
            &WebhookEndpointWrite {
                event_types: Some(vec!["*".into()]),
                max_in_flight: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.event_types.clone(), updated.max_in_flight),
        (vec!["*".to_string()], 2)
    );
    assert_eq!(client.get_webhook_endpoint(&id).await.unwrap(), updated);
    let page = client
        .list_webhook_endpoints(&ListQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items, [updated]);
    let rotated = client.rotate_webhook_secret(&id).await.unwrap();
    let event_id = client.test_webhook_endpoint(&id).await.unwrap();
    let message = receiver.next().await;
    verify(&rotated.secret, &message.headers, &message.body).unwrap();
    verify(&created.secret, &message.headers, &message.body).unwrap();
    eventually("the ping is logged", || async {
        client
            .list_webhook_deliveries(&id, &ListQuery::default())
            .await
            .unwrap()
            .items
            .len()
            == 1
    })
    .await;
    assert_eq!(client.replay_event(&event_id, Some(&id)).await.unwrap(), 1);
    assert_eq!(
        receiver.next().await.headers["webhook-id"],
        message.headers["webhook-id"]
    );
    client.delete_webhook_endpoint(&id).await.unwrap();
    let err = client.get_webhook_endpoint(&id).await.unwrap_err();
    assert!(
        matches!(err, flexportal_client::Error::Api { status: 404, .. }),
        "{err:?}"
    );
}

/// SIGTERM while a request is half sent and a delivery is under way: the request is answered,
/// the delivery recorded, nothing stays leased, and the process exits 0 well within its grace.
async fn stops_gracefully(backend: crate::support::Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some((db, url, cleanup)) = crate::support::fresh_database(backend).await else {
        return;
    };
    let tenant = crate::support::organization_in(&db, "growth").await;
    let (key, tenant_id) = (tenant.api_key, tenant.tenant_id);
    let server = Process::start_with(&url, &["--shutdown-timeout", "10"]).await;
    let client = Client::new(&server.base, &key, &tenant_id);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut receiver = Receiver::start().await;
    receiver.script(&[Reply::Hang(Duration::from_millis(800))]);
    register(
        &client,
        &receiver.url,
        json!({ "eventTypes": ["order.created"] }),
    )
    .await;
    let (status, _) = send(
        &client,
        RawRequest::post("/v1/orders", order_body("first@example.com")),
    )
    .await;
    assert_eq!(status, 201);
    // The receiver has the delivery and is taking its time over it.
    receiver.next().await;

    // A request whose body is still coming when the signal arrives.
    let body = order_body("second@example.com").to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut half_sent = tokio::net::TcpStream::connect(&address).await.unwrap();
    half_sent
        .write_all(
            format!(
                "POST /v1/orders HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\nTenant-ID: {tenant_id}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // Let the server read the headers and start the request before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let pid = server.child.id().to_string();
    let stopping = tokio::spawn(server.terminate(Duration::from_secs(10)));
    // New connections are refused once it is stopping.
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(&address).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        tokio::net::TcpStream::connect(&address).await.is_err(),
        "a stopping server ({pid}) takes no new connections"
    );
    half_sent.write_all(tail.as_bytes()).await.unwrap();
    let mut answer = String::new();
    half_sent.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let status = stopping.await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The delivery under way was recorded as delivered; nothing is left leased.
    let succeeded: Vec<(i64,)> = db
        .fetch_all(
            "SELECT COUNT(*) FROM webhook_attempts WHERE tenant_id = $1 AND succeeded = 1",
            vec![tenant_id.clone().into()],
        )
        .await
        .unwrap();
    assert_eq!(succeeded[0].0, 1);
    let leased: Vec<(i64,)> = db
        .fetch_all(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1 AND lease_owner IS NOT NULL",
            vec![tenant_id.clone().into()],
        )
        .await
        .unwrap();
    assert_eq!(leased[0].0, 0);
    let orders: Vec<(i64,)> = db
        .fetch_all(
            "SELECT COUNT(*) FROM orders WHERE tenant_id = $1",
            vec![tenant_id.into()],
        )
        .await
        .unwrap();
    assert_eq!(orders[0].0, 2, "the half-sent order was created");
    db.close().await;
    cleanup.run().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_work_under_way_sqlite() {
    stops_gracefully(crate::support::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_finishes_work_under_way_postgres() {
    stops_gracefully(crate::support::Backend::Postgres).await;
}
