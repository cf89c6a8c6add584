//! The end-to-end harness: the real server on a real port, on a fresh SQLite file or a fresh
//! PostgreSQL schema per test, spoken to over HTTP through the client crate, with every response
//! checked against the official FlexPortal schema.

#![allow(dead_code)]

pub mod cluster;
pub mod conformance;
pub mod process;

use std::sync::Arc;

use flexportal_api::AppState;
use flexportal_api::rate_limit::InProcessLimiter;
use flexportal_client::{Client, Exchange};
use flexportal_server::{OrganizationSpec, bootstrap, open_database};
use flexportal_store::Db;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Server {
    pub base: String,
    pub db: Db,
    pub backend: Backend,
    /// The key sealing webhook secrets, for servers started beside this one.
    pub sealing_key: flexportal_domain::sealing::SealingKey,
    /// The server's data directory; file contents are kept under `files/` in it.
    pub data_dir: std::path::PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    cleanup: Cleanup,
}

/// An extra server; it stops when dropped.
pub struct Sibling {
    pub base: String,
    _stop: oneshot::Sender<()>,
}

impl Sibling {
    pub fn client(&self, tenant: &Tenant) -> Client {
        Client::new(&self.base, &tenant.api_key, &tenant.tenant_id)
    }
}

enum Cleanup {
    Directory(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
}

/// A fresh organization with one business unit and its admin key.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub organization_id: String,
    pub tenant_id: String,
    pub api_key: String,
}

fn unique_suffix() -> String {
    flexportal_domain::ids::IdKind::Event
        .generate()
        .trim_start_matches("evt_")
        .to_string()
}

/// The PostgreSQL server tests run against, or `None` (with a note) when none is configured.
/// Under CI a missing PostgreSQL fails the run instead of skipping.
pub fn postgres_url() -> Option<String> {
    match std::env::var("FLEXPORTAL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but FLEXPORTAL_TEST_POSTGRES_URL is unset: the PostgreSQL tests must run"
            )
        }
        _ => {
            eprintln!(
                "note: FLEXPORTAL_TEST_POSTGRES_URL is unset; skipping the PostgreSQL variant"
            );
            None
        }
    }
}

/// A fresh, empty database of `backend` (migrated) and how to remove it afterwards.
pub async fn fresh_database(backend: Backend) -> Option<(Db, String, CleanupHandle)> {
    // Every scenario starts here, before any HTTP client is built.
    flexportal_worker::webhooks::install_tls_provider();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("flexportal-test-{}", unique_suffix()));
            let url = format!("sqlite://{}/flexportal.db", dir.display());
            let db = open_database(&url).await.expect("open sqlite");
            Some((db, url, CleanupHandle(Cleanup::Directory(dir))))
        }
        Backend::Postgres => {
            let admin_url = postgres_url()?;
            let schema = format!("t_{}", unique_suffix());
            let admin = Db::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute(format!("CREATE SCHEMA {schema}"), vec![])
                .await
                .expect("create schema");
            admin.close().await;
            let separator = if admin_url.contains('?') { '&' } else { '?' };
            // Tests need no durability across a power cut; not waiting for each commit's WAL
            // flush keeps the bulk scenarios fast.
            let url = format!(
                "{admin_url}{separator}options[search_path]={schema}&options[synchronous_commit]=off"
            );
            let db = open_database(&url).await.expect("open postgres schema");
            Some((
                db,
                url,
                CleanupHandle(Cleanup::Schema { admin_url, schema }),
            ))
        }
    }
}

/// A new organization of `tier` in `db`, made the way `flexportal bootstrap` makes one: for
/// tests that run the server as a separate process.
pub async fn organization_in(db: &Db, tier: &str) -> Tenant {
    let mut spec = OrganizationSpec::new("eu");
    spec.tier = tier.to_string();
    let made = bootstrap(db, &spec).await.expect("bootstrap");
    Tenant {
        organization_id: made.organization.organization_id,
        tenant_id: made.business_unit.tenant_id,
        api_key: made.admin_key.secret,
    }
}

pub struct CleanupHandle(Cleanup);

