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
    /// The page size the server applied, which may differ from the one asked for; `None` for
    /// the lists whose official shape does not report it (billing groups).
    #[serde(default)]
    pub limit: Option<i64>,
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

// ---- orders ------------------------------------------------------------------------------------

/// An order as read, listed or returned by a write. Prices were fixed when it was placed and do
/// not follow later changes to the catalog.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    /// The human-facing number, e.g. `FP-000042`: the business unit's prefix and a sequence.
    pub order_number: String,
    pub tenant_id: String,
    /// `pending`, `confirmed`, `partial`, `fulfilled` or `cancelled`.
    pub status: String,
    /// `standard`, `extension` or `upgrade`.
    pub order_type: String,
    /// A copy of the customer's profile when the order was placed; later edits to the
    /// customer do not change it.
    pub customer: OrderCustomer,
    /// An address object; `serde_json::from_value` turns it into an [`crate::Address`].
    pub billing_address: serde_json::Value,
    /// The billing address when none was given.
    pub shipping_address: serde_json::Value,
    pub items: Vec<OrderItem>,
    pub totals: OrderTotals,
    /// Values of the order custom fields by field id; `Null` when none were given.
    pub custom_fields: serde_json::Value,
    pub rental_progress: RentalProgress,
    /// The rentals of all lines together.
    pub rental_ids: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub extension_details: Option<serde_json::Value>,
    #[serde(default)]
    pub upgrade_details: Option<serde_json::Value>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub confirmed_at: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The API key (`key_…`) that placed the order.
    pub created_by: String,
}

/// The customer an order was placed for, as its profile stood at the time. For a customer
/// already on file this is the stored profile, not what the order sent.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    /// The customer found by email or created for the order; see `get_customer`.
    pub customer_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// `individual` or `business`.
    pub customer_type: String,
}

/// One order line, with the product details and prices copied in when the order was placed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub product_id: String,
    #[serde(default)]
    pub product_image_url: Option<String>,
    pub variant_id: String,
    /// The variant SKU.
    pub sku: String,
    pub product_name: String,
    pub quantity: i64,
    /// The monthly price of one unit.
    pub unit_price: f64,
    /// Months.
    pub contract_length: i64,
    #[serde(default)]
    pub list_price: Option<f64>,
    /// `variant` when copied from the variant, `unknown` when it had none.
    pub list_price_source: String,
    #[serde(default)]
    pub acquisition_cost: Option<f64>,
    /// `variant` when copied from the variant, `unknown` when it had none.
    pub acquisition_cost_source: String,
    pub rental_ids: Vec<String>,
    /// `pending` (no rentals yet), `partial` or `completed` (one rental per unit).
    pub rental_status: String,
}

/// What the order costs per month.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderTotals {
    pub subtotal: f64,
    pub tax_amount: f64,
    /// The monthly amount due.
    pub total: f64,
    /// ISO 4217, the business unit's currency.
    pub currency: String,
    pub total_devices: i64,
}

/// How many of the ordered devices have been turned into rentals.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RentalProgress {
    pub total_devices: i64,
    pub rented_devices: i64,
}

/// The answer to placing, confirming or cancelling an order or changing its notes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderWrite {
    pub success: bool,
    pub message: String,
    pub order_id: String,
    /// The order after the write.
    pub order: Order,
}

// ---- customers ---------------------------------------------------------------------------------

