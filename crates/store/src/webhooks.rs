//! Webhook endpoints, the delivery outbox and the attempt log.
//!
//! An event becomes one `webhook_deliveries` row per subscribed endpoint in the transaction that
//! records it ([`enqueue_in`]), so a change and its notification commit or vanish together. The
//! dispatcher claims due rows by moving `next_attempt_at` to the end of a lease with a conditional
//! update: exactly one claimant wins, and a claim whose server died falls due again by itself.

use flexportal_domain::ids::IdKind;
use flexportal_domain::time::now_micros;
use flexportal_domain::webhooks::EVENT_TYPES;

use crate::db::{Db, Tx};
use crate::events::{self, NewEvent};
use crate::list::{self, Filter, ListSpec, Page, SortColumn, SortKind};
use crate::{Result, StoreError, args};

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Endpoint {
        pub tenant_id: String,
        pub endpoint_id: String,
        pub url: String,
        pub description: Option<String>,
        pub all_events: i64,
        pub enabled: i64,
        pub disabled_reason: Option<String>,
        pub secret_sealed: String,
        pub previous_secret_sealed: Option<String>,
        pub previous_secret_until: Option<i64>,
        pub max_in_flight: i64,
        pub failing_since: Option<i64>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const ENDPOINT_COLUMNS: &str = "tenant_id, endpoint_id, url, description, all_events, enabled, disabled_reason, secret_sealed, previous_secret_sealed, previous_secret_until, max_in_flight, failing_since, created_at, updated_at";
fn endpoint_by_id() -> String {
    format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2"
    )
}
const TYPES_OF_ENDPOINT: &str = "SELECT event_type FROM webhook_endpoint_types WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY event_type";
const EVENT_BY_ID: &str = "SELECT event_id, type AS event_type, resource_type, resource_id, data, created_at FROM events WHERE tenant_id = $1 AND event_id = $2";

/// An endpoint with the event types it subscribes to (`None`: all of them).
#[derive(Debug, Clone)]
pub struct EndpointView {
    pub endpoint: Endpoint,
    pub event_types: Option<Vec<String>>,
}

crate::row! {
    struct EventType {
        event_type: String,
    }
}

pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    /// `None`: every event type.
    pub event_types: Option<Vec<String>>,
    pub enabled: bool,
    pub secret_sealed: String,
    pub max_in_flight: i64,
}

