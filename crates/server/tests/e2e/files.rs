//! Files: an integrator keeps contracts and documents with orders, hands out signed links to
//! them, and deletes them; whatever is refused or fails half-way leaves nothing behind, and one
//! business unit never reaches another's files.

use flexportal_client::reqwest::Url;
use flexportal_client::{
    Client, Error, FileQuery, FileUpload, FileUrlRequest, FileWrite, NewApiKey, RawRequest,
};
use flexportal_domain::file_links::{Link, LinkSigner};
use flexportal_domain::files::Disposition;
use futures_util::TryStreamExt;
use serde_json::{Value, json};

use crate::on_both;
use crate::support::process::Process;
use crate::support::{
    Backend, Server, counts, events_of, fresh_database, organization_in, simple_product,
};

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A product and an order for `email`; returns the order and its customer.
async fn order(client: &Client, email: &str) -> (String, String) {
    let _ = client
        .create_product(&simple_product("LAPTOP", "Laptop"))
        .await;
    let response = client
        .send(RawRequest::post(
            "/v1/orders",
            json!({
                "customer": { "email": email, "firstName": "Ada", "lastName": "Lovelace" },
                "billingAddress": { "contactName": "Ada", "streetAddress": "1 File St", "city": "London", "country": "GB" },
                "items": [{ "sku": "LAPTOP-A", "quantity": 1, "contractLength": 12 }]
            }),
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 201, "{:?}", response.json);
    let body = response.json.unwrap();
    (
        body["order"]["orderId"].as_str().unwrap().to_string(),
        body["order"]["customer"]["customerId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

fn upload(order_id: &str, file_type: &str, name: &str, bytes: &[u8]) -> FileUpload {
    FileUpload {
        order_id: Some(order_id.into()),
        file_type: Some(file_type.into()),
        filename: Some(name.into()),
        bytes: bytes.to_vec(),
        ..Default::default()
    }
}

/// Status, code and field paths of a refusal.
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

/// Every regular file under the server's file store.
fn stored_files(s: &Server) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&s.data_dir.join("files"), &mut out);
    out
}

fn on_disk(s: &Server, storage_path: &str) -> std::path::PathBuf {
    s.data_dir.join("files").join(storage_path)
}

/// `url` with query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

fn param(url: &str, name: &str) -> String {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// `url` pointing at another file id, the signature unchanged.
fn with_file_id(url: &str, file_id: &str) -> String {
    let mut parsed = Url::parse(url).unwrap();
    parsed.set_path(&format!("/files/{file_id}/content"));
    parsed.to_string()
}

async fn link(client: &Client, file_id: &str, action: &str) -> flexportal_client::FileUrl {
    client
        .file_url(&FileUrlRequest {
            file_id: Some(file_id.into()),
            action: Some(action.into()),
            ..Default::default()
        })
        .await
        .unwrap()
}

on_both!(upload_list_and_get, upload_list_and_get);
async fn upload_list_and_get(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_a, customer_a) = order(&client, "ada@example.com").await;
    let (order_b, customer_b) = order(&client, "grace@example.com").await;

    // The client claims a PNG; the bytes are a PDF, and that is what counts.
    let created: FileWrite = client
        .upload_file(&FileUpload {
            content_type: Some("image/png".into()),
            metadata: Some(json!({ "signedBy": "Ada", "pages": 1 })),
            ..upload(&order_a, "contract", "../../Contract Ada.pdf", PDF)
        })
        .await
        .unwrap();
    assert!(created.success);
    let file = &created.file;
    assert_eq!(created.file_id, file.file_id);
    assert!(file.file_id.starts_with("file_"));
    assert_eq!(
        (
            file.tenant_id.as_str(),
            file.order_id.as_str(),
            file.customer_id.as_deref(),
            file.file_type.as_str(),
            file.category.as_str(),
            file.content_type.as_str(),
            file.file_size,
        ),
        (
            tenant.tenant_id.as_str(),
            order_a.as_str(),
            Some(customer_a.as_str()),
            "contract",
            "uploaded",
            "application/pdf",
            PDF.len() as i64
        )
    );
    assert_eq!(file.filename, "Contract Ada.pdf");
    assert_eq!(
        file.original_filename.as_deref(),
        Some("../../Contract Ada.pdf")
    );
    assert!(file.uploaded_by.starts_with("key_"), "{}", file.uploaded_by);
    assert_eq!(file.metadata, json!({ "signedBy": "Ada", "pages": 1 }));
    // The bytes are in the data directory, under a name made of ids only.
    assert_eq!(
        file.storage_path,
        format!("{}/{}", tenant.tenant_id, file.file_id)
    );
    assert_eq!(std::fs::read(on_disk(s, &file.storage_path)).unwrap(), PDF);
    assert_eq!(client.get_file(&file.file_id).await.unwrap(), *file);
    assert_eq!(
        events_of(&client, &file.file_id).await,
        counts(&[("file.created", 1)])
    );

    // Four more, across both orders and types.
    let mut ids = vec![file.file_id.clone()];
    for (order_id, kind, name, bytes) in [
        (&order_a, "invoice", "invoice.png", PNG),
        (&order_b, "contract", "contract-b.pdf", PDF),
        (
            &order_b,
            "document",
            "notes.txt",
            &b"Picked up on Monday.\n"[..],
        ),
        (
            &order_b,
            "attachment",
            "serials.csv",
            &b"serial,sku\nA1,LAPTOP-A\nA2,LAPTOP-A\n"[..],
        ),
    ] {
        let made = client
            .upload_file(&upload(order_id, kind, name, bytes))
            .await
            .unwrap();
        ids.push(made.file_id);
    }
    let kinds: Vec<String> = {
        let mut all = Vec::new();
        for id in &ids {
            all.push(client.get_file(id).await.unwrap().content_type);
        }
        all
    };
    assert_eq!(
        kinds,
        [
            "application/pdf",
            "image/png",
            "application/pdf",
            "text/plain",
            "text/csv"
        ]
    );

    let list = |query: FileQuery| {
        let client = client.clone();
        async move {
            client
                .list_files(&query)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|f| f.file_id)
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list(FileQuery::default()).await, newest_first);
    assert_eq!(
        list(FileQuery {
            order_id: Some(order_a.clone()),
            ..Default::default()
        })
        .await,
        [ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(
        list(FileQuery {
            file_type: Some("contract".into()),
            ..Default::default()
        })
        .await,
        [ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(
        list(FileQuery {
            customer_id: Some(customer_b.clone()),
            sort_dir: Some("asc".into()),
            ..Default::default()
        })
        .await,
        [ids[2].clone(), ids[3].clone(), ids[4].clone()]
    );
    assert_eq!(
        list(FileQuery {
            customer_id: Some(customer_b.clone()),
            file_type: Some("document".into()),
            ..Default::default()
        })
        .await,
        [ids[3].clone()]
    );
    assert!(
        list(FileQuery {
            order_id: Some("ord_unknown".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );

    // Pages of two, by cursor, in both directions.
    let first = client
        .list_files(&FileQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (first.count, first.limit, first.has_more),
        (2, Some(2), true)
    );
    assert_eq!(first.next_cursor.as_deref(), Some(newest_first[1].as_str()));
    let second = client
        .list_files(&FileQuery {
            limit: Some(2),
            start_after: first.next_cursor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second
            .items
            .iter()
            .map(|f| f.file_id.clone())
            .collect::<Vec<_>>(),
        newest_first[2..4]
    );
    let streamed: Vec<String> = client
        .files(FileQuery {
            limit: Some(2),
            sort_dir: Some("asc".into()),
            ..Default::default()
        })
        .map_ok(|f| f.file_id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, ids);

    // Bad filters are refused, not ignored.
    for (query, path) in [
        (
            FileQuery {
                file_type: Some("photo".into()),
                ..Default::default()
            },
            "type",
        ),
        (
            FileQuery {
                start_after: Some("file_nope".into()),
                ..Default::default()
            },
            "startAfter",
        ),
    ] {
        assert_eq!(
            refusal(client.list_files(&query).await),
            (400, "VALIDATION_ERROR".into(), vec![path.to_string()])
        );
    }
    assert_eq!(
        refusal(client.get_file("file_unknown").await),
        (404, "NOT_FOUND".into(), vec![])
    );
}

on_both!(signed_links, signed_links);
async fn signed_links(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_id, _) = order(&client, "links@example.com").await;
    let pdf = client
        .upload_file(&upload(&order_id, "contract", "Vertrag Müller.pdf", PDF))
        .await
        .unwrap()
        .file;
    let text = client
        .upload_file(&upload(&order_id, "document", "notes.txt", b"Hello\n"))
        .await
        .unwrap()
        .file;

    // A view link shows the file inline, a download link saves it; the bytes are the same.
    let before = flexportal_domain::time::now_micros() / 1000;
    let view = link(&client, &pdf.file_id, "view").await;
    assert_eq!(
        (
            view.filename.as_str(),
            view.content_type.as_str(),
            view.file_size
        ),
        ("Vertrag Müller.pdf", "application/pdf", PDF.len() as i64)
    );
    // One hour unless asked otherwise.
    let hour = 3_600_000;
    assert!(
        (before + hour..=before + hour + 60_000).contains(&view.expires_at),
        "{}",
        view.expires_at
    );
    assert!(
        view.url.starts_with(&format!("{}/files/", s.base)),
        "{}",
        view.url
    );
    let shown = client.fetch_file(&view.url).await.unwrap();
    assert_eq!(shown.bytes, PDF);
    assert_eq!(shown.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(
        shown.content_disposition.as_deref(),
        Some("inline; filename=\"Vertrag M_ller.pdf\"; filename*=UTF-8''Vertrag%20M%C3%BCller.pdf")
    );
    let download = link(&client, &pdf.file_id, "download").await;
    let saved = client.fetch_file(&download.url).await.unwrap();
    assert_eq!(saved.bytes, PDF);
    assert_eq!(saved.content_type.as_deref(), Some("application/pdf"));
    assert!(
        saved
            .content_disposition
            .as_deref()
            .is_some_and(|d| d.starts_with("attachment; filename=")),
        "{:?}",
        saved.content_disposition
    );
    let raw = client
        .send(RawRequest::get(
            download.url.trim_start_matches(&s.base).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(raw.header("content-length"), Some(&*PDF.len().to_string()));
    // The default action is view; text is served as UTF-8 text.
    let default = client
        .file_url(&FileUrlRequest {
            file_id: Some(text.file_id.clone()),
            expires_in_minutes: Some(10_080),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(default.expires_at >= before + 10_080 * 60_000);
    let fetched = client.fetch_file(&default.url).await.unwrap();
    assert_eq!(fetched.bytes, b"Hello\n");
    assert_eq!(
        fetched.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        fetched
            .content_disposition
            .as_deref()
            .is_some_and(|d| d.starts_with("inline;"))
    );

    // Expired: signed by the server's own key, as the server would have, an hour ago.
    let signer = LinkSigner::new(&s.sealing_key);
    let past = flexportal_domain::time::now_micros() / 1000 - 1_000;
    let expired_sig = signer.sign(&Link {
        tenant_id: &tenant.tenant_id,
        file_id: &pdf.file_id,
        disposition: Disposition::View,
        expires_at_ms: past,
    });
    let expired = with_param(
        &with_param(&view.url, "expires", &past.to_string()),
        "signature",
        &expired_sig,
    );
    assert_eq!(
        refusal(client.fetch_file(&expired).await),
        (403, "LINK_EXPIRED".into(), vec![])
    );

    // Tampered: any part changed, the signature no longer holds.
    let signature = param(&view.url, "signature");
    let mut flipped: Vec<char> = signature.chars().collect();
    flipped[5] = if flipped[5] == 'A' { 'B' } else { 'A' };
    let later = (view.expires_at + 3_600_000).to_string();
    let tampered = [
        with_param(
            &view.url,
            "signature",
            &flipped.into_iter().collect::<String>(),
        ),
        with_param(&view.url, "signature", ""),
        with_param(&view.url, "expires", &later),
        with_param(&view.url, "expires", "soon"),
        with_param(&view.url, "action", "download"),
        with_param(&view.url, "tenant", "bu_someone_else"),
        with_file_id(&view.url, &text.file_id),
        // A genuine signature of an expired link moved to a later expiry.
        with_param(&expired, "expires", &later),
    ];
    for url in &tampered {
        assert_eq!(
            refusal(client.fetch_file(url).await),
            (403, "INVALID_SIGNATURE".into(), vec![]),
            "{url}"
        );
    }
    let bare = format!("{}/files/{}/content", s.base, pdf.file_id);
    assert_eq!(
        refusal(client.fetch_file(&bare).await).1,
        "INVALID_SIGNATURE"
    );

    // What a link may be asked for.
    for body in [
        json!({ "fileId": pdf.file_id, "expiresInMinutes": 0 }),
        json!({ "fileId": pdf.file_id, "expiresInMinutes": 10_081 }),
        json!({ "fileId": pdf.file_id, "expiresInMinutes": 1.5 }),
        json!({ "fileId": pdf.file_id, "action": "upload" }),
        json!({ "action": "view" }),
    ] {
        let response = client
            .send(RawRequest::post("/v1/files/url", body.clone()))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.error_code()),
            (400, Some("VALIDATION_ERROR")),
            "{body}"
        );
    }
    assert_eq!(
        refusal(
            client
                .file_url(&FileUrlRequest {
                    file_id: Some("file_unknown".into()),
                    ..Default::default()
                })
                .await
        ),
        (404, "NOT_FOUND".into(), vec![])
    );

    // A link outlives nothing: once the file is deleted, its link finds nothing.
    client.delete_file(&pdf.file_id, None).await.unwrap();
    assert_eq!(
        refusal(client.fetch_file(&view.url).await),
        (404, "NOT_FOUND".into(), vec![])
    );
}

on_both!(
    delete_with_and_without_storage,
    delete_with_and_without_storage
);
async fn delete_with_and_without_storage(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_id, _) = order(&client, "delete@example.com").await;
    let mut files = Vec::new();
    for name in ["one.pdf", "two.pdf", "three.pdf", "four.pdf"] {
        files.push(
            client
                .upload_file(&upload(&order_id, "document", name, PDF))
                .await
                .unwrap()
                .file,
        );
    }
    for f in &files {
        assert!(on_disk(s, &f.storage_path).is_file());
    }

    // By default the contents go too.
    let deleted = client.delete_file(&files[0].file_id, None).await.unwrap();
    assert!(deleted.success && deleted.deleted_from_storage);
    assert_eq!(deleted.file_id, files[0].file_id);
    assert!(!on_disk(s, &files[0].storage_path).exists());
    // Asked to keep them, only the record goes.
    let kept = client
        .delete_file(&files[1].file_id, Some(false))
        .await
        .unwrap();
    assert!(!kept.deleted_from_storage);
    assert_eq!(
        std::fs::read(on_disk(s, &files[1].storage_path)).unwrap(),
        PDF
    );
    // The flag as a query parameter, for clients that send no body with DELETE.
    let response = client
        .send(RawRequest::delete(format!(
            "/v1/files/{}?deleteFromStorage=false",
            files[2].file_id
        )))
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{:?}", response.json);
    assert!(on_disk(s, &files[2].storage_path).is_file());
    for f in &files[..3] {
        assert_eq!(
            refusal(client.get_file(&f.file_id).await),
            (404, "NOT_FOUND".into(), vec![])
        );
        assert_eq!(
            refusal(client.delete_file(&f.file_id, None).await),
            (404, "NOT_FOUND".into(), vec![])
        );
        assert_eq!(
            events_of(&client, &f.file_id).await,
            counts(&[("file.created", 1), ("file.deleted", 1)])
        );
    }
    let left = client.list_files(&FileQuery::default()).await.unwrap();
    assert_eq!(
        left.items.iter().map(|f| &f.file_id).collect::<Vec<_>>(),
        [&files[3].file_id]
    );

    // When the contents cannot be removed, nothing is deleted and the retry succeeds.
    let path = on_disk(s, &files[3].storage_path);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("blocker"), b"x").unwrap();
    assert_eq!(
        refusal(client.delete_file(&files[3].file_id, None).await),
        (500, "DELETE_FAILED".into(), vec![])
    );
    assert_eq!(
        client.get_file(&files[3].file_id).await.unwrap().file_id,
        files[3].file_id
    );
    assert_eq!(
        events_of(&client, &files[3].file_id).await,
        counts(&[("file.created", 1)])
    );
    std::fs::remove_dir_all(&path).unwrap();
    std::fs::write(&path, PDF).unwrap();
    client.delete_file(&files[3].file_id, None).await.unwrap();
    assert!(!path.exists());
}

on_both!(
    another_business_units_files_are_out_of_reach,
    another_business_units_files_are_out_of_reach
);
async fn another_business_units_files_are_out_of_reach(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let unit = flexportal_store::tenancy::create_business_unit(
        &s.db,
        &tenant.organization_id,
        flexportal_server::OrganizationSpec::new("eu").business_unit(),
    )
    .await
    .unwrap();
    let other = client.with_tenant(&unit.tenant_id);
    let (order_a, _) = order(&client, "a@example.com").await;
    let (order_b, _) = order(&other, "b@example.com").await;
    let mine = client
        .upload_file(&upload(&order_a, "contract", "mine.pdf", PDF))
        .await
        .unwrap()
        .file;
    let theirs = other
        .upload_file(&upload(
            &order_b,
            "contract",
            "theirs.pdf",
            b"their secret\n",
        ))
        .await
        .unwrap()
        .file;

    // Not found, not listed, not linkable, not deletable from the other unit.
    assert_eq!(
        refusal(other.get_file(&mine.file_id).await),
        (404, "NOT_FOUND".into(), vec![])
    );
    assert_eq!(
        other
            .list_files(&FileQuery::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|f| &f.file_id)
            .collect::<Vec<_>>(),
        [&theirs.file_id]
    );
    assert!(
        other
            .list_files(&FileQuery {
                order_id: Some(order_a.clone()),
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        refusal(
            other
                .file_url(&FileUrlRequest {
                    file_id: Some(mine.file_id.clone()),
                    ..Default::default()
                })
                .await
        )
        .0,
        404
    );
    assert_eq!(refusal(other.delete_file(&mine.file_id, None).await).0, 404);
    assert_eq!(
        refusal(
            other
                .list_files(&FileQuery {
                    start_after: Some(mine.file_id.clone()),
                    ..Default::default()
                })
                .await
        )
        .1,
        "VALIDATION_ERROR"
    );
    // Nor can a file be attached to the other unit's order.
    assert_eq!(
        refusal(
            client
                .upload_file(&upload(&order_b, "contract", "x.pdf", PDF))
                .await
        ),
        (400, "ORDER_NOT_FOUND".into(), vec![])
    );

    // A link for their file cannot be turned towards mine, nor mine towards theirs.
    let their_link = link(&other, &theirs.file_id, "download").await;
    let my_link = link(&client, &mine.file_id, "download").await;
    for url in [
        with_file_id(&their_link.url, &mine.file_id),
        with_param(&their_link.url, "tenant", &tenant.tenant_id),
        with_param(
            &with_file_id(&their_link.url, &mine.file_id),
            "tenant",
            &tenant.tenant_id,
        ),
        with_file_id(&my_link.url, &theirs.file_id),
        with_param(&my_link.url, "tenant", &unit.tenant_id),
    ] {
        assert_eq!(
            refusal(client.fetch_file(&url).await),
            (403, "INVALID_SIGNATURE".into(), vec![]),
            "{url}"
        );
    }
    assert_eq!(
        client.fetch_file(&their_link.url).await.unwrap().bytes,
        b"their secret\n"
    );
    assert_eq!(client.fetch_file(&my_link.url).await.unwrap().bytes, PDF);
}

on_both!(refused_uploads_store_nothing, refused_uploads_store_nothing);
async fn refused_uploads_store_nothing(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_id, _) = order(&client, "refused@example.com").await;
    let good = upload(&order_id, "contract", "c.pdf", PDF);

    let cases: Vec<(FileUpload, u16, &str, Vec<&str>)> = vec![
        (
            FileUpload {
                order_id: None,
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["orderId"],
        ),
        (
            FileUpload {
                order_id: Some("".into()),
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["orderId"],
        ),
        (
            FileUpload {
                order_id: Some("ord_00000000000000000000000000".into()),
                ..good.clone()
            },
            400,
            "ORDER_NOT_FOUND",
            vec![],
        ),
        (
            FileUpload {
                file_type: None,
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["type"],
        ),
        (
            FileUpload {
                file_type: Some("photo".into()),
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["type"],
        ),
        (
            FileUpload {
                order_id: None,
                file_type: Some("photo".into()),
                metadata: Some(json!(["not", "an", "object"])),
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["orderId", "type", "metadata"],
        ),
        (
            FileUpload {
                bytes: Vec::new(),
                ..good.clone()
            },
            400,
            "VALIDATION_ERROR",
            vec!["file"],
        ),
        (
            // 25 MiB and one byte.
            FileUpload {
                bytes: vec![b'x'; 25 * 1024 * 1024 + 1],
                ..good.clone()
            },
            413,
            "PAYLOAD_TOO_LARGE",
            vec!["file"],
        ),
        (
            // Past what any upload body may be: refused before it is read.
            FileUpload {
                bytes: vec![b'x'; 27 * 1024 * 1024],
                ..good.clone()
            },
            413,
            "PAYLOAD_TOO_LARGE",
            vec![""],
        ),
    ];
    for (input, status, code, paths) in cases {
        let got = refusal(client.upload_file(&input).await);
        assert_eq!(
            got,
            (
                status,
                code.to_string(),
                paths.iter().map(|p| p.to_string()).collect()
            ),
            "{:?} {:?} {:?}",
            input.order_id,
            input.file_type,
            input.bytes.len()
        );
    }
    // Exactly 25 MiB is accepted.
    let largest = client
        .upload_file(&FileUpload {
            bytes: vec![b'x'; 25 * 1024 * 1024],
            ..good.clone()
        })
        .await
        .unwrap();
    assert_eq!(largest.file.file_size, 25 * 1024 * 1024);
    client.delete_file(&largest.file_id, None).await.unwrap();

    // Not multipart, or no file part at all.
    let response = client
        .send(RawRequest::post(
            "/v1/files",
            json!({ "orderId": order_id, "type": "contract" }),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    let boundary = "XyZ";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"orderId\"\r\n\r\n{order_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\ncontract\r\n--{boundary}--\r\n"
    );
    let response = client
        .send(RawRequest::post("/v1/files", Value::Null).bytes(
            &format!("multipart/form-data; boundary={boundary}"),
            form.into_bytes(),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(response.detail_paths(), ["file"]);
    let response = client
        .send(RawRequest::post("/v1/files", Value::Null).bytes(
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end".to_vec(),
        ))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.error_code()),
        (400, Some("VALIDATION_ERROR"))
    );

    // Permissions: reading needs files:read, storing files:write.
    let reader = client
        .create_api_key(&NewApiKey {
            name: Some("reader".into()),
            permissions: Some(vec!["files:read".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let reader = client.with_api_key(&reader.secret);
    assert!(reader.list_files(&FileQuery::default()).await.is_ok());
    assert_eq!(
        refusal(reader.upload_file(&good).await),
        (403, "INSUFFICIENT_PERMISSIONS".into(), vec![])
    );
    let stranger = client
        .create_api_key(&NewApiKey {
            name: Some("orders only".into()),
            permissions: Some(vec!["orders:*".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let stranger = client.with_api_key(&stranger.secret);
    assert_eq!(
        refusal(stranger.list_files(&FileQuery::default()).await).1,
        "INSUFFICIENT_PERMISSIONS"
    );

    // Nothing of any refused upload was kept: no record, no event, no bytes.
    assert!(
        client
            .list_files(&FileQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let created = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("file.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.items.len(), 1, "only the 25 MiB file was stored");
    assert!(stored_files(s).is_empty(), "{:?}", stored_files(s));
}

on_both!(
    half_finished_writes_never_show,
    half_finished_writes_never_show
);
async fn half_finished_writes_never_show(s: &Server) {
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_id, _) = order(&client, "half@example.com").await;
    let good = upload(&order_id, "contract", "c.pdf", PDF);

    // The contents cannot be written (their folder is taken by a plain file): no record.
    let blocker = s.data_dir.join("files").join(&tenant.tenant_id);
    std::fs::write(&blocker, b"not a folder").unwrap();
    assert_eq!(
        refusal(client.upload_file(&good).await),
        (500, "INTERNAL_ERROR".into(), vec![])
    );
    std::fs::remove_file(&blocker).unwrap();
    assert!(
        client
            .list_files(&FileQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The record cannot be written (the database refuses it): the contents are removed.
    let refuse: &[&str] = match s.backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER refuse_files BEFORE INSERT ON files BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_files() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_files BEFORE INSERT ON files FOR EACH ROW EXECUTE FUNCTION refuse_files()",
        ],
    };
    for sql in refuse {
        s.db.execute(*sql, vec![]).await.unwrap();
    }
    let refused = refusal(client.upload_file(&good).await);
    assert_eq!(refused, (500, "INTERNAL_ERROR".into(), vec![]));
    assert!(stored_files(s).is_empty(), "{:?}", stored_files(s));
    let drop = match s.backend {
        Backend::Sqlite => "DROP TRIGGER refuse_files",
        Backend::Postgres => "DROP TRIGGER refuse_files ON files",
    };
    s.db.execute(drop, vec![]).await.unwrap();

    // Neither left a record or an event behind; the next upload works.
    assert!(
        client
            .list_files(&FileQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let stored = client.upload_file(&good).await.unwrap();
    assert_eq!(stored_files(s).len(), 1);
    let events = client
        .list_events(&flexportal_client::EventQuery {
            event_type: Some("file.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events
            .items
            .iter()
            .map(|e| e.resource_id.clone())
            .collect::<Vec<_>>(),
        [stored.file_id]
    );
}

/// The binary as configured by an operator: contents in the directory `--file-store-url`
/// names, links under `--public-url`; an S3 store refused by a build without S3 support.
async fn configured_file_store(backend: Backend) {
    let Some((db, url, cleanup)) = fresh_database(backend).await else {
        return;
    };
    let tenant = organization_in(&db, "growth").await;
    let dir = std::env::temp_dir().join(format!(
        "flexportal-store-{}",
        flexportal_domain::ids::IdKind::File.generate()
    ));
    let store_url = format!("file://{}", dir.display());
    let server = Process::start_with(
        &url,
        &[
            "--file-store-url",
            &store_url,
            "--public-url",
            "https://files.example.com/portal/",
        ],
    )
    .await;
    let client = Client::new(&server.base, &tenant.api_key, &tenant.tenant_id);
    let (order_id, _) = order(&client, "operator@example.com").await;
    let file = client
        .upload_file(&upload(&order_id, "invoice", "invoice.pdf", PDF))
        .await
        .unwrap()
        .file;
    assert_eq!(std::fs::read(dir.join(&file.storage_path)).unwrap(), PDF);
    let download = link(&client, &file.file_id, "download").await;
    let public = "https://files.example.com/portal";
    assert!(
        download
            .url
            .starts_with(&format!("{public}/files/{}/content?", file.file_id)),
        "{}",
        download.url
    );
    // The host is not signed: the same link asked of the server directly works.
    let direct = download.url.replacen(public, &server.base, 1);
    assert_eq!(client.fetch_file(&direct).await.unwrap().bytes, PDF);
    server.kill();

    if !cfg!(feature = "s3") {
        let refused = std::process::Command::new(env!("CARGO_BIN_EXE_flexportal"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--file-store-url",
                "s3://bucket/folder",
            ])
            .env("FLEXPORTAL_DATABASE_URL", &url)
            .env("FLEXPORTAL_SECRET_KEY", "00".repeat(32))
            .env("FLEXPORTAL_LOG", "error")
            .output()
            .unwrap();
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("--features s3"), "{stderr}");
    }
    db.close().await;
    cleanup.run().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_file_store_sqlite() {
    configured_file_store(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_file_store_postgres() {
    configured_file_store(Backend::Postgres).await;
}

on_both!(generated_files_are_files_too, generated_files_are_files_too);
async fn generated_files_are_files_too(s: &Server) {
    use flexportal_store::files::{GeneratedFile, store_generated};
    let tenant = s.organization("growth").await;
    let client = s.client(&tenant);
    let (order_id, customer_id) = order(&client, "generated@example.com").await;
    // What a feature generating contracts or invoices does, on the server's own store.
    let blobs = flexportal_store::blobs::BlobStore::local(&s.data_dir.join("files")).unwrap();
    let wire = flexportal_api::Shapes { exponent: 2 };
    let generated = |order_id: &str| GeneratedFile {
        order_id: order_id.to_string(),
        file_type: "contract".into(),
        filename: "contract-FP-000001.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: PDF.to_vec().into(),
        created_by: "key_generator".into(),
        metadata: Some(json!({ "template": "default" })),
    };
    let file = store_generated(
        &s.db,
        &blobs,
        &tenant.tenant_id,
        generated(&order_id),
        &wire,
    )
    .await
    .unwrap();
    let listed = client
        .list_files(&FileQuery {
            customer_id: Some(customer_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let shown = &listed.items[0];
    assert_eq!(
        (
            shown.file_id.as_str(),
            shown.category.as_str(),
            shown.content_type.as_str(),
            shown.uploaded_by.as_str(),
            shown.original_filename.as_deref(),
        ),
        (
            file.file_id.as_str(),
            "generated",
            "application/pdf",
            "key_generator",
            None
        )
    );
    assert_eq!(shown.metadata, json!({ "template": "default" }));
    let download = link(&client, &file.file_id, "download").await;
    assert_eq!(client.fetch_file(&download.url).await.unwrap().bytes, PDF);
    assert_eq!(
        events_of(&client, &file.file_id).await,
        counts(&[("file.created", 1)])
    );

    // An order of no one's leaves nothing behind.
    let refused = store_generated(
        &s.db,
        &blobs,
        &tenant.tenant_id,
        generated("ord_00000000000000000000000000"),
        &wire,
    )
    .await;
    assert!(matches!(
        refused,
        Err(flexportal_store::StoreError::Refused {
            code: "ORDER_NOT_FOUND",
            ..
        })
    ));
    assert_eq!(stored_files(s).len(), 1);
}
