//! Contracts: an integrator has the server write an order's rental contract as a PDF, finds it
//! among the order's files, hands its link to the customer, and can have contracts written as
//! units are delivered; a refused request stores nothing.

use flexportal_client::{
    AssetChanges, Client, Error, FileQuery, FileUrlRequest, GenerateContract, NewApiKey, RawRequest,
};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, counts, events_of, simple_product};

/// The PDF's text, runs of whitespace made single spaces.
fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let doc = lopdf::Document::load_mem(pdf).expect("the contract parses as a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text extracts");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A lessor with an address, 19 % VAT added on top, and buyout and early-return terms to print.
async fn lessor(client: &Client) {
    client
        .update_business_unit(&json!({
            "name": "Lumen Leasing GmbH",
            "vatRate": 19,
            "settings": {
                "lessor": { "address": ["Torstrasse 140", "10119 Berlin"], "vatId": "DE123456789" },
                "buyout": { "method": "flat_fee", "flatFee": 150 },
                "earlyReturn": { "method": "flat_fee", "flatFee": 49.9, "gracePeriodDays": 14 }
            }
        }))
        .await
        .unwrap();
}

/// An order of `quantity` laptops (99.00 net a month for 12 months) for Ada; returns its id.
async fn order(client: &Client, quantity: i64, extra: Value) -> String {
    let _ = client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await;
    let mut body = json!({
        "customer": { "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "company": "Analytical Engines Ltd" },
        "billingAddress": { "contactName": "Ada Lovelace", "streetAddress": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH", "country": "GB" },
        "items": [{ "sku": "LAPTOP-A", "quantity": quantity, "contractLength": 12 }]
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = client
        .send(RawRequest::post("/v1/orders", body))
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{:?}", response.json);
    response.json.unwrap()["order"]["orderId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An asset `serial` rented out on `order_id` from `start`; returns the rental id.
async fn rent(client: &Client, order_id: &str, serial: &str, start: &str) -> String {
    client
        .create_asset(&AssetChanges {
            serial_number: Some(serial.into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let response = client
        .send(RawRequest::post(
            "/v1/subscriptions",
            json!({ "orderId": order_id, "assetSerialNumber": serial, "startDate": start }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{:?}", response.json);
    response.json.unwrap()["rentalId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn generate(order_id: &str, contract_type: Option<&str>) -> GenerateContract {
    GenerateContract {
        order_id: Some(order_id.into()),
        contract_type: contract_type.map(Into::into),
        ..Default::default()
    }
}

async fn contract_files(client: &Client, order_id: &str) -> Vec<flexportal_client::File> {
    client
        .list_files(&FileQuery {
            order_id: Some(order_id.into()),
            file_type: Some("contract".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

/// The bytes of a file, through a signed link as a customer would fetch them.
async fn download(client: &Client, file_id: &str) -> Vec<u8> {
    let link = client
        .file_url(&FileUrlRequest {
            file_id: Some(file_id.into()),
            action: Some("download".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    client.fetch_file(&link.url).await.unwrap().bytes
}

fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> (u16, String, Vec<String>) {
    match result.unwrap_err() {
        Error::Api {
            status,
            code,
            details,
            ..
        } => (status, code, details.into_iter().map(|d| d.path).collect()),
        other => panic!("not an API refusal: {other}"),
    }
}

fn stored_blobs(s: &Server) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    }
    walk(&s.data_dir.join("files"))
}

on_both!(
    contract_of_a_partly_delivered_order,
    contract_of_a_partly_delivered_order
);
async fn contract_of_a_partly_delivered_order(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    lessor(&client).await;
    let order_id = order(&client, 2, json!({})).await;
    rent(&client, &order_id, "SN-CONTRACT-0001", "2024-01-31").await;

    let response = client
        .send(RawRequest::post(
            "/v1/files/contracts/generate",
            json!({ "orderId": order_id }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{:?}", response.json);
    let body = response.json.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["orderId"], order_id.as_str());
    assert_eq!(body["tenantId"], tenant.tenant_id.as_str());
    assert_eq!(body["contractType"], "order");
    let file_id = body["fileId"].as_str().unwrap().to_string();
    assert!(file_id.starts_with("file_"));
    assert_eq!(
        body["fileName"],
        format!("contract-{order_id}.pdf").as_str()
    );

    let listed = contract_files(&client, &order_id).await;
    assert_eq!(listed.len(), 1);
    let file = &listed[0];
    assert_eq!(
        (
            file.file_id.as_str(),
            file.category.as_str(),
            file.content_type.as_str()
        ),
        (file_id.as_str(), "generated", "application/pdf")
    );
    assert_eq!(file.metadata["contractType"], "order");
    assert_eq!(file.metadata["trigger"], "request");
    assert!(file.uploaded_by.starts_with("key_"));

    let bytes = download(&client, &file_id).await;
    assert_eq!(bytes.len() as i64, file.file_size);
    // The link in the answer works too, without credentials.
    let linked = client
        .fetch_file(body["downloadUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(linked.bytes, bytes);

    let text = pdf_text(&bytes);
    for expected in [
        "Rental Contract",
        "Lumen Leasing GmbH",
        "Torstrasse 140",
        "DE123456789",
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "ada@example.com",
        "12 St James's Square",
        "SW1Y 4JH London",
        "Laptop",
        "SN-CONTRACT-0001",
        "assigned on delivery",
        "12 months",
        "99.00 EUR",
        "18.81 EUR",
        "117.81 EUR",
        "19%",
        // The rental's own payments, month ends clamped (2024 is a leap year).
        "2024-01-31",
        "2024-02-29",
        "2024-04-30",
        "2024-12-31",
        "a fixed price of 150.00 EUR per device",
        "a fee of 49.90 EUR per device",
        "within 14 days of the start",
        "Signatures",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    // Two units: the monthly total is twice one unit's; the delivered unit's 12 payments in
    // 2024 and the other unit's 12 from today make 24 rows.
    assert!(text.contains("198.00 EUR"), "{text}");
    assert!(text.contains("following 24 amounts"), "{text}");

    assert_eq!(
        events_of(&client, &file_id).await,
        counts(&[("contract.generated", 1), ("file.created", 1)])
    );

    // Generating again keeps the first contract and adds a second.
    let again = client
        .generate_contract(&generate(&order_id, None))
        .await
        .unwrap();
    assert_ne!(again.file_id, file_id);
    assert_eq!(contract_files(&client, &order_id).await.len(), 2);
}

on_both!(
    extension_and_upgrade_contracts,
    extension_and_upgrade_contracts
);
async fn extension_and_upgrade_contracts(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    lessor(&client).await;
    let standard = order(&client, 1, json!({})).await;
    for (contract_type, title) in [
        ("extension", "Contract Extension"),
        ("upgrade", "Upgrade Contract"),
        ("order", "Rental Contract"),
    ] {
        let made = client
            .generate_contract(&generate(&standard, Some(contract_type)))
            .await
            .unwrap();
        assert_eq!(made.contract_type.as_deref(), Some(contract_type));
        let text = pdf_text(&download(&client, &made.file_id).await);
        assert!(text.contains(title), "{title} missing from:\n{text}");
        for other in ["Contract Extension", "Upgrade Contract", "Rental Contract"] {
            if other != title {
                assert!(!text.contains(other), "{other} in the {title}");
            }
        }
    }

    // An extension order gets an extension contract unless the caller asks for another kind.
    // Two units, so that it is not taken for a repeat of the first order.
    let extension = order(
        &client,
        2,
        json!({ "orderType": "extension", "extensionDetails": {
            "originalOrderId": standard, "extensionMonths": 6,
            "previousEndDate": "2026-06-30", "newEndDate": "2026-12-31"
        } }),
    )
    .await;
    let made = client
        .generate_contract(&generate(&extension, None))
        .await
        .unwrap();
    assert_eq!(made.contract_type.as_deref(), Some("extension"));
    let text = pdf_text(&download(&client, &made.file_id).await);
    assert!(text.contains("Contract Extension"), "{text}");
    assert!(
        text.contains(&standard),
        "the extended order is named: {text}"
    );
    assert!(
        text.contains("Extension by 6 months. The previous term ended on 2026-06-30."),
        "{text}"
    );
    assert!(
        made.file_name
            .as_deref()
            .is_some_and(|n| n.starts_with("extension-contract-"))
    );
    let explicit = client
        .generate_contract(&generate(&extension, Some("order")))
        .await
        .unwrap();
    assert_eq!(explicit.contract_type.as_deref(), Some("order"));
    let text = pdf_text(&download(&client, &explicit.file_id).await);
    assert!(text.contains("Rental Contract"), "{text}");
}

on_both!(
    refused_contracts_store_nothing,
    refused_contracts_store_nothing
);
async fn refused_contracts_store_nothing(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let order_id = order(&client, 1, json!({})).await;
    let other = s.organization("growth").await;
    let other_client = s.client(&other);
    let foreign = order(&other_client, 1, json!({})).await;

    assert_eq!(
        refusal(
            client
                .generate_contract(&generate("ord_00000000000000000000000000", None))
                .await
        ),
        (400, "ORDER_NOT_FOUND".into(), vec![])
    );
    // Another business unit's order is as unknown as one that never existed.
    assert_eq!(
        refusal(client.generate_contract(&generate(&foreign, None)).await),
        (400, "ORDER_NOT_FOUND".into(), vec![])
    );
    assert_eq!(
        refusal(
            client
                .generate_contract(&generate(&order_id, Some("lease")))
                .await
        ),
        (400, "VALIDATION_ERROR".into(), vec!["contractType".into()])
    );
    assert_eq!(
        refusal(client.generate_contract(&GenerateContract::default()).await),
        (400, "VALIDATION_ERROR".into(), vec!["orderId".into()])
    );
    assert_eq!(
        refusal(
            client
                .generate_contract(&GenerateContract {
                    template_id: Some("glossy".into()),
                    ..generate(&order_id, None)
                })
                .await
        ),
        (400, "TEMPLATE_NOT_FOUND".into(), vec![])
    );
    let reader = client
        .create_api_key(&NewApiKey {
            name: Some("reader".into()),
            permissions: Some(vec!["files:read".into(), "orders:read".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        refusal(
            client
                .with_api_key(&reader.secret)
                .generate_contract(&generate(&order_id, None))
                .await
        ),
        (403, "INSUFFICIENT_PERMISSIONS".into(), vec![])
    );

    assert!(contract_files(&client, &order_id).await.is_empty());
    assert!(contract_files(&other_client, &foreign).await.is_empty());
    assert_eq!(stored_blobs(s), 0);
    let generated = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("contract.generated".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(generated.items.is_empty());
}

on_both!(
    contracts_follow_deliveries_when_asked,
    contracts_follow_deliveries_when_asked
);
async fn contracts_follow_deliveries_when_asked(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    lessor(&client).await;
    let order_id = order(&client, 2, json!({})).await;

    // Off by default: a delivery writes no contract.
    let unit = client.get_business_unit().await.unwrap();
    assert_eq!(unit.settings["autoGenerateContracts"], false);
    rent(&client, &order_id, "SN-AUTO-0001", "2026-03-01").await;
    assert!(contract_files(&client, &order_id).await.is_empty());
    assert_eq!(stored_blobs(s), 0);

    let unit = client
        .update_business_unit(&json!({ "settings": { "autoGenerateContracts": true } }))
        .await
        .unwrap();
    assert_eq!(unit.settings["autoGenerateContracts"], true);
    let rental_id = rent(&client, &order_id, "SN-AUTO-0002", "2026-03-01").await;
    let files = contract_files(&client, &order_id).await;
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.category, "generated");
    assert_eq!(file.metadata["trigger"], "rental.created");
    assert_eq!(file.metadata["rentalId"], rental_id.as_str());
    assert_eq!(
        events_of(&client, &file.file_id).await,
        counts(&[("contract.generated", 1), ("file.created", 1)])
    );
    let text = pdf_text(&download(&client, &file.file_id).await);
    for serial in ["SN-AUTO-0001", "SN-AUTO-0002"] {
        assert!(text.contains(serial), "{serial} missing from:\n{text}");
    }
    assert!(!text.contains("assigned on delivery"), "{text}");
    assert_eq!(stored_blobs(s), 1);

    // An upgrade starts a rental on an upgrade order: that order gets an upgrade contract.
    client
        .create_asset(&AssetChanges {
            serial_number: Some("SN-AUTO-0003".into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let upgraded = client
        .send(RawRequest::post(
            format!("/v1/subscriptions/{rental_id}/upgrade"),
            json!({ "newSku": "LAPTOP-A", "newSerialNumber": "SN-AUTO-0003", "contractLength": 12, "reason": "faster model" }),
        ))
        .await
        .unwrap();
    assert_eq!(upgraded.status, 200, "{:?}", upgraded.json);
    let upgrade_order = upgraded.json.unwrap()["orderId"]
        .as_str()
        .unwrap()
        .to_string();
    let files = contract_files(&client, &upgrade_order).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].metadata["contractType"], "upgrade");
    let text = pdf_text(&download(&client, &files[0].file_id).await);
    assert!(text.contains("Upgrade Contract"), "{text}");
    assert!(text.contains("SN-AUTO-0003"), "{text}");
    assert!(
        text.contains(&rental_id),
        "the upgraded rental is named: {text}"
    );
}
