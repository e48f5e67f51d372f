//! Pushed session changes through the real router, on a real SQLite file and a real PostgreSQL database: the console's
//! stream (cookie) and the API's (bearer token), their view and visibility, resuming with `Last-Event-ID`, the caps,
//! and a consumer that stops reading.

use std::time::Duration;

use app::auth::server::CookiePolicy;
use axum::body::{Body, BodyDataStream};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt;
use sra_domain::{Actor, SessionUpdate};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const PASSWORD: &str = "events-password-1";

fn started(session_id: &str, user: &str, gateway: &str) -> SessionUpdate {
    sra_store::testing::started(session_id, now_ms() - 1_000, user, gateway)
}

async fn world(store: &Store) -> (Router, tempfile::TempDir) {
    // admin (All), olivia (Own on gw-b), and the users' sessions' gateways.
    sra_store::testing::Cast::usual(PASSWORD, "gw-b").create(store).await;
    let site = tempfile::tempdir().unwrap();
    (sra_server::router(site.path(), store.clone(), CookiePolicy::default()), site)
}

async fn api_token(store: &Store, login: &str) -> String {
    let principal = sra_store::testing::sign_in(store, login, PASSWORD).await.unwrap();
    store.issue_api_token(&principal, None).await.unwrap().token
}

/// An open stream: its body, read event by event.
struct Events {
    body: BodyDataStream,
    pending: String,
}

/// One event: its name, id and data.
#[derive(Debug)]
struct Received {
    name: String,
    id: String,
    data: serde_json::Value,
}

impl Events {
    /// The next event (comments skipped), or `None` when the stream ended; fails after 10 s.
    async fn next(&mut self) -> Option<Received> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let field =
                    |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_owned()));
                let Some(name) = field("event:") else { continue };
                let data = field("data:").unwrap_or_default();
                return Some(Received {
                    name,
                    id: field("id:").unwrap_or_default(),
                    data: serde_json::from_str(&data).unwrap_or_else(|e| panic!("data is not JSON ({e}): {data}")),
                });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("no event within 10 s")?
                .expect("the stream failed");
            self.pending.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

async fn open(router: &Router, path: &str, headers: &[(&str, &str)]) -> Result<Events, (StatusCode, String)> {
    let mut request = Request::get(path).header(header::HOST, "console.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    if status != StatusCode::OK {
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        return Err((status, String::from_utf8_lossy(&body).into_owned()));
    }
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    Ok(Events { body: response.into_body().into_data_stream(), pending: String::new() })
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn session_ids(event: &Received, key: &str) -> Vec<String> {
    event.data[key].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_owned()).collect()
}

/// The API stream sends a view's changes under the caller's visibility, and resumes after its last event.
async fn the_api_stream_pushes_the_views_changes_and_resumes(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = bearer(&api_token(store, "admin").await);
    let olivia = bearer(&api_token(store, "olivia").await);
    let mut all = open(&router, "/stream-sra-sessions?status=connecting", &[("authorization", &admin)]).await.unwrap();
    let mut own = open(&router, "/stream-sra-sessions?status=connecting", &[("authorization", &olivia)]).await.unwrap();
    let ready = all.next().await.unwrap();
    assert_eq!(ready.name, "ready");
    assert_eq!(own.next().await.unwrap().name, "ready");

    let gateway = Actor::Gateway("test".into());
    store.apply_updates(&gateway, &[started("e-1", "alice", "gw-a")]).await.unwrap();
    store.apply_updates(&gateway, &[started("e-2", "bob", "gw-b")]).await.unwrap();
    // Both changes may come in one event or two: collect until both are in.
    let mut seen = Vec::new();
    let mut last = String::new();
    while seen.len() < 2 {
        let event = all.next().await.unwrap();
        assert_eq!(event.name, "changes", "{event:?}");
        assert_eq!(event.data["changes"], "changed", "the API's shape: {event:?}");
        seen.extend(session_ids(&event, "sessions"));
        last = event.id;
    }
    seen.sort();
    assert_eq!(seen, ["e-1", "e-2"]);
    // Own on gw-b: only bob's session there.
    let event = own.next().await.unwrap();
    assert_eq!(session_ids(&event, "sessions"), ["e-2"], "{event:?}");

    // Resuming after the last event: what happened while away comes first.
    drop(all);
    store.apply_updates(&gateway, &[started("e-3", "alice", "gw-a")]).await.unwrap();
    let mut resumed =
        open(&router, "/stream-sra-sessions?status=connecting", &[("authorization", &admin), ("last-event-id", &last)])
            .await
            .unwrap();
    assert_eq!(resumed.next().await.unwrap().name, "ready");
    let event = resumed.next().await.unwrap();
    assert_eq!((event.name.as_str(), session_ids(&event, "sessions")), ("changes", vec!["e-3".to_owned()]));

    // A token of another view: the stream starts now and says to read the view again.
    let mut other =
        open(&router, "/stream-sra-sessions?status=failed", &[("authorization", &admin), ("last-event-id", &last)])
            .await
            .unwrap();
    assert_eq!(other.next().await.unwrap().name, "ready");
    assert_eq!(other.next().await.unwrap().name, "reset");
}

