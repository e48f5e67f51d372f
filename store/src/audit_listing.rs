//! Reading audit entries back.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sra_domain::{Caller, Millis, SessionQuery};

use crate::entity::audit_entry;
use crate::sql::Sql;
use crate::{Store, StoreError};

/// The longest actor an audit listing may filter by (actors are recorded at most this long).
pub const MAX_AUDIT_ACTOR_LEN: usize = 300;
/// The most audit entries one page may hold.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// Which audit entries to list. Every field narrows; none lists everything the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub session_id: Option<String>,
    /// Exactly as recorded: `user:LOGIN`, `gateway:NAME`, `system`.
    pub actor: Option<String>,
    /// An action (`session.terminate_requested`) or a family of them (`session.*`).
    pub action: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// 1 to [`MAX_AUDIT_PAGE`].
    pub page_size: u32,
    /// Continue after this entry (the previous page's `next`).
    pub before_id: Option<i64>,
}

/// One page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditRecord>,
    /// The `before_id` of the next page, if there is one.
    pub next: Option<i64>,
}

/// One audit entry as readers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub session_id: Option<String>,
    pub details: serde_json::Value,
}

/// An audit entry with its place in the chain (see [`Store::audit_after`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedRecord {
    pub record: AuditRecord,
    /// The hash of the entry before it in the chain.
    pub previous_hash: String,
    /// `HMAC-SHA256(chain key; previous hash, at, actor, action, session ID, details)`.
    pub hash: String,
}

impl Store {
    /// The audit timeline of a session `caller` may see, oldest first; [`StoreError::UnknownSession`] when they may
    /// not (or it does not exist).
    pub async fn audit_of_visible_session(
        &self,
        caller: &Caller,
        session_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.visible_session(caller, session_id).await?;
        self.session_audit(session_id).await
    }

    /// Audit entries `caller` may see, newest first: for an administrator (All) every entry, administrative ones
    /// included; for others the entries of the sessions they may see (Self, Own) — the listing's visibility rule.
    pub async fn list_audit(&self, caller: &Caller, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        if !(1..=MAX_AUDIT_PAGE).contains(&query.page_size) {
            return Err(StoreError::Query(sra_domain::QueryError::PageSize { value: query.page_size }));
        }
        // One bound for every edge (API, console): longer values cannot match anything recorded.
        for (field, value, max) in
            [("actor", &query.actor, MAX_AUDIT_ACTOR_LEN), ("session-id", &query.session_id, 128)]
        {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                let reason = format!("is too long; allowed: up to {max} characters");
                return Err(StoreError::Invalid { field: field.to_owned(), reason });
            }
        }
        if let (Some(from), Some(to)) = (query.from, query.to) {
            if from > to {
                return Err(StoreError::Query(sra_domain::QueryError::WindowReversed { from, to }));
            }
        }
        let scope = self.resolve_gateways(caller, &SessionQuery::recent()).await?.scope;
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT a.id, a.at, a.actor, a.action, a.session_id, a.details FROM audit_log a WHERE 1 = 1");
        visible_to(&mut sql, caller, scope.as_deref());
        if let Some(id) = &query.session_id {
            sql.push(" AND a.session_id = ").bind(id.clone());
        }
        if let Some(actor) = &query.actor {
            sql.push(" AND a.actor = ").bind(recorded_actor(actor));
        }
        match query.action.as_deref().map(action_filter).transpose()? {
            Some(ActionFilter::Exactly(action)) => {
                sql.push(" AND a.action = ").bind(action.to_owned());
            }
            // Names hold only letters, `_` and `.`: nothing in the prefix is a LIKE wildcard.
            Some(ActionFilter::Family(family)) => {
                sql.push(" AND a.action LIKE ").bind(format!("{family}.%"));
            }
            None => {}
        }
        if let Some(from) = query.from {
            sql.push(" AND a.at >= ").bind(from);
        }
        if let Some(to) = query.to {
            sql.push(" AND a.at <= ").bind(to);
        }
        if let Some(before) = query.before_id {
            sql.push(" AND a.id < ").bind(before);
        }
        sql.push(" ORDER BY a.id DESC LIMIT ").bind(i64::from(query.page_size) + 1);
        let rows = self.db.query_all(sql.build()).await?;
        let mut entries = rows
            .iter()
            .map(|row| {
                let details: String = row.try_get("", "details")?;
                Ok(AuditRecord {
                    id: row.try_get("", "id")?,
                    at: row.try_get("", "at")?,
                    actor: row.try_get("", "actor")?,
                    action: row.try_get("", "action")?,
                    session_id: row.try_get("", "session_id")?,
                    details: parse_details(&details)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = entries.len() > query.page_size as usize;
        entries.truncate(query.page_size as usize);
        let next = entries.last().filter(|_| more).map(|e| e.id);
        Ok(AuditPage { entries, next })
    }

    /// Up to `limit` audit entries `caller` may see after the entry `after` (from the start: `None`), oldest first,
    /// each with its place in the chain — its hash and its predecessor's (the chain's predecessor, which the caller
    /// may not see; for the first entry kept after pruning, the signed anchor's), so that a reader can verify the
    /// chain on its side as `audit verify` does. The same visibility as [`Store::list_audit`].
    pub async fn audit_after(
        &self,
        caller: &Caller,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(StoreError::Query(sra_domain::QueryError::PageSize { value: limit }));
        }
        let scope = self.resolve_gateways(caller, &SessionQuery::recent()).await?.scope;
        let backend = self.db.get_database_backend();
        let mut sql = Sql::new(backend);
        // Each entry's predecessor is the newest entry before it, whoever may see it (ids may have gaps: a rolled-back
        // transaction on PostgreSQL uses up its sequence numbers).
        sql.push(
            "SELECT a.id, a.at, a.actor, a.action, a.session_id, a.details, a.hash, \
             (SELECT p.hash FROM audit_log p WHERE p.id < a.id ORDER BY p.id DESC LIMIT 1) AS previous \
             FROM audit_log a WHERE a.id > ",
        )
        .bind(after.unwrap_or(0));
        visible_to(&mut sql, caller, scope.as_deref());
        sql.push(" ORDER BY a.id LIMIT ").bind(i64::from(limit));
        let rows = self.db.query_all(sql.build()).await?;
        let mut anchor = None;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let details: String = row.try_get("", "details")?;
            let previous = match row.try_get::<Option<String>>("", "previous")? {
                Some(previous) => previous,
                // The first entry there is: it chains to the anchor of what was pruned, or to the chain's start.
                None => {
                    if anchor.is_none() {
                        anchor = Some(
                            crate::retention::anchor(&self.db)
                                .await?
                                .map_or_else(|| sra_migrations::GENESIS.to_owned(), |a| a.head),
                        );
                    }
                    anchor.clone().unwrap_or_default()
                }
            };
            entries.push(ChainedRecord {
                record: AuditRecord {
                    id: row.try_get("", "id")?,
                    at: row.try_get("", "at")?,
                    actor: row.try_get("", "actor")?,
                    action: row.try_get("", "action")?,
                    session_id: row.try_get("", "session_id")?,
                    details: parse_details(&details)?,
                },
                previous_hash: previous,
                hash: row.try_get::<Option<String>>("", "hash")?.unwrap_or_default(),
            });
        }
        Ok(entries)
    }

    /// A session's audit timeline, oldest first, whoever asks (administration and tests).
    pub async fn session_audit(&self, session_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = audit_entry::Entity::find()
            .filter(audit_entry::Column::SessionId.eq(session_id))
            .order_by_asc(audit_entry::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let details = parse_details(&row.details)?;
                Ok(AuditRecord {
                    id: row.id,
                    at: row.at,
                    actor: row.actor,
                    action: row.action,
                    session_id: row.session_id,
                    details,
                })
            })
            .collect()
    }
}

