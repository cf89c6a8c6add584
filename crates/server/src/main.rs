//! The `flexportal` command: serve (default), migrate, bootstrap, keys, business-units.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use flexportal_api::AppState;
use flexportal_domain::business_unit::{VAT_MODES, is_valid_prefix, vat_rate_bp};
use flexportal_domain::permissions;
use flexportal_domain::sealing::SealingKey;
use flexportal_domain::time::format_instant;
use flexportal_server::{OrganizationSpec, bootstrap, open_database, validate_spec};
use flexportal_store::Db;
use flexportal_store::tenancy::{self, NewApiKey};
use serde_json::json;

/// A request allocates and frees some hundred small objects; glibc's allocator took a quarter
/// of the CPU of a read by id, mimalloc makes the same read 40 % faster (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "flexportal",
    version,
    about = "Subscription commerce for physical goods; FlexPortal v1 compatible."
)]
struct Cli {
    /// Database: sqlite://path (created if missing) or postgres://user@host/db.
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_DATABASE_URL",
        default_value = "sqlite://data/flexportal.db"
    )]
    database_url: String,
    /// The region this deployment serves; business units of other regions are invisible.
    #[arg(long, global = true, env = "FLEXPORTAL_REGION", default_value = "eu")]
    region: String,
    /// Address to listen on (serve).
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: String,
    /// Requests per minute for growth and enterprise organizations (fair-use ceiling).
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_FAIR_USE_PER_MINUTE",
        default_value_t = 6000
    )]
    fair_use_per_minute: u32,
    /// Log format: pretty or json.
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_LOG_FORMAT",
        default_value = "pretty"
    )]
    log_format: String,
    /// Key that seals webhook signing secrets at rest and signs file links (64 hex digits or
    /// base64 of 32 bytes).
    /// Every server sharing a database needs the same one; when absent it is read from, or
    /// generated into, `<data-dir>/secret.key`.
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_SECRET_KEY",
        hide_env_values = true
    )]
    secret_key: Option<String>,
    /// Where a generated secret key is kept, and uploaded files unless --file-store-url says
    /// otherwise.
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_DATA_DIR",
        default_value = "data"
    )]
    data_dir: std::path::PathBuf,
    /// Where file contents are kept: a directory or file:///dir (default `<data-dir>/files`),
    /// or s3://bucket/folder in builds with the `s3` feature (credentials and endpoint from the
    /// usual AWS_* variables).
    #[arg(long, global = true, env = "FLEXPORTAL_FILE_STORE_URL")]
    file_store_url: Option<String>,
    /// The address clients reach this server at, e.g. https://rentals.example.com, for the
    /// signed file links it hands out; without it, the Host of each request over plain HTTP.
    #[arg(long, global = true, env = "FLEXPORTAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Accept `http://` webhook URLs (tests, local use).
    #[arg(long, global = true, env = "FLEXPORTAL_ALLOW_INSECURE_WEBHOOKS")]
    allow_insecure_webhooks: bool,
    /// Deliver webhooks to private, loopback and link-local addresses.
    #[arg(long, global = true, env = "FLEXPORTAL_ALLOW_PRIVATE_WEBHOOK_TARGETS")]
    allow_private_webhook_targets: bool,
    /// Seconds a webhook receiver has to answer; a delivery whose server died is retried after
    /// four times this.
    #[arg(
        long,
        global = true,
        env = "FLEXPORTAL_WEBHOOK_TIMEOUT_SECS",
        default_value_t = 15
    )]
    webhook_timeout_secs: u64,
    /// Seconds `serve` waits, after SIGTERM or Ctrl-C, for requests and webhook deliveries
    /// under way to finish before it exits anyway.
    #[arg(
        long = "shutdown-timeout",
        global = true,
        env = "FLEXPORTAL_SHUTDOWN_TIMEOUT",
        default_value_t = 30
    )]
    shutdown_timeout_secs: u64,
    /// Seconds a request may run before it is answered 503 (and rolled back).
    #[arg(
        long = "request-timeout",
        global = true,
        env = "FLEXPORTAL_REQUEST_TIMEOUT",
        default_value_t = 30
    )]
    request_timeout_secs: u64,
    /// Seconds a client has to send a request's head before the connection is closed.
    #[arg(
        long = "header-read-timeout",
        global = true,
        env = "FLEXPORTAL_HEADER_READ_TIMEOUT",
        default_value_t = 10
    )]
    header_read_timeout_secs: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Run background work (the contract-end sweep every minute, webhook delivery) without
    /// serving HTTP.
    Worker,
    /// Create a new organization with one business unit and an admin key.
    Bootstrap(BootstrapArgs),
    /// Manage API keys of an organization.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage business units of an organization.
    #[command(subcommand, name = "business-units")]
    BusinessUnits(UnitsCommand),
}

