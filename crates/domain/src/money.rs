//! Money as `i64` minor units of the business unit's currency.
//!
//! JSON carries major units as numbers (`89`, `129.5`). Conversion goes through the number's
//! shortest decimal text, never through floating-point arithmetic, so `0.1 + 0.2` problems cannot
//! reach a stored amount.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("must be a finite number")]
    NotFinite,
    #[error("must not be negative")]
    Negative,
    #[error("has more than {0} decimal places")]
    TooPrecise(u32),
    #[error("is too large")]
    TooLarge,
}

/// Decimal places of an ISO 4217 currency's minor unit.
pub fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Whether `code` looks like an ISO 4217 alphabetic code.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Converts a non-negative JSON number in major units to minor units.
pub fn minor_from_major(value: f64, exponent: u32) -> Result<i64, MoneyError> {
    if !value.is_finite() {
        return Err(MoneyError::NotFinite);
    }
    if value < 0.0 {
        return Err(MoneyError::Negative);
    }
    // Rust's Display for f64 prints the shortest text that round-trips, never exponent form.
    minor_from_decimal_text(&value.to_string(), exponent)
}

/// Parses a plain decimal text (`"129.50"`, `"89"`) into minor units.
pub fn minor_from_decimal_text(text: &str, exponent: u32) -> Result<i64, MoneyError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(MoneyError::NotFinite);
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > exponent as usize {
        return Err(MoneyError::TooPrecise(exponent));
    }
    let scale = 10i64.pow(exponent);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| MoneyError::TooLarge)?
    };
    let mut frac_minor: i64 = 0;
    for (i, digit) in fraction.bytes().enumerate() {
        frac_minor += i64::from(digit - b'0') * 10i64.pow(exponent - 1 - i as u32);
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_minor))
        .ok_or(MoneyError::TooLarge)
}

/// Renders minor units as a JSON number in major units (`8900` → `89`, `12950` → `129.5`).
pub fn major_json(minor: i64, exponent: u32) -> serde_json::Value {
    let scale = 10i64.pow(exponent);
    if minor % scale == 0 {
        return serde_json::Value::from(minor / scale);
    }
    let text = format!(
        "{}{}.{:0width$}",
        if minor < 0 { "-" } else { "" },
        (minor / scale).abs(),
        (minor % scale).abs(),
        width = exponent as usize
    );
    // The decimal text has at most 3 fractional digits, so the nearest f64 prints back as it.
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_major_units() {
        assert_eq!(minor_from_major(89.0, 2), Ok(8900));
        assert_eq!(minor_from_major(129.5, 2), Ok(12950));
        assert_eq!(
            minor_from_major(0.1 + 0.2, 2),
            Err(MoneyError::TooPrecise(2))
        );
        assert_eq!(minor_from_major(1999.99, 2), Ok(199_999));
        assert_eq!(minor_from_major(5.0, 0), Ok(5));
        assert_eq!(minor_from_major(-1.0, 2), Err(MoneyError::Negative));
        assert_eq!(minor_from_decimal_text("12.345", 3), Ok(12345));
        assert_eq!(
            minor_from_decimal_text("12,3", 2),
            Err(MoneyError::NotFinite)
        );
        assert_eq!(minor_from_decimal_text("", 2), Err(MoneyError::NotFinite));
    }

    #[test]
    fn renders_major_units() {
        assert_eq!(major_json(8900, 2).to_string(), "89");
        assert_eq!(major_json(12950, 2).to_string(), "129.5");
        assert_eq!(major_json(1, 2).to_string(), "0.01");
        assert_eq!(major_json(1234, 3).to_string(), "1.234");
    }

    proptest! {
        #[test]
        fn minor_units_round_trip_through_json(minor in 0i64..1_000_000_000_000, exp in 0u32..=3) {
            let json = major_json(minor, exp);
            let back = minor_from_major(json.as_f64().unwrap(), exp);
            prop_assert_eq!(back, Ok(minor));
        }
    }
}
