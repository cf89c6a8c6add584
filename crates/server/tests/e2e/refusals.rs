//! Every documented refusal of the asset, rental and payment endpoints, by status and code, and
//! that a refusal leaves nothing behind. Where the pages name a field-level code
//! (`INVALID_STATUS`, `INVALID_EXTENSION_MONTHS`, `INVALID_BUYOUT_PRICE`, `INVALID_FEE`),
//! API-DECISIONS settles it as `VALIDATION_ERROR` with the field in `details`.

use flexportal_client::{AssetChanges, Client, RawRequest};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, simple_product};

async fn expect(client: &Client, request: RawRequest, status: u16, code: &str) -> Value {
    let label = format!("{} {}", request.method, request.path);
    let response = client.send(request).await.unwrap();
    let body = response.json.unwrap_or(Value::Null);
    assert_eq!(
        (response.status, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{label}: {body}"
    );
    body
}

async fn ok(client: &Client, request: RawRequest) -> Value {
    let label = format!("{} {}", request.method, request.path);
    let response = client.send(request).await.unwrap();
    let body = response.json.unwrap_or(Value::Null);
    assert!(
        (200..300).contains(&response.status),
        "{label}: {} {body}",
        response.status
    );
    body
}

async fn new_order(client: &Client, email: &str, sku: &str, quantity: i64) -> (String, String) {
    let body = ok(
        client,
        RawRequest::post(
            "/v1/orders",
            json!({
                "customer": { "email": email, "firstName": "Rae", "lastName": "Fuse" },
                "billingAddress": { "contactName": "Rae", "streetAddress": "2 No St", "city": "Berlin", "country": "DE" },
                "items": [{ "sku": sku, "quantity": quantity, "contractLength": 12 }]
            }),
        ),
    )
    .await;
    (
        body["orderId"].as_str().unwrap().to_string(),
        body["order"]["customer"]["customerId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

on_both!(documented_refusals, documented_refusals);
async fn documented_refusals(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .create_product(&simple_product("PHONE", "Phone"))
        .await
        .unwrap();
    let old_model = client
        .create_product(&simple_product("OLD", "Old model"))
        .await
        .unwrap();
    for (serial, sku) in [
        ("RF-1", "LAPTOP-A"),
        ("RF-2", "LAPTOP-A"),
        ("RF-3", "LAPTOP-A"),
        ("RF-P", "PHONE-A"),
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
    let old_variant = old_model.product.variants.unwrap()[0].variant_id.clone();
    ok(
        &client,
        RawRequest::patch(
            format!("/v1/products/variants/{old_variant}/status"),
            json!({ "status": "inactive" }),
        ),
    )
    .await;

    // Assets.
    expect(
        &client,
        RawRequest::post(
            "/v1/assets",
            json!({ "serialNumber": "RF-1", "sku": "LAPTOP-A" }),
        ),
        409,
        "ASSET_EXISTS",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/assets",
            json!({ "serialNumber": "RF-9", "sku": "NOPE-A" }),
        ),
        400,
        "VARIANT_NOT_FOUND",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/assets",
            json!({ "serialNumber": "RF-9", "sku": "OLD-A" }),
        ),
        400,
        "VARIANT_INACTIVE",
    )
    .await;
    let body = expect(
        &client,
        RawRequest::post("/v1/assets", json!({ "sku": "LAPTOP-A" })),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "serialNumber");
    expect(
        &client,
        RawRequest::get("/v1/assets/RF-9"),
        404,
        "NOT_FOUND",
    )
    .await;
    let body = expect(
        &client,
        RawRequest::put("/v1/assets/RF-3", json!({ "status": "flying" })),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "status");
    expect(
        &client,
        RawRequest::put("/v1/assets/RF-3", json!({ "status": "sold" })),
        400,
        "INVALID_STATUS_TRANSITION",
    )
    .await;

    // Rentals: create.
    let (order_id, customer_id) = new_order(&client, "refuse@example.com", "LAPTOP-A", 1).await;
    let (other_order, _) = new_order(&client, "other@example.com", "LAPTOP-A", 1).await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": "ord_nope", "assetSerialNumber": "RF-1" }),
        ),
        400,
        "ORDER_NOT_FOUND",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-404" }),
        ),
        400,
        "ASSET_NOT_FOUND",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-P" }),
        ),
        400,
        "NO_MATCHING_ORDER_ITEM",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-1", "customerId": "cust_someoneelse" }),
        ),
        400,
        "CUSTOMER_MISMATCH",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-1", "contractLength": 7 }),
        ),
        400,
        "INVALID_CONTRACT_LENGTH",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-1", "billingGroupId": "bg_nope" }),
        ),
        400,
        "BILLING_GROUP_NOT_FOUND",
    )
    .await;
    // None of those touched the asset or the order.
    assert_eq!(
        ok(&client, RawRequest::get("/v1/assets/RF-1")).await["status"],
        "available"
    );
    assert_eq!(
        ok(&client, RawRequest::get(format!("/v1/orders/{order_id}"))).await["status"],
        "pending"
    );
    let created = ok(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-1", "customerId": customer_id }),
        ),
    )
    .await;
    let rental_id = created["rentalId"].as_str().unwrap().to_string();
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": other_order, "assetSerialNumber": "RF-1" }),
        ),
        400,
        "ASSET_NOT_AVAILABLE",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "RF-2" }),
        ),
        400,
        "NO_MATCHING_ORDER_ITEM",
    )
    .await;
    let (cancelled_order, _) = new_order(&client, "gone@example.com", "LAPTOP-A", 1).await;
    ok(
        &client,
        RawRequest::post(
            format!("/v1/orders/{cancelled_order}/cancel"),
            json!({ "reason": "changed mind" }),
        ),
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": cancelled_order, "assetSerialNumber": "RF-2" }),
        ),
        400,
        "ORDER_CANCELLED",
    )
    .await;
    ok(
        &client,
        RawRequest::patch(
            "/v1/business-units/current",
            json!({ "settings": { "requireOrderConfirmation": true } }),
        ),
    )
    .await;
    let (unconfirmed, _) = new_order(&client, "wait@example.com", "LAPTOP-A", 1).await;
    expect(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": unconfirmed, "assetSerialNumber": "RF-2" }),
        ),
        400,
        "ORDER_NOT_CONFIRMED",
    )
    .await;
    assert_eq!(
        ok(&client, RawRequest::get("/v1/assets/RF-2")).await["status"],
        "available"
    );

    // Rentals: actions on an active rental.
    expect(
        &client,
        RawRequest::get("/v1/subscriptions/sub_nope"),
        404,
        "NOT_FOUND",
    )
    .await;
    let path = |action: &str| format!("/v1/subscriptions/{rental_id}/{action}");
    let body = expect(
        &client,
        RawRequest::post(
            path("extend"),
            json!({ "extensionMonths": 0, "reason": "x" }),
        ),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "extensionMonths");
    expect(
        &client,
        RawRequest::post(
            path("replace"),
            json!({ "newSerialNumber": "RF-P", "replacementReason": "damaged" }),
        ),
        400,
        "SKU_MISMATCH",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            path("replace"),
            json!({ "newSerialNumber": "RF-404", "replacementReason": "damaged" }),
        ),
        400,
        "ASSET_NOT_FOUND",
    )
    .await;
    let body = expect(
        &client,
        RawRequest::post(
            path("buyout"),
            json!({ "buyoutPrice": -5, "reason": "other" }),
        ),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "buyoutPrice");
    let body = expect(
        &client,
        RawRequest::post(
            path("early-return"),
            json!({ "returnCondition": "good", "reason": "x", "earlyReturnFee": -1 }),
        ),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "earlyReturnFee");
    let body = expect(
        &client,
        RawRequest::post(path("cancel"), json!({ "reason": "boredom" })),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "reason");
    expect(
        &client,
        RawRequest::post(
            path("upgrade"),
            json!({ "newSku": "NOPE-A", "newSerialNumber": "RF-2", "contractLength": 12, "reason": "x" }),
        ),
        400,
        "VARIANT_NOT_FOUND",
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            path("upgrade"),
            json!({ "newSku": "OLD-A", "newSerialNumber": "RF-2", "contractLength": 12, "reason": "x" }),
        ),
        400,
        "VARIANT_INACTIVE",
    )
    .await;
    // Still exactly as created: active on RF-1, twelve pending or due payments, nothing more.
    let rental = ok(
        &client,
        RawRequest::get(format!("/v1/subscriptions/{rental_id}")),
    )
    .await;
    assert_eq!(
        (
            rental["status"].as_str(),
            rental["assetSerialNumber"].as_str(),
            rental["contractLength"].as_i64()
        ),
        (Some("active"), Some("RF-1"), Some(12))
    );
    let schedule = ok(
        &client,
        RawRequest::get(format!(
            "/v1/payments?rentalId={rental_id}&limit=100&sortBy=dueDate&sortDir=asc"
        )),
    )
    .await;
    let schedule = schedule["payments"].as_array().unwrap().clone();
    assert_eq!(schedule.len(), 12);
    assert!(schedule.iter().all(|p| p["status"] == "pending"));

    // Payments.
    let first = schedule[0]["paymentId"].as_str().unwrap();
    let second = schedule[1]["paymentId"].as_str().unwrap();
    let pay = |id: &str| RawRequest::post(format!("/v1/payments/{id}/mark-paid"), json!({}));
    let cancel = |id: &str| {
        RawRequest::post(
            format!("/v1/payments/{id}/cancel"),
            json!({ "reason": "goodwill" }),
        )
    };
    expect(
        &client,
        RawRequest::get("/v1/payments/pay_nope"),
        404,
        "NOT_FOUND",
    )
    .await;
    ok(&client, pay(first)).await;
    expect(&client, pay(first), 400, "ALREADY_PAID").await;
    expect(&client, cancel(first), 400, "ALREADY_PAID").await;
    let body = expect(
        &client,
        RawRequest::post(format!("/v1/payments/{second}/cancel"), json!({})),
        400,
        "VALIDATION_ERROR",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["path"], "reason");
    ok(&client, cancel(second)).await;
    expect(&client, cancel(second), 400, "ALREADY_CANCELLED").await;
    expect(&client, pay(second), 400, "PAYMENT_CANCELLED").await;
    let customer = ok(
        &client,
        RawRequest::get(format!("/v1/customers/{customer_id}")),
    )
    .await;
    assert_eq!(
        customer["lifetimeCollected"], 99.0,
        "the refused second mark-paid collected nothing"
    );

    // Rentals: cancelling twice, and cancelling one that ended another way.
    ok(
        &client,
        RawRequest::post(path("cancel"), json!({ "reason": "other" })),
    )
    .await;
    expect(
        &client,
        RawRequest::post(path("cancel"), json!({ "reason": "other" })),
        400,
        "ALREADY_CANCELLED",
    )
    .await;
    for (action, body) in [
        ("extend", json!({ "extensionMonths": 1, "reason": "x" })),
        ("buyout", json!({ "reason": "other" })),
        (
            "early-return",
            json!({ "returnCondition": "good", "reason": "x" }),
        ),
        (
            "replace",
            json!({ "newSerialNumber": "RF-2", "replacementReason": "lost" }),
        ),
    ] {
        expect(
            &client,
            RawRequest::post(path(action), body),
            400,
            "SUBSCRIPTION_NOT_ACTIVE",
        )
        .await;
    }
    let (second_order, _) = new_order(&client, "ended@example.com", "LAPTOP-A", 1).await;
    ok(
        &client,
        RawRequest::post(format!("/v1/orders/{second_order}/confirm"), json!({})),
    )
    .await;
    let created = ok(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": second_order, "assetSerialNumber": "RF-2" }),
        ),
    )
    .await;
    let bought = created["rentalId"].as_str().unwrap();
    ok(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{bought}/buyout"),
            json!({ "reason": "other" }),
        ),
    )
    .await;
    expect(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{bought}/cancel"),
            json!({ "reason": "other" }),
        ),
        400,
        "ALREADY_ENDED",
    )
    .await;
    // A sold asset cannot be edited back into the fleet, nor deleted while rented.
    expect(
        &client,
        RawRequest::put("/v1/assets/RF-2", json!({ "status": "available" })),
        400,
        "INVALID_STATUS_TRANSITION",
    )
    .await;
    let (third_order, _) = new_order(&client, "inuse@example.com", "LAPTOP-A", 1).await;
    ok(
        &client,
        RawRequest::post(format!("/v1/orders/{third_order}/confirm"), json!({})),
    )
    .await;
    ok(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": third_order, "assetSerialNumber": "RF-3" }),
        ),
    )
    .await;
    expect(
        &client,
        RawRequest::put(
            "/v1/assets/RF-3",
            json!({ "status": "unavailable", "unavailableReason": "lost" }),
        ),
        400,
        "ASSET_IN_USE",
    )
    .await;
    expect(
        &client,
        RawRequest::delete("/v1/assets/RF-3"),
        400,
        "ASSET_IN_USE",
    )
    .await;
    assert_eq!(
        ok(&client, RawRequest::get("/v1/assets/RF-3")).await["status"],
        "rented_out"
    );
}