/// A customer with figures derived from its orders, rentals and payments.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub customer_id: String,
    pub tenant_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// `individual` or `business`.
    pub customer_type: String,
    /// For business customers: `due_immediately`, `net_7`, `net_14` or `net_30`.
    #[serde(default)]
    pub payment_terms: Option<String>,
    /// Values of the customer custom fields by field id.
    pub custom_fields: serde_json::Value,
    /// `active` or `inactive` (deactivated by a delete).
    pub status: String,
    pub total_orders: i64,
    /// Orders neither fulfilled nor cancelled; a customer with any cannot be deleted.
    pub open_orders: i64,
    /// A customer with any cannot be deleted.
    pub active_rentals: i64,
    pub total_devices_rented: i64,
    pub total_monthly_revenue: f64,
    pub lifetime_collected: f64,
    pub order_ids: Vec<String>,
    pub rental_ids: Vec<String>,
    /// The billing address of the latest order, or the last one set directly. An address
    /// object; `serde_json::from_value` turns it into an [`crate::Address`].
    #[serde(default)]
    pub last_billing_address: Option<serde_json::Value>,
    #[serde(default)]
    pub last_shipping_address: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    /// The API key (`key_…`) that created the customer, directly or by placing an order.
    pub created_by: String,
}

/// The answer to a customer create or update.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerWrite {
    pub success: bool,
    pub message: String,
    pub customer_id: String,
    /// The customer after the write.
    pub customer: Customer,
}

/// The answer to a delete, which deactivates the customer rather than erasing it; an update
/// with `status: active` brings it back.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDeleted {
    pub success: bool,
    pub message: String,
    pub customer_id: String,
}

// ---- assets ------------------------------------------------------------------------------------

/// A physical unit, addressed by its serial number.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    pub serial_number: String,
    pub tenant_id: String,
    pub product_id: String,
    #[serde(default)]
    pub product_image_url: Option<String>,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    pub status: String,
    pub identifier_type: String,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub acquisition_cost: f64,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub rental_id: Option<String>,
    #[serde(default)]
    pub unavailable_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The rentals the asset has served, newest first; only when fetched by serial number.
    #[serde(default)]
    pub rental_history: Vec<AssetRental>,
    /// Lifetime cost recovery; only when fetched by serial number.
    #[serde(default)]
    pub cost_recovery: Option<AssetRecovery>,
}

/// One rental an asset has served.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetRental {
    pub rental_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub status: String,
    pub start_date: String,
    pub end_date: String,
    pub monthly_amount: f64,
    pub assigned_at: String,
    #[serde(default)]
    pub released_at: Option<String>,
    /// `replaced_<reason>` or the status the rental ended in.
    #[serde(default)]
    pub release_reason: Option<String>,
    pub collected: f64,
}

/// What an asset has earned across its rentals against what it cost.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetRecovery {
    pub acquisition_cost: f64,
    pub lifetime_collected: f64,
    #[serde(default)]
    pub cost_recovery_percent: Option<f64>,
    pub current_profit: f64,
    pub has_reached_breakeven: bool,
    pub recovery_status: String,
    pub rental_count: usize,
}

/// The answer to registering or updating an asset.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetWrite {
    pub success: bool,
    pub message: String,
    pub asset: Asset,
}

/// The answer to retiring an asset.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssetDeleted {
    pub success: bool,
    pub message: String,
    pub serial_number: String,
}

// ---- rentals -----------------------------------------------------------------------------------

