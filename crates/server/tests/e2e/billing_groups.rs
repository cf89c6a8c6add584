//! Billing groups: a business customer's rentals billed together, one consolidated payment a
//! month, through membership changes, a member bought out and the group deleted, with paid
//! payments untouched throughout.

use flexportal_client::{Client, RawRequest};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::Server;

async fn send(client: &Client, request: RawRequest) -> (u16, Value) {
    let response = client.send(request).await.unwrap();
    (response.status, response.json.unwrap_or(Value::Null))
}

/// The first day of the month after next: every payment of a rental starting then lies in
/// months whose billing day is still ahead, whatever day the test runs.
fn later_start() -> String {
    let today = flexportal_domain::time::today_in(&jiff::tz::TimeZone::UTC);
    let first = today.first_of_month();
    let later = first
        .checked_add(jiff::Span::new().months(2))
        .unwrap_or(first);
    later.to_string()
}

/// Three products at 129, 89 and 159 a month (VAT included), one business order for one of
/// each, and three rentals of it starting on `start`. Returns the customer and rental ids.
async fn three_rentals(client: &Client, email: &str, start: &str) -> (String, Vec<String>) {
    for (sku, price) in [("ALPHA", 129), ("BETA", 89), ("GAMMA", 159)] {
        let (status, body) = send(
            client,
            RawRequest::post(
                "/v1/products",
                json!({
                    "productSku": sku, "name": sku, "specification": "device", "category": "Laptops", "brand": "Acme",
                    "variants": [{ "variantSku": format!("{sku}-1"), "variantName": "One", "grade": "A",
                        "listPrice": 2000, "acquisitionCost": 900,
                        "pricing": [{ "contractLength": 12, "monthlyPrice": price }] }]
                }),
            ),
        )
        .await;
        assert!(status == 201 || status == 409, "{body}");
    }
    let (status, order) = send(
        client,
        RawRequest::post(
            "/v1/orders",
            json!({
                "customer": { "email": email, "firstName": "Bea", "lastName": "Buyer", "companyName": "Acme GmbH" },
                "billingAddress": { "contactName": "Bea", "streetAddress": "1 Group St", "city": "Berlin", "country": "DE" },
                "items": [
                    { "sku": "ALPHA-1", "quantity": 1, "contractLength": 12 },
                    { "sku": "BETA-1", "quantity": 1, "contractLength": 12 },
                    { "sku": "GAMMA-1", "quantity": 1, "contractLength": 12 }
                ]
            }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["order"]["orderId"].as_str().unwrap().to_string();
    let customer_id = order["order"]["customer"]["customerId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut rentals = Vec::new();
    for sku in ["ALPHA-1", "BETA-1", "GAMMA-1"] {
        let serial = format!("{email}-{sku}");
        let (status, asset) = send(
            client,
            RawRequest::post("/v1/assets", json!({ "serialNumber": serial, "sku": sku })),
        )
        .await;
        assert_eq!(status, 201, "{asset}");
        let (status, rental) = send(
            client,
            RawRequest::post(
                "/v1/subscriptions",
                json!({ "orderId": order_id, "assetSerialNumber": serial, "startDate": start }),
            ),
        )
        .await;
        assert_eq!(status, 201, "{rental}");
        rentals.push(rental["rentalId"].as_str().unwrap().to_string());
    }
    (customer_id, rentals)
}

async fn payments(client: &Client, filter: &str) -> Vec<Value> {
    let (status, page) = send(
        client,
        RawRequest::get(format!(
            "/v1/payments?{filter}&limit=100&sortBy=dueDate&sortDir=asc"
        )),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["payments"].as_array().unwrap().clone()
}

fn totals(payments: &[Value]) -> Vec<f64> {
    payments
        .iter()
        .map(|p| p["total"].as_f64().unwrap())
        .collect()
}

on_both!(one_payment_a_month, one_payment_a_month);
async fn one_payment_a_month(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .update_business_unit(&json!({ "vatRate": 19, "vatMode": "inclusive" }))
        .await
        .unwrap();
    let start = later_start();
    let (customer_id, rentals) = three_rentals(&client, "group@example.com", &start).await;

    let (status, created) = send(
        &client,
        RawRequest::post(
            "/v1/billing-groups",
            json!({ "customerId": customer_id, "groupName": "Acme IT", "billingDay": 15, "rentalIds": rentals, "notes": "net 0" }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let group = &created["billingGroup"];
    let group_id = group["billingGroupId"].as_str().unwrap().to_string();
    assert_eq!(
        (
            group["totalMonthlyAmount"].as_f64(),
            group["activeRentalCount"].as_i64(),
            group["status"].as_str()
        ),
        (Some(377.0), Some(3), Some("active"))
    );

    // Twelve months, each one payment of 129 + 89 + 159 on the 15th, with a line per rental.
    let consolidated = payments(
        &client,
        &format!("billingGroupId={group_id}&status=pending"),
    )
    .await;
    assert_eq!(consolidated.len(), 12);
    assert_eq!(totals(&consolidated), vec![377.0; 12]);
    for payment in &consolidated {
        assert_eq!(payment["paymentType"], "consolidated");
        assert!(payment["dueDate"].as_str().unwrap().ends_with("-15"));
        let lines = payment["lineItems"].as_array().unwrap();
        assert_eq!(lines.len(), 3);
        let line_sum: f64 = lines
            .iter()
            .map(|l| l["amount"].as_f64().unwrap() + l["taxAmount"].as_f64().unwrap())
            .sum();
        assert!((line_sum - 377.0).abs() < 0.001, "{payment}");
    }
    // The members' own payments are parked, not billed twice.
    for rental in &rentals {
        let own = payments(&client, &format!("rentalId={rental}")).await;
        assert_eq!(own.len(), 12);
        assert!(own.iter().all(|p| p["status"] == "cancelled"), "{own:?}");
    }

    // The first month is paid; it never changes again.
    let first = consolidated[0]["paymentId"].as_str().unwrap().to_string();
    let (status, paid) = send(
        &client,
        RawRequest::post(
            format!("/v1/payments/{first}/mark-paid"),
            json!({ "paymentReference": "INV-1" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    let each_paid: Vec<f64> = {
        let mut collected = Vec::new();
        for rental in &rentals {
            let (_, body) = send(
                &client,
                RawRequest::get(format!("/v1/subscriptions/{rental}")),
            )
            .await;
            collected.push(body["totalCollected"].as_f64().unwrap_or(-1.0));
        }
        collected
    };
    assert_eq!(
        each_paid,
        vec![129.0, 89.0, 159.0],
        "each rental collected its line"
    );

    // The 89 rental is bought out: it drops from every month still to come.
    let (status, bought) = send(
        &client,
        RawRequest::post(
            format!("/v1/subscriptions/{}/buyout", rentals[1]),
            json!({ "reason": "customer_request" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{bought}");
    let after_buyout = payments(
        &client,
        &format!("billingGroupId={group_id}&paymentType=consolidated"),
    )
    .await;
    let consolidated: Vec<&Value> = after_buyout
        .iter()
        .filter(|p| p["paymentType"] == "consolidated")
        .collect();
    assert_eq!(consolidated[0]["status"], "paid");
    assert_eq!(consolidated[0]["total"], 377.0);
    assert_eq!(consolidated[0]["lineItems"].as_array().unwrap().len(), 3);
    let later: Vec<f64> = consolidated[1..]
        .iter()
        .map(|p| p["total"].as_f64().unwrap())
        .collect();
    assert_eq!(later, vec![288.0; 11]);
    assert!(consolidated[1..].iter().all(|p| {
        p["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["rentalId"] != rentals[1].as_str())
    }));
    // The buyout charged the eleven unpaid months the group would have billed.
    let buyout = payments(&client, &format!("rentalId={}", rentals[1])).await;
    let buyout: Vec<&Value> = buyout
        .iter()
        .filter(|p| p["category"] == "buyout")
        .collect();
    assert_eq!(buyout.len(), 1);
    assert_eq!(buyout[0]["total"], 11.0 * 89.0);
    let (_, group) = send(
        &client,
        RawRequest::get(format!("/v1/billing-groups/{group_id}")),
    )
    .await;
    assert_eq!(group["billingGroup"]["totalMonthlyAmount"], 288.0);
    assert_eq!(group["billingGroup"]["activeRentalCount"], 2);
    assert_eq!(
        group["billingGroup"]["rentalIds"],
        json!([rentals[0], rentals[2]])
    );

    // Deleted: the members pay on their own again, from the first month not yet paid.
    let (status, _) = send(
        &client,
        RawRequest::delete(format!("/v1/billing-groups/{group_id}")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, gone) = send(
        &client,
        RawRequest::get(format!("/v1/billing-groups/{group_id}")),
    )
    .await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    for (rental, price) in [(&rentals[0], 129.0), (&rentals[2], 159.0)] {
        let own = payments(&client, &format!("rentalId={rental}")).await;
        let pending: Vec<&Value> = own.iter().filter(|p| p["status"] == "pending").collect();
        assert_eq!(pending.len(), 11, "{own:?}");
        assert!(pending.iter().all(|p| p["total"] == price));
        // The month the group paid stays parked with the group.
        assert_eq!(own[0]["status"], "cancelled");
        assert_eq!(own[0]["billingGroupId"], group_id.as_str());
    }
    let left = payments(&client, &format!("billingGroupId={group_id}")).await;
    let still_consolidated: Vec<&Value> = left
        .iter()
        .filter(|p| p["paymentType"] == "consolidated")
        .collect();
    assert_eq!(still_consolidated[0]["status"], "paid");
    assert_eq!(still_consolidated[0]["total"], 377.0);
    assert!(
        still_consolidated[1..]
            .iter()
            .all(|p| p["status"] == "cancelled")
    );
}

on_both!(joining_and_refusals, joining_and_refusals);
async fn joining_and_refusals(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let start = later_start();
    let (customer_id, rentals) = three_rentals(&client, "join@example.com", &start).await;
    let (other_customer, other_rentals) = three_rentals(&client, "other@example.com", &start).await;

    let create = |body: Value| {
        let client = client.clone();
        async move { send(&client, RawRequest::post("/v1/billing-groups", body)).await }
    };
    for (body, status, code) in [
        (
            json!({ "customerId": "cust_nope", "groupName": "G", "billingDay": 1, "rentalIds": [rentals[0]] }),
            400,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            json!({ "customerId": customer_id, "groupName": "G", "billingDay": 1, "rentalIds": ["sub_nope"] }),
            400,
            "SUBSCRIPTION_NOT_FOUND",
        ),
        (
            json!({ "customerId": customer_id, "groupName": "G", "billingDay": 1, "rentalIds": [rentals[0], other_rentals[0]] }),
            400,
            "SUBSCRIPTION_DIFFERENT_CUSTOMER",
        ),
        (
            json!({ "customerId": customer_id, "groupName": "G", "billingDay": 29, "rentalIds": [rentals[0]] }),
            400,
            "INVALID_BILLING_DAY",
        ),
        (
            json!({ "customerId": customer_id, "billingDay": 1, "rentalIds": [rentals[0]] }),
            400,
            "VALIDATION_ERROR",
        ),
        (
            json!({ "customerId": customer_id, "groupName": "G", "billingDay": 1, "rentalIds": [] }),
            400,
            "VALIDATION_ERROR",
        ),
    ] {
        let (got, answer) = create(body.clone()).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {answer}"
        );
    }
    // Nothing was created, nothing was parked.
    let (_, listed) = send(&client, RawRequest::get("/v1/billing-groups")).await;
    assert_eq!(listed["billingGroups"].as_array().unwrap().len(), 0);
    let own = payments(&client, &format!("rentalId={}", rentals[0])).await;
    assert!(own.iter().all(|p| p["status"] == "pending"));

    // A group of one, then a rental joins it as it is created.
    let (status, created) = create(
        json!({ "customerId": customer_id, "groupName": "Join", "billingDay": 1, "rentalIds": [rentals[0]] }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let group_id = created["billingGroup"]["billingGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, order) = send(
        &client,
        RawRequest::post(
            "/v1/orders",
            json!({
                "customer": { "email": "join@example.com", "firstName": "Bea", "lastName": "Buyer" },
                "billingAddress": { "contactName": "Bea", "streetAddress": "1 Group St", "city": "Berlin", "country": "DE" },
                "items": [{ "sku": "BETA-1", "quantity": 2, "contractLength": 12 }]
            }),
        ),
    )
    .await;
    let order_id = order["order"]["orderId"].as_str().unwrap().to_string();
    for serial in ["JOIN-1", "JOIN-2"] {
        send(
            &client,
            RawRequest::post(
                "/v1/assets",
                json!({ "serialNumber": serial, "sku": "BETA-1" }),
            ),
        )
        .await;
    }
    let (status, joined) = send(
        &client,
        RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": "JOIN-1", "startDate": start, "billingGroupId": group_id }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    let joined_id = joined["rentalId"].as_str().unwrap().to_string();
    assert_eq!(joined["rental"]["billingGroupId"], group_id.as_str());
    let (_, group) = send(
        &client,
        RawRequest::get(format!("/v1/billing-groups/{group_id}")),
    )
    .await;
    assert_eq!(group["billingGroup"]["totalMonthlyAmount"], 129.0 + 89.0);
    assert_eq!(
        group["billingGroup"]["rentalIds"],
        json!([rentals[0], joined_id])
    );
    let consolidated = payments(
        &client,
        &format!("billingGroupId={group_id}&status=pending"),
    )
    .await;
    assert_eq!(consolidated.len(), 12);
    assert!(
        consolidated
            .iter()
            .all(|p| p["lineItems"].as_array().unwrap().len() == 2)
    );
    let (_, in_group) = send(
        &client,
        RawRequest::get(format!("/v1/subscriptions?billingGroupId={group_id}")),
    )
    .await;
    assert_eq!(in_group["count"], 2);

    // Another customer's group, and one that does not exist, are refused; the asset stays free.
    let (_, foreign) = create(
        json!({ "customerId": other_customer, "groupName": "Other", "billingDay": 1, "rentalIds": [other_rentals[0]] }),
    )
    .await;
    let foreign_id = foreign["billingGroup"]["billingGroupId"].as_str().unwrap();
    for (group, code) in [
        (foreign_id, "SUBSCRIPTION_DIFFERENT_CUSTOMER"),
        ("bg_nope", "BILLING_GROUP_NOT_FOUND"),
    ] {
        let (status, refused) = send(
            &client,
            RawRequest::post(
                "/v1/subscriptions",
                json!({ "orderId": order_id, "assetSerialNumber": "JOIN-2", "billingGroupId": group }),
            ),
        )
        .await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (400, Some(code))
        );
    }
    let asset = client.get_asset("JOIN-2").await.unwrap();
    assert_eq!(asset.status, "available");

    // Membership replaced, billing day moved, deactivated: each bills what is left to bill.
    let (status, updated) = send(
        &client,
        RawRequest::patch(
            format!("/v1/billing-groups/{group_id}"),
            json!({ "rentalIds": [rentals[0], rentals[2]], "billingDay": 20, "groupName": "Renamed" }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["billingGroup"]["totalMonthlyAmount"], 129.0 + 159.0);
    assert_eq!(updated["billingGroup"]["groupName"], "Renamed");
    let consolidated = payments(
        &client,
        &format!("billingGroupId={group_id}&status=pending"),
    )
    .await;
    assert_eq!(totals(&consolidated), vec![288.0; 12]);
    assert!(
        consolidated
            .iter()
            .all(|p| p["dueDate"].as_str().unwrap().ends_with("-20"))
    );
    let left = payments(&client, &format!("rentalId={joined_id}")).await;
    assert!(
        left.iter().all(|p| p["status"] == "pending"),
        "the rental that left pays on its own"
    );
    for (body, status, code) in [
        (json!({ "billingDay": 0 }), 400, "INVALID_BILLING_DAY"),
        (json!({ "status": "paused" }), 400, "VALIDATION_ERROR"),
        (
            json!({ "rentalIds": [other_rentals[1]] }),
            400,
            "SUBSCRIPTION_DIFFERENT_CUSTOMER",
        ),
    ] {
        let (got, answer) = send(
            &client,
            RawRequest::patch(format!("/v1/billing-groups/{group_id}"), body.clone()),
        )
        .await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let (status, _) = send(
        &client,
        RawRequest::patch("/v1/billing-groups/bg_nope", json!({ "groupName": "x" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, inactive) = send(
        &client,
        RawRequest::patch(
            format!("/v1/billing-groups/{group_id}"),
            json!({ "status": "inactive" }),
        ),
    )
    .await;
    assert_eq!(
        (status, inactive["billingGroup"]["status"].as_str()),
        (200, Some("inactive"))
    );
    assert!(
        payments(
            &client,
            &format!("billingGroupId={group_id}&status=pending")
        )
        .await
        .is_empty()
    );
    let own = payments(&client, &format!("rentalId={}", rentals[2])).await;
    assert!(own.iter().all(|p| p["status"] == "pending"));

    let (_, by_customer) = send(
        &client,
        RawRequest::get(format!(
            "/v1/billing-groups?customerId={customer_id}&status=inactive"
        )),
    )
    .await;
    assert_eq!(by_customer["billingGroups"].as_array().unwrap().len(), 1);
    assert_eq!(by_customer["count"], 1);
    let (status, _) = send(&client, RawRequest::delete("/v1/billing-groups/bg_nope")).await;
    assert_eq!(status, 404);
}

on_both!(
    typed_client_for_billing_groups,
    typed_client_for_billing_groups
);
async fn typed_client_for_billing_groups(s: &Server) {
    use flexportal_client::{BillingGroupQuery, BillingGroupWrite, PaymentQuery};
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (customer_id, rentals) = three_rentals(&client, "typed@example.com", &later_start()).await;
    let group = client
        .create_billing_group(&BillingGroupWrite {
            customer_id: Some(customer_id.clone()),
            group_name: Some("Typed".into()),
            billing_day: Some(5),
            rental_ids: Some(rentals[..2].to_vec()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (group.total_monthly_amount, group.active_rental_count),
        (218.0, 2)
    );
    let listed = client
        .list_billing_groups(&BillingGroupQuery {
            customer_id: Some(customer_id),
            status: Some("active".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items, vec![group.clone()]);
    let first = client
        .list_payments(&PaymentQuery {
            billing_group_id: Some(group.billing_group_id.clone()),
            status: Some("pending".into()),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let lines = first.items[0].line_items.clone().unwrap();
    assert_eq!(lines.len(), 2);
    let updated = client
        .update_billing_group(
            &group.billing_group_id,
            &BillingGroupWrite {
                rental_ids: Some(rentals.clone()),
                notes: Some("all three".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.total_monthly_amount, 377.0);
    assert_eq!(
        client
            .get_billing_group(&group.billing_group_id)
            .await
            .unwrap(),
        updated
    );
    client
        .delete_billing_group(&group.billing_group_id)
        .await
        .unwrap();
    let err = client
        .get_billing_group(&group.billing_group_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOT_FOUND"));
}
