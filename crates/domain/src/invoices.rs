//! Invoices of payments: which payments can be invoiced and how invoice numbers read.

use jiff::civil::Date;

/// Every payment that is or was owed can be invoiced, whether it is still open (`pending`,
/// `processing`, `failed`, i.e. overdue) or settled (`paid`, where the invoice doubles as the
/// receipt). A cancelled payment is owed by no one, so it gets no invoice.
pub fn check_invoiceable(status: &str) -> Result<(), (&'static str, String)> {
    match status {
        "pending" | "processing" | "failed" | "paid" => Ok(()),
        "cancelled" => Err((
            "PAYMENT_CANCELLED",
            "A cancelled payment cannot be invoiced".into(),
        )),
        other => Err((
            "PAYMENT_NOT_INVOICEABLE",
            format!("A payment in status {other} cannot be invoiced"),
        )),
    }
}

/// The invoice number: the business unit's order number prefix, `INV` and a six-digit
/// sequence (more digits once past a million), e.g. `FP-INV-000001`; `INV-000001` without a
/// prefix. The sequence is the business unit's own, so numbers never collide across units
/// and stay gap-free within one.
pub fn invoice_number(prefix: &str, sequence: i64) -> String {
    if prefix.is_empty() {
        format!("INV-{sequence:06}")
    } else {
        format!("{prefix}-INV-{sequence:06}")
    }
}

/// First and last day of a billing month `YYYY-MM`.
pub fn billing_month(period: &str) -> Option<(Date, Date)> {
    let (year, month) = period.split_once('-')?;
    let first = Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()?;
    Some((first, first.last_of_month()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn who_gets_an_invoice() {
        for status in ["pending", "processing", "failed", "paid"] {
            assert!(check_invoiceable(status).is_ok(), "{status}");
        }
        assert_eq!(
            check_invoiceable("cancelled").map_err(|e| e.0),
            Err("PAYMENT_CANCELLED")
        );
        assert_eq!(
            check_invoiceable("refunded").map_err(|e| e.0),
            Err("PAYMENT_NOT_INVOICEABLE")
        );
    }

    #[test]
    fn numbers_and_months() {
        assert_eq!(invoice_number("FP", 1), "FP-INV-000001");
        assert_eq!(invoice_number("", 42), "INV-000042");
        assert_eq!(invoice_number("ELE", 1_234_567), "ELE-INV-1234567");
        assert_eq!(
            billing_month("2026-02"),
            Some((date(2026, 2, 1), date(2026, 2, 28)))
        );
        assert_eq!(billing_month("2026-13"), None);
        assert_eq!(billing_month("x"), None);
    }
}