/// Appends ` AND …` keeping the audit entries (`a`) `caller` may see: with a scope (Self, Own), those of the sessions
/// they may see — the listing's visibility rule — and never who viewed which session (administrators' business).
fn visible_to(sql: &mut Sql, caller: &Caller, granted: Option<&[i64]>) {
    let Some(granted) = granted else { return };
    sql.push(" AND EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = a.session_id AND (s.user_identifier = ")
        .bind(caller.login.clone());
    if !granted.is_empty() {
        sql.push(" OR s.gateway_id IN ").bind_list(granted.iter().copied());
    }
    sql.push("))");
    sql.push(" AND a.action NOT LIKE ").bind(crate::views::VIEW_FAMILY_LIKE.to_owned());
}

fn parse_details(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table: "audit_log",
        column: "details",
        reason: e.to_string(),
    })
}

/// An audit action filter, checked.
#[derive(Debug, PartialEq, Eq)]
enum ActionFilter<'a> {
    Exactly(&'a str),
    /// `session.*`: every action of the family.
    Family(&'a str),
}

/// Reads an action filter: `word.word` exactly, or `word.*` for a family; words of lowercase letters and `_`.
fn action_filter(value: &str) -> Result<ActionFilter<'_>, StoreError> {
    let word = |w: &str| !w.is_empty() && w.len() <= 40 && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let invalid = || StoreError::Invalid {
        field: "action".into(),
        reason: format!(
            "{value:?} is not an action; allowed: an action as recorded (e.g. session.terminate_requested) or a family \
             (e.g. session.*)"
        ),
    };
    match value.trim().split_once('.') {
        Some((family, "*")) if word(family) => Ok(ActionFilter::Family(family)),
        Some((family, name)) if word(family) && name.split('.').all(word) => Ok(ActionFilter::Exactly(value.trim())),
        _ => Err(invalid()),
    }
}

/// The actor as the log records it: a bare name (no `user:` / `gateway:` kind, not `system`) is a user's login, so
/// "olivia" finds what olivia did — what a person typing a name into the filter means.
fn recorded_actor(actor: &str) -> String {
    let actor = actor.trim();
    if actor.contains(':') || actor == "system" {
        actor.to_owned()
    } else {
        format!("user:{actor}")
    }
}

#[cfg(test)]
mod tests {
    use super::{action_filter, recorded_actor, ActionFilter};

    #[test]
    fn action_filters_are_names_or_families() {
        assert_eq!(action_filter("session.*").unwrap(), ActionFilter::Family("session"));
        assert_eq!(
            action_filter(" session.terminate_requested ").unwrap(),
            ActionFilter::Exactly("session.terminate_requested")
        );
        for bad in ["session", "%.*", "session.%", "*", "a.b*", "Session.started", ""] {
            assert!(action_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bare_name_is_a_users_login() {
        assert_eq!(recorded_actor("olivia"), "user:olivia");
        assert_eq!(recorded_actor(" olivia "), "user:olivia");
        assert_eq!(recorded_actor("user:olivia"), "user:olivia");
        assert_eq!(recorded_actor("gateway:gw-eu-west-1"), "gateway:gw-eu-west-1");
        assert_eq!(recorded_actor("user:os:root"), "user:os:root");
        assert_eq!(recorded_actor("system"), "system");
    }
}
