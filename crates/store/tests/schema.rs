//! Both dialects' migrations produce the same tables, columns and indexes, and applying them
//! again changes nothing.

use flexportal_store::{Db, migrate};

fn unique() -> String {
    flexportal_domain::ids::IdKind::Event
        .generate()
        .trim_start_matches("evt_")
        .to_string()
}

async fn postgres() -> Option<(Db, String, String)> {
    let admin_url = match std::env::var("FLEXPORTAL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but FLEXPORTAL_TEST_POSTGRES_URL is unset")
        }
        _ => {
            eprintln!(
                "note: FLEXPORTAL_TEST_POSTGRES_URL is unset; skipping the PostgreSQL comparison"
            );
            return None;
        }
    };
    let schema = format!("s_{}", unique());
    let admin = Db::connect(&admin_url).await.expect("connect");
    admin
        .execute(format!("CREATE SCHEMA {schema}"), vec![])
        .await
        .expect("create schema");
    admin.close().await;
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let db = Db::connect(&format!("{admin_url}{sep}options[search_path]={schema}"))
        .await
        .expect("connect to schema");
    Some((db, admin_url, schema))
}

/// Closes `db` and drops the throwaway schema [`postgres`] made for it.
async fn drop_schema(db: Db, admin_url: &str, schema: &str) {
    db.close().await;
    let admin = Db::connect(admin_url).await.unwrap();
    admin
        .execute(format!("DROP SCHEMA {schema} CASCADE"), vec![])
        .await
        .unwrap();
    admin.close().await;
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let dir = std::env::temp_dir().join(format!("flexportal-schema-{}", unique()));
    let sqlite = Db::connect(&format!("sqlite://{}/s.db", dir.display()))
        .await
        .unwrap();
    assert_eq!(
        migrate::run(&sqlite).await.unwrap(),
        migrate::latest_version() as usize
    );
    assert_eq!(
        migrate::run(&sqlite).await.unwrap(),
        0,
        "a second run applies nothing"
    );
    let sqlite_shape = migrate::schema_shape(&sqlite).await.unwrap();
    assert!(
        sqlite_shape
            .columns
            .contains(&("products".into(), "product_sku".into()))
    );
    assert!(
        sqlite_shape
            .indexes
            .iter()
            .any(|(name, _, cols, unique)| name == "products_sku"
                && cols == "tenant_id,product_sku"
                && *unique)
    );
    // Every index of a tenant table starts with tenant_id.
    for (name, table, cols, _) in &sqlite_shape.indexes {
        let tenant_table = sqlite_shape
            .columns
            .contains(&(table.clone(), "tenant_id".into()));
        // The background jobs' indexes span tenants on purpose: the contract-end sweep's
        // (migration 0004) and the webhook dispatcher's (migration 0006).
        let cross_tenant = ["rentals_due_sweep", "webhook_deliveries_due"];
        if tenant_table && table != "business_units" && !cross_tenant.contains(&name.as_str()) {
            assert!(
                cols.starts_with("tenant_id"),
                "index {name} on {table} does not start with tenant_id: {cols}"
            );
        }
    }
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(dir);

    let Some((pg, admin_url, schema)) = postgres().await else {
        return;
    };
    migrate::run(&pg).await.unwrap();
    assert_eq!(migrate::run(&pg).await.unwrap(), 0);
    let pg_shape = migrate::schema_shape(&pg).await.unwrap();
    drop_schema(pg, &admin_url, &schema).await;
    assert_eq!(sqlite_shape.columns, pg_shape.columns);
    assert_eq!(sqlite_shape.indexes, pg_shape.indexes);
}

/// A database written before orders were clustered by business unit (migration 12) keeps every
/// order and file through the upgrade, and files still cannot name a missing order.
#[tokio::test]
async fn orders_and_files_survive_the_clustering_upgrade() {
    let dir = std::env::temp_dir().join(format!("flexportal-upgrade-{}", unique()));
    let sqlite = Db::connect(&format!("sqlite://{}/u.db", dir.display()))
        .await
        .unwrap();
    upgrade_keeps_orders(&sqlite).await;
    flexportal_store::row! {
        struct Definition {
            sql: String,
        }
    }
    let table: Definition = sqlite
        .fetch_optional(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'orders'",
            vec![],
        )
        .await
        .unwrap()
        .unwrap();
    assert!(table.sql.ends_with("WITHOUT ROWID"), "{}", table.sql);
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(dir);

    let Some((pg, admin_url, schema)) = postgres().await else {
        return;
    };
    upgrade_keeps_orders(&pg).await;
    drop_schema(pg, &admin_url, &schema).await;
}

