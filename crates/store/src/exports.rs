//! Rental exports: the rentals an export reads, a page at a time in a stable order, and the
//! finished CSV kept in the file store with an `export.created` event.
//!
//! An export is not a file row (every file belongs to an order); its bytes live under
//! `exports/<tenant>/<exportId>.csv`, found again from the two ids a signed link carries.

use bytes::Bytes;

use crate::blobs::{Blob, BlobStore, Unclaimed};
use crate::db::{Arg, Db};
use crate::events::{self, NewEvent};
use crate::{Result, StoreError};

/// Which rentals an export holds. Dates are ISO calendar dates, bounds inclusive.
#[derive(Debug, Clone, Default)]
pub struct ExportFilters {
    pub status: Option<String>,
    /// Empty: every customer.
    pub customer_ids: Vec<String>,
    pub start_from: Option<String>,
    pub start_to: Option<String>,
    pub end_from: Option<String>,
    pub end_to: Option<String>,
}

crate::row! {
    /// One rental as an export writes it, with its customer's company and custom fields.
    #[derive(Debug, Clone)]
    pub struct ExportRow {
        pub rental_id: String,
        pub customer_id: String,
        pub customer_email: String,
        pub customer_name: String,
        pub company: Option<String>,
        /// JSON object text; `None` when the customer is gone.
        pub custom_fields: Option<String>,
        pub sku: String,
        pub product_name: String,
        pub asset_serial_number: String,
        pub status: String,
        pub start_date: String,
        pub end_date: String,
        pub contract_length: i64,
        pub monthly_amount: i64,
        pub currency: String,
        pub total_collected: i64,
        pub acquisition_cost: i64,
        pub created_at: i64,
    }
}

/// Where the next page starts: after the last row of the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCursor {
    pub created_at: i64,
    pub rental_id: String,
}

impl ExportRow {
    pub fn cursor(&self) -> ExportCursor {
        ExportCursor {
            created_at: self.created_at,
            rental_id: self.rental_id.clone(),
        }
    }
}

/// Up to `limit` of the tenant's rentals matching `filters`, oldest first, after `after`.
///
/// Keyset order `(created_at, rental_id)` follows the index `rentals_created` (or
/// `rentals_status` when filtered on status), each page one range scan however deep the export
/// is. Pages are separate reads, so a rental changed mid-export shows as it was when its page
/// was read; none is read twice or skipped, since the order keys never change.
pub async fn rentals_page(
    db: &Db,
    tenant_id: &str,
    filters: &ExportFilters,
    after: Option<&ExportCursor>,
    limit: i64,
) -> Result<Vec<ExportRow>> {
    let mut args: Vec<Arg> = vec![Arg::from(tenant_id)];
    let next = |args: &mut Vec<Arg>, value: Arg| {
        args.push(value);
        format!("${}", args.len())
    };
    let mut sql = String::from(
        "SELECT r.rental_id, r.customer_id, r.customer_email, r.customer_name, c.company, c.custom_fields, \
         r.sku, r.product_name, r.asset_serial_number, r.status, r.start_date, r.end_date, r.contract_length, \
         r.monthly_amount, r.currency, r.total_collected, r.acquisition_cost, r.created_at \
         FROM rentals r LEFT JOIN customers c ON c.tenant_id = r.tenant_id AND c.customer_id = r.customer_id \
         WHERE r.tenant_id = $1",
    );
    if let Some(cursor) = after {
        let created = next(&mut args, Arg::Int(cursor.created_at));
        let id = next(&mut args, Arg::from(&cursor.rental_id));
        sql.push_str(&format!(
            " AND (r.created_at, r.rental_id) > ({created}, {id})"
        ));
    }
    for (condition, value) in [
        ("r.status = ", &filters.status),
        ("r.start_date >= ", &filters.start_from),
        ("r.start_date <= ", &filters.start_to),
        ("r.end_date >= ", &filters.end_from),
        ("r.end_date <= ", &filters.end_to),
    ] {
        if let Some(v) = value {
            let placeholder = next(&mut args, Arg::from(v));
            sql.push_str(&format!(" AND {condition}{placeholder}"));
        }
    }
    if !filters.customer_ids.is_empty() {
        let placeholders: Vec<String> = filters
            .customer_ids
            .iter()
            .map(|id| next(&mut args, Arg::from(id)))
            .collect();
        sql.push_str(&format!(
            " AND r.customer_id IN ({})",
            placeholders.join(", ")
        ));
    }
    let limit = next(&mut args, Arg::Int(limit));
    sql.push_str(&format!(
        " ORDER BY r.created_at, r.rental_id LIMIT {limit}"
    ));
    db.fetch_all(sql, args).await
}

/// The file store key of an export's CSV.
pub fn storage_key(tenant_id: &str, export_id: &str) -> String {
    format!("exports/{tenant_id}/{export_id}.csv")
}

/// Keeps a finished export: its bytes in the file store, then the `export.created` event
/// (`data` is the event's payload). When the event cannot be recorded the bytes are removed
/// again, so no export exists without its event.
pub async fn save(
    db: &Db,
    blobs: &BlobStore,
    tenant_id: &str,
    export_id: &str,
    csv: Bytes,
    data: serde_json::Value,
) -> Result<()> {
    let key = storage_key(tenant_id, export_id);
    blobs.put(&key, csv).await?;
    let stored = Unclaimed::new(blobs, &key);
    let recorded = async {
        let mut tx = db.begin().await?;
        events::record(
            &mut tx,
            NewEvent {
                tenant_id,
                event_type: "export.created",
                resource_type: "export",
                resource_id: export_id,
                data,
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await;
    match recorded {
        Ok(()) => {
            stored.claim();
            Ok(())
        }
        Err(e) => {
            stored.discard().await;
            Err(e)
        }
    }
}

/// An export's CSV, or `None` when there is none under these ids.
pub async fn content(blobs: &BlobStore, tenant_id: &str, export_id: &str) -> Result<Option<Blob>> {
    blobs.get(&storage_key(tenant_id, export_id)).await
}
