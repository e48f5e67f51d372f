//! Pushed session changes, as server-sent events: `GET /events/sessions` for the console (its sign-in cookie) and
//! `GET /stream-sra-sessions` for API token holders (`Authorization: Bearer`). Both take the overview's URL parameters
//! as the view, and send what changed in it under the caller's visibility — the store's `session_changes`, the same
//! answer as a refresh with `changes-since`.
//!
//! - Each event's `id` is a changes token; a reconnect with `Last-Event-ID` (or `?since=` with a listing's
//!   `changes_token`) resumes right after it, without a gap. Events: `ready` (the position the stream starts from),
//!   `changes` (changed sessions in the view, and IDs that left it) and `reset` (read the view again).
//! - A stream waits on the store's change feed (moved by this process's commits and, on PostgreSQL, by other
//!   replicas' `NOTIFY`), then looks on the next common tick (twice a second), where the streams of one view and
//!   visibility share one reading; and checks again every 15 s whatever happens.
//! - Bounded: events wait in a short queue; a consumer that lets it fill is dropped (its client reconnects and resumes
//!   from its last event), never buffered for. A user may hold a few streams; the server a bounded number.
//! - The credential is checked again every minute: a sign-out or revoked token ends the stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::auth::server::{CookiePolicy, SignedInCaller};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream;
use sra_api::SraSessionChanges;
use sra_domain::{Caller, QueryError, RawSessionQuery, SessionChanges, SessionQuery, ViewChanges};
use sra_store::{Store, StoreError, StreamChanges};
use tokio::sync::mpsc;

use crate::http::{plain, plain_failure as failure};

/// Streams one user may hold at once by default (console tabs, scripts; `--streams-per-user`).
pub const MAX_PER_USER: usize = 8;
/// Streams the server holds at once.
pub const MAX_STREAMS: usize = 4_096;
/// Events queued for a consumer before it counts as too slow and is dropped.
const QUEUE: usize = 8;
/// The tick streams look at the store on (at most once each): changes arriving meanwhile go out together.
const MIN_INTERVAL: Duration = Duration::from_millis(500);
/// Looks at the store this often even without a wake-up (a notification lost with a connection).
const RECHECK: Duration = Duration::from_secs(15);
/// The credential is checked this often.
const REVALIDATE: Duration = Duration::from_secs(60);
/// What a client waits before reconnecting, in milliseconds (sent as `retry`).
const RETRY_MS: u64 = 3_000;

/// The open streams, per user, and the events they share.
#[derive(Debug)]
pub struct Streams {
    open: Mutex<HashMap<String, usize>>,
    per_user: usize,
    made: Mutex<HashMap<MadeKey, (u64, Arc<tokio::sync::OnceCell<Option<Bytes>>>)>>,
}

/// An event by the token a stream had, the token it moves to, and its shape: streams of one view and visibility that
/// move between the same positions send the same event (tokens are deterministic), so it is made once.
type MadeKey = (String, String, Shape);

/// A stream's place among the open ones, given back when the stream ends.
struct Slot {
    streams: Arc<Streams>,
    login: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.login) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.login);
            }
        }
    }
}

impl Streams {
    pub fn new(per_user: usize) -> Streams {
        Streams { open: Mutex::default(), per_user, made: Mutex::default() }
    }

    /// The event for a stream moving from `token` with `changes`, made by the first stream of the tick to need it
    /// (outside the lock: the others wait for it without holding a thread). Events of ticks before the previous are
    /// dropped: every stream has moved on from them.
    async fn event(&self, token: &str, changes: &StreamChanges, shape: Shape) -> Option<Bytes> {
        let cell = {
            let tick = tick_number();
            let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
            let key = (token.to_owned(), changes.token.clone(), shape);
            match made.get(&key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    made.retain(|_, (made_in, _)| *made_in + 1 >= tick);
                    made.entry(key).or_insert_with(|| (tick, Arc::default())).1.clone()
                }
            }
        };
        cell.get_or_init(|| async { event_of(&changes.token, &changes.changes, shape) }).await.clone()
    }

    fn take(self: &Arc<Self>, login: &str) -> Result<Slot, String> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = open.values().sum();
        if total >= MAX_STREAMS {
            return Err(format!("the server holds {MAX_STREAMS} streams already; refresh instead"));
        }
        let mine = open.entry(login.to_owned()).or_default();
        if *mine >= self.per_user {
            return Err(format!("{} streams are open for this user already; close one", self.per_user));
        }
        *mine += 1;
        Ok(Slot { streams: self.clone(), login: login.to_owned() })
    }
}

/// Who a stream is for, and how to check that they still are.
#[derive(Clone)]
enum Credential {
    Console(String),
    Api(String),
}

impl Credential {
    async fn still_valid(&self, store: &Store) -> Result<bool, StoreError> {
        match self {
            Credential::Console(token) => Ok(store.console_session(token).await?.is_some()),
            Credential::Api(token) => match store.api_token(token).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == sra_store::ErrorKind::Unauthenticated => Ok(false),
                Err(e) => Err(e),
            },
        }
    }
}