/// One device rented to one customer for a contract term: paths call it a subscription. The
/// price and product details were copied in when it started.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rental {
    pub rental_id: String,
    pub tenant_id: String,
    /// The device currently rented out; a replacement changes it.
    pub asset_serial_number: String,
    pub customer_id: String,
    pub product_id: String,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    #[serde(default)]
    pub product_image_url: Option<String>,
    pub monthly_amount: f64,
    /// ISO 4217, the business unit's currency.
    pub currency: String,
    /// `active`, `cancelled`, `ended_completed`, `ended_buyout`, `ended_upgrade` or
    /// `ended_early_return`; only active rentals can be changed.
    pub status: String,
    /// Months, as first agreed.
    pub original_contract_length: i64,
    /// Months, including extensions.
    pub contract_length: i64,
    /// First day of the contract, `YYYY-MM-DD` in the business unit's calendar.
    pub start_date: String,
    /// Last day of the contract; moves with extensions.
    pub end_date: String,
    /// One object per extension, oldest first; its `oldMonthlyAmount` and `newMonthlyAmount`
    /// are in major units.
    pub extension_history: Vec<serde_json::Value>,
    /// A list of objects, one per device swap, recording the old and new serial numbers.
    pub replacement_history: serde_json::Value,
    /// Present once the device came back early; its `fee` is in major units.
    #[serde(default)]
    pub early_return_details: Option<serde_json::Value>,
    #[serde(default)]
    pub list_price: Option<f64>,
    pub acquisition_cost: f64,
    /// What the rental's paid payments brought in.
    pub total_collected: f64,
    /// `total_collected` as a percentage of `acquisition_cost`.
    pub cost_recovery_percent: f64,
    /// `total_collected` less `acquisition_cost`; negative until break-even.
    pub current_profit: f64,
    /// Months of payments needed to recover the acquisition cost.
    pub breakeven_months: i64,
    pub has_reached_breakeven: bool,
    /// `profitable`, `recovering`, `at_risk` or `no_data`.
    pub recovery_status: String,
    #[serde(default)]
    pub billing_group_id: Option<String>,
    /// Present once cancelled: `reason`, `notes`, `cancelledAt`, `processedBy`.
    #[serde(default)]
    pub cancellation_details: Option<serde_json::Value>,
    /// Present once bought out; its `buyoutPrice` and the amounts of its
    /// `calculationBreakdown` are in major units.
    #[serde(default)]
    pub buyout_details: Option<serde_json::Value>,
    pub order_id: String,
    /// The rental this one replaced in an upgrade.
    #[serde(default)]
    pub upgrade_from_rental_id: Option<String>,
    /// Copied from the customer when the rental started.
    pub customer_email: String,
    pub customer_name: String,
    #[serde(default)]
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The API key (`key_…`) that started the rental.
    pub created_by: String,
}

/// The answer to starting a rental.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RentalCreated {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub rental: Rental,
    /// The payment schedule created with the rental, one payment per month of the term.
    pub payments: Vec<Payment>,
}

/// The answer to cancelling a rental.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RentalCancelled {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    /// The device, now returned.
    pub asset_serial_number: String,
    pub previous_status: String,
    /// RFC 3339 instant.
    pub cancelled_at: String,
}

/// The answer to extending a rental.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Extended {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    /// `YYYY-MM-DD`.
    pub old_end_date: String,
    /// `YYYY-MM-DD`.
    pub new_end_date: String,
    pub extension_months: i64,
    pub old_contract_length: i64,
    pub new_contract_length: i64,
    /// The rental after the extension.
    pub rental: Rental,
}

/// What buying a rental out would cost today. Nothing changes; amounts are before VAT, which
/// the business unit's VAT mode decides.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutQuote {
    pub success: bool,
    pub rental_id: String,
    /// What `buyout_rental` charges today unless given a price.
    pub buyout_price: f64,
    /// The scheduled payments after today that a buyout replaces.
    pub remaining_payments: f64,
    /// The list-price share of the price (residual value).
    pub depreciated_value: f64,
    /// The business unit's buyout method.
    pub calculation_method: String,
    pub currency: String,
}

/// The answer to a buyout: the rental has ended and the device is sold.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BoughtOut {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    pub buyout_price: f64,
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub effective_date: String,
    /// The buyout payment, due today.
    pub payment_id: String,
    /// `auto_calculated` (by the business unit's method) or `manual_override`.
    pub calculation_method: String,
    /// The business unit's buyout method the price came from.
    pub method: String,
}

/// The fee for returning a rental's device today. Nothing changes; the fee is before VAT,
/// which the business unit's VAT mode decides.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnQuote {
    pub success: bool,
    pub rental_id: String,
    /// What `early_return` charges today unless given a fee or told to waive it.
    pub early_return_fee: f64,
    pub remaining_months: i64,
    /// Percent of the remaining payments charged (by the `remaining_months` method).
    pub penalty_percentage: f64,
    /// `remaining_months`, `flat_fee` or `no_fee`.
    pub method: String,
    /// Whether the business unit's grace period spared the fee.
    pub grace_period_applied: bool,
    pub currency: String,
}

