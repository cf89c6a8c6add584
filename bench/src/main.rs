//! Load and scale measurements of flexportal, printed as ratios measured in one run, so a noisy
//! or slow machine does not change the conclusions.
//!
//! `cargo run --release -p bench -- all` runs every measurement on SQLite and on PostgreSQL and
//! prints one table; the other commands run one measurement on one database (README.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_client::ProductQuery;
use flexportal_store::list::SortColumn;
use flexportal_store::products::{self, ProductFilters};

mod export;
mod http;
mod memory;
mod orders;
mod pages;
mod proc_file;
mod report;
mod scale;
mod server;
mod sweep;
mod tenants;
mod webhooks;

use report::Measure;

/// The server binary's allocator, so the server measured in this process allocates as it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[tokio::main]
async fn main() -> Result<(), String> {
    flexportal_worker::webhooks::install_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.first().map(String::as_str) {
        Some(
            command @ ("all" | "sweep" | "webhooks" | "orders" | "pages" | "tenants" | "scale"
            | "memory" | "export"),
        ) => (command, &args[1..]),
        _ => ("catalog", &args[..]),
    };
    if command == "all" {
        let divisor = rest.first().and_then(|a| a.parse().ok()).unwrap_or(1);
        return all(divisor).await;
    }
    let url = rest.first().cloned().unwrap_or_else(scratch_sqlite);
    let number =
        |i: usize, default: usize| rest.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let measures = match command {
        "sweep" => sweep::run(&url, number(1, 5_000), number(2, 50_000)).await?,
        "webhooks" => webhooks::run(&url, number(1, 3_000), number(2, 8)).await?,
        "orders" => orders::run(&url, number(1, 3_000), number(2, 16)).await?,
        "pages" => pages::run(&url, number(1, 100_000)).await?,
        "tenants" => tenants::run(&url, number(1, 1_000), number(2, 100)).await?,
        "scale" => {
            let sizes = [number(1, 10_000), number(2, 100_000), number(3, 1_000_000)];
            scale::run(&url, &sizes).await?
        }
        "memory" => memory::run(&url, number(1, 3_000), number(2, 16)).await?,
        "export" => export::run(&url, number(1, 100_000)).await?,
        _ => return catalog(url, rest).await,
    };
    println!(
        "\n{}",
        report::table(&[(server::database_name(&url), measures)])
    );
    Ok(())
}

/// Every measurement on a fresh SQLite file and a fresh PostgreSQL database each, sizes divided
/// by `divisor` (1 for the real run), and one table of the results.
async fn all(divisor: usize) -> Result<(), String> {
    let divisor = divisor.max(1);
    let admin = std::env::var("FLEXPORTAL_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_string());
    let began = Instant::now();
    let mut columns = Vec::new();
    for database in ["SQLite", "PostgreSQL"] {
        let mut measures = Vec::new();
        for step in ["orders", "pages and tenants", "scale", "webhooks", "memory"] {
            let url = if database == "SQLite" {
                scratch_sqlite()
            } else {
                server::fresh_postgres(&admin).await?
            };
            println!("\n== {database}: {step}");
            let started = Instant::now();
            let got = one_step(step, &url, divisor).await;
            if database == "SQLite" {
                remove_scratch(&url);
            } else {
                server::drop_postgres(&admin, &url).await?;
            }
            measures.extend(got?);
            println!("({step} took {:.0} s)", started.elapsed().as_secs_f64());
        }
        columns.push((database, measures));
    }
    println!(
        "\n{}\nEvery measurement in {:.0} s; sizes divided by {divisor}.\n",
        machine(),
        began.elapsed().as_secs_f64()
    );
    println!("{}", report::table(&columns));
    Ok(())
}

async fn one_step(step: &str, url: &str, divisor: usize) -> Result<Vec<Measure>, String> {
    let n = |count: usize| (count / divisor).max(1);
    match step {
        "orders" => orders::run(url, n(3_000), 16).await,
        "pages and tenants" => {
            let running = server::start(url, |_| {}).await?;
            let big = pages::seed(&running, n(100_000)).await?;
            let mut measures = pages::walk_every_sort(&running.client).await?;
            measures.extend(tenants::measure(&running, big, n(1_000), 100).await?);
            running.stop().await;
            Ok(measures)
        }
        "scale" => {
            // Each size ten times the last, so each adds copies that are due.
            let smallest = n(10_000).max(1_000);
            let sizes = [smallest, smallest * 10, smallest * 100];
            scale::run(url, &sizes).await
        }
        "webhooks" => webhooks::run(url, n(3_000), 8).await,
        "memory" => memory::run(url, n(3_000), 16).await,
        _ => Err(format!("no step {step}")),
    }
}

/// The processor, core count and memory of this machine, and the date, for the results file.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown processor".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = proc_file::number("/proc/meminfo", "MemTotal").map_or(String::new(), |kib| {
        format!(", {:.0} GiB", kib as f64 / 1024.0 / 1024.0)
    });
    let today = flexportal_domain::time::today_in(&flexportal_domain::time::time_zone("UTC"));
    format!("Machine: {cpu}, {cores} cores{memory}; {today}.")
}

