//! Termination requests: one session, several, or every active one of a user or a gateway, with a reason.
//!
//! A request marks each active session the caller may terminate (All, or Own on its gateway — seeing one's own session
//! is not enough); its gateway learns of it in its next heartbeat answer and reports `terminated`. Every request is
//! audited per session, repeats included; a session already marked keeps its first request's time, requester and
//! reason. Sessions selected but left alone are answered as skipped with why, never dropped silently; a preview
//! answers the same without writing, for a confirmation that says how many and which.
//!
//! With a block, each requested session's user is also kept from opening new sessions on that session's gateway until
//! a time (an active block for the pair is extended, never shortened); gateways learn it in their heartbeat answers.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::{json, Value};
use sra_domain::{
    Actor, BlockFor, Blocked, Caller, Millis, SessionQuery, SessionStatus, Skip, Skipped, Terminated,
    TerminationReason, TerminationTarget, Terminations, MAX_TERMINATIONS,
};

use crate::audit::Entry;
use crate::query::{parse_column, Gateways};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// A selected session as the decision needs it.
struct Selected {
    session_id: String,
    user: String,
    gateway: String,
    gateway_id: i64,
    status: SessionStatus,
    requested_at: Option<Millis>,
}

impl Store {
    /// Asks the session's gateway to terminate it, for `reason`. Errors say why not: unknown (or not visible), not
    /// permitted, or already ended.
    pub async fn request_termination(
        &self,
        caller: &Caller,
        session_id: &str,
        reason: &TerminationReason,
        block: Option<BlockFor>,
    ) -> Result<Terminated, StoreError> {
        Ok(self.request_termination_and_block(caller, session_id, reason, block).await?.0)
    }

    /// [`Store::request_termination`], also answering the block placed with it (if one was asked for).
    pub async fn request_termination_and_block(
        &self,
        caller: &Caller,
        session_id: &str,
        reason: &TerminationReason,
        block: Option<BlockFor>,
    ) -> Result<(Terminated, Option<Blocked>), StoreError> {
        let target = TerminationTarget::Sessions(vec![session_id.to_owned()]);
        let outcome = self.terminate_sessions(caller, &target, reason, block).await?;
        if let Some(done) = outcome.requested.into_iter().next() {
            return Ok((done, outcome.blocked.into_iter().next()));
        }
        Err(match outcome.skipped.into_iter().next().map(|s| s.why) {
            Some(Skip::Ended { status }) => StoreError::SessionEnded { session_id: session_id.to_owned(), status },
            Some(Skip::NotPermitted { gateway }) => StoreError::NotPermitted(format!(
                "terminating session {session_id:?} needs All, or Own on its gateway {gateway:?}"
            )),
            Some(Skip::NotFound) | None => StoreError::UnknownSession(session_id.to_owned()),
        })
    }

    /// Requests termination of every session `target` selects that the caller may terminate, in one transaction.
    pub async fn terminate_sessions(
        &self,
        caller: &Caller,
        target: &TerminationTarget,
        reason: &TerminationReason,
        block: Option<BlockFor>,
    ) -> Result<Terminations, StoreError> {
        check(target)?;
        let gateways = self.resolve_gateways(caller, &SessionQuery::recent()).await?;
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        // Read inside the write: a gateway may have ended a session a moment ago.
        let selected = select(&*txn, caller, &gateways, target).await?;
        let gateway_ids: HashMap<String, i64> = selected.iter().map(|s| (s.gateway.clone(), s.gateway_id)).collect();
        let outcome = decide(caller, target, selected, now, block);
        let new: Vec<String> = outcome.requested.iter().filter(|t| !t.repeated).map(|t| t.session_id.clone()).collect();
        if !new.is_empty() {
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push("UPDATE sessions SET terminate_requested_at = ")
                .bind(now)
                .push(", terminate_requested_by = ")
                .bind(caller.login.clone())
                .push(", termination_reason = ")
                .bind(reason.as_str().to_owned())
                .push(" WHERE terminate_requested_at IS NULL AND status IN ")
                .bind_list(SessionStatus::ACTIVE.iter().map(|s| s.as_str()))
                .push(" AND session_id IN ")
                .bind_list(new);
            txn.execute(sql.build()).await?;
        }
        let actor = Actor::User(caller.login.clone());
        let selection = selection(target);
        let entries: Vec<Entry<'_>> = outcome
            .requested
            .iter()
            .map(|t| {
                let mut details = json!({
                    "gateway": t.gateway, "user": t.user, "repeated": t.repeated, "reason": reason.as_str(),
                });
                if let Some(selection) = &selection {
                    details["selected_by"] = selection.clone();
                }
                Entry {
                    at: now,
                    actor: &actor,
                    action: "session.terminate_requested",
                    session_id: Some(&t.session_id),
                    details,
                }
            })
            .collect();
        txn.audit_many(&entries).await?;
        for blocked in &outcome.blocked {
            let gateway_id = gateway_ids.get(&blocked.gateway).copied().ok_or_else(|| StoreError::Corrupt {
                table: "sessions",
                column: "gateway_id",
                reason: format!("gateway {:?} of a selected session vanished", blocked.gateway),
            })?;
            crate::blocks::place(&mut txn, caller, blocked, gateway_id, reason, now).await?;
        }
        txn.commit().await?;
        Ok(outcome)
    }