impl CleanupHandle {
    pub async fn run(self) {
        match self.0 {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                if let Ok(admin) = Db::connect(&admin_url).await {
                    let _ = admin
                        .execute(format!("DROP SCHEMA {schema} CASCADE"), vec![])
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

impl Server {
    /// Starts the server on 127.0.0.1:0; `None` when `backend` is unavailable here.
    pub async fn start(backend: Backend) -> Option<Server> {
        Server::start_with(backend, |_, _| {}).await
    }

    /// Starts the server with the test defaults, then `configure` changes the API's state and
    /// the webhook dispatcher's settings.
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(&mut AppState, &mut flexportal_worker::webhooks::DispatcherConfig),
    ) -> Option<Server> {
        let (db, _url, cleanup) = fresh_database(backend).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let mut state = AppState::new(db.clone(), "eu");
        let data_dir = std::env::temp_dir().join(format!("flexportal-data-{}", unique_suffix()));
        state.files.blobs =
            flexportal_store::blobs::BlobStore::local(&data_dir.join("files")).expect("file store");
        // Rate limits count requests per minute; with the clock stopped, "the 101st request
        // within a minute" is the 101st request, however slowly the machine sends them.
        state.limiter = Arc::new(InProcessLimiter::with_clock(|| 0));
        // Webhook receivers in tests listen on 127.0.0.1 over plain HTTP.
        state.webhooks.allow_insecure = true;
        state.webhooks.allow_private = true;
        let mut webhooks = flexportal_worker::webhooks::DispatcherConfig::new(
            state.webhooks.sealing_key.clone(),
            state.webhook_counters.clone(),
        );
        webhooks.allow_private_targets = true;
        webhooks.poll_every = std::time::Duration::from_millis(50);
        // Retries at once and a short patience, so failure scenarios finish in seconds.
        webhooks.retry_schedule = vec![0; 9];
        webhooks.timeout = std::time::Duration::from_secs(2);
        configure(&mut state, &mut webhooks);
        let sealing_key = state.webhooks.sealing_key.clone();
        let task = tokio::spawn(flexportal_server::serve(
            state,
            listener,
            async {
                let _ = stopped.await;
            },
            flexportal_server::Background {
                sweep_every: None,
                webhooks: Some(webhooks),
            },
        ));
        Some(Server {
            base,
            db,
            backend,
            sealing_key,
            data_dir,
            stop: Some(stop),
            task: Some(task),
            cleanup: cleanup.0,
        })
    }

    /// Another API server on the same database, configured by `configure`, without background
    /// work: for scenarios that need a policy the main server does not have.
    pub async fn sibling(&self, configure: impl FnOnce(&mut AppState)) -> Sibling {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let mut state = AppState::new(self.db.clone(), "eu");
        state.limiter = Arc::new(InProcessLimiter::with_clock(|| 0));
        state.webhooks.sealing_key = self.sealing_key.clone();
        state.files.blobs = flexportal_store::blobs::BlobStore::local(&self.data_dir.join("files"))
            .expect("file store");
        configure(&mut state);
        tokio::spawn(flexportal_server::serve(
            state,
            listener,
            async {
                let _ = stopped.await;
            },
            flexportal_server::Background::default(),
        ));
        Sibling { base, _stop: stop }
    }

    /// Stops the server (finishing in-flight requests) and removes its database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.db.close().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let cleanup = std::mem::replace(
            &mut self.cleanup,
            Cleanup::Directory(std::path::PathBuf::new()),
        );
        CleanupHandle(cleanup).run().await;
    }

    /// A new organization of `tier`, made the way `flexportal bootstrap` makes one.
    pub async fn organization(&self, tier: &str) -> Tenant {
        organization_in(&self.db, tier).await
    }

    /// A client for `tenant` whose every response is checked against the official schema.
    pub fn client(&self, tenant: &Tenant) -> Client {
        Client::new(&self.base, &tenant.api_key, &tenant.tenant_id)
            .with_observer(Arc::new(check_exchange))
    }
}

/// Invariants every response keeps, then conformance to the official schema.
fn check_exchange(exchange: &Exchange<'_>) {
    if !exchange.path.starts_with("/v1/") {
        return;
    }
    assert_eq!(
        exchange
            .headers
            .get("flexportal-region")
            .and_then(|v| v.to_str().ok()),
        Some("eu"),
        "{} {} lacks FlexPortal-Region",
        exchange.method,
        exchange.path
    );
    assert!(
        exchange.headers.contains_key("x-request-id"),
        "{} {} lacks a request id",
        exchange.method,
        exchange.path
    );
    if exchange.status >= 400 {
        let body = exchange.body.unwrap_or_else(|| {
            panic!(
                "{} {} -> {}: error without a JSON body",
                exchange.method, exchange.path, exchange.status
            )
        });
        let error = &body["error"];
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "malformed error body: {body}"
        );
        assert!(
            error["details"].is_array(),
            "error body without details[]: {body}"
        );
    }
    if let Some(body) = exchange.body
        && let Err(message) = conformance::Conformance::shared().check(
            exchange.method,
            exchange.path,
            exchange.status,
            body,
        )
    {
        panic!("{message}");
    }
}

