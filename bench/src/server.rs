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
    pub organization_id: String,
    pub secret: String,
    /// Where the API listens, for the lean read client.
    pub address: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops serving and closes the database, so the next measurement has the machine to itself.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.serving.await;
        self.db.close().await;
    }
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
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{address}");
    let mut state = AppState::new(db.clone(), "eu");
    state.fair_use_per_minute = u32::MAX;
    configure(&mut state);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let _ = flexportal_server::serve(
            state,
            listener,
            async move {
                let _ = stopped.await;
            },
            flexportal_server::Background::default(),
        )
        .await;
    });
    let tenant_id = made.business_unit.tenant_id.clone();
    Ok(Running {
        client: Client::new(&base, &made.admin_key.secret, &tenant_id),
        db,
        tenant_id,
        organization_id: made.business_unit.organization_id.clone(),
        secret: made.admin_key.secret.clone(),
        address,
        stop,
        serving,
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

/// A new, empty PostgreSQL database on the server `admin_url` points at; its URL.
pub async fn fresh_postgres(admin_url: &str) -> Result<String, String> {
    let name = format!(
        "flexportal_bench_{}",
        flexportal_domain::ids::IdKind::Event
            .generate()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    let admin = Db::connect(admin_url).await.map_err(|e| e.to_string())?;
    admin
        .execute(format!("CREATE DATABASE {name}"), vec![])
        .await
        .map_err(|e| e.to_string())?;
    admin.close().await;
    let (address, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let server = address
        .rsplit_once('/')
        .map_or(address, |(server, _)| server);
    Ok(if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    })
}

/// Drops a database [`fresh_postgres`] made.
pub async fn drop_postgres(admin_url: &str, url: &str) -> Result<(), String> {
    let name = url
        .split('?')
        .next()
        .and_then(|a| a.rsplit_once('/'))
        .map(|(_, name)| name.to_string())
        .ok_or("no database name")?;
    let admin = Db::connect(admin_url).await.map_err(|e| e.to_string())?;
    let dropped = admin
        .execute(
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            vec![],
        )
        .await
        .map_err(|e| e.to_string());
    admin.close().await;
    dropped.map(|_| ())
}
