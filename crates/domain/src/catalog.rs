//! Catalog rules: contract lengths, pricing tiers and their stored form.

use serde::{Deserialize, Serialize};

/// Contract lengths a price may be given for, in months.
pub const CONTRACT_MONTHS: std::ops::RangeInclusive<i64> = 1..=120;

/// One price of a variant for one contract length. Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingTier {
    pub contract_length: i64,
    pub monthly_price: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_used: Option<String>,
}

/// A discount on a tier: a percentage (0–100) or a fixed amount in minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Discount {
    Percentage(f64),
    Fixed(i64),
}

pub const PRODUCT_STATUSES: &[&str] = &["active", "discontinued"];
pub const VARIANT_STATUSES: &[&str] = &["active", "inactive"];

/// Problems with a variant's pricing, as (index of the tier, field, message).
pub fn pricing_violations(tiers: &[PricingTier]) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, tier) in tiers.iter().enumerate() {
        if !CONTRACT_MONTHS.contains(&tier.contract_length) {
            out.push((
                i,
                "contractLength",
                "must be between 1 and 120 months".to_string(),
            ));
        } else if !seen.insert(tier.contract_length) {
            out.push((
                i,
                "contractLength",
                format!("{} months is priced twice", tier.contract_length),
            ));
        }
        match tier.discount {
            Some(Discount::Percentage(p)) if !(0.0..=100.0).contains(&p) => {
                out.push((
                    i,
                    "discount.value",
                    "a percentage must be between 0 and 100".to_string(),
                ));
            }
            Some(Discount::Fixed(v)) if v > tier.monthly_price => {
                out.push((
                    i,
                    "discount.value",
                    "a fixed discount cannot exceed the monthly price".to_string(),
                ));
            }
            _ => {}
        }
    }
    out
}

/// The monthly price for `months`, if the variant offers that length.
pub fn price_for(tiers: &[PricingTier], months: i64) -> Option<&PricingTier> {
    tiers.iter().find(|t| t.contract_length == months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(months: i64, price: i64) -> PricingTier {
        PricingTier {
            contract_length: months,
            monthly_price: price,
            setup_fee: None,
            discount: None,
            source: None,
            calculated_at: None,
            preset_used: None,
        }
    }

    #[test]
    fn duplicate_and_out_of_range_lengths_are_refused() {
        let v = pricing_violations(&[tier(12, 100), tier(12, 90), tier(0, 1), tier(121, 1)]);
        let indexes: Vec<usize> = v.iter().map(|x| x.0).collect();
        assert_eq!(indexes, [1, 2, 3]);
        assert!(pricing_violations(&[tier(1, 0), tier(120, 5)]).is_empty());
    }

    #[test]
    fn discounts_are_bounded() {
        let mut t = tier(12, 100);
        t.discount = Some(Discount::Fixed(101));
        assert_eq!(pricing_violations(&[t.clone()]).len(), 1);
        t.discount = Some(Discount::Percentage(100.0));
        assert!(pricing_violations(&[t]).is_empty());
    }

    #[test]
    fn stored_form_is_stable() {
        let mut t = tier(24, 12900);
        t.discount = Some(Discount::Fixed(500));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"contractLength":24,"monthlyPrice":12900,"discount":{"type":"fixed","value":500}}"#
        );
        assert_eq!(price_for(&[t.clone()], 24), Some(&t));
        assert_eq!(price_for(&[t], 12), None);
    }
}