/// The shape of the events' data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    /// The console's: the domain's `SessionChanges`.
    Console,
    /// The API's: `SraSessionChanges`, as `/list-sra-sessions` with `changes-since` answers.
    Api,
}

pub type EventsState = (Store, CookiePolicy, Arc<Streams>);

/// `GET /events/sessions`: the console's stream (sign-in cookie).
pub async fn console_events(
    State((store, cookies, streams)): State<EventsState>,
    signed_in: Option<Extension<SignedInCaller>>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let (Some(Extension(SignedInCaller { caller, .. })), Some(token)) = (signed_in, cookies.token(&headers)) else {
        return plain(StatusCode::UNAUTHORIZED, "not signed in: sign in to the console first");
    };
    open(store, streams, caller, Credential::Console(token), &headers, &params, Shape::Console).await
}

/// `GET /stream-sra-sessions`: the API's stream (`Authorization: Bearer`).
pub async fn api_events(
    State((store, _, streams)): State<EventsState>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let token = match crate::http::bearer_token(&headers) {
        Ok(Some(token)) => token.to_owned(),
        Ok(None) => return plain(StatusCode::UNAUTHORIZED, "no token: send one from /auth as Authorization: Bearer"),
        Err(e) => return e.into_response(),
    };
    let caller = match store.api_token(&token).await {
        Ok(principal) => match store.caller(&principal.login).await {
            Ok(caller) => caller,
            Err(e) => return failure(e),
        },
        Err(e) => return failure(e),
    };
    open(store, streams, caller, Credential::Api(token), &headers, &params, Shape::Api).await
}

async fn open(
    store: Store,
    streams: Arc<Streams>,
    caller: Caller,
    credential: Credential,
    headers: &HeaderMap,
    params: &[(String, String)],
    shape: Shape,
) -> Response {
    let mut since = None;
    let view: Vec<(&str, &str)> = params
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "since" => {
                since = Some(v.clone());
                None
            }
            _ => Some((k.as_str(), v.as_str())),
        })
        .collect();
    let query = match view_query(&view) {
        Ok(query) => query,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    // The browser's reconnection names the last event it had: it wins over the URL's starting point.
    let since = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned).or(since);
    let slot = match streams.take(&caller.login) {
        Ok(slot) => slot,
        Err(message) => {
            let mut response = plain(StatusCode::TOO_MANY_REQUESTS, message);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            return response;
        }
    };
    // The feed's count before the starting position is read: a commit after it wakes the stream.
    let feed = store.subscribe_changes();
    let feed_count = *feed.borrow();
    // Where the stream starts: after the given token when it is this view's, else now (and the client is told to
    // read the view again, since what happened after its token is unknown).
    let mut first = Vec::new();
    let token = match since.filter(|t| !t.is_empty()) {
        Some(since) => match store.session_changes(&caller, &query, &since).await {
            Ok(changes) => {
                first.extend(event_of(&changes.token, &changes.changes, shape));
                changes.token
            }
            Err(StoreError::Query(QueryError::InvalidChangesToken)) => {
                match store.current_changes_token(&caller, &query).await {
                    Ok(token) => {
                        first.push(frame("reset", &token, None, "{}"));
                        token
                    }
                    Err(e) => return failure(e),
                }
            }
            Err(e) => return failure(e),
        },
        None => match store.current_changes_token(&caller, &query).await {
            Ok(token) => token,
            Err(e) => return failure(e),
        },
    };
    let ready = frame("ready", &token, Some(RETRY_MS), "{}");
    let (sender, receiver) = mpsc::channel::<Bytes>(QUEUE);
    for event in std::iter::once(ready).chain(first) {
        // The queue is empty: the first events always fit.
        let _ = sender.try_send(event);
    }
    let state = Producer { store, caller, credential, query, token, shape, slot, feed, feed_count };
    tokio::spawn(produce(state, sender));
    // Each event is made once and its bytes shared by every stream that sends it (a body of `Bytes`, not of
    // `axum`'s `Event`s, which would be copied per stream).
    let events = stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    let mut response = Body::from_stream(events).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies such as nginx must pass events on at once.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// A stream's state while it runs.
struct Producer {
    store: Store,
    caller: Caller,
    credential: Credential,
    query: SessionQuery,
    token: String,
    shape: Shape,
    slot: Slot,
    /// The store's change feed, and its count when the stream's position was read.
    feed: tokio::sync::watch::Receiver<u64>,
    feed_count: u64,
}

