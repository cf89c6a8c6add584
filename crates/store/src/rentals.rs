//! Rentals: one ordered unit bound to one asset for a contract, with its payment schedule.
//! Creating or ending a rental moves the asset, the order, the customer's figures and the
//! payments together, in one transaction.

use flexportal_domain::billing::{self, Charge, billing_period, due_dates, end_date};
use flexportal_domain::buyout::{BuyoutFigures, buyout_figures};
use flexportal_domain::catalog;
use flexportal_domain::early_return::{EarlyReturnFee, early_return_fee};
use flexportal_domain::ids::IdKind;
use flexportal_domain::orders::fulfilment_status;
use flexportal_domain::time::now_micros;
use jiff::civil::Date;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::orders::OrderItem;
use crate::payments::{self, NewPayment, Payment};
use crate::products::Variant;
use crate::tenancy::BusinessUnit;
use crate::{Result, StoreError, Wire, args, assets, billing_groups, orders};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Rental {
        pub tenant_id: String,
        pub rental_id: String,
        pub order_id: String,
        pub customer_id: String,
        pub asset_serial_number: String,
        pub product_id: String,
        pub variant_id: String,
        pub sku: String,
        pub product_name: String,
        pub product_image_url: Option<String>,
        pub monthly_amount: i64,
        pub currency: String,
        pub status: String,
        pub original_contract_length: i64,
        pub contract_length: i64,
        pub start_date: String,
        pub end_date: String,
        pub list_price: Option<i64>,
        pub acquisition_cost: i64,
        pub total_collected: i64,
        pub billing_group_id: Option<String>,
        pub customer_email: String,
        pub customer_name: String,
        /// JSON object, once cancelled.
        pub cancellation_details: Option<String>,
        /// JSON object, once bought out.
        pub buyout_details: Option<String>,
        /// JSON array of extensions, oldest first.
        pub extension_history: String,
        /// JSON object, once returned early.
        pub early_return_details: Option<String>,
        /// JSON array of device replacements, oldest first.
        pub replacement_history: String,
        pub notes: Option<String>,
        pub ended_at: Option<i64>,
        /// When a contract end waiting for action was first noticed.
        pub contract_end_flagged_at: Option<i64>,
        /// The rental this one replaced in an upgrade.
        pub upgrade_from_rental_id: Option<String>,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const RENTAL_COLUMNS: &str = "tenant_id, rental_id, order_id, customer_id, asset_serial_number, product_id, variant_id, sku, product_name, product_image_url, monthly_amount, currency, status, original_contract_length, contract_length, start_date, end_date, list_price, acquisition_cost, total_collected, billing_group_id, customer_email, customer_name, cancellation_details, buyout_details, extension_history, early_return_details, replacement_history, notes, ended_at, contract_end_flagged_at, upgrade_from_rental_id, created_by, created_at, updated_at";

#[derive(Debug, Clone)]
pub struct NewRental {
    pub order_id: String,
    pub serial_number: String,
    /// When given, must be the order's customer.
    pub customer_id: Option<String>,
    /// In the business unit's calendar; today there when `None`.
    pub start_date: Option<Date>,
    /// The order line's length when `None`.
    pub contract_length: Option<i64>,
    pub notes: Option<String>,
    pub created_by: String,
    /// Minor units; the order line's price when `None`.
    pub monthly_override: Option<i64>,
    pub upgrade_from_rental_id: Option<String>,
    /// The billing group the rental joins.
    pub billing_group_id: Option<String>,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

/// Fulfils one unit of an order with an asset: the rental, its payments, and every side effect.
pub async fn create(
    db: &Db,
    unit: &BusinessUnit,
    new: NewRental,
    today: Date,
    wire: &dyn Wire,
) -> Result<(Rental, Vec<Payment>)> {
    let mut tx = db.begin().await?;
    let created = create_in(&mut tx, unit, new, today, wire).await?;
    tx.commit().await?;
    Ok(created)
}

pub(crate) async fn create_in(
    tx: &mut Tx,
    unit: &BusinessUnit,
    new: NewRental,
    today: Date,
    wire: &dyn Wire,
) -> Result<(Rental, Vec<Payment>)> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let now = now_micros();

    // Touching the order first serialises concurrent fulfilments of it (a row lock on
    // PostgreSQL; SQLite has one writer anyway), so no two rentals take the same line.
    let touched = tx
        .execute(
            "UPDATE orders SET updated_at = $3 WHERE tenant_id = $1 AND order_id = $2",
            args![tenant_id, &new.order_id, now],
        )
        .await?;
    if touched == 0 {
        return Err(refused(
            "ORDER_NOT_FOUND",
            format!("No order {}", new.order_id),
        ));
    }
    let order = orders::get_in(tx, tenant_id, &new.order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    match order.status.as_str() {
        "cancelled" => return Err(refused("ORDER_CANCELLED", "The order is cancelled")),
        "pending" if settings.require_order_confirmation => {
            return Err(refused(
                "ORDER_NOT_CONFIRMED",
                "Confirm the order before fulfilling it",
            ));
        }
        _ => {}
    }
    if new
        .customer_id
        .as_ref()
        .is_some_and(|c| *c != order.customer_id)
    {
        return Err(refused(
            "CUSTOMER_MISMATCH",
            "customerId is not the order's customer",
        ));
    }

    // Claiming the asset is one conditional update: of concurrent claims exactly one succeeds.
    let asset = assets::get_in(tx, tenant_id, &new.serial_number)
        .await?
        .ok_or_else(|| {
            refused(
                "ASSET_NOT_FOUND",
                format!("No asset has serial number {}", new.serial_number),
            )
        })?;
    let mut items: Vec<OrderItem> = order.items();
    let Some(line) = items
        .iter()
        .position(|i| i.sku == asset.sku && (i.rental_ids.len() as i64) < i.quantity)
    else {
        return Err(refused(
            "NO_MATCHING_ORDER_ITEM",
            format!("No unfulfilled line of the order is for {}", asset.sku),
        ));
    };
    let claimed = tx
        .execute(
            "UPDATE assets SET status = 'rented_out', customer_id = $3, rental_id = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND serial_number = $2 AND status = 'available'",
            args![tenant_id, &asset.serial_number, &order.customer_id, "", now],
        )
        .await?;
    if claimed == 0 {
        return Err(refused(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {} is {}", asset.serial_number, asset.status),
        ));
    }

    let item = items[line].clone();
    let months = new.contract_length.unwrap_or(item.contract_length);
    let monthly = if let Some(price) = new.monthly_override {
        price
    } else if months == item.contract_length {
        item.unit_price
    } else {
        let variant: Option<Variant> = tx
            .fetch_optional(
                "SELECT v.tenant_id, v.variant_id, v.product_id, p.product_sku, p.name AS product_name, v.variant_sku, v.variant_name, v.grade, \
                 v.condition, v.color_name, v.images, v.list_price, v.acquisition_cost, v.pricing, v.status, v.created_at, v.updated_at \
                 FROM variants v JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id WHERE v.tenant_id = $1 AND v.variant_id = $2",
                args![tenant_id, &item.variant_id],
            )
            .await?;
        let pricing = variant.map(|v| v.pricing()).unwrap_or_default();
        catalog::price_for(&pricing, months)
            .map(|t| t.monthly_price)
            .ok_or_else(|| {
                refused(
                    "INVALID_CONTRACT_LENGTH",
                    format!("{} is not offered for {months} months", item.sku),
                )
            })?
    };
    if let Some(group_id) = &new.billing_group_id {
        billing_groups::check_joinable(tx, tenant_id, group_id, &order.customer_id).await?;
    }
    let start = new.start_date.unwrap_or(today);
    let end = end_date(start, months);
    let rental_id = IdKind::Subscription.generate();
    let customer: serde_json::Value = serde_json::from_str(&order.customer).unwrap_or_default();
    let customer_name = format!(
        "{} {}",
        customer["firstName"].as_str().unwrap_or_default(),
        customer["lastName"].as_str().unwrap_or_default()
    );
    tx.execute(
        format!(
            "INSERT INTO rentals ({RENTAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13, $13, $14, $15, $16, $17, 0, $24, $18, $19, NULL, NULL, '[]', NULL, '[]', $20, NULL, NULL, $23, $21, $22, $22)"
        ),
        args![
            tenant_id,
            &rental_id,
            &order.order_id,
            &order.customer_id,
            &asset.serial_number,
            &asset.product_id,
            &asset.variant_id,
            &asset.sku,
            &item.product_name,
            asset.product_image_url.clone().or(item.product_image_url.clone()),
            monthly,
            &order.currency,
            months,
            start.to_string(),
            end.to_string(),
            item.list_price,
            asset.acquisition_cost,
            customer["email"].as_str().unwrap_or_default(),
            customer_name.trim(),
            new.notes,
            &new.created_by,
            now,
            new.upgrade_from_rental_id.clone(),
            new.billing_group_id.clone()
        ],
    )
    .await?;
    tx.execute(
        "UPDATE assets SET rental_id = $3 WHERE tenant_id = $1 AND serial_number = $2",
        args![tenant_id, &asset.serial_number, &rental_id],
    )
    .await?;
    assets::bind_in(tx, tenant_id, &asset.serial_number, &rental_id, now).await?;

    // The order line records its rental; the order moves to partial or fulfilled.
    items[line].rental_ids.push(rental_id.clone());
    let rented = order.rented_devices + 1;
    let status = fulfilment_status(&order.status, rented, order.total_devices).to_string();
    tx.execute(
        "UPDATE orders SET items = $3, rented_devices = $4, status = $5, updated_at = $6 WHERE tenant_id = $1 AND order_id = $2",
        args![tenant_id, &order.order_id, serde_json::to_string(&items)?, rented, &status, now],
    )
    .await?;
    let fulfilled = status == "fulfilled";
    tx.execute(
        "UPDATE customers SET active_rentals = active_rentals + 1, total_devices_rented = total_devices_rented + 1, \
         total_monthly_revenue = total_monthly_revenue + $3, open_orders = open_orders - $4, updated_at = $5 \
         WHERE tenant_id = $1 AND customer_id = $2",
        args![tenant_id, &order.customer_id, monthly, i64::from(fulfilled), now],
    )
    .await?;

    let rental = get_in(tx, tenant_id, &rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(tx, &rental, "subscription.created", wire).await?;
    let asset = assets::get_in(tx, tenant_id, &asset.serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(tx, &asset, "asset.assigned", wire).await?;
    if fulfilled {
        let order = orders::get_in(tx, tenant_id, &order.order_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        orders::record(tx, &order, "order.fulfilled", wire).await?;
    }

    let money = charge(unit, monthly);
    let mut schedule = Vec::with_capacity(months as usize);
    for due in due_dates(start, months, settings.billing_start) {
        let period = billing_period(due);
        schedule.push(
            payments::insert_in(
                tx,
                NewPayment {
                    tenant_id,
                    customer_id: &rental.customer_id,
                    rental_id: &rental_id,
                    category: "rental",
                    due_date: due.to_string(),
                    idempotency_key: format!("{rental_id}:{period}"),
                    billing_period: period,
                    subtotal: money.net,
                    tax_amount: money.tax,
                    tax_rate_bp: unit.vat_rate_bp,
                    total: money.total,
                    currency: &rental.currency,
                },
                now,
                wire,
            )
            .await?,
        );
    }
    regroup(tx, &rental, wire).await?;
    Ok((rental, schedule))
}

/// A member's payments changed: its billing group bills them again.
async fn regroup(tx: &mut Tx, rental: &Rental, wire: &dyn Wire) -> Result<()> {
    if let Some(group_id) = &rental.billing_group_id {
        billing_groups::resync_in(tx, &rental.tenant_id, group_id, wire).await?;
    }
    Ok(())
}

async fn get_in(tx: &mut Tx, tenant_id: &str, rental_id: &str) -> Result<Option<Rental>> {
    tx.fetch_optional(
        format!("SELECT {RENTAL_COLUMNS} FROM rentals WHERE tenant_id = $1 AND rental_id = $2"),
        args![tenant_id, rental_id],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, rental_id: &str) -> Result<Option<Rental>> {
    db.fetch_optional(
        format!("SELECT {RENTAL_COLUMNS} FROM rentals WHERE tenant_id = $1 AND rental_id = $2"),
        args![tenant_id, rental_id],
    )
    .await
}

async fn record(tx: &mut Tx, rental: &Rental, event_type: &str, wire: &dyn Wire) -> Result<()> {
    events::record(
        tx,
        NewEvent {
            tenant_id: &rental.tenant_id,
            event_type,
            resource_type: "subscription",
            resource_id: &rental.rental_id,
            data: wire.rental(rental),
        },
    )
    .await?;
    Ok(())
}

/// Cancels an active rental: payments due after `today` are cancelled (paid ones stay), the
/// asset is returned, the customer's figures drop.
pub async fn cancel(
    db: &Db,
    tenant_id: &str,
    rental_id: &str,
    details: serde_json::Value,
    today: Date,
    wire: &dyn Wire,
) -> Result<Rental> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let touched = tx
        .execute(
            "UPDATE rentals SET status = 'cancelled', cancellation_details = $3, ended_at = $4, updated_at = $4 \
             WHERE tenant_id = $1 AND rental_id = $2 AND status = 'active'",
            args![tenant_id, rental_id, details.to_string(), now],
        )
        .await?;
    let rental = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if touched == 0 {
        let code = if rental.status == "cancelled" {
            "ALREADY_CANCELLED"
        } else {
            "ALREADY_ENDED"
        };
        return Err(refused(code, format!("The rental is {}", rental.status)));
    }
    let tomorrow = today.tomorrow().unwrap_or(today).to_string();
    payments::cancel_future_in(
        &mut tx,
        tenant_id,
        rental_id,
        &tomorrow,
        "rental cancelled",
        wire,
    )
    .await?;
    asset_comes_back(&mut tx, &rental, now, wire).await?;
    tx.commit().await?;
    Ok(rental)
}

/// What every end that takes the asset back shares, once the rental row says it ended: the
/// asset is returned, the customer's figures drop, and `subscription.ended`, the group's new
/// total and `asset.returned` are recorded.
async fn asset_comes_back(tx: &mut Tx, ended: &Rental, now: i64, wire: &dyn Wire) -> Result<()> {
    let asset = assets::mark_returned_in(tx, &ended.tenant_id, &ended.asset_serial_number, now)
        .await?
        .ok_or(StoreError::NotFound)?;
    customer_loses_rental(tx, ended, now).await?;
    record(tx, ended, "subscription.ended", wire).await?;
    regroup(tx, ended, wire).await?;
    assets::record(tx, &asset, "asset.returned", wire).await?;
    Ok(())
}

/// Every rental of an order, oldest first: what its contract lists. An order holds at most a
/// few hundred units, and `rentals_order` serves the lookup.
pub async fn of_order(db: &Db, tenant_id: &str, order_id: &str) -> Result<Vec<Rental>> {
    db.fetch_all(
        format!("SELECT {RENTAL_COLUMNS} FROM rentals WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, rental_id"),
        args![tenant_id, order_id],
    )
    .await
}

#[derive(Debug, Clone, Default)]
pub struct RentalFilters {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    pub serial_number: Option<String>,
    pub sku: Option<String>,
    pub billing_group_id: Option<String>,
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub end_from: Option<String>,
    pub end_to: Option<String>,
}

pub const RENTAL_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
    ),
    (
        "startDate",
        SortColumn {
            expr: "start_date",
            kind: SortKind::Text,
        },
    ),
    (
        "endDate",
        SortColumn {
            expr: "end_date",
            kind: SortKind::Text,
        },
    ),
    (
        "monthlyAmount",
        SortColumn {
            expr: "monthly_amount",
            kind: SortKind::Int,
        },
    ),
];

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: RentalFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Rental>> {
    let mut conditions = Vec::new();
    for (sql, value) in [
        ("status = {}", filters.status),
        ("customer_id = {}", filters.customer_id),
        ("order_id = {}", filters.order_id),
        ("asset_serial_number = {}", filters.serial_number),
        ("sku = {}", filters.sku),
        ("billing_group_id = {}", filters.billing_group_id),
        ("start_date >= {}", filters.start_from),
        ("start_date <= {}", filters.start_to),
        ("end_date >= {}", filters.end_from),
        ("end_date <= {}", filters.end_to),
    ] {
        if let Some(v) = value {
            conditions.push(Filter::new(sql, v));
        }
    }
    let spec = ListSpec {
        from: "rentals",
        columns: RENTAL_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "rental_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}

/// Locks an active rental for an action (a row lock on PostgreSQL; SQLite has one writer) and
/// returns it; any other status is `SUBSCRIPTION_NOT_ACTIVE`.
async fn lock_active(tx: &mut Tx, tenant_id: &str, rental_id: &str, now: i64) -> Result<Rental> {
    tx.execute(
        "UPDATE rentals SET updated_at = $3 WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, now],
    )
    .await?;
    let rental = get_in(tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if rental.status != "active" {
        return Err(refused(
            "SUBSCRIPTION_NOT_ACTIVE",
            format!("The rental is {}", rental.status),
        ));
    }
    Ok(rental)
}

/// Scheduled rental payments due after `today` that are not paid: what ending the rental now
/// would not collect. A month billed with the rental's group counts until the group's payment
/// for it is paid.
async fn remaining_in(
    tx: &mut Tx,
    tenant_id: &str,
    rental_id: &str,
    today: Date,
) -> Result<Vec<Payment>> {
    tx.fetch_all(
        format!(
            "SELECT {} FROM payments p WHERE tenant_id = $1 AND rental_id = $2 AND category = 'rental' AND due_date > $3 \
             AND (status IN ('pending', 'failed', 'processing') \
                  OR (status = 'cancelled' AND billing_group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments c \
                      WHERE c.tenant_id = p.tenant_id AND c.billing_group_id = p.billing_group_id AND c.payment_type = 'consolidated' \
                      AND c.billing_period = p.billing_period AND c.status = 'paid'))) \
             ORDER BY due_date, payment_id",
            payments::PAYMENT_COLUMNS
        ),
        args![tenant_id, rental_id, today.to_string()],
    )
    .await
}

/// The remaining payments as a price: net of VAT when VAT is added on top (the buyout payment
/// adds it again), gross when prices include it.
fn remaining_price(remaining: &[Payment], unit: &BusinessUnit) -> i64 {
    if unit.vat_mode == "inclusive" {
        remaining.iter().map(|p| p.total).sum()
    } else {
        remaining.iter().map(|p| p.subtotal).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub months: i64,
    /// Minor units; applies to the payments not yet due and the added ones.
    pub new_monthly_amount: Option<i64>,
    pub reason: String,
    pub notes: Option<String>,
    pub by: String,
    /// Extend only if the rental still ends on this date: an automatic renewal is a
    /// compare-and-set on the end it saw, so two sweeps at once renew a rental once.
    pub if_end_date: Option<String>,
}

/// Extends an active rental: the end date and contract length move, the added months get
/// payments, an optional new monthly amount applies to every payment not yet due.
pub async fn extend(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    ext: Extension,
    today: Date,
    wire: &dyn Wire,
) -> Result<Rental> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let now = now_micros();
    let mut tx = db.begin().await?;
    let rental = lock_active(&mut tx, tenant_id, rental_id, now).await?;
    if ext
        .if_end_date
        .as_ref()
        .is_some_and(|seen| *seen != rental.end_date)
    {
        return Err(refused(
            "ALREADY_RENEWED",
            "The rental was renewed meanwhile",
        ));
    }
    let new_length = rental.contract_length + ext.months;
    if new_length > 120 {
        return Err(StoreError::Refused {
            code: "VALIDATION_ERROR",
            message: format!(
                "A rental runs at most 120 months; this one has {} already",
                rental.contract_length
            ),
        });
    }
    let start: Date = rental
        .start_date
        .parse()
        .map_err(|_| StoreError::Corrupt("start date".into()))?;
    let new_end = end_date(start, new_length);
    let monthly = ext.new_monthly_amount.unwrap_or(rental.monthly_amount);
    let money = charge(unit, monthly);
    let subtotal = money.net;
    if ext.new_monthly_amount.is_some() {
        tx.execute(
            "UPDATE payments SET subtotal = $4, tax_amount = $5, total = $6, updated_at = $7 WHERE tenant_id = $1 AND rental_id = $2 \
             AND category = 'rental' AND due_date > $3 AND status IN ('pending', 'failed')",
            args![tenant_id, rental_id, today.to_string(), subtotal, money.tax, money.total, now],
        )
        .await?;
    }
    let mut history: Vec<serde_json::Value> =
        serde_json::from_str(&rental.extension_history).unwrap_or_default();
    history.push(serde_json::json!({
        "extensionMonths": ext.months,
        "oldContractLength": rental.contract_length,
        "newContractLength": new_length,
        "oldMonthlyAmount": rental.monthly_amount,
        "newMonthlyAmount": monthly,
        "reason": ext.reason,

        "extendedBy": { "userId": ext.by },
        "oldEndDate": rental.end_date,
        "newEndDate": new_end.to_string(),
        "extendedAt": flexportal_domain::time::format_instant(now),
    }));
    if let (Some(notes), Some(last)) = (ext.notes, history.last_mut()) {
        last["notes"] = serde_json::Value::String(notes);
    }
    tx.execute(
        "UPDATE rentals SET contract_length = $3, end_date = $4, monthly_amount = $5, extension_history = $6, updated_at = $7 \
         WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, new_length, new_end.to_string(), monthly, serde_json::to_string(&history)?, now],
    )
    .await?;
    tx.execute(
        "UPDATE customers SET total_monthly_revenue = total_monthly_revenue + $3, updated_at = $4 WHERE tenant_id = $1 AND customer_id = $2",
        args![tenant_id, &rental.customer_id, monthly - rental.monthly_amount, now],
    )
    .await?;
    let dues = due_dates(start, new_length, settings.billing_start);
    for due in dues.into_iter().skip(rental.contract_length as usize) {
        let period = billing_period(due);
        payments::insert_in(
            &mut tx,
            NewPayment {
                tenant_id,
                customer_id: &rental.customer_id,
                rental_id,
                category: "rental",
                due_date: due.to_string(),
                idempotency_key: format!("{rental_id}:{period}"),
                billing_period: period,
                subtotal,
                tax_amount: money.tax,
                tax_rate_bp: unit.vat_rate_bp,
                total: money.total,
                currency: &rental.currency,
            },
            now,
            wire,
        )
        .await?;
    }
    let extended = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &extended, "subscription.extended", wire).await?;
    regroup(&mut tx, &extended, wire).await?;
    tx.commit().await?;
    Ok(extended)
}

/// What buying a rental out would cost today, without changing anything.
pub async fn buyout_quote(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    today: Date,
) -> Result<(Rental, BuyoutFigures)> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let mut tx = db.begin().await?;
    let rental = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if rental.status != "active" {
        return Err(refused(
            "SUBSCRIPTION_NOT_ACTIVE",
            format!("The rental is {}", rental.status),
        ));
    }
    let remaining = remaining_price(
        &remaining_in(&mut tx, tenant_id, rental_id, today).await?,
        unit,
    );
    let exponent = flexportal_domain::money::currency_exponent(&unit.currency);
    let figures = buyout_figures(
        &settings.buyout,
        remaining,
        rental.list_price.unwrap_or(0),
        exponent,
    );
    Ok((rental, figures))
}

pub struct Buyout {
    /// Minor units; overrides the business unit's method.
    pub price_override: Option<i64>,
    pub reason: String,
    pub notes: Option<String>,
    pub by: String,
}

/// Ends an active rental with the customer buying the device: future payments cancelled, one
/// buyout payment due today, the asset sold.
pub async fn buyout(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    buy: Buyout,
    today: Date,
    wire: &dyn Wire,
) -> Result<(Rental, Payment)> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let now = now_micros();
    let mut tx = db.begin().await?;
    let rental = lock_active(&mut tx, tenant_id, rental_id, now).await?;
    let remaining_list = remaining_in(&mut tx, tenant_id, rental_id, today).await?;
    let remaining = remaining_price(&remaining_list, unit);
    let exponent = flexportal_domain::money::currency_exponent(&unit.currency);
    let figures = buyout_figures(
        &settings.buyout,
        remaining,
        rental.list_price.unwrap_or(0),
        exponent,
    );
    let (price, calculation) = match buy.price_override {
        Some(price) => (price, "manual_override"),
        None => (figures.price, "auto_calculated"),
    };
    let tomorrow = today.tomorrow().unwrap_or(today).to_string();
    payments::cancel_future_in(&mut tx, tenant_id, rental_id, &tomorrow, "bought out", wire)
        .await?;
    let mut details = serde_json::json!({
        "buyoutPrice": price,
        "calculationMethod": calculation,
        "method": settings.buyout.method,
        "calculationBreakdown": {
            "remainingMonths": remaining_list.len(),
            "remainingMonthsPayment": figures.remaining_payments,
            "listPricePercentage": settings.buyout.list_price_percentage,
            "listPriceAmount": figures.depreciated_value,
            "flatFee": flexportal_domain::money::minor_from_major(settings.buyout.flat_fee, exponent).unwrap_or(0),
        },
        "reason": buy.reason,
        "processedBy": { "userId": buy.by },
        "buyoutDate": today.to_string(),
    });
    if let Some(notes) = buy.notes {
        details["notes"] = serde_json::Value::String(notes);
    }
    tx.execute(
        "UPDATE rentals SET status = 'ended_buyout', buyout_details = $3, ended_at = $4, updated_at = $4 WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, details.to_string(), now],
    )
    .await?;
    tx.execute(
        "UPDATE assets SET status = 'sold', rental_id = NULL, updated_at = $3 WHERE tenant_id = $1 AND serial_number = $2",
        args![tenant_id, &rental.asset_serial_number, now],
    )
    .await?;
    customer_loses_rental(&mut tx, &rental, now).await?;
    let money = charge(unit, price);
    let payment = payments::insert_in(
        &mut tx,
        NewPayment {
            tenant_id,
            customer_id: &rental.customer_id,
            rental_id,
            category: "buyout",
            due_date: today.to_string(),
            billing_period: billing_period(today),
            subtotal: money.net,
            tax_amount: money.tax,
            tax_rate_bp: unit.vat_rate_bp,
            total: money.total,
            currency: &rental.currency,
            idempotency_key: format!("{rental_id}:buyout"),
        },
        now,
        wire,
    )
    .await?;
    let ended = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &ended, "subscription.ended", wire).await?;
    regroup(&mut tx, &ended, wire).await?;
    let asset = assets::get_in(&mut tx, tenant_id, &rental.asset_serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(&mut tx, &asset, "asset.sold", wire).await?;
    tx.commit().await?;
    Ok((ended, payment))
}

/// A payment's amounts for `amount` (minor units) under the business unit's VAT.
fn charge(unit: &BusinessUnit, amount: i64) -> Charge {
    billing::charge(amount, unit.vat_rate_bp, unit.vat_mode == "inclusive")
}

/// The customer's figures when one of its rentals ends: one device and its monthly amount less.
async fn customer_loses_rental(tx: &mut Tx, rental: &Rental, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE customers SET active_rentals = active_rentals - 1, total_devices_rented = total_devices_rented - 1, \
         total_monthly_revenue = total_monthly_revenue - $3, updated_at = $4 WHERE tenant_id = $1 AND customer_id = $2",
        args![&rental.tenant_id, &rental.customer_id, rental.monthly_amount, now],
    )
    .await?;
    Ok(())
}

/// Days from a rental's start to `today`, never negative.
fn days_since(start: &str, today: Date) -> i64 {
    start
        .parse::<Date>()
        .ok()
        .map_or(0, |s| i64::from((today - s).get_days()).max(0))
}

/// The early-return fee today, without changing anything: the fee, its breakdown, and the
/// number of months still to come.
pub async fn early_return_quote(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    today: Date,
) -> Result<(Rental, EarlyReturnFee, i64)> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let mut tx = db.begin().await?;
    let rental = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if rental.status != "active" {
        return Err(refused(
            "SUBSCRIPTION_NOT_ACTIVE",
            format!("The rental is {}", rental.status),
        ));
    }
    let remaining = remaining_in(&mut tx, tenant_id, rental_id, today).await?;
    let exponent = flexportal_domain::money::currency_exponent(&unit.currency);
    let fee = early_return_fee(
        &settings.early_return,
        remaining_price(&remaining, unit),
        days_since(&rental.start_date, today),
        exponent,
    );
    Ok((rental, fee, remaining.len() as i64))
}

pub struct EarlyReturn {
    /// Minor units; overrides the business unit's method.
    pub fee_override: Option<i64>,
    pub waive: bool,
    pub return_condition: String,
    pub reason: String,
    pub damage_assessment: Option<String>,
    pub notes: Option<String>,
    pub by: String,
}

/// Ends an active rental with the device coming back early: future payments cancelled, a fee
/// payment when the fee is above zero, the asset returned.
pub async fn early_return(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    ret: EarlyReturn,
    today: Date,
    wire: &dyn Wire,
) -> Result<(Rental, Option<Payment>, i64)> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let now = now_micros();
    let mut tx = db.begin().await?;
    let rental = lock_active(&mut tx, tenant_id, rental_id, now).await?;
    let remaining = remaining_in(&mut tx, tenant_id, rental_id, today).await?;
    let exponent = flexportal_domain::money::currency_exponent(&unit.currency);
    let days = days_since(&rental.start_date, today);
    let computed = early_return_fee(
        &settings.early_return,
        remaining_price(&remaining, unit),
        days,
        exponent,
    );
    let (fee, calculation, method) = match (ret.waive, ret.fee_override) {
        (true, _) => (0, "manual_override", "manual"),
        (false, Some(fee)) => (fee, "manual_override", "manual"),
        (false, None) => (computed.fee, "auto_calculated", computed.method),
    };
    let months_rented = rental.contract_length - remaining.len() as i64;
    let tomorrow = today.tomorrow().unwrap_or(today).to_string();
    payments::cancel_future_in(
        &mut tx,
        tenant_id,
        rental_id,
        &tomorrow,
        "returned early",
        wire,
    )
    .await?;
    let mut details = serde_json::json!({
        "fee": fee,
        "feeWaived": ret.waive,
        "calculationMethod": calculation,
        "calculationBreakdown": {
            "method": method,
            "remainingMonths": remaining.len(),
            "gracePeriodApplied": computed.grace_period_applied,
            "daysFromStart": days,
        },
        "returnCondition": ret.return_condition,
        "reason": ret.reason,
        "processedBy": { "userId": ret.by },
        "returnedAt": flexportal_domain::time::format_instant(now),
        "actualMonthsRented": months_rented,
    });
    if let Some(text) = ret.damage_assessment {
        details["damageAssessment"] = serde_json::Value::String(text);
    }
    if let Some(text) = ret.notes {
        details["notes"] = serde_json::Value::String(text);
    }
    tx.execute(
        "UPDATE rentals SET status = 'ended_early_return', early_return_details = $3, ended_at = $4, updated_at = $4 WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, details.to_string(), now],
    )
    .await?;
    tx.execute(
        "UPDATE assets SET status = 'returned', condition = $3, customer_id = NULL, rental_id = NULL, updated_at = $4 WHERE tenant_id = $1 AND serial_number = $2",
        args![tenant_id, &rental.asset_serial_number, &ret.return_condition, now],
    )
    .await?;
    customer_loses_rental(&mut tx, &rental, now).await?;
    let payment = if fee > 0 {
        let money = charge(unit, fee);
        Some(
            payments::insert_in(
                &mut tx,
                NewPayment {
                    tenant_id,
                    customer_id: &rental.customer_id,
                    rental_id,
                    category: "early_return_fee",
                    due_date: today.to_string(),
                    billing_period: billing_period(today),
                    subtotal: money.net,
                    tax_amount: money.tax,
                    tax_rate_bp: unit.vat_rate_bp,
                    total: money.total,
                    currency: &rental.currency,
                    idempotency_key: format!("{rental_id}:early_return_fee"),
                },
                now,
                wire,
            )
            .await?,
        )
    } else {
        None
    };
    let ended = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &ended, "subscription.ended", wire).await?;
    regroup(&mut tx, &ended, wire).await?;
    let asset = assets::get_in(&mut tx, tenant_id, &rental.asset_serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(&mut tx, &asset, "asset.returned", wire).await?;
    tx.commit().await?;
    Ok((ended, payment, months_rented))
}

