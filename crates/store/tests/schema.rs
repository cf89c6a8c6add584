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
    pg.close().await;
    let admin = Db::connect(&admin_url).await.unwrap();
    admin
        .execute(format!("DROP SCHEMA {schema} CASCADE"), vec![])
        .await
        .unwrap();
    admin.close().await;
    assert_eq!(sqlite_shape.columns, pg_shape.columns);
    assert_eq!(sqlite_shape.indexes, pg_shape.indexes);
}
