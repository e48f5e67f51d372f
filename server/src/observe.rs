//! Request observation: a request ID, one log line and metrics for every request; `/healthz`, `/readyz`, `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sra_store::Store;
use subtle::ConstantTimeEq;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Request counts and latencies by route, kept in memory for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
}

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let stats = routes.entry((method.to_owned(), route.to_owned())).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|le| seconds <= *le) {
            stats.buckets[i] += 1;
        }
    }

    /// The Prometheus text exposition of everything recorded, plus the database pool's state.
    pub fn render(&self, pools: [(&str, sra_store::PoolStats); 2]) -> String {
        let routes = self.routes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str("# HELP sra_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE sra_http_requests_total counter\n");
        for ((method, route), stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "sra_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP sra_http_request_duration_seconds HTTP request latency by method and route.\n");
        out.push_str("# TYPE sra_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(stats.buckets) {
                cumulative += n;
                let _ = writeln!(out, "sra_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "sra_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", stats.count);
            let _ = writeln!(out, "sra_http_request_duration_seconds_sum{{{labels}}} {}", stats.sum_seconds);
            let _ = writeln!(out, "sra_http_request_duration_seconds_count{{{labels}}} {}", stats.count);
        }
        out.push_str("# HELP sra_db_pool_connections Database pool connections by pool (reads, writes) and state.\n");
        out.push_str("# TYPE sra_db_pool_connections gauge\n");
        for (name, pool) in &pools {
            let _ = writeln!(out, "sra_db_pool_connections{{pool=\"{name}\",state=\"idle\"}} {}", pool.idle);
            let in_use = pool.size.saturating_sub(pool.idle);
            let _ = writeln!(out, "sra_db_pool_connections{{pool=\"{name}\",state=\"in_use\"}} {in_use}");
        }
        out.push_str("# HELP sra_db_pool_max_connections Largest size each database pool may grow to.\n");
        out.push_str("# TYPE sra_db_pool_max_connections gauge\n");
        for (name, pool) in &pools {
            let _ = writeln!(out, "sra_db_pool_max_connections{{pool=\"{name}\"}} {}", pool.max);
        }
        out
    }
}

/// What the observation middleware and the health endpoints need.
#[derive(Clone)]
pub struct Observed {
    pub metrics: Arc<Metrics>,
    pub store: Store,
    /// False while start-up work that readers depend on (the demo's history) is still running.
    pub ready: Arc<std::sync::atomic::AtomicBool>,
    /// Who may read `/metrics` here.
    pub access: MetricsAccess,
    /// The last write probe's answer and when it was taken (see [`readyz`]).
    pub probe: Arc<tokio::sync::Mutex<Option<Probed>>>,
}

/// When a write was last tried for `/readyz`, and why it failed if it did.
pub type Probed = (Instant, Result<(), String>);

/// How long a write probe's answer is reused: `/readyz` is open to anyone, and each probe is a committed write.
const PROBE_REUSE: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a write probe may wait for its turn before the replica counts as not ready.
const PROBE_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Who may read `/metrics` on a listener. Metrics tell an outsider the routes, their traffic and the pool's state, so
/// a public listener serves them only with a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who reaches the listener (a loopback bind, or the separate metrics listener).
    #[default]
    Open,
    /// Only with `Authorization: Bearer TOKEN`.
    Token(String),
    /// Not served here (404).
    Hidden,
}

/// Gives every request an ID (the caller's `x-request-id` if it is sane, else a new one), returns it in the response,
/// logs one line when the response is ready, and records the request's route, status and latency.
pub async fn observe(State(observed): State<Observed>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    // Label by the matched route, never the raw path: raw paths would let clients create unbounded metric series.
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None if path.starts_with("/pkg/") => "/pkg/{file}".to_owned(),
        None => "unmatched".to_owned(),
    };

    let mut response = next.run(request).await;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    observed.metrics.record(&method, &route, status, elapsed.as_secs_f64());
    tracing::info!(
        target: "sra::http",
        request_id = %request_id,
        method = %method,
        path = %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn new_request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Liveness: the process is up and serving.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the database answers.
pub async fn readyz(State(observed): State<Observed>) -> Response {
    if !observed.ready.load(std::sync::atomic::Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting: loading the demo data\n").into_response();
    }
    // Ready means the database answers (checked every time: a read is cheap) and a gateway's update would be committed
    // now: a write is tried too (reads alone can succeed on a full disk), at most once a second whoever asks.
    if let Err(e) = observed.store.ping().await {
        let reason = e.outage().map_or_else(|| e.to_string(), |o| o.message().to_owned());
        tracing::warn!(%reason, "readiness check failed: the database does not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")).into_response();
    }
    let mut probe = observed.probe.lock().await;
    let answer = match &*probe {
        Some((at, answer)) if at.elapsed() < PROBE_REUSE => answer.clone(),
        _ => {
            let answer = match tokio::time::timeout(PROBE_LIMIT, observed.store.check_writes()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.outage().map_or_else(|| e.to_string(), |o| o.message().to_owned())),
                Err(_) => Err(format!("a write waited more than {} s for the database", PROBE_LIMIT.as_secs())),
            };
            *probe = Some((Instant::now(), answer.clone()));
            answer
        }
    };
    match answer {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "readiness check failed: writes cannot be committed");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}\n")).into_response()
        }
    }
}

