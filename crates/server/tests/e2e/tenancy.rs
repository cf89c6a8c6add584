//! API keys, the business unit's settings, and the event log.

use flexportal_client::{EventQuery, ListQuery, NewApiKey, RawRequest};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::on_both;
use crate::support::{Server, simple_product};

on_both!(api_keys, api_keys);
async fn api_keys(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let created = client
        .create_api_key(&NewApiKey {
            name: Some("warehouse scanner".into()),
            permissions: Some(vec!["products:read".into(), "assets:write".into()]),
            expires_at: Some("2099-01-01".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(created.secret.starts_with("pk_live_eu_"));
    assert_eq!(
        created.api_key.permissions,
        ["products:read", "assets:write"]
    );
    assert_eq!(created.api_key.business_unit_ids, None);
    assert_eq!(
        created.api_key.expires_at.as_deref(),
        Some("2099-01-01T00:00:00.000Z")
    );

    let scanner = client.with_api_key(&created.secret);
    for _ in 0..3 {
        scanner.list_products(&Default::default()).await.unwrap();
    }
    let keys: Vec<_> = client
        .api_keys(ListQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let listed = keys.iter().find(|k| k.key_id == created.key_id).unwrap();
    assert_eq!(listed.usage_count, 3);
    assert!(listed.last_used_at.is_some());
    let raw = client.send(RawRequest::get("/v1/api-keys")).await.unwrap();
    assert!(
        !String::from_utf8_lossy(&raw.bytes).contains(&created.secret),
        "a list never shows secrets"
    );

    let revoked = client.revoke_api_key(&created.key_id).await.unwrap();
    assert!(revoked.api_key.revoked_at.is_some());
    assert_eq!(
        scanner
            .list_products(&Default::default())
            .await
            .unwrap_err()
            .code(),
        Some("INVALID_TOKEN")
    );
    let err = client
        .revoke_api_key("key_00000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("NOT_FOUND")));

    let response = client
        .send(RawRequest::post(
            "/v1/api-keys",
            json!({ "permissions": ["products:fly", "*"], "businessUnitIds": ["bu_00000000000000000000000000"], "expiresAt": "2001-01-01" }),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(
        response.detail_paths(),
        ["name", "permissions.0", "businessUnitIds.0", "expiresAt"]
    );
    assert_eq!(
        client
            .api_keys(ListQuery::default())
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        2
    );
}

on_both!(business_unit_settings, business_unit_settings);
async fn business_unit_settings(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let unit = client.get_business_unit().await.unwrap();
    assert_eq!(unit.business_unit_id, tenant.tenant_id);
    assert_eq!(
        (unit.currency.as_str(), unit.region.as_str()),
        ("EUR", "eu")
    );
    assert_eq!(unit.settings["billingStart"], "immediate");
    assert_eq!(unit.settings["requireOrderConfirmation"], false);

    let updated = client
        .update_business_unit(&json!({
            "name": "Germany",
            "timezone": "Europe/Berlin",
            "vatRate": 19,
            "vatMode": "inclusive",
            "defaultContractLength": 24,
            "orderNumberPrefix": "DE",
            "currency": "EUR",
            "settings": { "buyout": { "method": "flat_fee", "flatFee": 99.5 }, "requireOrderConfirmation": true,
                          "customFields": [{ "id": "po", "label": "PO number", "type": "text", "required": true }] }
        }))
        .await
        .unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.timezone.as_str(),
            updated.vat_rate
        ),
        ("Germany", "Europe/Berlin", 19.0)
    );
    assert_eq!(
        (
            updated.vat_mode.as_str(),
            updated.default_contract_length,
            updated.order_number_prefix.as_str()
        ),
        ("inclusive", 24, "DE")
    );
    assert_eq!(
        updated.settings["buyout"],
        json!({ "method": "flat_fee", "flatFee": 99.5, "listPricePercentage": 0.0 })
    );
    assert_eq!(updated.settings["requireOrderConfirmation"], true);
    assert_eq!(
        updated.settings["billingStart"], "immediate",
        "settings not named keep their values"
    );
    assert_eq!(
        client.get_business_unit().await.unwrap().settings,
        updated.settings
    );

    let response = client
        .send(RawRequest::patch(
            "/v1/business-units/current",
            json!({ "currency": "USD", "timezone": "Mars/Base", "vatRate": 150, "orderNumberPrefix": "toolong", "defaultContractLength": 0 }),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(
        response.detail_paths(),
        [
            "currency",
            "timezone",
            "vatRate",
            "defaultContractLength",
            "orderNumberPrefix"
        ]
    );
    for (settings, path) in [
        (json!({ "billingstart": "immediate" }), "settings"),
        (json!({ "billingStart": "yearly" }), "settings.billingStart"),
        (
            json!({ "earlyReturn": { "percentage": 120 } }),
            "settings.earlyReturn.percentage",
        ),
    ] {
        let response = client
            .send(RawRequest::patch(
                "/v1/business-units/current",
                json!({ "settings": settings }),
            ))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{settings}"
        );
        assert!(
            response.detail_paths()[0].starts_with(path),
            "{settings}: {:?}",
            response.detail_paths()
        );
    }
    let unchanged = client.get_business_unit().await.unwrap();
    assert_eq!(
        (unchanged.currency.as_str(), unchanged.name.as_str()),
        ("EUR", "Germany")
    );
    let events = client
        .list_events(&EventQuery {
            event_type: Some("business_unit.updated".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    assert_eq!(events.items[0].data["name"], "Germany");
}

on_both!(event_log, event_log);
async fn event_log(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let product = client
        .create_product(&simple_product("EVT", "Evented"))
        .await
        .unwrap();
    client
        .update_product(
            &product.product_id,
            &flexportal_client::NewProduct {
                name: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    client.delete_product(&product.product_id).await.unwrap();
    client
        .create_product(&simple_product("OTHER", "Other"))
        .await
        .unwrap();

    let mine: Vec<_> = client
        .events(EventQuery {
            resource_id: Some(product.product_id.clone()),
            sort_dir: Some("asc".into()),
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let types: Vec<&str> = mine.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["product.created", "product.updated", "product.discontinued"]
    );
    assert!(
        mine.iter()
            .all(|e| e.resource_type == "product" && e.event_id.starts_with("evt_"))
    );
    assert_eq!(mine[0].data["name"], "Evented");
    assert_eq!(mine[1].data["name"], "Renamed");
    assert_eq!(mine[2].data["status"], "discontinued");
    assert_eq!(mine[2].data["variants"][0]["status"], "inactive");

    let created = client
        .list_events(&EventQuery {
            event_type: Some("product.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.items.len(), 2);
    assert!(
        created.items[0].created_at >= created.items[1].created_at,
        "newest first by default"
    );

    for query in [
        "limit=x",
        "sortBy=type",
        "sortDir=sideways",
        "startAfter=evt_00000000000000000000000000",
    ] {
        let response = client
            .send(RawRequest::get(format!("/v1/events?{query}")))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{query}"
        );
    }
    let response = client
        .send(RawRequest::get(
            "/v1/api-keys?startAfter=key_00000000000000000000000000",
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
}
