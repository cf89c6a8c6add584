//! One module per resource; each handler parses, authorises, calls one store function and
//! shapes the response.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub mod api_keys;
pub mod assets;
pub mod billing_groups;
pub mod business_units;
pub mod customers;
pub mod events;
pub mod exports;
pub mod files;
pub mod invoices;
pub mod ops;
pub mod orders;
pub mod payments;
pub mod products;
pub mod products_csv;
pub mod rentals;
pub mod shapes;
pub mod webhooks;

pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(products::create_product, products::list_products))
        .routes(routes!(
            products::get_product,
            products::update_product,
            products::delete_product
        ))
        .routes(routes!(products::list_variants))
        .routes(routes!(products::set_variant_status))
        .routes(routes!(products_csv::import_csv))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(
            business_units::get_current,
            business_units::update_current
        ))
        .routes(routes!(events::list_events))
        .routes(routes!(orders::create_order, orders::list_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::update_notes))
        .routes(routes!(orders::confirm_order))
        .routes(routes!(orders::cancel_order))
        .routes(routes!(rentals::create_rental, rentals::list_rentals))
        .routes(routes!(rentals::get_rental))
        .routes(routes!(rentals::cancel_rental))
        .routes(routes!(rentals::extend_rental))
        .routes(routes!(rentals::calculate_buyout))
        .routes(routes!(rentals::buyout_rental))
        .routes(routes!(rentals::calculate_early_return_fee))
        .routes(routes!(rentals::early_return))
        .routes(routes!(rentals::replace_device))
        .routes(routes!(rentals::update_rental_notes))
        .routes(routes!(rentals::upgrade_rental))
        .routes(routes!(payments::list_payments))
        .routes(routes!(payments::get_payment))
        .routes(routes!(payments::mark_paid))
        .routes(routes!(payments::cancel_payment))
        .routes(routes!(payments::mark_failed))
        .routes(routes!(invoices::issue_invoice))
        .routes(routes!(assets::create_asset, assets::list_assets))
        .routes(routes!(
            assets::get_asset,
            assets::update_asset,
            assets::delete_asset
        ))
        .routes(routes!(
            customers::create_customer,
            customers::list_customers
        ))
        .routes(routes!(
            customers::get_customer,
            customers::update_customer,
            customers::delete_customer
        ))
        .routes(routes!(
            billing_groups::create_group,
            billing_groups::list_groups
        ))
        .routes(routes!(
            billing_groups::get_group,
            billing_groups::update_group,
            billing_groups::delete_group
        ))
        .merge(files::v1())
        .merge(exports::v1())
        .routes(routes!(webhooks::create_endpoint, webhooks::list_endpoints))
        .routes(routes!(
            webhooks::get_endpoint,
            webhooks::update_endpoint,
            webhooks::delete_endpoint
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test_endpoint))
        .routes(routes!(webhooks::recover_endpoint))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::replay_event))
}

/// Serialises a response struct; a failure here is a bug, reported as a 500 without internals.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "response serialisation failed");
        serde_json::Value::Null
    })
}

/// A list's `nextCursor`: the id of the page's last item while more items follow.
pub(crate) fn next_cursor<T>(
    has_more: bool,
    items: &[T],
    id: impl Fn(&T) -> &String,
) -> Option<String> {
    if has_more {
        items.last().map(|item| id(item).clone())
    } else {
        None
    }
}

/// The column a list is sorted by; `name` was checked against `sorts` already.
pub(crate) fn sort_column(
    sorts: &[(&str, flexportal_store::list::SortColumn)],
    name: &str,
) -> flexportal_store::list::SortColumn {
    sorts
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .unwrap_or(sorts[0].1)
}
