//! Contract PDFs: an order's units, their assets and payments gathered from the store, typeset by
//! `flexportal-pdf`, and kept as a generated `contract` file of the order.
//!
//! Both the `generate` route and automatic generation after a rental is created come through
//! [`generate`], so a contract reads the same however it was asked for.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::http::StatusCode;
use flexportal_domain::billing::{charge, due_dates};
use flexportal_domain::money::currency_exponent;
use flexportal_domain::settings::Settings;
use flexportal_domain::time::{time_zone, today_in};
use flexportal_pdf::{
    BuyoutTerms, Contract, ContractItem, ContractKind, Customer, EarlyReturnTerms, PdfError,
    ScheduledPayment, Totals,
};
use flexportal_store::files::{self as files_store, File, GeneratedFile};
use flexportal_store::orders::{self as orders_store, Order};
use flexportal_store::rentals::{self as rentals_store, Rental};
use flexportal_store::tenancy::BusinessUnit;
use flexportal_store::{Db, payments};
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::routes::shapes::Shapes;

/// The event recorded beside `file.created` when a contract is stored.
pub const CONTRACT_GENERATED: &str = "contract.generated";

/// The values `contractType` takes.
pub const CONTRACT_TYPES: &[&str] = &["order", "extension", "upgrade"];

pub fn parse_kind(text: &str) -> Option<ContractKind> {
    match text {
        "order" => Some(ContractKind::Order),
        "extension" => Some(ContractKind::Extension),
        "upgrade" => Some(ContractKind::Upgrade),
        _ => None,
    }
}

pub fn kind_name(kind: ContractKind) -> &'static str {
    match kind {
        ContractKind::Order => "order",
        ContractKind::Extension => "extension",
        ContractKind::Upgrade => "upgrade",
    }
}

/// The kind an order's own type implies, used when the caller names none.
fn kind_of(order: &Order) -> ContractKind {
    match order.order_type.as_str() {
        "extension" => ContractKind::Extension,
        "upgrade" => ContractKind::Upgrade,
        _ => ContractKind::Order,
    }
}

/// Why the contract was made, kept in the file's metadata.
pub enum Trigger<'a> {
    Request,
    RentalCreated { rental_id: &'a str },
}

pub struct Generated {
    pub file: File,
    pub kind: ContractKind,
}

fn order_not_found(order_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "ORDER_NOT_FOUND",
        format!("No order {order_id} in this business unit"),
    )
}

fn pdf_error(e: PdfError) -> ApiError {
    match e {
        // A fixed sentence without any of the data: safe to show.
        PdfError::InvalidInput(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "CONTRACT_NOT_RENDERABLE",
            format!("The order cannot be put into a contract: {e}"),
        ),
        PdfError::Render { detail } => {
            tracing::error!(%detail, "a contract failed to render");
            ApiError::internal()
        }
    }
}

/// Renders the contract of `order_id` (`kind`, or the one its order type implies) and stores it
/// as a generated `contract` file of the order, recording `contract.generated`.
pub async fn generate(
    state: &AppState,
    unit: &BusinessUnit,
    order_id: &str,
    kind: Option<ContractKind>,
    created_by: &str,
    trigger: Trigger<'_>,
) -> Result<Generated, ApiError> {
    let tenant_id = unit.tenant_id.as_str();
    let order = orders_store::get(&state.db, tenant_id, order_id)
        .await?
        .ok_or_else(|| order_not_found(order_id))?;
    let kind = kind.unwrap_or_else(|| kind_of(&order));
    let settings = unit.settings()?;
    let today = today_in(&time_zone(&unit.timezone));
    let contract = assemble(&state.db, unit, &settings, &order, kind, today).await?;
    let number = contract.number.clone();
    let pdf = tokio::task::spawn_blocking(move || flexportal_pdf::render_contract(&contract))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the contract rendering task failed");
            ApiError::internal()
        })?
        .map_err(pdf_error)?;
    let mut metadata = json!({
        "contractType": kind_name(kind),
        "contractNumber": number,
        "trigger": "request",
    });
    if let Trigger::RentalCreated { rental_id } = trigger {
        metadata["trigger"] = json!("rental.created");
        metadata["rentalId"] = json!(rental_id);
    }
    let prefix = match kind {
        ContractKind::Order => "contract",
        ContractKind::Extension => "extension-contract",
        ContractKind::Upgrade => "upgrade-contract",
    };
    let shapes = Shapes {
        exponent: currency_exponent(&unit.currency),
    };
    let file = files_store::store_generated_recording(
        &state.db,
        &state.files.blobs,
        tenant_id,
        GeneratedFile {
            order_id: order.order_id.clone(),
            file_type: "contract".into(),
            filename: format!("{prefix}-{}.pdf", order.order_id),
            content_type: "application/pdf".into(),
            bytes: Bytes::from(pdf),
            created_by: created_by.to_string(),
            metadata: Some(metadata),
        },
        Some(CONTRACT_GENERATED),
        &shapes,
    )
    .await?;
    Ok(Generated { file, kind })
}

