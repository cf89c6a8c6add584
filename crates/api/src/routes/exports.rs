//! `POST /v1/exports/rentals`: the business unit's rentals as CSV, inline and behind a signed
//! link, and `/exports/{exportId}/content`, the route that link points at (no API key: the
//! signature is the permission).
//!
//! Rentals stream from the database a page at a time straight into the CSV writer while the
//! summary adds up, so a large export holds its CSV text once and never all its rentals as rows.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::json::Json;
use flexportal_domain::cost_recovery::recovery;
use flexportal_domain::exports::{
    Column, MAX_CUSTOMER_IDS, PAGE_SIZE, Sections, average_minor, columns, decimal_text,
    neutralize_formula, percent_text,
};
use flexportal_domain::file_links::{
    DEFAULT_TTL_MINUTES, Link, LinkSigner, MAX_TTL_MINUTES, Refusal, expiry,
};
use flexportal_domain::files::Disposition;
use flexportal_domain::ids::IdKind;
use flexportal_domain::money::major_json;
use flexportal_domain::permissions::Required;
use flexportal_domain::time::{format_instant, now_micros, parse_date_in, time_zone};
use flexportal_store::exports::{self as store, ExportFilters, ExportRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::input::{Problems, one_of, parse_json};
use crate::pipeline::Caller;
use crate::routes::files::public_base;
use crate::routes::files::refused_link;
use crate::routes::rentals::STATUSES;

const WRITE: Required = Required::write("exports");

pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_rentals))
}

/// The route export links point at: outside `/v1`, without API key or tenant header.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_content))
}

/// Column groups to include; each defaults to `true`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct IncludeFields {
    /// `customerId`, `customerEmail`, `customerName`, `company`.
    pub customer_details: Option<bool>,
    /// `sku`, `productName`, `serialNumber`.
    pub device_details: Option<bool>,
    /// `monthlyAmount`, `currency`, `totalCollected`, `acquisitionCost`, `costRecoveryPercent`.
    pub financial_details: Option<bool>,
    /// `customFields`: the customer's custom fields as a JSON object.
    pub custom_fields: Option<bool>,
}

/// Which rentals to export. Every filter is optional; dates are calendar dates (an instant is
/// read in the business unit's time zone), bounds inclusive.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExportRentalsInput {
    /// Rentals starting on or after this date.
    pub start_date: Option<String>,
    /// Rentals starting on or before this date.
    pub end_date: Option<String>,
    /// `csv`, the only format.
    pub format: Option<String>,
    pub include_fields: Option<IncludeFields>,
    /// `active`, `cancelled`, `ended_completed`, `ended_buyout`, `ended_upgrade`,
    /// `ended_early_return`.
    pub status: Option<String>,
    /// Only these customers' rentals (at most 100).
    pub customer_ids: Option<Vec<String>>,
    /// One customer; combined with `customerIds` when both are given.
    pub customer_id: Option<String>,
    /// Start date at or after (same as `startDate`; both given, the later wins).
    pub start_date_from: Option<String>,
    /// Start date at or before (same as `endDate`; both given, the earlier wins).
    pub start_date_to: Option<String>,
    /// End date at or after.
    pub end_date_from: Option<String>,
    /// End date at or before.
    pub end_date_to: Option<String>,
    /// How long `downloadUrl` works: 1 to 10080 minutes (7 days), default 60.
    pub expires_in_minutes: Option<f64>,
}

/// The export: the CSV inline, its summary, and a signed link to the same bytes.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalExport {
    pub success: bool,
    pub export_id: String,
    pub filename: String,
    /// The CSV itself (UTF-8, a header row, then one row per rental, oldest first).
    #[schema(value_type = String)]
    pub csv_data: CsvText,
    /// Rows after the header.
    pub total_records: u64,
    /// The same number, under the name the guide uses.
    pub record_count: u64,
    pub generated_at: String,
    /// The filters applied, as normalised (dates as `YYYY-MM-DD`).
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    pub total_rentals: u64,
    /// Of the exported rentals, those `active`.
    pub active_rentals: u64,
    /// The exported rentals' monthly amounts added up.
    #[schema(value_type = f64)]
    pub total_revenue: serde_json::Value,
    /// `totalRevenue` per exported rental, rounded to the currency's minor unit; 0 when none.
    #[schema(value_type = f64)]
    pub average_monthly_revenue: serde_json::Value,
    pub currency: String,
    /// The CSV without credentials until `expiresAt`.
    pub download_url: String,
    pub expires_at: String,
}

