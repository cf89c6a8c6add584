//! What every /v1 request passes through: auth, tenant, permissions, rate limits, and the
//! operational endpoints beside the API.

use flexportal_client::{NewApiKey, ProductQuery, RawRequest};
use futures_util::TryStreamExt;

use crate::on_both;
use crate::support::{Server, holds_within, simple_product};

on_both!(authentication, authentication);
async fn authentication(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let response = client
        .send(RawRequest::get("/v1/products").without_auth())
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (401, Some("AUTH_REQUIRED"))
    );
    let response = client
        .send(
            RawRequest::get("/v1/products")
                .without_auth()
                .header("Authorization", "Basic abc"),
        )
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (401, Some("AUTH_REQUIRED"))
    );
    let wrong = client.with_api_key("pk_live_eu_0000000000000000000000000000000000000000000");
    let response = wrong.send(RawRequest::get("/v1/products")).await.unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (401, Some("INVALID_TOKEN"))
    );

    // A revoked key stops working at once.
    let made = client
        .create_api_key(&NewApiKey {
            name: Some("temp".into()),
            permissions: Some(vec!["*".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let temp = client.with_api_key(&made.secret);
    assert!(temp.list_products(&ProductQuery::default()).await.is_ok());
    // Not by itself: that could lock an organization out.
    let err = temp.revoke_api_key(&made.key_id).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("VALIDATION_ERROR"))
    );
    assert!(temp.list_products(&ProductQuery::default()).await.is_ok());
    client.revoke_api_key(&made.key_id).await.unwrap();
    let err = temp
        .list_products(&ProductQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(401), Some("INVALID_TOKEN"))
    );
}

