//! What the client sends: request bodies and list filters. Every field is optional so that a
//! test can leave out exactly the field it wants refused; `None` is not sent at all.

use serde::{Deserialize, Serialize, Serializer};

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

/// A postal address. The server needs `contact_name`, `street_address`, `city` and `country`;
/// the rest is optional. Orders and customers return addresses as JSON values, which
/// `serde_json::from_value` turns back into this type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Floor, suite, building name: whatever comes before the street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// District or neighbourhood, where the postal system uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// A country name or ISO code; the server keeps it as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// An order to place. The server needs `customer`, `billing_address` and at least one item;
/// each line is priced from its variant, so no prices are sent. Placing the same order for the
/// same email again within the business unit's idempotency window returns the first order.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    /// `standard` (the default), `extension` or `upgrade`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<NewOrderCustomer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The billing address is used when this is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// 1–100 lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<NewOrderItem>>,
    /// Values of the business unit's order custom fields, keyed by field id; checked against
    /// their definitions (required fields, types, options).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Value>,
    /// At most 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// What an extension continues. When sent, it must be an object with `originalOrderId`,
    /// `extensionMonths`, `previousEndDate` and `newEndDate`; other keys are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_details: Option<serde_json::Value>,
    /// What an upgrade replaces. When sent, it must be an object with `previousDevice`,
    /// `previousSerialNumber`, `previousMonthlyAmount` and `previousRentalId`; other keys are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_details: Option<serde_json::Value>,
}

/// Who the order is for; email, first and last name are required. The customer is found by
/// email (case-insensitive) or created from these fields. A customer already on file keeps its
/// profile: only its missing company and phone are filled in from here.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderCustomer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `individual` (the default) or `business`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<String>,
}

/// One order line: a quantity of one variant for one contract length.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderItem {
    /// The variant SKU; the variant must be active and priced for the contract length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// 1–1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Months, 1–120; the business unit's default contract length when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_length: Option<i64>,
}

/// A customer to create (email, first and last name are needed) or the fields to change in an
/// update (any subset; the rest keep their values).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerChanges {
    /// On update, may be sent but must name the customer being updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Unique within the business unit (case-insensitive); a clash is 409 `DUPLICATE_EMAIL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `individual` or `business`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<String>,
    /// `due_immediately`, `net_7`, `net_14` or `net_30`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    /// `active` reactivates a deactivated customer; use `delete_customer` to deactivate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Values of the business unit's customer custom fields, keyed by field id. Replaces all
    /// of them, so send the complete set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
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

/// Filters and paging for `list_orders`. Orders are newest first unless sorted otherwise.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderQuery {
    /// 1–100, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `updatedAt`, `orderId`, `status` or `totals.total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `pending`, `confirmed`, `partial`, `fulfilled` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// `standard`, `extension` or `upgrade`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
    /// A date or RFC 3339 instant, inclusive. A bare date is midnight in the business unit's
    /// time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_from: Option<String>,
    /// A date or RFC 3339 instant, exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_to: Option<String>,
    /// `(field id, value)` pairs, all of which must match exactly. Values compare as text, so
    /// a number or boolean field is matched by its JSON text (`42`, `true`).
    #[serde(flatten, serialize_with = "custom_field_params")]
    pub custom_fields: Vec<(String, String)>,
}

/// Sends each custom field filter as its own `customField_<id>=<value>` parameter, the form
/// the server reads.
fn custom_field_params<S: Serializer>(
    fields: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        fields
            .iter()
            .map(|(id, value)| (format!("customField_{id}"), value)),
    )
}

/// Filters and paging for `list_customers`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuery {
    /// 1–100, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `firstName`, `lastName`, `email`, `totalMonthlyRevenue` or
    /// `totalDevicesRented`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `active` or `inactive` (deactivated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `individual` or `business`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<String>,
    /// An exact address, compared case-insensitively: the way to find one customer by email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_active_rentals: Option<bool>,
}

/// An asset to register, or changes to one (`PUT` takes any subset).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// The variant SKU the unit is (registration only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `available` or `unavailable`; `rented_out` and `sold` come from rentals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `serial` or `imei`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Major units; the variant's acquisition cost when omitted at registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_cost: Option<f64>,
    /// With `status: unavailable`: `damaged`, `stolen`, `defective`, `lost`, `retired`,
    /// `maintenance` or `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
}

/// Filters and paging for `list_assets`; the cursor is a serial number.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `serialNumber`, `status` or `acquisitionCost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_id: Option<String>,
}