/// The answer to an early return: the rental has ended and the device is back.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedEarly {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    pub asset_serial_number: String,
    pub early_return_fee: f64,
    pub currency: String,
    pub actual_months_rented: i64,
    /// `YYYY-MM-DD`.
    pub return_date: String,
    /// The fee payment, due today; `None` when there is no fee.
    #[serde(default)]
    pub payment_id: Option<String>,
}

/// The answer to an upgrade: the old rental ended, a new one started on the new device.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Upgraded {
    pub success: bool,
    pub message: String,
    pub old_rental_id: String,
    pub new_rental_id: String,
    pub old_device: String,
    pub new_device: String,
    pub new_monthly_amount: f64,
    pub currency: String,
    /// The `upgrade` order made for the new device.
    pub order_id: String,
}

/// The answer to a device swap; the rental and its price stay the same.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Replaced {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
    /// Now unavailable, with the replacement reason.
    pub old_serial_number: String,
    pub new_serial_number: String,
    pub reason: String,
}

/// The answer to replacing a rental's notes. It carries no rental; read it again if needed.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RentalNotesSaved {
    pub success: bool,
    pub message: String,
    pub rental_id: String,
}

// ---- payments ----------------------------------------------------------------------------------

/// One amount due from a customer: a month of a rental's schedule or a one-off charge.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: String,
    pub tenant_id: String,
    pub customer_id: String,
    #[serde(default)]
    pub rental_id: Option<String>,
    #[serde(default)]
    pub billing_group_id: Option<String>,
    /// `individual` or `consolidated`.
    pub payment_type: String,
    /// `rental`, `buyout` or `early_return_fee`.
    pub category: String,
    /// `YYYY-MM` of the due date.
    pub billing_period: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub subtotal: f64,
    pub tax_amount: f64,
    /// Percent, e.g. `19.0`.
    pub tax_rate: f64,
    /// The amount due, tax included.
    pub total: f64,
    /// Same as `total`.
    pub amount: f64,
    pub currency: String,
    /// `pending`, `processing`, `paid`, `failed` or `cancelled`; `paid` and `cancelled` are final.
    pub status: String,
    pub idempotency_key: String,
    /// Whether someone marked it paid by hand rather than a payment provider.
    pub manually_marked: bool,
    /// How it was paid, once paid: `manual`, `stripe`, `adyen` or `paypal`.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub payment_reference: Option<String>,
    /// The API key (`key_…`) that marked it paid.
    #[serde(default)]
    pub marked_by: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// RFC 3339 instant.
    #[serde(default)]
    pub next_retry_at: Option<String>,
    /// RFC 3339 instant.
    #[serde(default)]
    pub paid_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A consolidated payment's lines, one per rental of its billing group.
    #[serde(default)]
    pub line_items: Option<Vec<LineItem>>,
}

/// One rental's share of a consolidated payment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub rental_id: String,
    pub description: String,
    /// Net of tax.
    pub amount: f64,
    #[serde(default)]
    pub tax_amount: f64,
}

/// A payment as read alone, or after marking it paid or failed or cancelling it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentWrite {
    pub success: bool,
    /// Present after a change, absent on a plain read.
    #[serde(default)]
    pub message: Option<String>,
    pub payment: Payment,
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

