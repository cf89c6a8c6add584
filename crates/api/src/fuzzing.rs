//! Entry points for the fuzz targets in `fuzz/`: the parsers that read untrusted input, called
//! the way the API calls them. Not part of the API; a panic here is a bug the fuzzer reports.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::Uri;

use crate::input::{ListParams, Problems, QueryParams};

/// A `POST /v1/products/csv` body.
pub fn products_csv(text: &str) {
    let _ = crate::routes::products_csv::parse_csv(text, 2);
}

/// The query string of a list request, read as every list reads its paging, sorting and date
/// filters.
pub fn list_query(raw: &str) {
    let Ok(uri) = format!("/v1/orders?{raw}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(map)) = Query::<HashMap<String, String>>::try_from_uri(&uri) else {
        return;
    };
    let query = QueryParams(map);
    let _ = ListParams::parse(&query, 50, 100, &["createdAt", "orderNumber", "total"]);
    let zone = flexportal_domain::time::time_zone("Europe/Berlin");
    let mut problems = Problems::new();
    let _ = query.date(&mut problems, "createdFrom", &zone);
}
