//! Payments: a rental's monthly schedule and its one-off charges, and the states a payment
//! moves through as a collection system reports on it.

use flexportal_domain::ids::IdKind;
use flexportal_domain::payments::check_transition;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Payment {
        pub tenant_id: String,
        pub payment_id: String,
        pub customer_id: String,
        pub rental_id: Option<String>,
        pub billing_group_id: Option<String>,
        pub payment_type: String,
        pub category: String,
        pub billing_period: String,
        pub due_date: String,
        pub subtotal: i64,
        pub tax_amount: i64,
        pub tax_rate_bp: i64,
        pub total: i64,
        pub currency: String,
        pub status: String,
        pub idempotency_key: String,
        /// How it was paid: `manual`, `stripe`, `adyen` or `paypal`.
        pub provider: Option<String>,
        pub payment_reference: Option<String>,
        pub marked_by: Option<String>,
        pub notes: Option<String>,
        pub cancellation_reason: Option<String>,
        pub failure_reason: Option<String>,
        pub next_retry_at: Option<i64>,
        pub paid_at: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
        /// A consolidated payment's lines: JSON of `billing_groups::Line`, minor units.
        pub line_items: Option<String>,
    }
}

pub(crate) const PAYMENT_COLUMNS: &str = "tenant_id, payment_id, customer_id, rental_id, billing_group_id, payment_type, category, billing_period, due_date, subtotal, tax_amount, tax_rate_bp, total, currency, status, idempotency_key, provider, payment_reference, marked_by, notes, cancellation_reason, failure_reason, next_retry_at, paid_at, created_at, updated_at, line_items";

/// A payment to schedule.
pub(crate) struct NewPayment<'a> {
    pub tenant_id: &'a str,
    pub customer_id: &'a str,
    pub rental_id: &'a str,
    pub category: &'a str,
    pub due_date: String,
    pub billing_period: String,
    pub subtotal: i64,
    pub tax_amount: i64,
    pub tax_rate_bp: i64,
    pub total: i64,
    pub currency: &'a str,
    pub idempotency_key: String,
}

