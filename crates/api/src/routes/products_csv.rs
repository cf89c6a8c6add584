//! `POST /v1/products/csv`: the catalog from a spreadsheet, one product write per row.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::catalog::{self, PricingTier};
use flexportal_domain::money;
use flexportal_store::products::{self as store, ImportResult, ProductChanges, VariantChanges};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::pipeline::Caller;
use crate::routes::products::{WRITE, renderer};

#[derive(Serialize, ToSchema)]
pub struct ImportError {
    /// The line of the file, counting the header as line 1.
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub error: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub total_rows: usize,
    pub products_created: usize,
    pub products_updated: usize,
    pub variants_created: usize,
    pub variants_updated: usize,
    pub errors: Vec<ImportError>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportResponse {
    pub success: bool,
    pub message: String,
    /// Products created.
    pub created: usize,
    /// Products updated.
    pub updated: usize,
    pub errors: Vec<ImportError>,
    pub summary: ImportSummary,
}

const MAX_ROWS: usize = 10_000;

/// Import products from CSV: `multipart/form-data` with the file in `csvFile`, or a raw
/// `text/csv` body. Rows are upserted like `POST /v1/products`; a bad row is reported in
/// `errors` and the good rows are kept.
///
/// Columns: `Product Name`, `Product SKU`, `Category`, `Brand`, `Specification`, `Grade`
/// (default A), `Color`, `Variant SKU`, `List Price`, `Acquisition Cost`, and one
/// `<n>mo_Price` column per contract length (e.g. `12mo_Price`).
#[utoipa::path(post, path = "/v1/products/csv", tag = "Products",
    request_body(content_type = "text/csv", content = String),
    responses(
        (status = 201, description = "Imported (see errors for refused rows)", body = ImportResponse),
    ))]
pub async fn import_csv(
    state: axum::extract::State<AppState>,
    caller: Caller,
    request: Request,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let text = csv_text(request).await?;
    let exponent = caller.exponent();
    let (rows, mut errors, total_rows) = parse_csv(&text, exponent)?;
    let (lines, changes): (Vec<(usize, Option<String>)>, Vec<ProductChanges>) =
        rows.into_iter().unzip();
    let render = renderer(exponent);
    let results: Vec<ImportResult> =
        store::import(&state.db, caller.tenant_id(), changes, &render).await?;
    let mut summary = ImportSummary {
        total_rows,
        products_created: 0,
        products_updated: 0,
        variants_created: 0,
        variants_updated: 0,
        errors: Vec::new(),
    };
    let mut created_products = std::collections::HashSet::new();
    let mut updated_products = std::collections::HashSet::new();
    for ((row, sku), result) in lines.into_iter().zip(results) {
        match result {
            Ok(outcome) => {
                if outcome.created {
                    created_products.insert(outcome.product_id.clone());
                } else if !created_products.contains(&outcome.product_id) {
                    updated_products.insert(outcome.product_id.clone());
                }
                for (_, created) in outcome.variants {
                    if created {
                        summary.variants_created += 1
                    } else {
                        summary.variants_updated += 1
                    }
                }
            }
            Err((_code, message)) => errors.push(ImportError {
                row,
                sku,
                error: message,
            }),
        }
    }
    errors.sort_by_key(|e| e.row);
    summary.products_created = created_products.len();
    summary.products_updated = updated_products.len();
    let message = if errors.is_empty() {
        "Import completed".to_string()
    } else {
        format!("Import completed with {} row errors", errors.len())
    };
    let body = ImportResponse {
        success: true,
        message,
        created: summary.products_created,
        updated: summary.products_updated,
        errors: errors
            .iter()
            .map(|e| ImportError {
                row: e.row,
                sku: e.sku.clone(),
                error: e.error.clone(),
            })
            .collect(),
        summary: ImportSummary { errors, ..summary },
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn csv_text(request: Request) -> ApiResult<String> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let bytes =
        if is_multipart {
            let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| {
                ApiError::field("", "invalid_value", "the multipart body is malformed")
            })?;
            let mut found = None;
            while let Some(field) = multipart.next_field().await.map_err(|_| {
                ApiError::field("", "invalid_value", "the multipart body is malformed")
            })? {
                if matches!(field.name(), Some("csvFile") | Some("file")) {
                    found = Some(field.bytes().await.map_err(|_| {
                        ApiError::field("csvFile", "invalid_value", "could not read the file")
                    })?);
                    break;
                }
            }
            found.ok_or_else(|| {
                ApiError::field(
                    "csvFile",
                    "required",
                    "send the CSV file in the csvFile part",
                )
            })?
        } else {
            axum::body::to_bytes(request.into_body(), crate::pipeline::CSV_LIMIT)
                .await
                .map_err(|_| ApiError::payload_too_large(crate::pipeline::CSV_LIMIT))?
        };
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::field("csvFile", "invalid_value", "the file must be UTF-8 text"))?;
    Ok(text.trim_start_matches('\u{feff}').to_string())
}

