//! `/v1/business-units/current`: the calling business unit and its settings document.

use crate::json::Json;
use axum::extract::State;
use flexportal_domain::business_unit::{VAT_MODES, is_valid_prefix, vat_rate_bp, vat_rate_json};
use flexportal_domain::catalog::CONTRACT_MONTHS;
use flexportal_domain::permissions::Required;
use flexportal_domain::settings::Settings;
use flexportal_domain::time::{format_instant, is_time_zone};
use flexportal_store::tenancy::{self, BusinessUnit, BusinessUnitChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiResult;
use crate::input::{JsonBody, Problems, one_of};
use crate::pipeline::Caller;
use crate::routes::to_json;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUnitBody {
    pub business_unit_id: String,
    pub organization_id: String,
    pub name: String,
    pub region: String,
    /// ISO 4217; fixed at creation.
    pub currency: String,
    /// IANA time zone for calendar math (billing months, end dates).
    pub timezone: String,
    /// Percent, e.g. 19.
    #[schema(value_type = f64)]
    pub vat_rate: serde_json::Value,
    /// `exclusive` or `inclusive`.
    pub vat_mode: String,
    pub default_contract_length: i64,
    pub order_number_prefix: String,
    /// The policies: `requireOrderConfirmation`, `naturalIdempotencyMinutes`, `billingStart`,
    /// `contractEndPolicy`, `buyout`, `earlyReturn`, `customFields`, `autoGenerateContracts`
    /// (generate an order's contract whenever one of its rentals is created; default `false`)
    /// and `lessor` (`address` lines, `email`, `phone`, `vatId`, `registration`, `signatory`,
    /// `place`: how the business unit appears on its contracts).
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

pub fn unit_body(bu: &BusinessUnit) -> BusinessUnitBody {
    BusinessUnitBody {
        business_unit_id: bu.tenant_id.clone(),
        organization_id: bu.organization_id.clone(),
        name: bu.name.clone(),
        region: bu.region.clone(),
        currency: bu.currency.clone(),
        timezone: bu.timezone.clone(),
        vat_rate: vat_rate_json(bu.vat_rate_bp),
        vat_mode: bu.vat_mode.clone(),
        default_contract_length: bu.default_contract_length,
        order_number_prefix: bu.order_number_prefix.clone(),
        settings: bu
            .settings()
            .map(|s| to_json(&s))
            .unwrap_or(serde_json::Value::Null),
        created_at: format_instant(bu.created_at),
        updated_at: format_instant(bu.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUnitResponse {
    pub success: bool,
    pub business_unit: BusinessUnitBody,
}

/// Read the business unit named by `Tenant-ID`, with its settings.
#[utoipa::path(get, path = "/v1/business-units/current", tag = "Business units",
    responses((status = 200, description = "The business unit", body = BusinessUnitResponse)))]
pub async fn get_current(caller: Caller) -> ApiResult<Json<BusinessUnitResponse>> {
    caller.require(Required::read("settings"))?;
    Ok(Json(BusinessUnitResponse {
        success: true,
        business_unit: unit_body(&caller.business_unit),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessUnitInput {
    pub name: Option<String>,
    /// Accepted only when equal to the current currency.
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub vat_rate: Option<f64>,
    pub vat_mode: Option<String>,
    pub default_contract_length: Option<i64>,
    pub order_number_prefix: Option<String>,
    /// Any subset of the settings document; objects are merged, other values replaced.
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
}

/// Change the business unit's fields or settings. Send only what changes.
#[utoipa::path(patch, path = "/v1/business-units/current", tag = "Business units", request_body = BusinessUnitInput,
    responses((status = 200, description = "Updated", body = BusinessUnitResponse)))]
pub async fn update_current(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<BusinessUnitInput>,
) -> ApiResult<Json<BusinessUnitResponse>> {
    caller.require(Required::write("settings"))?;
    let current = &caller.business_unit;
    let mut p = Problems::new();
    if input
        .currency
        .as_ref()
        .is_some_and(|c| *c != current.currency)
    {
        p.add(
            "currency",
            "immutable",
            "the currency of a business unit cannot change",
        );
    }
    let name = p.text("name", input.name, 200);
    let timezone = input.timezone.filter(|tz| {
        let ok = is_time_zone(tz);
        if !ok {
            p.add(
                "timezone",
                "invalid_value",
                "must be an IANA time zone such as Europe/Berlin",
            );
        }
        ok
    });
    let vat_rate_bp = input.vat_rate.and_then(|r| {
        let bp = vat_rate_bp(r);
        if bp.is_none() {
            p.add(
                "vatRate",
                "out_of_range",
                "must be a percentage from 0 to 100 with at most two decimals",
            );
        }
        bp
    });
    let vat_mode = one_of(&mut p, "vatMode", input.vat_mode, VAT_MODES);
    let default_contract_length = input.default_contract_length.filter(|m| {
        let ok = CONTRACT_MONTHS.contains(m);
        if !ok {
            p.add(
                "defaultContractLength",
                "out_of_range",
                "must be between 1 and 120 months",
            );
        }
        ok
    });
    let order_number_prefix = input.order_number_prefix.filter(|prefix| {
        let ok = is_valid_prefix(prefix);
        if !ok {
            p.add(
                "orderNumberPrefix",
                "invalid_value",
                "must be 1 to 5 upper-case letters or digits",
            );
        }
        ok
    });
    let settings = match input.settings {
        None => None,
        Some(patch) => merged_settings(&mut p, current, patch),
    };
    p.finish()?;
    let changes = BusinessUnitChanges {
        name,
        timezone,
        vat_rate_bp,
        vat_mode,
        default_contract_length,
        order_number_prefix,
        settings,
    };
    let updated =
        tenancy::update_business_unit(&state.db, current.tenant_id.as_str(), changes, |bu| {
            to_json(&unit_body(bu))
        })
        .await?;
    state.auth_cache.invalidate();
    Ok(Json(BusinessUnitResponse {
        success: true,
        business_unit: unit_body(&updated),
    }))
}

fn merged_settings(
    p: &mut Problems,
    current: &BusinessUnit,
    patch: serde_json::Value,
) -> Option<Settings> {
    if !patch.is_object() {
        p.add("settings", "invalid_type", "must be an object");
        return None;
    }
    let mut merged = current
        .settings()
        .map(|s| to_json(&s))
        .unwrap_or_else(|_| serde_json::json!({}));
    merge(&mut merged, patch);
    match serde_path_to_error::deserialize::<_, Settings>(merged) {
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." {
                "settings".to_string()
            } else {
                format!("settings.{path}")
            };
            p.add(path, "invalid_value", e.inner().to_string());
            None
        }
        Ok(settings) => {
            let exponent = flexportal_domain::money::currency_exponent(&current.currency);
            for (path, message) in settings.violations(exponent) {
                p.add(path, "invalid_value", message);
            }
            Some(settings)
        }
    }
}

fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (t, p) => *t = p,
    }
}
