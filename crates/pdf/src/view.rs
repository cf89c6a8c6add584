//! The JSON document a template reads: the caller's data checked, with every amount, rate and
//! date already turned into its printed text.
//!
//! The template only lays these strings out; it decides wording and layout, never arithmetic.
//! Strings travel as JSON string values, so the template receives them as typst `str` values and
//! no character in them can act as markup or code.

use flexportal_domain::money::is_currency_code;
use serde::Serialize;

use crate::PdfError;
use crate::format;
use crate::model::{
    BusinessUnit, BuyoutTerms, Contract, ContractKind, Customer, EarlyReturnFee, Invoice, Totals,
};

/// Bounds that keep one request from making typst lay out an unbounded document.
pub const MAX_TEXT_CHARS: usize = 2_000;
pub const MAX_NOTES_CHARS: usize = 10_000;
pub const MAX_ADDRESS_LINES: usize = 10;
pub const MAX_ITEMS: usize = 500;
pub const MAX_SCHEDULE_ROWS: usize = 360;

fn text(value: &str) -> Result<&str, PdfError> {
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(PdfError::InvalidInput("a text field is too long"));
    }
    Ok(value)
}

fn opt_text(value: Option<&String>) -> Result<Option<&str>, PdfError> {
    value.map(|v| text(v)).transpose()
}

fn required<'a>(value: &'a str, what: &'static str) -> Result<&'a str, PdfError> {
    if value.trim().is_empty() {
        return Err(PdfError::InvalidInput(what));
    }
    text(value)
}

fn text_lines(values: &[String]) -> Result<Vec<&str>, PdfError> {
    if values.len() > MAX_ADDRESS_LINES {
        return Err(PdfError::InvalidInput(
            "an address or the payment instructions have too many lines",
        ));
    }
    values.iter().map(|v| text(v)).collect()
}

fn notes(value: Option<&String>) -> Result<Option<&str>, PdfError> {
    match value {
        Some(v) if v.chars().count() > MAX_NOTES_CHARS => {
            Err(PdfError::InvalidInput("the notes are too long"))
        }
        Some(v) if !v.trim().is_empty() => Ok(Some(v)),
        _ => Ok(None),
    }
}

fn currency(code: &str) -> Result<&str, PdfError> {
    if !is_currency_code(code) {
        return Err(PdfError::InvalidInput(
            "the currency is not an ISO 4217 code",
        ));
    }
    Ok(code)
}

fn add(a: i64, b: i64) -> Result<i64, PdfError> {
    a.checked_add(b)
        .ok_or(PdfError::InvalidInput("an amount is too large"))
}

/// Checks that `totals` are the sums of the parts and that gross is net + VAT, so a document
/// never prints figures that contradict each other.
fn check_totals(
    totals: Totals,
    parts: impl Iterator<Item = (i64, i64)>,
    mismatch: &'static str,
) -> Result<(), PdfError> {
    let (mut net, mut vat) = (0i64, 0i64);
    for (n, v) in parts {
        net = add(net, n)?;
        vat = add(vat, v)?;
    }
    if totals.net != net || totals.vat != vat || Some(totals.gross) != net.checked_add(vat) {
        return Err(PdfError::InvalidInput(mismatch));
    }
    Ok(())
}

#[derive(Serialize)]
struct PartyView<'a> {
    name: &'a str,
    company: Option<&'a str>,
    address: Vec<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    vat_id: Option<&'a str>,
    registration: Option<&'a str>,
}

fn business_unit(bu: &BusinessUnit) -> Result<PartyView<'_>, PdfError> {
    Ok(PartyView {
        name: required(&bu.name, "the business unit has no name")?,
        company: None,
        address: text_lines(&bu.address)?,
        email: opt_text(bu.email.as_ref())?,
        phone: opt_text(bu.phone.as_ref())?,
        vat_id: opt_text(bu.vat_id.as_ref())?,
        registration: opt_text(bu.registration.as_ref())?,
    })
}

fn customer(c: &Customer) -> Result<PartyView<'_>, PdfError> {
    Ok(PartyView {
        name: required(&c.name, "the customer has no name")?,
        company: opt_text(c.company.as_ref())?,
        address: text_lines(&c.address)?,
        email: opt_text(c.email.as_ref())?,
        phone: None,
        vat_id: opt_text(c.vat_id.as_ref())?,
        registration: None,
    })
}

#[derive(Serialize)]
struct TotalsView {
    net: String,
    vat: String,
    gross: String,
}