/// A rental to start: one unit of a confirmed order, fulfilled with an available asset of a SKU
/// the order has a line for. `order_id` and `asset_serial_number` are needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRental {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_serial_number: Option<String>,
    /// Only a check: when sent, it must be the order's customer (`CUSTOMER_MISMATCH`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// A date or RFC 3339 instant, read in the business unit's time zone; today when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Months, 1–120; the order line's length when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_length: Option<i64>,
    /// At most 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Months to add to an active rental; `extension_months` and `reason` are needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// 1–120, and the whole term must stay within 120 months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_months: Option<i64>,
    /// A new price for every payment not yet due as well as the added months; the current
    /// price is kept when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_monthly_amount: Option<f64>,
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The customer buying the device; `reason` is needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutRequest {
    /// Overrides the business unit's buyout method; the quote of `calculate_buyout` is charged
    /// when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyout_price: Option<f64>,
    /// `customer_request`, `end_of_contract` or `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The device coming back before the contract ends; `return_condition` and `reason` are needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnRequest {
    /// `excellent`, `good`, `fair`, `poor` or `damaged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_condition: Option<String>,
    /// Overrides the business unit's fee method; the quote of `calculate_early_return_fee` is
    /// charged when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_return_fee: Option<f64>,
    /// `true` charges no fee at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waive_fee: Option<bool>,
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// At most 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage_assessment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// An upgrade to another device: `new_sku`, `new_serial_number`, `contract_length` and `reason`
/// are needed; the catalog price for the new term applies unless `new_monthly_amount` is given.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_serial_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_length: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_monthly_amount: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A device swap on an active rental; `new_serial_number` and `replacement_reason` are needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement {
    /// An available asset of the rental's SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_serial_number: Option<String>,
    /// Only a check: when sent, it must be the rental's SKU (`SKU_MISMATCH`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sku: Option<String>,
    /// `damaged`, `stolen`, `defective` or `lost`; the old device becomes unavailable for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_reason: Option<String>,
    /// At most 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage_assessment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance_claim: Option<bool>,
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Why an active rental is cancelled; `reason` is needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RentalCancellation {
    /// `customer_request`, `payment_failure`, `fraud`, `admin_decision` or `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A payment received outside a payment provider (bank transfer, cash). Both fields are optional.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkPaid {
    /// `manual` (default), `stripe`, `adyen` or `paypal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// When the money arrived (instant or date, not in the future); now when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    /// The transfer or receipt reference, at most 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
    /// At most 5000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A failed collection attempt; `reason` is needed.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkFailed {
    /// At most 1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When collection will be tried again: an RFC 3339 instant, or a date (midnight in the
    /// business unit's time zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<String>,
}

/// Filters and paging for `list_rentals`; rentals are newest first unless sorted otherwise.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RentalQuery {
    /// 1–100, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `startDate`, `endDate` or `monthlyAmount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `active`, `cancelled`, `ended_completed`, `ended_buyout`, `ended_upgrade` or
    /// `ended_early_return`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The rental's device; after a replacement that is the new one, not the old.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    /// The date bounds are `YYYY-MM-DD` in the business unit's calendar, all inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_to: Option<String>,
}

/// Filters and paging for `list_payments`; payments are newest first unless sorted otherwise.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentQuery {
    /// 1–100, default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `createdAt`, `dueDate`, `amount` or `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `asc` or `desc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    /// `pending`, `processing`, `paid`, `failed` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_group_id: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_to: Option<String>,
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

cursor!(
    BillingGroupQuery,
    ProductQuery,
    VariantQuery,
    EventQuery,
    ListQuery,
    OrderQuery,
    CustomerQuery,
    AssetQuery,
    RentalQuery,
    PaymentQuery
);

/// A webhook endpoint to register, or the changes to one; `None` fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Omitted or `["*"]`: every event type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<i64>,
}

/// A billing group to create, or the changes to one; `None` fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupWrite {
    /// Create only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// 1–28.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_day: Option<i64>,
    /// On update, replaces the membership.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rental_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Update only: `active` or `inactive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// Filters and paging for `list_billing_groups`, newest first.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// `active` or `inactive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A file to upload for an order. `None` fields are not sent, so a test can leave out exactly
/// the one it wants refused.
#[derive(Debug, Clone, Default)]
pub struct FileUpload {
    pub order_id: Option<String>,
    /// `contract`, `invoice`, `document` or `attachment`.
    pub file_type: Option<String>,
    /// The name sent with the file part.
    pub filename: Option<String>,
    /// The content type claimed for the part; the server judges the bytes itself and ignores it.
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
    /// A JSON object kept with the file.
    pub metadata: Option<serde_json::Value>,
}

/// Filters and paging for `list_files`, newest first by default.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

cursor!(FileQuery);

/// What a signed link is for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUrlRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// `view` (the default) or `download`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// 1 to 10080 (7 days); 60 when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_minutes: Option<i64>,
}

/// Which order's contract to generate, and of which kind.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContract {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// `order`, `extension` or `upgrade`; the order's type decides when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_type: Option<String>,
    /// Only `default` exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
}

/// Column groups of a rental export; each is included unless set to `false`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RentalExportFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_details: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_details: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial_details: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<bool>,
}

/// Which rentals to export; every filter is optional. Dates are `YYYY-MM-DD` or RFC 3339.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RentalExportRequest {
    /// Rentals starting on or after this date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Rentals starting on or before this date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_fields: Option<RentalExportFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_to: Option<String>,
    /// How long `download_url` works: 1 to 10080 minutes; 60 when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_minutes: Option<i64>,
}
