//! The server's resident memory, idle and under the order load: the real `flexportal` binary in
//! its own process (so the load generator's memory is not counted), read from /proc.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flexportal_client::{Client, RawRequest};
use serde_json::json;

use crate::report::Measure;

pub async fn run(url: &str, orders: usize, concurrency: usize) -> Result<Vec<Measure>, String> {
    let binary = server_binary()?;
    let db = flexportal_server::open_database(url)
        .await
        .map_err(|e| e.to_string())?;
    let made = flexportal_server::bootstrap(&db, &flexportal_server::OrganizationSpec::new("eu"))
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    let address = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        probe.local_addr().map_err(|e| e.to_string())?
    };
    let mut child = Command::new(&binary)
        .args(["--database-url", url, "--listen", &address.to_string()])
        .args(["--fair-use-per-minute", "4000000000"])
        .env("FLEXPORTAL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let pid = child.id();
    let measured = measure(pid, &address.to_string(), &made, orders, concurrency).await;
    let _ = child.kill();
    let _ = child.wait();
    measured
}

async fn measure(
    pid: u32,
    address: &str,
    made: &flexportal_store::tenancy::Bootstrapped,
    orders: usize,
    concurrency: usize,
) -> Result<Vec<Measure>, String> {
    let client = Client::new(
        format!("http://{address}"),
        &made.admin_key.secret,
        &made.business_unit.tenant_id,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client
            .send(RawRequest::get("/readyz").without_auth().without_tenant())
            .await
            .is_ok_and(|r| r.status == 200);
        if ready {
            break;
        }
        if Instant::now() > deadline {
            return Err("the server did not become ready in 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    crate::server::product(&client, "LAMP", 12, 9).await?;
    let idle = rss_kib(pid, "VmRSS")?;

    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (peak, sampling) = (peak.clone(), sampling.clone());
        async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok(now) = rss_kib(pid, "VmRSS") {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let next = Arc::new(AtomicUsize::new(0));
    let rate = crate::throughput(orders, concurrency, {
        let client = client.clone();
        move || {
            let (client, i) = (client.clone(), next.fetch_add(1, Ordering::Relaxed));
            async move {
                let answer = client
                    .send(RawRequest::post(
                        "/v1/orders",
                        json!({
                            "customer": { "email": format!("rss{i}@example.com"), "firstName": "Mem", "lastName": "Buyer" },
                            "billingAddress": { "contactName": "M", "streetAddress": "1 St", "city": "Utrecht", "country": "NL" },
                            "items": [{ "sku": "LAMP-A", "quantity": 1, "contractLength": 12 }]
                        }),
                    ))
                    .await
                    .map_err(|e| e.to_string())?;
                (answer.status == 201)
                    .then_some(())
                    .ok_or(format!("order: {}", answer.status))
            }
        }
    })
    .await?;
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let high_water = rss_kib(pid, "VmHWM")?;
    let loaded = peak.load(Ordering::Relaxed).max(high_water);
    // On SQLite part of the resident size is the database file's memory map: pages of the
    // operating system's file cache, not memory the server holds.
    let (own, mapped) = (rss_kib(pid, "RssAnon")?, rss_kib(pid, "RssFile")?);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "server RSS: idle {:.1} MiB, peak {:.1} MiB under {orders} orders at {concurrency} at a time ({rate:.0} orders/s); \
         after it, {:.1} MiB its own and {:.1} MiB mapped files",
        mib(idle),
        mib(loaded),
        mib(own),
        mib(mapped)
    );
    Ok(vec![
        Measure::info("server RSS idle", format!("{:.1} MiB", mib(idle))),
        Measure::info(
            "server RSS after the load: its own / mapped files",
            format!("{:.1} / {:.1} MiB", mib(own), mib(mapped)),
        ),
        Measure::below(
            format!("server RSS peak under the order load ({concurrency} writers)"),
            mib(loaded),
            "MiB",
            100.0,
        ),
    ])
}

/// A `Vm…` or `Rss…` line of /proc/{pid}/status, in KiB.
fn rss_kib(pid: u32, field: &str) -> Result<u64, String> {
    crate::proc_file::number(&format!("/proc/{pid}/status"), field)
        .ok_or(format!("no {field} for process {pid}"))
}

/// The release `flexportal` binary beside this one, built first when cargo runs the bench.
fn server_binary() -> Result<PathBuf, String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = here
        .parent()
        .ok_or("no directory for the bench binary")?
        .join("flexportal");
    if let Ok(cargo) = std::env::var("CARGO") {
        let built = Command::new(cargo)
            .args([
                "build",
                "--release",
                "-p",
                "flexportal",
                "--bin",
                "flexportal",
            ])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        if !built.success() {
            return Err("building the flexportal binary failed".into());
        }
    }
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing: run `cargo build --release -p flexportal` first",
            binary.display()
        ))
    }
}
