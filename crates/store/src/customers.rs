//! Customers: found or created by email when an order arrives, or managed directly.

use flexportal_domain::contact::email_key;
use flexportal_domain::ids::IdKind;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, StoreError, Wire, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Customer {
        pub tenant_id: String,
        pub customer_id: String,
        pub email: String,
        pub first_name: String,
        pub last_name: String,
        pub company: Option<String>,
        pub phone: Option<String>,
        pub customer_type: String,
        pub payment_terms: Option<String>,
        /// JSON object.
        pub custom_fields: String,
        pub status: String,
        pub last_billing_address: Option<String>,
        pub last_shipping_address: Option<String>,
        pub total_orders: i64,
        pub open_orders: i64,
        pub active_rentals: i64,
        pub total_devices_rented: i64,
        pub total_monthly_revenue: i64,
        pub lifetime_collected: i64,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

pub(crate) const CUSTOMER_COLUMNS: &str = "tenant_id, customer_id, email, first_name, last_name, company, phone, customer_type, payment_terms, custom_fields, status, last_billing_address, last_shipping_address, total_orders, open_orders, active_rentals, total_devices_rented, total_monthly_revenue, lifetime_collected, created_by, created_at, updated_at";

/// A customer's own fields. On create, email and names are present (the API checks); on update,
/// `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct CustomerFields {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub customer_type: Option<String>,
    pub payment_terms: Option<String>,
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
    pub status: Option<String>,
    pub billing_address: Option<String>,
    pub shipping_address: Option<String>,
}

pub(crate) async fn get_in(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Option<Customer>> {
    tx.fetch_optional(
        format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE tenant_id = $1 AND customer_id = $2"
        ),
        args![tenant_id, customer_id],
    )
    .await
}

async fn by_email_in(tx: &mut Tx, tenant_id: &str, email: &str) -> Result<Option<Customer>> {
    tx.fetch_optional(
        format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE tenant_id = $1 AND email_key = $2"),
        args![tenant_id, email_key(email)],
    )
    .await
}

pub async fn get(db: &Db, tenant_id: &str, customer_id: &str) -> Result<Option<Customer>> {
    db.fetch_optional(
        format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE tenant_id = $1 AND customer_id = $2"
        ),
        args![tenant_id, customer_id],
    )
    .await
}

/// Inserts a customer unless one with the same email exists (also one inserted concurrently).
/// Returns the customer and whether this call created it.
pub(crate) async fn insert_or_find_in(
    tx: &mut Tx,
    tenant_id: &str,
    fields: &CustomerFields,
    created_by: &str,
    now: i64,
) -> Result<(Customer, bool)> {
    let email = fields.email.clone().unwrap_or_default();
    let customer_id = IdKind::Customer.generate();
    let custom = serde_json::to_string(&fields.custom_fields.clone().unwrap_or_default())?;
    let inserted = tx
        .execute(
            "INSERT INTO customers (tenant_id, customer_id, email, email_key, first_name, last_name, company, phone, customer_type, payment_terms, custom_fields, status, last_billing_address, last_shipping_address, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $14, $15, $15) \
             ON CONFLICT (tenant_id, email_key) DO NOTHING",
            args![
                tenant_id,
                &customer_id,
                email.trim(),
                email_key(&email),
                fields.first_name.clone().unwrap_or_default(),
                fields.last_name.clone().unwrap_or_default(),
                fields.company.clone(),
                fields.phone.clone(),
                fields.customer_type.clone().unwrap_or_else(|| "individual".into()),
                fields.payment_terms.clone(),
                custom,
                fields.billing_address.clone(),
                fields.shipping_address.clone(),
                created_by,
                now
            ],
        )
        .await?;
    let customer = by_email_in(tx, tenant_id, &email)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((customer, inserted > 0))
}

/// Creates a customer without an order. A taken email is a 409.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    fields: CustomerFields,
    created_by: &str,
    wire: &dyn Wire,
) -> Result<Customer> {
    let mut tx = db.begin().await?;
    let (customer, created) =
        insert_or_find_in(&mut tx, tenant_id, &fields, created_by, now_micros()).await?;
    if !created {
        return Err(StoreError::Conflict {
            code: "DUPLICATE_EMAIL",
            message: "A customer with this email already exists".into(),
        });
    }
    record(&mut tx, &customer, "customer.created", wire).await?;
    tx.commit().await?;
    Ok(customer)
}

pub(crate) async fn record(
    tx: &mut Tx,
    customer: &Customer,
    event_type: &str,
    wire: &dyn Wire,
) -> Result<()> {
    let ids: Vec<OrderId> = tx
        .fetch_all(ORDER_IDS, args![&customer.tenant_id, &customer.customer_id])
        .await?;
    let order_ids: Vec<String> = ids.into_iter().map(|r| r.order_id).collect();
    events::record(
        tx,
        NewEvent {
            tenant_id: &customer.tenant_id,
            event_type,
            resource_type: "customer",
            resource_id: &customer.customer_id,
            data: wire.customer(customer, &order_ids),
        },
    )
    .await?;
    Ok(())
}

