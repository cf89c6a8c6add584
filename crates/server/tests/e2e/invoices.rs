//! Invoices: a payment's invoice is a PDF file of its order with a number from the business
//! unit's gap-free sequence; asking twice, refusals and concurrent requests never waste or
//! repeat a number.

use flexportal_client::{Client, Error, FileQuery, FileUrlRequest, NewApiKey, RawRequest};
use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Server, counts, events_of};

async fn send(client: &Client, request: RawRequest) -> (u16, Value) {
    let response = client.send(request).await.unwrap();
    (response.status, response.json.unwrap_or(Value::Null))
}

fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> (u16, String) {
    match result.unwrap_err() {
        Error::Api { status, code, .. } => (status, code),
        other => panic!("not an API refusal: {other}"),
    }
}

/// Products `<sku>-1` at `price` a month for 12 or 24 months.
async fn product(client: &Client, sku: &str, name: &str, price: f64) {
    let (status, body) = send(
        client,
        RawRequest::post(
            "/v1/products",
            json!({
                "productSku": sku, "name": name, "specification": "device", "category": "Laptops", "brand": "Acme",
                "variants": [{ "variantSku": format!("{sku}-1"), "variantName": "One", "grade": "A",
                    "listPrice": 2000, "acquisitionCost": 900,
                    "pricing": [{ "contractLength": 12, "monthlyPrice": price }, { "contractLength": 24, "monthlyPrice": price }] }]
            }),
        ),
    )
    .await;
    assert!(status == 201 || status == 409, "{body}");
}