fn totals(t: Totals, currency: &str) -> TotalsView {
    TotalsView {
        net: format::money(t.net, currency),
        vat: format::money(t.vat, currency),
        gross: format::money(t.gross, currency),
    }
}

#[derive(Serialize)]
struct ContractView<'a> {
    kind: &'static str,
    number: &'a str,
    reference: Option<&'a str>,
    date: String,
    currency: &'a str,
    lessor: PartyView<'a>,
    customer: PartyView<'a>,
    items: Vec<ContractItemView<'a>>,
    totals: TotalsView,
    schedule: Vec<PaymentView>,
    schedule_total: String,
    buyout: TermsView,
    early_return: EarlyReturnView,
    notes: Option<&'a str>,
    lessor_signatory: Option<&'a str>,
    lessor_place: Option<&'a str>,
}

#[derive(Serialize)]
struct ContractItemView<'a> {
    position: usize,
    product: &'a str,
    variant: Option<&'a str>,
    serial: Option<&'a str>,
    term_months: u32,
    monthly_net: String,
    vat_rate: String,
    monthly_vat: String,
    monthly_gross: String,
}

#[derive(Serialize)]
struct PaymentView {
    position: usize,
    due_date: String,
    amount: String,
}

/// A method name the template switches on, with its figure already formatted.
#[derive(Serialize)]
struct TermsView {
    method: &'static str,
    amount: Option<String>,
    percentage: Option<String>,
}

#[derive(Serialize)]
struct EarlyReturnView {
    method: &'static str,
    amount: Option<String>,
    percentage: Option<String>,
    grace_period_days: u32,
}

/// The contract as the template's JSON.
pub fn contract_json(c: &Contract) -> Result<Vec<u8>, PdfError> {
    let cur = currency(&c.currency)?;
    if c.items.is_empty() {
        return Err(PdfError::InvalidInput("the contract has no items"));
    }
    if c.items.len() > MAX_ITEMS {
        return Err(PdfError::InvalidInput("the contract has too many items"));
    }
    if c.schedule.len() > MAX_SCHEDULE_ROWS {
        return Err(PdfError::InvalidInput(
            "the payment schedule has too many rows",
        ));
    }
    check_totals(
        c.monthly_totals,
        c.items.iter().map(|i| (i.monthly_net, i.monthly_vat)),
        "the monthly totals are not the sums of the items",
    )?;
    let items = c
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Ok(ContractItemView {
                position: i + 1,
                product: required(&item.product, "an item has no product name")?,
                variant: opt_text(item.variant.as_ref())?,
                serial: opt_text(item.serial_number.as_ref())?.filter(|s| !s.trim().is_empty()),
                term_months: item.term_months,
                monthly_net: format::money(item.monthly_net, cur),
                vat_rate: format::percent(item.vat_rate_bp),
                monthly_vat: format::money(item.monthly_vat, cur),
                monthly_gross: format::money(add(item.monthly_net, item.monthly_vat)?, cur),
            })
        })
        .collect::<Result<Vec<_>, PdfError>>()?;
    let mut schedule_total = 0i64;
    let schedule = c
        .schedule
        .iter()
        .enumerate()
        .map(|(i, p)| {
            schedule_total = add(schedule_total, p.amount)?;
            Ok(PaymentView {
                position: i + 1,
                due_date: format::date(p.due_date),
                amount: format::money(p.amount, cur),
            })
        })
        .collect::<Result<Vec<_>, PdfError>>()?;
    let view = ContractView {
        kind: match c.kind {
            ContractKind::Order => "order",
            ContractKind::Extension => "extension",
            ContractKind::Upgrade => "upgrade",
        },
        number: required(&c.number, "the contract has no number")?,
        reference: opt_text(c.reference.as_ref())?,
        date: format::date(c.date),
        currency: cur,
        lessor: business_unit(&c.lessor)?,
        customer: customer(&c.customer)?,
        items,
        totals: totals(c.monthly_totals, cur),
        schedule,
        schedule_total: format::money(schedule_total, cur),
        buyout: buyout(&c.buyout, cur),
        early_return: early_return(c, cur),
        notes: notes(c.notes.as_ref())?,
        lessor_signatory: opt_text(c.lessor_signatory.as_ref())?,
        lessor_place: opt_text(c.lessor_place.as_ref())?,
    };
    to_json(&view)
}

