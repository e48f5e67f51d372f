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
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream;
use sra_api::SraSessionChanges;
use sra_domain::{Caller, QueryError, RawSessionQuery, SessionChanges, SessionQuery, ViewChanges};
use sra_store::{Store, StoreError};
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

/// The open streams, per user.
#[derive(Debug)]
pub struct Streams {
    open: Mutex<HashMap<String, usize>>,
    per_user: usize,
}

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
        Streams { open: Mutex::default(), per_user }
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
#[derive(Clone, Copy)]
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
    // Where the stream starts: after the given token when it is this view's, else now (and the client is told to
    // read the view again, since what happened after its token is unknown).
    let mut first = Vec::new();
    let token = match since.filter(|t| !t.is_empty()) {
        Some(since) => match store.session_changes(&caller, &query, &since).await {
            Ok(changes) => {
                let token = changes.token.clone();
                first.extend(event_of(changes, shape));
                token
            }
            Err(StoreError::Query(QueryError::InvalidChangesToken)) => {
                match store.current_changes_token(&caller, &query).await {
                    Ok(token) => {
                        first.push(Event::default().event("reset").id(token.clone()).data("{}"));
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
    let ready = Event::default().event("ready").id(token.clone()).retry(Duration::from_millis(RETRY_MS)).data("{}");
    let (sender, receiver) = mpsc::channel::<Event>(QUEUE);
    for event in std::iter::once(ready).chain(first) {
        // The queue is empty: the first events always fit.
        let _ = sender.try_send(event);
    }
    tokio::spawn(produce(Producer { store, caller, credential, query, token, shape, _slot: slot }, sender));
    let events = stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(RECHECK)).into_response();
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
    _slot: Slot,
}

/// Sends the view's changes until the client leaves, falls behind, or its credential ends.
async fn produce(mut state: Producer, sender: mpsc::Sender<Event>) {
    let mut feed = state.store.subscribe_changes();
    feed.mark_unchanged();
    let mut validated = Instant::now();
    loop {
        tokio::select! {
            _ = sender.closed() => return,
            moved = feed.changed() => if moved.is_err() { return },
            _ = tokio::time::sleep(RECHECK) => {}
        }
        next_tick().await;
        feed.mark_unchanged();
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
                state.token = changes.token.clone();
                if let Some(event) = event_of(changes, state.shape) {
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
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let wait = u64::try_from(period - now % period).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

/// The event for a view's changes, if any.
fn event_of(changes: SessionChanges, shape: Shape) -> Option<Event> {
    let name = match &changes.changes {
        ViewChanges::Unchanged => return None,
        ViewChanges::Changed { .. } => "changes",
        ViewChanges::Reset => "reset",
    };
    let id = changes.token.clone();
    let data = match shape {
        Shape::Console => serde_json::to_string(&changes),
        Shape::Api => serde_json::to_string(&SraSessionChanges::from(changes)),
    };
    // Serializing these types cannot fail; should it, the client is told to read the view again.
    let data = data.unwrap_or_else(|_| "{}".to_owned());
    Some(Event::default().event(name).id(id).data(data))
}

/// The view a stream follows: the overview's URL parameters, as the page and the export read them.
fn view_query(params: &[(&str, &str)]) -> Result<SessionQuery, String> {
    let raw = RawSessionQuery::from_console_url(params.iter().copied()).map_err(|e| e.to_string())?;
    RawSessionQuery { cursor: None, page_size: None, ..raw }.parse(sra_store::now_ms()).map_err(|e| e.to_string())
}