type ParsedRows = (
    Vec<((usize, Option<String>), ProductChanges)>,
    Vec<ImportError>,
    usize,
);

/// Turns the file into one product write per row (one variant each), and errors for the rows
/// that cannot be read.
pub(crate) fn parse_csv(text: &str, exponent: u32) -> ApiResult<ParsedRows> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            ApiError::field(
                "csvFile",
                "invalid_value",
                format!("cannot read the header row: {e}"),
            )
        })?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let required = [
        "Product Name",
        "Product SKU",
        "Category",
        "Brand",
        "Specification",
        "Variant SKU",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| column(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::field(
            "csvFile",
            "required",
            format!("missing columns: {}", missing.join(", ")),
        ));
    }
    let price_columns: Vec<(usize, i64)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let months = h
                .strip_suffix("mo_Price")
                .or_else(|| h.strip_suffix("mo_price"))?;
            months.trim().parse::<i64>().ok().map(|m| (i, m))
        })
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut total = 0;
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        total += 1;
        if total > MAX_ROWS {
            return Err(ApiError::field(
                "csvFile",
                "too_long",
                format!("at most {MAX_ROWS} rows per file"),
            ));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(ImportError {
                    row: line,
                    sku: None,
                    error: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let cell = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        let sku = cell("Variant SKU");
        match csv_row(&cell, &record, &price_columns, exponent) {
            Ok(changes) => rows.push(((line, sku), changes)),
            Err(message) => errors.push(ImportError {
                row: line,
                sku,
                error: message,
            }),
        }
    }
    Ok((rows, errors, total))
}

fn csv_row(
    cell: &dyn Fn(&str) -> Option<String>,
    record: &csv::StringRecord,
    price_columns: &[(usize, i64)],
    exponent: u32,
) -> Result<ProductChanges, String> {
    let mut problems = Vec::new();
    let mut need = |name: &str| {
        let v = cell(name);
        if v.is_none() {
            problems.push(format!("{name} is required"));
        }
        v
    };
    let (name, product_sku, category, brand, specification, variant_sku) = (
        need("Product Name"),
        need("Product SKU"),
        need("Category"),
        need("Brand"),
        need("Specification"),
        need("Variant SKU"),
    );
    let amount = |problems: &mut Vec<String>, label: &str, text: Option<String>| -> Option<i64> {
        let t = text?;
        match money::minor_from_decimal_text(&t, exponent) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("Invalid {label}: {e}"));
                None
            }
        }
    };
    let list_price = amount(&mut problems, "List Price", cell("List Price"));
    let acquisition_cost = amount(&mut problems, "Acquisition Cost", cell("Acquisition Cost"));
    let mut pricing = Vec::new();
    for (i, months) in price_columns {
        let text = record.get(*i).map(str::to_string).filter(|s| !s.is_empty());
        if let Some(price) = amount(&mut problems, &format!("{months}mo_Price"), text) {
            pricing.push(PricingTier {
                contract_length: *months,
                monthly_price: price,
                setup_fee: None,
                discount: None,
                source: None,
                calculated_at: None,
                preset_used: None,
            });
        }
    }
    if pricing.is_empty() {
        problems.push("at least one <n>mo_Price column needs a price".to_string());
    }
    for (_, _, message) in catalog::pricing_violations(&pricing) {
        problems.push(message);
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(ProductChanges {
        product_sku,
        name: name.clone(),
        specification: specification.clone(),
        category,
        brand,
        description: None,
        images: None,
        variants: vec![VariantChanges {
            variant_id: None,
            variant_sku,
            variant_name: specification.or(name),
            grade: Some(cell("Grade").unwrap_or_else(|| "A".to_string())),
            condition: None,
            color_name: cell("Color"),
            images: None,
            list_price,
            acquisition_cost,
            pricing: Some(pricing),
        }],
    })
}