pub struct Replacement {
    pub new_serial_number: String,
    /// `damaged`, `stolen`, `defective` or `lost`: why the old device goes out of service.
    pub reason: String,
    pub damage_assessment: Option<String>,
    pub insurance_claim: bool,
    pub notes: Option<String>,
    pub by: String,
}

/// Swaps the device of an active rental for another available unit of the same SKU; the old
/// one becomes unavailable with the reason. Same rental, same price.
pub async fn replace(
    db: &Db,
    tenant_id: &str,
    rental_id: &str,
    rep: Replacement,
    wire: &dyn Wire,
) -> Result<(Rental, String)> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let rental = lock_active(&mut tx, tenant_id, rental_id, now).await?;
    let new_asset = assets::get_in(&mut tx, tenant_id, &rep.new_serial_number)
        .await?
        .ok_or_else(|| {
            refused(
                "ASSET_NOT_FOUND",
                format!("No asset has serial number {}", rep.new_serial_number),
            )
        })?;
    if new_asset.sku != rental.sku {
        return Err(refused(
            "SKU_MISMATCH",
            format!(
                "The replacement must be a {}, not a {}",
                rental.sku, new_asset.sku
            ),
        ));
    }
    let claimed = tx
        .execute(
            "UPDATE assets SET status = 'rented_out', customer_id = $3, rental_id = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND serial_number = $2 AND status = 'available'",
            args![tenant_id, &rep.new_serial_number, &rental.customer_id, rental_id, now],
        )
        .await?;
    if claimed == 0 {
        return Err(refused(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {} is {}", new_asset.serial_number, new_asset.status),
        ));
    }
    tx.execute(
        "UPDATE assets SET status = 'unavailable', unavailable_reason = $3, customer_id = NULL, rental_id = NULL, updated_at = $4 \
         WHERE tenant_id = $1 AND serial_number = $2",
        args![tenant_id, &rental.asset_serial_number, &rep.reason, now],
    )
    .await?;
    assets::release_in(
        &mut tx,
        tenant_id,
        &rental.asset_serial_number,
        rental_id,
        &format!("replaced_{}", rep.reason),
        now,
    )
    .await?;
    assets::bind_in(&mut tx, tenant_id, &rep.new_serial_number, rental_id, now).await?;
    let mut history: Vec<serde_json::Value> =
        serde_json::from_str(&rental.replacement_history).unwrap_or_default();
    let mut entry = serde_json::json!({
        "oldSerialNumber": rental.asset_serial_number,
        "newSerialNumber": rep.new_serial_number,
        "reason": rep.reason,
        "insuranceClaim": rep.insurance_claim,
        "replacedBy": { "userId": rep.by },
        "replacedAt": flexportal_domain::time::format_instant(now),
    });
    if let Some(text) = rep.damage_assessment {
        entry["damageAssessment"] = serde_json::Value::String(text);
    }
    if let Some(text) = rep.notes {
        entry["notes"] = serde_json::Value::String(text);
    }
    history.push(entry);
    tx.execute(
        "UPDATE rentals SET asset_serial_number = $3, replacement_history = $4, updated_at = $5 WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, &rep.new_serial_number, serde_json::to_string(&history)?, now],
    )
    .await?;
    let updated = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &updated, "subscription.updated", wire).await?;
    let old = assets::get_in(&mut tx, tenant_id, &rental.asset_serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(&mut tx, &old, "asset.updated", wire).await?;
    let new = assets::get_in(&mut tx, tenant_id, &rep.new_serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(&mut tx, &new, "asset.assigned", wire).await?;
    tx.commit().await?;
    Ok((updated, rental.asset_serial_number))
}

/// Replaces a rental's notes.
pub async fn set_notes(
    db: &Db,
    tenant_id: &str,
    rental_id: &str,
    notes: &str,
    wire: &dyn Wire,
) -> Result<Rental> {
    let mut tx = db.begin().await?;
    let touched = tx
        .execute(
            "UPDATE rentals SET notes = $3, updated_at = $4 WHERE tenant_id = $1 AND rental_id = $2",
            args![tenant_id, rental_id, notes, now_micros()],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    let rental = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &rental, "subscription.updated", wire).await?;
    tx.commit().await?;
    Ok(rental)
}

/// A rental whose contract may have ended: where it lives and when it ends.
#[derive(Debug, Clone)]
pub struct DueRental {
    pub tenant_id: String,
    pub rental_id: String,
    pub end_date: String,
}

/// Active rentals, across all tenants, whose last day is before `before` (an ISO date), oldest
/// first, after the cursor `(end_date, tenant_id, rental_id)` when given. Uses the sweep index.
pub async fn due_for_contract_end(
    db: &Db,
    before: &str,
    after: Option<&DueRental>,
    limit: i64,
) -> Result<Vec<DueRental>> {
    crate::row! {
        struct Due {
            tenant_id: String,
            rental_id: String,
            end_date: String,
        }
    }
    let rows: Vec<Due> = match after {
        None => {
            db.fetch_all(
                "SELECT tenant_id, rental_id, end_date FROM rentals WHERE status = 'active' AND end_date < $1 \
                 ORDER BY end_date, tenant_id, rental_id LIMIT $2",
                args![before, limit],
            )
            .await?
        }
        Some(cursor) => {
            db.fetch_all(
                "SELECT tenant_id, rental_id, end_date FROM rentals WHERE status = 'active' AND end_date < $1 \
                 AND (end_date, tenant_id, rental_id) > ($2, $3, $4) ORDER BY end_date, tenant_id, rental_id LIMIT $5",
                args![before, &cursor.end_date, &cursor.tenant_id, &cursor.rental_id, limit],
            )
            .await?
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| DueRental {
            tenant_id: r.tenant_id,
            rental_id: r.rental_id,
            end_date: r.end_date,
        })
        .collect())
}

/// What the sweep did to one rental.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractEnd {
    /// Not due in the business unit's calendar yet, or already handled (by another sweep).
    Skipped,
    Ended,
    Renewed,
    Flagged,
}

