//! Rental exports: an accountant pulls the rentals as CSV, filtered and trimmed to the columns
//! they need, opens it in a spreadsheet that must not run anything a customer typed, and fetches
//! the same bytes later through a link that only works as signed and until it expires.

use flexportal_client::{
    AssetChanges, Client, Error, NewApiKey, NewOrder, NewOrderCustomer, NewOrderItem, NewRental,
    RawRequest, RentalCancellation, RentalExport, RentalExportFields, RentalExportRequest,
    RentalQuery,
};
use flexportal_domain::file_links::{Link, LinkSigner};
use flexportal_domain::files::Disposition;
use futures_util::TryStreamExt;
use serde_json::json;

use crate::on_both;
use crate::support::{Server, counts, events_of, simple_product};

/// One order for a customer named `first last`, fulfilled by one rental on a fresh asset.
/// Returns the rental and customer ids.
async fn rent(
    client: &Client,
    serial: &str,
    email: &str,
    (first, last): (&str, &str),
    months: i64,
    start: Option<&str>,
) -> (String, String) {
    let order = client
        .create_order(&NewOrder {
            customer: Some(NewOrderCustomer {
                email: Some(email.into()),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                ..Default::default()
            }),
            billing_address: Some(flexportal_client::Address {
                contact_name: Some("Accounts".into()),
                street_address: Some("1 Ledger St".into()),
                city: Some("Utrecht".into()),
                country: Some("NL".into()),
                ..Default::default()
            }),
            items: Some(vec![NewOrderItem {
                sku: Some("LAPTOP-A".into()),
                quantity: Some(1),
                contract_length: Some(months),
            }]),
            ..Default::default()
        })
        .await
        .unwrap()
        .order;
    client
        .create_asset(&AssetChanges {
            serial_number: Some(serial.into()),
            sku: Some("LAPTOP-A".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let created = client
        .create_rental(&NewRental {
            order_id: Some(order.order_id),
            asset_serial_number: Some(serial.into()),
            start_date: start.map(str::to_string),
            ..Default::default()
        })
        .await
        .unwrap();
    (created.rental_id, created.rental.customer_id)
}

fn records(export: &RentalExport) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(export.csv_data.as_bytes());
    let headers = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (headers, rows)
}

fn column<'a>(headers: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {headers:?}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

async fn export(client: &Client, request: RentalExportRequest) -> RentalExport {
    client.export_rentals(&request).await.unwrap()
}

fn minor(major: f64) -> i64 {
    (major * 100.0).round() as i64
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

/// Copies every rental of `tenant_id` `copies` times with new ids, straight in the database:
/// ten thousand rentals through the API would take minutes and test nothing more here.
async fn multiply_rentals(s: &Server, tenant_id: &str, copies: i64) {
    s.db.execute(
        "WITH RECURSIVE n(k) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT k + 1 FROM n WHERE k < $1) \
         INSERT INTO rentals (tenant_id, rental_id, order_id, customer_id, asset_serial_number, product_id, variant_id, sku, product_name, product_image_url, monthly_amount, currency, status, original_contract_length, contract_length, start_date, end_date, list_price, acquisition_cost, total_collected, billing_group_id, customer_email, customer_name, cancellation_details, buyout_details, extension_history, early_return_details, replacement_history, notes, ended_at, contract_end_flagged_at, upgrade_from_rental_id, created_by, created_at, updated_at) \
         SELECT r.tenant_id, r.rental_id || '-' || CAST(n.k AS TEXT), r.order_id, r.customer_id, r.asset_serial_number || '-' || CAST(n.k AS TEXT), r.product_id, r.variant_id, r.sku, r.product_name, r.product_image_url, r.monthly_amount + n.k, r.currency, r.status, r.original_contract_length, r.contract_length, r.start_date, r.end_date, r.list_price, r.acquisition_cost, r.total_collected, r.billing_group_id, r.customer_email, r.customer_name, r.cancellation_details, r.buyout_details, r.extension_history, r.early_return_details, r.replacement_history, r.notes, r.ended_at, r.contract_end_flagged_at, r.upgrade_from_rental_id, r.created_by, r.created_at + n.k, r.updated_at \
         FROM n CROSS JOIN rentals r WHERE r.tenant_id = $2",
        vec![copies.into(), tenant_id.into()],
    )
    .await
    .unwrap();
}

on_both!(ten_thousand_rentals, ten_thousand_rentals);
async fn ten_thousand_rentals(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let mut rentals = Vec::new();
    for i in 0..10 {
        let months = if i % 3 == 0 { 24 } else { 12 };
        let email = format!("fleet{i}@example.com");
        rentals.push(
            rent(
                &client,
                &format!("SN-{i}"),
                &email,
                ("Fleet", "Owner"),
                months,
                None,
            )
            .await
            .0,
        );
    }
    client
        .cancel_rental(
            &rentals[1],
            &RentalCancellation {
                reason: Some("customer_request".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    multiply_rentals(s, &tenant.tenant_id, 999).await;

    // Another business unit's rental, which no export of the first may show.
    let other = s.organization("growth").await;
    let other_client = s.client(&other);
    other_client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let (foreign, _) = rent(
        &other_client,
        "SN-OTHER",
        "stranger@example.com",
        ("Other", "Unit"),
        12,
        None,
    )
    .await;

    // What the API's list says, summed independently of the export.
    let listed: Vec<_> = client
        .rentals(RentalQuery {
            limit: Some(100),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 10_000);
    let revenue: i64 = listed.iter().map(|r| minor(r.monthly_amount)).sum();
    let active = listed.iter().filter(|r| r.status == "active").count() as u64;
    assert_eq!(active, 9_000);

    let export = client
        .export_rentals(&RentalExportRequest::default())
        .await
        .unwrap();
    let (headers, rows) = records(&export);
    assert_eq!(headers.len(), 18);
    assert_eq!(rows.len(), 10_000);
    assert_eq!(export.csv_data.lines().count(), 10_001);
    assert_eq!(
        (
            export.total_records,
            export.record_count,
            export.total_rentals,
            export.active_rentals
        ),
        (10_000, 10_000, 10_000, active)
    );
    assert_eq!(minor(export.total_revenue), revenue);
    assert_eq!(
        minor(export.average_monthly_revenue),
        (revenue + 5_000) / 10_000
    );
    let ids = column(&headers, &rows, "subscriptionId");
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), 10_000);
    let expected: std::collections::BTreeSet<&str> =
        listed.iter().map(|r| r.rental_id.as_str()).collect();
    assert_eq!(unique, expected);
    assert!(!unique.contains(foreign.as_str()));
    assert!(!export.csv_data.contains("stranger@example.com"));
    let amounts: i64 = column(&headers, &rows, "monthlyAmount")
        .iter()
        .map(|a| minor(a.parse::<f64>().unwrap()))
        .sum();
    assert_eq!(amounts, revenue);

    // The link hands over the very same bytes, without credentials.
    assert!(export.download_url.contains("/exports/"));
    let fetched = client.fetch_file(&export.download_url).await.unwrap();
    assert_eq!(fetched.bytes, export.csv_data.as_bytes());
    assert_eq!(
        fetched.content_type.as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(
        fetched
            .content_disposition
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        events_of(&client, &export.export_id).await,
        counts(&[("export.created", 1)])
    );
    // The other unit sees its one rental only, and not the first unit's export event.
    let theirs = other_client
        .export_rentals(&RentalExportRequest::default())
        .await
        .unwrap();
    assert_eq!(theirs.total_records, 1);
    assert!(theirs.csv_data.contains(&foreign));
    assert!(events_of(&other_client, &export.export_id).await.is_empty());
}

on_both!(filters_columns_and_escaping, filters_columns_and_escaping);
async fn filters_columns_and_escaping(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    let people = [
        ("=HYPERLINK(\"http://x\")", "Click"),
        ("+31", "Dialler"),
        ("-Minus", "Sign"),
        ("@Handle", "At"),
        ("Ann \"Jr\", Smith", "Comma"),
    ];
    let mut ids = Vec::new();
    for (i, name) in people.iter().enumerate() {
        let (months, start) = if i == 4 {
            (24, Some("2025-03-10"))
        } else {
            (12, None)
        };
        ids.push(
            rent(
                &client,
                &format!("SN-{i}"),
                &format!("p{i}@example.com"),
                *name,
                months,
                start,
            )
            .await,
        );
    }
    client
        .cancel_rental(
            &ids[2].0,
            &RentalCancellation {
                reason: Some("admin_decision".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // Everything: names a spreadsheet would run come out as text, the rest as typed.
    let all = client
        .export_rentals(&RentalExportRequest::default())
        .await
        .unwrap();
    let (headers, rows) = records(&all);
    assert_eq!(rows.len(), 5);
    let names = column(&headers, &rows, "customerName");
    assert_eq!(
        names,
        [
            "'=HYPERLINK(\"http://x\") Click",
            "'+31 Dialler",
            "'-Minus Sign",
            "'@Handle At",
            "Ann \"Jr\", Smith Comma",
        ]
    );
    assert!(!all.csv_data.contains("\n=HYPERLINK") && !all.csv_data.contains(",=HYPERLINK"));
    assert_eq!(
        column(&headers, &rows, "monthlyAmount"),
        ["99.00", "99.00", "99.00", "99.00", "79.50"]
    );
    assert_eq!(column(&headers, &rows, "acquisitionCost"), ["700.00"; 5]);
    assert_eq!(column(&headers, &rows, "totalCollected"), ["0.00"; 5]);
    assert_eq!(column(&headers, &rows, "costRecoveryPercent"), ["0.00"; 5]);
    assert_eq!(column(&headers, &rows, "customFields"), ["{}"; 5]);
    assert_eq!(column(&headers, &rows, "currency"), ["EUR"; 5]);
    assert_eq!(
        (
            all.total_rentals,
            all.active_rentals,
            all.total_revenue,
            all.average_monthly_revenue
        ),
        (5, 4, 475.5, 95.1)
    );

    let subscriptions = |e: &RentalExport| -> Vec<String> {
        let (h, r) = records(e);
        column(&h, &r, "subscriptionId")
            .into_iter()
            .map(str::to_string)
            .collect()
    };

    // Status.
    let active = export(
        &client,
        RentalExportRequest {
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((active.total_records, active.active_rentals), (4, 4));
    assert!(!subscriptions(&active).contains(&ids[2].0));
    let cancelled = export(
        &client,
        RentalExportRequest {
            status: Some("cancelled".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(subscriptions(&cancelled), [ids[2].0.clone()]);
    assert_eq!(cancelled.active_rentals, 0);
    assert_eq!(cancelled.filters["status"], "cancelled");

    // Customers, by the schema's list and the guide's single id.
    let two = export(
        &client,
        RentalExportRequest {
            customer_ids: Some(vec![ids[0].1.clone(), ids[3].1.clone()]),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(subscriptions(&two), [ids[0].0.clone(), ids[3].0.clone()]);
    let one = export(
        &client,
        RentalExportRequest {
            customer_id: Some(ids[1].1.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(subscriptions(&one), [ids[1].0.clone()]);

    // Dates: the schema's range and the guide's bounds select on the start date.
    let march = export(
        &client,
        RentalExportRequest {
            start_date: Some("2025-03-01T00:00:00Z".into()),
            end_date: Some("2025-03-31".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(subscriptions(&march), [ids[4].0.clone()]);
    let later = export(
        &client,
        RentalExportRequest {
            start_date_from: Some("2025-03-11".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(later.total_records, 4);
    let ending = export(
        &client,
        RentalExportRequest {
            end_date_to: Some("2027-03-10".into()),
            end_date_from: Some("2027-03-09".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(subscriptions(&ending), [ids[4].0.clone()]);

    // Nothing matches: a header alone, and an average of zero.
    let none = export(
        &client,
        RentalExportRequest {
            status: Some("ended_buyout".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (
            none.total_records,
            none.total_revenue,
            none.average_monthly_revenue
        ),
        (0, 0.0, 0.0)
    );
    assert_eq!(none.csv_data.lines().count(), 1);

    // Columns.
    let lean = export(
        &client,
        RentalExportRequest {
            include_fields: Some(RentalExportFields {
                customer_details: Some(false),
                financial_details: Some(false),
                custom_fields: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let (headers, rows) = records(&lean);
    assert_eq!(
        headers,
        [
            "subscriptionId",
            "sku",
            "productName",
            "serialNumber",
            "status",
            "startDate",
            "endDate",
            "contractLength"
        ]
    );
    assert_eq!(rows.len(), 5);
    assert!(!lean.csv_data.contains("HYPERLINK") && !lean.csv_data.contains("99.00"));
    // The summary does not depend on the columns shown.
    assert_eq!(lean.total_revenue, 475.5);

    // Invalid filters.
    for (body, path) in [
        (json!({ "status": "paused" }), "status"),
        (json!({ "startDate": "yesterday" }), "startDate"),
        (json!({ "endDateTo": "2025-13-01" }), "endDateTo"),
        (json!({ "format": "xlsx" }), "format"),
        (json!({ "customerIds": "cust_1" }), "customerIds"),
        (json!({ "customerIds": [""] }), "customerIds.0"),
        (
            json!({ "includeFields": { "deviceDetails": "no" } }),
            "includeFields.deviceDetails",
        ),
        (
            json!({ "startDate": "2025-04-01", "endDate": "2025-03-01" }),
            "endDate",
        ),
        (json!({ "expiresInMinutes": 0 }), "expiresInMinutes"),
    ] {
        let response = client
            .send(RawRequest::post("/v1/exports/rentals", body.clone()))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{body}"
        );
        let details = &response.json.as_ref().unwrap()["error"]["details"];
        assert_eq!(details[0]["path"], path, "{body}");
    }
    // Unknown fields are not filters, and an empty body exports everything.
    let response = client
        .send(RawRequest::post(
            "/v1/exports/rentals",
            json!({ "colour": "red" }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.json.unwrap()["totalRecords"], 5);

    // Permission.
    let reader = client
        .create_api_key(&NewApiKey {
            name: Some("reader".into()),
            permissions: Some(vec!["subscriptions:read".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let (status, code, _) = refusal(
        client
            .with_api_key(&reader.secret)
            .export_rentals(&RentalExportRequest::default())
            .await,
    );
    assert_eq!((status, code.as_str()), (403, "INSUFFICIENT_PERMISSIONS"));
}

on_both!(download_links, download_links);
async fn download_links(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await
        .unwrap();
    rent(&client, "SN-1", "a@example.com", ("Ada", "L"), 12, None).await;
    let export = client
        .export_rentals(&RentalExportRequest {
            expires_in_minutes: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let good = flexportal_client::reqwest::Url::parse(&export.download_url).unwrap();
    let param = |name: &str| {
        good.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    let expires: i64 = param("expires").parse().unwrap();
    let generated = jiff::Timestamp::now().as_millisecond();
    assert!((expires - generated - 5 * 60_000).abs() < 60_000);
    assert_eq!(
        client.fetch_file(good.as_str()).await.unwrap().bytes,
        export.csv_data.as_bytes()
    );

    let with = |name: &str, value: &str| {
        let mut url = good.clone();
        let pairs: Vec<(String, String)> = good
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == name {
                    value.to_string()
                } else {
                    v.to_string()
                };
                (k.to_string(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url.to_string()
    };
    let mut other_export = export.export_id.clone();
    other_export.replace_range(
        other_export.len() - 1..,
        if other_export.ends_with('0') {
            "1"
        } else {
            "0"
        },
    );
    let other_tenant = s.organization("growth").await.tenant_id;
    let signature = param("signature");
    let mut flipped = signature.clone();
    flipped.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
    for url in [
        with("signature", &flipped),
        with("signature", ""),
        with("expires", &(expires + 1).to_string()),
        with("tenant", &other_tenant),
        good.as_str().replace(&export.export_id, &other_export),
        // The same link presented to the file route.
        format!(
            "{}&action=download",
            good.as_str().replace("/exports/", "/files/")
        ),
    ] {
        let (status, code, _) = refusal(client.fetch_file(&url).await);
        assert_eq!((status, code.as_str()), (403, "INVALID_SIGNATURE"), "{url}");
    }

    // A link signed for a file does not open an export, and an expired export link is refused.
    let base = format!("{}/exports/{}/content", s.base, export.export_id);
    let past = generated - 1_000;
    let link = Link {
        tenant_id: &tenant.tenant_id,
        file_id: &export.export_id,
        disposition: Disposition::Download,
        expires_at_ms: past,
    };
    let expired = LinkSigner::for_exports(&s.sealing_key).sign(&link);
    let url = format!(
        "{base}?tenant={}&expires={past}&signature={expired}",
        tenant.tenant_id
    );
    let (status, code, _) = refusal(client.fetch_file(&url).await);
    assert_eq!((status, code.as_str()), (403, "LINK_EXPIRED"));
    let future = generated + 600_000;
    let as_file = LinkSigner::new(&s.sealing_key).sign(&Link {
        expires_at_ms: future,
        ..link
    });
    let url = format!(
        "{base}?tenant={}&expires={future}&signature={as_file}",
        tenant.tenant_id
    );
    let (status, code, _) = refusal(client.fetch_file(&url).await);
    assert_eq!((status, code.as_str()), (403, "INVALID_SIGNATURE"));
    // Properly signed for an export nobody made: nothing to hand over.
    let missing = flexportal_domain::ids::IdKind::Export.generate();
    let signed = LinkSigner::for_exports(&s.sealing_key).sign(&Link {
        file_id: &missing,
        expires_at_ms: future,
        ..link
    });
    let url = format!(
        "{}/exports/{missing}/content?tenant={}&expires={future}&signature={signed}",
        s.base, tenant.tenant_id
    );
    let (status, code, _) = refusal(client.fetch_file(&url).await);
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
}
