//! Orders: priced from the catalog, tied to a customer found or created by email, numbered per
//! business unit, deduplicated by content within a window, then confirmed, fulfilled or
//! cancelled.

use flexportal_domain::catalog;
use flexportal_domain::ids::IdKind;
use flexportal_domain::orders::{self as rules, Totals};
use flexportal_domain::time::now_micros;
use serde::{Deserialize, Serialize};

use crate::customers::{self, CustomerFields};
use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::products::Variant;
use crate::tenancy::BusinessUnit;
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Order {
        pub tenant_id: String,
        pub order_id: String,
        pub order_number: String,
        pub status: String,
        pub order_type: String,
        pub customer_id: String,
        /// JSON: the customer as given on the order (`customerId`, `email`, names, …).
        pub customer: String,
        pub billing_address: String,
        pub shipping_address: String,
        /// JSON array of [`OrderItem`].
        pub items: String,
        pub subtotal: i64,
        pub tax_amount: i64,
        pub total: i64,
        pub currency: String,
        pub total_devices: i64,
        pub rented_devices: i64,
        pub custom_fields: Option<String>,
        pub notes: Option<String>,
        pub extension_details: Option<String>,
        pub upgrade_details: Option<String>,
        pub cancellation_reason: Option<String>,
        pub confirmed_at: Option<i64>,
        pub cancelled_at: Option<i64>,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

impl Order {
    pub fn items(&self) -> Vec<OrderItem> {
        serde_json::from_str(&self.items).unwrap_or_default()
    }
}

/// A line of an order as stored; amounts in minor units, priced when the order was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub product_id: String,
    pub variant_id: String,
    pub sku: String,
    pub product_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_image_url: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
    pub contract_length: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_cost: Option<i64>,
    #[serde(default)]
    pub rental_ids: Vec<String>,
}

const ORDER_COLUMNS: &str = "tenant_id, order_id, order_number, status, order_type, customer_id, customer, billing_address, shipping_address, items, subtotal, tax_amount, total, currency, total_devices, rented_devices, custom_fields, notes, extension_details, upgrade_details, cancellation_reason, confirmed_at, cancelled_at, created_by, created_at, updated_at";

/// A requested line: which SKU, how many, for how long (`None`: the unit's default).
#[derive(Debug, Clone)]
pub struct RequestedItem {
    pub sku: String,
    pub quantity: i64,
    pub contract_length: Option<i64>,
}

/// An order as the API hands it over, every field already checked for shape.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub order_type: String,
    pub customer: CustomerFields,
    /// JSON object.
    pub billing_address: String,
    /// JSON object; the billing address when absent.
    pub shipping_address: Option<String>,
    pub items: Vec<RequestedItem>,
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub notes: Option<String>,
    pub extension_details: Option<String>,
    pub upgrade_details: Option<String>,
    pub created_by: String,
}

pub enum Created {
    New(Order),
    /// The same customer ordered the same items within the window: the first order.
    Existing(Order),
}

/// Creates an order, or finds the one it duplicates.
pub async fn create(
    db: &Db,
    unit: &BusinessUnit,
    new: NewOrder,
    wire: &dyn Wire,
) -> Result<Created> {
    let mut tx = db.begin().await?;
    let created = create_in(&mut tx, unit, new, wire, true).await?;
    if let Created::New(_) = created {
        tx.commit().await?;
    }
    Ok(created)
}

