//! Fixtures and PDF text extraction shared by the integration tests and the example.

#![allow(dead_code)]

use flexportal_pdf::{
    BillingPeriod, BusinessUnit, BuyoutTerms, Contract, ContractItem, ContractKind, Customer,
    EarlyReturnFee, EarlyReturnTerms, Invoice, InvoiceLine, ScheduledPayment, Totals,
};
use jiff::ToSpan;
use jiff::civil::{Date, date};

pub fn lessor() -> BusinessUnit {
    BusinessUnit {
        name: "Gerätewerk Leasing GmbH".into(),
        address: vec![
            "Torstraße 140".into(),
            "10119 Berlin".into(),
            "Germany".into(),
        ],
        email: Some("contracts@geraetewerk.example".into()),
        phone: Some("+49 30 1234567".into()),
        vat_id: Some("DE123456789".into()),
        registration: Some("Amtsgericht Charlottenburg HRB 765432".into()),
    }
}

pub fn customer(name: &str) -> Customer {
    Customer {
        name: name.into(),
        company: Some("Nordlicht Design AG".into()),
        email: Some("jana.fischer@nordlicht.example".into()),
        address: vec![
            "Hafenweg 7".into(),
            "20457 Hamburg".into(),
            "Germany".into(),
        ],
        vat_id: Some("DE987654321".into()),
    }
}

pub const SERIALS: [&str; 3] = ["SN-MBP-4471-A", "SN-IPH-9920-B", "SN-EBK-1307-C"];

/// Three devices (79.00 + 39.00 + 49.90 net a month at 19 %) and `months` monthly payments.
pub fn contract(kind: ContractKind, months: usize) -> Contract {
    let items = vec![
        item(
            "MacBook Pro 14\"",
            Some("M4, 16 GB, 512 GB, Space Black"),
            SERIALS[0],
            7_900,
        ),
        item("iPhone 16", Some("128 GB, Ultramarine"), SERIALS[1], 3_900),
        item("Urban e-bike", Some("Frame M, 500 Wh"), SERIALS[2], 4_990),
    ];
    let net: i64 = items.iter().map(|i| i.monthly_net).sum();
    let vat: i64 = items.iter().map(|i| i.monthly_vat).sum();
    let start = date(2025, 1, 31);
    let schedule = (0..months)
        .map(|m| ScheduledPayment {
            // jiff clamps the 31st to the month's last day, as the billing calendar does.
            due_date: start.saturating_add((m as i32).months()),
            amount: net + vat,
        })
        .collect();
    Contract {
        kind,
        number: "C-2025-000417".into(),
        reference: Some(match kind {
            ContractKind::Order => "ord_01JH8Z4Q".into(),
            _ => "C-2024-000128".into(),
        }),
        date: date(2025, 1, 20),
        currency: "EUR".into(),
        lessor: lessor(),
        customer: customer("Jana Fischer"),
        items,
        monthly_totals: Totals {
            net,
            vat,
            gross: net + vat,
        },
        schedule,
        buyout: BuyoutTerms::RemainingMonthsPlusListPricePercentage {
            percentage_bp: 1_250,
        },
        early_return: EarlyReturnTerms {
            fee: EarlyReturnFee::RemainingMonthsPercentage {
                percentage_bp: 5_000,
            },
            grace_period_days: 14,
        },
        notes: Some("Delivery to the reception desk, 2nd floor.\nInvoices by email only.".into()),
        lessor_signatory: Some("Max Weber".into()),
        lessor_place: Some("Berlin".into()),
    }
}

fn item(product: &str, variant: Option<&str>, serial: &str, net: i64) -> ContractItem {
    ContractItem {
        product: product.into(),
        variant: variant.map(Into::into),
        serial_number: Some(serial.into()),
        term_months: 12,
        monthly_net: net,
        vat_rate_bp: 1_900,
        // 19 %, rounded half up in minor units.
        monthly_vat: (net * 1_900 + 5_000) / 10_000,
    }
}

pub fn invoice() -> Invoice {
    let lines = vec![
        line(
            "MacBook Pro 14\" rental, February",
            "ren_01JH9A SN-MBP-4471-A",
            7_900,
            1_900,
        ),
        line(
            "iPhone 16 rental, February",
            "ren_01JH9B SN-IPH-9920-B",
            3_900,
            1_900,
        ),
        line("Delivery fee", "ord_01JH8Z4Q", 1_500, 700),
    ];
    let net = lines.iter().map(|l| l.net).sum();
    let vat = lines.iter().map(|l| l.vat).sum();
    Invoice {
        number: "INV-2025-00093".into(),
        issue_date: date(2025, 2, 1),
        due_date: date(2025, 2, 15),
        currency: "EUR".into(),
        seller: lessor(),
        buyer: customer("Jana Fischer"),
        billing_period: Some(BillingPeriod {
            start: date(2025, 2, 1),
            end: date(2025, 2, 28),
        }),
        lines,
        totals: Totals {
            net,
            vat,
            gross: net + vat,
        },
        payment_reference: "RF18 5390 0754 7034".into(),
        payment_instructions: vec![
            "Berliner Testbank".into(),
            "IBAN DE89 3704 0044 0532 0130 00".into(),
            "BIC COBADEFFXXX".into(),
        ],
        notes: Some("Thank you for renting with us.".into()),
    }
}

fn line(description: &str, reference: &str, net: i64, rate_bp: u32) -> InvoiceLine {
    InvoiceLine {
        description: description.into(),
        reference: Some(reference.into()),
        net,
        vat_rate_bp: rate_bp,
        vat: (net * i64::from(rate_bp) + 5_000) / 10_000,
    }
}

pub fn due_date(contract: &Contract, index: usize) -> Date {
    contract.schedule[index].due_date
}

/// The PDF's text with runs of whitespace made single spaces, and its page count.
pub fn text_and_pages(pdf: &[u8]) -> (String, usize) {
    let doc = lopdf::Document::load_mem(pdf).expect("the output parses as a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc
        .extract_text(&pages)
        .expect("text extracts from every page");
    (
        text.split_whitespace().collect::<Vec<_>>().join(" "),
        pages.len(),
    )
}
