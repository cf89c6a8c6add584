//! A business unit's policies: the settings document that later features read.
//!
//! The document is stored and emitted in its wire form. Amounts in it are major units, as
//! everywhere on the wire, and are checked against the currency's exponent on every change.

use serde::{Deserialize, Serialize};

use crate::money;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    pub require_order_confirmation: bool,
    pub natural_idempotency_minutes: u32,
    pub billing_start: BillingStart,
    pub contract_end_policy: ContractEndPolicy,
    pub buyout: BuyoutSettings,
    pub early_return: EarlyReturnSettings,
    pub custom_fields: Vec<CustomFieldDefinition>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            require_order_confirmation: false,
            natural_idempotency_minutes: 10,
            billing_start: BillingStart::Immediate,
            contract_end_policy: ContractEndPolicy::AutoTerminate,
            buyout: BuyoutSettings::default(),
            early_return: EarlyReturnSettings::default(),
            custom_fields: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingStart {
    Immediate,
    FirstOfNextMonth,
    SameDayNextMonth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractEndPolicy {
    AutoTerminate,
    AutoRenewMonthly,
    AutoRenewSameTerm,
    RequireAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BuyoutSettings {
    pub method: BuyoutMethod,
    pub flat_fee: f64,
    pub list_price_percentage: f64,
}

impl Default for BuyoutSettings {
    fn default() -> Self {
        BuyoutSettings {
            method: BuyoutMethod::RemainingMonths,
            flat_fee: 0.0,
            list_price_percentage: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyoutMethod {
    FlatFee,
    RemainingMonths,
    ListPricePercentage,
    RemainingMonthsPlusListPricePercentage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct EarlyReturnSettings {
    pub method: EarlyReturnMethod,
    pub percentage: f64,
    pub flat_fee: f64,
    pub grace_period_days: u32,
}

impl Default for EarlyReturnSettings {
    fn default() -> Self {
        EarlyReturnSettings {
            method: EarlyReturnMethod::RemainingMonths,
            percentage: 100.0,
            flat_fee: 0.0,
            grace_period_days: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarlyReturnMethod {
    RemainingMonths,
    FlatFee,
    NoFee,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomFieldDefinition {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: CustomFieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldType {
    Text,
    Number,
    Boolean,
    Date,
    Select,
}

/// A rule a settings document broke: the dotted path and what is wrong there.
pub type Violation = (String, String);

impl Settings {
    /// Checks ranges and cross-field rules that the types alone cannot express.
    pub fn violations(&self, currency_exponent: u32) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut money = |path: &str, value: f64| {
            if let Err(e) = money::minor_from_major(value, currency_exponent) {
                out.push((path.to_string(), format!("{path} {e}")));
            }
        };
        money("settings.buyout.flatFee", self.buyout.flat_fee);
        money("settings.earlyReturn.flatFee", self.early_return.flat_fee);
        for (path, pct) in [
            (
                "settings.buyout.listPricePercentage",
                self.buyout.list_price_percentage,
            ),
            (
                "settings.earlyReturn.percentage",
                self.early_return.percentage,
            ),
        ] {
            if !(0.0..=100.0).contains(&pct) {
                out.push((path.to_string(), "must be between 0 and 100".to_string()));
            }
        }
        if self.natural_idempotency_minutes > 24 * 60 {
            out.push((
                "settings.naturalIdempotencyMinutes".to_string(),
                "must be at most 1440".to_string(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, field) in self.custom_fields.iter().enumerate() {
            let base = format!("settings.customFields.{i}");
            if field.id.trim().is_empty() || field.id.len() > 64 {
                out.push((
                    format!("{base}.id"),
                    "must be 1 to 64 characters".to_string(),
                ));
            }
            if !seen.insert(field.id.as_str()) {
                out.push((
                    format!("{base}.id"),
                    "is used by another custom field".to_string(),
                ));
            }
            if field.label.trim().is_empty() {
                out.push((format!("{base}.label"), "must not be empty".to_string()));
            }
            if field.field_type == CustomFieldType::Select && field.options.is_empty() {
                out.push((
                    format!("{base}.options"),
                    "a select field needs options".to_string(),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_reject_unknown_fields() {
        let json = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(json["billingStart"], "immediate");
        assert_eq!(json["buyout"]["method"], "remaining_months");
        let back: Settings = serde_json::from_value(json).unwrap();
        assert_eq!(back, Settings::default());
        assert!(serde_json::from_str::<Settings>(r#"{"billingstart":"immediate"}"#).is_err());
        let partial: Settings =
            serde_json::from_str(r#"{"requireOrderConfirmation":true}"#).unwrap();
        assert!(partial.require_order_confirmation);
        assert_eq!(partial.natural_idempotency_minutes, 10);
    }

    #[test]
    fn violations_name_their_paths() {
        let mut s = Settings::default();
        s.buyout.flat_fee = 10.005;
        s.early_return.percentage = 150.0;
        s.custom_fields.push(CustomFieldDefinition {
            id: "po".into(),
            label: "PO".into(),
            field_type: CustomFieldType::Select,
            required: false,
            options: vec![],
        });
        let paths: Vec<String> = s.violations(2).into_iter().map(|v| v.0).collect();
        assert_eq!(
            paths,
            [
                "settings.buyout.flatFee",
                "settings.earlyReturn.percentage",
                "settings.customFields.0.options"
            ]
        );
        assert!(Settings::default().violations(2).is_empty());
    }
}