/// Runs `scenario` against a fresh server on each backend available.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, |s| {
                    Box::pin(super::$scenario(s))
                })
                .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, |s| {
                    Box::pin(super::$scenario(s))
                })
                .await;
            }
        }
    };
    ($name:ident, $scenario:ident, $configure:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run_with($crate::support::Backend::Sqlite, $configure, |s| {
                    Box::pin(super::$scenario(s))
                })
                .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run_with($crate::support::Backend::Postgres, $configure, |s| {
                    Box::pin(super::$scenario(s))
                })
                .await;
            }
        }
    };
}

pub async fn run<F>(backend: Backend, scenario: F)
where
    F: for<'a> FnOnce(
        &'a Server,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>,
{
    run_with(backend, |_, _| {}, scenario).await
}

/// [`run`] on a server whose settings `configure` changes first.
pub async fn run_with<F>(
    backend: Backend,
    configure: impl FnOnce(&mut AppState, &mut flexportal_worker::webhooks::DispatcherConfig),
    scenario: F,
) where
    F: for<'a> FnOnce(
        &'a Server,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>,
{
    let Some(server) = Server::start_with(backend, configure).await else {
        return;
    };
    scenario(&server).await;
    server.stop().await;
}

/// The first fenced code block after `heading` on a page of the FlexPortal docs, read at test
/// time from `../shared` (never copied into the project).
pub fn docs_example(page: &str, heading: &str) -> String {
    let spec = std::env::var("FLEXPORTAL_OFFICIAL_SPEC").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/flexportal-docs/openapi.json"
        )
        .to_string()
    });
    let docs = std::path::Path::new(&spec)
        .parent()
        .expect("docs folder")
        .to_path_buf();
    let text = std::fs::read_to_string(docs.join(page))
        .unwrap_or_else(|e| panic!("cannot read docs page {page}: {e}"));
    let after = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("{page} has no heading {heading:?}"))
        .1;
    let block = after.split_once("```").expect("a code block").1;
    let block = block.split_once('\n').expect("a fence line").1;
    block
        .split_once("```")
        .expect("a closing fence")
        .0
        .to_string()
}

/// A product with one variant priced for 12 and 24 months.
pub fn simple_product(sku: &str, name: &str) -> flexportal_client::NewProduct {
    use flexportal_client::{NewPricing, NewProduct, NewVariant};
    NewProduct {
        product_sku: Some(sku.to_string()),
        name: Some(name.to_string()),
        specification: Some("test device".into()),
        category: Some("Laptops".into()),
        brand: Some("Acme".into()),
        variants: Some(vec![NewVariant {
            variant_sku: Some(format!("{sku}-A")),
            variant_name: Some("Grade A".into()),
            grade: Some("A".into()),
            list_price: Some(1000.0),
            acquisition_cost: Some(700.0),
            pricing: Some(vec![
                NewPricing {
                    contract_length: Some(12),
                    monthly_price: Some(99.0),
                    ..Default::default()
                },
                NewPricing {
                    contract_length: Some(24),
                    monthly_price: Some(79.5),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// How many events of each type the log holds about one resource (its first 100).
pub async fn events_of(
    client: &flexportal_client::Client,
    resource_id: &str,
) -> std::collections::BTreeMap<String, usize> {
    let page = client
        .list_events(&flexportal_client::EventQuery {
            resource_id: Some(resource_id.into()),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for event in page.items {
        *counts.entry(event.event_type).or_default() += 1;
    }
    counts
}

/// `[("type", n)]` as the map [`events_of`] returns.
pub fn counts(pairs: &[(&str, usize)]) -> std::collections::BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Whether `check` comes true before `bound` runs out, asking every 20 ms: for state that travels
/// by a clock (a poll, a delivery recorded after its receiver answered), with nothing to await.
pub async fn holds_within<F, Fut>(bound: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + bound;
    loop {
        if check().await {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
