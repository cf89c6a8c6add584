//! The contract-end sweep: each policy, two sweeps at once, and thousands of due rentals.

use std::time::Instant;

use flexportal_client::{AssetChanges, EventQuery, NewPricing, NewProduct, NewVariant, RawRequest};
use flexportal_store::customers::CustomerFields;
use flexportal_store::orders::{self as order_store, NewOrder, RequestedItem};
use flexportal_store::rentals::{self as rental_store, NewRental};
use flexportal_worker::sweep_contract_ends;
use serde_json::json;

use crate::on_both;
use crate::support::{Server, Tenant};

async fn catalog(client: &flexportal_client::Client) {
    // The fleets below are many identical orders on purpose.
    client
        .update_business_unit(&json!({ "settings": { "naturalIdempotencyMinutes": 0 } }))
        .await
        .unwrap();
    client
        .create_product(&NewProduct {
            product_sku: Some("BIKE".into()),
            name: Some("Bike".into()),
            specification: Some("e-bike".into()),
            category: Some("Mobility".into()),
            brand: Some("Acme".into()),
            variants: Some(vec![NewVariant {
                variant_sku: Some("BIKE-A".into()),
                variant_name: Some("A".into()),
                grade: Some("A".into()),
                acquisition_cost: Some(900.0),
                pricing: Some(vec![
                    NewPricing {
                        contract_length: Some(1),
                        monthly_price: Some(49.0),
                        ..Default::default()
                    },
                    NewPricing {
                        contract_length: Some(12),
                        monthly_price: Some(39.0),
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            }]),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// `count` rentals of one month that ended long ago, made through the store as the API makes them.
async fn past_rentals(s: &Server, tenant: &Tenant, count: usize) -> Vec<String> {
    rentals_from(s, tenant, count, jiff::civil::date(2020, 1, 1)).await
}

/// `count` one-month rentals starting on `start`.
async fn rentals_from(
    s: &Server,
    tenant: &Tenant,
    count: usize,
    start: jiff::civil::Date,
) -> Vec<String> {
    let unit = flexportal_store::tenancy::business_unit(&s.db, &tenant.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let shapes = flexportal_api::Shapes { exponent: 2 };
    // Orders of at most 100 units keep each order's line list short.
    let mut orders = Vec::new();
    for chunk in 0..count.div_ceil(100) {
        let units = (count - chunk * 100).min(100) as i64;
        let new = NewOrder {
            order_type: "standard".into(),
            customer: CustomerFields {
                email: Some(format!("fleet{count}@example.com")),
                first_name: Some("Fleet".into()),
                last_name: Some("Owner".into()),
                ..Default::default()
            },
            billing_address:
                json!({ "contactName": "F", "streetAddress": "1 St", "city": "X", "country": "NL" })
                    .to_string(),
            shipping_address: None,
            items: vec![RequestedItem {
                sku: "BIKE-A".into(),
                quantity: units,
                contract_length: Some(1),
            }],
            custom_fields: None,
            notes: None,
            extension_details: None,
            upgrade_details: None,
            created_by: "key_test".into(),
        };
        let order = match order_store::create(&s.db, &unit, new, &shapes)
            .await
            .unwrap()
        {
            order_store::Created::New(o) => o,
            order_store::Created::Existing(o) => o,
        };
        orders.push(order);
    }
    let client = s.client(tenant);
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let serial = format!("PAST-{count}-{i:05}");
        let variant = flexportal_store::assets::variant_by_sku(&s.db, &tenant.tenant_id, "BIKE-A")
            .await
            .unwrap()
            .unwrap()
            .0;
        let asset = flexportal_store::assets::NewAsset {
            serial_number: serial.clone(),
            status: "available".into(),
            identifier_type: "serial".into(),
            condition: None,
            location: None,
            notes: None,
            acquisition_cost: None,
            product_image_url: None,
        };
        flexportal_store::assets::create(&s.db, &tenant.tenant_id, &variant, asset, &shapes)
            .await
            .unwrap();
        let rental = NewRental {
            order_id: orders[i / 100].order_id.clone(),
            serial_number: serial,
            customer_id: None,
            start_date: Some(start),
            contract_length: None,
            notes: None,
            created_by: "key_test".into(),
            monthly_override: None,
            upgrade_from_rental_id: None,
            billing_group_id: None,
        };
        let (made, _) = rental_store::create(&s.db, &unit, rental, start, &shapes)
            .await
            .unwrap();
        ids.push(made.rental_id);
    }
    let _ = client;
    ids
}

async fn count_events(client: &flexportal_client::Client, event_type: &str) -> usize {
    use futures_util::TryStreamExt;
    client
        .events(EventQuery {
            event_type: Some(event_type.into()),
            limit: Some(100),
            ..Default::default()
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

on_both!(
    each_policy_and_concurrent_sweeps,
    each_policy_and_concurrent_sweeps
);
async fn each_policy_and_concurrent_sweeps(s: &Server) {
    let shapes = flexportal_server::shapes();

    // auto_terminate (the default): two sweeps at once end each due rental exactly once.
    let terminate = s.organization("growth").await;
    let client = s.client(&terminate);
    catalog(&client).await;
    let due = past_rentals(s, &terminate, 3).await;
    let (a, b) = tokio::join!(
        sweep_contract_ends(&s.db, "eu", shapes.as_ref()),
        sweep_contract_ends(&s.db, "eu", shapes.as_ref())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.ended + b.ended, 3, "{a:?} {b:?}");
    for id in &due {
        let response = client
            .send(RawRequest::get(format!("/v1/subscriptions/{id}")))
            .await
            .unwrap();
        assert_eq!(response.json.unwrap()["status"], "ended_completed");
    }
    assert_eq!(count_events(&client, "subscription.ended").await, 3);
    assert_eq!(count_events(&client, "asset.returned").await, 3);
    assert_eq!(
        client.get_asset("PAST-3-00000").await.unwrap().status,
        "returned"
    );
    let again = sweep_contract_ends(&s.db, "eu", shapes.as_ref())
        .await
        .unwrap();
    assert_eq!(again.ended, 0, "nothing is ended twice");

    // auto_renew_monthly: one more month, with its payment.
    let renew = s.organization("growth").await;
    let client = s.client(&renew);
    catalog(&client).await;
    client
        .update_business_unit(&json!({ "settings": { "contractEndPolicy": "auto_renew_monthly" } }))
        .await
        .unwrap();
    // Ended a few days ago: one renewal carries it past today, so each sweep has one answer.
    let today = flexportal_domain::time::today_in(&jiff::tz::TimeZone::UTC);
    let start = flexportal_domain::billing::add_months(today, -1)
        .checked_sub(jiff::Span::new().days(3))
        .unwrap();
    let due = rentals_from(s, &renew, 1, start).await;
    // Two sweeps at once renew it once: the renewal is a compare-and-set on the end date.
    let (a, b) = tokio::join!(
        sweep_contract_ends(&s.db, "eu", shapes.as_ref()),
        sweep_contract_ends(&s.db, "eu", shapes.as_ref())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.renewed + b.renewed, 1, "{a:?} {b:?}");
    let rental = client
        .send(RawRequest::get(format!("/v1/subscriptions/{}", due[0])))
        .await
        .unwrap()
        .json
        .unwrap();
    assert_eq!(
        (rental["status"].as_str(), rental["contractLength"].as_i64()),
        (Some("active"), Some(2))
    );
    assert_eq!(
        rental["endDate"],
        flexportal_domain::billing::end_date(start, 2).to_string()
    );
    let payments = client
        .send(RawRequest::get(format!("/v1/payments?rentalId={}", due[0])))
        .await
        .unwrap()
        .json
        .unwrap();
    assert_eq!(payments["payments"].as_array().unwrap().len(), 2);
    assert_eq!(count_events(&client, "subscription.extended").await, 1);

    // require_action: the rental stays active, flagged once.
    let act = s.organization("growth").await;
    let client = s.client(&act);
    catalog(&client).await;
    client
        .update_business_unit(&json!({ "settings": { "contractEndPolicy": "require_action" } }))
        .await
        .unwrap();
    let due = past_rentals(s, &act, 1).await;
    sweep_contract_ends(&s.db, "eu", shapes.as_ref())
        .await
        .unwrap();
    sweep_contract_ends(&s.db, "eu", shapes.as_ref())
        .await
        .unwrap();
    let rental = client
        .send(RawRequest::get(format!("/v1/subscriptions/{}", due[0])))
        .await
        .unwrap()
        .json
        .unwrap();
    assert_eq!(rental["status"], "active");
    assert_eq!(
        count_events(&client, "subscription.contract_end_reached").await,
        1
    );

    // Another region's deployment leaves these business units alone.
    let other = sweep_contract_ends(&s.db, "us", shapes.as_ref())
        .await
        .unwrap();
    assert_eq!((other.ended, other.renewed, other.flagged), (0, 0, 0));
    let _ = AssetChanges::default();
}

on_both!(five_thousand_due_rentals, five_thousand_due_rentals);
async fn five_thousand_due_rentals(s: &Server) {
    let shapes = flexportal_server::shapes();
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    catalog(&client).await;
    let count = 5_000;
    past_rentals(s, &tenant, count).await;
    let started = Instant::now();
    let report = sweep_contract_ends(&s.db, "eu", shapes.as_ref())
        .await
        .unwrap();
    eprintln!(
        "contract-end sweep of {count} due rentals on {:?}: {:?}",
        s.backend,
        started.elapsed()
    );
    assert_eq!(report.ended, count);
    let ended = client
        .send(RawRequest::get(
            "/v1/subscriptions?status=ended_completed&limit=1",
        ))
        .await
        .unwrap()
        .json
        .unwrap();
    assert_eq!(ended["count"], 1);
    let active = client
        .send(RawRequest::get("/v1/subscriptions?status=active"))
        .await
        .unwrap()
        .json
        .unwrap();
    assert_eq!(active["rentals"].as_array().unwrap().len(), 0);
    let events = client
        .list_events(&EventQuery {
            event_type: Some("subscription.ended".into()),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.items.len(), 100);
    let all_ended: usize = {
        use futures_util::TryStreamExt;
        flexportal_client::Client::new(&s.base, &tenant.api_key, &tenant.tenant_id)
            .events(EventQuery {
                event_type: Some("subscription.ended".into()),
                limit: Some(100),
                ..Default::default()
            })
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len()
    };
    assert_eq!(all_ended, count, "each rental's end is recorded once");
}
