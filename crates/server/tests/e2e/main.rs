//! End-to-end tests: scenarios of an integrator's day, each on SQLite and on PostgreSQL.

mod support;

mod assets;
mod billing_groups;
mod catalog;
mod catalog_lists;
mod cli;
mod contract_end;
mod contracts;
mod crash;
mod customers;
mod exports;
mod files;
mod idempotency;
mod invoices;
mod lifecycle;
mod limits;
mod orders;
mod pipeline;
mod refusals;
mod rentals;
mod tenancy;
mod webhooks;

/// The conformance checker itself: it must reject what the official schema rejects, or every
/// other test's schema check would pass vacuously.
#[test]
fn conformance_checker_catches_mismatches() {
    support::conformance::self_check();
}
