//! `POST /v1/payments/{paymentId}/invoice`: the invoice of a payment, as a PDF file of its
//! order, numbered per business unit without gaps (see `flexportal_store::invoices`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::json::Json;
use flexportal_domain::invoices::billing_month;
use flexportal_domain::permissions::Required;
use flexportal_pdf::{
    BillingPeriod, BusinessUnit, Customer, Invoice, InvoiceLine, PdfError, Totals,
};
use flexportal_store::StoreError;
use flexportal_store::invoices::{self as store, Draft, IssueError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::pipeline::Caller;
use crate::routes::files::{FileBody, file_body};
use crate::routes::shapes::{Address, Shapes};

const WRITE: Required = Required::write("payments");

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceIssued {
    pub success: bool,
    pub message: String,
    /// `<orderNumberPrefix>-INV-<six digits>`, consecutive within the business unit.
    pub invoice_number: String,
    pub payment_id: String,
    /// `YYYY-MM-DD`, in the business unit's time zone.
    pub issue_date: String,
    pub file_id: String,
    /// The PDF, a file of type `invoice`; its contents through `POST /v1/files/url`.
    pub file: FileBody,
}

/// A stored address as the lines printed under a name.
fn address_lines(text: Option<&str>) -> Vec<String> {
    let Some(address) = text.and_then(|t| serde_json::from_str::<Address>(t).ok()) else {
        return Vec::new();
    };
    let city = [address.postal_code, address.city]
        .into_iter()
        .flatten()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [
        address.street_address,
        address.building_info,
        address.locality,
        Some(city),
        address.admin_area,
        address.country,
    ]
    .into_iter()
    .flatten()
    .filter(|line| !line.trim().is_empty())
    .collect()
}

fn kind(category: &str) -> &'static str {
    match category {
        "buyout" => "Buyout: ",
        "early_return_fee" => "Early return fee: ",
        _ => "",
    }
}

fn bad_data() -> PdfError {
    PdfError::InvalidInput("the payment's dates or rate cannot be printed")
}

/// The document of a draft: the business unit sells, the customer buys, one line per rental.
fn document(draft: &Draft) -> Result<Invoice, PdfError> {
    let payment = &draft.payment;
    let rate = u32::try_from(payment.tax_rate_bp).map_err(|_| bad_data())?;
    let lines: Vec<InvoiceLine> = if draft.lines.is_empty() {
        let rental = draft.rentals.first().ok_or_else(bad_data)?;
        vec![InvoiceLine {
            description: format!("{}{}", kind(&payment.category), rental.product_name),
            reference: Some(format!(
                "Serial {}, rental {}",
                rental.asset_serial_number, rental.rental_id
            )),
            net: payment.subtotal,
            vat_rate_bp: rate,
            vat: payment.tax_amount,
        }]
    } else {
        draft
            .lines
            .iter()
            .zip(&draft.rentals)
            .map(|(line, rental)| InvoiceLine {
                description: rental.product_name.clone(),
                reference: Some(format!(
                    "Serial {}, rental {}",
                    rental.asset_serial_number, rental.rental_id
                )),
                net: line.amount,
                vat_rate_bp: rate,
                vat: line.tax_amount,
            })
            .collect()
    };
    let billing_period = (payment.category == "rental")
        .then(|| billing_month(&payment.billing_period))
        .flatten()
        .map(|(start, end)| BillingPeriod { start, end });
    let scheduled: jiff::civil::Date = payment.due_date.parse().map_err(|_| bad_data())?;
    // An invoice is never dated after its due date, nor back-dated (its number and date must
    // rise together): one issued for a payment already past due is due at once, and says when
    // the payment originally fell due.
    let due_date = scheduled.max(draft.issue_date);
    let mut notes = Vec::new();
    if scheduled < draft.issue_date {
        notes.push(format!("Originally due on {scheduled}."));
    }
    if payment.status == "paid" {
        notes.push("Paid, thank you.".to_string());
    }
    let notes = (!notes.is_empty()).then(|| notes.join(" "));
    let customer = &draft.customer;
    // The seller's address and VAT id are the ones the contracts print (`settings.lessor`).
    let lessor = draft
        .business_unit
        .settings()
        .map(|s| s.lessor)
        .unwrap_or_default();
    Ok(Invoice {
        number: draft.invoice_number.clone(),
        issue_date: draft.issue_date,
        due_date,
        currency: payment.currency.clone(),
        seller: BusinessUnit {
            name: draft.business_unit.name.clone(),
            address: lessor.address,
            email: lessor.email,
            phone: lessor.phone,
            vat_id: lessor.vat_id,
            registration: lessor.registration,
        },
        buyer: Customer {
            name: format!("{} {}", customer.first_name, customer.last_name)
                .trim()
                .to_string(),
            company: customer.company.clone().filter(|c| !c.trim().is_empty()),
            email: Some(customer.email.clone()),
            address: address_lines(customer.last_billing_address.as_deref()),
            vat_id: None,
        },
        billing_period,
        lines,
        totals: Totals {
            net: payment.subtotal,
            vat: payment.tax_amount,
            gross: payment.total,
        },
        payment_reference: payment.payment_id.clone(),
        payment_instructions: Vec::new(),
        notes,
    })
}

