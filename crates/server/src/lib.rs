//! Wiring: opening the database, building the application, serving it until told to stop.
//! The binary (`main.rs`) and the end-to-end tests both start the server through here.

mod http;

use std::future::Future;

use flexportal_api::AppState;
use flexportal_domain::settings::Settings;
use flexportal_store::Db;
use flexportal_store::tenancy::{self, Bootstrapped, NewBusinessUnit};
use tokio::net::TcpListener;

pub use flexportal_store::StoreError;

/// Opens the database at `url` and brings its schema up to date.
pub async fn open_database(url: &str) -> Result<Db, StoreError> {
    let db = Db::connect(url).await?;
    flexportal_store::migrate::run(&db).await?;
    Ok(db)
}

/// What a new organization starts with.
#[derive(Debug, Clone)]
pub struct OrganizationSpec {
    pub org_name: String,
    pub business_unit_name: String,
    pub currency: String,
    pub tier: String,
    pub timezone: String,
    pub region: String,
}

impl OrganizationSpec {
    pub fn new(region: &str) -> OrganizationSpec {
        OrganizationSpec {
            org_name: "My organization".into(),
            business_unit_name: "Main".into(),
            currency: "EUR".into(),
            tier: "growth".into(),
            timezone: "UTC".into(),
            region: region.into(),
        }
    }

    pub fn business_unit(&self) -> NewBusinessUnit {
        NewBusinessUnit {
            name: self.business_unit_name.clone(),
            region: self.region.clone(),
            currency: self.currency.clone(),
            timezone: self.timezone.clone(),
            vat_rate_bp: 0,
            vat_mode: "exclusive".into(),
            default_contract_length: 12,
            order_number_prefix: "FP".into(),
            settings: Settings::default(),
        }
    }
}

/// Checks a spec's fields; the message names the flag at fault.
pub fn validate_spec(spec: &OrganizationSpec) -> Result<(), String> {
    if !flexportal_domain::money::is_currency_code(&spec.currency) {
        return Err(format!(
            "--currency {:?} is not an ISO 4217 code such as EUR",
            spec.currency
        ));
    }
    if flexportal_domain::tier::Tier::parse(&spec.tier).is_none() {
        return Err(format!(
            "--tier {:?} must be starter, growth or enterprise",
            spec.tier
        ));
    }
    if !flexportal_domain::time::is_time_zone(&spec.timezone) {
        return Err(format!(
            "--timezone {:?} is not an IANA time zone",
            spec.timezone
        ));
    }
    if spec.org_name.trim().is_empty() || spec.business_unit_name.trim().is_empty() {
        return Err("names must not be empty".into());
    }
    Ok(())
}

pub async fn bootstrap(db: &Db, spec: &OrganizationSpec) -> Result<Bootstrapped, StoreError> {
    tenancy::bootstrap_organization(
        db,
        &spec.org_name,
        &spec.tier,
        spec.business_unit(),
        &spec.region,
    )
    .await
}

/// Background work a serving process runs beside the API.
#[derive(Default)]
pub struct Background {
    /// Run the contract-end sweep at this interval.
    pub sweep_every: Option<std::time::Duration>,
    /// Deliver webhooks.
    pub webhooks: Option<flexportal_worker::webhooks::DispatcherConfig>,
}

/// Serves the API on `listener` until `shutdown` completes, then finishes in-flight requests
/// and webhook deliveries, with the `background` work running in the same process. Bounding how
/// long that may take is the caller's business.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    background: Background,
) -> std::io::Result<()> {
    let (db, usage) = (state.db.clone(), state.key_usage.clone());
    // Once a second: write the counted key uses, and check whether keys or business units
    // changed elsewhere (see `flexportal_api::auth_cache`).
    let housekeeping = tokio::spawn({
        let (db, usage, cache) = (db.clone(), usage.clone(), state.auth_cache.clone());
        async move {
            let mut every = tokio::time::interval(flexportal_api::auth_cache::POLL_EVERY);
            loop {
                every.tick().await;
                usage.flush(&db).await;
                match flexportal_store::tenancy::auth_epoch(&db).await {
                    Ok(epoch) => cache.observe_epoch(epoch),
                    Err(e) => tracing::debug!(error = %e, "auth epoch poll failed"),
                }
            }
        }
    });
    let mut workers = Vec::new();
    if let Some(every) = background.sweep_every {
        workers.push(tokio::spawn(flexportal_worker::run(
            db.clone(),
            state.region.clone(),
            shapes(),
            every,
        )));
    }
    let mut dispatcher = None;
    if let Some(config) = background.webhooks {
        let started = std::sync::Arc::new(
            flexportal_worker::webhooks::Dispatcher::new(db.clone(), config)
                .map_err(std::io::Error::other)?,
        );
        workers.push(tokio::spawn(flexportal_worker::webhooks::run_dispatcher(
            started.clone(),
        )));
        dispatcher = Some(started);
    }
    let header_read_timeout = state.header_read_timeout;
    let app = flexportal_api::app(state);
    let served = http::serve_http(listener, app, shutdown, header_read_timeout).await;
    housekeeping.abort();
    // Deliveries under way finish and are recorded, the rest goes back to the queue; the sweep
    // works in single-rental transactions, so stopping it anywhere loses nothing.
    if let Some(dispatcher) = dispatcher {
        dispatcher.drain().await;
    }
    for worker in workers {
        worker.abort();
    }
    usage.flush(&db).await;
    served
}

/// Event payloads for background work, rendered as the API renders them.
pub fn shapes() -> Box<flexportal_worker::Shapes> {
    Box::new(|exponent| {
        Box::new(flexportal_api::Shapes { exponent }) as Box<dyn flexportal_store::Wire>
    })
}
