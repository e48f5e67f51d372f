//! Audit delivery to a SIEM webhook through a real local HTTP receiver, on a real SQLite file and a real PostgreSQL
//! database: every entry arrives, in order, at least once, as signed CloudEvents batches with the chain's links; while
//! the receiver is down nothing is lost (the position stays, the failure shows in the metrics), a batch whose
//! acknowledgement was lost is sent again, and delivery catches up when the receiver is back on the same port.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use sra_domain::{Actor, SessionUpdate};
use sra_server::siem::{agent, deliver_round, signature, Pauses};
use sra_store::{now_ms, StartAt, Store};
use tokio::net::TcpListener;

/// What the receiver got: each request's signature header and body, in arrival order.
#[derive(Default)]
struct Inbox {
    requests: Mutex<Vec<(String, Bytes)>>,
    /// Answer the next request 503 after reading it (its acknowledgement is "lost").
    drop_next_answer: std::sync::atomic::AtomicBool,
}

/// Serves the webhook on `listener` until the task is aborted.
fn receive(listener: TcpListener, inbox: Arc<Inbox>) -> tokio::task::JoinHandle<()> {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let inbox = inbox.clone();
            async move {
                let signed = headers.get("x-sra-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                assert_eq!(headers["content-type"], "application/cloudevents-batch+json");
                inbox.requests.lock().unwrap().push((signed, body));
                if inbox.drop_next_answer.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    })
}

/// `n` sessions started by gw-a (an audit entry each).
async fn sessions(store: &Store, from: usize, n: usize) {
    let updates: Vec<SessionUpdate> = (from..from + n)
        .map(|i| sra_store::testing::started(&format!("s-{i}"), now_ms() - 1_000, "alice", "gw-a"))
        .collect();
    store.apply_updates(&Actor::Gateway("gw-a".into()), &updates).await.unwrap();
}

/// Rounds of delivery until the destination has acknowledged the whole log (each round as a fresh start, so that a
/// pause after a failure does not slow the test).
async fn deliver_all(store: &Store) {
    let agent = agent();
    for _ in 0..50 {
        deliver_round(store, &agent, &mut Pauses::default()).await.unwrap();
        let metrics = store.store_metrics().await.unwrap();
        if metrics.destinations[0].lag == 0 {
            return;
        }
    }
    panic!("delivery did not catch up");
}

async fn every_entry_arrives_in_order_signed_and_chained_through_an_outage(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let url = format!("http://{address}/hook");
    let secret = store.add_destination(&Actor::System, "siem", &url, StartAt::Oldest).await.unwrap();
    let inbox = Arc::new(Inbox::default());
    let receiver = receive(listener, inbox.clone());

    sessions(store, 0, 250).await;
    deliver_all(store).await;
    let first_requests = inbox.requests.lock().unwrap().len();
    assert!(first_requests >= 3, "batches of at most 100: {first_requests}");

    // The receiver goes away: the next round fails, the position stays, the metrics say so.
    receiver.abort();
    let _ = receiver.await;
    sessions(store, 250, 150).await;
    assert_eq!(deliver_round(store, &agent(), &mut Pauses::default()).await.unwrap(), 0);
    let metrics = store.store_metrics().await.unwrap();
    let health = &metrics.destinations[0];
    assert!(health.lag >= 150 && health.failures >= 1, "{health:?}");
    let down = store.destinations().await.unwrap().remove(0);
    assert!(down.last_error.as_deref().is_some_and(|e| e.contains("cannot be reached")), "{down:?}");

    // Back on the same port; its first answer is lost: that batch comes again.
    let listener = TcpListener::bind(address).await.unwrap();
    inbox.drop_next_answer.store(true, std::sync::atomic::Ordering::SeqCst);
    let receiver = receive(listener, inbox.clone());
    deliver_all(store).await;
    receiver.abort();

    // Every request signed with the destination's secret over its time and body, recently.
    let requests = inbox.requests.lock().unwrap().clone();
    let now_s = now_ms() / 1_000;
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for (signed, body) in &requests {
        let t: i64 = signed.strip_prefix("t=").and_then(|r| r.split(',').next()).unwrap().parse().unwrap();
        assert!((now_s - 300..=now_s + 1).contains(&t), "{signed}");
        assert_eq!(signed, &signature(&secret, t, body), "a valid signature");
        let batch: Vec<Value> = serde_json::from_slice(body).unwrap();
        assert!(!batch.is_empty() && batch.len() <= 100);
        for event in batch {
            assert_eq!(event["specversion"], "1.0");
            assert!(event["type"].as_str().unwrap().starts_with("com.sra-sessions.audit."), "{event}");
            ids.push(event["id"].as_str().unwrap().parse::<i64>().unwrap());
            events.push(event);
        }
    }
    // At least once, in order: with repeats removed, exactly the log, oldest first; one batch came twice.
    let mut seen = std::collections::BTreeSet::new();
    let first_arrivals: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
    let head = store.store_metrics().await.unwrap().audit_head as i64;
    let log: Vec<i64> = store
        .audit_after(&sra_domain::Caller::admin("t"), None, 500)
        .await
        .unwrap()
        .iter()
        .map(|e| e.record.id)
        .collect();
    assert_eq!(first_arrivals, log);
    assert_eq!(log.last(), Some(&head));
    assert!(ids.len() > first_arrivals.len(), "the unacknowledged batch was sent again");
    assert!(first_arrivals.windows(2).all(|w| w[0] < w[1]));
    // The chain's links travel with the entries: each entry's previous hash is the one before's hash.
    let mut hash_of = std::collections::BTreeMap::new();
    for event in &events {
        hash_of.insert(event["data"]["id"].as_i64().unwrap(), event["data"]["hash"].as_str().unwrap().to_owned());
    }
    for event in &events {
        let id = event["data"]["id"].as_i64().unwrap();
        if let Some((_, before)) = hash_of.range(..id).next_back() {
            assert_eq!(event["data"]["previous_hash"].as_str(), Some(before.as_str()), "{event}");
        }
    }
    let caught_up = store.store_metrics().await.unwrap();
    assert_eq!((caught_up.destinations[0].lag, caught_up.destinations[0].failures), (0, 0));
}