pub async fn metrics(State(observed): State<Observed>, headers: axum::http::HeaderMap) -> Response {
    match &observed.access {
        MetricsAccess::Open => {}
        MetricsAccess::Hidden => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
        MetricsAccess::Token(token) => {
            let given = crate::http::bearer_token(&headers).ok().flatten().unwrap_or("");
            if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                let mut response =
                    (StatusCode::UNAUTHORIZED, "send the metrics token as Authorization: Bearer\n").into_response();
                response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return response;
            }
        }
    }
    let mut body = observed.metrics.render(observed.store.pool_stats());
    // The store's part is read from the database (the same on every replica); if it cannot be read, the rest is still
    // served and says so.
    let store = observed.store.store_metrics().await;
    body.push_str("# HELP sra_store_metrics_up Whether the session, gateway and audit series below could be read.\n");
    body.push_str("# TYPE sra_store_metrics_up gauge\n");
    match store {
        Ok(store) => {
            body.push_str("sra_store_metrics_up 1\n");
            render_store(&mut body, &store);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the store's series cannot be read");
            body.push_str("sra_store_metrics_up 0\n");
        }
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// A label value as the text format wants it (gateway names are checked on registration; escaped all the same).
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The session, gateway, ingest and audit series. Labels are bounded: gateways, resource types, client interfaces
/// and statuses — never users or session IDs.
fn render_store(out: &mut String, store: &sra_store::StoreMetrics) {
    out.push_str("# HELP sra_sessions_active Sessions connecting or connected now.\n");
    out.push_str("# TYPE sra_sessions_active gauge\n");
    for a in &store.active {
        let _ = writeln!(
            out,
            "sra_sessions_active{{gateway=\"{}\",resource_type=\"{}\",client_interface=\"{}\",status=\"{}\"}} {}",
            label(&a.gateway),
            label(&a.resource_type),
            label(&a.client_interface),
            a.status,
            a.sessions
        );
    }
    // The counters leave the client interface out: gateways × resource types (× 3 final statuses) series at most.
    let mut started: BTreeMap<String, u64> = BTreeMap::new();
    let mut ended: BTreeMap<String, u64> = BTreeMap::new();
    for t in &store.sessions {
        let labels = format!("gateway=\"{}\",resource_type=\"{}\"", label(&t.gateway), label(&t.resource_type));
        if !t.status.is_active() {
            *ended.entry(format!("{labels},status=\"{}\"", t.status)).or_default() += t.sessions;
        }
        *started.entry(labels).or_default() += t.sessions;
    }
    out.push_str("# HELP sra_sessions_started_total Sessions started, whatever became of them.\n");
    out.push_str("# TYPE sra_sessions_started_total counter\n");
    for (labels, n) in &started {
        let _ = writeln!(out, "sra_sessions_started_total{{{labels}}} {n}");
    }
    out.push_str("# HELP sra_sessions_ended_total Sessions ended, by final status (completed, failed, terminated).\n");
    out.push_str("# TYPE sra_sessions_ended_total counter\n");
    for (labels, n) in &ended {
        let _ = writeln!(out, "sra_sessions_ended_total{{{labels}}} {n}");
    }
    out.push_str("# HELP sra_session_duration_seconds How long ended sessions lasted.\n");
    out.push_str("# TYPE sra_session_duration_seconds histogram\n");
    let mut series: BTreeMap<(String, &str), Vec<&sra_store::DurationBucket>> = BTreeMap::new();
    for d in &store.durations {
        series.entry((label(&d.resource_type), d.status.as_str())).or_default().push(d);
    }
    for ((resource_type, status), buckets) in &series {
        let labels = format!("resource_type=\"{resource_type}\",status=\"{status}\"");
        let mut cumulative = 0;
        for (i, bound) in sra_store::DURATION_BOUNDS_S.iter().enumerate() {
            cumulative += buckets.iter().filter(|d| d.bucket == i).map(|d| d.sessions).sum::<u64>();
            let _ = writeln!(out, "sra_session_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let count: u64 = buckets.iter().map(|d| d.sessions).sum();
        let sum_ms: i64 = buckets.iter().map(|d| d.duration_ms).sum();
        let _ = writeln!(out, "sra_session_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "sra_session_duration_seconds_sum{{{labels}}} {}", sum_ms as f64 / 1_000.0);
        let _ = writeln!(out, "sra_session_duration_seconds_count{{{labels}}} {count}");
    }
    out.push_str("# HELP sra_gateway_heartbeat_age_seconds Seconds since each gateway's last heartbeat (absent before its first).\n");
    out.push_str("# TYPE sra_gateway_heartbeat_age_seconds gauge\n");
    for (gateway, age) in &store.heartbeat_age_ms {
        if let Some(age) = age {
            let _ = writeln!(
                out,
                "sra_gateway_heartbeat_age_seconds{{gateway=\"{}\"}} {}",
                label(gateway),
                *age as f64 / 1_000.0
            );
        }
    }
    let tallied = store.tallied;
    out.push_str("# HELP sra_sessions_lost_total Active sessions this replica closed as failed: their gateway stopped reporting them.\n");
    out.push_str("# TYPE sra_sessions_lost_total counter\n");
    let _ = writeln!(out, "sra_sessions_lost_total {}", tallied.lost);
    out.push_str("# HELP sra_ingest_batches_total Gateway batches this replica answered: stored whole, or refused (nothing stored).\n");
    out.push_str("# TYPE sra_ingest_batches_total counter\n");
    let _ = writeln!(out, "sra_ingest_batches_total{{result=\"applied\"}} {}", tallied.batches_applied);
    let _ = writeln!(out, "sra_ingest_batches_total{{result=\"refused\"}} {}", tallied.batches_refused);
    out.push_str("# HELP sra_ingest_updates_total Updates of the gateway batches this replica stored, by outcome.\n");
    out.push_str("# TYPE sra_ingest_updates_total counter\n");
    for (outcome, n) in [("applied", tallied.applied), ("duplicate", tallied.duplicate), ("ignored", tallied.ignored)] {
        let _ = writeln!(out, "sra_ingest_updates_total{{outcome=\"{outcome}\"}} {n}");
    }
    out.push_str(
        "# HELP sra_audit_destination_lag_entries Audit entries recorded that a destination has not acknowledged.\n",
    );
    out.push_str("# TYPE sra_audit_destination_lag_entries gauge\n");
    for d in &store.destinations {
        let _ = writeln!(out, "sra_audit_destination_lag_entries{{destination=\"{}\"}} {}", label(&d.name), d.lag);
    }
    out.push_str("# HELP sra_audit_destination_failures Failed deliveries to a destination since its last success.\n");
    out.push_str("# TYPE sra_audit_destination_failures gauge\n");
    for d in &store.destinations {
        let _ = writeln!(out, "sra_audit_destination_failures{{destination=\"{}\"}} {}", label(&d.name), d.failures);
    }
    out.push_str("# HELP sra_audit_destination_last_delivery_age_seconds Seconds since a destination last acknowledged a batch (absent before its first).\n");
    out.push_str("# TYPE sra_audit_destination_last_delivery_age_seconds gauge\n");
    let now = sra_store::now_ms();
    for d in &store.destinations {
        if let Some(age) = d.delivered_at.map(|at| now.saturating_sub(at).max(0)) {
            let _ = writeln!(
                out,
                "sra_audit_destination_last_delivery_age_seconds{{destination=\"{}\"}} {}",
                label(&d.name),
                age as f64 / 1_000.0
            );
        }
    }
    out.push_str(
        "# HELP sra_audit_chain_head Sequence number of the newest audit entry: the chain's length since its start.\n",
    );
    out.push_str("# TYPE sra_audit_chain_head gauge\n");
    let _ = writeln!(out, "sra_audit_chain_head {}", store.audit_head);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_statuses_counted() {
        let metrics = Metrics::default();
        metrics.record("GET", "/sessions", 200, 0.004);
        metrics.record("GET", "/sessions", 200, 0.2);
        metrics.record("GET", "/sessions", 500, 20.0);
        let text = metrics.render([
            ("reads", sra_store::PoolStats { size: 3, idle: 2, max: 8 }),
            ("writes", sra_store::PoolStats { size: 1, idle: 1, max: 1 }),
        ]);
        assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/sessions\",status=\"200\"} 2"));
        assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/sessions\",status=\"500\"} 1"));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/sessions\",le=\"0.005\"} 1\n"));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/sessions\",le=\"0.25\"} 2\n"));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/sessions\",le=\"10\"} 2\n"));
        assert!(text.contains("_bucket{method=\"GET\",route=\"/sessions\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("sra_db_pool_connections{pool=\"reads\",state=\"in_use\"} 1\n"));
        assert!(text.contains("sra_db_pool_max_connections{pool=\"reads\"} 8\n"));
        assert!(text.contains("sra_db_pool_max_connections{pool=\"writes\"} 1\n"));
    }

    #[test]
    fn only_plain_request_ids_are_echoed() {
        assert!(is_sane_request_id("abc-123_X"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id(&"x".repeat(65)));
        assert_eq!(new_request_id().len(), 16);
    }
}