/// CSV bytes (checked UTF-8) written as a JSON string, sharing the buffer the file store was
/// given rather than holding a second copy of a large export.
pub struct CsvText(Bytes);

impl Serialize for CsvText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(std::str::from_utf8(&self.0).map_err(serde::ser::Error::custom)?)
    }
}

/// A calendar date filter, or a problem.
fn date(
    p: &mut Problems,
    path: &str,
    value: Option<String>,
    zone: &jiff::tz::TimeZone,
) -> Option<String> {
    let text = value.filter(|v| !v.trim().is_empty())?;
    let parsed = parse_date_in(text.trim(), zone);
    if parsed.is_none() {
        p.add(
            path,
            "invalid_type",
            "must be a date (YYYY-MM-DD) or an RFC 3339 instant",
        );
    }
    parsed.map(|d| d.to_string())
}

/// Both bounds given: the narrower wins. ISO dates compare as text.
fn narrower(a: Option<String>, b: Option<String>, later: bool) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if (a > b) == later { a } else { b }),
        (a, b) => a.or(b),
    }
}

struct Parsed {
    filters: ExportFilters,
    sections: Sections,
    minutes: i64,
}

fn parse(input: ExportRentalsInput, zone: &jiff::tz::TimeZone) -> ApiResult<Parsed> {
    let mut p = Problems::new();
    if let Some(format) = &input.format
        && format != "csv"
    {
        p.add("format", "invalid_value", "must be one of: csv");
    }
    let status = one_of(&mut p, "status", input.status, STATUSES);
    let mut customer_ids: Vec<String> = Vec::new();
    for (i, id) in input
        .customer_ids
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if id.trim().is_empty() || id.len() > 100 {
            p.add(
                format!("customerIds.{i}"),
                "invalid_value",
                "must be a customer id",
            );
        } else if !customer_ids.contains(&id) {
            customer_ids.push(id);
        }
    }
    if let Some(id) = input.customer_id {
        if id.trim().is_empty() || id.len() > 100 {
            p.add("customerId", "invalid_value", "must be a customer id");
        } else if !customer_ids.contains(&id) {
            customer_ids.push(id);
        }
    }
    if customer_ids.len() > MAX_CUSTOMER_IDS {
        p.add(
            "customerIds",
            "too_many",
            format!("at most {MAX_CUSTOMER_IDS} customers per export"),
        );
    }
    let start_from = narrower(
        date(&mut p, "startDate", input.start_date, zone),
        date(&mut p, "startDateFrom", input.start_date_from, zone),
        true,
    );
    let start_to = narrower(
        date(&mut p, "endDate", input.end_date, zone),
        date(&mut p, "startDateTo", input.start_date_to, zone),
        false,
    );
    let end_from = date(&mut p, "endDateFrom", input.end_date_from, zone);
    let end_to = date(&mut p, "endDateTo", input.end_date_to, zone);
    for (from, to, path) in [
        (&start_from, &start_to, "endDate"),
        (&end_from, &end_to, "endDateTo"),
    ] {
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            p.add(path, "out_of_range", "must not be before the range's start");
        }
    }
    let minutes = match input.expires_in_minutes {
        None => DEFAULT_TTL_MINUTES,
        Some(m) if m.fract() == 0.0 && (1.0..=MAX_TTL_MINUTES as f64).contains(&m) => m as i64,
        Some(_) => {
            p.add(
                "expiresInMinutes",
                "out_of_range",
                format!("must be a whole number of minutes from 1 to {MAX_TTL_MINUTES} (7 days)"),
            );
            DEFAULT_TTL_MINUTES
        }
    };
    p.finish()?;
    let include = input.include_fields.unwrap_or_default();
    Ok(Parsed {
        filters: ExportFilters {
            status,
            customer_ids,
            start_from,
            start_to,
            end_from,
            end_to,
        },
        sections: Sections {
            customer_details: include.customer_details.unwrap_or(true),
            device_details: include.device_details.unwrap_or(true),
            financial_details: include.financial_details.unwrap_or(true),
            custom_fields: include.custom_fields.unwrap_or(true),
        },
        minutes,
    })
}

