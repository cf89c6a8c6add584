//! Measures the catalog API on one machine and prints ratios, so a noisy or slow machine does not
//! change the conclusions:
//!
//! - deep page / first page: keyset pagination should cost the same at any depth;
//! - API throughput / the database's own throughput for the same list query: what HTTP, auth,
//!   rate limiting and JSON add on top of the store.
//!
//! `cargo run --release -p flexportal-bench -- [database-url] [products] [requests] [concurrency]`
//! The database must be empty; by default a fresh SQLite file in the temp folder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_client::ProductQuery;
use flexportal_store::list::SortColumn;
use flexportal_store::products::{self, ProductFilters};

mod orders;
mod pages;
mod server;
mod sweep;
mod webhooks;

#[tokio::main]
async fn main() -> Result<(), String> {
    flexportal_worker::webhooks::install_tls_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.first().map(String::as_str) {
        Some(command @ ("sweep" | "webhooks" | "orders" | "pages")) => (command, &args[1..]),
        _ => ("catalog", &args[..]),
    };
    let url = rest.first().cloned().unwrap_or_else(scratch_sqlite);
    let number =
        |i: usize, default: usize| rest.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match command {
        "sweep" => return sweep::run(&url, number(1, 5_000), number(2, 50_000)).await,
        "webhooks" => return webhooks::run(&url, number(1, 3_000), number(2, 8)).await,
        "orders" => return orders::run(&url, number(1, 3_000), number(2, 16)).await,
        "pages" => return pages::run(&url, number(1, 100_000)).await,
        _ => {}
    }
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
