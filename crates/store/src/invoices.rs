//! Invoices: one per payment, as a PDF file of the payment's order, numbered per business unit
//! without gaps and without duplicates.
//!
//! # How a number is never lost nor used twice
//!
//! The number comes from `business_units.invoice_sequence`, advanced with `UPDATE … RETURNING`
//! in the same transaction that writes the invoice row and the file row. The PDF shows the
//! number, so it is rendered after the number is drawn, and its bytes are written to the file
//! store before that transaction commits:
//!
//! - anything failing before the commit (a refusal found late, the renderer, the file store,
//!   the database) rolls the transaction back, the counter with it, so the number goes to the
//!   next invoice; the bytes already written are removed ([`Unclaimed`]);
//! - a crash before the commit is the same rollback, done by the database; at worst an object
//!   nobody refers to stays in the file store (named by a fresh file id, never reused). That is
//!   harmless, where a row pointing to missing bytes would not be, which is why the bytes go
//!   first;
//! - a commit whose outcome is unknown (the connection dropped while committing) is settled by
//!   reading the invoice back: the bytes are removed only when it is certainly not there;
//! - two requests never draw the same number: the `UPDATE` holds the business unit's row until
//!   the commit (SQLite has one writer anyway), and unique indexes on `(tenant_id,
//!   invoice_number)` and `(tenant_id, sequence)` would refuse a duplicate regardless.
//!
//! The price is that one business unit issues one invoice at a time, rendering included (on
//! SQLite, whose single writer is held meanwhile, every write waits for the rendering: tens of
//! milliseconds in a release build). Within a process the requests queue on an in-memory lock
//! per business unit before they take a database connection, so waiting invoices do not drain
//! the pool; everything that does not need the number is read before that queue.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use flexportal_domain::billing_groups::Line;
use flexportal_domain::ids::IdKind;
use flexportal_domain::invoices::{check_invoiceable, invoice_number};
use flexportal_domain::time::{now_micros, time_zone, today_in};
use jiff::civil::Date;

use crate::blobs::{BlobStore, Unclaimed};
use crate::customers::{self, Customer};
use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::files::{self, File, NewFile, storage_key};
use crate::payments::{self, Payment};
use crate::rentals::{self, Rental};
use crate::tenancy::{self, BusinessUnit};
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Invoice {
        pub tenant_id: String,
        pub payment_id: String,
        pub sequence: i64,
        pub invoice_number: String,
        pub file_id: String,
        pub order_id: String,
        pub billing_group_id: Option<String>,
        /// `YYYY-MM-DD` in the business unit's time zone.
        pub issue_date: String,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const INVOICE_COLUMNS: &str = "tenant_id, payment_id, sequence, invoice_number, file_id, order_id, billing_group_id, issue_date, created_by, created_at, updated_at";

/// Everything an invoice document shows, handed to the renderer once the number is drawn.
#[derive(Debug, Clone)]
pub struct Draft {
    pub invoice_number: String,
    pub issue_date: Date,
    pub business_unit: BusinessUnit,
    pub payment: Payment,
    /// A consolidated payment's lines, in order; empty for an individual payment.
    pub lines: Vec<Line>,
    pub customer: Customer,
    /// The rentals billed: the payment's own, or one per line of a consolidated payment, in
    /// the lines' order.
    pub rentals: Vec<Rental>,
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub invoice: Invoice,
    pub file: File,
    /// `false` when the payment had its invoice already and nothing was written.
    pub created: bool,
}

/// Why no invoice was issued: the store's reasons, or the renderer's own error.
#[derive(Debug)]
pub enum IssueError<E> {
    Store(StoreError),
    Render(E),
}

impl<E> From<StoreError> for IssueError<E> {
    fn from(e: StoreError) -> Self {
        IssueError::Store(e)
    }
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

/// One queue per business unit: invoices of a unit are numbered one at a time anyway (the
/// database row lock), and waiting here holds no connection.
static TURNS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn turn(tenant_id: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut turns = TURNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Queues nobody waits in are dropped, so the map holds only busy business units.
    turns.retain(|_, queue| Arc::strong_count(queue) > 1);
    turns.entry(tenant_id.to_string()).or_default().clone()
}

pub async fn of_payment(db: &Db, tenant_id: &str, payment_id: &str) -> Result<Option<Invoice>> {
    db.fetch_optional(
        format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND payment_id = $2"),
        args![tenant_id, payment_id],
    )
    .await
}

async fn of_payment_in(tx: &mut Tx, tenant_id: &str, payment_id: &str) -> Result<Option<Invoice>> {
    tx.fetch_optional(
        format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND payment_id = $2"),
        args![tenant_id, payment_id],
    )
    .await
}

/// The payment's invoice with its file, when both exist.
async fn existing(db: &Db, tenant_id: &str, payment_id: &str) -> Result<Option<Issued>> {
    let Some(invoice) = of_payment(db, tenant_id, payment_id).await? else {
        return Ok(None);
    };
    Ok(files::get(db, tenant_id, &invoice.file_id)
        .await?
        .map(|file| Issued {
            invoice,
            file,
            created: false,
        }))
}

/// What the invoice of `payment` is about, read before any lock is taken.
async fn gather(
    db: &Db,
    tenant_id: &str,
    payment: Payment,
) -> Result<(BusinessUnit, Customer, Vec<Line>, Vec<Rental>)> {
    let unit = tenancy::business_unit(db, tenant_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let customer = customers::get(db, tenant_id, &payment.customer_id)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!("payment {} has no customer", payment.payment_id))
        })?;
    let lines: Vec<Line> = match &payment.rental_id {
        Some(_) => Vec::new(),
        None => serde_json::from_str(payment.line_items.as_deref().unwrap_or("[]"))?,
    };
    let rental_ids: Vec<&str> = match &payment.rental_id {
        Some(rental_id) => vec![rental_id.as_str()],
        None => lines.iter().map(|line| line.rental_id.as_str()).collect(),
    };
    if rental_ids.is_empty() {
        return Err(refused(
            "PAYMENT_NOT_INVOICEABLE",
            "The payment bills no rental, so there is nothing to invoice",
        ));
    }
    let mut rentals = Vec::with_capacity(rental_ids.len());
    for rental_id in rental_ids {
        rentals.push(
            rentals::get(db, tenant_id, rental_id)
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "payment {} bills an unknown rental",
                        payment.payment_id
                    ))
                })?,
        );
    }
    Ok((unit, customer, lines, rentals))
}

