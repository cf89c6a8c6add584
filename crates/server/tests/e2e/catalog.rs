//! Products and variants: create (upsert), read, partial update, discontinue, variant status.

use flexportal_client::{
    NewPricing, NewProduct, NewVariant, ProductQuery, RawRequest, VariantQuery,
};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, docs_example, simple_product};

on_both!(
    docs_example_product_round_trip,
    docs_example_product_round_trip
);
async fn docs_example_product_round_trip(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let example: Value = serde_json::from_str(&docs_example(
        "api-reference/products/create.md",
        "## Complete Request Example",
    ))
    .expect("the docs example is JSON");
    let created = client
        .send(RawRequest::post("/v1/products", example.clone()))
        .await
        .unwrap();
    assert_eq!(created.status, 201);
    let body = created.json.unwrap();
    assert_eq!(body["operation"], "created");
    let results: Vec<&str> = body["variantResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["create", "create", "create"]);

    let product = client
        .get_product(body["productId"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(product.product_sku, example["productSku"]);
    assert_eq!(product.status, "active");
    let variants = product.variants.clone().unwrap();
    assert_eq!(variants.len(), 3);
    let first = &variants[0];
    assert_eq!(first.variant_sku, example["variants"][0]["variantSku"]);
    assert_eq!(first.list_price, Some(2499.0));
    let prices: Vec<(i64, f64)> = first
        .pricing
        .iter()
        .map(|p| (p.contract_length, p.monthly_price))
        .collect();
    assert_eq!(prices, [(6, 199.0), (12, 159.0), (24, 129.0), (36, 109.0)]);

    // The same SKU again is an update: named variants change, new ones are added, others stay.
    let again = NewProduct {
        product_sku: Some(product.product_sku.clone()),
        name: Some("MacBook Pro 16 (2025)".into()),
        specification: Some(product.specification.clone()),
        category: Some(product.category.clone()),
        brand: Some(product.brand.clone()),
        variants: Some(vec![
            NewVariant {
                variant_sku: Some(first.variant_sku.clone()),
                variant_name: Some(first.variant_name.clone()),
                grade: Some("A".into()),
                pricing: Some(vec![NewPricing {
                    contract_length: Some(12),
                    monthly_price: Some(149.99),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            NewVariant {
                variant_sku: Some("MBP16-NEW-C".into()),
                variant_name: Some("Grade C".into()),
                grade: Some("C".into()),
                pricing: Some(vec![NewPricing {
                    contract_length: Some(24),
                    monthly_price: Some(69.0),
                    ..Default::default()
                }]),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    let updated = client.create_product(&again).await.unwrap();
    assert_eq!(updated.operation, "updated");
    assert_eq!(updated.product_id, product.product_id);
    let ops: Vec<&str> = updated
        .variant_results
        .iter()
        .map(|r| r.operation.as_str())
        .collect();
    assert_eq!(ops, ["update", "create"]);
    let after = client.get_product(&product.product_id).await.unwrap();
    assert_eq!(after.name, "MacBook Pro 16 (2025)");
    let after_variants = after.variants.unwrap();
    assert_eq!(after_variants.len(), 4);
    let repriced = after_variants
        .iter()
        .find(|v| v.variant_sku == first.variant_sku)
        .unwrap();
    assert_eq!(repriced.pricing.len(), 1);
    assert_eq!(repriced.pricing[0].monthly_price, 149.99);
    let untouched = after_variants
        .iter()
        .find(|v| v.variant_sku == variants[1].variant_sku)
        .unwrap();
    assert_eq!(untouched.pricing.len(), 4);
}

on_both!(
    partial_update_and_discontinue,
    partial_update_and_discontinue
);
async fn partial_update_and_discontinue(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let laptop = client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let phone = client
        .create_product(&simple_product("PHONE", "Phone"))
        .await
        .unwrap();

    // PUT takes a partial body.
    let renamed = client
        .update_product(
            &laptop.product_id,
            &NewProduct {
                name: Some("Laptop 14".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.operation, "updated");
    let read = client.get_product(&laptop.product_id).await.unwrap();
    assert_eq!(
        (
            read.name.as_str(),
            read.brand.as_str(),
            read.category.as_str()
        ),
        ("Laptop 14", "Acme", "Laptops")
    );
    assert_eq!(read.variants.as_ref().unwrap()[0].pricing.len(), 2);

    // A product SKU or variant SKU owned by another product is a conflict, and nothing changes.
    let clash = client
        .update_product(
            &laptop.product_id,
            &NewProduct {
                product_sku: Some("PHONE".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (clash.status(), clash.code()),
        (Some(409), Some("DUPLICATE_SKU"))
    );
    let mut steal = simple_product("TABLET", "Tablet");
    steal.variants.as_mut().unwrap()[0].variant_sku = Some("PHONE-A".into());
    let clash = client.create_product(&steal).await.unwrap_err();
    assert_eq!(
        (clash.status(), clash.code()),
        (Some(409), Some("DUPLICATE_SKU"))
    );
    let all = client
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2, "the refused product was not created");
    assert_eq!(
        client
            .get_product(&laptop.product_id)
            .await
            .unwrap()
            .product_sku,
        "LAPTOP"
    );

    // Discontinue: soft, variants inactive.
    let deleted = client.delete_product(&phone.product_id).await.unwrap();
    assert_eq!(deleted.product_sku, "PHONE");
    let gone = client.get_product(&phone.product_id).await.unwrap();
    assert_eq!(gone.status, "discontinued");
    assert!(
        gone.variants
            .unwrap()
            .iter()
            .all(|v| v.status == "inactive")
    );

    // Unknown ids are 404 on every verb.
    for request in [
        RawRequest::get("/v1/products/prod_00000000000000000000000000"),
        RawRequest::put(
            "/v1/products/prod_00000000000000000000000000",
            json!({"name": "x"}),
        ),
        RawRequest::delete("/v1/products/prod_00000000000000000000000000"),
        RawRequest::patch(
            "/v1/products/variants/var_00000000000000000000000000/status",
            json!({"status": "inactive"}),
        ),
    ] {
        let response = client.send(request).await.unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (404, Some("NOT_FOUND"))
        );
    }
}

on_both!(variant_status, variant_status);
async fn variant_status(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let product = client
        .create_product(&simple_product("CAM", "Camera"))
        .await
        .unwrap();
    let variant_id = product.product.variants.as_ref().unwrap()[0]
        .variant_id
        .clone();
    let off = client
        .set_variant_status(&variant_id, "inactive")
        .await
        .unwrap();
    assert_eq!(off.variant.status, "inactive");
    let listed = client
        .list_variants(&VariantQuery {
            status: Some("inactive".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let on = client
        .set_variant_status(&variant_id, "active")
        .await
        .unwrap();
    assert_eq!(on.variant.status, "active");
    for body in [
        json!({"status": "retired"}),
        json!({}),
        json!({"status": 3}),
    ] {
        let response = client
            .send(RawRequest::patch(
                format!("/v1/products/variants/{variant_id}/status"),
                body,
            ))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR"))
        );
        assert_eq!(response.detail_paths(), ["status"]);
    }
}

on_both!(bad_bodies_change_nothing, bad_bodies_change_nothing);
async fn bad_bodies_change_nothing(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let good = serde_json::to_value(simple_product("GOOD", "Good")).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut body = good.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match body.pointer_mut(parent).unwrap() {
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            object => object[key] = value,
        }
        body
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec![
                "productSku",
                "name",
                "specification",
                "category",
                "brand",
                "variants",
            ],
        ),
        (
            with("/variants/0/pricing/0/monthlyPrice", json!("cheap")),
            vec!["variants.0.pricing.0.monthlyPrice"],
        ),
        (
            with("/variants/0/pricing/0/contractLength", json!(121)),
            vec!["variants.0.pricing.0.contractLength"],
        ),
        (
            with("/variants/0/pricing/1/contractLength", json!(12)),
            vec!["variants.0.pricing.1.contractLength"],
        ),
        (
            with("/variants/0/pricing/0/monthlyPrice", json!(-1)),
            vec!["variants.0.pricing.0.monthlyPrice"],
        ),
        (
            with("/variants/0/pricing/0/monthlyPrice", json!(10.001)),
            vec!["variants.0.pricing.0.monthlyPrice"],
        ),
        (
            with("/variants/0/pricing", json!([])),
            vec!["variants.0.pricing"],
        ),
        (with("/variants", json!([])), vec!["variants"]),
        (with("/name", json!("")), vec!["name"]),
        (with("/name", json!(42)), vec!["name"]),
        (with("/images", json!(["not a url"])), vec!["images.0"]),
    ];
    for (body, paths) in cases {
        let response = client
            .send(RawRequest::post("/v1/products", body.clone()))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{body}"
        );
        assert_eq!(response.detail_paths(), paths, "{body}");
    }
    for raw in [&b"{\"productSku\": "[..], b"[1,2]", b"", b"null"] {
        let response = client
            .send(
                RawRequest::post("/v1/products", json!(null))
                    .bytes("application/json", raw.to_vec()),
            )
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR"))
        );
        assert_eq!(response.detail_paths(), [""]);
    }
    // Over 1 MiB: 413 with the error body.
    let mut huge = good.clone();
    huge["description"] = json!("x".repeat(1024 * 1024 + 10));
    let response = client
        .send(RawRequest::post("/v1/products", huge))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
    assert!(!response.detail_paths().is_empty());

    // Nothing was written: no product, no event.
    assert!(
        client
            .list_products(&ProductQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let events = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("product.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events.items.is_empty());
}

on_both!(failures_hide_internals, failures_hide_internals);
async fn failures_hide_internals(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let product = client
        .create_product(&simple_product("FRAGILE", "Fragile"))
        .await
        .unwrap();
    let bad_update = client
        .send(RawRequest::put(format!("/v1/products/{}", product.product_id), json!({ "name": "", "variants": [{ "variantId": product.product.variants.as_ref().unwrap()[0].variant_id, "listPrice": -5 }] })))
        .await
        .unwrap();
    assert_eq!(
        (bad_update.status, bad_update.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(bad_update.detail_paths(), ["name", "variants.0.listPrice"]);
    // The database loses a table under the server's feet: the client gets a plain 500.
    s.db.execute("DROP TABLE variants", vec![]).await.unwrap();
    let response = client
        .send(RawRequest::get(format!(
            "/v1/products/{}",
            product.product_id
        )))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (500, Some("INTERNAL_ERROR"))
    );
    let text = String::from_utf8_lossy(&response.bytes).to_lowercase();
    for internal in [
        "variants", "sqlx", "sqlite", "postgres", "relation", "table", "select",
    ] {
        assert!(
            !text.contains(internal),
            "the error leaks {internal:?}: {text}"
        );
    }
}
