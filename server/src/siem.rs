//! Delivering the audit log to SIEMs (`sra-server admin destination add`): every entry, in order, at least once — to
//! webhooks as CloudEvents 1.0 batches (`application/cloudevents-batch+json`), signed; to syslog receivers as RFC 5424
//! messages over TCP, octet-counted, with the entry's fields as structured data.
//!
//! One replica delivers at a time (the leader). For each destination it reads the entries after the destination's
//! position, up to [`BATCH`] at a time, sends them in one POST and moves the position only when the receiver answered
//! 2xx: a batch whose answer was lost is sent again (receivers deduplicate by the event `id`, the entry's sequence
//! number). A destination that fails is tried again after a growing pause (1 s, doubling, at most a minute), and never
//! holds up the others or ingest: delivery reads the audit log like any reader, and catches up from its position.
//!
//! Each request carries `X-SRA-Signature: t=UNIX_SECONDS,v1=HEX` where `HEX` is HMAC-SHA256 with the destination's
//! secret over `"{t}.{body}"`: a receiver recomputes it, compares in constant time, and refuses a `t` older than a few
//! minutes (so a captured request cannot be replayed later).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sra_domain::Caller;
use sra_store::{ChainedRecord, Destination, Store, Transport};
use tokio::sync::watch;

/// Entries per request.
pub const BATCH: u32 = 100;
/// Batches one destination may send in one round before the others get their turn.
const ROUNDS_PER_TURN: usize = 20;
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// When each failing destination may be tried again (in memory: a restart tries at once).
#[derive(Default)]
pub struct Pauses(HashMap<i64, (Instant, Duration)>);

impl Pauses {
    fn due(&self, id: i64, now: Instant) -> bool {
        self.0.get(&id).is_none_or(|(at, _)| now >= *at)
    }

    fn failed(&mut self, id: i64, now: Instant) {
        let pause = self.0.get(&id).map_or(FIRST_PAUSE, |(_, last)| (*last * 2).min(LONGEST_PAUSE));
        self.0.insert(id, (now + pause, pause));
    }

    fn succeeded(&mut self, id: i64) {
        self.0.remove(&id);
    }
}

/// The HTTP client deliveries use.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(TIMEOUT)).build().into()
}

/// One round: each destination that is due is sent what follows its position, batch by batch, until it is caught up,
/// a batch fails, or its turn is over. Returns how many entries were acknowledged.
pub async fn deliver_round(
    store: &Store,
    agent: &ureq::Agent,
    pauses: &mut Pauses,
) -> Result<usize, sra_store::StoreError> {
    // Deliveries carry every entry: administrative ones too.
    let reader = Caller::admin("audit-delivery");
    let mut delivered = 0;
    for destination in store.destinations().await? {
        if !pauses.due(destination.id, Instant::now()) {
            continue;
        }
        let mut position = destination.position;
        for _ in 0..ROUNDS_PER_TURN {
            let entries = store.audit_after(&reader, Some(position), BATCH).await?;
            let Some(last) = entries.last().map(|e| e.record.id) else { break };
            match send(agent, &destination, &entries).await {
                Ok(()) => {
                    store.mark_delivered(destination.id, last).await?;
                    pauses.succeeded(destination.id);
                    delivered += entries.len();
                    position = last;
                }
                Err(error) => {
                    tracing::warn!(destination = %destination.name, %error, "audit delivery failed; retrying later");
                    store.mark_failed(destination.id, &error).await?;
                    pauses.failed(destination.id, Instant::now());
                    break;
                }
            }
        }
    }
    Ok(delivered)
}

/// Delivers for as long as the server runs, on the leader replica only.
pub async fn deliver_audit(store: Store, mut stop: watch::Receiver<bool>) {
    let agent = agent();
    let mut pauses = Pauses::default();
    let mut moved = store.subscribe_changes();
    loop {
        // New session changes wake it at once; other entries are found within a second.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = moved.changed() => {}
            _ = stop.changed() => return,
        }
        if !store.is_leader() {
            continue;
        }
        if let Err(e) = deliver_round(&store, &agent, &mut pauses).await {
            tracing::warn!(error = %e, "audit delivery could not read its destinations or entries; retrying");
        }
    }
}

/// The CloudEvents batch for `entries`.
pub fn cloud_events(entries: &[ChainedRecord]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let r = &e.record;
                let mut event = json!({
                    "specversion": "1.0",
                    "id": r.id.to_string(),
                    "source": "/sra-sessions/audit",
                    "type": format!("com.sra-sessions.audit.{}", r.action),
                    "time": sra_domain::format_rfc3339(r.at),
                    "datacontenttype": "application/json",
                    "data": {
                        "id": r.id,
                        "actor": r.actor,
                        "action": r.action,
                        "session_id": r.session_id,
                        "details": r.details,
                        "summary": r.summary(),
                        "previous_hash": e.previous_hash,
                        "hash": e.hash,
                    },
                });
                if let Some(session_id) = &r.session_id {
                    event["subject"] = json!(session_id);
                }
                event
            })
            .collect(),
    )
}

/// `t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "{t}.{body}"))`.
pub fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// Sends one batch by the destination's transport; `Err` says why it was not acknowledged.
async fn send(agent: &ureq::Agent, destination: &Destination, entries: &[ChainedRecord]) -> Result<(), String> {
    match Transport::of(&destination.url) {
        Transport::Webhook => send_webhook(agent, destination, entries).await,
        Transport::SyslogTcp { address } => send_syslog(&address, entries).await,
    }
}

