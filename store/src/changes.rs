//! What changed since a listing was read: the change sequence, changes tokens, and the feed that wakes listeners.
//!
//! Every change to a session is written with its audit entry in one transaction (see `ingest`, `gateways`), and
//! audit entries are numbered in commit order: writers take turns (`audit`), and an entry's number is drawn inside the
//! writer's turn. So the audit log's `id` is the **change sequence**: everything up to the newest number committed is
//! visible, and "what changed after N" is the sessions named by entries numbered above N — read from the primary key,
//! never from the sessions table.
//!
//! A listing hands out a changes token: its view's fingerprint and the sequence number read *before* its page (so a
//! change committed while the page was read is reported again, never missed), sealed like cursors. Asking with it
//! answers the view's changed sessions as they are now, those of them the caller may see that left the view, and a new
//! token; "unchanged" costs one primary-key look-up. Too many changes, or pruned data, answer "reset": read the view
//! again.
//!
//! The feed: after each commit that appended entries, the store moves a counter in a `watch` channel, which every
//! open stream waits on. On PostgreSQL each such transaction also sends `NOTIFY`, which every replica's listener turns
//! into a move of its own counter ([`Store::listen_for_changes`]), so a change written by one replica wakes the
//! streams of all.

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::{ConnectionTrait, DbBackend};
use serde::{Deserialize, Serialize};
use sra_domain::{Caller, QueryError, SessionChanges, SessionQuery, SessionSummary, ViewChanges};
use tokio::sync::{watch, OnceCell};

use crate::cursor::fingerprint;
use crate::query::{row_to_summary, view_admits, view_condition, Gateways, COLUMNS};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// The PostgreSQL notification channel of committed changes.
pub(crate) const CHANNEL: &str = "sra_changes";
/// Audit actions after which a token's view cannot be brought up to date from the log (rows were deleted).
const RESET_ACTIONS: [&str; 2] = ["sessions.pruned", "audit.pruned"];
/// Beyond this many changed sessions since a token, reading the view again is cheaper.
pub const MAX_CHANGES: usize = 5_000;
/// Beyond this many audit entries since a token, too (at 2,000 updates a second, a 20-second refresh finds 40,000:
/// counting their sessions in the engine costs a few milliseconds).
const MAX_ENTRIES: i64 = 100_000;
/// The join of a few sessions found by ID to their gateway. The unary `+` keeps SQLite from reading the sessions
/// through the gateway index and testing each against the IDs (measured on 33,000 sessions: 11.7 ms for 943 changed
/// sessions; by the session ID index, 1.2 ms); PostgreSQL plans it as before.
const GATEWAY_OF_SESSION: &str = "g.id = +s.gateway_id";
/// Session IDs per `IN` list.
const CHUNK: usize = 500;

/// A changes token's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ChangeToken {
    /// The view's fingerprint (caller and query, as for cursors).
    #[serde(rename = "f")]
    fingerprint: String,
    /// The newest change the view's reader had seen.
    #[serde(rename = "q")]
    seq: i64,
}

/// How recent the newest position a look at the changes needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    /// Everything committed before the call.
    Now,
    /// What was committed before this tick's first look: the rest goes out on the next.
    Tick,
}

/// A stream's changes ([`Store::stream_changes`]): the caller's next token, and the changes, shared with every stream
/// of the same view and visibility that looked at the same moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamChanges {
    pub token: String,
    pub changes: Arc<ViewChanges>,
    /// The change feed's count ([`Store::subscribe_changes`]) when the newest position was read: what was committed
    /// after it may not be in these changes, so a stream waits for the feed to move past it, not for its next move.
    pub feed_count: u64,
}

impl StreamChanges {
    /// The same answer as the caller's own reading would be.
    pub fn to_session_changes(&self) -> SessionChanges {
        SessionChanges { token: self.token.clone(), changes: (*self.changes).clone() }
    }
}

/// Wakes whoever waits for changes; shared by a store's clones.
#[derive(Debug)]
pub(crate) struct ChangeFeed {
    moved: watch::Sender<u64>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed { moved: watch::Sender::new(0) }
    }
}

