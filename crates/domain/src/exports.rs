//! Rental exports as CSV: which columns a request asks for, how cells are made safe for the
//! spreadsheets that open them, and the summary figures.
//!
//! A spreadsheet evaluates a cell that starts with `=`, `+`, `-` or `@` as a formula (and some
//! also after a leading tab or carriage return), so a customer named `=HYPERLINK(…)` could run
//! in the accountant's spreadsheet. Text that came from users is prefixed with `'`, which the
//! spreadsheet shows as text. Numbers we format ourselves are left alone: an amount such as
//! `-12.50` must stay a number, and it cannot carry a formula since it is only digits, a sign
//! and a point.

use std::borrow::Cow;

/// Rentals read per query while an export streams through the table.
pub const PAGE_SIZE: i64 = 1_000;

/// The most customers one export may be filtered on.
pub const MAX_CUSTOMER_IDS: usize = 100;

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet shows it as text: prefixed with `'` when it would otherwise start a
/// formula. Only for text from users; see the module documentation for numbers.
pub fn neutralize_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Minor units as a plain decimal in major units with the currency's exponent: `8900` →
/// `89.00`, `-1250` → `-12.50`. Exactly the digits stored, no rounding.
pub fn decimal_text(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = exponent as usize
    )
}

/// Basis points as a percentage with two decimals: `4550` → `45.50`.
pub fn percent_text(basis_points: i64) -> String {
    decimal_text(basis_points, 2)
}

/// `total / count` rounded half away from zero; 0 when there is nothing to average.
pub fn average_minor(total: i64, count: u64) -> i64 {
    if count == 0 {
        return 0;
    }
    let (total, count) = (i128::from(total), i128::from(count));
    let half = count / 2;
    let rounded = if total >= 0 {
        (total + half) / count
    } else {
        (total - half) / count
    };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Groups of columns a request may leave out (`includeFields`); all are in by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    pub customer_details: bool,
    pub device_details: bool,
    pub financial_details: bool,
    pub custom_fields: bool,
}

impl Default for Sections {
    fn default() -> Self {
        Sections {
            customer_details: true,
            device_details: true,
            financial_details: true,
            custom_fields: true,
        }
    }
}

/// One column of the export, in the order they appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    SubscriptionId,
    CustomerId,
    CustomerEmail,
    CustomerName,
    Company,
    Sku,
    ProductName,
    SerialNumber,
    Status,
    StartDate,
    EndDate,
    ContractLength,
    MonthlyAmount,
    Currency,
    TotalCollected,
    AcquisitionCost,
    CostRecoveryPercent,
    /// The customer's custom fields as a JSON object.
    CustomFields,
}

const ALL: &[Column] = &[
    Column::SubscriptionId,
    Column::CustomerId,
    Column::CustomerEmail,
    Column::CustomerName,
    Column::Company,
    Column::Sku,
    Column::ProductName,
    Column::SerialNumber,
    Column::Status,
    Column::StartDate,
    Column::EndDate,
    Column::ContractLength,
    Column::MonthlyAmount,
    Column::Currency,
    Column::TotalCollected,
    Column::AcquisitionCost,
    Column::CostRecoveryPercent,
    Column::CustomFields,
];

impl Column {
    pub fn header(self) -> &'static str {
        match self {
            Column::SubscriptionId => "subscriptionId",
            Column::CustomerId => "customerId",
            Column::CustomerEmail => "customerEmail",
            Column::CustomerName => "customerName",
            Column::Company => "company",
            Column::Sku => "sku",
            Column::ProductName => "productName",
            Column::SerialNumber => "serialNumber",
            Column::Status => "status",
            Column::StartDate => "startDate",
            Column::EndDate => "endDate",
            Column::ContractLength => "contractLength",
            Column::MonthlyAmount => "monthlyAmount",
            Column::Currency => "currency",
            Column::TotalCollected => "totalCollected",
            Column::AcquisitionCost => "acquisitionCost",
            Column::CostRecoveryPercent => "costRecoveryPercent",
            Column::CustomFields => "customFields",
        }
    }

    fn included(self, sections: Sections) -> bool {
        match self {
            Column::CustomerId | Column::CustomerEmail | Column::CustomerName | Column::Company => {
                sections.customer_details
            }
            Column::Sku | Column::ProductName | Column::SerialNumber => sections.device_details,
            Column::MonthlyAmount
            | Column::Currency
            | Column::TotalCollected
            | Column::AcquisitionCost
            | Column::CostRecoveryPercent => sections.financial_details,
            Column::CustomFields => sections.custom_fields,
            Column::SubscriptionId
            | Column::Status
            | Column::StartDate
            | Column::EndDate
            | Column::ContractLength => true,
        }
    }
}