/// The structured data element of every message: `sra@32473` (32473 is IANA's example enterprise number: there is no
/// registered one for this product).
pub const SD_ID: &str = "sra@32473";

/// One entry as an RFC 5424 message (facility authpriv; severity warning for failures, terminations, blocks and
/// refusals, notice otherwise; MSGID the action; the entry's fields and chain links as structured data; MSG the
/// summary in words).
pub fn syslog_message(entry: &ChainedRecord, hostname: &str) -> Vec<u8> {
    use syslog_fmt::v5424::{Config, Timestamp};
    use syslog_fmt::{Facility, Severity};
    let r = &entry.record;
    let procid = std::process::id().to_string();
    let formatter = Config {
        facility: Facility::Authpriv,
        hostname: Some(hostname),
        app_name: Some("sra-sessions"),
        proc_id: Some(&procid),
    }
    .into_formatter();
    let warning = ["failed", "terminate", "blocked", "refused", "disabled"].iter().any(|w| r.action.contains(w));
    let severity = if warning { Severity::Warning } else { Severity::Notice };
    // MSGID: at most 32 printable ASCII characters.
    let msg_id: String = r.action.chars().filter(|c| c.is_ascii_graphic()).take(32).collect();
    let (id, details) = (r.id.to_string(), r.details.to_string());
    let mut params = vec![("id", id.as_str()), ("actor", r.actor.as_str())];
    if let Some(session_id) = &r.session_id {
        params.push(("session_id", session_id));
    }
    params.extend([("details", details.as_str()), ("previous_hash", &entry.previous_hash), ("hash", &entry.hash)]);
    let mut out = Vec::new();
    let written = formatter.write_with_data(
        &mut out,
        severity,
        Timestamp::PreformattedString(sra_domain::format_rfc3339(r.at)),
        r.summary(),
        Some(msg_id.as_str()),
        vec![(SD_ID, params)],
    );
    // Writing to a Vec cannot fail.
    debug_assert!(written.is_ok());
    out
}

/// This machine's name for syslog's HOSTNAME (`-` if it has none).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let name = if ok { buf.split(|b| *b == 0).next().unwrap_or(&[]) } else { &[] };
    let name: String = String::from_utf8_lossy(name).chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    if name.is_empty() {
        "-".to_owned()
    } else {
        name
    }
}

/// Sends one batch over a new TCP connection, octet-counted (`LEN SP MESSAGE`, RFC 6587), then closes its sending
/// side and waits for the receiver to close too: syslog over TCP has no acknowledgement, and a receiver that read to
/// the end of the stream closes it, while one that died resets it or never answers. Only then is the batch delivered.
async fn send_syslog(address: &str, entries: &[ChainedRecord]) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = hostname();
    let mut frames = Vec::new();
    for entry in entries {
        let message = syslog_message(entry, &host);
        frames.extend_from_slice(format!("{} ", message.len()).as_bytes());
        frames.extend_from_slice(&message);
    }
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| format!("the receiver cannot be reached: {e}"))?;
        stream.write_all(&frames).await.map_err(|e| format!("sending failed: {e}"))?;
        stream.shutdown().await.map_err(|e| format!("closing failed: {e}"))?;
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.map_err(|e| format!("the receiver did not close cleanly: {e}"))?;
        Ok::<(), String>(())
    };
    tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| "the receiver did not close in time".to_owned())?
}

/// Sends one batch as a signed CloudEvents POST; acknowledged by a 2xx answer.
async fn send_webhook(agent: &ureq::Agent, destination: &Destination, entries: &[ChainedRecord]) -> Result<(), String> {
    let body = serde_json::to_vec(&cloud_events(entries)).map_err(|e| e.to_string())?;
    let signed = signature(&destination.secret, sra_store::now_ms() / 1_000, &body);
    let (agent, url) = (agent.clone(), destination.url.clone());
    let range = format!("{}-{}", entries[0].record.id, entries[entries.len() - 1].record.id);
    let answer = tokio::task::spawn_blocking(move || {
        agent
            .post(&url)
            .header("content-type", "application/cloudevents-batch+json")
            .header("x-sra-signature", &signed)
            .header("x-sra-delivery", &range)
            .send(&body[..])
            .map(|response| response.status().as_u16())
    })
    .await
    .map_err(|e| format!("the delivery task failed: {e}"))?;
    match answer {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(status) => Err(format!("the receiver answered {status}")),
        Err(e) => Err(format!("the receiver cannot be reached: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        let a = signature("secret", 1_800_000_000, b"[]");
        assert!(a.starts_with("t=1800000000,v1=") && a.len() == "t=1800000000,v1=".len() + 64, "{a}");
        assert_ne!(a, signature("secret", 1_800_000_001, b"[]"));
        assert_ne!(a, signature("secret", 1_800_000_000, b"[ ]"));
        assert_ne!(a, signature("other", 1_800_000_000, b"[]"));
    }

    #[test]
    fn a_failing_destination_waits_longer_each_time_up_to_a_minute() {
        let mut pauses = Pauses::default();
        let t = Instant::now();
        pauses.failed(1, t);
        assert!(!pauses.due(1, t) && pauses.due(1, t + FIRST_PAUSE) && pauses.due(2, t));
        for _ in 0..10 {
            pauses.failed(1, t);
        }
        assert!(!pauses.due(1, t + LONGEST_PAUSE - Duration::from_millis(1)) && pauses.due(1, t + LONGEST_PAUSE));
        pauses.succeeded(1);
        assert!(pauses.due(1, t));
    }
}