/// Rendering is CPU-bound: off the async workers.
async fn render(draft: Draft) -> Result<Vec<u8>, PdfError> {
    let invoice = document(&draft)?;
    tokio::task::spawn_blocking(move || flexportal_pdf::render_invoice(&invoice))
        .await
        .map_err(|e| PdfError::Render {
            detail: format!("the rendering task failed: {e}"),
        })?
}

/// Issue the invoice of a payment: a PDF stored as a file of type `invoice` on the payment's
/// order (for a consolidated payment, the order of its first line's rental), with `paymentId`,
/// `invoiceNumber` and, when consolidated, `billingGroupId` in its metadata. Numbers run
/// `<orderNumberPrefix>-INV-000001`, `-000002`, … per business unit, without gaps: a refused or
/// failed request uses none. Pending, processing, failed (overdue) and paid payments can be
/// invoiced; a cancelled one is 400 `PAYMENT_CANCELLED`. A payment has one invoice: asking
/// again answers 200 with the same number and file (re-rendered under the same number if its
/// file was deleted).
#[utoipa::path(post, path = "/v1/payments/{paymentId}/invoice", tag = "Payments", params(("paymentId" = String, Path)),
    responses(
        (status = 201, description = "Issued", body = InvoiceIssued),
        (status = 200, description = "Issued before: the same invoice", body = InvoiceIssued),
        (status = 400, description = "PAYMENT_CANCELLED, PAYMENT_NOT_INVOICEABLE, INVOICE_NOT_RENDERABLE", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
    ))]
pub async fn issue_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(payment_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(WRITE)?;
    let shapes = Shapes {
        exponent: caller.exponent(),
    };
    let issued = store::issue(
        &state.db,
        &state.files.blobs,
        caller.tenant_id(),
        &payment_id,
        &caller.key.key_id,
        &shapes,
        render,
    )
    .await
    .map_err(|e| match e {
        IssueError::Store(StoreError::NotFound) => ApiError::not_found("Payment"),
        IssueError::Store(other) => other.into(),
        IssueError::Render(PdfError::InvalidInput(reason)) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVOICE_NOT_RENDERABLE",
            format!("The invoice cannot be made: {reason}"),
        ),
        IssueError::Render(PdfError::Render { detail }) => {
            tracing::error!(%detail, %payment_id, "an invoice failed to render");
            ApiError::internal()
        }
    })?;
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let message = if issued.created {
        format!("Invoice {} issued", issued.invoice.invoice_number)
    } else {
        format!(
            "Invoice {} was issued before",
            issued.invoice.invoice_number
        )
    };
    Ok((
        status,
        Json(InvoiceIssued {
            success: true,
            message,
            invoice_number: issued.invoice.invoice_number,
            payment_id: issued.invoice.payment_id,
            issue_date: issued.invoice.issue_date,
            file_id: issued.file.file_id.clone(),
            file: file_body(&issued.file),
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_line_by_line() {
        let stored = r#"{"contactName":"Ada","streetAddress":"1 File St","buildingInfo":"Floor 2","city":"London","postalCode":"N1 7GU","country":"GB"}"#;
        assert_eq!(
            address_lines(Some(stored)),
            vec!["1 File St", "Floor 2", "N1 7GU London", "GB"]
        );
        assert!(address_lines(None).is_empty());
        assert!(address_lines(Some("not json")).is_empty());
    }
}