/// [`create`] inside the caller's transaction. `deduplicate` applies natural idempotency.
pub(crate) async fn create_in(
    tx: &mut Tx,
    unit: &BusinessUnit,
    new: NewOrder,
    wire: &dyn Wire,
    deduplicate: bool,
) -> Result<Created> {
    let tenant_id = unit.tenant_id.as_str();
    let settings = unit.settings()?;
    let now = now_micros();

    // Price every line first: a refused line must not hold the fingerprint.
    let mut items = Vec::with_capacity(new.items.len());
    for requested in &new.items {
        items.push(price_line(tx, tenant_id, requested, unit.default_contract_length).await?);
    }

    let email = new.customer.email.clone().unwrap_or_default();
    let fingerprint = rules::fingerprint(
        &email,
        &items
            .iter()
            .map(|i| (i.sku.clone(), i.quantity, i.contract_length))
            .collect::<Vec<_>>(),
    );
    let window = if deduplicate {
        i64::from(settings.natural_idempotency_minutes) * 60_000_000
    } else {
        0
    };
    if window > 0 {
        crate::row! {
            struct Holder {
                order_id: Option<String>,
            }
        }
        // The upsert locks the fingerprint's row, so a concurrent duplicate waits here until the
        // first order commits, then reads its id. A row older than the window starts afresh.
        let holder: Holder = tx
            .fetch_one(
                "INSERT INTO order_fingerprints (tenant_id, fingerprint, order_id, created_at) VALUES ($1, $2, NULL, $3) \
                 ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET \
                 order_id = CASE WHEN order_fingerprints.created_at < $4 THEN NULL ELSE order_fingerprints.order_id END, \
                 created_at = CASE WHEN order_fingerprints.created_at < $4 THEN excluded.created_at ELSE order_fingerprints.created_at END \
                 RETURNING order_id",
                args![tenant_id, &fingerprint, now, now - window],
            )
            .await?;
        if let Some(existing) = holder.order_id {
            let order = get_in(tx, tenant_id, &existing)
                .await?
                .ok_or(StoreError::NotFound)?;
            return Ok(Created::Existing(order));
        }
    }

    let billing = new.billing_address.clone();
    let shipping = new
        .shipping_address
        .clone()
        .unwrap_or_else(|| billing.clone());
    let mut customer_fields = new.customer.clone();
    customer_fields.billing_address = Some(billing.clone());
    customer_fields.shipping_address = Some(shipping.clone());
    let (customer, customer_created) =
        customers::insert_or_find_in(tx, tenant_id, &customer_fields, &new.created_by, now).await?;
    if customer.status != "active" {
        return Err(StoreError::Refused {
            code: "CUSTOMER_INACTIVE",
            message: "The customer is inactive".into(),
        });
    }
    // A known customer keeps its profile; only empty fields are filled from the order.
    tx.execute(
        "UPDATE customers SET company = COALESCE(company, $3), phone = COALESCE(phone, $4), \
         last_billing_address = $5, last_shipping_address = $6, total_orders = total_orders + 1, \
         open_orders = open_orders + 1, updated_at = $7 WHERE tenant_id = $1 AND customer_id = $2",
        args![
            tenant_id,
            &customer.customer_id,
            new.customer.company.clone(),
            new.customer.phone.clone(),
            &billing,
            &shipping,
            now
        ],
    )
    .await?;

    crate::row! {
        struct Sequence {
            order_sequence: i64,
        }
    }
    let sequence: Sequence = tx
        .fetch_one(
            "UPDATE business_units SET order_sequence = order_sequence + 1 WHERE tenant_id = $1 RETURNING order_sequence",
            args![tenant_id],
        )
        .await?;
    let order_id = IdKind::Order.generate();
    let order_number = rules::order_number(&unit.order_number_prefix, sequence.order_sequence);
    let Totals {
        subtotal,
        tax,
        total,
    } = rules::totals(
        &items
            .iter()
            .map(|i| (i.unit_price, i.quantity))
            .collect::<Vec<_>>(),
        unit.vat_rate_bp,
        unit.vat_mode == "inclusive",
    );
    let total_devices: i64 = items.iter().map(|i| i.quantity).sum();
    let customer_json = serde_json::json!({
        "customerId": customer.customer_id,
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "company": customer.company,
        "phone": customer.phone,
        "customerType": customer.customer_type,
    });
    tx.execute(
        format!(
            "INSERT INTO orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, \
             $15, $16, $17, $18, NULL, NULL, NULL, $19, $20, $20)"
        ),
        args![
            tenant_id,
            &order_id,
            &order_number,
            &new.order_type,
            &customer.customer_id,
            customer_json.to_string(),
            &billing,
            &shipping,
            serde_json::to_string(&items)?,
            subtotal,
            tax,
            total,
            &unit.currency,
            total_devices,
            new.custom_fields.as_ref().map(serde_json::to_string).transpose()?,
            new.notes.clone(),
            new.extension_details.clone(),
            new.upgrade_details.clone(),
            &new.created_by,
            now
        ],
    )
    .await?;
    for (field_id, value) in new.custom_fields.iter().flatten() {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        tx.execute(
            "INSERT INTO order_custom_values (tenant_id, order_id, field_id, value) VALUES ($1, $2, $3, $4)",
            args![tenant_id, &order_id, field_id, text],
        )
        .await?;
    }
    let mut variants: Vec<&str> = items.iter().map(|i| i.variant_id.as_str()).collect();
    variants.sort_unstable();
    variants.dedup();
    for variant_id in variants {
        tx.execute(
            "INSERT INTO order_variants (tenant_id, variant_id, order_id) VALUES ($1, $2, $3)",
            args![tenant_id, variant_id, &order_id],
        )
        .await?;
    }
    if window > 0 {
        tx.execute(
            "UPDATE order_fingerprints SET order_id = $3 WHERE tenant_id = $1 AND fingerprint = $2",
            args![tenant_id, &fingerprint, &order_id],
        )
        .await?;
    }
    let order = get_in(tx, tenant_id, &order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if customer_created {
        let customer = customers::get_in(tx, tenant_id, &customer.customer_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        customers::record(tx, &customer, "customer.created", wire).await?;
    }
    record(tx, &order, "order.created", wire).await?;
    Ok(Created::New(order))
}

async fn price_line(
    tx: &mut Tx,
    tenant_id: &str,
    requested: &RequestedItem,
    default_months: i64,
) -> Result<OrderItem> {
    let variant: Option<Variant> = tx
        .fetch_optional(
            "SELECT v.tenant_id, v.variant_id, v.product_id, p.product_sku, p.name AS product_name, v.variant_sku, v.variant_name, v.grade, v.condition, \
             v.color_name, v.images, v.list_price, v.acquisition_cost, v.pricing, \
             CASE WHEN p.status = 'active' THEN v.status ELSE 'inactive' END AS status, v.created_at, v.updated_at \
             FROM variants v JOIN products p ON p.tenant_id = v.tenant_id AND p.product_id = v.product_id \
             WHERE v.tenant_id = $1 AND v.variant_sku = $2",
            args![tenant_id, &requested.sku],
        )
        .await?;
    let Some(variant) = variant else {
        return Err(StoreError::Refused {
            code: "VARIANT_NOT_FOUND",
            message: format!("No variant has the SKU {}", requested.sku),
        });
    };
    if variant.status != "active" {
        return Err(StoreError::Refused {
            code: "VARIANT_INACTIVE",
            message: format!("The variant {} is inactive", requested.sku),
        });
    }
    let months = requested.contract_length.unwrap_or(default_months);
    let pricing = variant.pricing();
    let Some(tier) = catalog::price_for(&pricing, months) else {
        let offered: Vec<String> = pricing
            .iter()
            .map(|t| t.contract_length.to_string())
            .collect();
        return Err(StoreError::Refused {
            code: "INVALID_CONTRACT_LENGTH",
            message: format!(
                "{} is not offered for {months} months (offered: {})",
                requested.sku,
                offered.join(", ")
            ),
        });
    };
    let images: Vec<String> = serde_json::from_str(&variant.images).unwrap_or_default();
    Ok(OrderItem {
        product_id: variant.product_id.clone(),
        variant_id: variant.variant_id.clone(),
        sku: variant.variant_sku.clone(),
        product_name: variant.product_name.clone(),
        product_image_url: images.into_iter().next(),
        quantity: requested.quantity,
        unit_price: tier.monthly_price,
        contract_length: months,
        list_price: variant.list_price,
        acquisition_cost: variant.acquisition_cost,
        rental_ids: Vec::new(),
    })
}

pub(crate) async fn get_in(tx: &mut Tx, tenant_id: &str, order_id: &str) -> Result<Option<Order>> {
    tx.fetch_optional(
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 AND order_id = $2"),
        args![tenant_id, order_id],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, order_id: &str) -> Result<Option<Order>> {
    db.fetch_optional(
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = $1 AND order_id = $2"),
        args![tenant_id, order_id],
    )
    .await
}

pub(crate) async fn record(
    tx: &mut Tx,
    order: &Order,
    event_type: &str,
    wire: &dyn Wire,
) -> Result<()> {
    events::record(
        tx,
        NewEvent {
            tenant_id: &order.tenant_id,
            event_type,
            resource_type: "order",
            resource_id: &order.order_id,
            data: wire.order(order),
        },
    )
    .await?;
    Ok(())
}

fn refused((code, message): rules::Refusal) -> StoreError {
    StoreError::Refused {
        code,
        message: message.to_string(),
    }
}

pub async fn confirm(db: &Db, tenant_id: &str, order_id: &str, wire: &dyn Wire) -> Result<Order> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let order = get_in(&mut tx, tenant_id, order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    rules::check_confirm(&order.status).map_err(refused)?;
    tx.execute(
        "UPDATE orders SET status = 'confirmed', confirmed_at = $3, updated_at = $3 WHERE tenant_id = $1 AND order_id = $2",
        args![tenant_id, order_id, now],
    )
    .await?;
    let order = get_in(&mut tx, tenant_id, order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &order, "order.confirmed", wire).await?;
    tx.commit().await?;
    Ok(order)
}

pub async fn cancel(
    db: &Db,
    tenant_id: &str,
    order_id: &str,
    reason: Option<String>,
    wire: &dyn Wire,
) -> Result<Order> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let order = get_in(&mut tx, tenant_id, order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    rules::check_cancel(&order.status, order.rented_devices).map_err(refused)?;
    tx.execute(
        "UPDATE orders SET status = 'cancelled', cancellation_reason = $3, cancelled_at = $4, updated_at = $4 WHERE tenant_id = $1 AND order_id = $2",
        args![tenant_id, order_id, reason, now],
    )
    .await?;
    tx.execute(
        "UPDATE customers SET open_orders = open_orders - 1, updated_at = $3 WHERE tenant_id = $1 AND customer_id = $2 AND open_orders > 0",
        args![tenant_id, &order.customer_id, now],
    )
    .await?;
    let order = get_in(&mut tx, tenant_id, order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &order, "order.cancelled", wire).await?;
    tx.commit().await?;
    Ok(order)
}

/// Replaces the order's notes.
pub async fn set_notes(
    db: &Db,
    tenant_id: &str,
    order_id: &str,
    notes: &str,
    wire: &dyn Wire,
) -> Result<Order> {
    let mut tx = db.begin().await?;
    let touched = tx
        .execute(
            "UPDATE orders SET notes = $3, updated_at = $4 WHERE tenant_id = $1 AND order_id = $2",
            args![tenant_id, order_id, notes, now_micros()],
        )
        .await?;
    if touched == 0 {
        return Err(StoreError::NotFound);
    }
    let order = get_in(&mut tx, tenant_id, order_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &order, "order.updated", wire).await?;
    tx.commit().await?;
    Ok(order)
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilters {
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub order_type: Option<String>,
    /// `(field id, value)` pairs, all of which must match.
    pub custom_fields: Vec<(String, String)>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
}

pub const ORDER_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
    ),
    (
        "updatedAt",
        SortColumn {
            expr: "updated_at",
            kind: SortKind::Int,
        },
    ),
    (
        "orderId",
        SortColumn {
            expr: "order_id",
            kind: SortKind::Text,
        },
    ),
    (
        "status",
        SortColumn {
            expr: "status",
            kind: SortKind::Text,
        },
    ),
    (
        "totals.total",
        SortColumn {
            expr: "total",
            kind: SortKind::Int,
        },
    ),
];

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: OrderFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Order>> {
    let mut conditions = Vec::new();
    if let Some(v) = filters.status {
        conditions.push(Filter::new("status = {}", v));
    }
    if let Some(v) = filters.customer_id {
        conditions.push(Filter::new("customer_id = {}", v));
    }
    if let Some(v) = filters.order_type {
        conditions.push(Filter::new("order_type = {}", v));
    }
    if let Some(v) = filters.created_from {
        conditions.push(Filter::new("created_at >= {}", v));
    }
    if let Some(v) = filters.created_to {
        conditions.push(Filter::new("created_at < {}", v));
    }
    // Each custom-field condition is an index lookup on (tenant, field, value, order).
    for (field, value) in filters.custom_fields {
        // Not correlated with the outer row, so the database reads the matching ids once.
        conditions.push(Filter::with(
            "order_id IN (SELECT c.order_id FROM order_custom_values c WHERE c.tenant_id = {} AND c.field_id = {} AND c.value = {})",
            vec![tenant_id.into(), field.into(), value.into()],
        ));
    }
    let spec = ListSpec {
        from: "orders",
        columns: ORDER_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "order_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}