pub(crate) async fn insert_in(
    tx: &mut Tx,
    new: NewPayment<'_>,
    now: i64,
    wire: &dyn Wire,
) -> Result<Payment> {
    let payment_id = IdKind::Payment.generate();
    tx.execute(
        "INSERT INTO payments (tenant_id, payment_id, customer_id, rental_id, payment_type, category, billing_period, due_date, subtotal, tax_amount, tax_rate_bp, total, currency, status, idempotency_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'individual', $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14, $14)",
        args![
            new.tenant_id,
            &payment_id,
            new.customer_id,
            new.rental_id,
            new.category,
            new.billing_period,
            new.due_date,
            new.subtotal,
            new.tax_amount,
            new.tax_rate_bp,
            new.total,
            new.currency,
            new.idempotency_key,
            now
        ],
    )
    .await?;
    let payment = get_in(tx, new.tenant_id, &payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(tx, &payment, "payment.scheduled", wire).await?;
    Ok(payment)
}

pub(crate) async fn get_in(
    tx: &mut Tx,
    tenant_id: &str,
    payment_id: &str,
) -> Result<Option<Payment>> {
    tx.fetch_optional(
        format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND payment_id = $2"),
        args![tenant_id, payment_id],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, payment_id: &str) -> Result<Option<Payment>> {
    db.fetch_optional(
        format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND payment_id = $2"),
        args![tenant_id, payment_id],
    )
    .await
}

pub(crate) async fn record(
    tx: &mut Tx,
    payment: &Payment,
    event_type: &str,
    wire: &dyn Wire,
) -> Result<()> {
    events::record(
        tx,
        NewEvent {
            tenant_id: &payment.tenant_id,
            event_type,
            resource_type: "payment",
            resource_id: &payment.payment_id,
            data: wire.payment(payment),
        },
    )
    .await?;
    Ok(())
}

/// Payments of a rental, by due date.
pub async fn of_rental(db: &Db, tenant_id: &str, rental_id: &str) -> Result<Vec<Payment>> {
    db.fetch_all(
        format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND rental_id = $2 ORDER BY due_date, payment_id"),
        args![tenant_id, rental_id],
    )
    .await
}

/// How a payment changes state, with what the caller tells about it.
pub enum Change {
    Paid {
        /// `manual`, `stripe`, `adyen` or `paypal`.
        provider: String,
        reference: Option<String>,
        notes: Option<String>,
        /// When the money arrived (epoch microseconds); now when `None`.
        paid_at: Option<i64>,
        marked_by: String,
    },
    Failed {
        reason: String,
        next_retry_at: Option<i64>,
    },
    Cancelled {
        reason: String,
    },
}

/// Moves a payment to its next state; a paid payment adds to the rental's and the customer's
/// collected totals in the same transaction.
pub async fn change(
    db: &Db,
    tenant_id: &str,
    payment_id: &str,
    change: Change,
    wire: &dyn Wire,
) -> Result<Payment> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let current = get_in(&mut tx, tenant_id, payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let (target, event) = match &change {
        Change::Paid { .. } => ("paid", "payment.succeeded"),
        Change::Failed { .. } => ("failed", "payment.failed"),
        Change::Cancelled { .. } => ("cancelled", "payment.cancelled"),
    };
    check_transition(&current.status, target)
        .map_err(|(code, message)| StoreError::Refused { code, message })?;
    match change {
        Change::Paid {
            provider,
            reference,
            notes,
            paid_at,
            marked_by,
        } => {
            tx.execute(
                "UPDATE payments SET status = 'paid', provider = $3, payment_reference = $4, notes = COALESCE($5, notes), marked_by = $6, \
                 paid_at = $7, updated_at = $8 WHERE tenant_id = $1 AND payment_id = $2",
                args![tenant_id, payment_id, provider, reference, notes, marked_by, paid_at.unwrap_or(now), now],
            )
            .await?;
            tx.execute(
                "UPDATE customers SET lifetime_collected = lifetime_collected + $3, updated_at = $4 WHERE tenant_id = $1 AND customer_id = $2",
                args![tenant_id, &current.customer_id, current.total, now],
            )
            .await?;
            // What each rental collected: the whole payment, or its line of a consolidated one.
            let shares: Vec<(String, i64)> = match &current.rental_id {
                Some(rental_id) => vec![(rental_id.clone(), current.total)],
                None => serde_json::from_str::<Vec<flexportal_domain::billing_groups::Line>>(
                    current.line_items.as_deref().unwrap_or("[]"),
                )
                .unwrap_or_default()
                .into_iter()
                .map(|line| (line.rental_id, line.total))
                .collect(),
            };
            for (rental_id, collected) in shares {
                tx.execute(
                    "UPDATE rentals SET total_collected = total_collected + $3, updated_at = $4 WHERE tenant_id = $1 AND rental_id = $2",
                    args![tenant_id, &rental_id, collected, now],
                )
                .await?;
                // The money counts towards the asset the rental is on (or ended on).
                tx.execute(
                    "UPDATE asset_rentals SET collected = collected + $3 WHERE tenant_id = $1 AND rental_id = $2 \
                     AND serial_number = (SELECT asset_serial_number FROM rentals WHERE tenant_id = $1 AND rental_id = $2)",
                    args![tenant_id, &rental_id, collected],
                )
                .await?;
            }
        }
        Change::Failed {
            reason,
            next_retry_at,
        } => {
            tx.execute(
                "UPDATE payments SET status = 'failed', failure_reason = $3, next_retry_at = $4, updated_at = $5 WHERE tenant_id = $1 AND payment_id = $2",
                args![tenant_id, payment_id, reason, next_retry_at, now],
            )
            .await?;
        }
        Change::Cancelled { reason } => {
            tx.execute(
                "UPDATE payments SET status = 'cancelled', cancellation_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND payment_id = $2",
                args![tenant_id, payment_id, reason, now],
            )
            .await?;
        }
    }
    let payment = get_in(&mut tx, tenant_id, payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &payment, event, wire).await?;
    tx.commit().await?;
    Ok(payment)
}

/// Cancels a rental's payments not yet paid and due on or after `from` (ISO date); paid ones
/// are never touched. Returns how many were cancelled.
pub(crate) async fn cancel_future_in(
    tx: &mut Tx,
    tenant_id: &str,
    rental_id: &str,
    from: &str,
    reason: &str,
    wire: &dyn Wire,
) -> Result<usize> {
    let due: Vec<Payment> = tx
        .fetch_all(
            format!(
                "SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND rental_id = $2 AND due_date >= $3 AND status IN ('pending', 'failed') ORDER BY due_date, payment_id"
            ),
            args![tenant_id, rental_id, from],
        )
        .await?;
    let now = now_micros();
    for payment in &due {
        tx.execute(
            "UPDATE payments SET status = 'cancelled', cancellation_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND payment_id = $2",
            args![tenant_id, &payment.payment_id, reason, now],
        )
        .await?;
        let cancelled = get_in(tx, tenant_id, &payment.payment_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        record(tx, &cancelled, "payment.cancelled", wire).await?;
    }
    Ok(due.len())
}

#[derive(Debug, Clone, Default)]
pub struct PaymentFilters {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub rental_id: Option<String>,
    pub billing_group_id: Option<String>,
    pub due_from: Option<String>,
    pub due_to: Option<String>,
}

pub const PAYMENT_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
    ),
    (
        "dueDate",
        SortColumn {
            expr: "due_date",
            kind: SortKind::Text,
        },
    ),
    (
        "amount",
        SortColumn {
            expr: "total",
            kind: SortKind::Int,
        },
    ),
    (
        "status",
        SortColumn {
            expr: "status",
            kind: SortKind::Text,
        },
    ),
];

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: PaymentFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Payment>> {
    let mut conditions = Vec::new();
    for (sql, value) in [
        ("status = {}", filters.status),
        ("customer_id = {}", filters.customer_id),
        ("rental_id = {}", filters.rental_id),
        ("billing_group_id = {}", filters.billing_group_id),
        ("due_date >= {}", filters.due_from),
        ("due_date <= {}", filters.due_to),
    ] {
        if let Some(v) = value {
            conditions.push(Filter::new(sql, v));
        }
    }
    let spec = ListSpec {
        from: "payments",
        columns: PAYMENT_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "payment_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}