/// Destinations are named once, take only http(s) URLs, and their changes are audited without the secret.
async fn destinations_are_checked_and_audited(store: &Store) {
    let secret =
        store.add_destination(&Actor::System, "siem", "https://siem.example.com/x", StartAt::Now).await.unwrap();
    assert!(secret.len() >= 40);
    let again = store.add_destination(&Actor::System, "siem", "https://siem.example.com/y", StartAt::Now).await;
    assert!(again.unwrap_err().to_string().contains("already exists"));
    let bad = store.add_destination(&Actor::System, "other", "ftp://x", StartAt::Now).await.unwrap_err();
    assert!(bad.to_string().contains("is not an http:// or https:// URL"), "{bad}");
    let bad = store.add_destination(&Actor::System, "bad name!", "https://x", StartAt::Now).await.unwrap_err();
    assert!(bad.to_string().contains("bad name!"), "{bad}");
    let listed = store.destinations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].position, store.store_metrics().await.unwrap().audit_head as i64 - 1, "from now");
    store.remove_destination(&Actor::System, "siem").await.unwrap();
    assert!(store.remove_destination(&Actor::System, "siem").await.is_err());
    let log = store.audit_after(&sra_domain::Caller::admin("t"), None, 500).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(actions, ["destination.added", "destination.removed"]);
    assert!(log.iter().all(|e| !e.record.details.to_string().contains(&secret)), "the secret is never recorded");
}

/// A syslog receiver over TCP (RFC 6587 octet counting): reads each connection to its end, splits it into messages,
/// then closes it, as rsyslog and syslog-ng do.
fn syslog_receiver(listener: TcpListener, inbox: Arc<Mutex<Vec<String>>>) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncReadExt;
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let inbox = inbox.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                stream.read_to_end(&mut bytes).await.unwrap();
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let space = rest.iter().position(|b| *b == b' ').expect("LEN SP");
                    let len: usize = std::str::from_utf8(&rest[..space]).unwrap().parse().expect("an octet count");
                    let message = &rest[space + 1..space + 1 + len];
                    inbox.lock().unwrap().push(String::from_utf8(message.to_vec()).unwrap());
                    rest = &rest[space + 1 + len..];
                }
            });
        }
    })
}

/// The same delivery to a syslog receiver: RFC 5424 messages (parsed here by an independent parser) with the entry's
/// fields and chain links as structured data, in order, at least once through the receiver's outage.
async fn syslog_receives_every_entry_in_order_through_an_outage(store: &Store) {
    store.register_gateway(&Actor::System, "gw-a", "A").await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    store.add_destination(&Actor::System, "syslog", &format!("syslog+tcp://{address}"), StartAt::Oldest).await.unwrap();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let receiver = syslog_receiver(listener, inbox.clone());
    sessions(store, 0, 130).await;
    deliver_all(store).await;
    receiver.abort();
    let _ = receiver.await;
    sessions(store, 130, 70).await;
    assert_eq!(deliver_round(store, &agent(), &mut Pauses::default()).await.unwrap(), 0, "the receiver is down");
    assert!(store.store_metrics().await.unwrap().destinations[0].lag >= 70);
    let receiver = syslog_receiver(TcpListener::bind(address).await.unwrap(), inbox.clone());
    deliver_all(store).await;
    receiver.abort();

    let log = store.audit_after(&sra_domain::Caller::admin("t"), None, 500).await.unwrap();
    let messages = inbox.lock().unwrap().clone();
    let mut seen = std::collections::BTreeSet::new();
    let mut arrived = Vec::new();
    for text in &messages {
        let message = syslog_rfc5424::parse_message(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(message.facility, syslog_rfc5424::SyslogFacility::LOG_AUTHPRIV);
        assert_eq!(message.appname.as_deref(), Some("sra-sessions"));
        let field = |name: &str| message.sd.find_tuple(sra_server::siem::SD_ID, name).cloned();
        let id: i64 = field("id").unwrap().parse().unwrap();
        let entry = log.iter().find(|e| e.record.id == id).expect("an entry of the log");
        assert_eq!(message.msgid.as_deref(), Some(entry.record.action.as_str()));
        // MSG is UTF-8, marked by the BOM RFC 5424 asks for.
        assert_eq!(message.msg.strip_prefix('\u{feff}'), Some(entry.record.summary().as_str()));
        assert_eq!(field("actor").as_deref(), Some(entry.record.actor.as_str()));
        assert_eq!(field("session_id"), entry.record.session_id.clone());
        assert_eq!(serde_json::from_str::<Value>(&field("details").unwrap()).unwrap(), entry.record.details);
        assert_eq!(
            (field("previous_hash").unwrap(), field("hash").unwrap()),
            (entry.previous_hash.clone(), entry.hash.clone())
        );
        assert_eq!(message.timestamp.map(|t| t * 1_000), Some(entry.record.at / 1_000 * 1_000));
        if seen.insert(id) {
            arrived.push(id);
        }
    }
    let expected: Vec<i64> = log.iter().map(|e| e.record.id).collect();
    assert_eq!(arrived, expected, "every entry, in order");
}

sra_store::on_both_backends!(
    every_entry_arrives_in_order_signed_and_chained_through_an_outage,
    destinations_are_checked_and_audited,
    syslog_receives_every_entry_in_order_through_an_outage
);