/// One rental's cell for `column`. Text from users is neutralised against formulas; amounts
/// and dates are ours and written as they are.
fn cell(row: &ExportRow, column: Column, exponent: u32) -> String {
    let text = |t: &str| neutralize_formula(t).into_owned();
    match column {
        Column::SubscriptionId => row.rental_id.clone(),
        Column::CustomerId => row.customer_id.clone(),
        Column::CustomerEmail => text(&row.customer_email),
        Column::CustomerName => text(&row.customer_name),
        Column::Company => text(row.company.as_deref().unwrap_or("")),
        Column::Sku => text(&row.sku),
        Column::ProductName => text(&row.product_name),
        Column::SerialNumber => text(&row.asset_serial_number),
        Column::Status => row.status.clone(),
        Column::StartDate => row.start_date.clone(),
        Column::EndDate => row.end_date.clone(),
        Column::ContractLength => row.contract_length.to_string(),
        Column::MonthlyAmount => decimal_text(row.monthly_amount, exponent),
        Column::Currency => row.currency.clone(),
        Column::TotalCollected => decimal_text(row.total_collected, exponent),
        Column::AcquisitionCost => decimal_text(row.acquisition_cost, exponent),
        Column::CostRecoveryPercent => recovery(row.acquisition_cost, row.total_collected, true)
            .percent_bp
            .map(percent_text)
            .unwrap_or_default(),
        Column::CustomFields => text(row.custom_fields.as_deref().unwrap_or("{}")),
    }
}

fn csv_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "writing an export's CSV failed");
    ApiError::internal()
}

/// Export rentals as CSV. The response carries the CSV (`csvData`), its summary, and
/// `downloadUrl`, a signed link to the same bytes that works without an API key until
/// `expiresAt` (one hour unless `expiresInMinutes` says otherwise). Text cells that a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
/// return) are prefixed with `'`; amounts are plain decimals in major units.
#[utoipa::path(post, path = "/v1/exports/rentals", tag = "Exports",
    request_body(content = Option<ExportRentalsInput>),
    responses(
        (status = 200, description = "The export", body = RentalExport),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
    ))]
pub async fn export_rentals(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<RentalExport>> {
    caller.require(WRITE)?;
    let input: ExportRentalsInput = if body.iter().all(u8::is_ascii_whitespace) {
        ExportRentalsInput::default()
    } else {
        parse_json(&body)?
    };
    let zone = time_zone(&caller.business_unit.timezone);
    let parsed = parse(input, &zone)?;
    let base = public_base(&state, &headers)?;
    let tenant_id = caller.tenant_id();
    let exponent = caller.exponent();
    let columns = columns(parsed.sections);

    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(columns.iter().map(|c| c.header()))
        .map_err(csv_failed)?;
    let (mut total, mut active, mut revenue) = (0u64, 0u64, 0i64);
    let mut after = None;
    loop {
        let page = store::rentals_page(
            &state.db,
            tenant_id,
            &parsed.filters,
            after.as_ref(),
            PAGE_SIZE,
        )
        .await?;
        for row in &page {
            writer
                .write_record(columns.iter().map(|c| cell(row, *c, exponent)))
                .map_err(csv_failed)?;
            total += 1;
            if row.status == "active" {
                active += 1;
            }
            revenue = revenue.saturating_add(row.monthly_amount);
        }
        if (page.len() as i64) < PAGE_SIZE {
            break;
        }
        after = page.last().map(ExportRow::cursor);
    }
    let bytes = writer.into_inner().map_err(csv_failed)?;
    std::str::from_utf8(&bytes).map_err(csv_failed)?;
    let csv = Bytes::from(bytes);

    let export_id = IdKind::Export.generate();
    let filename = format!("rentals-{export_id}.csv");
    let generated_at = format_instant(now_micros());
    let f = &parsed.filters;
    let filters = json!({
        "status": f.status,
        "customerIds": f.customer_ids,
        "startDateFrom": f.start_from,
        "startDateTo": f.start_to,
        "endDateFrom": f.end_from,
        "endDateTo": f.end_to,
        "includeFields": {
            "customerDetails": parsed.sections.customer_details,
            "deviceDetails": parsed.sections.device_details,
            "financialDetails": parsed.sections.financial_details,
            "customFields": parsed.sections.custom_fields,
        },
    });
    store::save(
        &state.db,
        &state.files.blobs,
        tenant_id,
        &export_id,
        csv.clone(),
        json!({
            "exportId": export_id,
            "filename": filename,
            "totalRecords": total,
            "filters": filters,
            "createdBy": caller.key.key_id,
            "generatedAt": generated_at,
        }),
    )
    .await?;

    let expires_at_ms = expiry(now_micros() / 1000, parsed.minutes);
    let download_url = signed_url(&state, &base, tenant_id, &export_id, expires_at_ms)?;
    Ok(Json(RentalExport {
        success: true,
        export_id,
        filename,
        csv_data: CsvText(csv),
        total_records: total,
        record_count: total,
        generated_at,
        filters,
        total_rentals: total,
        active_rentals: active,
        total_revenue: major_json(revenue, exponent),
        average_monthly_revenue: major_json(average_minor(revenue, total), exponent),
        currency: caller.business_unit.currency.clone(),
        download_url,
        expires_at: format_instant(expires_at_ms.saturating_mul(1000)),
    }))
}

/// A link to an export's CSV under `base`, signed with the export key (never accepted for a
/// file, nor a file's for an export).
fn signed_url(
    state: &AppState,
    base: &str,
    tenant_id: &str,
    export_id: &str,
    expires_at_ms: i64,
) -> ApiResult<String> {
    let link = export_link(tenant_id, export_id, expires_at_ms);
    let signature = LinkSigner::for_exports(&state.webhooks.sealing_key).sign(&link);
    let mut url = url::Url::parse(base).map_err(|e| {
        tracing::error!(error = %e, "the public URL does not parse");
        ApiError::internal()
    })?;
    url.path_segments_mut()
        .map_err(|_| ApiError::internal())?
        .pop_if_empty()
        .extend(["exports", export_id, "content"]);
    url.query_pairs_mut()
        .append_pair("tenant", tenant_id)
        .append_pair("expires", &expires_at_ms.to_string())
        .append_pair("signature", &signature);
    Ok(url.to_string())
}

fn export_link<'a>(tenant_id: &'a str, export_id: &'a str, expires_at_ms: i64) -> Link<'a> {
    Link {
        tenant_id,
        file_id: export_id,
        disposition: Disposition::Download,
        expires_at_ms,
    }
}

#[derive(Deserialize)]
pub struct ExportLinkParams {
    tenant: Option<String>,
    expires: Option<String>,
    signature: Option<String>,
}

/// An export's CSV through the signed link `POST /v1/exports/rentals` returned; no API key. A
/// link altered in any part is refused with 403 `INVALID_SIGNATURE`, an expired one with 403
/// `LINK_EXPIRED`.
#[utoipa::path(get, path = "/exports/{exportId}/content", tag = "Exports",
    params(("exportId" = String, Path), ("tenant" = String, Query), ("expires" = i64, Query),
        ("signature" = String, Query)),
    responses(
        (status = 200, description = "The CSV, as an attachment", content_type = "text/csv", body = String),
        (status = 403, description = "INVALID_SIGNATURE or LINK_EXPIRED", body = ErrorBody),
        (status = 404, description = "NOT_FOUND: the export is no longer kept", body = ErrorBody),
    ))]
