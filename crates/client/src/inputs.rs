//! What the client sends: request bodies and list filters. Every field is optional so that a
//! test can leave out exactly the field it wants refused; `None` is not sent at all.

use serde::Serialize;

/// A product to create (all of SKU, name, specification, category, brand and variants are
/// needed) or the fields to change in an update (any subset).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewProduct {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<NewVariant>>,
}

/// A variant, matched to an existing one by `variant_id` or `variant_sku`; a new one needs its
/// SKU, name, grade and pricing.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewVariant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    /// Major units, e.g. `899.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Vec<NewPricing>>,
}

/// One contract length's price. Discounts and provenance are not modelled; send them with
/// [`crate::Client::send`] if needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPricing {
    /// Months, 1–120.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_length: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<f64>,
}

/// A new API key. It can be granted only permissions and business units the calling key holds.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `<resource>:read`, `<resource>:write`, `<resource>:*` or `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// `None` inherits the calling key's business units (all, for an unrestricted key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_unit_ids: Option<Vec<String>>,
    /// RFC 3339 instant or a date; must be in the future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Filters and paging for `list_products`. Products are newest first unless sorted otherwise.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductQuery {
    /// 1–100, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `updatedAt`, `productName` or `productSku`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `active` or `discontinued`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

/// Filters and paging for `list_variants`, across all products.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantQuery {
    /// 1–5000, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `updatedAt` or `variantSku`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `active` or `inactive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    /// Of the parent product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Of the parent product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// A variant SKU prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

/// Filters and paging for `list_events`; events are newest first by default.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// E.g. `product.created`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// Paging for lists without filters.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
}

/// Lets one paging loop serve every list: it only needs to move the cursor.
pub(crate) trait Cursor: Clone {
    fn set_start_after(&mut self, cursor: String);
}

macro_rules! cursor {
    ($($query:ty),*) => {$(
        impl Cursor for $query {
            fn set_start_after(&mut self, cursor: String) {
                self.start_after = Some(cursor);
            }
        }
    )*};
}

cursor!(ProductQuery, VariantQuery, EventQuery, ListQuery);
