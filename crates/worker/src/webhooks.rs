//! The webhook dispatcher: claims due outbox rows, signs and POSTs them, logs every attempt and
//! schedules retries. Several dispatchers (servers) may share one database: a claim is a
//! conditional update, so each attempt is made by one of them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use flexportal_domain::sealing::SealingKey;
use flexportal_domain::time::{format_instant, now_micros};
use flexportal_domain::webhooks::{
    DeliveryCounters, FAILING_FOR_DISABLE_SECS, HostOverrides, RETRY_SCHEDULE, is_private_target,
    message_id, retry_delay, secret_key, sign,
};
use flexportal_store::webhooks::{self as store, AttemptRecord, Due, Endpoint, Next, Outcome};
use flexportal_store::{Db, StoreError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// A claimed batch falls due again after this many timeouts if its dispatcher dies mid-send:
/// long enough for a few waves of slow attempts and the bookkeeping (a batch starts no request
/// that could outlast it), short enough that a crash delays little.
const LEASE_TIMEOUTS: u32 = 4;
/// Bytes of an answer read at most; the log keeps the first KiB.
const MAX_RESPONSE: usize = 64 * 1024;
const EXCERPT: usize = 1024;
/// Due rows looked at per round.
const BATCH: i64 = 200;
/// Deliveries of one endpoint claimed together: one write claims them and one records them,
/// so a busy database spends two writes on many deliveries instead of two on each.
const PER_ENDPOINT: usize = 64;

pub struct DispatcherConfig {
    /// Opens the endpoints' sealed signing secrets: the key the API sealed them with.
    pub sealing_key: SealingKey,
    pub allow_private_targets: bool,
    /// How long to wait for new work when there is none.
    pub poll_every: Duration,
    /// Receivers answering slower than this are cut off and retried.
    pub timeout: Duration,
    pub counters: Arc<DeliveryCounters>,
    /// Seconds before each retry; [`RETRY_SCHEDULE`] unless a test needs it quicker.
    pub retry_schedule: Vec<u64>,
    /// Names answered without asking DNS, like curl's `--resolve`; the private-address rule
    /// applies to them as to any other answer.
    pub host_overrides: HostOverrides,
}

impl DispatcherConfig {
    pub fn new(sealing_key: SealingKey, counters: Arc<DeliveryCounters>) -> DispatcherConfig {
        DispatcherConfig {
            sealing_key,
            allow_private_targets: false,
            poll_every: Duration::from_millis(250),
            timeout: TIMEOUT,
            counters,
            retry_schedule: RETRY_SCHEDULE.to_vec(),
            host_overrides: HostOverrides::default(),
        }
    }
}

pub struct Dispatcher {
    db: Db,
    config: DispatcherConfig,
    http: reqwest::Client,
    /// Signalled when a batch is recorded: its endpoint takes the next one, without waiting
    /// for the poll interval.
    finished: tokio::sync::Notify,
    /// Endpoints this dispatcher has a batch out to.
    sending: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    /// Batches out right now, for [`Dispatcher::drain`].
    batches_out: tokio::sync::watch::Sender<usize>,
    /// Set by [`Dispatcher::drain`]: claim nothing more, start no more requests.
    stopping: std::sync::atomic::AtomicBool,
}

/// Resolves names like the system does, then drops private, loopback and link-local addresses
/// unless allowed: checked at every send, so a name re-pointed after registration (DNS
/// rebinding) cannot reach the internal network.
struct GuardedResolver {
    allow_private: bool,
    overrides: HostOverrides,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let overrides = self.overrides.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers: Vec<std::net::IpAddr> = match overrides.get(&host) {
                Some(ips) => ips.to_vec(),
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|a| a.ip())
                    .collect(),
            };
            let found: Vec<SocketAddr> = answers
                .into_iter()
                .filter(|ip| allow_private || !is_private_target(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Makes ring the process's TLS provider. reqwest is built without one of its own (the default
/// pulls in a long C build), so every process of this workspace that makes HTTPS requests, or
/// any reqwest client at all, calls this first; calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Dispatcher {
    pub fn new(db: Db, config: DispatcherConfig) -> Result<Dispatcher, reqwest::Error> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .user_agent(concat!("flexportal-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: config.allow_private_targets,
                overrides: config.host_overrides.clone(),
            }))
            .build()?;
        Ok(Dispatcher {
            db,
            config,
            http,
            finished: tokio::sync::Notify::new(),
            sending: Default::default(),
            batches_out: tokio::sync::watch::Sender::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Stops claiming and starting requests, and waits until every batch out has recorded
    /// its outcomes and handed back its unstarted rows: nothing stays leased to a process that
    /// is going away.
    pub async fn drain(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut out = self.batches_out.subscribe();
        let _ = out.wait_for(|n| *n == 0).await;
    }

    /// Claims what is due, a batch per endpoint, and delivers it; returns how many deliveries
    /// were started.
    pub async fn round(self: &Arc<Self>) -> Result<usize, StoreError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Ok(0);
        }
        let now = now_micros();
        let due = store::due(&self.db, now, BATCH).await?;
        let lease_until = now + (self.config.timeout * LEASE_TIMEOUTS).as_micros() as i64;
        let mut batches: Vec<Vec<Due>> = Vec::new();
        for row in due {
            let endpoint = (row.tenant_id.as_str(), row.endpoint_id.as_str());
            match batches
                .iter_mut()
                .find(|b| (b[0].tenant_id.as_str(), b[0].endpoint_id.as_str()) == endpoint)
            {
                Some(batch) => {
                    if batch.len() < PER_ENDPOINT {
                        batch.push(row);
                    }
                }
                None => batches.push(vec![row]),
            }
        }
        let mut started = 0;
        for batch in batches {
            let key = (batch[0].tenant_id.clone(), batch[0].endpoint_id.clone());
            // Our own batch still out: the database would say so too, at the cost of a write.
            if self.sending.lock().is_ok_and(|s| s.contains(&key)) {
                continue;
            }
            // Counted out before claiming, so a drain never misses a claim in progress.
            self.batches_out.send_modify(|n| *n += 1);
            if self.stopping.load(Ordering::SeqCst) {
                self.batches_out.send_modify(|n| *n -= 1);
                break;
            }
            // A token for this claim alone: only the claim that sent a delivery may record its
            // outcome, so a replay or recovery queued while it was out is not overwritten.
            let lease = flexportal_domain::ids::IdKind::Message.generate();
            let claimed = match store::claim_batch(&self.db, &batch, &lease, now, lease_until).await
            {
                Ok(claimed) if !claimed.is_empty() => claimed,
                other => {
                    self.batches_out.send_modify(|n| *n -= 1);
                    other?;
                    continue;
                }
            };
            started += claimed.len();
            if let Ok(mut sending) = self.sending.lock() {
                sending.insert(key.clone());
            }
            let me = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(e) = Arc::clone(&me)
                    .deliver_batch(claimed, &lease, lease_until)
                    .await
                {
                    // The leases expire and a later round sends the batch again.
                    tracing::warn!(error = %e, endpoint_id = %key.1, "webhook deliveries not recorded");
                }
                if let Ok(mut sending) = me.sending.lock() {
                    sending.remove(&key);
                }
                me.batches_out.send_modify(|n| *n -= 1);
                me.finished.notify_one();
            });
        }
        Ok(started)
    }

    /// Sends a claimed batch in event order, at most the endpoint's `max_in_flight` at once, then
    /// records every outcome in one transaction. A request that could not finish before the
    /// lease runs out is not started, and its row goes back to the queue.
    async fn deliver_batch(
        self: Arc<Self>,
        rows: Vec<Due>,
        lease: &str,
        lease_until: i64,
    ) -> Result<(), StoreError> {
        let endpoint =
            store::delivery_endpoint(&self.db, &rows[0].tenant_id, &rows[0].endpoint_id).await?;
        let Some(endpoint) = endpoint.map(Arc::new) else {
            let outcomes = rows.into_iter().map(dropped).collect();
            return store::finish(&self.db, lease, outcomes, &[], 0).await;
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(
            endpoint.max_in_flight.clamp(1, 64) as usize,
        ));
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let patience = self.config.timeout.as_micros() as i64;
        let mut sends = Vec::new();
        let mut unsent = Vec::new();
        for row in rows {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                unsent.push(row);
                continue;
            };
            // After a 410 the endpoint is disabled: the rest is dropped by a later round. A
            // stopping server hands back what it has not started.
            if gone.load(Ordering::Relaxed)
                || self.stopping.load(Ordering::SeqCst)
                || now_micros() + patience >= lease_until
            {
                unsent.push(row);
                continue;
            }
            let (me, endpoint, gone) =
                (Arc::clone(&self), Arc::clone(&endpoint), Arc::clone(&gone));
            sends.push(tokio::spawn(async move {
                let outcome = me.deliver(row, &endpoint).await;
                if matches!(
                    outcome,
                    Ok(Outcome {
                        next: Next::Gone,
                        ..
                    })
                ) {
                    gone.store(true, Ordering::Relaxed);
                }
                drop(slot);
                outcome
            }));
        }
        let mut outcomes = Vec::with_capacity(sends.len());
        for send in sends {
            match send.await {
                Ok(outcome) => outcomes.push(outcome?),
                Err(e) => tracing::warn!(error = %e, "webhook send task failed"),
            }
        }
        store::finish(
            &self.db,
            lease,
            outcomes,
            &unsent,
            FAILING_FOR_DISABLE_SECS * 1_000_000,
        )
        .await
    }

    async fn deliver(&self, due: Due, endpoint: &Endpoint) -> Result<Outcome, StoreError> {
        let Some(event) = store::delivery_event(&self.db, &due).await? else {
            return Ok(dropped(due));
        };
        if endpoint.enabled == 0 && event.event_type != "ping" {
            return Ok(dropped(due));
        }
        let mut data: serde_json::Value =
            serde_json::from_str(&event.data).unwrap_or(serde_json::Value::Null);
        if event.resource_type == "subscription"
            && let Some(object) = data.as_object_mut()
        {
            object.insert(
                "subscriptionId".into(),
                serde_json::Value::String(event.resource_id.clone()),
            );
        }
        let body = serde_json::json!({
            "event": event.event_type,
            "timestamp": format_instant(event.created_at),
            "data": data,
        })
        .to_string();
        let msg_id = message_id(&event.event_id);
        let sent_at = now_micros();
        let timestamp = sent_at / 1_000_000;
        let mut signatures = Vec::new();
        let mut secrets = vec![endpoint.secret_sealed.as_str()];
        if let (Some(previous), Some(until)) = (
            endpoint.previous_secret_sealed.as_deref(),
            endpoint.previous_secret_until,
        ) && until > sent_at
        {
            secrets.push(previous);
        }
        for sealed in secrets {
            if let Some(key) = self
                .config
                .sealing_key
                .open(sealed)
                .and_then(|s| secret_key(&s))
            {
                signatures.push(sign(&key, &msg_id, timestamp, body.as_bytes()));
            }
        }

        let started = Instant::now();
        let outcome = if signatures.is_empty() {
            Err("the endpoint's secret cannot be read with this server's key".to_string())
        } else if let Err(reason) = self.target_allowed(&endpoint.url) {
            Err(reason)
        } else {
            self.post(
                &endpoint.url,
                &msg_id,
                timestamp,
                &signatures.join(" "),
                body,
            )
            .await
        };
        let duration_ms = started.elapsed().as_millis() as i64;
        let attempts_made = (due.attempts + 1) as u32;
        let (status_code, excerpt, error, retry_after) = match outcome {
            Ok(answer) => (
                Some(i64::from(answer.status)),
                Some(answer.excerpt),
                None,
                answer.retry_after,
            ),
            Err(reason) => (None, None, Some(reason), None),
        };
        let next = match status_code {
            Some(code) if (200..300).contains(&code) => Next::Succeeded,
            Some(410) => Next::Gone,
            _ => match retry_delay(&self.config.retry_schedule, attempts_made, retry_after) {
                Some(secs) => Next::RetryAt(now_micros() + secs as i64 * 1_000_000),
                None => Next::Failed,
            },
        };
        let counter = match next {
            Next::Succeeded => &self.config.counters.succeeded,
            Next::RetryAt(_) => &self.config.counters.retried,
            _ => &self.config.counters.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(Outcome {
            due,
            attempt: AttemptRecord {
                event_type: event.event_type,
                attempted_at: sent_at,
                status_code,
                duration_ms,
                response_excerpt: excerpt,
                error,
            },
            next,
        })
    }

    /// IP-literal targets bypass the resolver, so they are checked here.
    fn target_allowed(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "the URL is not valid".to_string())?;
        if let Some(url::Host::Ipv4(ip)) = parsed.host() {
            self.check_ip(ip.into())?;
        }
        if let Some(url::Host::Ipv6(ip)) = parsed.host() {
            self.check_ip(ip.into())?;
        }
        Ok(())
    }

    fn check_ip(&self, ip: std::net::IpAddr) -> Result<(), String> {
        if !self.config.allow_private_targets && is_private_target(ip) {
            return Err(format!("{ip} is a private, loopback or link-local address"));
        }
        Ok(())
    }

    async fn post(
        &self,
        url: &str,
        msg_id: &str,
        timestamp: i64,
        signature: &str,
        body: String,
    ) -> Result<Answer, String> {
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after_secs);
        let mut response = response;
        let mut read = Vec::new();
        while read.len() < MAX_RESPONSE {
            match response.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status is what counts; a body cut short is still logged as far as it came.
                Err(_) => break,
            }
        }
        read.truncate(EXCERPT);
        Ok(Answer {
            status,
            excerpt: String::from_utf8_lossy(&read).into_owned(),
            retry_after,
        })
    }
}

