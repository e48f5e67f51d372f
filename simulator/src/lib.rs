//! A gateway simulator: realistic SRA session traffic, reported the way a gateway reports it — over the ingest API
//! (`/gateway/session-updates`, `/gateway/heartbeat`) with a gateway key — never by writing to the database.
//!
//! [`traffic`] generates reports (a history, then live changes); [`GatewayClient`] sends them, retrying with the same
//! update IDs when an answer is lost; [`run`] keeps gateways reporting and heartbeating, and ends the sessions the
//! server asks it to terminate. The server's demo mode, the tests and the benchmarks drive traffic with it; the
//! `sra-gateway-sim` command does the same against any server.

pub mod traffic;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use sra_api::{ErrorBody, Heartbeat, HeartbeatOutput, ReportResults, SessionReport, SessionReports, MAX_BATCH};

pub use traffic::Traffic;

/// Why a report did not get through.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {message}")]
    Refused { url: String, status: u16, message: String },
    #[error("unexpected answer from {url}: {reason}")]
    Unexpected { url: String, reason: String },
}

/// One gateway's connection to the server.
pub struct GatewayClient {
    agent: ureq::Agent,
    base: String,
    key: String,
}

impl GatewayClient {
    pub fn new(url: &str, key: &str) -> GatewayClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        GatewayClient { agent, base: url.trim_end_matches('/').to_owned(), key: key.to_owned() }
    }

    /// Reports updates in batches of up to 1,000. A lost answer or a server error is retried with the same update IDs
    /// (the server acknowledges each once); a refusal (4xx) is returned at once.
    pub fn report(&self, updates: &[SessionReport]) -> Result<ReportResults, SimError> {
        let mut results = Vec::with_capacity(updates.len());
        for batch in updates.chunks(MAX_BATCH) {
            let body = SessionReports { updates: batch.to_vec() };
            let answer: ReportResults = self.post_retrying("/gateway/session-updates", &body)?;
            results.extend(answer.results);
        }
        Ok(ReportResults { results })
    }

    pub fn heartbeat(&self, live: &[String]) -> Result<HeartbeatOutput, SimError> {
        self.post_retrying("/gateway/heartbeat", &Heartbeat { live: live.to_vec() })
    }

    fn post_retrying<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SimError> {
        let mut wait = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.post(path, body) {
                Err(e @ (SimError::Unreachable { .. } | SimError::Refused { status: 500..=599, .. }))
                    if attempt < 6 =>
                {
                    let _ = e;
                    std::thread::sleep(wait);
                    wait *= 2;
                }
                other => return other,
            }
        }
    }

    fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, SimError> {
        let url = format!("{}{path}", self.base);
        let payload = serde_json::to_vec(body).expect("reports always serialize");
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Authorization", &format!("Bearer {}", self.key))
            .send(&payload[..])
            .map_err(|e| SimError::Unreachable { url: url.clone(), reason: e.to_string() })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| SimError::Unreachable { url: url.clone(), reason: e.to_string() })?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_str::<ErrorBody>(&text).map(|e| e.error).unwrap_or(text);
            return Err(SimError::Refused { url, status, message });
        }
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| SimError::Unexpected { url: url.clone(), reason: e.to_string() })?;
        serde_json::from_value(value).map_err(|e| SimError::Unexpected { url, reason: e.to_string() })
    }
}

/// How [`run`] paces the traffic.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Time between two changes (a start, a connect or an end somewhere).
    pub between_changes: Duration,
    /// Time between two heartbeats of each gateway.
    pub heartbeat_every: Duration,
    /// Sessions kept live at least.
    pub floor: usize,
}

/// Reports history, then keeps the gateways reporting changes and heartbeats until `stop` is set. `clients` are in the
/// order of `traffic.gateways()`. Sessions the server asks to terminate are ended and reported `terminated`.
/// Failures are logged to `log` and retried on the next round: a gateway keeps going when the server is away.
pub fn run(clients: &[GatewayClient], traffic: &mut Traffic, pace: Pace, stop: &AtomicBool, log: &dyn Fn(String)) {
    let mut last_beat = Instant::now() - pace.heartbeat_every;
    let mut pending: Vec<Vec<SessionReport>> = vec![Vec::new(); clients.len()];
    while !stop.load(Ordering::Relaxed) {
        let now = now_ms();
        if last_beat.elapsed() >= pace.heartbeat_every {
            last_beat = Instant::now();
            for (gateway, client) in clients.iter().enumerate() {
                match client.heartbeat(&traffic.live[gateway].ids()) {
                    Ok(answer) => {
                        for id in &answer.terminate {
                            if let Some(report) = traffic.terminate(gateway, id, now) {
                                pending[gateway].push(report);
                            }
                        }
                        traffic.forget(gateway, &answer.ended);
                        traffic.block(gateway, answer.blocked.into_iter().map(|b| (b.user, b.until)).collect());
                    }
                    Err(e) => log(format!("heartbeat of {} failed: {e}", traffic.gateways()[gateway])),
                }
            }
        }
        if let Some((gateway, report)) = traffic.step(now, pace.floor) {
            pending[gateway].push(report);
        }
        for (gateway, client) in clients.iter().enumerate() {
            if pending[gateway].is_empty() {
                continue;
            }
            match client.report(&pending[gateway]) {
                Ok(_) => pending[gateway].clear(),
                // Kept and sent again next round, with the same update IDs.
                Err(e) => log(format!("report of {} failed: {e}", traffic.gateways()[gateway])),
            }
        }
        sleep_unless_stopped(pace.between_changes, stop);
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let until = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// The current time in epoch milliseconds.
pub fn now_ms() -> sra_domain::Millis {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
