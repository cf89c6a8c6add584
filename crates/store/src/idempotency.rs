//! `Idempotency-Key` bookkeeping, per business unit.
//!
//! A key is claimed (in flight) before the request runs and completed with the response after.
//! A claim older than [`STALE_CLAIM_MICROS`] belongs to a request that died with its process and
//! may be taken over.

use flexportal_domain::time::now_micros;

use crate::db::Db;
use crate::{Result, args};

pub const RETENTION_MICROS: i64 = 24 * 3600 * 1_000_000;
const STALE_CLAIM_MICROS: i64 = 5 * 60 * 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller owns the key now and must `complete` or `release` it.
    Claimed,
    Replay {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    DifferentRequest,
    InFlight,
}

crate::row! {
    struct Stored {
        request_hash: String,
        state: String,
        status_code: Option<i64>,
        content_type: Option<String>,
        response_body: Option<String>,
        created_at: i64,
    }
}

pub async fn claim(db: &Db, tenant_id: &str, key: &str, request_hash: &str) -> Result<Claim> {
    let now = now_micros();
    let mut tx = db.begin().await?;
    // Expired keys of this business unit go here, on the (tenant_id, created_at) index, so the
    // table stays bounded without a sweeper that scans every tenant.
    tx.execute(
        "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND created_at < $2",
        args![tenant_id, now - RETENTION_MICROS],
    )
    .await?;
    let stored: Option<Stored> = tx
        .fetch_optional(
            "SELECT request_hash, state, status_code, content_type, response_body, created_at FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2",
            args![tenant_id, key],
        )
        .await?;
    if let Some(s) = stored {
        let expired = s.created_at < now - RETENTION_MICROS;
        let abandoned = s.state == "in_flight" && s.created_at < now - STALE_CLAIM_MICROS;
        if !expired && !abandoned {
            if s.state == "in_flight" {
                return Ok(Claim::InFlight);
            }
            if s.request_hash != request_hash {
                return Ok(Claim::DifferentRequest);
            }
            return Ok(Claim::Replay {
                status: s
                    .status_code
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(200),
                content_type: s.content_type.unwrap_or_else(|| "application/json".into()),
                body: s.response_body.unwrap_or_default().into_bytes(),
            });
        }
        tx.execute(
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2",
            args![tenant_id, key],
        )
        .await?;
    }
    let inserted = tx
        .execute(
            "INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, created_at) VALUES ($1, $2, $3, 'in_flight', $4)",
            args![tenant_id, key, request_hash, now],
        )
        .await;
    match inserted {
        Ok(_) => {
            tx.commit().await?;
            Ok(Claim::Claimed)
        }
        // A concurrent request claimed the same key first.
        Err(crate::StoreError::Unique(_)) => Ok(Claim::InFlight),
        Err(e) => Err(e),
    }
}

pub async fn complete(
    db: &Db,
    tenant_id: &str,
    key: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<()> {
    db.execute(
        "UPDATE idempotency_keys SET state = 'complete', status_code = $3, content_type = $4, response_body = $5 WHERE tenant_id = $1 AND idempotency_key = $2",
        args![tenant_id, key, i64::from(status), content_type, String::from_utf8_lossy(body).into_owned()],
    )
    .await?;
    Ok(())
}

/// Forgets a claim whose request failed in a way worth retrying (a server error).
pub async fn release(db: &Db, tenant_id: &str, key: &str) -> Result<()> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2 AND state = 'in_flight'",
        args![tenant_id, key],
    )
    .await?;
    Ok(())
}
