//! Text forms of amounts, rates and dates, made here rather than in the template so they are
//! exact (integer arithmetic on minor units) and unit-tested.

use flexportal_domain::money::currency_exponent;
use jiff::civil::Date;

/// `123456` EUR → `1,234.56 EUR`; the currency's exponent decides the decimals.
pub fn money(minor: i64, currency: &str) -> String {
    let exponent = currency_exponent(currency);
    let scale = 10u64.pow(exponent);
    // unsigned_abs, unlike abs, cannot overflow on i64::MIN.
    let abs = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    let whole = group_thousands(abs / scale);
    if exponent == 0 {
        format!("{sign}{whole} {currency}")
    } else {
        let fraction = abs % scale;
        let width = exponent as usize;
        format!("{sign}{whole}.{fraction:0width$} {currency}")
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Basis points as a percentage without trailing zeros: `1900` → `19%`, `770` → `7.7%`.
pub fn percent(bp: u32) -> String {
    let whole = bp / 100;
    let fraction = bp % 100;
    if fraction == 0 {
        format!("{whole}%")
    } else if fraction.is_multiple_of(10) {
        format!("{whole}.{}%", fraction / 10)
    } else {
        format!("{whole}.{fraction:02}%")
    }
}

/// ISO 8601 (`2025-01-31`): unambiguous whatever the reader's country.
pub fn date(date: Date) -> String {
    // jiff prints civil dates in ISO 8601 (year padded to four digits).
    date.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date as ymd;

    #[test]
    fn money_by_exponent() {
        assert_eq!(money(0, "EUR"), "0.00 EUR");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
        assert_eq!(money(4_990, "EUR"), "49.90 EUR");
        assert_eq!(money(123_456, "EUR"), "1,234.56 EUR");
        assert_eq!(money(100_000_000, "USD"), "1,000,000.00 USD");
        assert_eq!(money(-1_250, "EUR"), "-12.50 EUR");
        assert_eq!(money(1_500, "JPY"), "1,500 JPY");
        assert_eq!(money(12_345, "KWD"), "12.345 KWD");
        assert_eq!(money(i64::MIN, "EUR"), "-92,233,720,368,547,758.08 EUR");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(1900), "19%");
        assert_eq!(percent(770), "7.7%");
        assert_eq!(percent(1050), "10.5%");
        assert_eq!(percent(1), "0.01%");
        assert_eq!(percent(0), "0%");
        assert_eq!(percent(10_000), "100%");
    }

    #[test]
    fn dates() {
        assert_eq!(date(ymd(2025, 3, 7)), "2025-03-07");
    }
}