on_both!(tenant_isolation, tenant_isolation);
async fn tenant_isolation(s: &Server) {
    let a = s.organization("growth").await;
    let b = s.organization("growth").await;
    let (client_a, client_b) = (s.client(&a), s.client(&b));
    let product_b = client_b
        .create_product(&simple_product("SHARED-SKU", "B's"))
        .await
        .unwrap();
    // The same SKU is free in another tenant.
    let product_a = client_a
        .create_product(&simple_product("SHARED-SKU", "A's"))
        .await
        .unwrap();
    assert_eq!(product_a.operation, "created");

    // A's key with B's tenant id, a missing one, and an unknown one all look alike.
    for request in [
        RawRequest::get("/v1/products").header("Tenant-ID", &b.tenant_id),
        RawRequest::get("/v1/products").without_tenant(),
        RawRequest::get("/v1/products").header("Tenant-ID", "bu_00000000000000000000000000"),
    ] {
        let mut request = request;
        if request.headers.iter().any(|(n, _)| n == "Tenant-ID") {
            request = request.without_tenant();
        }
        let response = client_a.send(request).await.unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (403, Some("NO_TENANT_ACCESS"))
        );
    }

    // Nothing of B is visible through A: lists, reads, cursors, events.
    let listed: Vec<_> = client_a
        .products(ProductQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|p| p.product_id.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&product_a.product_id)
    );
    let err = client_a
        .get_product(&product_b.product_id)
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("NOT_FOUND")));
    let err = client_a
        .delete_product(&product_b.product_id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = client_a
        .list_products(&ProductQuery {
            start_after: Some(product_b.product_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("VALIDATION_ERROR"))
    );
    let events = client_a
        .list_events(&flexportal_client::EventQuery {
            resource_id: Some(product_b.product_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.items.is_empty());
    assert_eq!(
        client_b
            .get_product(&product_b.product_id)
            .await
            .unwrap()
            .name,
        "B's"
    );

    // A key limited to one business unit cannot use another unit of the same organization.
    let unit2 = flexportal_store::tenancy::create_business_unit(
        &s.db,
        &a.organization_id,
        flexportal_server::OrganizationSpec::new("eu").business_unit(),
    )
    .await
    .unwrap();
    let limited = client_a
        .create_api_key(&NewApiKey {
            name: Some("unit one only".into()),
            permissions: Some(vec!["products:read".into()]),
            business_unit_ids: Some(vec![a.tenant_id.clone()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let limited_client = client_a.with_api_key(&limited.secret);
    assert!(
        limited_client
            .list_products(&ProductQuery::default())
            .await
            .is_ok()
    );
    let err = limited_client
        .with_tenant(&unit2.tenant_id)
        .list_products(&ProductQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("NO_TENANT_ACCESS"))
    );
    // The admin key may use every unit, and the second unit starts empty.
    assert!(
        client_a
            .with_tenant(&unit2.tenant_id)
            .list_products(&ProductQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

on_both!(permissions, permissions);
async fn permissions(s: &Server) {
    let tenant = s.organization("growth").await;
    let admin = s.client(&tenant);
    let key = |perms: &[&str]| NewApiKey {
        name: Some(perms.join(" ")),
        permissions: Some(perms.iter().map(|p| p.to_string()).collect()),
        ..Default::default()
    };
    let reader = admin.with_api_key(
        &admin
            .create_api_key(&key(&["products:read"]))
            .await
            .unwrap()
            .secret,
    );
    let orders_only = admin.with_api_key(
        &admin
            .create_api_key(&key(&["orders:*"]))
            .await
            .unwrap()
            .secret,
    );
    let writer = admin.with_api_key(
        &admin
            .create_api_key(&key(&["products:write", "api_keys:write"]))
            .await
            .unwrap()
            .secret,
    );

    assert!(reader.list_products(&ProductQuery::default()).await.is_ok());
    let err = reader
        .create_product(&simple_product("NOPE", "Nope"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("INSUFFICIENT_PERMISSIONS"))
    );
    let err = orders_only
        .list_products(&ProductQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("INSUFFICIENT_PERMISSIONS"))
    );
    let err = reader.list_api_keys(&Default::default()).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("INSUFFICIENT_PERMISSIONS"))
    );
    let err = reader.get_business_unit().await.unwrap_err();
    assert_eq!(err.code(), Some("INSUFFICIENT_PERMISSIONS"));
    assert!(
        writer
            .create_product(&simple_product("YES", "Yes"))
            .await
            .is_ok()
    );
    // A key cannot mint a key stronger than itself.
    let err = writer.create_api_key(&key(&["*"])).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("INSUFFICIENT_PERMISSIONS"))
    );
    let err = writer
        .create_api_key(&key(&["orders:read"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("INSUFFICIENT_PERMISSIONS"));
    assert!(
        writer
            .create_api_key(&key(&["products:read"]))
            .await
            .is_ok()
    );
    // The refused write left nothing behind.
    assert_eq!(
        admin
            .list_products(&ProductQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

on_both!(starter_rate_limit, starter_rate_limit);
async fn starter_rate_limit(s: &Server) {
    let starter = s.organization("starter").await;
    let other = s.organization("starter").await;
    let client = s.client(&starter);
    let mut last_remaining = u32::MAX;
    for i in 0..100 {
        let response = client
            .send(RawRequest::get("/v1/products?limit=1"))
            .await
            .unwrap();
        assert_eq!(response.status, 200, "request {}", i + 1);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"starter\";q=100;w=60")
        );
        let remaining: u32 = response
            .header("ratelimit")
            .and_then(|v| v.split(";r=").nth(1))
            .and_then(|v| v.split(';').next())
            .and_then(|v| v.parse().ok())
            .expect("RateLimit header with r=");
        assert!(remaining < last_remaining || remaining == 0);
        last_remaining = remaining;
    }
    let refused = client
        .send(RawRequest::get("/v1/products?limit=1"))
        .await
        .unwrap();
    assert_eq!(
        (refused.status, refused.error_code()),
        (429, Some("RATE_LIMITED"))
    );
    let retry_after: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after));
    assert!(
        refused
            .header("ratelimit")
            .is_some_and(|v| v.contains("r=0"))
    );
    // Another organization is unaffected.
    let response = s
        .client(&other)
        .send(RawRequest::get("/v1/products?limit=1"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

on_both!(operations_endpoints, operations_endpoints);
async fn operations_endpoints(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    assert!(client.health().await.unwrap());
    assert!(client.ready().await.unwrap());
    client
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    let metrics = client
        .send(RawRequest::get("/metrics").without_auth().without_tenant())
        .await
        .unwrap();
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8(metrics.bytes).unwrap();
    assert!(
        text.contains(
            "flexportal_http_requests_total{method=\"GET\",route=\"/v1/products\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "flexportal_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/products\""
    ));

    let document = client.openapi().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/v1/products", &["get", "post"][..]),
        ("/v1/products/{productId}", &["get", "put", "delete"][..]),
        ("/v1/products/variants", &["get"][..]),
        ("/v1/products/variants/{variantId}/status", &["patch"][..]),
        ("/v1/products/csv", &["post"][..]),
        ("/v1/api-keys", &["get", "post"][..]),
        ("/v1/api-keys/{keyId}", &["delete"][..]),
        ("/v1/business-units/current", &["get", "patch"][..]),
        ("/v1/events", &["get"][..]),
        ("/v1/orders", &["get", "post"][..]),
        ("/v1/orders/{orderId}", &["get"][..]),
        ("/v1/orders/{orderId}/notes", &["patch"][..]),
        ("/v1/orders/{orderId}/confirm", &["post"][..]),
        ("/v1/orders/{orderId}/cancel", &["post"][..]),
        ("/v1/assets", &["get", "post"][..]),
        ("/v1/assets/{serialNumber}", &["get", "put", "delete"][..]),
        ("/v1/subscriptions", &["get", "post"][..]),
        ("/v1/subscriptions/{subscriptionId}", &["get"][..]),
        ("/v1/subscriptions/{subscriptionId}/notes", &["patch"][..]),
        ("/v1/subscriptions/{subscriptionId}/extend", &["post"][..]),
        ("/v1/subscriptions/{subscriptionId}/buyout", &["post"][..]),
        (
            "/v1/subscriptions/{subscriptionId}/early-return",
            &["post"][..],
        ),
        ("/v1/subscriptions/{subscriptionId}/replace", &["post"][..]),
        ("/v1/subscriptions/{subscriptionId}/cancel", &["post"][..]),
        ("/v1/subscriptions/calculate-buyout", &["post"][..]),
        (
            "/v1/subscriptions/calculate-early-return-fee",
            &["post"][..],
        ),
        ("/v1/payments", &["get"][..]),
        ("/v1/payments/{paymentId}", &["get"][..]),
        ("/v1/payments/{paymentId}/mark-paid", &["post"][..]),
        ("/v1/payments/{paymentId}/cancel", &["post"][..]),
        ("/v1/payments/{paymentId}/mark-failed", &["post"][..]),
        ("/v1/payments/{paymentId}/invoice", &["post"][..]),
        ("/v1/customers", &["get", "post"][..]),
        ("/v1/customers/{customerId}", &["get", "put", "delete"][..]),
        ("/v1/files", &["get", "post"][..]),
        ("/v1/files/{fileId}", &["get", "delete"][..]),
        ("/v1/files/url", &["post"][..]),
        ("/v1/files/contracts/generate", &["post"][..]),
        ("/v1/exports/rentals", &["post"][..]),
    ] {
        for method in methods {
            let op = &paths[path][*method];
            assert!(op.is_object(), "{method} {path} missing from /openapi.json");
            for status in ["401", "403", "429", "500"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
    let docs = client
        .send(RawRequest::get("/docs/").without_auth().without_tenant())
        .await
        .unwrap();
    assert_eq!(docs.status, 200);
    assert!(String::from_utf8_lossy(&docs.bytes).contains("swagger"));
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/files/{fileId}/content",
        "/exports/{exportId}/content",
    ] {
        assert!(
            paths[path]["get"].is_object(),
            "{path} missing from /openapi.json"
        );
        assert!(
            paths[path]["get"]["security"].is_null(),
            "{path} needs no key"
        );
    }
    let wrong_method = client
        .send(RawRequest::patch("/v1/products", serde_json::json!({})))
        .await
        .unwrap();
    assert_eq!(
        (wrong_method.status, wrong_method.error_code()),
        (405, Some("METHOD_NOT_ALLOWED"))
    );
    let unknown = client.send(RawRequest::get("/v1/rockets")).await.unwrap();
    assert_eq!(
        (unknown.status, unknown.error_code()),
        (404, Some("NOT_FOUND"))
    );
}

on_both!(every_route_is_guarded, every_route_is_guarded);
async fn every_route_is_guarded(s: &Server) {
    let tenant = s.organization("growth").await;
    let admin = s.client(&tenant);
    let unrelated = admin
        .create_api_key(&NewApiKey {
            name: Some("webhooks only".into()),
            permissions: Some(vec!["webhooks:read".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let unrelated = admin.with_api_key(&unrelated.secret);
    let body = serde_json::json!({});
    let routes = [
        RawRequest::get("/v1/products"),
        RawRequest::post("/v1/products", body.clone()),
        RawRequest::get("/v1/products/prod_00000000000000000000000000"),
        RawRequest::put("/v1/products/prod_00000000000000000000000000", body.clone()),
        RawRequest::delete("/v1/products/prod_00000000000000000000000000"),
        RawRequest::get("/v1/products/variants"),
        RawRequest::patch(
            "/v1/products/variants/var_00000000000000000000000000/status",
            body.clone(),
        ),
        RawRequest::post("/v1/products/csv", body.clone()),
        RawRequest::get("/v1/api-keys"),
        RawRequest::post("/v1/api-keys", body.clone()),
        RawRequest::delete("/v1/api-keys/key_00000000000000000000000000"),
        RawRequest::get("/v1/business-units/current"),
        RawRequest::patch("/v1/business-units/current", body.clone()),
        RawRequest::get("/v1/events"),
        RawRequest::post("/v1/orders", body.clone()),
        RawRequest::get("/v1/orders"),
        RawRequest::get("/v1/orders/ord_00000000000000000000000000"),
        RawRequest::patch(
            "/v1/orders/ord_00000000000000000000000000/notes",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/orders/ord_00000000000000000000000000/confirm",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/orders/ord_00000000000000000000000000/cancel",
            body.clone(),
        ),
        RawRequest::post("/v1/assets", body.clone()),
        RawRequest::get("/v1/assets"),
        RawRequest::get("/v1/assets/SN-1"),
        RawRequest::put("/v1/assets/SN-1", body.clone()),
        RawRequest::delete("/v1/assets/SN-1"),
        RawRequest::post("/v1/subscriptions", body.clone()),
        RawRequest::get("/v1/subscriptions"),
        RawRequest::get("/v1/subscriptions/sub_00000000000000000000000000"),
        RawRequest::patch(
            "/v1/subscriptions/sub_00000000000000000000000000/notes",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/subscriptions/sub_00000000000000000000000000/extend",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/subscriptions/sub_00000000000000000000000000/buyout",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/subscriptions/sub_00000000000000000000000000/early-return",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/subscriptions/sub_00000000000000000000000000/replace",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/subscriptions/sub_00000000000000000000000000/cancel",
            body.clone(),
        ),
        RawRequest::post("/v1/subscriptions/calculate-buyout", body.clone()),
        RawRequest::post("/v1/subscriptions/calculate-early-return-fee", body.clone()),
        RawRequest::get("/v1/payments"),
        RawRequest::get("/v1/payments/pay_00000000000000000000000000"),
        RawRequest::post(
            "/v1/payments/pay_00000000000000000000000000/mark-paid",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/payments/pay_00000000000000000000000000/cancel",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/payments/pay_00000000000000000000000000/mark-failed",
            body.clone(),
        ),
        RawRequest::post(
            "/v1/payments/pay_00000000000000000000000000/invoice",
            body.clone(),
        ),
        RawRequest::post("/v1/customers", body.clone()),
        RawRequest::get("/v1/customers"),
        RawRequest::get("/v1/customers/cust_00000000000000000000000000"),
        RawRequest::put(
            "/v1/customers/cust_00000000000000000000000000",
            body.clone(),
        ),
        RawRequest::delete("/v1/customers/cust_00000000000000000000000000"),
        RawRequest::post("/v1/files", body.clone()),
        RawRequest::get("/v1/files"),
        RawRequest::get("/v1/files/file_00000000000000000000000000"),
        RawRequest::delete("/v1/files/file_00000000000000000000000000"),
        RawRequest::post("/v1/files/url", body.clone()),
        RawRequest::post("/v1/exports/rentals", body.clone()),
    ];
    for route in routes {
        let what = format!("{} {}", route.method, route.path);
        let cases = [
            (
                admin.send(route.clone().without_auth()).await.unwrap(),
                401,
                "AUTH_REQUIRED",
            ),
            (
                admin
                    .with_api_key("pk_live_eu_nope")
                    .send(route.clone())
                    .await
                    .unwrap(),
                401,
                "INVALID_TOKEN",
            ),
            (
                admin.send(route.clone().without_tenant()).await.unwrap(),
                403,
                "NO_TENANT_ACCESS",
            ),
            (
                unrelated.send(route.clone()).await.unwrap(),
                403,
                "INSUFFICIENT_PERMISSIONS",
            ),
        ];
        for (response, status, code) in cases {
            assert_eq!(
                (response.status, response.error_code()),
                (status, Some(code)),
                "{what}"
            );
            assert!(
                response.header("ratelimit").is_some()
                    && response.header("ratelimit-policy").is_some(),
                "{what}: no RateLimit headers"
            );
        }
    }
}

on_both!(regions_do_not_see_each_other, regions_do_not_see_each_other);
async fn regions_do_not_see_each_other(s: &Server) {
    let tenant = s.organization("growth").await;
    // A second deployment for another region on the same database.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let us = flexportal_api::AppState::new(s.db.clone(), "us");
    let task = tokio::spawn(flexportal_server::serve(
        us,
        listener,
        async {
            let _ = stopped.await;
        },
        flexportal_server::Background::default(),
    ));
    let elsewhere = flexportal_client::Client::new(&base, &tenant.api_key, &tenant.tenant_id);
    let response = elsewhere
        .send(RawRequest::get("/v1/products"))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (403, Some("NO_TENANT_ACCESS"))
    );
    assert_eq!(response.header("flexportal-region"), Some("us"));
    assert_eq!(
        s.client(&tenant)
            .send(RawRequest::get("/v1/products"))
            .await
            .unwrap()
            .status,
        200
    );
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

on_both!(
    changes_elsewhere_reach_every_server,
    changes_elsewhere_reach_every_server
);
/// Each server keeps the callers it verified in memory; a key revoked or a business unit changed
/// through another server on the same database (as the CLI or a second replica would) must
/// still stop or change what this one serves, within one poll of the auth epoch.
async fn changes_elsewhere_reach_every_server(s: &Server) {
    use flexportal_api::auth_cache::{POLL_EVERY, TRUSTED_FOR};
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let sibling = s.sibling(|_| {}).await;
    let elsewhere = sibling.client(&tenant);
    let made = client
        .create_api_key(&NewApiKey {
            name: Some("replica".into()),
            permissions: Some(vec!["*".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let temp = client.with_api_key(&made.secret);
    for _ in 0..3 {
        assert_eq!(
            temp.get_business_unit().await.unwrap().name,
            tenant_name(&client).await
        );
    }
    let bound = POLL_EVERY + TRUSTED_FOR + std::time::Duration::from_secs(1);

    elsewhere
        .update_business_unit(&serde_json::json!({ "name": "Renamed elsewhere" }))
        .await
        .unwrap();
    let seen = holds_within(bound, || async {
        temp.get_business_unit().await.unwrap().name == "Renamed elsewhere"
    })
    .await;
    assert!(
        seen,
        "the new name never reached this server within {bound:?}"
    );

    elsewhere.revoke_api_key(&made.key_id).await.unwrap();
    let refused = holds_within(bound, || async {
        matches!(
            temp.get_business_unit().await,
            Err(e) if (e.status(), e.code()) == (Some(401), Some("INVALID_TOKEN"))
        )
    })
    .await;
    assert!(
        refused,
        "the key revoked elsewhere still worked after {bound:?}"
    );
    // And stays refused.
    let err = temp.get_business_unit().await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(401), Some("INVALID_TOKEN"))
    );
}

async fn tenant_name(client: &flexportal_client::Client) -> String {
    client.get_business_unit().await.unwrap().name
}