/// Applies the business unit's contract-end policy to one rental whose end date is before
/// `today`. Safe to run twice and from several servers at once: the end is a conditional update
/// on `status = 'active'`, so exactly one run ends a rental.
pub async fn end_contract(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    today: Date,
    wire: &dyn Wire,
) -> Result<ContractEnd> {
    use flexportal_domain::settings::ContractEndPolicy;
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    // Read inside the transaction that ends it: one connection and one descent of the table
    // rather than a reader's and then the writer's.
    let mut tx = db.begin().await?;
    let Some(rental) = get_in(&mut tx, tenant_id, rental_id).await? else {
        return Ok(ContractEnd::Skipped);
    };
    if rental.status != "active" || rental.end_date.as_str() >= today.to_string().as_str() {
        return Ok(ContractEnd::Skipped);
    }
    let renew_months = match settings.contract_end_policy {
        ContractEndPolicy::AutoRenewMonthly => Some(1),
        ContractEndPolicy::AutoRenewSameTerm => Some(rental.original_contract_length),
        _ => None,
    };
    if let Some(months) = renew_months.filter(|m| rental.contract_length + m <= 120) {
        let extension = Extension {
            months,
            new_monthly_amount: None,
            reason: "contract end: automatic renewal".into(),
            notes: None,
            by: "system".into(),
            if_end_date: Some(rental.end_date.clone()),
        };
        // The extension runs a transaction of its own, which checks the end date again.
        drop(tx);
        return match extend(db, unit, rental_id, extension, today, wire).await {
            Ok(_) => Ok(ContractEnd::Renewed),
            Err(StoreError::Refused {
                code: "SUBSCRIPTION_NOT_ACTIVE" | "ALREADY_RENEWED",
                ..
            }) => Ok(ContractEnd::Skipped),
            Err(e) => Err(e),
        };
    }
    let now = now_micros();
    if settings.contract_end_policy == ContractEndPolicy::RequireAction {
        let flagged = tx
            .execute(
                "UPDATE rentals SET contract_end_flagged_at = $3, updated_at = $3 WHERE tenant_id = $1 AND rental_id = $2 \
                 AND status = 'active' AND contract_end_flagged_at IS NULL",
                args![tenant_id, rental_id, now],
            )
            .await?;
        if flagged == 0 {
            return Ok(ContractEnd::Skipped);
        }
        let rental = get_in(&mut tx, tenant_id, rental_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        record(&mut tx, &rental, "subscription.contract_end_reached", wire).await?;
        tx.commit().await?;
        return Ok(ContractEnd::Flagged);
    }
    let ended = tx
        .execute(
            "UPDATE rentals SET status = 'ended_completed', ended_at = $3, updated_at = $3 WHERE tenant_id = $1 AND rental_id = $2 AND status = 'active'",
            args![tenant_id, rental_id, now],
        )
        .await?;
    if ended == 0 {
        return Ok(ContractEnd::Skipped);
    }
    // What the UPDATE above wrote, without reading the row back.
    let rental = Rental {
        status: "ended_completed".into(),
        ended_at: Some(now),
        updated_at: now,
        ..rental
    };
    asset_comes_back(&mut tx, &rental, now, wire).await?;
    tx.commit().await?;
    Ok(ContractEnd::Ended)
}

pub struct Upgrade {
    pub new_sku: String,
    pub new_serial_number: String,
    pub contract_length: i64,
    /// Minor units; the catalog price for the new term when `None`.
    pub new_monthly_amount: Option<i64>,
    pub reason: String,
    pub notes: Option<String>,
    pub by: String,
}

/// Upgrades in one step: the current rental ends (`ended_upgrade`, payments after today
/// cancelled, asset returned), an `upgrade` order is made for the new SKU, and a new active
/// rental on the new asset starts, linked by `upgradeFromRentalId`.
pub async fn upgrade(
    db: &Db,
    unit: &BusinessUnit,
    rental_id: &str,
    up: Upgrade,
    today: Date,
    wire: &dyn Wire,
) -> Result<(Rental, Rental)> {
    let tenant_id = unit.tenant_id.as_str();
    let now = now_micros();
    let mut tx = db.begin().await?;
    let old = lock_active(&mut tx, tenant_id, rental_id, now).await?;
    let customer = crate::customers::get_in(&mut tx, tenant_id, &old.customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let old_order = orders::get_in(&mut tx, tenant_id, &old.order_id)
        .await?
        .ok_or(StoreError::NotFound)?;

    let tomorrow = today.tomorrow().unwrap_or(today).to_string();
    payments::cancel_future_in(&mut tx, tenant_id, rental_id, &tomorrow, "upgraded", wire).await?;
    tx.execute(
        "UPDATE rentals SET status = 'ended_upgrade', ended_at = $3, updated_at = $3 WHERE tenant_id = $1 AND rental_id = $2",
        args![tenant_id, rental_id, now],
    )
    .await?;
    assets::mark_returned_in(&mut tx, tenant_id, &old.asset_serial_number, now).await?;
    customer_loses_rental(&mut tx, &old, now).await?;

    let order = orders::NewOrder {
        order_type: "upgrade".into(),
        customer: crate::customers::CustomerFields {
            email: Some(customer.email.clone()),
            first_name: Some(customer.first_name.clone()),
            last_name: Some(customer.last_name.clone()),
            ..Default::default()
        },
        billing_address: customer.last_billing_address.clone().unwrap_or(old_order.billing_address.clone()),
        shipping_address: customer.last_shipping_address.clone(),
        items: vec![orders::RequestedItem { sku: up.new_sku.clone(), quantity: 1, contract_length: Some(up.contract_length) }],
        custom_fields: None,
        notes: up.notes.clone(),
        extension_details: None,
        upgrade_details: Some(
            serde_json::json!({
                "previousDevice": old.product_name,
                "previousSerialNumber": old.asset_serial_number,
                "previousMonthlyAmount": flexportal_domain::money::major_json(old.monthly_amount, flexportal_domain::money::currency_exponent(&old.currency)),
                "previousRentalId": old.rental_id,
                "upgradeReason": up.reason,
            })
            .to_string(),
        ),
        created_by: up.by.clone(),
    };
    let order = match orders::create_in(&mut tx, unit, order, wire, false).await? {
        orders::Created::New(order) | orders::Created::Existing(order) => order,
    };
    // The new device is handed over now; an upgrade order needs no separate confirmation.
    tx.execute(
        "UPDATE orders SET status = 'confirmed', confirmed_at = $3 WHERE tenant_id = $1 AND order_id = $2",
        args![tenant_id, &order.order_id, now],
    )
    .await?;
    let (new, _) = create_in(
        &mut tx,
        unit,
        NewRental {
            order_id: order.order_id.clone(),
            serial_number: up.new_serial_number,
            customer_id: None,
            start_date: Some(today),
            contract_length: Some(up.contract_length),
            notes: up.notes,
            created_by: up.by,
            monthly_override: up.new_monthly_amount,
            upgrade_from_rental_id: Some(old.rental_id.clone()),
            // The new device is billed where the old one was.
            billing_group_id: old.billing_group_id.clone(),
        },
        today,
        wire,
    )
    .await?;
    let ended = get_in(&mut tx, tenant_id, rental_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &ended, "subscription.upgraded", wire).await?;
    regroup(&mut tx, &ended, wire).await?;
    let asset = assets::get_in(&mut tx, tenant_id, &ended.asset_serial_number)
        .await?
        .ok_or(StoreError::NotFound)?;
    assets::record(&mut tx, &asset, "asset.returned", wire).await?;
    tx.commit().await?;
    Ok((ended, new))
}