impl ChangeFeed {
    /// Something was committed (here, or by another replica).
    pub(crate) fn moved(&self) {
        self.moved.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Store {
    /// A receiver that is marked changed whenever changes may have been committed (by this process, or on PostgreSQL
    /// by any replica). It says nothing about which: ask [`Store::session_changes`].
    /// Its value counts the moves: a reader that noted the count before reading waits for it to differ.
    pub fn subscribe_changes(&self) -> watch::Receiver<u64> {
        self.feed.moved.subscribe()
    }

    /// The newest change sequence number committed (0 before any).
    pub(crate) async fn change_head(&self) -> Result<i64, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(HEAD_SQL);
        let row = self.db.query_one(sql.build()).await?;
        Ok(match row {
            Some(row) => row.try_get::<Option<i64>>("", "head")?.unwrap_or(0),
            None => 0,
        })
    }

    /// A changes token for the view of `query` as it is now (for a stream that starts without a listing).
    pub async fn current_changes_token(&self, caller: &Caller, query: &SessionQuery) -> Result<String, StoreError> {
        Ok(self.changes_token(caller, query, self.change_head().await?))
    }

    /// The token with which the view of `query`, read after change `seq`, asks for its changes.
    pub(crate) fn changes_token(&self, caller: &Caller, query: &SessionQuery, seq: i64) -> String {
        self.cursors.seal(&ChangeToken { fingerprint: fingerprint(caller, query), seq })
    }

    /// Forgets every shared reading and the newest position read (for benchmarks: each run then pays for the reading, as
    /// the first to ask does).
    #[cfg(feature = "testing")]
    pub fn forget_shared_readings(&self) {
        if let Ok(mut head) = self.shared.head.try_lock() {
            *head = None;
        }
        self.shared.readings.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.shared.changed.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The view's fingerprint and the position `token` holds, if it is this view's token, unaltered.
    fn position(&self, caller: &Caller, query: &SessionQuery, token: &str) -> Result<(String, i64), StoreError> {
        let fingerprint = fingerprint(caller, query);
        let token = self.cursors.open::<ChangeToken>(token).filter(|t| t.fingerprint == fingerprint);
        let since = token.ok_or(QueryError::InvalidChangesToken)?.seq;
        Ok((fingerprint, since))
    }

    /// What changed in the view of `query` (the same caller's, the same filters) since `token` was issued: the changed
    /// sessions in it as they are now, those the caller may see that left it, or that nothing did. A token from another
    /// view, altered or from another server is refused ([`QueryError::InvalidChangesToken`]). It includes every change
    /// committed before the call (a caller sees its own writes).
    pub async fn session_changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        token: &str,
    ) -> Result<SessionChanges, StoreError> {
        Ok(self.changes(caller, query, token, Look::Now).await?.to_session_changes())
    }

    /// [`Store::session_changes`] for event streams, which look on a common tick (see the server's `events`): the
    /// newest sequence number is read once for all the streams that look within [`HEAD_REUSE`] — changes committed
    /// meanwhile go out on the next tick — so that they share readings (see [`Store::changes`]).
    pub async fn stream_changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        token: &str,
    ) -> Result<StreamChanges, StoreError> {
        self.changes(caller, query, token, Look::Tick).await
    }