/// The console's stream takes the sign-in cookie and sends the domain's shape; no credential, no stream; a bad view
/// is named; a user's streams are capped.
async fn the_console_stream_needs_a_sign_in_and_is_capped(store: &Store) {
    let (router, _site) = world(store).await;
    let principal = sra_store::testing::sign_in(store, "admin", PASSWORD).await.unwrap();
    let cookie = format!("sra_session={}", store.open_console_session(&principal).await.unwrap());
    let (status, _) = open(&router, "/events/sessions", &[]).await.err().unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = open(&router, "/stream-sra-sessions", &[]).await.err().unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, message) =
        open(&router, "/events/sessions?status=paused", &[("cookie", &cookie)]).await.err().unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("paused"), "{message}");

    let mut first = open(&router, "/events/sessions", &[("cookie", &cookie)]).await.unwrap();
    assert_eq!(first.next().await.unwrap().name, "ready");
    store.apply_updates(&Actor::Gateway("test".into()), &[started("c-1", "alice", "gw-a")]).await.unwrap();
    let event = first.next().await.unwrap();
    assert_eq!(event.name, "changes");
    assert_eq!(event.data["changes"]["kind"], "changed", "the console's shape: {event:?}");
    assert_eq!(event.data["changes"]["sessions"][0]["session_id"], "c-1");

    let mut held = vec![first];
    for _ in 1..sra_server::events::MAX_PER_USER {
        held.push(open(&router, "/events/sessions", &[("cookie", &cookie)]).await.unwrap());
    }
    let (status, message) = open(&router, "/events/sessions", &[("cookie", &cookie)]).await.err().unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{message}");
    held.pop();
    // A closed stream gives its place back once its producer notices (at the next look).
    store.apply_updates(&Actor::Gateway("test".into()), &[started("c-2", "alice", "gw-a")]).await.unwrap();
    let mut reopened = None;
    for _ in 0..40 {
        if let Ok(events) = open(&router, "/events/sessions", &[("cookie", &cookie)]).await {
            reopened = Some(events);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream's place was never given back");
}

/// A consumer that stops reading is dropped once its short queue is full — never buffered for — and its stream ends
/// after what was queued.
async fn a_consumer_that_stops_reading_is_dropped(store: &Store) {
    let (router, _site) = world(store).await;
    let admin = bearer(&api_token(store, "admin").await);
    let mut stalled =
        open(&router, "/stream-sra-sessions?status=connecting", &[("authorization", &admin)]).await.unwrap();
    for i in 0..14 {
        store
            .apply_updates(&Actor::Gateway("test".into()), &[started(&format!("s-{i:02}"), "alice", "gw-a")])
            .await
            .unwrap();
        // Each change its own event: the stream looks at most twice a second.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut events = 0;
    while let Some(event) = stalled.next().await {
        assert!(["ready", "changes"].contains(&event.name.as_str()), "{event:?}");
        events += 1;
    }
    assert!(events < 14, "every event was buffered for a consumer that did not read ({events})");
}

sra_store::on_both_backends!(
    the_api_stream_pushes_the_views_changes_and_resumes,
    the_console_stream_needs_a_sign_in_and_is_capped,
    a_consumer_that_stops_reading_is_dropped,
);