fn buyout(terms: &BuyoutTerms, cur: &str) -> TermsView {
    let (method, amount, percentage) = match terms {
        BuyoutTerms::NotOffered => ("not_offered", None, None),
        BuyoutTerms::FlatFee { fee } => ("flat_fee", Some(format::money(*fee, cur)), None),
        BuyoutTerms::RemainingMonths => ("remaining_months", None, None),
        BuyoutTerms::ListPricePercentage { percentage_bp } => (
            "list_price_percentage",
            None,
            Some(format::percent(*percentage_bp)),
        ),
        BuyoutTerms::RemainingMonthsPlusListPricePercentage { percentage_bp } => (
            "remaining_months_plus_list_price_percentage",
            None,
            Some(format::percent(*percentage_bp)),
        ),
    };
    TermsView {
        method,
        amount,
        percentage,
    }
}

fn early_return(c: &Contract, cur: &str) -> EarlyReturnView {
    let (method, amount, percentage) = match &c.early_return.fee {
        EarlyReturnFee::RemainingMonthsPercentage { percentage_bp } => (
            "remaining_months",
            None,
            Some(format::percent(*percentage_bp)),
        ),
        EarlyReturnFee::FlatFee { fee } => ("flat_fee", Some(format::money(*fee, cur)), None),
        EarlyReturnFee::NoFee => ("no_fee", None, None),
    };
    EarlyReturnView {
        method,
        amount,
        percentage,
        grace_period_days: c.early_return.grace_period_days,
    }
}

#[derive(Serialize)]
struct InvoiceView<'a> {
    number: &'a str,
    issue_date: String,
    due_date: String,
    currency: &'a str,
    seller: PartyView<'a>,
    buyer: PartyView<'a>,
    billing_period: Option<PeriodView>,
    lines: Vec<InvoiceLineView<'a>>,
    vat_breakdown: Vec<VatView>,
    totals: TotalsView,
    payment_reference: &'a str,
    payment_instructions: Vec<&'a str>,
    notes: Option<&'a str>,
}

#[derive(Serialize)]
struct PeriodView {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct InvoiceLineView<'a> {
    position: usize,
    description: &'a str,
    reference: Option<&'a str>,
    net: String,
    vat_rate: String,
    vat: String,
    gross: String,
}

/// The net and VAT per rate, which an EU invoice must show when rates differ.
#[derive(Serialize)]
struct VatView {
    rate: String,
    net: String,
    vat: String,
}

/// The invoice as the template's JSON.
pub fn invoice_json(inv: &Invoice) -> Result<Vec<u8>, PdfError> {
    let cur = currency(&inv.currency)?;
    if inv.lines.is_empty() {
        return Err(PdfError::InvalidInput("the invoice has no lines"));
    }
    if inv.lines.len() > MAX_ITEMS {
        return Err(PdfError::InvalidInput("the invoice has too many lines"));
    }
    if inv.due_date < inv.issue_date {
        return Err(PdfError::InvalidInput(
            "the due date is before the issue date",
        ));
    }
    if let Some(p) = inv.billing_period
        && p.end < p.start
    {
        return Err(PdfError::InvalidInput(
            "the billing period ends before it starts",
        ));
    }
    check_totals(
        inv.totals,
        inv.lines.iter().map(|l| (l.net, l.vat)),
        "the totals are not the sums of the lines",
    )?;
    let lines = inv
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(InvoiceLineView {
                position: i + 1,
                description: required(&l.description, "a line has no description")?,
                reference: opt_text(l.reference.as_ref())?,
                net: format::money(l.net, cur),
                vat_rate: format::percent(l.vat_rate_bp),
                vat: format::money(l.vat, cur),
                gross: format::money(add(l.net, l.vat)?, cur),
            })
        })
        .collect::<Result<Vec<_>, PdfError>>()?;
    // Highest rate first, as invoices usually list them; a BTreeMap keeps the order stable.
    let mut by_rate = std::collections::BTreeMap::<u32, (i64, i64)>::new();
    for l in &inv.lines {
        let entry = by_rate.entry(l.vat_rate_bp).or_default();
        entry.0 = add(entry.0, l.net)?;
        entry.1 = add(entry.1, l.vat)?;
    }
    let vat_breakdown = by_rate
        .into_iter()
        .rev()
        .map(|(rate, (net, vat))| VatView {
            rate: format::percent(rate),
            net: format::money(net, cur),
            vat: format::money(vat, cur),
        })
        .collect();
    let view = InvoiceView {
        number: required(&inv.number, "the invoice has no number")?,
        issue_date: format::date(inv.issue_date),
        due_date: format::date(inv.due_date),
        currency: cur,
        seller: business_unit(&inv.seller)?,
        buyer: customer(&inv.buyer)?,
        billing_period: inv.billing_period.map(|p| PeriodView {
            start: format::date(p.start),
            end: format::date(p.end),
        }),
        lines,
        vat_breakdown,
        totals: totals(inv.totals, cur),
        payment_reference: required(&inv.payment_reference, "the payment reference is empty")?,
        payment_instructions: text_lines(&inv.payment_instructions)?,
        notes: notes(inv.notes.as_ref())?,
    };
    to_json(&view)
}