    /// The changes since `token`, shared: the sessions changed between two positions are read **once for everyone**,
    /// and each view is tested on them in memory ([`view_admits`]: the listing's conditions and the caller's
    /// visibility); the answer of each (view, visibility, position, newest) is made once, by the first to ask, while
    /// the others wait for it. Administrators' views share across logins (All sees the same sessions whoever holds it);
    /// Self and Own are per login.
    async fn changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        token: &str,
        look: Look,
    ) -> Result<StreamChanges, StoreError> {
        let (fingerprint, since) = self.position(caller, query, token)?;
        let (head, feed_count) = self.shared.head(self, look, since).await?;
        let shared_view = match caller.scope {
            sra_domain::Scope::All => fingerprint_of_all(query),
            _ => fingerprint.clone(),
        };
        let cell = self.shared.cell((shared_view, since, head));
        let changes = cell
            .get_or_try_init(|| async {
                Ok::<_, StoreError>(Arc::new(self.shared_changes(caller, query, since, head).await?))
            })
            .await?
            .clone();
        Ok(StreamChanges { token: self.cursors.seal(&ChangeToken { fingerprint, seq: head }), changes, feed_count })
    }

    /// The changes of a view between two positions, tested on the shared reading of what changed (see
    /// [`Store::changes`]); from the database where memory cannot decide.
    async fn shared_changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        since: i64,
        head: i64,
    ) -> Result<ViewChanges, StoreError> {
        if head == since {
            return Ok(ViewChanges::Unchanged);
        }
        if head < since {
            return Ok(ViewChanges::Reset);
        }
        let Some(changed) = self.shared.changed(self, since, head).await? else { return Ok(ViewChanges::Reset) };
        let now = now_ms();
        let (mut sessions, mut removed) = (Vec::new(), Vec::new());
        for session in changed.iter() {
            match view_admits(caller, query, session, now) {
                Some(true) => sessions.push(session.clone()),
                Some(false) if caller.may_see(&session.user, &session.gateway.cluster_name) => {
                    removed.push(session.session_id.clone())
                }
                Some(false) => {}
                None => {
                    let ids = changed.iter().map(|s| s.session_id.clone()).collect();
                    return self.in_view(caller, query, &ids).await;
                }
            }
        }
        removed.sort_unstable();
        Ok(if sessions.is_empty() && removed.is_empty() {
            ViewChanges::Unchanged
        } else {
            ViewChanges::Changed { sessions, removed }
        })
    }

    /// The sessions named by the audit entries numbered in `(since, head]` as they are now, newest first, whoever may
    /// see them; `None` when views must be read again: too many entries or sessions, or rows were deleted meanwhile.
    /// Two statements however many entries: what they hold, counted by the engine, then the sessions.
    async fn changed_rows(&self, since: i64, head: i64) -> Result<Option<Vec<SessionSummary>>, StoreError> {
        // Entries are numbered one by one: there are at most `head - since` (gaps only make this cautious).
        if head - since > MAX_ENTRIES {
            return Ok(None);
        }
        let backend = self.db.get_database_backend();
        let mut sql = Sql::new(backend);
        // Views (who read a session's detail) name a session but change nothing.
        sql.push("SELECT COUNT(DISTINCT CASE WHEN action NOT LIKE ")
            .bind(crate::views::VIEW_FAMILY_LIKE.to_owned())
            .push(" THEN session_id END) AS sessions, COUNT(CASE WHEN action IN ")
            .bind_list(RESET_ACTIONS.iter().map(|a| (*a).to_owned()))
            .push(" THEN 1 END) AS resets FROM audit_log WHERE id > ")
            .bind(since)
            .push(" AND id <= ")
            .bind(head);
        let Some(row) = self.db.query_one(sql.build()).await? else { return Ok(Some(Vec::new())) };
        let (sessions, resets): (i64, i64) = (row.try_get("", "sessions")?, row.try_get("", "resets")?);
        if resets > 0 || sessions > MAX_CHANGES as i64 {
            return Ok(None);
        }
        if sessions == 0 {
            return Ok(Some(Vec::new()));
        }
        let mut sql = Sql::new(backend);
        sql.push("SELECT ").push(COLUMNS).push(" FROM sessions s JOIN gateways g ON ").push(GATEWAY_OF_SESSION);
        sql.push(" WHERE s.session_id IN (SELECT session_id FROM audit_log WHERE id > ").bind(since);
        sql.push(" AND id <= ").bind(head).push(" AND action NOT LIKE ");
        sql.bind(crate::views::VIEW_FAMILY_LIKE.to_owned()).push(")");
        let mut changed = Vec::with_capacity(usize::try_from(sessions).unwrap_or(0));
        for row in self.db.query_all(sql.build()).await? {
            changed.push(row_to_summary(&row)?);
        }
        changed.sort_by(newest_first);
        Ok(Some(changed))
    }

    /// Which of `changed` are in the view and which left it, from the database.
    async fn in_view(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        changed: &BTreeSet<String>,
    ) -> Result<ViewChanges, StoreError> {
        if changed.is_empty() {
            return Ok(ViewChanges::Unchanged);
        }
        let (sessions, removed) = self.changed_in_view(caller, query, changed).await?;
        Ok(if sessions.is_empty() && removed.is_empty() {
            ViewChanges::Unchanged
        } else {
            ViewChanges::Changed { sessions, removed }
        })
    }

    /// Of `changed`, those the caller may see: in the view (as they are now), and not in it (their IDs: the log does
    /// not say whether one was in the view before, so a client drops those it shows and ignores the others).
    async fn changed_in_view(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        changed: &BTreeSet<String>,
    ) -> Result<(Vec<SessionSummary>, Vec<String>), StoreError> {
        let gateways: Gateways = self.resolve_gateways(caller, query).await?;
        let ids: Vec<&String> = changed.iter().collect();
        let now = now_ms();
        let (mut sessions, mut removed) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(CHUNK) {
            let mut sql = Sql::new(self.db.get_database_backend());
            sql.push("SELECT ").push(COLUMNS).push(", CASE WHEN ");
            view_condition(&mut sql, query, &gateways, now);
            sql.push(" THEN 1 ELSE 0 END AS in_view FROM sessions s JOIN gateways g ON ").push(GATEWAY_OF_SESSION);
            sql.push(" WHERE s.session_id IN ").bind_list(chunk.iter().map(|id| (*id).clone()));
            gateways.visible_to(&mut sql, caller);
            for row in self.db.query_all(sql.build()).await? {
                let in_view: i32 = row.try_get("", "in_view")?;
                let session = row_to_summary(&row)?;
                if in_view == 1 {
                    sessions.push(session);
                } else {
                    removed.push(session.session_id);
                }
            }
        }
        sessions.sort_by(newest_first);
        removed.sort_unstable();
        Ok((sessions, removed))
    }

    /// Turns other replicas' commits into moves of this store's feed, for as long as the runtime runs (PostgreSQL;
    /// returns at once on SQLite, where every writer is in this process). A lost connection is reopened, and the feed
    /// moved then, since notifications sent meanwhile are lost.
    pub fn listen_for_changes(&self) {
        let Some(options) = self.postgres.clone() else {
            return;
        };
        let feed = self.feed.clone();
        tokio::spawn(async move {
            let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
            loop {
                let Err(e) = relay(&pool, &feed).await;
                tracing::warn!(error = %e, "listening for other replicas' changes failed; retrying in 1 s");
                feed.moved();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
}

/// Moves the feed on every notification, and on (re)connecting: what was sent while no one listened is unknown.
async fn relay(pool: &PgPool, feed: &ChangeFeed) -> Result<std::convert::Infallible, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        feed.moved();
        // `None`: the connection was lost; the next call reconnects.
        listener.try_recv().await?;
    }
}

/// How long streams reuse one reading of the newest sequence number (so that streams looking on the same tick see the
/// same position).
pub const HEAD_REUSE: std::time::Duration = std::time::Duration::from_millis(100);
/// How many of the newest positions shared readings are kept for.
const KEPT_POSITIONS: usize = 8;
/// Shared readings kept at most (per view and visibility, position and newest).
const SHARED_READINGS: usize = 1_024;

type ReadingKey = (String, i64, i64);

/// What streams share: the newest sequence number of the moment, and the readings of changes by key.
#[derive(Debug, Default)]
pub(crate) struct SharedReadings {
    /// When it was read, the feed's count then, and the number.
    head: tokio::sync::Mutex<Option<(std::time::Instant, u64, i64)>>,
    readings: Cells<ReadingKey, Arc<ViewChanges>>,
    /// The sessions changed between two positions, for every view.
    changed: Cells<(i64, i64), ChangedRows>,
}

type Cells<K, V> = std::sync::Mutex<std::collections::HashMap<K, Arc<OnceCell<V>>>>;

/// The sessions changed between two positions (`None`: views must be read again).
type ChangedRows = Option<Arc<Vec<SessionSummary>>>;

impl SharedReadings {
    /// The newest sequence number, read again unless read within [`HEAD_REUSE`], at or after `at_least` (the asker's
    /// own position, which may have been read after it: the asker would be told to start over) — and, for
    /// [`Look::Now`], no commit was signalled since (a reading from before it would miss the caller's own write).
    /// Also returns the feed's count read before the number.
    async fn head(&self, store: &Store, look: Look, at_least: i64) -> Result<(i64, u64), StoreError> {
        let mut head = self.head.lock().await;
        let moved = *store.feed.moved.borrow();
        if let Some((at, seen, seq)) = *head {
            if at.elapsed() < HEAD_REUSE && seq >= at_least && (seen == moved || look == Look::Tick) {
                return Ok((seq, seen));
            }
        }
        let seq = store.change_head().await?;
        *head = Some((std::time::Instant::now(), moved, seq));
        Ok((seq, moved))
    }

    /// The sessions changed in `(since, head]`, read by the first to ask and shared. When the sessions changed from
    /// `since` to an earlier position were read already (a tick's reading, for a refresh asking from the position its
    /// stream was given), only the rest is read, and the two are merged (the later reading's rows win).
    async fn changed(&self, store: &Store, since: i64, head: i64) -> Result<ChangedRows, StoreError> {
        let cell = shared_cell(&self.changed, (since, head), |(_, head)| *head);
        let rows = cell
            .get_or_try_init(|| async {
                if head - since > MAX_ENTRIES {
                    return Ok(None);
                }
                let Some((middle, earlier)) = self.earlier_reading(since, head) else {
                    return Ok::<_, StoreError>(store.changed_rows(since, head).await?.map(Arc::new));
                };
                let later = Box::pin(self.changed(store, middle, head)).await?;
                Ok(match (earlier, later) {
                    (Some(earlier), Some(later)) => {
                        Some(Arc::new(merged(&earlier, &later))).filter(|m| m.len() <= MAX_CHANGES)
                    }
                    _ => None,
                })
            })
            .await?;
        Ok(rows.clone())
    }

    /// The furthest reading already made from `since` to a position before `head`, if any.
    fn earlier_reading(&self, since: i64, head: i64) -> Option<(i64, ChangedRows)> {
        let changed = self.changed.lock().unwrap_or_else(|p| p.into_inner());
        changed
            .iter()
            .filter(|((from, to), _)| *from == since && *to < head && *to > since)
            .filter_map(|((_, to), cell)| cell.get().map(|rows| (*to, rows.clone())))
            .max_by_key(|(to, _)| *to)
    }

    fn cell(&self, key: ReadingKey) -> Arc<OnceCell<Arc<ViewChanges>>> {
        shared_cell(&self.readings, key, |(_, _, head)| *head)
    }
}

/// The shared cell of `key`. Only cells of the [`KEPT_POSITIONS`] newest positions are kept: once streams moved on, no
/// one asks for older ones again (a straggler makes its own), and each may hold a moment's changed sessions. (Keeping
/// only the newest two, refreshes reading at their own positions pushed out the tick's reading while streams still
/// asked for it, and they read it again.)
fn shared_cell<K: Eq + std::hash::Hash, V>(cells: &Cells<K, V>, key: K, head: impl Fn(&K) -> i64) -> Arc<OnceCell<V>> {
    let mut cells = cells.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(cell) = cells.get(&key) {
        return cell.clone();
    }
    let mut positions: Vec<i64> = cells.keys().map(&head).chain([head(&key)]).collect();
    positions.sort_unstable_by(|a, b| b.cmp(a));
    positions.dedup();
    if let Some(oldest_kept) = positions.get(KEPT_POSITIONS - 1) {
        cells.retain(|k, _| head(k) >= *oldest_kept);
    }
    if cells.len() >= SHARED_READINGS {
        cells.clear();
    }
    cells.entry(key).or_default().clone()
}

/// The sessions of two readings one after the other, each once: as the later one read it where both did.
fn merged(earlier: &[SessionSummary], later: &[SessionSummary]) -> Vec<SessionSummary> {
    let again: std::collections::HashSet<&str> = later.iter().map(|s| s.session_id.as_str()).collect();
    let mut all: Vec<SessionSummary> = later.to_vec();
    all.extend(earlier.iter().filter(|s| !again.contains(s.session_id.as_str())).cloned());
    all.sort_by(newest_first);
    all
}

/// Sessions in the order changes are answered in: newest first.
fn newest_first(a: &SessionSummary, b: &SessionSummary) -> std::cmp::Ordering {
    b.started_at.cmp(&a.started_at).then_with(|| b.session_id.cmp(&a.session_id))
}

/// The fingerprint of a view as an administrator (All) sees it, whoever they are.
fn fingerprint_of_all(query: &SessionQuery) -> String {
    fingerprint(&Caller { login: String::new(), scope: sra_domain::Scope::All }, query)
}

/// The newest audit entry's number, from the primary key.
const HEAD_SQL: &str = "SELECT MAX(id) AS head FROM audit_log";

/// Sent inside each write transaction that appended entries, delivered by PostgreSQL on commit.
pub(crate) fn notify_statement(backend: DbBackend) -> Option<String> {
    (backend == DbBackend::Postgres).then(|| format!("NOTIFY {CHANNEL}"))
}