/// A webhook endpoint as the API shows it (never with its secret).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub endpoint_id: String,
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `["*"]` for every event type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    pub max_in_flight: i64,
    #[serde(default)]
    pub failing_since: Option<String>,
    #[serde(default)]
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointCreated {
    pub success: bool,
    pub endpoint: WebhookEndpoint,
    /// The `whsec_…` signing secret. This is the only time it is shown; keep it now.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebhookEndpointEnvelope {
    pub endpoint: WebhookEndpoint,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSecretRotated {
    pub success: bool,
    pub secret: String,
    pub previous_secret_expires_at: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttempt {
    pub attempt_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The `webhook-id` the receiver saw.
    pub message_id: String,
    pub attempted_at: String,
    #[serde(default)]
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub succeeded: bool,
    #[serde(default)]
    pub response_excerpt: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// A billing group: one customer's rentals billed together, one payment a month.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroup {
    pub billing_group_id: String,
    pub tenant_id: String,
    pub customer_id: String,
    pub group_name: String,
    /// The active rentals in the group.
    #[serde(default)]
    pub rental_ids: Vec<String>,
    /// Day of the month its payment is issued, 1–28.
    pub billing_day: i64,
    pub total_monthly_amount: f64,
    #[serde(default)]
    pub active_rental_count: i64,
    pub currency: String,
    /// `active` or `inactive`.
    pub status: String,
    pub created_by: String,
    #[serde(default)]
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BillingGroupEnvelope {
    pub billing_group: BillingGroup,
}

// ---- files -------------------------------------------------------------------------------------

/// A stored file of an order: a contract, invoice, document or attachment. Its contents are
/// fetched through a signed link ([`crate::Client::file_url`]).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub file_id: String,
    pub tenant_id: String,
    pub order_id: String,
    /// The order's customer.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// `contract`, `invoice`, `document` or `attachment`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// `uploaded` or `generated`.
    pub category: String,
    /// The name it is served under.
    pub filename: String,
    /// The name the uploader sent.
    #[serde(default)]
    pub original_filename: Option<String>,
    /// What the server found the bytes to be, whatever the uploader claimed.
    pub content_type: String,
    /// Bytes.
    pub file_size: i64,
    pub storage_path: String,
    pub uploaded_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// As given at upload; an empty object when none was.
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// The answer to an upload.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileWrite {
    pub success: bool,
    pub message: String,
    pub file_id: String,
    pub file: File,
}

/// A payment's invoice: its number and the PDF file holding it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceIssued {
    pub success: bool,
    pub message: String,
    /// `<orderNumberPrefix>-INV-000001`, consecutive within the business unit.
    pub invoice_number: String,
    pub payment_id: String,
    /// `YYYY-MM-DD`.
    pub issue_date: String,
    pub file_id: String,
    pub file: File,
}

/// The answer to deleting a file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileDeleted {
    pub success: bool,
    pub message: String,
    pub file_id: String,
    /// Whether the contents went too.
    #[serde(default)]
    pub deleted_from_storage: bool,
}

/// A signed link to a file's contents.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileUrl {
    pub success: bool,
    /// Works without credentials until `expires_at`.
    pub url: String,
    pub filename: String,
    pub content_type: String,
    pub file_size: i64,
    /// Unix epoch milliseconds.
    pub expires_at: i64,
}

/// A rental export: the CSV inline, its summary, and a signed link to the same bytes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RentalExport {
    pub success: bool,
    pub export_id: String,
    pub filename: String,
    pub csv_data: String,
    pub total_records: u64,
    pub record_count: u64,
    pub generated_at: String,
    pub filters: serde_json::Value,
    pub total_rentals: u64,
    pub active_rentals: u64,
    /// Major units: the exported rentals' monthly amounts added up.
    pub total_revenue: f64,
    /// Major units: `total_revenue` per exported rental; 0 with none.
    pub average_monthly_revenue: f64,
    pub currency: String,
    /// Fetch it with [`crate::Client::fetch_file`]; no credentials needed until `expires_at`.
    pub download_url: String,
    pub expires_at: String,
}

/// A file's contents as a signed link delivered them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileContent {
    pub content_type: Option<String>,
    /// `inline; …` for a `view` link, `attachment; …` for a `download` link.
    pub content_disposition: Option<String>,
    pub bytes: Vec<u8>,
}

/// A generated contract: the `contract` file stored for the order, and a link to it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContractGenerated {
    pub success: bool,
    pub message: String,
    pub file_id: String,
    pub order_id: String,
    pub tenant_id: String,
    /// `order`, `extension` or `upgrade`.
    #[serde(default)]
    pub contract_type: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    /// A signed link to the PDF.
    #[serde(default)]
    pub download_url: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub expires_at: Option<String>,
}
