//! Rules for a business unit's own fields.

pub const VAT_MODES: &[&str] = &["exclusive", "inclusive"];

/// A VAT rate in percent (`19`, `7.7`) as basis points; at most two decimals, 0–100 %.
pub fn vat_rate_bp(percent: f64) -> Option<i64> {
    if !(0.0..=100.0).contains(&percent) {
        return None;
    }
    crate::money::minor_from_major(percent, 2).ok()
}

/// The percent a basis-point rate stands for, as a JSON number.
pub fn vat_rate_json(bp: i64) -> serde_json::Value {
    crate::money::major_json(bp, 2)
}

/// The order-number prefix: 1–5 upper-case letters or digits.
pub fn is_valid_prefix(prefix: &str) -> bool {
    (1..=5).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_rates() {
        assert_eq!(vat_rate_bp(19.0), Some(1900));
        assert_eq!(vat_rate_bp(7.7), Some(770));
        assert_eq!(vat_rate_bp(7.775), None);
        assert_eq!(vat_rate_bp(101.0), None);
        assert_eq!(vat_rate_json(770).to_string(), "7.7");
    }

    #[test]
    fn prefixes() {
        assert!(is_valid_prefix("ELE"));
        assert!(is_valid_prefix("A1B2C"));
        assert!(!is_valid_prefix(""));
        assert!(!is_valid_prefix("TOOLONG"));
        assert!(!is_valid_prefix("ele"));
    }
}
