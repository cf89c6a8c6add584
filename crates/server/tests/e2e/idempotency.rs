//! `Idempotency-Key` on POST: replays, mismatches and requests still in flight.

use flexportal_client::{ProductQuery, RawRequest};
use flexportal_store::idempotency::{self, Claim};

use crate::on_both;
use crate::support::{Server, simple_product};

on_both!(replay_mismatch_and_in_flight, replay_mismatch_and_in_flight);
async fn replay_mismatch_and_in_flight(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let body = serde_json::to_value(simple_product("IDEM", "Idempotent")).unwrap();
    let post = |key: &str, body: serde_json::Value| {
        RawRequest::post("/v1/products", body).header("Idempotency-Key", key)
    };

    let first = client.send(post("key-1", body.clone())).await.unwrap();
    assert_eq!(first.status, 201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let replay = client.send(post("key-1", body.clone())).await.unwrap();
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.bytes, first.bytes,
        "a replay returns the first response byte for byte"
    );
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    // Without a key the same body is an upsert: the product is updated, not duplicated.
    let listed = client
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let events = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("product.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events.items.len(),
        1,
        "the replay did not run the handler again"
    );

    let mut other = body.clone();
    other["name"] = serde_json::json!("Something else");
    let mismatch = client.send(post("key-1", other)).await.unwrap();
    assert_eq!(
        (mismatch.status, mismatch.error_code()),
        (422, Some("IDEMPOTENCY_KEY_REUSED"))
    );
    assert_eq!(
        client
            .list_products(&ProductQuery::default())
            .await
            .unwrap()
            .items[0]
            .name,
        "Idempotent"
    );

    // Refusals are replayed too, so a retry sees the same answer.
    let bad = serde_json::json!({ "productSku": "X" });
    let refused = client.send(post("key-2", bad.clone())).await.unwrap();
    assert_eq!(refused.status, 400);
    let refused_again = client.send(post("key-2", bad)).await.unwrap();
    assert_eq!(
        (refused_again.status, refused_again.bytes.clone()),
        (400, refused.bytes)
    );

    // Keys are scoped to the business unit.
    let elsewhere = s.organization("growth").await;
    let response = s
        .client(&elsewhere)
        .send(post("key-1", body.clone()))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.header("idempotent-replayed")),
        (201, None)
    );

    // A request whose key is still being processed elsewhere is told so.
    let claimed = idempotency::claim(&s.db, &tenant.tenant_id, "key-3", "some-other-request")
        .await
        .unwrap();
    assert_eq!(claimed, Claim::Claimed);
    let busy = client.send(post("key-3", body.clone())).await.unwrap();
    assert_eq!(
        (busy.status, busy.error_code()),
        (409, Some("IDEMPOTENCY_KEY_IN_USE"))
    );

    let too_long = client.send(post(&"k".repeat(256), body)).await.unwrap();
    assert_eq!(
        (too_long.status, too_long.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
}
