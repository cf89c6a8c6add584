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
    /// Generate an order's contract each time one of its rentals is created.
    pub auto_generate_contracts: bool,
    /// How the business unit appears as lessor on its contracts.
    pub lessor: LessorDetails,
}

/// The lessor's particulars printed on contracts; the business unit's name heads them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LessorDetails {
    /// Postal address, one printed line each.
    pub address: Vec<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub vat_id: Option<String>,
    /// Company register entry or similar legal line.
    pub registration: Option<String>,
    /// Who signs for the lessor.
    pub signatory: Option<String>,
    /// Where the lessor signs.
    pub place: Option<String>,
}

/// The most lines a lessor address may have (what the contract layout holds).
pub const MAX_LESSOR_ADDRESS_LINES: usize = 10;
const MAX_LESSOR_TEXT: usize = 200;

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
            auto_generate_contracts: false,
            lessor: LessorDetails::default(),
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
    /// Which record the field belongs to.
    #[serde(default = "order_section")]
    pub section: CustomFieldSection,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

fn order_section() -> CustomFieldSection {
    CustomFieldSection::Order
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldType {
    Text,
    Email,
    Phone,
    Number,
    Textarea,
    Select,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldSection {
    Customer,
    Order,
    Subscription,
}

/// Checks `values` (field id → value) against the definitions of `section`: each defined field
/// has the right type, select values are among the options, required fields are present. Keys
/// that no definition names are kept as given. Paths are relative to the values object.
pub fn custom_value_violations(
    definitions: &[CustomFieldDefinition],
    section: CustomFieldSection,
    values: &serde_json::Map<String, serde_json::Value>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for def in definitions.iter().filter(|d| d.section == section) {
        let value = values
            .get(&def.id)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(value) = value else {
            if def.required {
                out.push((def.id.clone(), format!("{} is required", def.label)));
            }
            continue;
        };
        let problem = match (def.field_type, value) {
            (CustomFieldType::Number, v) if v.is_number() => None,
            (CustomFieldType::Number, _) => Some("must be a number".to_string()),
            (_, serde_json::Value::String(text)) => match def.field_type {
                CustomFieldType::Text if text.chars().count() > 1000 => {
                    Some("must be at most 1000 characters".into())
                }
                CustomFieldType::Textarea if text.chars().count() > 5000 => {
                    Some("must be at most 5000 characters".into())
                }
                CustomFieldType::Email if !crate::contact::is_email(text) => {
                    Some("must be an email address".into())
                }
                CustomFieldType::Phone if !crate::contact::is_phone(text) => {
                    Some("must be a phone number".into())
                }
                CustomFieldType::Select if !def.options.contains(text) => {
                    Some(format!("must be one of: {}", def.options.join(", ")))
                }
                _ => None,
            },
            _ => Some("must be a string".to_string()),
        };
        if let Some(message) = problem {
            out.push((def.id.clone(), message));
        }
    }
    out
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
        if self.lessor.address.len() > MAX_LESSOR_ADDRESS_LINES {
            out.push((
                "settings.lessor.address".to_string(),
                format!("must have at most {MAX_LESSOR_ADDRESS_LINES} lines"),
            ));
        }
        for (i, line) in self.lessor.address.iter().enumerate() {
            if line.chars().count() > MAX_LESSOR_TEXT {
                out.push((
                    format!("settings.lessor.address.{i}"),
                    format!("must be at most {MAX_LESSOR_TEXT} characters"),
                ));
            }
        }
        for (field, value) in [
            ("email", &self.lessor.email),
            ("phone", &self.lessor.phone),
            ("vatId", &self.lessor.vat_id),
            ("registration", &self.lessor.registration),
            ("signatory", &self.lessor.signatory),
            ("place", &self.lessor.place),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_LESSOR_TEXT)
            {
                out.push((
                    format!("settings.lessor.{field}"),
                    format!("must be at most {MAX_LESSOR_TEXT} characters"),
                ));
            }
        }
        if let Some(email) = &self.lessor.email
            && !crate::contact::is_email(email)
        {
            out.push((
                "settings.lessor.email".to_string(),
                "must be an email address".to_string(),
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
        assert!(!partial.auto_generate_contracts);
        let lessor: Settings = serde_json::from_str(
            r#"{"autoGenerateContracts":true,"lessor":{"address":["1 Main St"],"vatId":"DE1"}}"#,
        )
        .unwrap();
        assert!(lessor.auto_generate_contracts);
        assert_eq!(lessor.lessor.address, ["1 Main St"]);
        assert_eq!(lessor.lessor.vat_id.as_deref(), Some("DE1"));
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
            section: CustomFieldSection::Order,
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
        let mut lessor = Settings::default();
        lessor.lessor.address = vec!["x".repeat(201)];
        lessor.lessor.email = Some("not an address".into());
        let paths: Vec<String> = lessor.violations(2).into_iter().map(|v| v.0).collect();
        assert_eq!(
            paths,
            ["settings.lessor.address.0", "settings.lessor.email"]
        );
    }

    #[test]
    fn custom_values_follow_their_definitions() {
        let def = |id: &str, field_type, required, options: &[&str]| CustomFieldDefinition {
            id: id.into(),
            label: id.into(),
            field_type,
            required,
            section: CustomFieldSection::Order,
            options: options.iter().map(|o| o.to_string()).collect(),
        };
        let defs = vec![
            def("po", CustomFieldType::Text, true, &[]),
            def("seats", CustomFieldType::Number, false, &[]),
            def("tier", CustomFieldType::Select, false, &["gold", "silver"]),
            def("contact", CustomFieldType::Email, false, &[]),
        ];
        let values = |json: serde_json::Value| json.as_object().unwrap().clone();
        assert!(
            custom_value_violations(
                &defs,
                CustomFieldSection::Order,
                &values(
                    serde_json::json!({"po": "PO-1", "seats": 3, "tier": "gold", "other": [1]})
                )
            )
            .is_empty()
        );
        let bad = custom_value_violations(
            &defs,
            CustomFieldSection::Order,
            &values(serde_json::json!({"seats": "three", "tier": "bronze", "contact": "nope"})),
        );
        let ids: Vec<&str> = bad.iter().map(|v| v.0.as_str()).collect();
        assert_eq!(ids, ["po", "seats", "tier", "contact"]);
        // Fields of another section are not asked for.
        assert!(
            custom_value_violations(
                &defs,
                CustomFieldSection::Customer,
                &values(serde_json::json!({}))
            )
            .is_empty()
        );
    }
}
