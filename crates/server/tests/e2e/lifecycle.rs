//! One device fleet through a whole contract chain over HTTP: order → rental → payments →
//! extend → replace → upgrade → buyout, asserting after every step what the rental, the assets,
//! the payments, the orders, the customer and the event log say.

use flexportal_client::{AssetChanges, Client, RawRequest};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, counts, events_of, simple_product};

async fn get(client: &Client, path: impl Into<String>) -> Value {
    let path = path.into();
    let response = client.send(RawRequest::get(path.clone())).await.unwrap();
    assert_eq!(response.status, 200, "GET {path}");
    response.json.unwrap()
}

async fn post(client: &Client, path: impl Into<String>, body: Value) -> Value {
    let path = path.into();
    let response = client
        .send(RawRequest::post(path.clone(), body))
        .await
        .unwrap();
    let json = response.json.unwrap_or(Value::Null);
    assert!(
        response.status == 200 || response.status == 201,
        "POST {path}: {} {json}",
        response.status
    );
    json
}

/// A rental's payments, oldest due first.
async fn payments(client: &Client, rental_id: &str) -> Vec<Value> {
    let page = get(
        client,
        format!("/v1/payments?rentalId={rental_id}&limit=100&sortBy=dueDate&sortDir=asc"),
    )
    .await;
    page["payments"].as_array().unwrap().clone()
}

fn total_of<'a>(payments: impl IntoIterator<Item = &'a Value>) -> f64 {
    payments
        .into_iter()
        .map(|p| p["total"].as_f64().unwrap())
        .sum()
}

fn with_status<'a>(payments: &'a [Value], status: &str) -> Vec<&'a Value> {
    payments.iter().filter(|p| p["status"] == status).collect()
}

async fn pay(client: &Client, payment: &Value) {
    let id = payment["paymentId"].as_str().unwrap();
    let paid = post(
        client,
        format!("/v1/payments/{id}/mark-paid"),
        json!({ "paymentMethod": "manual", "paymentReference": format!("REF-{id}") }),
    )
    .await;
    assert_eq!(paid["payment"]["status"], "paid");
}