    /// What [`Store::terminate_sessions`] would do now, without doing it.
    pub async fn preview_terminations(
        &self,
        caller: &Caller,
        target: &TerminationTarget,
        block: Option<BlockFor>,
    ) -> Result<Terminations, StoreError> {
        check(target)?;
        let gateways = self.resolve_gateways(caller, &SessionQuery::recent()).await?;
        let selected = select(&self.db, caller, &gateways, target).await?;
        Ok(decide(caller, target, selected, now_ms(), block))
    }
}

/// How a bulk selection was made, for its audit entries (`None` for sessions named by ID).
fn selection(target: &TerminationTarget) -> Option<Value> {
    match target {
        TerminationTarget::Sessions(_) => None,
        TerminationTarget::User(user) => Some(json!({"user": user})),
        TerminationTarget::Gateway(gateway) => Some(json!({"gateway": gateway})),
    }
}

/// Checks a target's size and values before anything is read.
fn check(target: &TerminationTarget) -> Result<(), StoreError> {
    let invalid = |field: &str, reason: String| StoreError::Invalid { field: field.to_owned(), reason };
    match target {
        TerminationTarget::Sessions(ids) if ids.is_empty() => {
            Err(invalid("session-ids", "name at least one session".into()))
        }
        TerminationTarget::Sessions(ids) if ids.len() > MAX_TERMINATIONS => {
            Err(invalid("session-ids", format!("{} sessions named; at most {MAX_TERMINATIONS} per request", ids.len())))
        }
        TerminationTarget::Sessions(ids) => match ids.iter().find(|id| id.is_empty() || id.len() > MAX_ID_LEN) {
            Some(id) => Err(invalid("session-ids", format!("{id:?} is not a session ID (1–{MAX_ID_LEN} bytes)"))),
            None => Ok(()),
        },
        TerminationTarget::User(name) | TerminationTarget::Gateway(name)
            if name.is_empty() || name.len() > sra_domain::MAX_NAME_LEN =>
        {
            let field = if matches!(target, TerminationTarget::User(_)) { "user" } else { "gateway" };
            Err(invalid(field, format!("{name:?} is not a name (1–{} bytes)", sra_domain::MAX_NAME_LEN)))
        }
        _ => Ok(()),
    }
}

/// The longest session ID a request may name (IDs are UUIDs or gateway-chosen strings well under this).
const MAX_ID_LEN: usize = 200;