/// Sends the view's changes until the client leaves, falls behind, or its credential ends.
async fn produce(mut state: Producer, sender: mpsc::Sender<Bytes>) {
    let mut validated = Instant::now();
    loop {
        let seen = state.feed_count;
        let quiet = tokio::select! {
            _ = sender.closed() => return,
            moved = state.feed.wait_for(|count| *count != seen) => if moved.is_err() { return } else { false },
            _ = tokio::time::sleep(RECHECK) => true,
        };
        next_tick().await;
        if validated.elapsed() >= REVALIDATE {
            validated = Instant::now();
            match state.credential.still_valid(&state.store).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "a stream's credential could not be checked; it ends");
                    return;
                }
            }
        }
        match state.store.stream_changes(&state.caller, &state.query, &state.token).await {
            Ok(changes) => {
                let event = state.slot.streams.event(&state.token, &changes, state.shape).await;
                state.feed_count = changes.feed_count;
                state.token = changes.token;
                // Nothing for a while: a comment keeps proxies and clients from taking the connection for dead.
                let keep_alive = quiet.then(|| Bytes::from_static(b":\n\n"));
                if let Some(event) = event.or(keep_alive) {
                    // Full: the client reads slower than its view changes. Dropping it is the bound; it reconnects
                    // with its last event's ID and resumes there (or refreshes).
                    if sender.try_send(event).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "a stream could not read its changes; it ends (the client reconnects)");
                return;
            }
        }
    }
}

/// Waits for the next tick: every [`MIN_INTERVAL`] of the wall clock, the same moments for every stream, so streams of
/// one view and visibility look together and share one reading (`Store::stream_changes`).
async fn next_tick() {
    let period = MIN_INTERVAL.as_millis().max(1);
    let wait = u64::try_from(period - wall_clock_ms() % period).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

fn wall_clock_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
}

/// Which tick it is.
fn tick_number() -> u64 {
    u64::try_from(wall_clock_ms() / MIN_INTERVAL.as_millis().max(1)).unwrap_or(u64::MAX)
}

/// The console's event data: the domain's `SessionChanges`, serialized from borrowed parts.
#[derive(serde::Serialize)]
struct ConsoleData<'a> {
    token: &'a str,
    changes: &'a ViewChanges,
}

/// The event for a view's changes, if any.
fn event_of(token: &str, changes: &ViewChanges, shape: Shape) -> Option<Bytes> {
    let name = match changes {
        ViewChanges::Unchanged => return None,
        ViewChanges::Changed { .. } => "changes",
        ViewChanges::Reset => "reset",
    };
    let data = match shape {
        Shape::Console => serde_json::to_string(&ConsoleData { token, changes }),
        Shape::Api => serde_json::to_string(&SraSessionChanges::from(SessionChanges {
            token: token.to_owned(),
            changes: changes.clone(),
        })),
    };
    // Serializing these types cannot fail; should it, the client is told to read the view again.
    let data = data.unwrap_or_else(|_| "{}".to_owned());
    Some(frame(name, token, None, &data))
}

/// `text` without line breaks.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    match text.contains(['\n', '\r']) {
        true => std::borrow::Cow::Owned(text.replace(['\n', '\r'], " ")),
        false => std::borrow::Cow::Borrowed(text),
    }
}

/// One event as sent (the server-sent events format): its fields, one a line, and a blank line. The ID is a changes
/// token (base64url and dots) and the data compact JSON, whose strings escape line breaks: neither holds a line
/// break, which would split a field; should one ever, it is sent as a space.
fn frame(name: &str, id: &str, retry_ms: Option<u64>, data: &str) -> Bytes {
    let mut frame = String::with_capacity(data.len() + id.len() + 40);
    frame.push_str(&format!("event: {name}\nid: {}\n", one_line(id)));
    if let Some(ms) = retry_ms {
        frame.push_str(&format!("retry: {ms}\n"));
    }
    frame.push_str("data: ");
    frame.push_str(&one_line(data));
    frame.push_str("\n\n");
    Bytes::from(frame)
}

/// The view a stream follows: the overview's URL parameters, as the page and the export read them.
fn view_query(params: &[(&str, &str)]) -> Result<SessionQuery, String> {
    let raw = RawSessionQuery::from_console_url(params.iter().copied()).map_err(|e| e.to_string())?;
    RawSessionQuery { cursor: None, page_size: None, ..raw }.parse(sra_store::now_ms()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event is its fields a line each, then a blank line; a line break never splits a field.
    #[test]
    fn frames_are_server_sent_events() {
        assert_eq!(frame("ready", "t.1", Some(3000), "{}"), "event: ready\nid: t.1\nretry: 3000\ndata: {}\n\n");
        assert_eq!(frame("changes", "t\n2", None, "{\"a\":\n1}"), "event: changes\nid: t 2\ndata: {\"a\": 1}\n\n");
    }

    /// The console's events are the domain's `SessionChanges`, though made from borrowed parts.
    #[test]
    fn console_data_is_session_changes() {
        for changes in [ViewChanges::Changed { sessions: vec![], removed: vec!["gone".into()] }, ViewChanges::Reset] {
            let owned = SessionChanges { token: "t.1".into(), changes: changes.clone() };
            let borrowed = serde_json::to_string(&ConsoleData { token: "t.1", changes: &changes }).unwrap();
            assert_eq!(serde_json::from_str::<SessionChanges>(&borrowed).unwrap(), owned);
            assert_eq!(borrowed, serde_json::to_string(&owned).unwrap());
        }
    }
}
