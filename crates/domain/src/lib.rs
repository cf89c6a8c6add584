//! Pure rules of flexportal. Nothing in this crate performs I/O other than reading the clock and
//! the operating system's random source, so everything here is cheap to unit- and property-test.

pub mod api_key;
pub mod assets;
pub mod billing;
pub mod billing_groups;
pub mod business_unit;
pub mod buyout;
pub mod catalog;
pub mod contact;
pub mod cost_recovery;
pub mod early_return;
pub mod exports;
pub mod file_links;
pub mod files;
pub mod hex;
pub mod ids;
pub mod invoices;
pub mod money;
pub mod orders;
pub mod payments;
pub mod permissions;
pub mod sealing;
pub mod settings;
pub mod tier;
pub mod time;
pub mod webhooks;
