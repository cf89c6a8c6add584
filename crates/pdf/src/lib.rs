//! Rental contracts and invoices as PDF, typeset by typst used as a library.
//!
//! ```no_run
//! # fn demo(contract: &flexportal_pdf::Contract) -> Result<(), flexportal_pdf::PdfError> {
//! let pdf: Vec<u8> = flexportal_pdf::render_contract(contract)?;
//! # Ok(()) }
//! ```
//!
//! Rendering is CPU-bound and synchronous (tens of milliseconds in release): call it from async
//! code through `tokio::task::spawn_blocking`. It is thread-safe; fonts, templates and typst's
//! standard library are loaded once per process (see [`warm_up`]).
//!
//! # Customer text is never markup
//!
//! The data goes to the template as a JSON file that the template loads with `json(..)`, so every
//! string reaches typst as a string value and is shown as text. A name such as
//! `#set text(red) $x$ *bold*` prints exactly so; nothing is ever spliced into typst source.
//!
//! The typst world of a render holds only the embedded templates, that JSON file and the fonts
//! embedded from `typst-assets`: no file system, no network, no package downloads, no clock.

mod format;
mod model;
mod view;
mod world;

pub use model::{
    BillingPeriod, BusinessUnit, BuyoutTerms, Contract, ContractItem, ContractKind, Customer,
    EarlyReturnFee, EarlyReturnTerms, Invoice, InvoiceLine, ScheduledPayment, Totals,
};
pub use view::{MAX_ADDRESS_LINES, MAX_ITEMS, MAX_NOTES_CHARS, MAX_SCHEDULE_ROWS, MAX_TEXT_CHARS};

use flexportal_domain::money;
use flexportal_domain::settings::{
    BuyoutMethod, BuyoutSettings, EarlyReturnMethod, EarlyReturnSettings,
};

/// Why no PDF was made. `Display` names the kind of problem only — it never shows typst's
/// diagnostics or any data — so it can go to an API response as it is; `Debug` carries the
/// details for logs.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The data cannot make a coherent document (too long, totals that do not add up, ...).
    /// The reason is a fixed sentence without any of the data.
    #[error("invalid document data: {0}")]
    InvalidInput(&'static str),
    /// typst failed; `detail` holds its diagnostics, which may quote the data.
    #[error("the document could not be rendered")]
    Render { detail: String },
}

/// Renders a rental contract as a PDF.
pub fn render_contract(contract: &Contract) -> Result<Vec<u8>, PdfError> {
    let data = view::contract_json(contract)?;
    world::render(&world::CONTRACT, data)
}

/// Renders an invoice as a PDF.
pub fn render_invoice(invoice: &Invoice) -> Result<Vec<u8>, PdfError> {
    let data = view::invoice_json(invoice)?;
    world::render(&world::INVOICE, data)
}

/// Loads the fonts, the templates and typst's standard library now, so the first request does not
/// pay for it. Optional: the first render does it otherwise.
pub fn warm_up() {
    world::warm_up();
}

/// Percentages in settings are numbers with up to two decimals; basis points hold them exactly.
fn basis_points(percentage: f64) -> Result<u32, PdfError> {
    money::minor_from_major(percentage, 2)
        .ok()
        .and_then(|bp| u32::try_from(bp).ok())
        .ok_or(PdfError::InvalidInput(
            "a percentage in the settings is not a number with up to two decimals",
        ))
}

fn fee(amount: f64, currency_exponent: u32) -> Result<i64, PdfError> {
    money::minor_from_major(amount, currency_exponent).map_err(|_| {
        PdfError::InvalidInput("a fee in the settings is not an amount of the currency")
    })
}

impl BuyoutTerms {
    /// The terms a business unit's buyout settings (major units, as stored) describe.
    pub fn from_settings(
        settings: &BuyoutSettings,
        currency_exponent: u32,
    ) -> Result<Self, PdfError> {
        Ok(match settings.method {
            BuyoutMethod::FlatFee => BuyoutTerms::FlatFee {
                fee: fee(settings.flat_fee, currency_exponent)?,
            },
            BuyoutMethod::RemainingMonths => BuyoutTerms::RemainingMonths,
            BuyoutMethod::ListPricePercentage => BuyoutTerms::ListPricePercentage {
                percentage_bp: basis_points(settings.list_price_percentage)?,
            },
            BuyoutMethod::RemainingMonthsPlusListPricePercentage => {
                BuyoutTerms::RemainingMonthsPlusListPricePercentage {
                    percentage_bp: basis_points(settings.list_price_percentage)?,
                }
            }
        })
    }
}

impl EarlyReturnTerms {
    /// The terms a business unit's early-return settings (major units, as stored) describe.
    pub fn from_settings(
        settings: &EarlyReturnSettings,
        currency_exponent: u32,
    ) -> Result<Self, PdfError> {
        let fee = match settings.method {
            EarlyReturnMethod::RemainingMonths => EarlyReturnFee::RemainingMonthsPercentage {
                percentage_bp: basis_points(settings.percentage)?,
            },
            EarlyReturnMethod::FlatFee => EarlyReturnFee::FlatFee {
                fee: fee(settings.flat_fee, currency_exponent)?,
            },
            EarlyReturnMethod::NoFee => EarlyReturnFee::NoFee,
        };
        Ok(EarlyReturnTerms {
            fee,
            grace_period_days: settings.grace_period_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_from_settings() {
        let buyout = BuyoutSettings {
            method: BuyoutMethod::ListPricePercentage,
            flat_fee: 0.0,
            list_price_percentage: 12.5,
        };
        assert_eq!(
            BuyoutTerms::from_settings(&buyout, 2).ok(),
            Some(BuyoutTerms::ListPricePercentage {
                percentage_bp: 1250
            })
        );
        let flat = BuyoutSettings {
            method: BuyoutMethod::FlatFee,
            flat_fee: 199.9,
            list_price_percentage: 0.0,
        };
        assert_eq!(
            BuyoutTerms::from_settings(&flat, 2).ok(),
            Some(BuyoutTerms::FlatFee { fee: 19_990 })
        );
        let early = EarlyReturnSettings {
            method: EarlyReturnMethod::RemainingMonths,
            percentage: 50.0,
            flat_fee: 0.0,
            grace_period_days: 14,
        };
        assert_eq!(
            EarlyReturnTerms::from_settings(&early, 2).ok(),
            Some(EarlyReturnTerms {
                fee: EarlyReturnFee::RemainingMonthsPercentage {
                    percentage_bp: 5000
                },
                grace_period_days: 14
            })
        );
        let bad = BuyoutSettings {
            method: BuyoutMethod::ListPricePercentage,
            flat_fee: 0.0,
            list_price_percentage: 1.234,
        };
        assert!(matches!(
            BuyoutTerms::from_settings(&bad, 2),
            Err(PdfError::InvalidInput(_))
        ));
    }
}
