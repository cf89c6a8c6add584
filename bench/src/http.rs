//! A lean load client for the read rates: one kept-alive HTTP/1.1 connection per worker, each
//! response's status checked and its body read and dropped, as load tools such as `wrk` do.
//!
//! The API client the other steps use is built for tests: it copies every response's headers
//! and parses every body into a JSON tree. Here the load generator runs on the same two cores as
//! the server, so that work was counted against the API, and more of it for an order's body than
//! for `/healthz`'s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// Who a request is sent as; `None` sends no credentials.
#[derive(Clone)]
pub struct Credentials {
    pub secret: String,
    pub tenant_id: String,
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// `requests` GETs of `path(k)` for k = 0, 1, …, `concurrency` connections at a time, each
/// expected to answer 200. Returns requests per second.
pub async fn get_rate(
    address: SocketAddr,
    credentials: Option<Credentials>,
    requests: usize,
    concurrency: usize,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Result<f64, String> {
    let path = Arc::new(path);
    let next = Arc::new(AtomicUsize::new(0));
    let connections = connect_all(address, concurrency).await?;
    let started = Instant::now();
    let workers: Vec<_> = connections
        .into_iter()
        .map(|mut sender| {
            let (path, next, credentials) = (path.clone(), next.clone(), credentials.clone());
            tokio::spawn(async move {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= requests {
                        return Ok::<(), String>(());
                    }
                    get(&mut sender, &path(k), credentials.as_ref()).await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}

/// GETs of `path(k)` offered at `rate` a second for `seconds`, request k due at k / `rate`,
/// spread over `connections` connections (request k on connection k mod `connections`). A
/// request held back by a slow answer before it on its connection counts from when it was due,
/// so that wait is counted too; any other from when it was sent.
pub async fn latencies_at(
    address: SocketAddr,
    credentials: Option<Credentials>,
    rate: f64,
    seconds: f64,
    connections: usize,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Result<Vec<Duration>, String> {
    let path = Arc::new(path);
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let senders = connect_all(address, connections).await?;
    let started = tokio::time::Instant::now();
    let workers: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(first, mut sender)| {
            let (path, credentials) = (path.clone(), credentials.clone());
            tokio::spawn(async move {
                let mut waits = Vec::with_capacity(total / connections + 1);
                let mut free_since = started;
                for k in (first..total).step_by(connections) {
                    let due = started + interval.mul_f64(k as f64);
                    tokio::time::sleep_until(due).await;
                    // The timer wakes up to a millisecond late; that is not the server's time.
                    let begun = if free_since > due {
                        due
                    } else {
                        tokio::time::Instant::now()
                    };
                    get(&mut sender, &path(k), credentials.as_ref()).await?;
                    free_since = tokio::time::Instant::now();
                    waits.push(free_since - begun);
                }
                Ok::<_, String>(waits)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for worker in workers {
        all.extend(worker.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

/// One GET on `sender`'s connection, its body read and dropped; an error unless it answered 200.
async fn get(
    sender: &mut Sender,
    path: &str,
    credentials: Option<&Credentials>,
) -> Result<(), String> {
    let mut request = Request::get(path).header("host", "bench");
    if let Some(c) = credentials {
        request = request
            .header("authorization", format!("Bearer {}", c.secret))
            .header("tenant-id", c.tenant_id.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("GET {path}: {status}"));
    }
    Ok(())
}

async fn connect_all(address: SocketAddr, n: usize) -> Result<Vec<Sender>, String> {
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        senders.push(connect(address).await?);
    }
    Ok(senders)
}

async fn connect(address: SocketAddr) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}
