//! What the server returns. Field names follow the wire (camelCase); money is in major units
//! (`49.99`), timestamps are RFC 3339 text.

use serde::Deserialize;

/// One page of a list. The server names the list after the resource (`products`, `events`, …);
/// here it is always `items`, so paging code works for every resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub count: usize,
    /// The page size the server applied, which may differ from the one asked for.
    pub limit: i64,
    pub has_more: bool,
    /// Pass as `start_after` to fetch the next page; present only while `has_more`.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

// ---- products ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub tenant_id: String,
    pub product_sku: String,
    pub name: String,
    pub specification: String,
    pub category: String,
    pub brand: String,
    #[serde(default)]
    pub description: Option<String>,
    pub images: Vec<String>,
    /// `active` or `discontinued`.
    pub status: String,
    #[serde(rename = "_sync")]
    pub sync: ProductSync,
    /// Present when the product was read alone (or returned by a write), absent in lists.
    #[serde(default)]
    pub variants: Option<Vec<Variant>>,
    pub variant_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Where a product is maintained.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ProductSync {
    /// `manual` for products written through this API.
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub variant_id: String,
    pub tenant_id: String,
    pub product_id: String,
    pub product_sku: String,
    /// The parent product's name, so variant lists read without a second lookup.
    pub product_name: String,
    pub variant_sku: String,
    /// Same as `variant_sku`.
    pub sku: String,
    pub variant_name: String,
    pub grade: String,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub color_name: Option<String>,
    pub images: Vec<String>,
    #[serde(default)]
    pub list_price: Option<f64>,
    #[serde(default)]
    pub acquisition_cost: Option<f64>,
    pub pricing: Vec<Pricing>,
    /// `active` or `inactive`; inactive variants cannot be ordered.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The monthly price of a variant for one contract length.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// Months.
    pub contract_length: i64,
    pub monthly_price: f64,
    #[serde(default)]
    pub setup_fee: Option<f64>,
    #[serde(default)]
    pub discount: Option<Discount>,
    /// `suggested` or `manual`.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub calculated_at: Option<String>,
    #[serde(default)]
    pub preset_used: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Discount {
    /// `percentage` or `fixed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A percentage (0–100), or an amount in major units.
    pub value: f64,
}

/// The answer to a product create (upsert by SKU) or update.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductWrite {
    pub success: bool,
    pub message: String,
    pub product_id: String,
    pub product_sku: String,
    /// `created` or `updated`: a create with a known SKU updates.
    pub operation: String,
    pub variant_results: Vec<VariantResult>,
    /// The product after the write, with its variants.
    pub product: Product,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    pub variant_sku: String,
    /// `create` or `update`.
    pub operation: String,
}

/// The answer to a delete, which discontinues the product rather than erasing it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    pub success: bool,
    pub message: String,
    pub product_id: String,
    pub product_sku: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VariantStatusResult {
    pub success: bool,
    pub message: String,
    pub variant_id: String,
    pub variant: Variant,
}

/// The outcome of a CSV import. Refused rows are listed in `errors`; the good rows are kept.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub success: bool,
    pub message: String,
    /// Products created.
    pub created: usize,
    /// Products updated.
    pub updated: usize,
    pub errors: Vec<ImportError>,
    pub summary: ImportSummary,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub total_rows: usize,
    pub products_created: usize,
    pub products_updated: usize,
    pub variants_created: usize,
    pub variants_updated: usize,
    pub errors: Vec<ImportError>,
}

/// One refused CSV row.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ImportError {
    /// The line of the file, counting the header as line 1.
    pub row: usize,
    #[serde(default)]
    pub sku: Option<String>,
    pub error: String,
}

// ---- API keys ----------------------------------------------------------------------------------

/// An API key as listed; its secret is never shown again after creation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub key_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    /// The business units the key may act for; `None` means all of the organization's.
    #[serde(default)]
    pub business_unit_ids: Option<Vec<String>>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    pub usage_count: i64,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The key that created this one, if it was created through the API.
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    pub success: bool,
    pub message: String,
    pub key_id: String,
    pub api_key: ApiKey,
    /// The bearer token of the new key. This is the only time it is shown; keep it now.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRevoked {
    pub success: bool,
    pub message: String,
    pub key_id: String,
    pub api_key: ApiKey,
}

// ---- business unit -----------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUnit {
    /// The id to send as `Tenant-ID`.
    pub business_unit_id: String,
    pub organization_id: String,
    pub name: String,
    pub region: String,
    /// ISO 4217; fixed at creation.
    pub currency: String,
    /// IANA time zone used for calendar math (billing months, end dates).
    pub timezone: String,
    /// Percent, e.g. `19.0`.
    pub vat_rate: f64,
    /// `exclusive` or `inclusive`.
    pub vat_mode: String,
    pub default_contract_length: i64,
    pub order_number_prefix: String,
    /// The settings document, kept untyped because it grows faster than this client.
    pub settings: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BusinessUnitEnvelope {
    pub business_unit: BusinessUnit,
}

// ---- events ------------------------------------------------------------------------------------

/// One entry of the business unit's change log.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_id: String,
    /// E.g. `product.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The resource as its own `GET` returned it at the time of the change.
    pub data: serde_json::Value,
    pub created_at: String,
}
