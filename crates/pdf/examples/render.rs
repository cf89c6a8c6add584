//! Renders one contract (three devices, 24 monthly payments) N times (default 50) and prints its
//! page count, size and mean render time. Timings belong here, not in tests; run it in release:
//!
//! ```sh
//! cargo run --release -p flexportal-pdf --example render -- [N] [--out DIR]
//! ```
//!
//! With `--out DIR` it also writes a sample of every document kind there, for looking at.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use flexportal_pdf::{ContractKind, render_contract, render_invoice};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut runs = 50usize;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next(),
            n => runs = n.parse()?,
        }
    }
    let contract = common::contract(ContractKind::Order, 24);

    let start = Instant::now();
    flexportal_pdf::warm_up();
    let warm_up = start.elapsed();

    let start = Instant::now();
    let first = render_contract(&contract)?;
    let first_render = start.elapsed();

    // typst memoizes layout across renders, so the same data again costs less than a new
    // document; a server mostly renders new ones, so both are measured.
    let start = Instant::now();
    for _ in 0..runs {
        let pdf = render_contract(&contract)?;
        assert_eq!(pdf.len(), first.len());
    }
    let mean_same = start.elapsed() / u32::try_from(runs.max(1))?;

    let start = Instant::now();
    for i in 0..runs {
        let mut distinct = contract.clone();
        distinct.number = format!("C-2025-{i:06}");
        distinct.customer.name = format!("Customer {i}");
        render_contract(&distinct)?;
    }
    let mean_distinct = start.elapsed() / u32::try_from(runs.max(1))?;

    let (_, pages) = common::text_and_pages(&first);
    println!("contract: 3 devices, 24 payments");
    println!("pages: {pages}");
    println!("bytes: {}", first.len());
    println!("warm-up (fonts, library, templates): {:.1} ms", ms(warm_up));
    println!("first render: {:.1} ms", ms(first_render));
    println!("mean of {runs} renders, same data: {:.1} ms", ms(mean_same));
    println!(
        "mean of {runs} renders, each a new contract: {:.1} ms",
        ms(mean_distinct)
    );

    let invoice = common::invoice();
    let start = Instant::now();
    let invoice_pdf = render_invoice(&invoice)?;
    println!(
        "invoice: {} bytes, {} page(s), {:.1} ms",
        invoice_pdf.len(),
        common::text_and_pages(&invoice_pdf).1,
        ms(start.elapsed())
    );

    if let Some(dir) = out {
        std::fs::create_dir_all(&dir)?;
        for (name, kind, months) in [
            ("contract-order-12", ContractKind::Order, 12),
            ("contract-order-60", ContractKind::Order, 60),
            ("contract-extension-24", ContractKind::Extension, 24),
            ("contract-upgrade-24", ContractKind::Upgrade, 24),
        ] {
            std::fs::write(
                format!("{dir}/{name}.pdf"),
                render_contract(&common::contract(kind, months))?,
            )?;
        }
        let mut hostile = common::contract(ContractKind::Order, 6);
        hostile.customer.name = r"#set text(red) $x$ *bold* = Heading <lbl> @ref \".into();
        hostile.notes = Some(r#"#read("/etc/passwd") #import "@preview/x:0.1.0": *"#.into());
        std::fs::write(
            format!("{dir}/contract-typst-syntax.pdf"),
            render_contract(&hostile)?,
        )?;
        std::fs::write(format!("{dir}/invoice.pdf"), &invoice_pdf)?;
        println!("samples written to {dir}");
    }
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
