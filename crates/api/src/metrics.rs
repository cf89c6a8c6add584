//! Prometheus metrics: request counts and latencies by route and status.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// By route, then (method, status): a request finds its series without allocating a key.
    series: Mutex<HashMap<String, Vec<(String, u16, Series)>>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let of_route = match series.get_mut(route) {
            Some(of_route) => of_route,
            None => series.entry(route.to_string()).or_default(),
        };
        let at = match of_route
            .iter()
            .position(|(m, st, _)| m == method && *st == status)
        {
            Some(at) => at,
            None => {
                of_route.push((method.to_string(), status, Series::default()));
                of_route.len() - 1
            }
        };
        let s = &mut of_route[at].2;
        s.count += 1;
        s.sum_secs += secs;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let by_route = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let series: BTreeMap<(&str, &str, u16), &Series> = by_route
            .iter()
            .flat_map(|(route, of_route)| {
                of_route
                    .iter()
                    .map(move |(method, status, s)| ((method.as_str(), route.as_str(), *status), s))
            })
            .collect();
        let mut out = String::new();
        out.push_str("# HELP flexportal_http_requests_total HTTP requests served.\n# TYPE flexportal_http_requests_total counter\n");
        for ((method, route, status), s) in series.iter() {
            let _ = writeln!(
                out,
                "flexportal_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP flexportal_http_request_duration_seconds Time to answer HTTP requests.\n# TYPE flexportal_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in series.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "flexportal_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "flexportal_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "flexportal_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_secs
            );
            let _ = writeln!(
                out,
                "flexportal_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}