struct Answer {
    status: u16,
    excerpt: String,
    retry_after: Option<u64>,
}

/// A delivery whose endpoint or event is gone, or whose endpoint was disabled: not attempted.
fn dropped(due: Due) -> Outcome {
    Outcome {
        due,
        attempt: AttemptRecord {
            event_type: String::new(),
            attempted_at: now_micros(),
            status_code: None,
            duration_ms: 0,
            response_excerpt: None,
            error: None,
        },
        next: Next::Dropped,
    }
}

/// A failed request in words fit for the delivery log: no internals, no secrets.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out waiting for the receiver".into()
    } else if e.is_connect() {
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if text.contains("public address") {
                return text;
            }
            source = s.source();
        }
        "could not connect to the receiver".into()
    } else if e.is_redirect() {
        "the receiver redirected; redirects are not followed".into()
    } else {
        "the request failed before an answer came".into()
    }
}

/// `Retry-After` as seconds from now: a number of seconds or an HTTP date.
fn retry_after_secs(value: &str) -> Option<u64> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(secs);
    }
    let at = jiff::fmt::rfc2822::parse(value.trim()).ok()?.timestamp();
    let secs = (at - jiff::Timestamp::now()).as_secs();
    Some(secs.max(0) as u64)
}

/// Runs dispatch rounds until the task is dropped: at once again while there is work, otherwise
/// when a delivery finishes or after `poll_every`, whichever comes first.
pub async fn run_dispatcher(dispatcher: Arc<Dispatcher>) {
    while !dispatcher.stopping.load(Ordering::SeqCst) {
        match dispatcher.round().await {
            Ok(0) => {
                let _ = tokio::time::timeout(
                    dispatcher.config.poll_every,
                    dispatcher.finished.notified(),
                )
                .await;
            }
            Ok(_) => tokio::task::yield_now().await,
            Err(e) => {
                tracing::warn!(error = %e, "webhook dispatch round failed");
                tokio::time::sleep(dispatcher.config.poll_every).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after_secs("120"), Some(120));
        assert_eq!(retry_after_secs("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(retry_after_secs("soon"), None);
    }
}
