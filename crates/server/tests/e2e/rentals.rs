//! Rentals and payments: fulfilling an order with assets, the payment schedule, collection
//! states, cancellation, and what each step does to assets, orders and customers.

use flexportal_client::{
    AssetChanges, EventQuery, NewOrder, NewOrderCustomer, NewOrderItem, RawRequest,
};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, counts, events_of, simple_product};

async fn send(client: &flexportal_client::Client, request: RawRequest) -> (u16, Value) {
    let response = client.send(request).await.unwrap();
    (response.status, response.json.unwrap_or(Value::Null))
}

fn order(quantity: i64) -> NewOrder {
    NewOrder {
        customer: Some(NewOrderCustomer {
            email: Some(format!("renter{quantity}@example.com")),
            first_name: Some("Rita".into()),
            last_name: Some("Renter".into()),
            ..Default::default()
        }),
        billing_address: Some(flexportal_client::Address {
            contact_name: Some("Rita".into()),
            street_address: Some("1 Rent St".into()),
            city: Some("Berlin".into()),
            country: Some("DE".into()),
            ..Default::default()
        }),
        items: Some(vec![NewOrderItem {
            sku: Some("LAPTOP-A".into()),
            quantity: Some(quantity),
            contract_length: Some(12),
        }]),
        ..Default::default()
    }
}