/// The sessions `target` selects that the caller may see, at most one more than a request may hold.
async fn select(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    gateways: &Gateways,
    target: &TerminationTarget,
) -> Result<Vec<Selected>, StoreError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(
        "SELECT s.session_id, s.user_identifier, s.status, s.terminate_requested_at, s.gateway_id, \
         g.name AS gateway_name \
         FROM sessions s JOIN gateways g ON g.id = s.gateway_id WHERE ",
    );
    let active = || SessionStatus::ACTIVE.iter().map(|s| s.as_str());
    match target {
        TerminationTarget::Sessions(ids) => {
            sql.push("s.session_id IN ").bind_list(ids.iter().cloned());
        }
        TerminationTarget::User(user) => {
            sql.push("s.user_identifier = ").bind(user.clone()).push(" AND s.status IN ").bind_list(active());
        }
        TerminationTarget::Gateway(gateway) => {
            sql.push("g.name = ").bind(gateway.clone()).push(" AND s.status IN ").bind_list(active());
        }
    }
    gateways.visible_to(&mut sql, caller);
    sql.push(" ORDER BY s.started_at DESC, s.session_id LIMIT ").bind(MAX_TERMINATIONS as i64 + 1);
    let rows = conn.query_all(sql.build()).await?;
    if rows.len() > MAX_TERMINATIONS {
        // Only a user or a gateway can select more than the (checked) number of IDs named.
        let (field, name) = match target {
            TerminationTarget::User(name) => ("user", name.as_str()),
            TerminationTarget::Gateway(name) => ("gateway", name.as_str()),
            TerminationTarget::Sessions(_) => ("session-ids", "the list"),
        };
        return Err(StoreError::Invalid {
            field: field.to_owned(),
            reason: format!(
                "{name:?} selects more than {MAX_TERMINATIONS} active sessions you may see; terminate them by ID, at \
                 most {MAX_TERMINATIONS} per request"
            ),
        });
    }
    rows.iter().map(selected).collect()
}

fn selected(row: &QueryResult) -> Result<Selected, StoreError> {
    Ok(Selected {
        session_id: row.try_get("", "session_id")?,
        user: row.try_get("", "user_identifier")?,
        gateway: row.try_get("", "gateway_name")?,
        gateway_id: row.try_get("", "gateway_id")?,
        status: parse_column(&row.try_get::<String>("", "status")?, "status")?,
        requested_at: row.try_get("", "terminate_requested_at")?,
    })
}

/// Which of the selected sessions are terminated and which skipped, and why. Sessions named by ID keep the request's
/// order; a name that selected nothing is skipped as not found.
fn decide(
    caller: &Caller,
    target: &TerminationTarget,
    selected: Vec<Selected>,
    now: Millis,
    block: Option<BlockFor>,
) -> Terminations {
    let mut selected: Vec<Option<Selected>> = selected.into_iter().map(Some).collect();
    let ordered: Vec<Result<Selected, String>> = match target {
        TerminationTarget::Sessions(ids) => {
            let mut seen = std::collections::HashSet::new();
            ids.iter()
                .filter(|id| seen.insert(id.as_str()))
                .map(|id| {
                    let found = selected.iter_mut().find(|s| s.as_ref().is_some_and(|s| &s.session_id == id));
                    found.and_then(Option::take).ok_or_else(|| id.clone())
                })
                .collect()
        }
        _ => selected.into_iter().flatten().map(Ok).collect(),
    };
    let mut outcome = Terminations::default();
    for session in ordered {
        let session = match session {
            Ok(session) => session,
            Err(session_id) => {
                outcome.skipped.push(Skipped { session_id, why: Skip::NotFound });
                continue;
            }
        };
        let why = if !session.status.is_active() {
            Some(Skip::Ended { status: session.status })
        } else if !caller.may_terminate(&session.gateway) {
            Some(Skip::NotPermitted { gateway: session.gateway.clone() })
        } else {
            None
        };
        match why {
            Some(why) => outcome.skipped.push(Skipped { session_id: session.session_id, why }),
            None => outcome.requested.push(Terminated {
                repeated: session.requested_at.is_some(),
                requested_at: session.requested_at.unwrap_or(now),
                session_id: session.session_id,
                user: session.user,
                gateway: session.gateway,
            }),
        }
    }
    if let Some(block) = block {
        let pairs: BTreeSet<(&str, &str)> =
            outcome.requested.iter().map(|t| (t.user.as_str(), t.gateway.as_str())).collect();
        let until = now + block.ms();
        outcome.blocked = pairs
            .into_iter()
            .map(|(user, gateway)| Blocked { user: user.to_owned(), gateway: gateway.to_owned(), until })
            .collect();
    }
    outcome
}
