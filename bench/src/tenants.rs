//! Many small business units against one large one, same database, same total of orders: a mix
//! of creates, first pages and reads by id, spread over 1,000 units of 100 orders or aimed at one
//! unit of 100,000. Everything a request touches is keyed by tenant first, so the spread should
//! cost what the concentration does (goal ≥ 0.9).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use flexportal_client::{Client, RawRequest};
use flexportal_store::tenancy;
use serde_json::json;

use crate::report::Measure;
use crate::server::Running;
use crate::throughput;

const CONCURRENCY: usize = 16;

pub async fn run(url: &str, units: usize, per_unit: usize) -> Result<Vec<Measure>, String> {
    let running = crate::server::start(url, |_| {}).await?;
    let big = crate::pages::seed(&running, units * per_unit).await?;
    let measures = measure(&running, big, units, per_unit).await?;
    running.stop().await;
    Ok(measures)
}

/// `big` are the orders already on the running server's own unit; adds `units` units of
/// `per_unit` orders and compares the mix on both.
pub async fn measure(
    running: &Running,
    big: Vec<String>,
    units: usize,
    per_unit: usize,
) -> Result<Vec<Measure>, String> {
    let started = std::time::Instant::now();
    let spec = flexportal_server::OrganizationSpec::new("eu");
    let mut clients = Vec::with_capacity(units);
    let mut made = Vec::with_capacity(units);
    for u in 0..units {
        let mut new_unit = spec.business_unit();
        new_unit.name = format!("Unit {u}");
        let unit = tenancy::create_business_unit(&running.db, &running.organization_id, new_unit)
            .await
            .map_err(|e| e.to_string())?;
        let client = running.client.with_tenant(&unit.tenant_id);
        crate::pages::prepare_unit(&client).await?;
        clients.push(client);
        made.push(Arc::new(unit));
    }
    let ids = crate::pages::create_orders(&running.db, &made, "small", units * per_unit).await?;
    println!(
        "{units} business units of {per_unit} orders made in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let small: Vec<(Client, Arc<Vec<String>>)> = clients
        .into_iter()
        .zip(ids)
        .map(|(client, ids)| (client, Arc::new(ids)))
        .collect();
    let one = vec![(running.client.clone(), Arc::new(big))];
    // Making the units moved the auth epoch, which empties the server's cache of verified keys.
    // Without this, the first block on many units pays a key lookup on each unit's first request
    // and the one unit pays it once; an integration calling steadily finds its key cached.
    for (client, _) in small.iter().chain(&one) {
        let answer = client
            .send(RawRequest::get("/v1/business-units/current"))
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("warming the key cache: {}", answer.status));
        }
    }

    // Blocks in the order one, many, many, one, so drift weighs on both alike; several rounds,
    // because one round of 8,000 requests moved by ±0.05 from run to run.
    let (one_kinds, many_kinds) = (Kinds::default(), Kinds::default());
    let (mut one_rates, mut many_rates) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let one_first = mixed(&one, format!("one-{round}a"), BLOCK, &one_kinds).await?;
        let many_first = mixed(&small, format!("many-{round}a"), BLOCK, &many_kinds).await?;
        let many_second = mixed(&small, format!("many-{round}b"), BLOCK, &many_kinds).await?;
        let one_second = mixed(&one, format!("one-{round}b"), BLOCK, &one_kinds).await?;
        let (one_round, many_round) = (
            per_block_mean(&[one_first, one_second]),
            per_block_mean(&[many_first, many_second]),
        );
        println!("round {round}: many/one = {:.2}", many_round / one_round);
        one_rates.extend([one_first, one_second]);
        many_rates.extend([many_first, many_second]);
    }
    let by_kind: Vec<String> = (0..KINDS.len())
        .map(|kind| format!("{:.2}", many_kinds.mean_ms(kind) / one_kinds.mean_ms(kind)))
        .collect();
    for (kind, name) in KINDS.iter().enumerate() {
        println!(
            "{name}: mean {:.2} ms on {units} units, {:.2} ms on one unit",
            many_kinds.mean_ms(kind),
            one_kinds.mean_ms(kind)
        );
    }
    let (one_rate, many_rate) = (per_block_mean(&one_rates), per_block_mean(&many_rates));
    println!(
        "mixed requests: {units} units {many_rate:.0}/s, one unit {one_rate:.0}/s; many/one = {:.2}",
        many_rate / one_rate
    );
    Ok(vec![
        Measure::at_least(
            format!(
                "requests/s, {units} units × {per_unit} orders / 1 unit × {}",
                units * per_unit
            ),
            many_rate / one_rate,
            0.9,
        ),
        Measure::info(
            "mixed requests/s on one unit (¼ create, ¼ first page, ½ read by id)",
            format!("{one_rate:.0}"),
        ),
        Measure::info(
            "mean latency many units / one unit: create · first page of 20 · read by id",
            by_kind.join(" · "),
        ),
    ])
}