#[derive(Args)]
struct BootstrapArgs {
    #[arg(long, default_value = "My organization")]
    org_name: String,
    #[arg(long, default_value = "Main")]
    business_unit_name: String,
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// starter (100 requests/min), growth or enterprise.
    #[arg(long, default_value = "growth")]
    tier: String,
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Print one JSON object instead of prose.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; prints its secret once.
    Create {
        #[arg(long)]
        organization: String,
        #[arg(long)]
        name: String,
        /// Comma-separated, e.g. products:read,orders:write or *.
        #[arg(long, default_value = "*")]
        permissions: String,
        /// Comma-separated business unit ids; all when omitted.
        #[arg(long)]
        business_units: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        organization: String,
    },
    /// Revoke a key.
    Revoke {
        #[arg(long)]
        organization: String,
        key_id: String,
    },
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// Add a business unit (another country or brand) to an organization.
    Create {
        #[arg(long)]
        organization: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Percent, e.g. 19.
        #[arg(long, default_value_t = 0.0)]
        vat_rate: f64,
        #[arg(long, default_value = "exclusive")]
        vat_mode: String,
        #[arg(long, default_value_t = 12)]
        default_contract_length: i64,
        #[arg(long, default_value = "FP")]
        order_number_prefix: String,
        #[arg(long)]
        json: bool,
    },
    /// List the organization's business units.
    List {
        #[arg(long)]
        organization: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLEXPORTAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    flexportal_worker::webhooks::install_tls_provider();
    let db = open_database(&cli.database_url)
        .await
        .map_err(|e| format!("cannot open {}: {e}", redact(&cli.database_url)))?;
    let result = match cli.command.as_ref().unwrap_or(&Command::Serve) {
        Command::Serve => serve(&cli, db.clone()).await,
        Command::Worker => {
            let key = sealing_key(&cli)?;
            let config = dispatcher_config(&cli, key, Default::default());
            let dispatcher = std::sync::Arc::new(
                flexportal_worker::webhooks::Dispatcher::new(db.clone(), config)
                    .map_err(|e| format!("cannot start webhook delivery: {e}"))?,
            );
            tracing::info!(region = %cli.region, "worker running; Ctrl-C stops it");
            let sweep = tokio::spawn(flexportal_worker::run(
                db.clone(),
                cli.region.clone(),
                flexportal_server::shapes(),
                std::time::Duration::from_secs(60),
            ));
            let delivering = tokio::spawn(flexportal_worker::webhooks::run_dispatcher(
                dispatcher.clone(),
            ));
            shutdown_signal().await;
            sweep.abort();
            let grace = std::time::Duration::from_secs(cli.shutdown_timeout_secs);
            let drained = tokio::time::timeout(grace, dispatcher.drain()).await;
            delivering.abort();
            drained.map_err(|_| {
                format!(
                    "deliveries still under way {}s after the stop signal (--shutdown-timeout)",
                    grace.as_secs()
                )
            })
        }
        Command::Migrate => {
            println!(
                "database is at schema version {}",
                flexportal_store::migrate::latest_version()
            );
            Ok(())
        }
        Command::Bootstrap(args) => {
            let spec = OrganizationSpec {
                org_name: args.org_name.clone(),
                business_unit_name: args.business_unit_name.clone(),
                currency: args.currency.clone(),
                tier: args.tier.clone(),
                timezone: args.timezone.clone(),
                region: cli.region.clone(),
            };
            validate_spec(&spec)?;
            let made = bootstrap(&db, &spec).await.map_err(|e| e.to_string())?;
            if args.json {
                println!(
                    "{}",
                    json!({
                        "organizationId": made.organization.organization_id,
                        "tenantId": made.business_unit.tenant_id,
                        "apiKey": made.admin_key.secret,
                    })
                );
            } else {
                print_welcome(&made, &cli.listen);
            }
            Ok(())
        }
        Command::Keys(command) => keys(&cli, &db, command).await,
        Command::BusinessUnits(command) => units(&cli, &db, command).await,
    };
    db.close().await;
    result
}

async fn serve(cli: &Cli, db: Db) -> Result<(), String> {
    if tenancy::count_organizations(&db)
        .await
        .map_err(|e| e.to_string())?
        == 0
    {
        let made = bootstrap(&db, &OrganizationSpec::new(&cli.region))
            .await
            .map_err(|e| e.to_string())?;
        print_welcome(&made, &cli.listen);
    }
    let listener = tokio::net::TcpListener::bind(&cli.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    let mut state = AppState::new(db, cli.region.clone());
    state.fair_use_per_minute = cli.fair_use_per_minute;
    state.request_timeout = std::time::Duration::from_secs(cli.request_timeout_secs.max(1));
    state.header_read_timeout = std::time::Duration::from_secs(cli.header_read_timeout_secs.max(1));
    state.webhooks.sealing_key = sealing_key(cli)?;
    state.files = file_storage(cli)?;
    state.webhooks.allow_insecure = cli.allow_insecure_webhooks;
    state.webhooks.allow_private = cli.allow_private_webhook_targets;
    let webhooks = dispatcher_config(
        cli,
        state.webhooks.sealing_key.clone(),
        state.webhook_counters.clone(),
    );
    tracing::info!(listen = %cli.listen, region = %cli.region, "serving; docs at /docs");
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let signalled = |mut watch: tokio::sync::watch::Receiver<bool>| async move {
        let _ = watch.wait_for(|stop| *stop).await;
    };
    let serving = flexportal_server::serve(
        state,
        listener,
        signalled(stopping.clone()),
        flexportal_server::Background {
            sweep_every: Some(std::time::Duration::from_secs(60)),
            webhooks: Some(webhooks),
        },
    );
    let grace = std::time::Duration::from_secs(cli.shutdown_timeout_secs);
    tokio::select! {
        served = serving => served.map_err(|e| e.to_string())?,
        _ = async {
            signalled(stopping).await;
            tracing::info!(grace_secs = grace.as_secs(), "stopping: finishing requests and deliveries under way");
            tokio::time::sleep(grace).await;
        } => {
            return Err(format!(
                "still busy {}s after the stop signal (--shutdown-timeout); exiting with work unfinished",
                grace.as_secs()
            ));
        }
    }
    tracing::info!("stopped");
    Ok(())
}

fn file_storage(cli: &Cli) -> Result<flexportal_api::FileStorage, String> {
    let blobs = match &cli.file_store_url {
        Some(url) => flexportal_store::blobs::BlobStore::open(url),
        None => flexportal_store::blobs::BlobStore::local(&cli.data_dir.join("files")),
    }
    .map_err(|e| format!("cannot open the file store: {e}"))?;
    let public_url = match &cli.public_url {
        None => None,
        Some(url) => {
            let parsed = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .ok_or_else(|| {
                    format!("--public-url {url:?} must be an http(s) URL such as https://rentals.example.com")
                })?;
            Some(parsed.to_string().trim_end_matches('/').to_string())
        }
    };
    tracing::info!(store = blobs.name(), "file store opened");
    Ok(flexportal_api::FileStorage { blobs, public_url })
}

fn dispatcher_config(
    cli: &Cli,
    key: SealingKey,
    counters: std::sync::Arc<flexportal_domain::webhooks::DeliveryCounters>,
) -> flexportal_worker::webhooks::DispatcherConfig {
    let mut config = flexportal_worker::webhooks::DispatcherConfig::new(key, counters);
    config.allow_private_targets = cli.allow_private_webhook_targets;
    config.timeout = std::time::Duration::from_secs(cli.webhook_timeout_secs.clamp(1, 60));
    config
}

/// The key sealing webhook secrets: configured, or kept in the data directory (created with
/// owner-only permissions on first start).
fn sealing_key(cli: &Cli) -> Result<SealingKey, String> {
    if let Some(text) = &cli.secret_key {
        return SealingKey::from_text(text).ok_or_else(|| {
            "the secret key must be 64 hex digits or base64 of 32 bytes".to_string()
        });
    }
    let path = cli.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => SealingKey::from_text(&text)
            .ok_or_else(|| format!("{} does not hold a valid key", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, text) = SealingKey::generate();
            std::fs::create_dir_all(&cli.data_dir)
                .map_err(|e| format!("cannot create {}: {e}", cli.data_dir.display()))?;
            write_private(&path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "generated the key that seals webhook secrets");
            Ok(key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

fn print_welcome(made: &tenancy::Bootstrapped, listen: &str) {
    println!(
        "Created organization {} with business unit {}.",
        made.organization.organization_id, made.business_unit.tenant_id
    );
    println!(
        "Admin API key (shown once, store it now):\n\n  {}\n",
        made.admin_key.secret
    );
    println!("Try it:\n\n  curl -s http://{listen}/v1/products \\");
    println!(
        "    -H 'Authorization: Bearer {}' \\",
        made.admin_key.secret
    );
    println!("    -H 'Tenant-ID: {}'\n", made.business_unit.tenant_id);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn first_unit(db: &Db, organization: &str) -> Result<String, String> {
    let units = tenancy::list_business_units(db, organization)
        .await
        .map_err(|e| e.to_string())?;
    units
        .first()
        .map(|u| u.tenant_id.clone())
        .ok_or_else(|| format!("organization {organization} does not exist"))
}

async fn keys(cli: &Cli, db: &Db, command: &KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::Create {
            organization,
            name,
            permissions: perms,
            business_units,
            json,
        } => {
            let event_tenant = first_unit(db, organization).await?;
            let permissions: Vec<String> = perms
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            if permissions.is_empty() || permissions.iter().any(|p| !permissions::is_valid(p)) {
                return Err(
                    "--permissions must be * or a comma-separated list of <resource>:read|write|*"
                        .into(),
                );
            }
            let business_unit_ids = business_units.as_ref().map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            });
            if let Some(ids) = &business_unit_ids {
                let units = tenancy::list_business_units(db, organization)
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(bad) = ids
                    .iter()
                    .find(|id| !units.iter().any(|u| &u.tenant_id == *id))
                {
                    return Err(format!("{bad} is not a business unit of {organization}"));
                }
            }
            let created = tenancy::create_api_key(
                db,
                organization,
                &event_tenant,
                &cli.region,
                NewApiKey {
                    name: name.clone(),
                    permissions,
                    business_unit_ids,
                    expires_at: None,
                    created_by: None,
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            if *json {
                println!(
                    "{}",
                    json!({ "keyId": created.key.key_id, "apiKey": created.secret })
                );
            } else {
                println!(
                    "Created {} ({}). Secret, shown once:\n\n  {}\n",
                    created.key.key_id, created.key.name, created.secret
                );
            }
            Ok(())
        }
        KeysCommand::List { organization } => {
            let mut keys = Vec::new();
            let mut cursor = None;
            loop {
                let page = tenancy::list_api_keys(db, organization, 100, cursor)
                    .await
                    .map_err(|e| e.to_string())?;
                cursor = page.items.last().map(|k| k.key_id.clone());
                keys.extend(page.items);
                if !page.has_more {
                    break;
                }
            }
            for k in keys {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\tused {} times\tcreated {}",
                    k.key_id,
                    k.name,
                    k.permissions().join(","),
                    state,
                    k.usage_count,
                    format_instant(k.created_at)
                );
            }
            Ok(())
        }
        KeysCommand::Revoke {
            organization,
            key_id,
        } => {
            let event_tenant = first_unit(db, organization).await?;
            tenancy::revoke_api_key(db, organization, &event_tenant, key_id)
                .await
                .map_err(|e| match e {
                    flexportal_store::StoreError::NotFound => {
                        format!("{key_id} is not a key of {organization}")
                    }
                    other => other.to_string(),
                })?;
            println!("Revoked {key_id}.");
            Ok(())
        }
    }
}

async fn units(cli: &Cli, db: &Db, command: &UnitsCommand) -> Result<(), String> {
    match command {
        UnitsCommand::Create {
            organization,
            name,
            currency,
            timezone,
            vat_rate,
            vat_mode,
            default_contract_length,
            order_number_prefix,
            json,
        } => {
            let mut spec = OrganizationSpec::new(&cli.region);
            spec.business_unit_name = name.clone();
            spec.currency = currency.clone();
            spec.timezone = timezone.clone();
            validate_spec(&spec)?;
            let mut unit = spec.business_unit();
            unit.vat_rate_bp = vat_rate_bp(*vat_rate)
                .ok_or("--vat-rate must be 0 to 100 with at most two decimals")?;
            if !VAT_MODES.contains(&vat_mode.as_str()) {
                return Err("--vat-mode must be exclusive or inclusive".into());
            }
            unit.vat_mode = vat_mode.clone();
            if !flexportal_domain::catalog::CONTRACT_MONTHS.contains(default_contract_length) {
                return Err("--default-contract-length must be 1 to 120".into());
            }
            unit.default_contract_length = *default_contract_length;
            if !is_valid_prefix(order_number_prefix) {
                return Err(
                    "--order-number-prefix must be 1 to 5 upper-case letters or digits".into(),
                );
            }
            unit.order_number_prefix = order_number_prefix.clone();
            let created = tenancy::create_business_unit(db, organization, unit)
                .await
                .map_err(|e| match e {
                    flexportal_store::StoreError::NotFound => {
                        format!("organization {organization} does not exist")
                    }
                    other => other.to_string(),
                })?;
            if *json {
                println!(
                    "{}",
                    json!({ "tenantId": created.tenant_id, "organizationId": created.organization_id })
                );
            } else {
                println!(
                    "Created business unit {} ({}, {}).",
                    created.tenant_id, created.name, created.currency
                );
            }
            Ok(())
        }
        UnitsCommand::List { organization } => {
            for u in tenancy::list_business_units(db, organization)
                .await
                .map_err(|e| e.to_string())?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.tenant_id, u.name, u.region, u.currency, u.timezone
                );
            }
            Ok(())
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
