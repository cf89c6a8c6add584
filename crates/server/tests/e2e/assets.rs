//! Assets: registration against a variant, serial numbers as addresses (IMEIs for phones),
//! the statuses the API may set, retirement, lists.

use flexportal_client::{AssetChanges, AssetQuery, EventQuery, RawRequest};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::on_both;
use crate::support::{Server, simple_product};

fn asset(serial: &str, sku: &str) -> AssetChanges {
    AssetChanges {
        serial_number: Some(serial.into()),
        sku: Some(sku.into()),
        ..Default::default()
    }
}

on_both!(asset_registration_and_status, asset_registration_and_status);
async fn asset_registration_and_status(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let laptop = client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut phone = simple_product("PHONE", "Phone");
    phone.category = Some("Phones".into());
    client.create_product(&phone).await.unwrap();

    let created = client
        .create_asset(&AssetChanges {
            location: Some("Warehouse A".into()),
            ..asset("SN-001", "LAPTOP-A")
        })
        .await
        .unwrap()
        .asset;
    assert_eq!(
        (
            created.status.as_str(),
            created.sku.as_str(),
            created.identifier_type.as_str()
        ),
        ("available", "LAPTOP-A", "serial")
    );
    assert_eq!(created.product_id, laptop.product_id);
    assert_eq!(
        created.acquisition_cost, 700.0,
        "the variant's acquisition cost by default"
    );
    assert_eq!(created.location.as_deref(), Some("Warehouse A"));

    // Errors at registration.
    let err = client
        .create_asset(&asset("SN-001", "LAPTOP-A"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(409), Some("ASSET_EXISTS"))
    );
    let err = client
        .create_asset(&asset("SN-002", "NOPE"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("VARIANT_NOT_FOUND"))
    );
    let err = client
        .create_asset(&asset("not-an-imei", "PHONE-A"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("VALIDATION_ERROR"))
    );
    let err = client
        .create_asset(&AssetChanges {
            identifier_type: Some("imei".into()),
            ..asset("490154203237519", "LAPTOP-A")
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("VALIDATION_ERROR"), "a wrong check digit");
    let phone_asset = client
        .create_asset(&asset("490154203237518", "PHONE-A"))
        .await
        .unwrap()
        .asset;
    assert_eq!(phone_asset.identifier_type, "imei");
    let response = client
        .send(RawRequest::post(
            "/v1/assets",
            json!({ "status": "rented_out", "acquisitionCost": -3 }),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(
        response.detail_paths(),
        ["serialNumber", "sku", "status", "acquisitionCost"]
    );
    // Server-owned fields the docs' examples send are ignored.
    let response = client
        .send(RawRequest::post("/v1/assets", json!({ "serialNumber": "SN-003", "sku": "LAPTOP-A", "tenantId": "other", "createdAt": "x", "productName": "Given" })))
        .await
        .unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(
        response.json.unwrap()["asset"]["tenantId"],
        tenant.tenant_id
    );

    // Serials are matched exactly, also with a slash or a space in them.
    let odd = client
        .create_asset(&asset("SN/2024 001", "LAPTOP-A"))
        .await
        .unwrap()
        .asset;
    assert_eq!(
        client.get_asset("SN/2024 001").await.unwrap().serial_number,
        odd.serial_number
    );
    assert_eq!(
        client.get_asset("sn/2024 001").await.unwrap_err().status(),
        Some(404)
    );

    // Status changes the API may make, and those it may not.
    let broken = client
        .update_asset(
            "SN-001",
            &AssetChanges {
                status: Some("unavailable".into()),
                unavailable_reason: Some("damaged".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(
        (broken.status.as_str(), broken.unavailable_reason.as_deref()),
        ("unavailable", Some("damaged"))
    );
    let fixed = client
        .update_asset(
            "SN-001",
            &AssetChanges {
                status: Some("available".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(
        (fixed.status.as_str(), fixed.unavailable_reason.as_deref()),
        ("available", None)
    );
    let err = client
        .update_asset(
            "SN-001",
            &AssetChanges {
                status: Some("sold".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("INVALID_STATUS_TRANSITION"))
    );
    let err = client
        .update_asset(
            "SN-001",
            &AssetChanges {
                serial_number: Some("SN-999".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("VALIDATION_ERROR"));

    // Rentals (a later issue) put assets on rent; until they exist the test does it directly.
    s.db.execute(
        "UPDATE assets SET status = 'rented_out' WHERE tenant_id = $1 AND serial_number = $2",
        vec![tenant.tenant_id.clone().into(), "SN-003".into()],
    )
    .await
    .unwrap();
    let err = client
        .update_asset(
            "SN-003",
            &AssetChanges {
                status: Some("unavailable".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("ASSET_IN_USE"))
    );
    let err = client.delete_asset("SN-003").await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("ASSET_IN_USE"))
    );
    assert!(
        client
            .update_asset(
                "SN-003",
                &AssetChanges {
                    location: Some("Customer site".into()),
                    ..Default::default()
                }
            )
            .await
            .is_ok()
    );

    let retired = client.delete_asset("SN-001").await.unwrap();
    assert_eq!(retired.serial_number, "SN-001");
    let gone = client.get_asset("SN-001").await.unwrap();
    assert_eq!(
        (gone.status.as_str(), gone.unavailable_reason.as_deref()),
        ("unavailable", Some("retired"))
    );

    for request in [
        RawRequest::get("/v1/assets/NOPE"),
        RawRequest::put("/v1/assets/NOPE", json!({ "location": "x" })),
        RawRequest::delete("/v1/assets/NOPE"),
    ] {
        let response = client.send(request).await.unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (404, Some("NOT_FOUND"))
        );
    }
    let events: Vec<_> = client
        .events(EventQuery {
            resource_id: Some("SN-001".into()),
            sort_dir: Some("asc".into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "asset.created",
            "asset.updated",
            "asset.updated",
            "asset.updated"
        ]
    );
}

on_both!(asset_lists_and_races, asset_lists_and_races);
async fn asset_lists_and_races(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let laptop = client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    client
        .create_product(&simple_product("TABLET", "Tablet"))
        .await
        .unwrap();
    for i in 0..15 {
        let sku = if i % 3 == 0 { "TABLET-A" } else { "LAPTOP-A" };
        client
            .create_asset(&AssetChanges {
                acquisition_cost: Some(100.0 + (i * 37 % 11) as f64),
                ..asset(&format!("SN-{:03}", (i * 7) % 15), sku)
            })
            .await
            .unwrap();
    }
    client
        .update_asset(
            "SN-004",
            &AssetChanges {
                status: Some("unavailable".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let all = |q: AssetQuery| {
        let client = client.clone();
        async move { client.assets(q).try_collect::<Vec<_>>().await.unwrap() }
    };
    let by_serial = all(AssetQuery {
        sort_by: Some("serialNumber".into()),
        sort_dir: Some("asc".into()),
        limit: Some(4),
        ..Default::default()
    })
    .await;
    let serials: Vec<String> = by_serial.iter().map(|a| a.serial_number.clone()).collect();
    let expected: Vec<String> = (0..15).map(|i| format!("SN-{i:03}")).collect();
    assert_eq!(serials, expected);
    let by_cost = all(AssetQuery {
        sort_by: Some("acquisitionCost".into()),
        limit: Some(4),
        ..Default::default()
    })
    .await;
    assert!(
        by_cost
            .windows(2)
            .all(|w| w[0].acquisition_cost >= w[1].acquisition_cost)
    );
    assert_eq!(
        all(AssetQuery {
            sku: Some("TABLET-A".into()),
            ..Default::default()
        })
        .await
        .len(),
        5
    );
    assert_eq!(
        all(AssetQuery {
            product_id: Some(laptop.product_id.clone()),
            ..Default::default()
        })
        .await
        .len(),
        10
    );
    assert_eq!(
        all(AssetQuery {
            status: Some("unavailable".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    for query in ["sortBy=price", "status=lost", "startAfter=SN-999"] {
        let response = client
            .send(RawRequest::get(format!("/v1/assets?{query}")))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{query}"
        );
    }

    // Twenty registrations of one serial at once: one 201, nineteen ASSET_EXISTS.
    let race = asset("RACE-1", "LAPTOP-A");
    let answers = futures_util::future::join_all((0..20).map(|_| client.create_asset(&race))).await;
    let created = answers.iter().filter(|a| a.is_ok()).count();
    let exists = answers
        .iter()
        .filter(|a| a.as_ref().err().and_then(|e| e.code()) == Some("ASSET_EXISTS"))
        .count();
    assert_eq!((created, exists), (1, 19));
}
