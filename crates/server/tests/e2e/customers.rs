//! Customers: created by orders or directly, updated, deactivated under guard, reactivated,
//! listed with filters and sorts, figures that follow the orders.

use flexportal_client::{
    Address, CustomerChanges, CustomerQuery, NewOrder, NewOrderCustomer, NewOrderItem, RawRequest,
};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::on_both;
use crate::support::{Server, simple_product};

fn order(email: &str, first_name: &str) -> NewOrder {
    NewOrder {
        customer: Some(NewOrderCustomer {
            email: Some(email.into()),
            first_name: Some(first_name.into()),
            last_name: Some("Doe".into()),
            phone: Some("+31 6 1234 5678".into()),
            ..Default::default()
        }),
        billing_address: Some(Address {
            contact_name: Some("Doe".into()),
            street_address: Some("1 Main St".into()),
            city: Some("Utrecht".into()),
            country: Some("NL".into()),
            ..Default::default()
        }),
        items: Some(vec![NewOrderItem {
            sku: Some("LAPTOP-A".into()),
            quantity: Some(1),
            contract_length: Some(12),
        }]),
        ..Default::default()
    }
}

on_both!(customer_lifecycle, customer_lifecycle);
async fn customer_lifecycle(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();

    // An order creates the customer; a second order with the email in another case finds it
    // and keeps its profile.
    let first = client
        .create_order(&order("Ann@Example.com", "Ann"))
        .await
        .unwrap()
        .order;
    let mut second_order = order("ann@example.com", "Annette");
    second_order.items.as_mut().unwrap()[0].quantity = Some(2);
    let second = client.create_order(&second_order).await.unwrap().order;
    assert_eq!(first.customer.customer_id, second.customer.customer_id);
    let ann = client
        .get_customer(&first.customer.customer_id)
        .await
        .unwrap();
    assert_eq!(
        (
            ann.first_name.as_str(),
            ann.email.as_str(),
            ann.total_orders
        ),
        ("Ann", "Ann@Example.com", 2)
    );
    assert_eq!(
        ann.order_ids,
        [second.order_id.clone(), first.order_id.clone()]
    );
    assert_eq!(ann.open_orders, 2);
    assert_eq!(
        ann.last_billing_address.as_ref().unwrap()["city"],
        "Utrecht"
    );
    assert_eq!(ann.custom_fields, json!({}));

    // Direct creation, duplicates, updates.
    let bob = client
        .create_customer(&CustomerChanges {
            email: Some("bob@corp.example".into()),
            first_name: Some("Bob".into()),
            last_name: Some("Corp".into()),
            customer_type: Some("business".into()),
            payment_terms: Some("net_30".into()),
            company: Some("Corp BV".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .customer;
    assert_eq!(
        (
            bob.customer_type.as_str(),
            bob.payment_terms.as_deref(),
            bob.total_orders
        ),
        ("business", Some("net_30"), 0)
    );
    let dup = client
        .create_customer(&CustomerChanges {
            email: Some("BOB@corp.example".into()),
            first_name: Some("B".into()),
            last_name: Some("C".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (dup.status(), dup.code()),
        (Some(409), Some("DUPLICATE_EMAIL"))
    );
    let clash = client
        .update_customer(
            &bob.customer_id,
            &CustomerChanges {
                email: Some("ann@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (clash.status(), clash.code()),
        (Some(409), Some("DUPLICATE_EMAIL"))
    );
    let renamed = client
        .update_customer(
            &bob.customer_id,
            &CustomerChanges {
                phone: Some("+1 555 0100".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .customer;
    assert_eq!(
        (renamed.phone.as_deref(), renamed.first_name.as_str()),
        (Some("+1 555 0100"), "Bob")
    );
    let response = client
        .send(RawRequest::put(
            format!("/v1/customers/{}", bob.customer_id),
            json!({ "customerId": ann.customer_id }),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.detail_paths()),
        (400, vec!["customerId".to_string()])
    );
    let response = client
        .send(RawRequest::post(
            "/v1/customers",
            json!({ "email": "nope", "paymentTerms": "net_90" }),
        ))
        .await
        .unwrap();
    assert_eq!(
        response.detail_paths(),
        ["email", "firstName", "lastName", "paymentTerms"]
    );

    // Deactivation is refused while orders are open, then allowed; an inactive customer cannot order.
    let err = client.delete_customer(&ann.customer_id).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("CUSTOMER_HAS_PENDING_ORDERS"))
    );
    client.cancel_order(&first.order_id, None).await.unwrap();
    client.cancel_order(&second.order_id, None).await.unwrap();
    client.delete_customer(&ann.customer_id).await.unwrap();
    assert_eq!(
        client.get_customer(&ann.customer_id).await.unwrap().status,
        "inactive"
    );
    let mut third = order("ann@example.com", "Ann");
    third.items.as_mut().unwrap()[0].quantity = Some(3);
    let err = client.create_order(&third).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("CUSTOMER_INACTIVE"))
    );
    client
        .update_customer(
            &ann.customer_id,
            &CustomerChanges {
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(client.create_order(&third).await.is_ok());

    for request in [
        RawRequest::get("/v1/customers/cust_00000000000000000000000000"),
        RawRequest::put(
            "/v1/customers/cust_00000000000000000000000000",
            json!({ "phone": "+1 555 0100" }),
        ),
        RawRequest::delete("/v1/customers/cust_00000000000000000000000000"),
    ] {
        let response = client.send(request).await.unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (404, Some("NOT_FOUND"))
        );
    }
}

on_both!(customer_lists, customer_lists);
async fn customer_lists(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    for (i, name) in ["Cleo", "Ada", "Bea", "Dan", "Eve", "Fay"]
        .iter()
        .enumerate()
    {
        let mut o = order(&format!("{}@example.com", name.to_lowercase()), name);
        if i % 2 == 0 {
            o.customer.as_mut().unwrap().customer_type = Some("business".into());
        }
        client.create_order(&o).await.unwrap();
    }
    let all = |q: CustomerQuery| {
        let client = client.clone();
        async move { client.customers(q).try_collect::<Vec<_>>().await.unwrap() }
    };
    let by_name = all(CustomerQuery {
        sort_by: Some("firstName".into()),
        sort_dir: Some("asc".into()),
        limit: Some(4),
        ..Default::default()
    })
    .await;
    let names: Vec<&str> = by_name.iter().map(|c| c.first_name.as_str()).collect();
    assert_eq!(names, ["Ada", "Bea", "Cleo", "Dan", "Eve", "Fay"]);
    assert!(
        by_name
            .iter()
            .all(|c| c.total_orders == 1 && c.order_ids.len() == 1)
    );
    assert_eq!(
        all(CustomerQuery {
            customer_type: Some("business".into()),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        all(CustomerQuery {
            email: Some("EVE@example.com".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        all(CustomerQuery {
            has_active_rentals: Some(false),
            ..Default::default()
        })
        .await
        .len(),
        6
    );
    assert!(
        all(CustomerQuery {
            has_active_rentals: Some(true),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    for sort in [
        "createdAt",
        "lastName",
        "email",
        "totalMonthlyRevenue",
        "totalDevicesRented",
    ] {
        assert_eq!(
            all(CustomerQuery {
                sort_by: Some(sort.into()),
                limit: Some(4),
                ..Default::default()
            })
            .await
            .len(),
            6,
            "{sort}"
        );
    }
    for query in [
        "sortBy=age",
        "status=gone",
        "hasActiveRentals=maybe",
        "customerType=robot",
    ] {
        let response = client
            .send(RawRequest::get(format!("/v1/customers?{query}")))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{query}"
        );
    }
}
