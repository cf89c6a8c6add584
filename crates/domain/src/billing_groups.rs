//! Consolidated billing: when a billing group's monthly payment is issued and due, and what it
//! adds up to.
//!
//! A member's line for a billing month is exactly the payment it would have made alone that
//! month, so joining or leaving a group never charges a rental twice or skips a month: a member
//! that joins moves its unpaid months from its own due dates to the group's, one that leaves
//! (or ends) takes its future months out. No month is split, so there is nothing to prorate.

use jiff::civil::Date;

/// Days between the billing day and the due date, by the customer's `paymentTerms`.
pub fn terms_days(payment_terms: Option<&str>) -> i64 {
    match payment_terms {
        Some("net_7") => 7,
        Some("net_14") => 14,
        Some("net_30") => 30,
        _ => 0,
    }
}

/// The day a group's payment for `period` (`YYYY-MM`) is issued: its billing day that month.
pub fn issue_date(period: &str, billing_day: i64) -> Option<Date> {
    let (year, month) = period.split_once('-')?;
    let day = i8::try_from(billing_day.clamp(1, 28)).ok()?;
    Date::new(year.parse().ok()?, month.parse().ok()?, day).ok()
}

/// When the payment issued on `issue` is due under the customer's terms.
pub fn due_date(issue: Date, payment_terms: Option<&str>) -> Date {
    issue
        .checked_add(jiff::Span::new().days(terms_days(payment_terms)))
        .unwrap_or(issue)
}

/// One member's share of a consolidated payment, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub rental_id: String,
    pub description: String,
    /// Net of tax.
    pub amount: i64,
    pub tax_amount: i64,
    pub total: i64,
}

/// Net, tax and gross of a payment made of `lines`.
pub fn totals(lines: &[Line]) -> (i64, i64, i64) {
    lines.iter().fold((0, 0, 0), |(net, tax, gross), line| {
        (net + line.amount, tax + line.tax_amount, gross + line.total)
    })
}

/// A billing day is a day every month has.
pub fn valid_billing_day(day: i64) -> bool {
    (1..=28).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn issue_and_due_dates() {
        assert_eq!(issue_date("2026-02", 28), Some(date(2026, 2, 28)));
        assert_eq!(issue_date("2026-13", 1), None);
        assert_eq!(issue_date("nonsense", 1), None);
        let issue = date(2026, 12, 15);
        assert_eq!(due_date(issue, None), issue);
        assert_eq!(due_date(issue, Some("due_immediately")), issue);
        assert_eq!(due_date(issue, Some("net_30")), date(2027, 1, 14));
        assert!(valid_billing_day(1) && valid_billing_day(28));
        assert!(!valid_billing_day(0) && !valid_billing_day(29));
    }

    proptest! {
        #[test]
        fn totals_add_up(amounts in prop::collection::vec((0i64..1_000_000, 0i64..200_000), 0..40)) {
            let lines: Vec<Line> = amounts
                .iter()
                .enumerate()
                .map(|(i, (net, tax))| Line {
                    rental_id: format!("sub_{i}"),
                    description: String::new(),
                    amount: *net,
                    tax_amount: *tax,
                    total: net + tax,
                })
                .collect();
            let (net, tax, gross) = totals(&lines);
            prop_assert_eq!(net + tax, gross);
            prop_assert_eq!(net, amounts.iter().map(|a| a.0).sum::<i64>());
        }

        #[test]
        fn due_never_precedes_issue(day in 1i64..=28, month in 1i8..=12, terms in prop::sample::select(vec!["due_immediately", "net_7", "net_14", "net_30"])) {
            let issue = issue_date(&format!("2027-{month:02}"), day).unwrap();
            prop_assert_eq!(i64::from(issue.day()), day);
            let due = due_date(issue, Some(terms));
            prop_assert_eq!((due - issue).get_days() as i64, terms_days(Some(terms)));
        }
    }
}