/// Automatic generation after a rental's transaction committed: a failure is logged and never
/// reaches the rental, which stands either way.
pub async fn after_rental_created(state: &AppState, unit: &BusinessUnit, rental: &Rental) {
    let enabled = unit.settings().is_ok_and(|s| s.auto_generate_contracts);
    if !enabled {
        return;
    }
    let trigger = Trigger::RentalCreated {
        rental_id: &rental.rental_id,
    };
    if let Err(e) = generate(
        state,
        unit,
        &rental.order_id,
        None,
        &rental.created_by,
        trigger,
    )
    .await
    {
        tracing::error!(
            rental_id = %rental.rental_id,
            order_id = %rental.order_id,
            code = e.code,
            message = %e.message,
            "automatic contract generation failed"
        );
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn customer(order: &Order) -> Customer {
    let person: Value = serde_json::from_str(&order.customer).unwrap_or(Value::Null);
    let address: Value = serde_json::from_str(&order.billing_address).unwrap_or(Value::Null);
    let name = [text(&person, "firstName"), text(&person, "lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let email = text(&person, "email");
    let name = if name.is_empty() {
        text(&address, "contactName")
            .or_else(|| email.clone())
            .unwrap_or_else(|| order.customer_id.clone())
    } else {
        name
    };
    let company = text(&person, "company").or_else(|| text(&address, "company"));
    let place = [text(&address, "postalCode"), text(&address, "city")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let lines = [
        text(&address, "buildingInfo"),
        text(&address, "streetAddress"),
        text(&address, "locality"),
        Some(place).filter(|p| !p.is_empty()),
        text(&address, "adminArea"),
        text(&address, "country"),
    ];
    Customer {
        name,
        company,
        email,
        address: lines.into_iter().flatten().collect(),
        vat_id: None,
    }
}

fn date_of(text: &str) -> Result<Date, ApiError> {
    text.parse::<Date>().map_err(|_| {
        tracing::error!(date = %text, "a stored due date does not parse");
        ApiError::internal()
    })
}

/// The contract's data: one item per ordered unit, its asset's serial once a rental holds it, and
/// one schedule row per due date summing every unit's payment on that day. A rental's own
/// payments are the schedule for its unit; a unit still waiting for its asset is scheduled as it
/// would be billed if it started today (or on the order date, if that is later).
async fn assemble(
    db: &Db,
    unit: &BusinessUnit,
    settings: &Settings,
    order: &Order,
    kind: ContractKind,
    today: Date,
) -> Result<Contract, ApiError> {
    let tenant_id = unit.tenant_id.as_str();
    let exponent = currency_exponent(&unit.currency);
    let inclusive = unit.vat_mode == "inclusive";
    let vat_rate_bp = u32::try_from(unit.vat_rate_bp).map_err(|_| ApiError::internal())?;
    let rentals: HashMap<String, Rental> = rentals_store::of_order(db, tenant_id, &order.order_id)
        .await?
        .into_iter()
        .map(|r| (r.rental_id.clone(), r))
        .collect();
    let zone = time_zone(&unit.timezone);
    let ordered_on = jiff::Timestamp::from_microsecond(order.created_at)
        .map(|ts| ts.to_zoned_datetime(zone.clone()).date())
        .unwrap_or(today);
    let estimated_start = ordered_on.max(today);

    let mut items = Vec::new();
    let mut schedule: BTreeMap<Date, i64> = BTreeMap::new();
    for line in order.items() {
        for unit_index in 0..line.quantity.max(0) as usize {
            let rental = line
                .rental_ids
                .get(unit_index)
                .and_then(|id| rentals.get(id));
            let (monthly, term) = match rental {
                Some(r) => (r.monthly_amount, r.contract_length),
                None => (line.unit_price, line.contract_length),
            };
            let money = charge(monthly, unit.vat_rate_bp, inclusive);
            match rental {
                Some(r) => {
                    for p in payments::of_rental(db, tenant_id, &r.rental_id).await? {
                        // What the customer still owes or paid: one-off charges and payments
                        // cancelled by an ending are not part of the rental schedule.
                        if p.category != "rental" || p.status == "cancelled" {
                            continue;
                        }
                        *schedule.entry(date_of(&p.due_date)?).or_default() += p.total;
                    }
                }
                None => {
                    for due in due_dates(estimated_start, term, settings.billing_start) {
                        *schedule.entry(due).or_default() += money.total;
                    }
                }
            }
            items.push(ContractItem {
                product: line.product_name.clone(),
                variant: Some(format!("SKU {}", line.sku)),
                serial_number: rental.map(|r| r.asset_serial_number.clone()),
                term_months: u32::try_from(term).unwrap_or(0),
                monthly_net: money.net,
                vat_rate_bp,
                monthly_vat: money.tax,
            });
        }
    }
    let net: i64 = items.iter().map(|i| i.monthly_net).sum();
    let vat: i64 = items.iter().map(|i| i.monthly_vat).sum();
    let lessor_settings = &settings.lessor;
    let reference = match kind {
        ContractKind::Order => Some(order.order_id.clone()),
        ContractKind::Extension => details(order.extension_details.as_deref(), "originalOrderId"),
        ContractKind::Upgrade => details(order.upgrade_details.as_deref(), "previousRentalId"),
    };
    let number_prefix = match kind {
        ContractKind::Order => "C",
        ContractKind::Extension => "CE",
        ContractKind::Upgrade => "CU",
    };
    Ok(Contract {
        kind,
        number: format!("{number_prefix}-{}", order.order_number),
        reference,
        date: today,
        currency: unit.currency.clone(),
        lessor: flexportal_pdf::BusinessUnit {
            name: unit.name.clone(),
            address: lessor_settings.address.clone(),
            email: lessor_settings.email.clone(),
            phone: lessor_settings.phone.clone(),
            vat_id: lessor_settings.vat_id.clone(),
            registration: lessor_settings.registration.clone(),
        },
        customer: customer(order),
        items,
        monthly_totals: Totals {
            net,
            vat,
            gross: net + vat,
        },
        schedule: schedule
            .into_iter()
            .map(|(due_date, amount)| ScheduledPayment { due_date, amount })
            .collect(),
        buyout: BuyoutTerms::from_settings(&settings.buyout, exponent).map_err(pdf_error)?,
        early_return: EarlyReturnTerms::from_settings(&settings.early_return, exponent)
            .map_err(pdf_error)?,
        notes: notes(order, kind),
        lessor_signatory: lessor_settings.signatory.clone(),
        lessor_place: lessor_settings.place.clone(),
    })
}

fn details(stored: Option<&str>, key: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stored?).ok()?;
    text(&value, key)
}

/// What an extension or upgrade order says about the contract it follows, in a sentence.
fn notes(order: &Order, kind: ContractKind) -> Option<String> {
    let parse = |stored: Option<&str>| -> Option<Value> { serde_json::from_str(stored?).ok() };
    match kind {
        ContractKind::Order => None,
        ContractKind::Extension => {
            let d = parse(order.extension_details.as_deref())?;
            let months = d.get("extensionMonths").and_then(Value::as_i64);
            let previous_end = text(&d, "previousEndDate");
            let mut parts = Vec::new();
            if let Some(m) = months {
                parts.push(format!("Extension by {m} months."));
            }
            if let Some(end) = previous_end {
                parts.push(format!("The previous term ended on {end}."));
            }
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        ContractKind::Upgrade => {
            let d = parse(order.upgrade_details.as_deref())?;
            let device = text(&d, "previousDevice");
            let serial = text(&d, "previousSerialNumber");
            match (device, serial) {
                (None, None) => None,
                (device, serial) => Some(format!(
                    "Replaces {}{}.",
                    device.unwrap_or_else(|| "the previous device".into()),
                    serial
                        .map(|s| format!(" (serial number {s})"))
                        .unwrap_or_default()
                )),
            }
        }
    }
}