/// The columns of an export with `sections`, in order. The rental's id, status, dates and
/// length are always there, so every row still says which rental it is.
pub fn columns(sections: Sections) -> Vec<Column> {
    ALL.iter()
        .copied()
        .filter(|c| c.included(sections))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formula_starts_are_prefixed() {
        for (cell, expected) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+31 6 1234", "'+31 6 1234"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("Ada = Lovelace", "Ada = Lovelace"),
            ("", ""),
            ("'already", "'already"),
            ("Ümlaut", "Ümlaut"),
        ] {
            assert_eq!(neutralize_formula(cell), expected, "{cell:?}");
        }
        assert!(matches!(neutralize_formula("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn amounts_keep_their_digits_and_sign() {
        assert_eq!(decimal_text(8900, 2), "89.00");
        assert_eq!(decimal_text(12950, 2), "129.50");
        assert_eq!(decimal_text(-1250, 2), "-12.50");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(0, 2), "0.00");
        assert_eq!(decimal_text(1234, 0), "1234");
        assert_eq!(decimal_text(-1234, 0), "-1234");
        assert_eq!(decimal_text(1, 3), "0.001");
        assert_eq!(decimal_text(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(percent_text(4550), "45.50");
    }

    #[test]
    fn averages_round_half_away_from_zero() {
        assert_eq!(average_minor(0, 0), 0);
        assert_eq!(average_minor(500, 0), 0);
        assert_eq!(average_minor(10, 4), 3);
        assert_eq!(average_minor(9, 4), 2);
        assert_eq!(average_minor(-10, 4), -3);
        assert_eq!(average_minor(8900 * 3, 3), 8900);
        assert_eq!(average_minor(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn sections_choose_columns() {
        let all = columns(Sections::default());
        assert_eq!(all.len(), 18);
        assert_eq!(all[0], Column::SubscriptionId);
        let bare = columns(Sections {
            customer_details: false,
            device_details: false,
            financial_details: false,
            custom_fields: false,
        });
        let headers: Vec<&str> = bare.iter().map(|c| c.header()).collect();
        assert_eq!(
            headers,
            [
                "subscriptionId",
                "status",
                "startDate",
                "endDate",
                "contractLength"
            ]
        );
        let no_money = columns(Sections {
            financial_details: false,
            ..Sections::default()
        });
        assert!(!no_money.contains(&Column::MonthlyAmount));
        assert!(no_money.contains(&Column::CustomerEmail));
    }

    proptest! {
        #[test]
        fn an_escaped_cell_never_starts_a_formula(cell in "\\PC{0,20}", lead in prop::sample::select(vec!['=', '+', '-', '@', '\t', '\r', 'a', '1', ' '])) {
            let text = format!("{lead}{cell}");
            let out = neutralize_formula(&text);
            prop_assert!(!out.starts_with(FORMULA_STARTS));
            // Nothing is lost: the original follows the prefix, if one was added.
            prop_assert!(out == text || out.strip_prefix('\'') == Some(text.as_str()));
            prop_assert_eq!(out != text, text.starts_with(FORMULA_STARTS));
        }

        #[test]
        fn decimal_text_reads_back_as_the_same_amount(minor in -1_000_000_000_000i64..1_000_000_000_000, exponent in 0u32..4) {
            let text = decimal_text(minor, exponent);
            let digits: String = text.chars().filter(|c| *c != '.').collect();
            prop_assert_eq!(digits.parse::<i64>().unwrap(), minor);
            match text.split_once('.') {
                Some((_, fraction)) => prop_assert_eq!(fraction.len(), exponent as usize),
                None => prop_assert_eq!(exponent, 0),
            }
        }

        #[test]
        fn the_average_lies_between_floor_and_ceiling(total in -1_000_000_000i64..1_000_000_000, count in 1u64..100_000) {
            let avg = i128::from(average_minor(total, count));
            let exact = total as f64 / count as f64;
            prop_assert!((avg as f64 - exact).abs() <= 0.5 + 1e-9);
        }
    }
}