/// Issues the invoice of a payment: draws the next number, has `render` make the PDF of the
/// [`Draft`], stores it as an `invoice` file of the (first) rental's order and records
/// `invoice.created`. A payment invoiced before gets its invoice back (`created: false`) and
/// nothing is written; one whose PDF was deleted since gets a fresh rendering under the same
/// number. Unknown payment: `NotFound`; cancelled: `PAYMENT_CANCELLED`.
pub async fn issue<E, R, Fut>(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    payment_id: &str,
    created_by: &str,
    wire: &dyn Wire,
    render: R,
) -> Result<Issued, IssueError<E>>
where
    R: FnOnce(Draft) -> Fut,
    Fut: Future<Output = std::result::Result<Vec<u8>, E>>,
{
    if let Some(found) = existing(db, tenant_id, payment_id).await? {
        return Ok(found);
    }
    let payment = payments::get(db, tenant_id, payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    check_invoiceable(&payment.status).map_err(|(code, message)| refused(code, message))?;
    let (unit, customer, lines, rentals) = gather(db, tenant_id, payment).await?;
    let order_id = rentals[0].order_id.clone();
    let issue_date = today_in(&time_zone(&unit.timezone));

    let queue = turn(tenant_id);
    let _turn = queue.lock().await;
    let mut tx = db.begin().await?;
    let (sequence, number, reissued) = match of_payment_in(&mut tx, tenant_id, payment_id).await? {
        Some(found) => {
            if let Some(file) = files::get_in(&mut tx, tenant_id, &found.file_id).await? {
                return Ok(Issued {
                    invoice: found,
                    file,
                    created: false,
                });
            }
            (found.sequence, found.invoice_number, true)
        }
        None => {
            crate::row! {
                struct Sequence {
                    invoice_sequence: i64,
                }
            }
            let drawn: Sequence = tx
                .fetch_one(
                    "UPDATE business_units SET invoice_sequence = invoice_sequence + 1 WHERE tenant_id = $1 RETURNING invoice_sequence",
                    args![tenant_id],
                )
                .await?;
            let number = invoice_number(&unit.order_number_prefix, drawn.invoice_sequence);
            (drawn.invoice_sequence, number, false)
        }
    };
    // Read again under the lock: a payment cancelled meanwhile is refused, its number kept.
    let payment = payments::get_in(&mut tx, tenant_id, payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !reissued {
        check_invoiceable(&payment.status).map_err(|(code, message)| refused(code, message))?;
    }
    let billing_group_id = payment.billing_group_id.clone();
    let draft = Draft {
        invoice_number: number.clone(),
        issue_date,
        business_unit: unit,
        payment,
        lines,
        customer,
        rentals,
    };
    let pdf = Bytes::from(render(draft).await.map_err(IssueError::Render)?);

    let file_id = IdKind::File.generate();
    let key = storage_key(tenant_id, &file_id);
    let size = pdf.len() as i64;
    // Armed before the write: a request dropped while writing leaves nothing behind either.
    let unclaimed = Unclaimed::new(blobs, &key);
    if let Err(e) = blobs.put(&key, pdf).await {
        unclaimed.discard().await;
        return Err(e.into());
    }
    let issue_day = issue_date.to_string();
    let record = Record {
        tenant_id,
        payment_id,
        sequence,
        number: &number,
        file_id: &file_id,
        size,
        order_id: &order_id,
        billing_group_id: billing_group_id.as_deref(),
        issue_date: &issue_day,
        created_by,
        reissued,
    };
    let written = match write_rows(&mut tx, &record, wire).await {
        Ok(written) => written,
        Err(e) => {
            drop(tx);
            unclaimed.discard().await;
            // Another server issued this payment's invoice first: that one stands.
            if matches!(e, StoreError::Unique(_))
                && let Some(found) = existing(db, tenant_id, payment_id).await?
            {
                return Ok(found);
            }
            return Err(e.into());
        }
    };
    match tx.commit().await {
        Ok(()) => {
            unclaimed.claim();
            Ok(written)
        }
        Err(e) => match of_payment(db, tenant_id, payment_id).await {
            // The commit went through after all: the bytes are the invoice's.
            Ok(Some(found)) if found.file_id == file_id => {
                unclaimed.claim();
                Ok(written)
            }
            Ok(_) => {
                unclaimed.discard().await;
                Err(e.into())
            }
            // Unknown either way: an unreferenced object is harmless, a missing one is not.
            Err(_) => {
                unclaimed.claim();
                Err(e.into())
            }
        },
    }
}

struct Record<'a> {
    tenant_id: &'a str,
    payment_id: &'a str,
    sequence: i64,
    number: &'a str,
    file_id: &'a str,
    size: i64,
    order_id: &'a str,
    billing_group_id: Option<&'a str>,
    issue_date: &'a str,
    created_by: &'a str,
    reissued: bool,
}

async fn write_rows(tx: &mut Tx, r: &Record<'_>, wire: &dyn Wire) -> Result<Issued> {
    let mut metadata = serde_json::json!({
        "paymentId": r.payment_id,
        "invoiceNumber": r.number,
    });
    if let Some(group) = r.billing_group_id {
        metadata["billingGroupId"] = group.into();
    }
    let file = files::insert_in(
        tx,
        r.tenant_id,
        r.file_id,
        r.size,
        &NewFile {
            order_id: r.order_id.to_string(),
            file_type: "invoice".into(),
            category: "generated",
            filename: flexportal_domain::files::safe_filename(&format!("{}.pdf", r.number)),
            original_filename: None,
            content_type: "application/pdf".into(),
            bytes: Bytes::new(),
            uploaded_by: r.created_by.to_string(),
            metadata: Some(metadata.to_string()),
        },
        wire,
    )
    .await?;
    let now = now_micros();
    if r.reissued {
        tx.execute(
            "UPDATE invoices SET file_id = $3, order_id = $4, updated_at = $5 WHERE tenant_id = $1 AND payment_id = $2",
            args![r.tenant_id, r.payment_id, r.file_id, r.order_id, now],
        )
        .await?;
    } else {
        tx.execute(
            format!("INSERT INTO invoices ({INVOICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"),
            args![
                r.tenant_id,
                r.payment_id,
                r.sequence,
                r.number,
                r.file_id,
                r.order_id,
                r.billing_group_id,
                r.issue_date,
                r.created_by,
                now
            ],
        )
        .await?;
    }
    let invoice = of_payment_in(tx, r.tenant_id, r.payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !r.reissued {
        events::record(
            tx,
            NewEvent {
                tenant_id: r.tenant_id,
                event_type: "invoice.created",
                resource_type: "invoice",
                resource_id: &invoice.invoice_number,
                data: serde_json::json!({
                    "invoiceNumber": invoice.invoice_number,
                    "paymentId": invoice.payment_id,
                    "fileId": invoice.file_id,
                    "orderId": invoice.order_id,
                    "billingGroupId": invoice.billing_group_id,
                    "issueDate": invoice.issue_date,
                    "createdBy": invoice.created_by,
                }),
            },
        )
        .await?;
    }
    Ok(Issued {
        invoice,
        file,
        // A fresh rendering of an existing invoice is not a new invoice.
        created: !r.reissued,
    })
}