/// An order of one unit of each `sku` for `months`, one rental per unit starting on `start`.
/// Returns the order, the customer and the rentals with their serials.
async fn rentals(
    client: &Client,
    email: &str,
    skus: &[&str],
    months: i64,
    start: &str,
) -> (String, String, Vec<(String, String)>) {
    let items: Vec<Value> = skus
        .iter()
        .map(|sku| json!({ "sku": format!("{sku}-1"), "quantity": 1, "contractLength": months }))
        .collect();
    let (status, order) = send(
        client,
        RawRequest::post(
            "/v1/orders",
            json!({
                "customer": { "email": email, "firstName": "Ada", "lastName": "Lovelace", "company": "Analytical Engines Ltd" },
                "billingAddress": { "contactName": "Ada Lovelace", "streetAddress": "12 Invoice Row", "city": "London", "postalCode": "N1 7GU", "country": "GB" },
                "items": items
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
    let mut made = Vec::new();
    for (i, sku) in skus.iter().enumerate() {
        let serial = format!("SN-{sku}-{i}-{}", email.len());
        let (status, asset) = send(
            client,
            RawRequest::post(
                "/v1/assets",
                json!({ "serialNumber": serial, "sku": format!("{sku}-1") }),
            ),
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
        made.push((rental["rentalId"].as_str().unwrap().to_string(), serial));
    }
    (order_id, customer_id, made)
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

fn id(value: &Value) -> String {
    value["paymentId"].as_str().unwrap().to_string()
}

/// Two months ago: the first payments of a rental starting then are past due.
fn months_ago() -> String {
    let today = flexportal_domain::time::today_in(&jiff::tz::TimeZone::UTC);
    today
        .checked_sub(jiff::Span::new().months(2))
        .unwrap_or(today)
        .to_string()
}

fn today() -> String {
    flexportal_domain::time::today_in(&jiff::tz::TimeZone::UTC).to_string()
}

/// The first day of the month after next, so every billing day of a group lies ahead.
fn later_start() -> String {
    let first = flexportal_domain::time::today_in(&jiff::tz::TimeZone::UTC).first_of_month();
    first
        .checked_add(jiff::Span::new().months(2))
        .unwrap_or(first)
        .to_string()
}

/// The text of a PDF fetched through a signed link, whitespace collapsed.
async fn pdf_text(client: &Client, file_id: &str) -> String {
    let link = client
        .file_url(&FileUrlRequest {
            file_id: Some(file_id.into()),
            action: Some("download".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let fetched = client.fetch_file(&link.url).await.unwrap();
    assert_eq!(fetched.content_type.as_deref(), Some("application/pdf"));
    assert!(fetched.bytes.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&fetched.bytes).expect("a valid PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text extracts");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn invoice_files(client: &Client, order_id: &str) -> Vec<flexportal_client::File> {
    client
        .list_files(&FileQuery {
            order_id: Some(order_id.into()),
            file_type: Some("invoice".into()),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

on_both!(an_individual_payment, an_individual_payment);
async fn an_individual_payment(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .update_business_unit(&json!({ "vatRate": 19, "vatMode": "exclusive" }))
        .await
        .unwrap();
    product(&client, "LAPTOP", "Laptop Pro 14", 99.0).await;
    let (order_id, customer_id, made) =
        rentals(&client, "ada@example.com", &["LAPTOP"], 12, &months_ago()).await;
    let (rental_id, serial) = made[0].clone();
    let schedule = payments(&client, &format!("rentalId={rental_id}")).await;
    assert_eq!(schedule.len(), 12);
    let first = id(&schedule[0]);

    let (status, issued) = client.issue_invoice(&first).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(issued.invoice_number, "FP-INV-000001");
    assert_eq!(issued.payment_id, first);
    assert_eq!(issued.file_id, issued.file.file_id);
    assert_eq!(
        (
            issued.file.order_id.as_str(),
            issued.file.customer_id.as_deref(),
            issued.file.file_type.as_str(),
            issued.file.category.as_str(),
            issued.file.content_type.as_str(),
            issued.file.filename.as_str(),
        ),
        (
            order_id.as_str(),
            Some(customer_id.as_str()),
            "invoice",
            "generated",
            "application/pdf",
            "FP-INV-000001.pdf"
        )
    );
    assert_eq!(
        issued.file.metadata,
        json!({ "paymentId": first, "invoiceNumber": "FP-INV-000001" })
    );
    let listed = invoice_files(&client, &order_id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].file_id, issued.file_id);

    let text = pdf_text(&client, &issued.file_id).await;
    let originally = format!("Originally due on {}.", months_ago());
    for expected in [
        "FP-INV-000001",
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "12 Invoice Row",
        "Laptop Pro 14",
        serial.as_str(),
        "99.00 EUR",
        "18.81 EUR",
        "117.81 EUR",
        "19%",
        first.as_str(),
        // Past due: due at once, and the invoice says since when.
        originally.as_str(),
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(
        events_of(&client, "FP-INV-000001").await,
        counts(&[("invoice.created", 1)])
    );

    // Asked again: the same invoice, nothing new written.
    let (status, again) = client.issue_invoice(&first).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        (again.invoice_number.as_str(), again.file_id.as_str()),
        ("FP-INV-000001", issued.file_id.as_str())
    );
    assert_eq!(invoice_files(&client, &order_id).await.len(), 1);

    // A cancelled payment is refused and uses no number: the next invoice is number 2.
    let second = id(&schedule[1]);
    client
        .cancel_payment(&second, "waived as a goodwill gesture")
        .await
        .unwrap();
    assert_eq!(
        refusal(client.issue_invoice(&second).await),
        (400, "PAYMENT_CANCELLED".into())
    );
    assert_eq!(invoice_files(&client, &order_id).await.len(), 1);
    let third = id(&schedule[2]);
    let (status, next) = client.issue_invoice(&third).await.unwrap();
    assert_eq!(
        (status, next.invoice_number.as_str()),
        (201, "FP-INV-000002")
    );

    // A paid payment is invoiced too (as a receipt).
    let fourth = id(&schedule[3]);
    let (status, _) = send(
        &client,
        RawRequest::post(format!("/v1/payments/{fourth}/mark-paid"), json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, paid) = client.issue_invoice(&fourth).await.unwrap();
    assert_eq!(
        (status, paid.invoice_number.as_str()),
        (201, "FP-INV-000003")
    );

    // The PDF deleted: the invoice keeps its number and gets a fresh rendering.
    client.delete_file(&issued.file_id, None).await.unwrap();
    let (status, restored) = client.issue_invoice(&first).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(restored.invoice_number, "FP-INV-000001");
    assert_ne!(restored.file_id, issued.file_id);
    assert!(
        pdf_text(&client, &restored.file_id)
            .await
            .contains("FP-INV-000001")
    );
    assert_eq!(invoice_files(&client, &order_id).await.len(), 3);

    // Unknown payments, another business unit's payments and keys without payments:write.
    assert_eq!(
        refusal(client.issue_invoice("pay_00000000000000000000000000").await),
        (404, "NOT_FOUND".into())
    );
    let other = s.organization("growth").await;
    let other = s.client(&other);
    assert_eq!(
        refusal(other.issue_invoice(&id(&schedule[4])).await),
        (404, "NOT_FOUND".into())
    );
    let reader = client
        .create_api_key(&NewApiKey {
            name: Some("reader".into()),
            permissions: Some(vec!["payments:read".into(), "files:*".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        refusal(
            client
                .with_api_key(&reader.secret)
                .issue_invoice(&id(&schedule[4]))
                .await
        ),
        (403, "INSUFFICIENT_PERMISSIONS".into())
    );
    // None of the refusals used a number.
    let (status, fifth) = client.issue_invoice(&id(&schedule[4])).await.unwrap();
    assert_eq!(
        (status, fifth.invoice_number.as_str()),
        (201, "FP-INV-000004")
    );
}

on_both!(a_consolidated_payment, a_consolidated_payment);
async fn a_consolidated_payment(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .update_business_unit(&json!({ "vatRate": 19, "vatMode": "exclusive" }))
        .await
        .unwrap();
    for (sku, name, price) in [
        ("ALPHA", "Alpha Laptop", 100.0),
        ("BETA", "Beta Phone", 50.0),
        ("GAMMA", "Gamma Tablet", 25.0),
    ] {
        product(&client, sku, name, price).await;
    }
    let (order_id, customer_id, made) = rentals(
        &client,
        "group@example.com",
        &["ALPHA", "BETA", "GAMMA"],
        12,
        &later_start(),
    )
    .await;
    let rental_ids: Vec<&str> = made.iter().map(|(r, _)| r.as_str()).collect();
    let (status, group) = send(
        &client,
        RawRequest::post(
            "/v1/billing-groups",
            json!({ "customerId": customer_id, "groupName": "Engines IT", "billingDay": 10, "rentalIds": rental_ids }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["billingGroup"]["billingGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    let consolidated = payments(
        &client,
        &format!("billingGroupId={group_id}&status=pending"),
    )
    .await;
    let payment = &consolidated[0];
    assert_eq!(payment["paymentType"], "consolidated");
    let payment_id = id(payment);

    let (status, issued) = client.issue_invoice(&payment_id).await.unwrap();
    assert_eq!(
        (status, issued.invoice_number.as_str()),
        (201, "FP-INV-000001")
    );
    assert_eq!(issued.file.order_id, order_id);
    assert_eq!(
        issued.file.metadata,
        json!({ "paymentId": payment_id, "invoiceNumber": "FP-INV-000001", "billingGroupId": group_id })
    );
    let text = pdf_text(&client, &issued.file_id).await;
    for (rental_id, serial) in &made {
        assert!(text.contains(serial.as_str()), "{serial} not in {text}");
        assert!(
            text.contains(rental_id.as_str()),
            "{rental_id} not in {text}"
        );
    }
    // 175 net + 33.25 VAT = 208.25.
    for expected in [
        "Alpha Laptop",
        "Beta Phone",
        "Gamma Tablet",
        "100.00 EUR",
        "50.00 EUR",
        "25.00 EUR",
        "175.00 EUR",
        "33.25 EUR",
        "208.25 EUR",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(invoice_files(&client, &order_id).await.len(), 1);
}

on_both!(
    concurrent_invoices_are_numbered_without_gaps,
    concurrent_invoices_are_numbered_without_gaps,
    // Fifty renderings queue behind one another in a debug build on two cores.
    |state, _| state.request_timeout = std::time::Duration::from_secs(600)
);
async fn concurrent_invoices_are_numbered_without_gaps(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    product(&client, "LAPTOP", "Laptop", 80.0).await;
    let (order_id, _, made) = rentals(
        &client,
        "many@example.com",
        &["LAPTOP", "LAPTOP", "LAPTOP"],
        24,
        &today(),
    )
    .await;
    let mut all = Vec::new();
    for (rental_id, _) in &made {
        all.extend(payments(&client, &format!("rentalId={rental_id}")).await);
    }
    assert_eq!(all.len(), 72);
    let chosen: Vec<String> = all.iter().take(50).map(id).collect();

    let issued = futures_util::future::join_all(
        chosen
            .iter()
            .map(|payment_id| client.issue_invoice(payment_id)),
    )
    .await;
    let mut numbers = Vec::new();
    let mut files = std::collections::BTreeSet::new();
    for (payment_id, result) in chosen.iter().zip(issued) {
        let (status, invoice) = result.unwrap();
        assert_eq!(status, 201);
        assert_eq!(&invoice.payment_id, payment_id);
        files.insert(invoice.file_id);
        numbers.push(invoice.invoice_number);
    }
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("FP-INV-{n:06}")).collect();
    assert_eq!(numbers, expected);
    assert_eq!(files.len(), 50);
    assert_eq!(invoice_files(&client, &order_id).await.len(), 50);
}
