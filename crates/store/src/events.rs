//! The event log: one row per change, written in the transaction that makes the change.

use flexportal_domain::ids::IdKind;
use flexportal_domain::time::now_micros;

use crate::db::{Db, Tx};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, args};

pub struct NewEvent<'a> {
    pub tenant_id: &'a str,
    pub event_type: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    pub data: serde_json::Value,
}

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Event {
        pub event_id: String,
        pub event_type: String,
        pub resource_type: String,
        pub resource_id: String,
        pub data: String,
        pub created_at: i64,
    }
}

/// Records an event and, in the same transaction, queues it for the webhook endpoints that
/// subscribe to its type.
pub async fn record(tx: &mut Tx, event: NewEvent<'_>) -> Result<String> {
    let event_id = IdKind::Event.generate();
    let now = now_micros();
    tx.execute(
        "INSERT INTO events (tenant_id, event_id, type, resource_type, resource_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![
            event.tenant_id,
            &event_id,
            event.event_type,
            event.resource_type,
            event.resource_id,
            serde_json::to_string(&event.data)?,
            now
        ],
    )
    .await?;
    crate::webhooks::enqueue_in(tx, event.tenant_id, &event_id, event.event_type, now).await?;
    Ok(event_id)
}

#[derive(Debug, Clone, Default)]
pub struct EventFilters {
    pub event_type: Option<String>,
    pub resource_id: Option<String>,
}

pub async fn list(
    db: &Db,
    tenant_id: &str,
    filters: EventFilters,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Event>> {
    let mut conditions = Vec::new();
    if let Some(t) = filters.event_type {
        conditions.push(Filter::new("type = {}", t));
    }
    if let Some(r) = filters.resource_id {
        conditions.push(Filter::new("resource_id = {}", r));
    }
    let spec = ListSpec {
        from: "events",
        columns: "event_id, type AS event_type, resource_type, resource_id, data, created_at",
        tenant_column: "tenant_id",
        id_column: "event_id",
        sort: SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
        descending,
        filters: conditions,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}