on_both!(rental_lifecycle, rental_lifecycle);
async fn rental_lifecycle(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let order = client.create_order(&order(2)).await.unwrap().order;
    for serial in ["SN-1", "SN-2", "SN-3"] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some("LAPTOP-A".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }

    // The first unit: starts today, twelve monthly payments, the order half fulfilled.
    let (status, first) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "SN-1" }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let rental = &first["rental"];
    let rental_id = first["rentalId"].as_str().unwrap().to_string();
    assert!(rental_id.starts_with("sub_"));
    assert_eq!(
        (
            rental["status"].as_str(),
            rental["monthlyAmount"].as_f64(),
            rental["contractLength"].as_i64()
        ),
        (Some("active"), Some(99.0), Some(12))
    );
    let payments = first["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 12);
    assert_eq!(
        payments
            .iter()
            .map(|p| p["total"].as_f64().unwrap())
            .sum::<f64>(),
        12.0 * 99.0
    );
    let periods: std::collections::BTreeSet<&str> = payments
        .iter()
        .map(|p| p["billingPeriod"].as_str().unwrap())
        .collect();
    assert_eq!(periods.len(), 12);
    assert_eq!(
        payments[0]["dueDate"], rental["startDate"],
        "billing starts immediately by default"
    );
    let after = client.get_order(&order.order_id).await.unwrap();
    assert_eq!(
        (after.status.as_str(), after.rental_progress.rented_devices),
        ("partial", 1)
    );
    assert_eq!(after.items[0].rental_status, "partial");
    let asset = client.get_asset("SN-1").await.unwrap();
    assert_eq!(
        (asset.status.as_str(), asset.rental_id.as_deref()),
        ("rented_out", Some(rental_id.as_str()))
    );
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (
            customer.active_rentals,
            customer.total_devices_rented,
            customer.total_monthly_revenue
        ),
        (1, 1, 99.0)
    );

    // Refusals: the same asset again, an unknown order, a line already fulfilled.
    let (status, body) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "SN-1" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ASSET_NOT_AVAILABLE"))
    );
    let (status, body) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": "ord_00000000000000000000000000", "assetSerialNumber": "SN-2" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ORDER_NOT_FOUND"))
    );
    let (status, body) = send(&client, RawRequest::post("/v1/subscriptions", json!({ "orderId": order.order_id, "assetSerialNumber": "SN-2", "customerId": "cust_other" }))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("CUSTOMER_MISMATCH"))
    );
    let (status, body) = send(&client, RawRequest::post("/v1/subscriptions", json!({}))).await;
    assert_eq!(
        (status, body["error"]["details"].as_array().map(Vec::len)),
        (400, Some(2))
    );

    // The second unit starts on Jan 31: due dates clamp to month ends and come back to the 31st.
    let (status, second) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "serialNumber": "SN-2", "startDate": "2024-01-31" }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{second}");
    let dues: Vec<&str> = second["payments"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|p| p["dueDate"].as_str().unwrap())
        .collect();
    assert_eq!(dues, ["2024-01-31", "2024-02-29", "2024-03-31"]);
    assert_eq!(second["rental"]["endDate"], "2025-01-30");
    let fulfilled = client.get_order(&order.order_id).await.unwrap();
    assert_eq!(fulfilled.status, "fulfilled");
    assert_eq!(
        client
            .get_customer(&order.customer.customer_id)
            .await
            .unwrap()
            .open_orders,
        0
    );
    let (status, body) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "SN-3" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("NO_MATCHING_ORDER_ITEM"))
    );
    let (status, body) = send(
        &client,
        RawRequest::post(format!("/v1/orders/{}/cancel", order.order_id), json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ORDER_NOT_CANCELLABLE"))
    );

    // Payments move through their states; money adds up on the rental and the customer.
    let first_payment = payments[0]["paymentId"].as_str().unwrap().to_string();
    let second_payment = payments[1]["paymentId"].as_str().unwrap().to_string();
    let third_payment = payments[2]["paymentId"].as_str().unwrap().to_string();
    let (status, paid) = send(
        &client,
        RawRequest::post(
            format!("/v1/payments/{first_payment}/mark-paid"),
            json!({ "paymentReference": "SEPA-1" }),
        ),
    )
    .await;
    assert_eq!(
        (status, paid["payment"]["status"].as_str()),
        (200, Some("paid"))
    );
    let (status, body) = send(
        &client,
        RawRequest::post(format!("/v1/payments/{first_payment}/mark-paid"), json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ALREADY_PAID"))
    );
    let (status, body) = send(
        &client,
        RawRequest::post(format!("/v1/payments/{second_payment}/cancel"), json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (status, _) = send(
        &client,
        RawRequest::post(
            format!("/v1/payments/{second_payment}/cancel"),
            json!({ "reason": "goodwill" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/payments/{second_payment}/mark-paid"),
            json!({}),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PAYMENT_CANCELLED"))
    );
    let (status, failed) = send(
        &client,
        RawRequest::post(
            format!("/v1/payments/{third_payment}/mark-failed"),
            json!({ "reason": "card declined", "nextRetryAt": "2030-01-01" }),
        ),
    )
    .await;
    assert_eq!(
        (status, failed["payment"]["status"].as_str()),
        (200, Some("failed"))
    );
    let (status, got) = send(
        &client,
        RawRequest::get(format!("/v1/payments/{first_payment}")),
    )
    .await;
    assert_eq!(
        (status, got["payment"]["paymentReference"].as_str()),
        (200, Some("SEPA-1"))
    );
    let (_, rental_now) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{rental_id}")),
    )
    .await;
    assert_eq!(rental_now["totalCollected"], 99);
    assert_eq!(
        client
            .get_customer(&order.customer.customer_id)
            .await
            .unwrap()
            .lifetime_collected,
        99.0
    );
    let (_, listed) = send(
        &client,
        RawRequest::get(format!(
            "/v1/payments?rentalId={rental_id}&status=pending&limit=100"
        )),
    )
    .await;
    assert_eq!(listed["payments"].as_array().unwrap().len(), 9);

    // Cancelling the first rental cancels what is due after today, returns the asset.
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/cancel"),
            json!({ "reason": "bored" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (status, cancelled) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/cancel"),
            json!({ "rentalId": rental_id, "reason": "customer_request" }),
        ),
    )
    .await;
    assert_eq!(
        (status, cancelled["previousStatus"].as_str()),
        (200, Some("active"))
    );
    let (_, listed) = send(
        &client,
        RawRequest::get(format!(
            "/v1/payments?rentalId={rental_id}&limit=100&sortBy=dueDate&sortDir=asc"
        )),
    )
    .await;
    let statuses: Vec<&str> = listed["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses[0], "paid", "paid payments are never touched");
    assert!(
        statuses[1..].iter().all(|s| *s == "cancelled"),
        "{statuses:?}"
    );
    assert_eq!(client.get_asset("SN-1").await.unwrap().status, "returned");
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (customer.active_rentals, customer.total_monthly_revenue),
        (1, 99.0)
    );
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/cancel"),
            json!({ "reason": "other" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ALREADY_CANCELLED"))
    );
    let (status, _) = send(
        &client,
        RawRequest::get("/v1/subscriptions/sub_00000000000000000000000000"),
    )
    .await;
    assert_eq!(status, 404);
    let (_, active) = send(&client, RawRequest::get("/v1/subscriptions?status=active")).await;
    assert_eq!(active["rentals"].as_array().unwrap().len(), 1);

    // Each change is in the event log once.
    let count = |event_type: &'static str| {
        let client = client.clone();
        async move {
            client
                .list_events(&EventQuery {
                    event_type: Some(event_type.into()),
                    limit: Some(100),
                    ..Default::default()
                })
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(count("subscription.created").await, 2);
    assert_eq!(count("order.fulfilled").await, 1);
    assert_eq!(count("asset.assigned").await, 2);
    assert_eq!(count("payment.scheduled").await, 24);
    assert_eq!(count("payment.succeeded").await, 1);
    assert_eq!(count("payment.failed").await, 1);
    assert_eq!(count("subscription.ended").await, 1);
    assert_eq!(count("asset.returned").await, 1);
}

on_both!(
    one_asset_one_rental_under_concurrency,
    one_asset_one_rental_under_concurrency
);
async fn one_asset_one_rental_under_concurrency(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let order = client.create_order(&order(20)).await.unwrap().order;
    client
        .create_asset(&AssetChanges {
            serial_number: Some("HOT-1".into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let body = json!({ "orderId": order.order_id, "assetSerialNumber": "HOT-1" });
    let answers = futures_util::future::join_all(
        (0..20).map(|_| send(&client, RawRequest::post("/v1/subscriptions", body.clone()))),
    )
    .await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers
        .iter()
        .filter(|(status, b)| *status == 400 && b["error"]["code"] == "ASSET_NOT_AVAILABLE")
        .count();
    assert_eq!((created, refused), (1, 19));
    let after = client.get_order(&order.order_id).await.unwrap();
    assert_eq!(after.rental_progress.rented_devices, 1);
}

on_both!(extend_then_buy_out, extend_then_buy_out);
async fn extend_then_buy_out(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .update_business_unit(&json!({ "settings": { "buyout": { "method": "remaining_months_plus_list_price_percentage", "listPricePercentage": 10 } } }))
        .await
        .unwrap();
    let order = client.create_order(&order(2)).await.unwrap().order;
    for serial in ["EX-1", "EX-2"] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some("LAPTOP-A".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let (_, created) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "EX-1" }),
        ),
    )
    .await;
    let rental_id = created["rentalId"].as_str().unwrap().to_string();

    // Extend by six months at a lower price: the term, the end date and the schedule follow.
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/extend"),
            json!({ "extensionMonths": 6 }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"][0]["path"].as_str()),
        (400, Some("reason"))
    );
    let (status, extended) = send(
        &client,
        RawRequest::post(format!("/v1/subscriptions/{rental_id}/extend"), json!({ "rentalId": rental_id, "extensionMonths": 6, "newMonthlyAmount": 89, "reason": "loyalty" })),
    )
    .await;
    assert_eq!(status, 200, "{extended}");
    assert_eq!(
        (
            extended["oldContractLength"].as_i64(),
            extended["newContractLength"].as_i64()
        ),
        (Some(12), Some(18))
    );
    assert_eq!(
        extended["rental"]["extensionHistory"][0]["newMonthlyAmount"],
        89
    );
    assert_eq!(extended["rental"]["monthlyAmount"], 89);
    let (_, schedule) = send(
        &client,
        RawRequest::get(format!(
            "/v1/payments?rentalId={rental_id}&limit=100&sortBy=dueDate&sortDir=asc"
        )),
    )
    .await;
    let totals: Vec<f64> = schedule["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["total"].as_f64().unwrap())
        .collect();
    assert_eq!(totals.len(), 18);
    assert_eq!(totals[0], 99.0, "today's payment keeps its amount");
    assert!(totals[1..].iter().all(|t| *t == 89.0));
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/extend"),
            json!({ "extensionMonths": 110, "reason": "x" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "beyond 120 months"
    );
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(customer.total_monthly_revenue, 89.0);

    // The quote is what the buyout charges: 17 remaining months at 89 plus 10 % of the list price.
    let (status, quote) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions/calculate-buyout",
            json!({ "rentalId": rental_id }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(
        (
            quote["remainingPayments"].as_f64(),
            quote["depreciatedValue"].as_f64(),
            quote["buyoutPrice"].as_f64()
        ),
        (Some(1513.0), Some(100.0), Some(1613.0))
    );

    // Twenty buyouts at once: one succeeds, one buyout payment exists.
    let body = json!({ "reason": "customer_request" });
    let answers = futures_util::future::join_all((0..20).map(|_| {
        send(
            &client,
            RawRequest::post(
                format!("/v1/subscriptions/{rental_id}/buyout"),
                body.clone(),
            ),
        )
    }))
    .await;
    let done: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(
        done[0]["method"],
        "remaining_months_plus_list_price_percentage"
    );
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 200)
            .all(|(s, b)| *s == 400 && b["error"]["code"] == "SUBSCRIPTION_NOT_ACTIVE")
    );
    assert_eq!(
        (
            done[0]["buyoutPrice"].as_f64(),
            done[0]["calculationMethod"].as_str()
        ),
        (Some(1613.0), Some("auto_calculated"))
    );
    let (_, after) = send(
        &client,
        RawRequest::get(format!("/v1/payments?rentalId={rental_id}&limit=100")),
    )
    .await;
    let payments = after["payments"].as_array().unwrap();
    let buyouts: Vec<&Value> = payments
        .iter()
        .filter(|p| p["category"] == "buyout")
        .collect();
    assert_eq!(buyouts.len(), 1);
    assert_eq!(
        (
            buyouts[0]["total"].as_f64(),
            buyouts[0]["idempotencyKey"].as_str()
        ),
        (Some(1613.0), Some(format!("{rental_id}:buyout").as_str()))
    );
    assert_eq!(
        payments
            .iter()
            .filter(|p| p["status"] == "cancelled")
            .count(),
        17
    );
    let (_, rental) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{rental_id}")),
    )
    .await;
    assert_eq!(
        (
            rental["status"].as_str(),
            rental["buyoutDetails"]["buyoutPrice"].as_f64()
        ),
        (Some("ended_buyout"), Some(1613.0))
    );
    assert_eq!(client.get_asset("EX-1").await.unwrap().status, "sold");
    let (status, body) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions/calculate-buyout",
            json!({ "rentalId": rental_id }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("SUBSCRIPTION_NOT_ACTIVE"))
    );

    // A given price overrides the method.
    let (_, other) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "EX-2" }),
        ),
    )
    .await;
    let other_id = other["rentalId"].as_str().unwrap();
    let (status, manual) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{other_id}/buyout"),
            json!({ "rentalId": other_id, "buyoutPrice": 500, "reason": "other" }),
        ),
    )
    .await;
    assert_eq!(
        (
            status,
            manual["calculationMethod"].as_str(),
            manual["buyoutPrice"].as_f64()
        ),
        (200, Some("manual_override"), Some(500.0))
    );
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (customer.active_rentals, customer.total_monthly_revenue),
        (0, 0.0)
    );
}