pub async fn export_content(
    State(state): State<AppState>,
    Path(export_id): Path<String>,
    Query(params): Query<ExportLinkParams>,
) -> ApiResult<Response> {
    let invalid = || refused_link(Refusal::Invalid);
    let tenant_id = params.tenant.ok_or_else(invalid)?;
    let expires_at_ms: i64 = params
        .expires
        .and_then(|e| e.parse().ok())
        .ok_or_else(invalid)?;
    let signature = params.signature.ok_or_else(invalid)?;
    let now_ms = now_micros() / 1000;
    LinkSigner::for_exports(&state.webhooks.sealing_key)
        .verify(
            &export_link(&tenant_id, &export_id, expires_at_ms),
            &signature,
            now_ms,
        )
        .map_err(refused_link)?;
    // Only ids this server made reach the store's key space, whatever a signer was fed.
    if !IdKind::Export.matches(&export_id) || !IdKind::BusinessUnit.matches(&tenant_id) {
        return Err(ApiError::not_found("Export"));
    }
    let blob = store::content(&state.files.blobs, &tenant_id, &export_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Export"))?;
    let max_age = ((expires_at_ms - now_ms) / 1000).max(0);
    let filename = format!("rentals-{export_id}.csv");
    Ok(crate::routes::files::signed_content(
        blob,
        "text/csv; charset=utf-8".to_string(),
        Disposition::Download.header(&filename),
        max_age,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_narrower_bound_wins() {
        let d = |s: &str| Some(s.to_string());
        assert_eq!(
            narrower(d("2025-01-01"), d("2025-02-01"), true),
            d("2025-02-01")
        );
        assert_eq!(
            narrower(d("2025-01-01"), d("2025-02-01"), false),
            d("2025-01-01")
        );
        assert_eq!(narrower(None, d("2025-02-01"), false), d("2025-02-01"));
        assert_eq!(narrower(None, None, true), None);
    }
}
