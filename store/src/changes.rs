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
use tokio::sync::watch;

use crate::cursor::fingerprint;
use crate::query::{row_to_summary, view_condition, Gateways, COLUMNS};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// The PostgreSQL notification channel of committed changes.
pub(crate) const CHANNEL: &str = "sra_changes";
/// Audit actions after which a token's view cannot be brought up to date from the log (rows were deleted).
const RESET_ACTIONS: [&str; 2] = ["sessions.pruned", "audit.pruned"];
/// Beyond this many changed sessions since a token, reading the view again is cheaper.
pub const MAX_CHANGES: usize = 5_000;
/// Beyond this many audit entries since a token, too (at 2,000 updates a second, a 20-second refresh finds 40,000:
/// reading their session IDs from the primary key costs a few milliseconds).
const MAX_ENTRIES: usize = 100_000;
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

    /// The view's fingerprint and the position `token` holds, if it is this view's token, unaltered.
    fn position(&self, caller: &Caller, query: &SessionQuery, token: &str) -> Result<(String, i64), StoreError> {
        let fingerprint = fingerprint(caller, query);
        let token = self.cursors.open::<ChangeToken>(token).filter(|t| t.fingerprint == fingerprint);
        let since = token.ok_or(QueryError::InvalidChangesToken)?.seq;
        Ok((fingerprint, since))
    }

    /// What changed in the view of `query` (the same caller's, the same filters) since `token` was issued: the changed
    /// sessions in it as they are now, those the caller may see that left it, or that nothing did. A token from another
    /// view, altered or from another server is refused ([`QueryError::InvalidChangesToken`]).
    pub async fn session_changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        token: &str,
    ) -> Result<SessionChanges, StoreError> {
        let (fingerprint, since) = self.position(caller, query, token)?;
        let head = self.change_head().await?;
        let changes = self.changes_between(caller, query, since, head).await?;
        Ok(SessionChanges { token: self.cursors.seal(&ChangeToken { fingerprint, seq: head }), changes })
    }

    /// [`Store::session_changes`] for event streams: every stream of one view and visibility that looks at the same
    /// moment from the same position shares one reading. Streams look on a common tick (see the server's `events`), the
    /// newest sequence number is read at most once per [`HEAD_REUSE`], so after their first look such streams hold the
    /// same position, and the changes of each (view, visibility, position, newest) are read once — by the first to ask,
    /// while the others wait for its answer. Administrators' views share across logins (All sees the same sessions
    /// whoever holds it); Self and Own are per login.
    pub async fn stream_changes(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        token: &str,
    ) -> Result<SessionChanges, StoreError> {
        let (fingerprint, since) = self.position(caller, query, token)?;
        let head = self.shared.head(self).await?;
        let shared_view = match caller.scope {
            sra_domain::Scope::All => fingerprint_of_all(query),
            _ => fingerprint.clone(),
        };
        let cell = self.shared.cell((shared_view, since, head));
        let changes = cell
            .get_or_try_init(|| async {
                let answer = self.changes_between(caller, query, since, head).await?;
                Ok::<_, StoreError>(answer)
            })
            .await?
            .clone();
        Ok(SessionChanges { token: self.cursors.seal(&ChangeToken { fingerprint, seq: head }), changes })
    }

    /// The changes of a view between two positions (see [`Store::session_changes`]).
    async fn changes_between(
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
        let Some(changed) = self.changed_sessions(since, head).await? else { return Ok(ViewChanges::Reset) };
        if changed.is_empty() {
            return Ok(ViewChanges::Unchanged);
        }
        let (sessions, removed) = self.changed_in_view(caller, query, &changed).await?;
        Ok(if sessions.is_empty() && removed.is_empty() {
            ViewChanges::Unchanged
        } else {
            ViewChanges::Changed { sessions, removed }
        })
    }

    /// The sessions named by the audit entries numbered in `(since, head]`, or `None` when the view must be read again
    /// (too many, or rows were pruned meanwhile).
    async fn changed_sessions(&self, since: i64, head: i64) -> Result<Option<BTreeSet<String>>, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT session_id, action FROM audit_log WHERE id > ").bind(since).push(" AND id <= ").bind(head);
        sql.push(" ORDER BY id LIMIT ").bind(i64::try_from(MAX_ENTRIES).unwrap_or(i64::MAX) + 1);
        let rows = self.db.query_all(sql.build()).await?;
        if rows.len() > MAX_ENTRIES {
            return Ok(None);
        }
        let mut changed = BTreeSet::new();
        for row in rows {
            let action: String = row.try_get("", "action")?;
            if RESET_ACTIONS.contains(&action.as_str()) {
                return Ok(None);
            }
            if let Some(id) = row.try_get::<Option<String>>("", "session_id")? {
                changed.insert(id);
            }
        }
        Ok((changed.len() <= MAX_CHANGES).then_some(changed))
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
            sql.push(" THEN 1 ELSE 0 END AS in_view FROM sessions s JOIN gateways g ON g.id = s.gateway_id");
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
        sessions.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| b.session_id.cmp(&a.session_id)));
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
/// Shared readings kept (per view and visibility, position and newest).
const SHARED_READINGS: usize = 1_024;

type ReadingKey = (String, i64, i64);

/// What streams share: the newest sequence number of the moment, and the readings of changes by key.
#[derive(Debug, Default)]
pub(crate) struct SharedReadings {
    /// When it was read, the feed's count then, and the number.
    head: tokio::sync::Mutex<Option<(std::time::Instant, u64, i64)>>,
    readings: std::sync::Mutex<std::collections::HashMap<ReadingKey, Arc<tokio::sync::OnceCell<ViewChanges>>>>,
}

impl SharedReadings {
    /// The newest sequence number, read again unless read within [`HEAD_REUSE`] and no commit was signalled since
    /// (a reading from before a commit the feed announced would miss it).
    async fn head(&self, store: &Store) -> Result<i64, StoreError> {
        let mut head = self.head.lock().await;
        let moved = *store.feed.moved.borrow();
        if let Some((at, seen, seq)) = *head {
            if at.elapsed() < HEAD_REUSE && seen == moved {
                return Ok(seq);
            }
        }
        let seq = store.change_head().await?;
        *head = Some((std::time::Instant::now(), moved, seq));
        Ok(seq)
    }

    fn cell(&self, key: ReadingKey) -> Arc<tokio::sync::OnceCell<ViewChanges>> {
        let mut readings = self.readings.lock().unwrap_or_else(|p| p.into_inner());
        if readings.len() >= SHARED_READINGS && !readings.contains_key(&key) {
            // Readings of older positions are not asked for again once every stream moved on.
            let newest = key.2;
            readings.retain(|(_, _, head), _| *head >= newest);
            if readings.len() >= SHARED_READINGS {
                readings.clear();
            }
        }
        readings.entry(key).or_default().clone()
    }
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