on_both!(
    early_returns_replacements_and_notes,
    early_returns_replacements_and_notes
);
async fn early_returns_replacements_and_notes(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .update_business_unit(&json!({ "settings": { "earlyReturn": { "method": "remaining_months", "percentage": 50, "gracePeriodDays": 0 } } }))
        .await
        .unwrap();
    let order = client.create_order(&order(3)).await.unwrap().order;
    for serial in ["ER-1", "ER-2", "ER-3", "ER-4"] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some("LAPTOP-A".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut rentals = Vec::new();
    for serial in ["ER-1", "ER-2", "ER-3"] {
        let (_, created) = send(
            &client,
            RawRequest::post(
                "/v1/subscriptions",
                json!({ "orderId": order.order_id, "assetSerialNumber": serial }),
            ),
        )
        .await;
        rentals.push(created["rentalId"].as_str().unwrap().to_string());
    }

    // The calculator and the action agree: half of the eleven payments still to come.
    let (status, quote) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions/calculate-early-return-fee",
            json!({ "rentalId": rentals[0] }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(
        (
            quote["remainingMonths"].as_i64(),
            quote["penaltyPercentage"].as_f64(),
            quote["earlyReturnFee"].as_f64()
        ),
        (Some(11), Some(50.0), Some(544.5))
    );
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{}/early-return", rentals[0]),
            json!({ "reason": "moving" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"][0]["path"].as_str()),
        (400, Some("returnCondition"))
    );
    let (status, returned) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{}/early-return", rentals[0]),
            json!({ "returnCondition": "good", "reason": "moving abroad" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(
        (
            returned["earlyReturnFee"].as_f64(),
            returned["actualMonthsRented"].as_i64()
        ),
        (Some(544.5), Some(1))
    );
    let fee_id = returned["paymentId"].as_str().unwrap();
    let (_, fee) = send(&client, RawRequest::get(format!("/v1/payments/{fee_id}"))).await;
    assert_eq!(
        (
            fee["payment"]["category"].as_str(),
            fee["payment"]["total"].as_f64()
        ),
        (Some("early_return_fee"), Some(544.5))
    );
    let asset = client.get_asset("ER-1").await.unwrap();
    assert_eq!(
        (asset.status.as_str(), asset.condition.as_deref()),
        ("returned", Some("good"))
    );
    let (_, rental) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{}", rentals[0])),
    )
    .await;
    assert_eq!(
        (
            rental["status"].as_str(),
            rental["earlyReturnDetails"]["fee"].as_f64()
        ),
        (Some("ended_early_return"), Some(544.5))
    );

    // Waived: no fee, no fee payment.
    let (status, waived) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{}/early-return", rentals[1]),
            json!({ "returnCondition": "excellent", "reason": "goodwill", "waiveFee": true }),
        ),
    )
    .await;
    assert_eq!(
        (
            status,
            waived["earlyReturnFee"].as_f64(),
            waived.get("paymentId")
        ),
        (200, Some(0.0), None)
    );

    // Replacement: an available unit of the same SKU; the old one goes out of service.
    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{}/replace", rentals[2]),
            json!({ "newSerialNumber": "ER-1", "replacementReason": "damaged" }),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ASSET_NOT_AVAILABLE")),
        "ER-1 is returned, not available"
    );
    let (status, replaced) = send(
        &client,
        RawRequest::post(format!("/v1/subscriptions/{}/replace", rentals[2]), json!({ "newSerialNumber": "ER-4", "replacementReason": "defective", "insuranceClaim": true })),
    )
    .await;
    assert_eq!(
        (
            status,
            replaced["oldSerialNumber"].as_str(),
            replaced["newSerialNumber"].as_str()
        ),
        (200, Some("ER-3"), Some("ER-4"))
    );
    let old = client.get_asset("ER-3").await.unwrap();
    assert_eq!(
        (old.status.as_str(), old.unavailable_reason.as_deref()),
        ("unavailable", Some("defective"))
    );
    assert_eq!(
        client.get_asset("ER-4").await.unwrap().rental_id.as_deref(),
        Some(rentals[2].as_str())
    );
    let (_, rental) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{}", rentals[2])),
    )
    .await;
    assert_eq!(
        (
            rental["assetSerialNumber"].as_str(),
            rental["replacementHistory"].as_array().map(Vec::len)
        ),
        (Some("ER-4"), Some(1))
    );
    assert_eq!(rental["monthlyAmount"], 99, "same price");

    // Notes.
    let (status, _) = send(
        &client,
        RawRequest::patch(
            format!("/v1/subscriptions/{}/notes", rentals[2]),
            json!({ "notes": "fragile screen" }),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (_, rental) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{}", rentals[2])),
    )
    .await;
    assert_eq!(rental["notes"], "fragile screen");
    let (status, _) = send(
        &client,
        RawRequest::patch(
            "/v1/subscriptions/sub_00000000000000000000000000/notes",
            json!({ "notes": "x" }),
        ),
    )
    .await;
    assert_eq!(status, 404);

    // Ended rentals refuse every action.
    for (path, body) in [
        (
            "early-return",
            json!({ "returnCondition": "good", "reason": "again" }),
        ),
        ("extend", json!({ "extensionMonths": 1, "reason": "x" })),
        ("buyout", json!({ "reason": "other" })),
        (
            "replace",
            json!({ "newSerialNumber": "ER-2", "replacementReason": "lost" }),
        ),
        ("cancel", json!({ "reason": "other" })),
    ] {
        let (status, answer) = send(
            &client,
            RawRequest::post(format!("/v1/subscriptions/{}/{path}", rentals[0]), body),
        )
        .await;
        let expected = if path == "cancel" {
            "ALREADY_ENDED"
        } else {
            "SUBSCRIPTION_NOT_ACTIVE"
        };
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(expected)),
            "{path}"
        );
    }
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (customer.active_rentals, customer.total_devices_rented),
        (1, 1)
    );
    assert_eq!(customer.total_monthly_revenue, 99.0);

    // Ending early cancels what was still to come; today's payment and the fee stay to collect.
    for (rental, fee) in [(&rentals[0], Some(544.5)), (&rentals[1], None)] {
        let (_, page) = send(
            &client,
            RawRequest::get(format!("/v1/payments?rentalId={rental}&limit=100")),
        )
        .await;
        let payments = page["payments"].as_array().unwrap();
        let of = |category: &str, status: &str| {
            payments
                .iter()
                .filter(|p| p["category"] == category && p["status"] == status)
                .map(|p| p["total"].as_f64().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(of("rental", "cancelled").len(), 11);
        assert_eq!(of("rental", "pending"), [99.0]);
        assert_eq!(of("early_return_fee", "pending").first().copied(), fee);
        assert_eq!(
            events_of(&client, rental).await,
            counts(&[("subscription.created", 1), ("subscription.ended", 1)])
        );
    }
    assert_eq!(
        events_of(&client, "ER-1").await,
        counts(&[
            ("asset.created", 1),
            ("asset.assigned", 1),
            ("asset.returned", 1)
        ])
    );
    assert_eq!(
        events_of(&client, "ER-3").await,
        counts(&[
            ("asset.created", 1),
            ("asset.assigned", 1),
            ("asset.updated", 1)
        ])
    );
}

on_both!(upgrade_in_one_step, upgrade_in_one_step);
async fn upgrade_in_one_step(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .create_product(&simple_product("PRO", "Laptop Pro"))
        .await
        .unwrap();
    let order = client.create_order(&order(1)).await.unwrap().order;
    for (serial, sku) in [("UP-1", "LAPTOP-A"), ("UP-2", "PRO-A")] {
        client
            .create_asset(&AssetChanges {
                serial_number: Some(serial.into()),
                sku: Some(sku.into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let (_, created) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order.order_id, "assetSerialNumber": "UP-1" }),
        ),
    )
    .await;
    let old_id = created["rentalId"].as_str().unwrap().to_string();

    let (status, body) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{old_id}/upgrade"),
            json!({ "newSku": "PRO-A" }),
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["details"].as_array().unwrap().len(),
        3,
        "{body}"
    );
    let (status, upgraded) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{old_id}/upgrade"),
            json!({ "rentalId": old_id, "newSku": "PRO-A", "newSerialNumber": "UP-2", "contractLength": 24, "reason": "needs more power" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{upgraded}");
    assert_eq!(
        (
            upgraded["oldDevice"].as_str(),
            upgraded["newDevice"].as_str(),
            upgraded["newMonthlyAmount"].as_f64()
        ),
        (Some("UP-1"), Some("UP-2"), Some(79.5))
    );
    let new_id = upgraded["newRentalId"].as_str().unwrap();
    let (_, old) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{old_id}")),
    )
    .await;
    assert_eq!(old["status"], "ended_upgrade");
    let (_, new) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{new_id}")),
    )
    .await;
    assert_eq!(
        (
            new["status"].as_str(),
            new["upgradeFromRentalId"].as_str(),
            new["contractLength"].as_i64()
        ),
        (Some("active"), Some(old_id.as_str()), Some(24))
    );
    let upgrade_order = client
        .get_order(upgraded["orderId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (
            upgrade_order.order_type.as_str(),
            upgrade_order.status.as_str()
        ),
        ("upgrade", "fulfilled")
    );
    assert_eq!(
        upgrade_order.upgrade_details.as_ref().unwrap()["previousRentalId"],
        old_id.as_str()
    );
    assert_eq!(client.get_asset("UP-1").await.unwrap().status, "returned");
    assert_eq!(client.get_asset("UP-2").await.unwrap().status, "rented_out");
    let (_, old_payments) = send(
        &client,
        RawRequest::get(format!(
            "/v1/payments?rentalId={old_id}&status=pending&limit=100"
        )),
    )
    .await;
    assert!(
        old_payments["payments"].as_array().unwrap().len() <= 1,
        "only today's payment may remain"
    );
    let customer = client
        .get_customer(&order.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (customer.active_rentals, customer.total_monthly_revenue),
        (1, 79.5)
    );

    // A refused upgrade changes nothing: the new rental is still the only active one.
    let (status, body) = send(
        &client,
        RawRequest::post(format!("/v1/subscriptions/{new_id}/upgrade"), json!({ "newSku": "PRO-A", "newSerialNumber": "UP-1", "contractLength": 24, "reason": "again" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("NO_MATCHING_ORDER_ITEM")),
        "UP-1 is a LAPTOP-A"
    );
    let (_, still) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{new_id}")),
    )
    .await;
    assert_eq!(still["status"], "active");
    assert_eq!(client.get_asset("UP-2").await.unwrap().status, "rented_out");
}

on_both!(typed_client_rental_lifecycle, typed_client_rental_lifecycle);
async fn typed_client_rental_lifecycle(s: &Server) {
    use flexportal_client::{
        BuyoutRequest, MarkPaid, NewRental, PaymentQuery, RentalQuery, UpgradeRequest,
    };
    use futures_util::TryStreamExt;
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let order = client.create_order(&order(1)).await.unwrap().order;
    client
        .create_asset(&AssetChanges {
            serial_number: Some("TC-1".into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    client
        .create_asset(&AssetChanges {
            serial_number: Some("TC-2".into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let created = client
        .create_rental(&NewRental {
            order_id: Some(order.order_id.clone()),
            asset_serial_number: Some("TC-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (created.rental.status.as_str(), created.payments.len()),
        ("active", 12)
    );
    let listed: Vec<_> = client
        .rentals(RentalQuery {
            customer_id: Some(order.customer.customer_id.clone()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let payments: Vec<_> = client
        .payments(PaymentQuery {
            rental_id: Some(created.rental_id.clone()),
            limit: Some(5),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(payments.len(), 12);
    let err = client
        .mark_payment_paid(
            &created.payments[0].payment_id,
            &MarkPaid {
                method: Some("cheque".into()),
                paid_at: Some("2999-01-01".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("VALIDATION_ERROR"));
    let paid = client
        .mark_payment_paid(
            &created.payments[0].payment_id,
            &MarkPaid {
                method: Some("stripe".into()),
                paid_at: Some("2026-01-02T03:04:05Z".into()),
                payment_reference: Some("REF".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(paid.payment.status, "paid");
    assert_eq!(
        (
            paid.payment.provider.as_deref(),
            paid.payment.paid_at.as_deref()
        ),
        (Some("stripe"), Some("2026-01-02T03:04:05.000Z"))
    );
    let upgraded = client
        .upgrade_rental(
            &created.rental_id,
            &UpgradeRequest {
                new_sku: Some("LAPTOP-A".into()),
                new_serial_number: Some("TC-2".into()),
                contract_length: Some(24),
                reason: Some("newer".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let quote = client
        .calculate_buyout(&upgraded.new_rental_id)
        .await
        .unwrap();
    let bought = client
        .buyout_rental(
            &upgraded.new_rental_id,
            &BuyoutRequest {
                reason: Some("customer_request".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bought.buyout_price, quote.buyout_price);
    assert_eq!(
        client
            .get_rental(&upgraded.new_rental_id)
            .await
            .unwrap()
            .status,
        "ended_buyout"
    );
}