fn to_json(view: &impl Serialize) -> Result<Vec<u8>, PdfError> {
    serde_json::to_vec(view).map_err(|e| PdfError::Render {
        detail: format!("serializing the template data: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ContractItem, EarlyReturnTerms, ScheduledPayment};
    use jiff::civil::date;

    fn contract() -> Contract {
        Contract {
            kind: ContractKind::Upgrade,
            number: "C-1".into(),
            reference: None,
            date: date(2025, 1, 1),
            currency: "EUR".into(),
            lessor: BusinessUnit {
                name: "Lessor".into(),
                ..BusinessUnit::default()
            },
            customer: Customer {
                name: r#"A "quoted" \ #name"#.into(),
                ..Customer::default()
            },
            items: vec![ContractItem {
                product: "Laptop".into(),
                variant: None,
                serial_number: Some("  ".into()),
                term_months: 12,
                monthly_net: 1_000,
                vat_rate_bp: 1_900,
                monthly_vat: 190,
            }],
            monthly_totals: Totals {
                net: 1_000,
                vat: 190,
                gross: 1_190,
            },
            schedule: vec![
                ScheduledPayment {
                    due_date: date(2025, 1, 1),
                    amount: 1_190,
                };
                2
            ],
            buyout: BuyoutTerms::FlatFee { fee: 9_900 },
            early_return: EarlyReturnTerms {
                fee: EarlyReturnFee::NoFee,
                grace_period_days: 0,
            },
            notes: Some("   ".into()),
            lessor_signatory: None,
            lessor_place: None,
        }
    }

    fn json(c: &Contract) -> serde_json::Value {
        serde_json::from_slice(&contract_json(c).expect("valid")).expect("JSON")
    }

    #[test]
    fn strings_travel_as_json_strings_and_figures_as_text() {
        let v = json(&contract());
        assert_eq!(v["kind"], "upgrade");
        assert_eq!(v["customer"]["name"], r#"A "quoted" \ #name"#);
        assert_eq!(v["items"][0]["monthly_gross"], "11.90 EUR");
        assert_eq!(v["items"][0]["vat_rate"], "19%");
        // A blank serial is no serial: the template prints its placeholder.
        assert_eq!(v["items"][0]["serial"], serde_json::Value::Null);
        assert_eq!(v["schedule"][1]["position"], 2);
        assert_eq!(v["schedule_total"], "23.80 EUR");
        assert_eq!(v["buyout"]["method"], "flat_fee");
        assert_eq!(v["buyout"]["amount"], "99.00 EUR");
        assert_eq!(v["notes"], serde_json::Value::Null);
    }

    #[test]
    fn totals_must_add_up() {
        let mut c = contract();
        c.monthly_totals.gross = 1_191;
        assert!(matches!(
            contract_json(&c),
            Err(PdfError::InvalidInput(
                "the monthly totals are not the sums of the items"
            ))
        ));
        let mut c = contract();
        c.items[0].monthly_net = i64::MAX;
        c.monthly_totals = Totals {
            net: i64::MAX,
            vat: 190,
            gross: i64::MAX,
        };
        assert!(matches!(contract_json(&c), Err(PdfError::InvalidInput(_))));
    }

    #[test]
    fn sizes_are_bounded() {
        let mut c = contract();
        c.customer.name = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(contract_json(&c).is_err());
        let mut c = contract();
        c.customer.address = vec!["line".into(); MAX_ADDRESS_LINES + 1];
        assert!(contract_json(&c).is_err());
        let mut c = contract();
        c.schedule = vec![c.schedule[0]; MAX_SCHEDULE_ROWS + 1];
        assert!(contract_json(&c).is_err());
        let mut c = contract();
        c.items.clear();
        c.monthly_totals = Totals::default();
        assert!(contract_json(&c).is_err());
        let mut c = contract();
        c.customer.name = " ".into();
        assert!(contract_json(&c).is_err());
    }
}
