//! The contract-end sweep at two sizes: `small` due rentals, then `large` more, each swept in
//! one call. Prints each sweep's time and the per-rental cost of the large one over the small
//! one: near 1 means the sweep scales linearly (the `(status, end_date)` index finds due rentals
//! without reading the ended ones).

use std::time::Instant;

use flexportal_store::Db;
use flexportal_store::assets;
use flexportal_store::customers::CustomerFields;
use flexportal_store::orders::{self, Created, NewOrder, RequestedItem};
use flexportal_store::rentals::{self, NewRental};
use flexportal_store::tenancy::{self, BusinessUnit};

use crate::report::Measure;

/// Units per seeded order: keeps each order's line list short.
const PER_ORDER: usize = 100;
const TABLES: &[&str] = &[
    "rentals",
    "assets",
    "asset_rentals",
    "payments",
    "events",
    "orders",
    "customers",
];
/// Seeding runs this many orders at once (PostgreSQL takes them in parallel; SQLite queues them).
const SEEDERS: usize = 8;

pub async fn run(url: &str, small: usize, large: usize) -> Result<Vec<Measure>, String> {
    // The catalog goes in through the API, as an integrator's would.
    let running = crate::server::start(url, |_| {}).await?;
    let (db, tenant_id) = (running.db.clone(), running.tenant_id.clone());
    let shapes = flexportal_server::shapes();
    crate::server::product(&running.client, "BIKE", 1, 49).await?;

    let mut timings = Vec::new();
    for (round, count) in [small, large].into_iter().enumerate() {
        let unit = tenancy::business_unit(&db, &tenant_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no business unit")?;
        let seeded = Instant::now();
        seed(&db, &unit, round, count).await?;
        let seed_time = seeded.elapsed();
        let started = Instant::now();
        let report = flexportal_worker::sweep_contract_ends(&db, "eu", shapes.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        if report.ended != count {
            return Err(format!("swept {} of {count}", report.ended));
        }
        println!(
            "{count:>6} due rentals: seeded in {:>7.1} s, swept in {:>7.2} s ({:>6.0} rentals/s)",
            seed_time.as_secs_f64(),
            took.as_secs_f64(),
            count as f64 / took.as_secs_f64()
        );
        timings.push(took.as_secs_f64() / count as f64);
    }
    println!(
        "per-rental sweep cost, {large} over {small}: {:.2}",
        timings[1] / timings[0]
    );
    running.stop().await;
    Ok(vec![Measure::at_most(
        format!("contract-end sweep cost per rental, {large} due / {small} due"),
        timings[1] / timings[0],
        1.2,
    )])
}

/// `count` active rentals that ended long ago, each with its order line, asset and payment.
async fn seed(db: &Db, unit: &BusinessUnit, round: usize, count: usize) -> Result<(), String> {
    let chunks: Vec<usize> = (0..count.div_ceil(PER_ORDER)).collect();
    let start = jiff::civil::date(2020, 1, 1);
    let mut tasks = Vec::new();
    for share in chunks.chunks(chunks.len().div_ceil(SEEDERS).max(1)) {
        let (db, unit, share) = (db.clone(), unit.clone(), share.to_vec());
        tasks.push(tokio::spawn(async move {
            for (done, chunk) in share.into_iter().enumerate() {
                let units = (count - chunk * PER_ORDER).min(PER_ORDER);
                let prefix = format!("SWEEP-{round}");
                seed_order(&db, &unit, &prefix, chunk, units, start, "bench").await?;
                // Planner statistics as autovacuum would keep them (it may be off on a test
                // machine): plans made for a near-empty table are wrong for a full one.
                if done % 10 == 9 {
                    db.analyze(TABLES).await.map_err(|e| e.to_string())?;
                }
            }
            Ok::<(), String>(())
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    db.analyze(TABLES).await.map_err(|e| e.to_string())
}

/// One order of `units` one-month rentals from `start`, each on its own asset serialled
/// `{prefix}-{chunk}-{i}`, all made by `created_by`.
pub async fn seed_order(
    db: &Db,
    unit: &BusinessUnit,
    prefix: &str,
    chunk: usize,
    units: usize,
    start: jiff::civil::Date,
    created_by: &str,
) -> Result<(), String> {
    let shapes = flexportal_server::shapes();
    let wire = shapes(2);
    let new = NewOrder {
        order_type: "standard".into(),
        customer: CustomerFields {
            email: Some(format!("{}-{chunk}@example.com", prefix.to_lowercase())),
            first_name: Some("Fleet".into()),
            last_name: Some("Owner".into()),
            ..Default::default()
        },
        billing_address: r#"{"contactName":"F","streetAddress":"1 St","city":"X","country":"NL"}"#
            .into(),
        shipping_address: None,
        items: vec![RequestedItem {
            sku: "BIKE-A".into(),
            quantity: units as i64,
            contract_length: Some(1),
        }],
        custom_fields: None,
        notes: None,
        extension_details: None,
        upgrade_details: None,
        created_by: "bench".into(),
    };
    let order = match orders::create(db, unit, new, wire.as_ref())
        .await
        .map_err(|e| e.to_string())?
    {
        Created::New(o) | Created::Existing(o) => o,
    };
    let (variant, _) = assets::variant_by_sku(db, &unit.tenant_id, "BIKE-A")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no variant")?;
    for i in 0..units {
        let serial = format!("{prefix}-{chunk:05}-{i:03}");
        let asset = assets::NewAsset {
            serial_number: serial.clone(),
            status: "available".into(),
            identifier_type: "serial".into(),
            condition: None,
            location: None,
            notes: None,
            acquisition_cost: None,
            product_image_url: None,
        };
        assets::create(db, &unit.tenant_id, &variant, asset, wire.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        let rental = NewRental {
            order_id: order.order_id.clone(),
            serial_number: serial,
            customer_id: None,
            start_date: Some(start),
            contract_length: None,
            notes: None,
            created_by: created_by.into(),
            monthly_override: None,
            upgrade_from_rental_id: None,
            billing_group_id: None,
        };
        rentals::create(db, unit, rental, start, wire.as_ref())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
