//! Renders real documents and reads them back with lopdf: what a person would see must be in the
//! PDF's text.

mod common;

use common::*;
use flexportal_pdf::{ContractKind, PdfError, Totals, render_contract, render_invoice};

/// Typst markup, code, math, labels, references and escapes all in one name.
const TYPST_NAME: &str = r"#set text(red) $x$ *bold* = Heading <lbl> @ref \";

fn strip_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn contract_with_three_items_and_twelve_payments() {
    let contract = contract(ContractKind::Order, 12);
    let pdf = render_contract(&contract).expect("renders");
    assert!(pdf.starts_with(b"%PDF-"));
    let (text, pages) = text_and_pages(&pdf);
    assert!(pages >= 1);

    for expected in [
        "Rental Contract",
        "C-2025-000417",
        "ord_01JH8Z4Q",
        "Jana Fischer",
        "Nordlicht Design AG",
        "jana.fischer@nordlicht.example",
        "Gerätewerk Leasing GmbH",
        "Torstraße 140",
        // Monthly net per item, the VAT and gross per item, the monthly totals.
        "79.00 EUR",
        "39.00 EUR",
        "49.90 EUR",
        "15.01 EUR",
        "94.01 EUR",
        "167.90 EUR",
        "31.90 EUR",
        "199.80 EUR",
        "19%",
        "12 months",
        // Schedule: first, clamped month ends, last, and the sum.
        "2025-01-31",
        "2025-02-28",
        "2025-04-30",
        "2025-09-30",
        "2025-12-31",
        "2,397.60 EUR",
        // Buyout and early-return terms.
        "plus 12.5% of its list price",
        "a fee of 50% of the payments still due",
        "within 14 days of the start",
        // Notes keep their line break as a break, both lines present.
        "Delivery to the reception desk, 2nd floor.",
        "Invoices by email only.",
        // Signature block.
        "Place, date",
        "Lessor: Max Weber, Gerätewerk Leasing GmbH",
        "Customer: Jana Fischer, Nordlicht Design AG",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    for serial in SERIALS {
        assert!(text.contains(serial), "{serial} missing");
    }
    assert_eq!(
        text.matches("199.80 EUR").count(),
        1 + 12,
        "the gross monthly total once, then every scheduled payment"
    );
    assert!(text.contains(&format!("Page 1 of {pages}")));
}

#[test]
fn invoice_shows_number_lines_vat_and_gross() {
    let pdf = render_invoice(&invoice()).expect("renders");
    let (text, pages) = text_and_pages(&pdf);
    assert_eq!(pages, 1);
    for expected in [
        "Invoice",
        "INV-2025-00093",
        "2025-02-01",
        "2025-02-15",
        "2025-02-01 – 2025-02-28",
        "Jana Fischer",
        "DE987654321",
        "MacBook Pro 14\" rental, February",
        "ren_01JH9A SN-MBP-4471-A",
        "iPhone 16 rental, February",
        "Delivery fee",
        "79.00 EUR",
        "15.01 EUR",
        "94.01 EUR",
        "1.05 EUR",
        "Total net 133.00 EUR",
        "VAT 19% on 118.00 EUR 22.42 EUR",
        "VAT 7% on 15.00 EUR 1.05 EUR",
        "Total due 156.47 EUR",
        "RF18 5390 0754 7034",
        "IBAN DE89 3704 0044 0532 0130 00",
        "Thank you for renting with us.",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn typst_syntax_in_customer_data_prints_literally() {
    let hostile = [
        TYPST_NAME,
        r#"#read("/etc/passwd") #import "@preview/cetz:0.3.0": * ]) } // /* "#,
        r#"#eval("1 + 1") #panic("x") <a> @a [x](y) _under_ `raw` ~ -- --- ... 'q' "q""#,
    ];
    let mut contract = contract(ContractKind::Order, 3);
    contract.customer.name = TYPST_NAME.into();
    contract.customer.company = Some(hostile[1].into());
    contract.customer.address = vec![hostile[2].into()];
    contract.items[0].product = hostile[2].into();
    contract.items[1].serial_number = Some(r"SN-#x\$".into());
    contract.notes = Some(format!("{}\n{}", hostile[1], TYPST_NAME));
    contract.number = "C-<lbl>-#1".into();

    let pdf = render_contract(&contract).expect("typst syntax in data is only text");
    let (text, _) = text_and_pages(&pdf);
    let squashed = strip_whitespace(&text);
    for literal in hostile.iter().copied().chain([r"SN-#x\$", "C-<lbl>-#1"]) {
        assert!(
            squashed.contains(&strip_whitespace(literal)),
            "{literal:?} not printed literally in:\n{text}"
        );
    }
    // Whitespace included, on one line, the name prints exactly as given.
    assert!(
        text.contains(TYPST_NAME),
        "{TYPST_NAME:?} missing from:\n{text}"
    );

    let mut invoice = invoice();
    invoice.buyer.name = TYPST_NAME.into();
    invoice.lines[0].description = hostile[1].into();
    invoice.payment_reference = "#ref <x>".into();
    let pdf = render_invoice(&invoice).expect("typst syntax in data is only text");
    let (text, _) = text_and_pages(&pdf);
    let squashed = strip_whitespace(&text);
    for literal in [TYPST_NAME, hostile[1], "#ref <x>"] {
        assert!(
            squashed.contains(&strip_whitespace(literal)),
            "{literal:?} not printed literally in:\n{text}"
        );
    }
}

#[test]
fn extension_and_upgrade_have_their_own_titles() {
    for (kind, title, sentence) in [
        (
            ContractKind::Extension,
            "Contract Extension",
            "extend the rental of the devices listed below under contract C-2024-000128",
        ),
        (
            ContractKind::Upgrade,
            "Upgrade Contract",
            "exchanges the device rented under contract C-2024-000128",
        ),
    ] {
        let pdf = render_contract(&contract(kind, 12)).expect("renders");
        let (text, _) = text_and_pages(&pdf);
        assert!(text.contains(title), "{title} missing from:\n{text}");
        assert!(
            text.contains(sentence),
            "{sentence:?} missing from:\n{text}"
        );
        assert!(text.contains("PREVIOUS CONTRACT C-2024-000128"), "{text}");
        assert!(!text.contains("Rental Contract"));
    }
}

#[test]
fn sixty_payments_span_more_pages_than_twelve() {
    let (_, short_pages) =
        text_and_pages(&render_contract(&contract(ContractKind::Order, 12)).expect("renders"));
    let long = contract(ContractKind::Order, 60);
    let (text, long_pages) = text_and_pages(&render_contract(&long).expect("renders"));
    assert!(
        long_pages > short_pages,
        "{long_pages} pages for 60 payments, {short_pages} for 12"
    );
    assert_eq!(due_date(&long, 59).to_string(), "2029-12-31");
    for expected in [
        "2025-01-31",
        "2027-02-28",
        "2028-02-29",
        "2029-12-31",
        "11,988.00 EUR",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert_eq!(text.matches("199.80 EUR").count(), 1 + 60);
    // The schedule's column headings repeat on the page it continues on.
    assert!(text.matches("Due date").count() > 2, "{text}");
    assert!(text.contains(&format!("Page {long_pages} of {long_pages}")));
}

#[test]
fn unassigned_serial_prints_a_placeholder() {
    let mut contract = contract(ContractKind::Order, 12);
    contract.items[2].serial_number = None;
    let (text, _) = text_and_pages(&render_contract(&contract).expect("renders"));
    assert!(text.contains("assigned on delivery"));
    assert!(!text.contains(SERIALS[2]));
}

#[test]
fn same_data_gives_the_same_bytes() {
    let contract = contract(ContractKind::Order, 12);
    let first = render_contract(&contract).expect("renders");
    let second = render_contract(&contract).expect("renders");
    assert!(first == second, "rendering is not reproducible");
}

#[test]
fn renders_concurrently() {
    let expected = render_invoice(&invoice()).expect("renders");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                scope.spawn(move || {
                    if i % 2 == 0 {
                        render_invoice(&invoice()).map(Some)
                    } else {
                        render_contract(&contract(ContractKind::Upgrade, 24)).map(|_| None)
                    }
                })
            })
            .collect();
        for handle in handles {
            match handle.join().expect("no panic") {
                Ok(Some(pdf)) => assert!(pdf == expected),
                Ok(None) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
    });
}

#[test]
fn incoherent_data_is_refused_without_echoing_it() {
    let mut contract = contract(ContractKind::Order, 12);
    contract.customer.name = "Secret Customer".into();
    contract.monthly_totals = Totals {
        net: 1,
        vat: 2,
        gross: 3,
    };
    let err = render_contract(&contract).expect_err("totals do not add up");
    assert!(matches!(err, PdfError::InvalidInput(_)));
    assert!(!err.to_string().contains("Secret"));

    let mut invoice = invoice();
    invoice.currency = "euro".into();
    let err = render_invoice(&invoice).expect_err("not an ISO code");
    assert_eq!(
        err.to_string(),
        "invalid document data: the currency is not an ISO 4217 code"
    );
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Each case is a full render (about a tenth of a second in debug): few cases, but every
        // one mixes typst's special characters at random.
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn any_customer_name_prints_literally(
            name in r#"[#$*_=<>@\\\[\](){}"'`/~+.:;, a-zA-Z0-9äß-]{1,60}"#
                .prop_filter("has a visible character", |s| !s.trim().is_empty())
        ) {
            let mut contract = contract(ContractKind::Order, 1);
            contract.customer.name = name.clone();
            let pdf = render_contract(&contract).expect("renders");
            let (text, _) = text_and_pages(&pdf);
            prop_assert!(
                strip_whitespace(&text).contains(&strip_whitespace(&name)),
                "{:?} missing from {}", name, text
            );
        }
    }
}

#[test]
fn documents_without_any_optional_part_render() {
    use flexportal_pdf::{BusinessUnit, BuyoutTerms, Customer, EarlyReturnFee, EarlyReturnTerms};
    let mut contract = contract(ContractKind::Order, 0);
    contract.lessor = BusinessUnit {
        name: "Lessor".into(),
        ..BusinessUnit::default()
    };
    contract.customer = Customer {
        name: "Customer".into(),
        ..Customer::default()
    };
    contract.reference = None;
    contract.notes = None;
    contract.lessor_signatory = None;
    contract.lessor_place = None;
    contract.buyout = BuyoutTerms::NotOffered;
    contract.early_return = EarlyReturnTerms {
        fee: EarlyReturnFee::NoFee,
        grace_period_days: 0,
    };
    for item in &mut contract.items {
        item.variant = None;
        item.serial_number = None;
    }
    let (text, _) = text_and_pages(&render_contract(&contract).expect("renders"));
    for expected in [
        "No payments are scheduled",
        "cannot be bought out",
        "before the end of its term at no charge",
        "Customer: Customer",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("days of the start"));

    let mut invoice = invoice();
    invoice.seller = contract.lessor.clone();
    invoice.buyer = contract.customer.clone();
    invoice.billing_period = None;
    invoice.payment_instructions.clear();
    invoice.notes = None;
    for line in &mut invoice.lines {
        line.reference = None;
    }
    let (text, _) = text_and_pages(&render_invoice(&invoice).expect("renders"));
    assert!(!text.contains("Service period"));
    assert!(text.contains("Total due 156.47 EUR"));
}

#[test]
fn names_in_other_scripts_render() {
    // The embedded fonts cover Latin, Greek and Cyrillic; other scripts have no glyphs there and
    // print as empty boxes, but they must not make the render fail.
    let mut contract = contract(ContractKind::Order, 12);
    contract.customer.name = "Дмитрий Иванов · Ελένη Παπαδοπούλου".into();
    contract.customer.company = Some("王小明 有限公司 😀 مرحبا".into());
    let (text, _) = text_and_pages(&render_contract(&contract).expect("renders"));
    assert!(
        text.contains("Дмитрий Иванов · Ελένη Παπαδοπούλου"),
        "{text}"
    );
}