/// The folder a [`scratch_sqlite`] database lives in, gone.
fn remove_scratch(url: &str) {
    if let Some(folder) = url
        .strip_prefix("sqlite://")
        .and_then(|path| std::path::Path::new(path).parent())
    {
        let _ = std::fs::remove_dir_all(folder);
    }
}

/// The catalog: imports products through the CSV endpoint, walks every page and compares the
/// list through HTTP with the store's own query.
async fn catalog(url: String, rest: &[String]) -> Result<(), String> {
    let number =
        |i: usize, default: usize| rest.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (product_count, requests, concurrency) =
        (number(1, 10_000), number(2, 4_000), number(3, 16));

    let running = server::start(&url, |_| {}).await?;
    let (db, client, tenant) = (running.db, running.client, running.tenant_id);

    let started = Instant::now();
    for chunk in 0..product_count.div_ceil(5_000) {
        let rows = (product_count - chunk * 5_000).min(5_000);
        let mut csv = String::from(
            "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price,24mo_Price\n",
        );
        for i in chunk * 5_000..chunk * 5_000 + rows {
            csv.push_str(&format!(
                "Device {},SKU-{i:06},Laptops,Acme,spec,VAR-{i:06},999,600,49,39\n",
                i % 500
            ));
        }
        client
            .import_products_csv(&csv)
            .await
            .map_err(|e| e.to_string())?;
    }
    let import_secs = started.elapsed().as_secs_f64();
    println!(
        "database: {}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "imported {product_count} products in {import_secs:.2} s ({:.0} rows/s)",
        product_count as f64 / import_secs
    );

    // Every page of the catalog, 100 at a time, sorted by name.
    let mut page_times = Vec::new();
    let mut cursor = None;
    loop {
        let query = ProductQuery {
            limit: Some(100),
            sort_by: Some("productName".into()),
            start_after: cursor.clone(),
            ..Default::default()
        };
        let at = Instant::now();
        let page = client
            .list_products(&query)
            .await
            .map_err(|e| e.to_string())?;
        page_times.push(at.elapsed());
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let window = 10.min(page_times.len());
    let first = median(&page_times[..window]);
    let deep = median(&page_times[page_times.len() - window..]);
    println!(
        "pages: {} of 100; median first {window}: {:.2} ms, last {window}: {:.2} ms; deep/first = {:.2}",
        page_times.len(),
        ms(first),
        ms(deep),
        deep.as_secs_f64() / first.as_secs_f64()
    );

    // The same list query through HTTP, and straight against the store.
    let sort = products::PRODUCT_SORTS[0].1;
    let api_rate = throughput(requests, concurrency, {
        let client = client.clone();
        move || {
            let client = client.clone();
            async move {
                client
                    .list_products(&ProductQuery {
                        limit: Some(50),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    })
    .await?;
    let db_rate = throughput(requests, concurrency, {
        let (db, tenant) = (db.clone(), tenant.clone());
        move || {
            let (db, tenant) = (db.clone(), tenant.clone());
            async move { list_directly(&db, &tenant, sort).await }
        }
    })
    .await?;
    println!(
        "GET /v1/products?limit=50 x {requests}, {concurrency} at a time: API {api_rate:.0} req/s, store {db_rate:.0} queries/s; API/store = {:.2}",
        api_rate / db_rate
    );
    Ok(())
}

async fn list_directly(
    db: &flexportal_store::Db,
    tenant: &str,
    sort: SortColumn,
) -> Result<(), String> {
    products::list(db, tenant, ProductFilters::default(), sort, true, 50, None)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Runs `requests` calls of `call`, `concurrency` at a time; returns calls per second.
async fn throughput<F, Fut>(requests: usize, concurrency: usize, call: F) -> Result<f64, String>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let call = Arc::new(call);
    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(requests));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (call, remaining) = (call.clone(), remaining.clone());
            tokio::spawn(async move {
                while remaining
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
                {
                    call().await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}

/// A new SQLite database in the temp folder.
fn scratch_sqlite() -> String {
    format!(
        "sqlite://{}/flexportal-bench-{}/bench.db",
        std::env::temp_dir().display(),
        flexportal_domain::ids::IdKind::Event.generate()
    )
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
