//! Billing groups: one customer's rentals billed together, one `consolidated` payment a month
//! on the group's billing day.
//!
//! A member's own monthly payments are parked (cancelled, marked with the group) for every month
//! the group bills, and each month's consolidated payment carries one line per parked payment.
//! [`resync_in`] brings all of it in line with the group and its members after any change, and
//! only ever touches months still to be issued whose consolidated payment is unpaid: nothing
//! paid, and nothing already issued, is rewritten.

use std::collections::BTreeMap;

use flexportal_domain::billing_groups::{Line, due_date, issue_date, totals};
use flexportal_domain::ids::IdKind;
use flexportal_domain::time::{now_micros, time_zone, today_in};

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::payments::{self, PAYMENT_COLUMNS, Payment};
use crate::{Result, StoreError, Wire, args};

/// Why a consolidated payment with no one left to bill was cancelled; such a payment is
/// revived if members come back for its month.
const EMPTIED: &str = "No member of the billing group is billed this month";

crate::row! {
    #[derive(Debug, Clone)]
    pub struct BillingGroup {
        pub tenant_id: String,
        pub billing_group_id: String,
        pub customer_id: String,
        pub group_name: String,
        pub billing_day: i64,
        pub status: String,
        pub notes: Option<String>,
        pub currency: String,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const GROUP_COLUMNS: &str = "tenant_id, billing_group_id, customer_id, group_name, billing_day, status, notes, currency, created_by, created_at, updated_at";

crate::row! {
    struct Member {
        rental_id: String,
        monthly_amount: i64,
    }
}

/// A group with its active members, as the API shows it.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: BillingGroup,
    pub rental_ids: Vec<String>,
    /// The members' monthly amounts, minor units.
    pub total_monthly_amount: i64,
}

pub struct NewGroup {
    pub customer_id: String,
    pub group_name: String,
    pub billing_day: i64,
    pub rental_ids: Vec<String>,
    pub notes: Option<String>,
    pub created_by: String,
}

#[derive(Default)]
pub struct GroupChanges {
    pub group_name: Option<String>,
    pub billing_day: Option<i64>,
    /// Replaces the membership.
    pub rental_ids: Option<Vec<String>>,
    pub notes: Option<String>,
    pub status: Option<String>,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

async fn group_in(tx: &mut Tx, tenant_id: &str, group_id: &str) -> Result<Option<BillingGroup>> {
    tx.fetch_optional(
        format!("SELECT {GROUP_COLUMNS} FROM billing_groups WHERE tenant_id = $1 AND billing_group_id = $2"),
        args![tenant_id, group_id],
    )
    .await
}

const MEMBERS: &str = "SELECT rental_id, monthly_amount FROM rentals WHERE tenant_id = $1 AND billing_group_id = $2 AND status = 'active' ORDER BY created_at, rental_id";

fn view_of(group: BillingGroup, members: Vec<Member>) -> GroupView {
    GroupView {
        total_monthly_amount: members.iter().map(|m| m.monthly_amount).sum(),
        rental_ids: members.into_iter().map(|m| m.rental_id).collect(),
        group,
    }
}

async fn view_in(tx: &mut Tx, group: BillingGroup) -> Result<GroupView> {
    let members: Vec<Member> = tx
        .fetch_all(MEMBERS, args![&group.tenant_id, &group.billing_group_id])
        .await?;
    Ok(view_of(group, members))
}

pub async fn get(db: &Db, tenant_id: &str, group_id: &str) -> Result<Option<GroupView>> {
    let group: Option<BillingGroup> = db
        .fetch_optional(
            format!("SELECT {GROUP_COLUMNS} FROM billing_groups WHERE tenant_id = $1 AND billing_group_id = $2"),
            args![tenant_id, group_id],
        )
        .await?;
    let Some(group) = group else {
        return Ok(None);
    };
    let members: Vec<Member> = db.fetch_all(MEMBERS, args![tenant_id, group_id]).await?;
    Ok(Some(view_of(group, members)))
}

#[derive(Debug, Clone, Default)]
pub struct GroupFilters {
    pub customer_id: Option<String>,
    pub status: Option<String>,
}

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: GroupFilters,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<GroupView>> {
    let mut conditions = Vec::new();
    for (sql, value) in [
        ("customer_id = {}", filters.customer_id),
        ("status = {}", filters.status),
    ] {
        if let Some(v) = value {
            conditions.push(Filter::new(sql, v));
        }
    }
    let spec = ListSpec {
        from: "billing_groups",
        columns: GROUP_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "billing_group_id",
        sort: SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    let page: Page<BillingGroup> = list::fetch_page(db, tenant_id, &spec).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for group in page.items {
        let members: Vec<Member> = db
            .fetch_all(MEMBERS, args![tenant_id, &group.billing_group_id])
            .await?;
        items.push(view_of(group, members));
    }
    Ok(Page {
        items,
        has_more: page.has_more,
    })
}

/// Checks that every one of `rental_ids` is an active rental of `customer_id`.
async fn check_members(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: &str,
    rental_ids: &[String],
) -> Result<()> {
    for rental_id in rental_ids {
        let rental: Option<(String, String)> = tx
            .fetch_optional(
                "SELECT customer_id, status FROM rentals WHERE tenant_id = $1 AND rental_id = $2",
                args![tenant_id, rental_id],
            )
            .await?;
        match rental {
            None => {
                return Err(refused(
                    "SUBSCRIPTION_NOT_FOUND",
                    format!("No subscription {rental_id}"),
                ));
            }
            Some((owner, _)) if owner != customer_id => {
                return Err(refused(
                    "SUBSCRIPTION_DIFFERENT_CUSTOMER",
                    format!("Subscription {rental_id} belongs to another customer"),
                ));
            }
            Some((_, status)) if status != "active" => {
                return Err(refused(
                    "SUBSCRIPTION_NOT_ACTIVE",
                    format!("Subscription {rental_id} is {status}"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Puts `rental_ids` in the group, re-billing any group they leave.
async fn join(
    tx: &mut Tx,
    group: &BillingGroup,
    rental_ids: &[String],
    wire: &dyn Wire,
) -> Result<()> {
    let now = now_micros();
    for rental_id in rental_ids {
        let previous: Option<(Option<String>,)> = tx
            .fetch_optional(
                "SELECT billing_group_id FROM rentals WHERE tenant_id = $1 AND rental_id = $2",
                args![&group.tenant_id, rental_id],
            )
            .await?;
        tx.execute(
            "UPDATE rentals SET billing_group_id = $3, updated_at = $4 WHERE tenant_id = $1 AND rental_id = $2",
            args![&group.tenant_id, rental_id, &group.billing_group_id, now],
        )
        .await?;
        if let Some((Some(other),)) = previous
            && other != group.billing_group_id
        {
            resync_in(tx, &group.tenant_id, &other, wire).await?;
        }
    }
    Ok(())
}

async fn record(tx: &mut Tx, view: &GroupView, event_type: &str) -> Result<()> {
    let g = &view.group;
    events::record(
        tx,
        NewEvent {
            tenant_id: &g.tenant_id,
            event_type,
            resource_type: "billing_group",
            resource_id: &g.billing_group_id,
            data: serde_json::json!({
                "billingGroupId": g.billing_group_id,
                "customerId": g.customer_id,
                "groupName": g.group_name,
                "billingDay": g.billing_day,
                "status": g.status,
                "rentalIds": view.rental_ids,
            }),
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    db: &Db,
    tenant_id: &str,
    currency: &str,
    new: NewGroup,
    wire: &dyn Wire,
) -> Result<GroupView> {
    let mut tx = db.begin().await?;
    let customer: Option<(String,)> = tx
        .fetch_optional(
            "SELECT customer_id FROM customers WHERE tenant_id = $1 AND customer_id = $2",
            args![tenant_id, &new.customer_id],
        )
        .await?;
    if customer.is_none() {
        return Err(refused(
            "CUSTOMER_NOT_FOUND",
            format!("No customer {}", new.customer_id),
        ));
    }
    check_members(&mut tx, tenant_id, &new.customer_id, &new.rental_ids).await?;
    let group_id = IdKind::BillingGroup.generate();
    let now = now_micros();
    tx.execute(
        format!("INSERT INTO billing_groups ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $9)"),
        args![
            tenant_id,
            &group_id,
            &new.customer_id,
            &new.group_name,
            new.billing_day,
            new.notes,
            currency,
            &new.created_by,
            now
        ],
    )
    .await?;
    let group = group_in(&mut tx, tenant_id, &group_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    join(&mut tx, &group, &new.rental_ids, wire).await?;
    resync_in(&mut tx, tenant_id, &group_id, wire).await?;
    let view = view_in(&mut tx, group).await?;
    record(&mut tx, &view, "billing_group.created").await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn update(
    db: &Db,
    tenant_id: &str,
    group_id: &str,
    changes: GroupChanges,
    wire: &dyn Wire,
) -> Result<GroupView> {
    let mut tx = db.begin().await?;
    let now = now_micros();
    // Touching the row first serialises concurrent changes to the group.
    let touched = tx
        .execute(
            "UPDATE billing_groups SET updated_at = $3 WHERE tenant_id = $1 AND billing_group_id = $2",
            args![tenant_id, group_id, now],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    let group = group_in(&mut tx, tenant_id, group_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(rental_ids) = &changes.rental_ids {
        check_members(&mut tx, tenant_id, &group.customer_id, rental_ids).await?;
        tx.execute(
            "UPDATE rentals SET billing_group_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND billing_group_id = $2 AND status = 'active'",
            args![tenant_id, group_id, now],
        )
        .await?;
        join(&mut tx, &group, rental_ids, wire).await?;
    }
    tx.execute(
        "UPDATE billing_groups SET group_name = COALESCE($3, group_name), billing_day = COALESCE($4, billing_day), \
         notes = COALESCE($5, notes), status = COALESCE($6, status) WHERE tenant_id = $1 AND billing_group_id = $2",
        args![
            tenant_id,
            group_id,
            changes.group_name,
            changes.billing_day,
            changes.notes,
            changes.status
        ],
    )
    .await?;
    resync_in(&mut tx, tenant_id, group_id, wire).await?;
    let group = group_in(&mut tx, tenant_id, group_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let view = view_in(&mut tx, group).await?;
    record(&mut tx, &view, "billing_group.updated").await?;
    tx.commit().await?;
    Ok(view)
}

/// Deletes the group; its members go back to paying on their own from the next unissued month.
pub async fn delete(db: &Db, tenant_id: &str, group_id: &str, wire: &dyn Wire) -> Result<()> {
    let mut tx = db.begin().await?;
    let group = group_in(&mut tx, tenant_id, group_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let view = view_in(&mut tx, group).await?;
    tx.execute(
        "DELETE FROM billing_groups WHERE tenant_id = $1 AND billing_group_id = $2",
        args![tenant_id, group_id],
    )
    .await?;
    // Ended rentals keep the group they were billed in; the active ones leave it.
    tx.execute(
        "UPDATE rentals SET billing_group_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND billing_group_id = $2 AND status = 'active'",
        args![tenant_id, group_id, now_micros()],
    )
    .await?;
    resync_in(&mut tx, tenant_id, group_id, wire).await?;
    record(&mut tx, &view, "billing_group.deleted").await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a rental of `customer_id` may join `group_id` as it is created.
pub(crate) async fn check_joinable(
    tx: &mut Tx,
    tenant_id: &str,
    group_id: &str,
    customer_id: &str,
) -> Result<()> {
    match group_in(tx, tenant_id, group_id).await? {
        None => Err(refused(
            "BILLING_GROUP_NOT_FOUND",
            format!("No billing group {group_id}"),
        )),
        Some(group) if group.customer_id != customer_id => Err(refused(
            "SUBSCRIPTION_DIFFERENT_CUSTOMER",
            format!("Billing group {group_id} belongs to another customer"),
        )),
        Some(_) => Ok(()),
    }
}

async fn set_payment(
    tx: &mut Tx,
    tenant_id: &str,
    payment_id: &str,
    sql: &'static str,
    values: Vec<crate::db::Arg>,
    event: &str,
    wire: &dyn Wire,
) -> Result<()> {
    let mut arguments = args![tenant_id, payment_id];
    arguments.extend(values);
    tx.execute(sql, arguments).await?;
    let payment = payments::get_in(tx, tenant_id, payment_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    payments::record(tx, &payment, event, wire).await
}

/// Brings the group's months still to be issued in line with the group and its members: parks
/// members' own payments, hands back those of rentals that left, and writes one consolidated
/// payment a month. A deleted or inactive group bills no one.
pub(crate) async fn resync_in(
    tx: &mut Tx,
    tenant_id: &str,
    group_id: &str,
    wire: &dyn Wire,
) -> Result<()> {
    let zone: Option<(String,)> = tx
        .fetch_optional(
            "SELECT timezone FROM business_units WHERE tenant_id = $1",
            args![tenant_id],
        )
        .await?;
    let today = today_in(&time_zone(zone.map(|z| z.0).as_deref().unwrap_or("UTC")));
    let group = group_in(tx, tenant_id, group_id).await?;
    let billing = group.as_ref().filter(|g| g.status == "active");
    let members: Vec<Member> = match billing {
        Some(g) => {
            tx.fetch_all(MEMBERS, args![tenant_id, &g.billing_group_id])
                .await?
        }
        None => Vec::new(),
    };
    let is_member = |rental_id: &Option<String>| {
        rental_id
            .as_deref()
            .is_some_and(|id| members.iter().any(|m| m.rental_id == id))
    };
    let terms: Option<(Option<String>,)> = match &group {
        Some(g) => {
            tx.fetch_optional(
                "SELECT payment_terms FROM customers WHERE tenant_id = $1 AND customer_id = $2",
                args![tenant_id, &g.customer_id],
            )
            .await?
        }
        None => None,
    };
    let terms = terms.and_then(|t| t.0);
    let consolidated: BTreeMap<String, Payment> = tx
        .fetch_all::<Payment>(
            format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND billing_group_id = $2 AND payment_type = 'consolidated'"),
            args![tenant_id, group_id],
        )
        .await?
        .into_iter()
        .map(|p| (p.billing_period.clone(), p))
        .collect();
    let billing_day = group.as_ref().map_or(1, |g| g.billing_day);
    // A month is open while its payment is not issued yet and nothing has happened to it.
    let open = |period: &str| {
        issue_date(period, billing_day).is_some_and(|issue| issue >= today)
            && consolidated.get(period).is_none_or(|p| {
                p.status == "pending"
                    || (p.status == "cancelled"
                        && p.cancellation_reason.as_deref() == Some(EMPTIED))
            })
    };
    let now = now_micros();

    // Payments parked here whose rental no longer belongs go back to it, in open months.
    let parked: Vec<Payment> = tx
        .fetch_all(
            format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND billing_group_id = $2 AND payment_type = 'individual' AND status = 'cancelled' ORDER BY due_date, payment_id"),
            args![tenant_id, group_id],
        )
        .await?;
    for payment in &parked {
        if is_member(&payment.rental_id) || !open(&payment.billing_period) {
            continue;
        }
        let rental_active: Option<(String,)> = tx
            .fetch_optional(
                "SELECT rental_id FROM rentals WHERE tenant_id = $1 AND rental_id = $2 AND status = 'active'",
                args![tenant_id, payment.rental_id.clone()],
            )
            .await?;
        if rental_active.is_some() {
            set_payment(
                tx,
                tenant_id,
                &payment.payment_id,
                "UPDATE payments SET status = 'pending', billing_group_id = NULL, cancellation_reason = NULL, updated_at = $3 WHERE tenant_id = $1 AND payment_id = $2",
                args![now],
                "payment.scheduled",
                wire,
            )
            .await?;
        }
    }

    // Members' own monthly payments in open months are billed by the group instead.
    let reason = format!("Billed with billing group {group_id}");
    for member in &members {
        let own: Vec<Payment> = tx
            .fetch_all(
                format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND rental_id = $2 AND payment_type = 'individual' AND category = 'rental' AND status = 'pending' ORDER BY due_date, payment_id"),
                args![tenant_id, &member.rental_id],
            )
            .await?;
        for payment in own.iter().filter(|p| open(&p.billing_period)) {
            set_payment(
                tx,
                tenant_id,
                &payment.payment_id,
                "UPDATE payments SET status = 'cancelled', billing_group_id = $3, cancellation_reason = $4, updated_at = $5 WHERE tenant_id = $1 AND payment_id = $2",
                args![group_id, &reason, now],
                "payment.cancelled",
                wire,
            )
            .await?;
        }
    }

    // One line per parked payment of a member, by month.
    let parked: Vec<Payment> = tx
        .fetch_all(
            format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND billing_group_id = $2 AND payment_type = 'individual' AND status = 'cancelled' ORDER BY due_date, rental_id, payment_id"),
            args![tenant_id, group_id],
        )
        .await?;
    let mut months: BTreeMap<String, (Vec<Line>, i64)> = BTreeMap::new();
    for payment in parked
        .iter()
        .filter(|p| is_member(&p.rental_id) && open(&p.billing_period))
    {
        let rental_id = payment.rental_id.clone().unwrap_or_default();
        let entry = months
            .entry(payment.billing_period.clone())
            .or_insert_with(|| (Vec::new(), payment.tax_rate_bp));
        entry.0.push(Line {
            description: format!("Rental {rental_id}, {}", payment.billing_period),
            rental_id,
            amount: payment.subtotal,
            tax_amount: payment.tax_amount,
            total: payment.total,
        });
    }
    for (period, existing) in &consolidated {
        if open(period) && existing.status == "pending" && !months.contains_key(period) {
            set_payment(
                tx,
                tenant_id,
                &existing.payment_id,
                "UPDATE payments SET status = 'cancelled', cancellation_reason = $3, line_items = '[]', subtotal = 0, tax_amount = 0, total = 0, updated_at = $4 WHERE tenant_id = $1 AND payment_id = $2",
                args![EMPTIED, now],
                "payment.cancelled",
                wire,
            )
            .await?;
        }
    }
    let Some(group) = billing else {
        return Ok(());
    };
    for (period, (lines, tax_rate_bp)) in months {
        let Some(issue) = issue_date(&period, group.billing_day) else {
            continue;
        };
        let due = due_date(issue, terms.as_deref()).to_string();
        let (net, tax, gross) = totals(&lines);
        let lines_json = serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into());
        match consolidated.get(&period) {
            Some(existing) => {
                let unchanged = existing.status == "pending"
                    && existing.line_items.as_deref() == Some(lines_json.as_str())
                    && existing.due_date == due;
                if !unchanged {
                    set_payment(
                        tx,
                        tenant_id,
                        &existing.payment_id,
                        "UPDATE payments SET status = 'pending', cancellation_reason = NULL, line_items = $3, subtotal = $4, tax_amount = $5, total = $6, due_date = $7, updated_at = $8 WHERE tenant_id = $1 AND payment_id = $2",
                        args![lines_json, net, tax, gross, due, now],
                        "payment.scheduled",
                        wire,
                    )
                    .await?;
                }
            }
            None => {
                let payment_id = IdKind::Payment.generate();
                tx.execute(
                    "INSERT INTO payments (tenant_id, payment_id, customer_id, billing_group_id, payment_type, category, billing_period, due_date, subtotal, tax_amount, tax_rate_bp, total, currency, status, idempotency_key, line_items, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'consolidated', 'rental', $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $14, $14)",
                    args![
                        tenant_id,
                        &payment_id,
                        &group.customer_id,
                        group_id,
                        &period,
                        due,
                        net,
                        tax,
                        tax_rate_bp,
                        gross,
                        &group.currency,
                        format!("{group_id}:{period}"),
                        lines_json,
                        now
                    ],
                )
                .await?;
                let payment = payments::get_in(tx, tenant_id, &payment_id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                payments::record(tx, &payment, "payment.scheduled", wire).await?;
            }
        }
    }
    Ok(())
}