on_both!(order_to_buyout_chain, order_to_buyout_chain);
async fn order_to_buyout_chain(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .update_business_unit(&json!({ "settings": { "buyout": {
            "method": "remaining_months_plus_list_price_percentage", "listPricePercentage": 10 } } }))
        .await
        .unwrap();
    // Both devices cost 700 and list at 1000; 99 a month on 12 months, 79.50 on 24.
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .create_product(&simple_product("PRO", "Laptop Pro"))
        .await
        .unwrap();
    for (serial, sku) in [
        ("CH-L1", "LAPTOP-A"),
        ("CH-L2", "LAPTOP-A"),
        ("CH-P1", "PRO-A"),
    ] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some(sku.into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let order = post(
        &client,
        "/v1/orders",
        json!({
            "customer": { "email": "chain@example.com", "firstName": "Chris", "lastName": "Chain" },
            "billingAddress": { "contactName": "Chris", "streetAddress": "1 Loop St", "city": "Berlin", "country": "DE" },
            "items": [{ "sku": "LAPTOP-A", "quantity": 1, "contractLength": 12 }]
        }),
    )
    .await;
    let order_id = order["orderId"].as_str().unwrap().to_string();
    let customer_id = order["order"]["customer"]["customerId"]
        .as_str()
        .unwrap()
        .to_string();

    // 1. The order's one unit becomes a rental on CH-L1 with twelve payments of 99.
    let created = post(
        &client,
        "/v1/subscriptions",
        json!({ "orderId": order_id, "assetSerialNumber": "CH-L1" }),
    )
    .await;
    let first_id = created["rentalId"].as_str().unwrap().to_string();
    let rental = get(&client, format!("/v1/subscriptions/{first_id}")).await;
    assert_eq!(
        (
            rental["status"].as_str(),
            rental["assetSerialNumber"].as_str(),
            rental["totalCollected"].as_f64(),
            rental["costRecoveryPercent"].as_f64(),
            rental["breakevenMonths"].as_i64(),
            rental["recoveryStatus"].as_str(),
        ),
        (
            Some("active"),
            Some("CH-L1"),
            Some(0.0),
            Some(0.0),
            Some(8),
            Some("recovering")
        )
    );
    let schedule = payments(&client, &first_id).await;
    assert_eq!(schedule.len(), 12);
    assert_eq!(total_of(&schedule), 12.0 * 99.0);
    let asset = get(&client, "/v1/assets/CH-L1").await;
    assert_eq!(
        (asset["status"].as_str(), asset["rentalId"].as_str()),
        (Some("rented_out"), Some(first_id.as_str()))
    );
    assert_eq!(asset["rentalHistory"].as_array().unwrap().len(), 1);
    assert_eq!(asset["rentalHistory"][0]["status"], "active");
    assert_eq!(
        get(&client, format!("/v1/orders/{order_id}")).await["status"],
        "fulfilled"
    );
    let customer = get(&client, format!("/v1/customers/{customer_id}")).await;
    assert_eq!(
        (
            customer["activeRentals"].as_i64(),
            customer["totalDevicesRented"].as_i64(),
            customer["totalMonthlyRevenue"].as_f64()
        ),
        (Some(1), Some(1), Some(99.0))
    );
    assert_eq!(
        events_of(&client, &first_id).await,
        counts(&[("subscription.created", 1)])
    );
    assert_eq!(
        events_of(&client, "CH-L1").await,
        counts(&[("asset.created", 1), ("asset.assigned", 1)])
    );
    assert_eq!(
        events_of(&client, &order_id).await,
        counts(&[("order.created", 1), ("order.fulfilled", 1)])
    );

    // 2. The first payment arrives: 99 of 700 recovered.
    pay(&client, &schedule[0]).await;
    let rental = get(&client, format!("/v1/subscriptions/{first_id}")).await;
    assert_eq!(
        (
            rental["totalCollected"].as_f64(),
            rental["costRecoveryPercent"].as_f64(),
            rental["currentProfit"].as_f64()
        ),
        (Some(99.0), Some(14.14), Some(-601.0))
    );
    assert_eq!(
        get(&client, format!("/v1/customers/{customer_id}")).await["lifetimeCollected"],
        99.0
    );
    let first_payment = schedule[0]["paymentId"].as_str().unwrap();
    assert_eq!(
        events_of(&client, first_payment).await,
        counts(&[("payment.scheduled", 1), ("payment.succeeded", 1)])
    );

    // 3. Six more months at 89: the paid payment keeps its 99, everything after is 89.
    let extended = post(
        &client,
        format!("/v1/subscriptions/{first_id}/extend"),
        json!({ "extensionMonths": 6, "newMonthlyAmount": 89, "reason": "loyalty" }),
    )
    .await;
    assert_eq!(extended["rental"]["contractLength"], 18);
    let schedule = payments(&client, &first_id).await;
    assert_eq!(schedule.len(), 18);
    assert_eq!(total_of(&schedule), 99.0 + 17.0 * 89.0);
    assert_eq!(with_status(&schedule, "paid").len(), 1);
    assert_eq!(
        get(&client, format!("/v1/customers/{customer_id}")).await["totalMonthlyRevenue"],
        89.0
    );

    // 4. CH-L1 is damaged and swapped for CH-L2: same rental, same price; CH-L1 keeps the 99
    // it earned, CH-L2 earns what comes next.
    post(
        &client,
        format!("/v1/subscriptions/{first_id}/replace"),
        json!({ "newSerialNumber": "CH-L2", "replacementReason": "damaged" }),
    )
    .await;
    pay(&client, &schedule[1]).await;
    let rental = get(&client, format!("/v1/subscriptions/{first_id}")).await;
    assert_eq!(
        (
            rental["assetSerialNumber"].as_str(),
            rental["monthlyAmount"].as_f64(),
            rental["totalCollected"].as_f64()
        ),
        (Some("CH-L2"), Some(89.0), Some(188.0))
    );
    let old = get(&client, "/v1/assets/CH-L1").await;
    assert_eq!(
        (
            old["status"].as_str(),
            old["unavailableReason"].as_str(),
            old.get("rentalId")
        ),
        (Some("unavailable"), Some("damaged"), None)
    );
    let entry = &old["rentalHistory"][0];
    assert_eq!(
        (
            entry["rentalId"].as_str(),
            entry["releaseReason"].as_str(),
            entry["collected"].as_f64(),
            entry["releasedAt"].is_string()
        ),
        (
            Some(first_id.as_str()),
            Some("replaced_damaged"),
            Some(99.0),
            true
        )
    );
    assert_eq!(
        (
            old["costRecovery"]["lifetimeCollected"].as_f64(),
            old["costRecovery"]["costRecoveryPercent"].as_f64(),
            old["costRecovery"]["recoveryStatus"].as_str()
        ),
        (Some(99.0), Some(14.14), Some("at_risk")),
        "an idle device under half recovered is at risk"
    );
    let new = get(&client, "/v1/assets/CH-L2").await;
    assert_eq!(
        (
            new["status"].as_str(),
            new["rentalHistory"][0]["collected"].as_f64(),
            new["rentalHistory"][0].get("releasedAt"),
            new["costRecovery"]["recoveryStatus"].as_str()
        ),
        (Some("rented_out"), Some(89.0), None, Some("recovering"))
    );
    assert_eq!(
        events_of(&client, "CH-L1").await,
        counts(&[
            ("asset.created", 1),
            ("asset.assigned", 1),
            ("asset.updated", 1)
        ])
    );

    // 5. Upgrade to the Pro for 24 months: the first rental ends (paid payments stay paid, the
    // rest are cancelled), CH-L2 comes back, a new rental starts from an upgrade order.
    let upgraded = post(
        &client,
        format!("/v1/subscriptions/{first_id}/upgrade"),
        json!({ "newSku": "PRO-A", "newSerialNumber": "CH-P1", "contractLength": 24, "reason": "more power" }),
    )
    .await;
    let second_id = upgraded["newRentalId"].as_str().unwrap().to_string();
    let upgrade_order_id = upgraded["orderId"].as_str().unwrap().to_string();
    let first = get(&client, format!("/v1/subscriptions/{first_id}")).await;
    assert_eq!(first["status"], "ended_upgrade");
    let old_schedule = payments(&client, &first_id).await;
    assert_eq!(with_status(&old_schedule, "paid").len(), 2);
    assert_eq!(with_status(&old_schedule, "cancelled").len(), 16);
    let second = get(&client, format!("/v1/subscriptions/{second_id}")).await;
    assert_eq!(
        (
            second["status"].as_str(),
            second["assetSerialNumber"].as_str(),
            second["monthlyAmount"].as_f64(),
            second["upgradeFromRentalId"].as_str()
        ),
        (
            Some("active"),
            Some("CH-P1"),
            Some(79.5),
            Some(first_id.as_str())
        )
    );
    let new_schedule = payments(&client, &second_id).await;
    assert_eq!(new_schedule.len(), 24);
    assert_eq!(total_of(&new_schedule), 24.0 * 79.5);
    let returned = get(&client, "/v1/assets/CH-L2").await;
    assert_eq!(
        (
            returned["status"].as_str(),
            returned["rentalHistory"][0]["releaseReason"].as_str(),
            returned["costRecovery"]["lifetimeCollected"].as_f64()
        ),
        (Some("returned"), Some("ended_upgrade"), Some(89.0))
    );
    let upgrade_order = get(&client, format!("/v1/orders/{upgrade_order_id}")).await;
    assert_eq!(
        (
            upgrade_order["orderType"].as_str(),
            upgrade_order["status"].as_str()
        ),
        (Some("upgrade"), Some("fulfilled"))
    );
    let customer = get(&client, format!("/v1/customers/{customer_id}")).await;
    assert_eq!(
        (
            customer["activeRentals"].as_i64(),
            customer["totalDevicesRented"].as_i64(),
            customer["totalMonthlyRevenue"].as_f64(),
            customer["lifetimeCollected"].as_f64()
        ),
        (Some(1), Some(1), Some(79.5), Some(188.0)),
        "totalDevicesRented counts the devices on rent now"
    );
    assert_eq!(
        events_of(&client, &first_id).await,
        counts(&[
            ("subscription.created", 1),
            ("subscription.extended", 1),
            ("subscription.updated", 1),
            ("subscription.upgraded", 1)
        ])
    );

    // 6. The customer buys the Pro out: the quote is exactly what the buyout charges, and what
    // it replaces is exactly what it cancels.
    let quote = post(
        &client,
        "/v1/subscriptions/calculate-buyout",
        json!({ "rentalId": second_id }),
    )
    .await;
    let price = quote["buyoutPrice"].as_f64().unwrap();
    assert_eq!(
        quote["depreciatedValue"], 100.0,
        "10 % of the 1000 list price"
    );
    assert_eq!(price, quote["remainingPayments"].as_f64().unwrap() + 100.0);
    let bought = post(
        &client,
        format!("/v1/subscriptions/{second_id}/buyout"),
        json!({ "reason": "customer_request" }),
    )
    .await;
    assert_eq!(bought["buyoutPrice"].as_f64(), Some(price));
    let after = payments(&client, &second_id).await;
    let buyouts: Vec<&Value> = after.iter().filter(|p| p["category"] == "buyout").collect();
    assert_eq!(buyouts.len(), 1);
    assert_eq!(buyouts[0]["total"].as_f64(), Some(price));
    let cancelled = with_status(&after, "cancelled");
    assert_eq!(
        total_of(cancelled.iter().copied()),
        quote["remainingPayments"].as_f64().unwrap()
    );
    assert_eq!(
        cancelled.len() + with_status(&after, "pending").len(),
        24 + 1,
        "every rental payment not cancelled is still to collect, plus the buyout payment"
    );
    let second = get(&client, format!("/v1/subscriptions/{second_id}")).await;
    assert_eq!(second["status"], "ended_buyout");
    pay(&client, buyouts[0]).await;
    let sold = get(&client, "/v1/assets/CH-P1").await;
    assert_eq!(
        (
            sold["status"].as_str(),
            sold["rentalHistory"][0]["releaseReason"].as_str(),
            sold["costRecovery"]["lifetimeCollected"].as_f64(),
            sold["costRecovery"]["rentalCount"].as_i64()
        ),
        (Some("sold"), Some("ended_buyout"), Some(price), Some(1))
    );
    let customer = get(&client, format!("/v1/customers/{customer_id}")).await;
    assert_eq!(
        (
            customer["activeRentals"].as_i64(),
            customer["totalMonthlyRevenue"].as_f64(),
            customer["lifetimeCollected"].as_f64()
        ),
        (Some(0), Some(0.0), Some(188.0 + price))
    );
    assert_eq!(
        events_of(&client, &second_id).await,
        counts(&[("subscription.created", 1), ("subscription.ended", 1)])
    );
    assert_eq!(
        events_of(&client, "CH-P1").await,
        counts(&[
            ("asset.created", 1),
            ("asset.assigned", 1),
            ("asset.sold", 1)
        ])
    );
    // Every cancelled payment was announced once.
    let cancelled_events = get(&client, "/v1/events?type=payment.cancelled&limit=100").await;
    assert_eq!(
        cancelled_events["events"].as_array().unwrap().len(),
        16 + cancelled.len()
    );
}
