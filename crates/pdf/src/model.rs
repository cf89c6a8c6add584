//! What a contract or an invoice says, as plain owned data.
//!
//! Amounts are `i64` minor units of the document's `currency` (as everywhere in flexportal); VAT
//! rates and the percentages of the terms are basis points (`1900` = 19 %), so nothing here is a
//! float. Every string may come from a customer and is printed exactly as given.

use jiff::civil::Date;

/// The seller or lessor: the business unit issuing the document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusinessUnit {
    pub name: String,
    /// Postal address, one printed line each, in the order they are printed.
    pub address: Vec<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// VAT identification number, printed when present.
    pub vat_id: Option<String>,
    /// Company register entry or similar legal line, printed in the footer when present.
    pub registration: Option<String>,
}

/// The customer (lessee or buyer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Customer {
    /// The person's name.
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    /// Postal address, one printed line each.
    pub address: Vec<String>,
    pub vat_id: Option<String>,
}

/// Net, VAT and gross of a document; gross must equal net + VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub net: i64,
    pub vat: i64,
    pub gross: i64,
}

/// Why the contract is signed; each kind has its own title and opening sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractKind {
    /// A new rental from an order.
    Order,
    /// A longer term for devices already rented.
    Extension,
    /// A rented device exchanged for a better one.
    Upgrade,
}

/// A rental contract over one or more devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub kind: ContractKind,
    /// The contract's own number.
    pub number: String,
    /// What the contract refers to: the order for an order contract, the contract being extended
    /// or upgraded otherwise. Printed when present.
    pub reference: Option<String>,
    pub date: Date,
    /// ISO 4217 code; decides the decimals of every amount.
    pub currency: String,
    pub lessor: BusinessUnit,
    pub customer: Customer,
    pub items: Vec<ContractItem>,
    /// Per month, over all items; must equal the sums of the items.
    pub monthly_totals: Totals,
    pub schedule: Vec<ScheduledPayment>,
    pub buyout: BuyoutTerms,
    pub early_return: EarlyReturnTerms,
    /// Free text printed before the signatures (special agreements).
    pub notes: Option<String>,
    /// Printed under the lessor's signature line.
    pub lessor_signatory: Option<String>,
    /// Where the lessor signs, pre-filled in the lessor's place blank when present.
    pub lessor_place: Option<String>,
}

/// One rented device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractItem {
    pub product: String,
    /// Variant or description (colour, storage, configuration).
    pub variant: Option<String>,
    /// The asset's serial number; `None` before an asset is assigned, printed as a placeholder.
    pub serial_number: Option<String>,
    pub term_months: u32,
    pub monthly_net: i64,
    /// Basis points: `1900` = 19 %.
    pub vat_rate_bp: u32,
    pub monthly_vat: i64,
}

/// One payment of the schedule; `amount` is gross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPayment {
    pub due_date: Date,
    pub amount: i64,
}

/// How the customer can buy a device out, as the business unit's settings say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuyoutTerms {
    /// Buyout is not offered.
    NotOffered,
    /// A fixed price per device (minor units).
    FlatFee { fee: i64 },
    /// The sum of the payments still to come.
    RemainingMonths,
    /// A share of the device's list price (basis points).
    ListPricePercentage { percentage_bp: u32 },
    /// The payments still to come plus a share of the list price (basis points).
    RemainingMonthsPlusListPricePercentage { percentage_bp: u32 },
}

/// What returning a device before the end of its term costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyReturnTerms {
    pub fee: EarlyReturnFee,
    /// Days after the start within which a return costs nothing; 0 for none.
    pub grace_period_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyReturnFee {
    /// A share of the payments still to come (basis points).
    RemainingMonthsPercentage { percentage_bp: u32 },
    /// A fixed fee per device (minor units).
    FlatFee { fee: i64 },
    /// Returning early costs nothing.
    NoFee,
}

/// A VAT invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub number: String,
    pub issue_date: Date,
    pub due_date: Date,
    /// ISO 4217 code; decides the decimals of every amount.
    pub currency: String,
    pub seller: BusinessUnit,
    pub buyer: Customer,
    /// The service period the invoice covers, printed when present.
    pub billing_period: Option<BillingPeriod>,
    pub lines: Vec<InvoiceLine>,
    /// Must equal the sums of the lines.
    pub totals: Totals,
    /// What the buyer quotes with the transfer.
    pub payment_reference: String,
    /// Bank details or other payment instructions, one printed line each.
    pub payment_instructions: Vec<String>,
    /// Free text printed after the totals.
    pub notes: Option<String>,
}

/// First and last day of service, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    pub start: Date,
    pub end: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub description: String,
    /// The rental and/or serial number the line bills, printed under the description.
    pub reference: Option<String>,
    pub net: i64,
    /// Basis points: `1900` = 19 %.
    pub vat_rate_bp: u32,
    pub vat: i64,
}
