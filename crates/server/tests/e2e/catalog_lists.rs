//! Product and variant lists: keyset pagination under every sort, filters, and the CSV import.

use flexportal_client::{ProductQuery, RawRequest, VariantQuery};
use futures_util::TryStreamExt;

use crate::on_both;
use crate::support::{Server, docs_example, simple_product};

/// A CSV of `n` products (one variant each) whose names repeat, so sorting by name needs the id
/// as tie-breaker.
fn catalog_csv(n: usize, offset: usize) -> String {
    let mut csv = String::from(
        "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price\n",
    );
    for i in offset..offset + n {
        csv.push_str(&format!(
            "Device {:02},SKU-{:04},{},{},spec,VAR-{:04},{},{},{}\n",
            i % 40,
            (i * 7919) % 10_000,
            if i % 2 == 0 { "Laptops" } else { "Phones" },
            if i % 3 == 0 { "Acme" } else { "Globex" },
            (i * 7919) % 10_000,
            1000 + i,
            500 + i,
            10 + i % 90
        ));
    }
    csv
}

on_both!(pagination_under_every_sort, pagination_under_every_sort);
async fn pagination_under_every_sort(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let imported = client
        .import_products_csv(&catalog_csv(250, 0))
        .await
        .unwrap();
    assert_eq!((imported.created, imported.errors.len()), (250, 0));
    // Updates spread updatedAt away from createdAt order.
    let some = client
        .list_products(&ProductQuery {
            limit: Some(30),
            sort_by: Some("productSku".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    for p in &some.items {
        client
            .update_product(
                &p.product_id,
                &flexportal_client::NewProduct {
                    description: Some("touched".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    let mut inserted = 0;
    for sort_by in ["createdAt", "updatedAt", "productName", "productSku"] {
        for sort_dir in ["asc", "desc"] {
            for insert_between_pages in [false, true] {
                let query = ProductQuery {
                    limit: Some(100),
                    sort_by: Some(sort_by.into()),
                    sort_dir: Some(sort_dir.into()),
                    ..Default::default()
                };
                let before: std::collections::HashSet<String> = client
                    .products(ProductQuery {
                        limit: Some(100),
                        ..Default::default()
                    })
                    .map_ok(|p| p.product_id)
                    .try_collect()
                    .await
                    .unwrap();
                let mut seen = Vec::new();
                let mut cursor = None;
                let mut pages = 0;
                loop {
                    let page = client
                        .list_products(&ProductQuery {
                            start_after: cursor.clone(),
                            ..query.clone()
                        })
                        .await
                        .unwrap();
                    pages += 1;
                    assert_eq!(page.count, page.items.len());
                    assert_eq!(page.limit, Some(100));
                    seen.extend(page.items.iter().map(|p| {
                        let key = match sort_by {
                            "createdAt" => p.created_at.clone(),
                            "updatedAt" => p.updated_at.clone(),
                            "productName" => p.name.clone(),
                            _ => p.product_sku.clone(),
                        };
                        (key, p.product_id.clone())
                    }));
                    if insert_between_pages {
                        inserted += 1;
                        client
                            .create_product(&simple_product(
                                &format!("NEW-{inserted:03}"),
                                &format!("Device {:02}", inserted % 40),
                            ))
                            .await
                            .unwrap();
                    }
                    if !page.has_more {
                        assert_eq!(page.next_cursor, None);
                        break;
                    }
                    assert_eq!(
                        page.next_cursor.as_deref(),
                        page.items.last().map(|p| p.product_id.as_str())
                    );
                    cursor = page.next_cursor;
                }
                assert!(pages >= 3, "{sort_by} {sort_dir}: {pages} pages");
                let ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
                let unique: std::collections::HashSet<&String> = ids.iter().copied().collect();
                assert_eq!(
                    unique.len(),
                    ids.len(),
                    "{sort_by} {sort_dir}: an item was seen twice"
                );
                assert!(
                    before.iter().all(|id| unique.contains(id)),
                    "{sort_by} {sort_dir}: an item was skipped"
                );
                // Timestamps are shown to the millisecond but stored finer, so only the names
                // and SKUs can check the id tie-break from outside.
                let mut sorted = seen.clone();
                if sort_by.ends_with("At") {
                    sorted.sort_by(|a, b| a.0.cmp(&b.0));
                    let keys = |v: &Vec<(String, String)>| {
                        v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
                    };
                    if sort_dir == "desc" {
                        sorted.reverse();
                    }
                    assert_eq!(
                        keys(&seen),
                        keys(&sorted),
                        "{sort_by} {sort_dir}: out of order"
                    );
                } else {
                    sorted.sort();
                    if sort_dir == "desc" {
                        sorted.reverse();
                    }
                    assert_eq!(seen, sorted, "{sort_by} {sort_dir}: out of order");
                }
            }
        }
    }
}

on_both!(
    product_filters_and_list_errors,
    product_filters_and_list_errors
);
async fn product_filters_and_list_errors(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .import_products_csv(&catalog_csv(12, 0))
        .await
        .unwrap();
    let discontinued = client
        .list_products(&ProductQuery {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .items[0]
        .product_id
        .clone();
    client.delete_product(&discontinued).await.unwrap();

    let count = |q: ProductQuery| {
        let client = client.clone();
        async move { client.products(q).try_collect::<Vec<_>>().await.unwrap() }
    };
    let laptops = count(ProductQuery {
        category: Some("Laptops".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(laptops.len(), 6);
    assert!(laptops.iter().all(|p| p.category == "Laptops"));
    let acme = count(ProductQuery {
        brand: Some("Acme".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(acme.len(), 4);
    let both = count(ProductQuery {
        brand: Some("Acme".into()),
        category: Some("Laptops".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(both.len(), 2);
    let gone = count(ProductQuery {
        status: Some("discontinued".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        gone.iter()
            .map(|p| p.product_id.clone())
            .collect::<Vec<_>>(),
        [discontinued]
    );
    assert_eq!(
        count(ProductQuery {
            status: Some("active".into()),
            ..Default::default()
        })
        .await
        .len(),
        11
    );
    let page = client
        .list_products(&ProductQuery::default())
        .await
        .unwrap();
    assert_eq!(page.limit, Some(50));
    assert!(
        page.items
            .iter()
            .all(|p| p.variant_count == 1 && p.variants.is_none())
    );
    let clamped = client
        .list_products(&ProductQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(clamped.limit, Some(100));

    for (query, path) in [
        ("limit=ten", "limit"),
        ("limit=0", "limit"),
        ("sortBy=price", "sortBy"),
        ("sortDir=up", "sortDir"),
        ("status=sold", "status"),
        ("startAfter=prod_00000000000000000000000000", "startAfter"),
    ] {
        let response = client
            .send(RawRequest::get(format!("/v1/products?{query}")))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{query}"
        );
        assert_eq!(response.detail_paths(), [path], "{query}");
    }
}

on_both!(variant_list_filters, variant_list_filters);
async fn variant_list_filters(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    client
        .import_products_csv(&catalog_csv(30, 0))
        .await
        .unwrap();
    let all: Vec<_> = client
        .variants(VariantQuery {
            limit: Some(7),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 30);
    let big = client
        .list_variants(&VariantQuery {
            limit: Some(6000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (big.limit, big.items.len(), big.has_more),
        (Some(5000), 30, false)
    );
    let phones = client
        .list_variants(&VariantQuery {
            category: Some("Phones".into()),
            limit: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(phones.items.len(), 15);
    let one = &all[0];
    let by_product = client
        .list_variants(&VariantQuery {
            product_sku: Some(one.product_sku.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_product
            .items
            .iter()
            .map(|v| v.variant_id.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&one.variant_id)
    );
    let prefix = &one.variant_sku[..6];
    let by_prefix = client
        .list_variants(&VariantQuery {
            sku: Some(prefix.to_string()),
            limit: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        !by_prefix.items.is_empty()
            && by_prefix
                .items
                .iter()
                .all(|v| v.variant_sku.starts_with(prefix))
    );
    assert_eq!(
        by_prefix.items.len(),
        all.iter()
            .filter(|v| v.variant_sku.starts_with(prefix))
            .count()
    );
    let grade_b = client
        .list_variants(&VariantQuery {
            grade: Some("B".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(grade_b.items.is_empty());
    let sorted = client
        .list_variants(&VariantQuery {
            sort_by: Some("variantSku".into()),
            sort_dir: Some("asc".into()),
            limit: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap();
    let skus: Vec<String> = sorted.items.iter().map(|v| v.variant_sku.clone()).collect();
    let mut expected = skus.clone();
    expected.sort();
    assert_eq!(skus, expected);
}

on_both!(csv_import_keeps_good_rows, csv_import_keeps_good_rows);
async fn csv_import_keeps_good_rows(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let example = docs_example("api-reference/products/import-csv.md", "## Example CSV");
    let first = client.import_products_csv(&example).await.unwrap();
    assert_eq!(
        (first.created, first.updated, first.errors.len()),
        (3, 0, 0)
    );
    assert_eq!(
        (first.summary.variants_created, first.summary.total_rows),
        (5, 5)
    );
    let macbook = client
        .list_variants(&VariantQuery {
            product_sku: Some("MACBOOK-PRO-16".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(macbook.items.len(), 3);
    assert!(macbook.items.iter().all(|v| v.pricing.len() == 4));
    // One event per product, carrying all the variants its rows brought.
    let created = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("product.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.items.len(), 3);
    let macbook_event = created
        .items
        .iter()
        .find(|e| e.data["productSku"] == "MACBOOK-PRO-16")
        .unwrap();
    assert_eq!(macbook_event.data["variants"].as_array().unwrap().len(), 3);

    // Again, as a multipart upload: everything is an update now.
    let again = client
        .import_products_csv_file("products.csv", example.clone().into_bytes())
        .await
        .unwrap();
    assert_eq!(
        (again.created, again.updated, again.summary.variants_updated),
        (0, 3, 5)
    );

    // Bad rows are reported by line; good rows are kept.
    let mixed = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price\n\
                 Good One,GOOD-1,Laptops,Acme,spec,GOOD-1-A,100,50,10\n\
                 Bad Price,BAD-1,Laptops,Acme,spec,BAD-1-A,abc,50,10\n\
                 Thief,THIEF-1,Laptops,Acme,spec,MBP16-M3PRO-18-512-SIL-A,100,50,10\n\
                 ,NONAME,Laptops,Acme,spec,NONAME-A,100,50,10\n\
                 Good Two,GOOD-2,Phones,Acme,spec,GOOD-2-A,100,50,12.5\n";
    let result = client.import_products_csv(mixed).await.unwrap();
    assert_eq!(result.created, 2);
    let rows: Vec<usize> = result.errors.iter().map(|e| e.row).collect();
    assert_eq!(rows, [3, 4, 5]);
    assert!(
        result.errors[1].error.contains("another product"),
        "{:?}",
        result.errors[1]
    );
    let listed: Vec<_> = client
        .products(ProductQuery::default())
        .try_collect()
        .await
        .unwrap();
    let skus: std::collections::HashSet<String> =
        listed.iter().map(|p| p.product_sku.clone()).collect();
    assert!(skus.contains("GOOD-1") && skus.contains("GOOD-2"));
    assert!(!skus.contains("BAD-1") && !skus.contains("THIEF-1") && !skus.contains("NONAME"));
    assert_eq!(listed.len(), 5);

    // A file without the required columns is refused whole.
    let response = client
        .send(
            RawRequest::post("/v1/products/csv", serde_json::json!(null))
                .bytes("text/csv", b"Name,Price\nx,1\n".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
}

on_both!(csv_limits, csv_limits);
async fn csv_limits(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let header = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price\n";
    let mut many = String::from(header);
    for i in 0..10_001 {
        many.push_str(&format!("P,P{i},C,B,S,V{i},1,1,1\n"));
    }
    let response = client
        .send(
            RawRequest::post("/v1/products/csv", serde_json::json!(null))
                .bytes("text/csv", many.into_bytes()),
        )
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    let mut huge = String::from(header);
    huge.push_str(&format!(
        "P,P1,C,B,{},V1,1,1,1\n",
        "x".repeat(11 * 1024 * 1024)
    ));
    let response = client
        .send(
            RawRequest::post("/v1/products/csv", serde_json::json!(null))
                .bytes("text/csv", huge.into_bytes()),
        )
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
    assert!(
        client
            .list_products(&ProductQuery::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "a refused file imports nothing"
    );
}