/// Applies `fields` to the customer. A new email taken by another customer is a 409; an
/// `inactive` customer can be reactivated with `status: active`.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    customer_id: &str,
    fields: CustomerFields,
    wire: &dyn Wire,
) -> Result<Customer> {
    let mut tx = db.begin().await?;
    let current = get_in(&mut tx, tenant_id, customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(email) = &fields.email
        && email_key(email) != email_key(&current.email)
        && by_email_in(&mut tx, tenant_id, email).await?.is_some()
    {
        return Err(StoreError::Conflict {
            code: "DUPLICATE_EMAIL",
            message: "Another customer has this email".into(),
        });
    }
    let custom = fields
        .custom_fields
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    tx.execute(
        "UPDATE customers SET email = COALESCE($3, email), email_key = COALESCE($4, email_key), first_name = COALESCE($5, first_name), \
         last_name = COALESCE($6, last_name), company = COALESCE($7, company), phone = COALESCE($8, phone), \
         customer_type = COALESCE($9, customer_type), payment_terms = COALESCE($10, payment_terms), custom_fields = COALESCE($11, custom_fields), \
         status = COALESCE($12, status), last_billing_address = COALESCE($13, last_billing_address), \
         last_shipping_address = COALESCE($14, last_shipping_address), updated_at = $15 WHERE tenant_id = $1 AND customer_id = $2",
        args![
            tenant_id,
            customer_id,
            fields.email.as_deref().map(str::trim),
            fields.email.as_deref().map(email_key),
            fields.first_name,
            fields.last_name,
            fields.company,
            fields.phone,
            fields.customer_type,
            fields.payment_terms,
            custom,
            fields.status,
            fields.billing_address,
            fields.shipping_address,
            now_micros()
        ],
    )
    .await?;
    let updated = get_in(&mut tx, tenant_id, customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &updated, "customer.updated", wire).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Soft delete: `inactive`. Refused while the customer has active rentals or open orders.
pub async fn deactivate(
    db: &Db,
    tenant_id: &str,
    customer_id: &str,
    wire: &dyn Wire,
) -> Result<Customer> {
    let mut tx = db.begin().await?;
    let current = get_in(&mut tx, tenant_id, customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if current.active_rentals > 0 {
        return Err(StoreError::Refused {
            code: "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS",
            message: "The customer has active rentals".into(),
        });
    }
    if current.open_orders > 0 {
        return Err(StoreError::Refused {
            code: "CUSTOMER_HAS_PENDING_ORDERS",
            message: "The customer has orders that are not fulfilled or cancelled".into(),
        });
    }
    tx.execute(
        "UPDATE customers SET status = 'inactive', updated_at = $3 WHERE tenant_id = $1 AND customer_id = $2",
        args![tenant_id, customer_id, now_micros()],
    )
    .await?;
    let updated = get_in(&mut tx, tenant_id, customer_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    record(&mut tx, &updated, "customer.deactivated", wire).await?;
    tx.commit().await?;
    Ok(updated)
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilters {
    pub status: Option<String>,
    pub customer_type: Option<String>,
    pub email: Option<String>,
    pub has_active_rentals: Option<bool>,
}

pub const CUSTOMER_SORTS: &[(&str, SortColumn)] = &[
    (
        "createdAt",
        SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
    ),
    (
        "firstName",
        SortColumn {
            expr: "first_name",
            kind: SortKind::Text,
        },
    ),
    (
        "lastName",
        SortColumn {
            expr: "last_name",
            kind: SortKind::Text,
        },
    ),
    (
        "email",
        SortColumn {
            expr: "email_key",
            kind: SortKind::Text,
        },
    ),
    (
        "totalMonthlyRevenue",
        SortColumn {
            expr: "total_monthly_revenue",
            kind: SortKind::Int,
        },
    ),
    (
        "totalDevicesRented",
        SortColumn {
            expr: "total_devices_rented",
            kind: SortKind::Int,
        },
    ),
];

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: CustomerFilters,
    sort: SortColumn,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Customer>> {
    let mut conditions = Vec::new();
    if let Some(v) = filters.status {
        conditions.push(Filter::new("status = {}", v));
    }
    if let Some(v) = filters.customer_type {
        conditions.push(Filter::new("customer_type = {}", v));
    }
    if let Some(v) = filters.email {
        conditions.push(Filter::new("email_key = {}", email_key(&v)));
    }
    match filters.has_active_rentals {
        Some(true) => conditions.push(Filter::new("active_rentals > {}", 0i64)),
        Some(false) => conditions.push(Filter::new("active_rentals = {}", 0i64)),
        None => {}
    }
    let spec = ListSpec {
        from: "customers",
        columns: CUSTOMER_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "customer_id",
        sort,
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}

crate::row! {
    struct OrderId {
        customer_id: String,
        order_id: String,
    }
}

const ORDER_IDS: &str = "SELECT customer_id, order_id FROM orders WHERE tenant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, order_id DESC";

/// Ids of a customer's orders, newest first.
pub async fn order_ids(db: &Db, tenant_id: &str, customer_id: &str) -> Result<Vec<String>> {
    let rows: Vec<OrderId> = db
        .fetch_all(ORDER_IDS, args![tenant_id, customer_id])
        .await?;
    Ok(rows.into_iter().map(|r| r.order_id).collect())
}

/// Order ids of several customers at once (one query for a page of a list), newest first.
pub async fn order_ids_of(
    db: &Db,
    tenant_id: &str,
    customer_ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let mut map: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    if customer_ids.is_empty() {
        return Ok(map);
    }
    let placeholders: Vec<String> = (0..customer_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let mut values = args![tenant_id];
    values.extend(customer_ids.iter().map(|id| crate::Arg::Text(id.clone())));
    let rows: Vec<OrderId> = db
        .fetch_all(
            format!(
                "SELECT customer_id, order_id FROM orders WHERE tenant_id = $1 AND customer_id IN ({}) ORDER BY created_at DESC, order_id DESC",
                placeholders.join(", ")
            ),
            values,
        )
        .await?;
    for row in rows {
        map.entry(row.customer_id).or_default().push(row.order_id);
    }
    Ok(map)
}