/// Requests in one block of the mix, and rounds of four blocks.
const BLOCK: usize = 4_000;
const ROUNDS: usize = 3;

/// Requests per second over blocks of equal size: all requests over all the time they took.
fn per_block_mean(rates: &[f64]) -> f64 {
    rates.len() as f64 / rates.iter().map(|rate| 1.0 / rate).sum::<f64>()
}

const KINDS: [&str; 3] = ["create", "first page of 20", "read by id"];

/// Time spent answering each kind of request in a mix, and how many answered; a ratio of means
/// shows which kind makes the difference between two mixes.
#[derive(Clone, Default)]
struct Kinds(Arc<[(AtomicU64, AtomicU64); 3]>);

impl Kinds {
    fn record(&self, kind: usize, took: std::time::Duration) {
        let (micros, count) = &self.0[kind];
        micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        count.fetch_add(1, Ordering::Relaxed);
    }

    fn mean_ms(&self, kind: usize) -> f64 {
        let (micros, count) = &self.0[kind];
        micros.load(Ordering::Relaxed) as f64 / count.load(Ordering::Relaxed).max(1) as f64 / 1000.0
    }
}

/// One block of the mix: `requests` calls cycling over `units`: a create, a first page of 20, two reads by id.
async fn mixed(
    units: &[(Client, Arc<Vec<String>>)],
    tag: String,
    requests: usize,
    kinds: &Kinds,
) -> Result<f64, String> {
    // Marks where each block begins, for a profiler attached to this process.
    println!("mix {tag}: {requests} requests on {} units", units.len());
    let units = Arc::new(units.to_vec());
    let (side, this_block) = (kinds.clone(), Kinds::default());
    let block = this_block.clone();
    let email_tag: Arc<str> = tag.as_str().into();
    let next = Arc::new(AtomicUsize::new(0));
    let rate = throughput(requests, CONCURRENCY, move || {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let (client, ids) = units[(k / 4) % units.len()].clone();
        let (side, block, email_tag) = (side.clone(), block.clone(), email_tag.clone());
        async move {
            let kind = (k % 4).min(2);
            let request = match k % 4 {
                0 => RawRequest::post(
                    "/v1/orders",
                    json!({
                        "customer": { "email": format!("{email_tag}{k}@example.com"), "firstName": "Mix", "lastName": "Buyer" },
                        "billingAddress": { "contactName": "M", "streetAddress": "1 St", "city": "Utrecht", "country": "NL" },
                        "items": [{ "sku": "DESK-A", "quantity": 1, "contractLength": 12 }]
                    }),
                ),
                1 => RawRequest::get("/v1/orders?limit=20"),
                _ => RawRequest::get(format!("/v1/orders/{}", ids[(k * 7_919) % ids.len()])),
            };
            let sent = std::time::Instant::now();
            let answer = client.send(request).await.map_err(|e| e.to_string())?;
            side.record(kind, sent.elapsed());
            block.record(kind, sent.elapsed());
            if answer.status >= 300 {
                return Err(format!("mixed request {}: {}", k % 4, answer.status));
            }
            Ok(())
        }
    })
    .await?;
    let means: Vec<String> = (0..KINDS.len())
        .map(|kind| format!("{:.2}", this_block.mean_ms(kind)))
        .collect();
    println!(
        "mix {tag}: {rate:.0} requests/s; mean ms {}: {}",
        KINDS.join(" · "),
        means.join(" · ")
    );
    Ok(rate)
}
