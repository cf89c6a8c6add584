//! The server every measurement talks to: started in this process on the given database, with
//! a fresh organization, rate limits out of the way, and no background work unless asked.

use flexportal_api::AppState;
use flexportal_client::{Client, RawRequest};
use flexportal_store::Db;
use serde_json::json;

pub struct Running {
    pub db: Db,
    pub client: Client,
    pub tenant_id: String,
}

/// Opens `url`, bootstraps an organization and serves the API on a free port; `configure` may
/// change the state first.
pub async fn start(url: &str, configure: impl FnOnce(&mut AppState)) -> Result<Running, String> {
    let db = flexportal_server::open_database(url)
        .await
        .map_err(|e| e.to_string())?;
    let made = flexportal_server::bootstrap(&db, &flexportal_server::OrganizationSpec::new("eu"))
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut state = AppState::new(db.clone(), "eu");
    state.fair_use_per_minute = u32::MAX;
    configure(&mut state);
    tokio::spawn(flexportal_server::serve(
        state,
        listener,
        std::future::pending(),
        flexportal_server::Background::default(),
    ));
    let tenant_id = made.business_unit.tenant_id.clone();
    Ok(Running {
        client: Client::new(&base, &made.admin_key.secret, &tenant_id),
        db,
        tenant_id,
    })
}

/// A product with one variant, `{sku}-A`, rented for `months` at `monthly` a month.
pub async fn product(client: &Client, sku: &str, months: i64, monthly: i64) -> Result<(), String> {
    let answer = client
        .send(RawRequest::post(
            "/v1/products",
            json!({
                "productSku": sku, "name": sku, "specification": "bench device", "category": "Devices", "brand": "Acme",
                "variants": [{ "variantSku": format!("{sku}-A"), "variantName": "A", "grade": "A", "acquisitionCost": 300,
                    "pricing": [{ "contractLength": months, "monthlyPrice": monthly }] }]
            }),
        ))
        .await
        .map_err(|e| e.to_string())?;
    if answer.status != 201 {
        return Err(format!("catalog: {}", answer.status));
    }
    Ok(())
}

pub fn database_name(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}