flexportal_store::row! {
    struct Kept {
        order_id: String,
        file_id: Option<String>,
    }
}

async fn upgrade_keeps_orders(db: &Db) {
    migrate::run_until(db, 11).await.unwrap();
    let statements = [
        "INSERT INTO organizations (organization_id, name, tier, created_at, updated_at) VALUES ('org_1', 'O', 'standard', 1, 1)",
        "INSERT INTO business_units (tenant_id, organization_id, name, region, currency, timezone, vat_rate_bp, vat_mode, default_contract_length, order_number_prefix, settings, created_at, updated_at) \
         VALUES ('bu_1', 'org_1', 'U', 'eu', 'EUR', 'UTC', 2100, 'exclusive', 12, 'ORD', '{}', 1, 1)",
        "INSERT INTO customers (tenant_id, customer_id, email, email_key, first_name, last_name, customer_type, custom_fields, status, created_by, created_at, updated_at) \
         VALUES ('bu_1', 'cust_1', 'a@example.com', 'a@example.com', 'A', 'B', 'individual', '{}', 'active', 'test', 1, 1)",
        "INSERT INTO orders (tenant_id, order_id, order_number, status, order_type, customer_id, customer, billing_address, shipping_address, items, subtotal, tax_amount, total, currency, total_devices, created_by, created_at, updated_at) \
         VALUES ('bu_1', 'ord_1', 'ORD-1', 'pending', 'new', 'cust_1', '{}', '{}', '{}', '[]', 100, 21, 121, 'EUR', 1, 'test', 1, 1)",
        "INSERT INTO orders (tenant_id, order_id, order_number, status, order_type, customer_id, customer, billing_address, shipping_address, items, subtotal, tax_amount, total, currency, total_devices, created_by, created_at, updated_at) \
         VALUES ('bu_1', 'ord_2', 'ORD-2', 'pending', 'new', 'cust_1', '{}', '{}', '{}', '[]', 100, 21, 121, 'EUR', 1, 'test', 2, 2)",
        "INSERT INTO files (tenant_id, file_id, order_id, customer_id, file_type, category, filename, content_type, file_size, storage_path, uploaded_by, created_at, updated_at) \
         VALUES ('bu_1', 'file_1', 'ord_2', 'cust_1', 'contract', 'uploaded', 'c.pdf', 'application/pdf', 3, 'bu_1/file_1', 'test', 1, 1)",
    ];
    for statement in statements {
        db.execute(statement, vec![]).await.unwrap();
    }
    assert_eq!(
        migrate::run(db).await.unwrap() as i64,
        migrate::latest_version() - 11
    );
    let kept: Vec<Kept> = db
        .fetch_all(
            "SELECT o.order_id, f.file_id FROM orders o LEFT JOIN files f ON f.tenant_id = o.tenant_id AND f.order_id = o.order_id \
             WHERE o.tenant_id = 'bu_1' ORDER BY o.order_id",
            vec![],
        )
        .await
        .unwrap();
    let kept: Vec<(String, Option<String>)> =
        kept.into_iter().map(|k| (k.order_id, k.file_id)).collect();
    assert_eq!(
        kept,
        [
            ("ord_1".into(), None),
            ("ord_2".into(), Some("file_1".into()))
        ]
    );
    let orphan = db
        .execute(
            "INSERT INTO files (tenant_id, file_id, order_id, customer_id, file_type, category, filename, content_type, file_size, storage_path, uploaded_by, created_at, updated_at) \
             VALUES ('bu_1', 'file_2', 'ord_missing', 'cust_1', 'contract', 'uploaded', 'c.pdf', 'application/pdf', 3, 'bu_1/file_2', 'test', 1, 1)",
            vec![],
        )
        .await;
    assert!(orphan.is_err(), "a file must name an existing order");
}