pub async fn create(db: &Db, tenant_id: &str, new: NewEndpoint) -> Result<EndpointView> {
    let now = now_micros();
    let endpoint_id = IdKind::WebhookEndpoint.generate();
    let mut tx = db.begin().await?;
    tx.execute(
        format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, NULL, NULL, $8, NULL, $9, $9)"
        ),
        args![
            tenant_id,
            &endpoint_id,
            &new.url,
            new.description,
            i64::from(new.event_types.is_none()),
            i64::from(new.enabled),
            &new.secret_sealed,
            new.max_in_flight,
            now
        ],
    )
    .await?;
    set_types_in(&mut tx, tenant_id, &endpoint_id, new.event_types.as_deref()).await?;
    let view = view_in(&mut tx, tenant_id, &endpoint_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

async fn set_types_in(
    tx: &mut Tx,
    tenant_id: &str,
    endpoint_id: &str,
    types: Option<&[String]>,
) -> Result<()> {
    tx.execute(
        "DELETE FROM webhook_endpoint_types WHERE tenant_id = $1 AND endpoint_id = $2",
        args![tenant_id, endpoint_id],
    )
    .await?;
    for event_type in types.unwrap_or_default() {
        tx.execute(
            "INSERT INTO webhook_endpoint_types (tenant_id, endpoint_id, event_type) VALUES ($1, $2, $3)",
            args![tenant_id, endpoint_id, event_type],
        )
        .await?;
    }
    Ok(())
}

async fn view_in(tx: &mut Tx, tenant_id: &str, endpoint_id: &str) -> Result<Option<EndpointView>> {
    let endpoint: Option<Endpoint> = tx
        .fetch_optional(endpoint_by_id(), args![tenant_id, endpoint_id])
        .await?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let types: Vec<EventType> = tx
        .fetch_all(TYPES_OF_ENDPOINT, args![tenant_id, endpoint_id])
        .await?;
    Ok(Some(with_types(endpoint, types)))
}

fn with_types(endpoint: Endpoint, types: Vec<EventType>) -> EndpointView {
    let event_types =
        (endpoint.all_events == 0).then(|| types.into_iter().map(|t| t.event_type).collect());
    EndpointView {
        endpoint,
        event_types,
    }
}

pub async fn get(db: &Db, tenant_id: &str, endpoint_id: &str) -> Result<Option<EndpointView>> {
    let endpoint: Option<Endpoint> = db
        .fetch_optional(endpoint_by_id(), args![tenant_id, endpoint_id])
        .await?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let types: Vec<EventType> = db
        .fetch_all(TYPES_OF_ENDPOINT, args![tenant_id, endpoint_id])
        .await?;
    Ok(Some(with_types(endpoint, types)))
}

pub async fn list(
    db: &Db,
    tenant_id: &str,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<EndpointView>> {
    let spec = ListSpec {
        from: "webhook_endpoints",
        columns: ENDPOINT_COLUMNS,
        tenant_column: "tenant_id",
        id_column: "endpoint_id",
        sort: SortColumn {
            expr: "created_at",
            kind: SortKind::Int,
        },
        descending,
        filters: Vec::new(),
        limit,
        start_after,
    };
    let page: Page<Endpoint> = list::fetch_page(db, tenant_id, &spec).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for endpoint in page.items {
        let types: Vec<EventType> = db
            .fetch_all(TYPES_OF_ENDPOINT, args![tenant_id, &endpoint.endpoint_id])
            .await?;
        items.push(with_types(endpoint, types));
    }
    Ok(Page {
        items,
        has_more: page.has_more,
    })
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: every event type.
    pub event_types: Option<Option<Vec<String>>>,
    /// Enabling clears the reason it was disabled and its run of failures.
    pub enabled: Option<bool>,
    pub max_in_flight: Option<i64>,
}

pub async fn update(
    db: &Db,
    tenant_id: &str,
    endpoint_id: &str,
    changes: EndpointChanges,
) -> Result<EndpointView> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    let current = view_in(&mut tx, tenant_id, endpoint_id)
        .await?
        .ok_or(StoreError::NotFound)?
        .endpoint;
    let enabled = changes.enabled.unwrap_or(current.enabled == 1);
    let reenabled = enabled && current.enabled == 0;
    let all_events = match &changes.event_types {
        Some(types) => types.is_none(),
        None => current.all_events == 1,
    };
    tx.execute(
        "UPDATE webhook_endpoints SET url = $3, description = $4, all_events = $5, enabled = $6, max_in_flight = $7, \
         disabled_reason = CASE WHEN $6 = 1 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN $8 = 1 THEN NULL ELSE failing_since END, updated_at = $9 \
         WHERE tenant_id = $1 AND endpoint_id = $2",
        args![
            tenant_id,
            endpoint_id,
            changes.url.unwrap_or(current.url),
            changes.description.or(current.description),
            i64::from(all_events),
            i64::from(enabled),
            changes.max_in_flight.unwrap_or(current.max_in_flight),
            i64::from(reenabled),
            now
        ],
    )
    .await?;
    if let Some(types) = &changes.event_types {
        set_types_in(&mut tx, tenant_id, endpoint_id, types.as_deref()).await?;
    }
    let view = view_in(&mut tx, tenant_id, endpoint_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Removes an endpoint and what it still had to deliver; its attempt log stays.
pub async fn delete(db: &Db, tenant_id: &str, endpoint_id: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let removed = tx
        .execute(
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2",
            args![tenant_id, endpoint_id],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    for table in ["webhook_endpoint_types", "webhook_deliveries"] {
        tx.execute(
            format!("DELETE FROM {table} WHERE tenant_id = $1 AND endpoint_id = $2"),
            args![tenant_id, endpoint_id],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Installs a new secret; the current one keeps signing until `previous_until`.
pub async fn rotate_secret(
    db: &Db,
    tenant_id: &str,
    endpoint_id: &str,
    new_sealed: &str,
    previous_until: i64,
) -> Result<EndpointView> {
    let mut tx = db.begin().await?;
    let changed = tx
        .execute(
            "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, previous_secret_until = $4, secret_sealed = $3, updated_at = $5 \
             WHERE tenant_id = $1 AND endpoint_id = $2",
            args![tenant_id, endpoint_id, new_sealed, previous_until, now_micros()],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let view = view_in(&mut tx, tenant_id, endpoint_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Queues an event for every enabled endpoint of the tenant that subscribes to its type, in the
/// transaction that records the event. Types outside the webhook list are not delivered.
pub(crate) async fn enqueue_in(
    tx: &mut Tx,
    tenant_id: &str,
    event_id: &str,
    event_type: &str,
    created_at: i64,
) -> Result<()> {
    if !EVENT_TYPES.contains(&event_type) {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO webhook_deliveries (tenant_id, event_id, endpoint_id, event_created_at, status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT e.tenant_id, $2, e.endpoint_id, $3, 'pending', 0, $3, $3, $3 FROM webhook_endpoints e \
         WHERE e.tenant_id = $1 AND e.enabled = 1 AND (e.all_events = 1 OR EXISTS (SELECT 1 FROM webhook_endpoint_types t \
         WHERE t.tenant_id = e.tenant_id AND t.endpoint_id = e.endpoint_id AND t.event_type = $4))",
        args![tenant_id, event_id, created_at, event_type],
    )
    .await?;
    Ok(())
}

/// Records a `ping` event and queues it for one endpoint only, enabled or not.
pub async fn ping(db: &Db, tenant_id: &str, endpoint_id: &str) -> Result<String> {
    let mut tx = db.begin().await?;
    if view_in(&mut tx, tenant_id, endpoint_id).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let event_id = events::record(
        &mut tx,
        NewEvent {
            tenant_id,
            event_type: "ping",
            resource_type: "webhook_endpoint",
            resource_id: endpoint_id,
            data: serde_json::json!({ "endpointId": endpoint_id }),
        },
    )
    .await?;
    requeue_in(&mut tx, tenant_id, &event_id, endpoint_id, now_micros()).await?;
    tx.commit().await?;
    Ok(event_id)
}

/// Makes `(event, endpoint)` due now: a new delivery, or the existing one sent again under the
/// same `webhook-id` with a fresh run of attempts.
async fn requeue_in(
    tx: &mut Tx,
    tenant_id: &str,
    event_id: &str,
    endpoint_id: &str,
    now: i64,
) -> Result<()> {
    let existing = tx
        .execute(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $4, lease_owner = NULL, updated_at = $4 \
             WHERE tenant_id = $1 AND event_id = $2 AND endpoint_id = $3",
            args![tenant_id, event_id, endpoint_id, now],
        )
        .await?;
    if existing == 0 {
        tx.execute(
            "INSERT INTO webhook_deliveries (tenant_id, event_id, endpoint_id, event_created_at, status, attempts, next_attempt_at, created_at, updated_at) \
             SELECT tenant_id, event_id, $3, created_at, 'pending', 0, $4, $4, $4 FROM events WHERE tenant_id = $1 AND event_id = $2",
            args![tenant_id, event_id, endpoint_id, now],
        )
        .await?;
    }
    Ok(())
}

/// Sends an event again: to one endpoint, or to every enabled endpoint subscribed to its type.
/// Returns how many deliveries were queued.
pub async fn replay(
    db: &Db,
    tenant_id: &str,
    event_id: &str,
    endpoint_id: Option<&str>,
) -> Result<usize> {
    crate::row! {
        struct Target {
            endpoint_id: String,
        }
    }
    let now = now_micros();
    let mut tx = db.begin().await?;
    let event: Option<events::Event> = tx
        .fetch_optional(EVENT_BY_ID, args![tenant_id, event_id])
        .await?;
    let event = event.ok_or(StoreError::NotFound)?;
    let targets: Vec<Target> = match endpoint_id {
        Some(id) => {
            if view_in(&mut tx, tenant_id, id).await?.is_none() {
                return Err(StoreError::Refused {
                    code: "WEBHOOK_ENDPOINT_NOT_FOUND",
                    message: format!("No webhook endpoint {id}"),
                });
            }
            vec![Target {
                endpoint_id: id.to_string(),
            }]
        }
        None => {
            tx.fetch_all(
                "SELECT e.endpoint_id FROM webhook_endpoints e WHERE e.tenant_id = $1 AND e.enabled = 1 AND (e.all_events = 1 OR EXISTS \
                 (SELECT 1 FROM webhook_endpoint_types t WHERE t.tenant_id = e.tenant_id AND t.endpoint_id = e.endpoint_id AND t.event_type = $2)) \
                 ORDER BY e.endpoint_id",
                args![tenant_id, &event.event_type],
            )
            .await?
        }
    };
    for target in &targets {
        requeue_in(
            &mut tx,
            tenant_id,
            &event.event_id,
            &target.endpoint_id,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(targets.len())
}

/// Sends again every delivery to `endpoint_id` that failed for good, of events since `since`.
pub async fn recover(db: &Db, tenant_id: &str, endpoint_id: &str, since: i64) -> Result<u64> {
    if get(db, tenant_id, endpoint_id).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let now = now_micros();
    db.execute(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $4, lease_owner = NULL, updated_at = $4 \
         WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'failed' AND event_created_at >= $3",
        args![tenant_id, endpoint_id, since, now],
    )
    .await
}

crate::row! {
    /// One outbox row due for sending.
    #[derive(Debug, Clone)]
    pub struct Due {
        pub tenant_id: String,
        pub event_id: String,
        pub endpoint_id: String,
        pub attempts: i64,
        pub event_created_at: i64,
    }
}

/// Up to `limit` deliveries due at `now`, across tenants, oldest event first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Due>> {
    db.fetch_all(
        "SELECT tenant_id, event_id, endpoint_id, attempts, event_created_at FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, event_created_at, event_id LIMIT $2",
        args![now, limit],
    )
    .await
}

/// Claims `rows`, due deliveries of one endpoint, under the token `lease` until `lease_until`,
/// unless a dispatcher already has deliveries of that endpoint out: one batch per endpoint at a
/// time keeps its deliveries in event order and its requests within its `max_in_flight`, however
/// many servers dispatch. Returns the rows claimed; a row another dispatcher took first is left
/// out.
pub async fn claim_batch(
    db: &Db,
    rows: &[Due],
    lease: &str,
    now: i64,
    lease_until: i64,
) -> Result<Vec<Due>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let mut tx = db.begin().await?;
    lock_endpoint(&mut tx, &first.tenant_id, &first.endpoint_id).await?;
    let busy: Option<(String,)> = tx
        .fetch_optional(
            "SELECT event_id FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND lease_owner IS NOT NULL \
             AND next_attempt_at > $3 AND status = 'pending' LIMIT 1",
            args![&first.tenant_id, &first.endpoint_id, now],
        )
        .await?;
    if busy.is_some() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..rows.len()).map(|i| format!("${}", i + 6)).collect();
    let mut arguments = args![
        &first.tenant_id,
        &first.endpoint_id,
        lease_until,
        lease,
        now
    ];
    arguments.extend(rows.iter().map(|row| row.event_id.as_str().into()));
    let claimed: Vec<(String,)> = tx
        .fetch_all(
            format!(
                "UPDATE webhook_deliveries SET next_attempt_at = $3, lease_owner = $4, updated_at = $5 \
                 WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' AND next_attempt_at <= $5 \
                 AND event_id IN ({}) RETURNING event_id",
                placeholders.join(", ")
            ),
            arguments,
        )
        .await?;
    tx.commit().await?;
    let claimed: std::collections::HashSet<String> = claimed.into_iter().map(|(id,)| id).collect();
    Ok(rows
        .iter()
        .filter(|row| claimed.contains(&row.event_id))
        .cloned()
        .collect())
}

/// Holds the endpoint's row until the transaction ends, so that two servers claiming for one
/// endpoint take turns (on PostgreSQL; SQLite runs one write transaction at a time anyway). Every
/// transaction touching an endpoint and its deliveries locks the endpoint first, so they cannot
/// deadlock.
async fn lock_endpoint(tx: &mut Tx, tenant_id: &str, endpoint_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE webhook_endpoints SET max_in_flight = max_in_flight WHERE tenant_id = $1 AND endpoint_id = $2",
        args![tenant_id, endpoint_id],
    )
    .await?;
    Ok(())
}

/// The endpoint a batch goes to, as it is now.
pub async fn delivery_endpoint(
    db: &Db,
    tenant_id: &str,
    endpoint_id: &str,
) -> Result<Option<Endpoint>> {
    db.fetch_optional(endpoint_by_id(), args![tenant_id, endpoint_id])
        .await
}

/// The event a delivery carries.
pub async fn delivery_event(db: &Db, due: &Due) -> Result<Option<events::Event>> {
    db.fetch_optional(EVENT_BY_ID, args![&due.tenant_id, &due.event_id])
        .await
}

/// One attempt's result as the log keeps it.
pub struct AttemptRecord {
    pub event_type: String,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// What happens to a delivery after an attempt.
pub enum Next {
    Succeeded,
    RetryAt(i64),
    /// The schedule is exhausted.
    Failed,
    /// The receiver answered 410 Gone: the endpoint is disabled and this delivery fails.
    Gone,
    /// The endpoint was deleted or disabled meanwhile: the delivery is dropped.
    Dropped,
}

/// An attempt made, and what becomes of its delivery.
pub struct Outcome {
    pub due: Due,
    pub attempt: AttemptRecord,
    pub next: Next,
}

/// Logs the attempts of one endpoint's batch, moves each delivery on and hands back the `unsent`
/// rows, all in one transaction; an endpoint failing for longer than `disable_after`
/// (microseconds) is disabled. A delivery no longer under `lease` (queued again by a replay or a
/// recovery while its attempt was out, or claimed anew after the lease ran out) keeps its new
/// state; the attempt is still logged.
pub async fn finish(
    db: &Db,
    lease: &str,
    outcomes: Vec<Outcome>,
    unsent: &[Due],
    disable_after: i64,
) -> Result<()> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    if let Some(due) = outcomes.first().map(|o| &o.due).or(unsent.first()) {
        lock_endpoint(&mut tx, &due.tenant_id, &due.endpoint_id).await?;
    }
    for Outcome { due, attempt, next } in outcomes {
        finish_one(&mut tx, &due, lease, attempt, next, disable_after, now).await?;
    }
    for due in unsent {
        tx.execute(
            "UPDATE webhook_deliveries SET next_attempt_at = $4, lease_owner = NULL, updated_at = $4 \
             WHERE tenant_id = $1 AND event_id = $2 AND endpoint_id = $3 AND status = 'pending' AND lease_owner = $5",
            args![&due.tenant_id, &due.event_id, &due.endpoint_id, now, lease],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn finish_one(
    tx: &mut Tx,
    due: &Due,
    lease: &str,
    attempt: AttemptRecord,
    next: Next,
    disable_after: i64,
    now: i64,
) -> Result<()> {
    let succeeded = matches!(next, Next::Succeeded);
    if !matches!(next, Next::Dropped) {
        tx.execute(
            "INSERT INTO webhook_attempts (tenant_id, attempt_id, endpoint_id, event_id, event_type, attempted_at, status_code, duration_ms, response_excerpt, error, succeeded) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            args![
                &due.tenant_id,
                IdKind::Attempt.generate(),
                &due.endpoint_id,
                &due.event_id,
                &attempt.event_type,
                attempt.attempted_at,
                attempt.status_code,
                attempt.duration_ms,
                attempt.response_excerpt,
                attempt.error.clone(),
                i64::from(succeeded)
            ],
        )
        .await?;
    }
    let (status, next_at) = match next {
        Next::Succeeded => ("succeeded", now),
        Next::RetryAt(at) => ("pending", at),
        Next::Failed | Next::Gone | Next::Dropped => ("failed", now),
    };
    tx.execute(
        "UPDATE webhook_deliveries SET status = $4, attempts = attempts + $5, next_attempt_at = $6, lease_owner = NULL, \
         last_status_code = $7, last_error = $8, updated_at = $9 WHERE tenant_id = $1 AND event_id = $2 AND endpoint_id = $3 \
         AND lease_owner = $10",
        args![
            &due.tenant_id,
            &due.event_id,
            &due.endpoint_id,
            status,
            i64::from(!matches!(next, Next::Dropped)),
            next_at,
            attempt.status_code,
            attempt.error,
            now,
            lease
        ],
    )
    .await?;
    // A 410 disables the endpoint at once; otherwise a failure starts (or continues) its run of
    // failures, which disables it once the run is older than `disable_after`.
    let disable = if succeeded {
        tx.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = $1 AND endpoint_id = $2 AND failing_since IS NOT NULL",
            args![&due.tenant_id, &due.endpoint_id],
        )
        .await?;
        None
    } else if matches!(next, Next::Gone) {
        Some(("the receiver answered 410 Gone", i64::MAX))
    } else if matches!(next, Next::Dropped) {
        None
    } else {
        tx.execute(
            "UPDATE webhook_endpoints SET failing_since = $3 WHERE tenant_id = $1 AND endpoint_id = $2 AND failing_since IS NULL",
            args![&due.tenant_id, &due.endpoint_id, attempt.attempted_at],
        )
        .await?;
        Some(("every delivery failed for five days", now - disable_after))
    };
    let mut disabled = None;
    if let Some((reason, failing_before)) = disable {
        let changed = tx
            .execute(
                "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND endpoint_id = $2 \
                 AND enabled = 1 AND (failing_since IS NULL OR failing_since <= $5)",
                args![&due.tenant_id, &due.endpoint_id, reason, now, failing_before],
            )
            .await?;
        if changed == 1 {
            disabled = Some(reason);
        }
    }
    if let Some(reason) = disabled {
        events::record(
            tx,
            NewEvent {
                tenant_id: &due.tenant_id,
                event_type: "webhook_endpoint.disabled",
                resource_type: "webhook_endpoint",
                resource_id: &due.endpoint_id,
                data: serde_json::json!({ "endpointId": due.endpoint_id, "reason": reason }),
            },
        )
        .await?;
    }
    Ok(())
}

crate::row! {
    #[derive(Debug, Clone)]
    pub struct Attempt {
        pub attempt_id: String,
        pub endpoint_id: String,
        pub event_id: String,
        pub event_type: String,
        pub attempted_at: i64,
        pub status_code: Option<i64>,
        pub duration_ms: i64,
        pub response_excerpt: Option<String>,
        pub error: Option<String>,
        pub succeeded: i64,
    }
}

/// An endpoint's attempt log, newest first unless `descending` is false.
pub async fn attempts(
    db: &Db,
    tenant_id: &str,
    endpoint_id: &str,
    event_id: Option<String>,
    descending: bool,
    limit: i64,
    start_after: Option<String>,
) -> Result<Page<Attempt>> {
    let mut filters = vec![Filter::new("endpoint_id = {}", endpoint_id.to_string())];
    if let Some(event_id) = event_id {
        filters.push(Filter::new("event_id = {}", event_id));
    }
    let spec = ListSpec {
        from: "webhook_attempts",
        columns: "attempt_id, endpoint_id, event_id, event_type, attempted_at, status_code, duration_ms, response_excerpt, error, succeeded",
        tenant_column: "tenant_id",
        id_column: "attempt_id",
        sort: SortColumn {
            expr: "attempted_at",
            kind: SortKind::Int,
        },
        descending,
        filters,
        limit,
        start_after,
    };
    list::fetch_page(db, tenant_id, &spec).await
}

crate::row! {
    struct Backlog {
        pending: i64,
        oldest: Option<i64>,
    }
}

/// Deliveries not yet done across all tenants, and the event time of the oldest of them.
pub async fn backlog(db: &Db) -> Result<(i64, Option<i64>)> {
    let row: Option<Backlog> = db
        .fetch_optional(
            "SELECT COUNT(*) AS pending, MIN(event_created_at) AS oldest FROM webhook_deliveries WHERE status = 'pending'",
            args![],
        )
        .await?;
    Ok(row.map_or((0, None), |b| (b.pending, b.oldest)))
}
