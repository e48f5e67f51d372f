//! Session changes: gateways' reports and the server's own (lost sessions), applied in batches with their audit
//! entries in one transaction.
//!
//! A batch is read with a few set-based statements (its update IDs, its sessions, its gateways), judged in memory
//! update by update against the state machine, and written back with a few multi-row statements (an upsert of the
//! sessions it touched, its audit entries, its update IDs). Either every update of a batch is stored, or — when one is
//! refused — none is, and the error names the update.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use sra_domain::{Actor, Millis, NewSession, SessionChange, SessionStatus, SessionUpdate, Transition};

use crate::audit::{Entry, WriteTxn};
use crate::query::parse_column;
use crate::rollup;
use crate::sql::Sql;
use crate::totals;
use crate::{now_ms, Store, StoreError};

use sea_orm::ConnectionTrait;

/// Rows per multi-row statement (at most 15 values each: far below either engine's limit on bound values).
const CHUNK: usize = 500;

/// An update as a gateway reports it: with the ID that makes retries harmless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayUpdate {
    pub update_id: String,
    pub update: SessionUpdate,
}

/// What became of one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, with its audit entry.
    Applied,
    /// Its update ID was acknowledged before: nothing done again.
    Duplicate,
    /// Acknowledged but not applied: the session is already in that state or past it (a late delivery).
    Ignored { reason: String },
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored { .. } => "ignored",
        }
    }
}

/// A gateway, as its credential identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayIdentity {
    pub id: i64,
    pub name: String,
}

/// A session row as a batch reads and rewrites it.
#[derive(Debug, Clone)]
struct Row {
    session_id: String,
    user: String,
    access_id: Option<String>,
    client_interface: String,
    gateway_id: i64,
    resource_type: String,
    secret_name: String,
    target_name: String,
    target_host: String,
    status: SessionStatus,
    started_at: Millis,
    ended_at: Option<Millis>,
    error_message: Option<String>,
    updated_at: Millis,
    last_seen_at: Option<Millis>,
    /// The status the database holds for it, under which the roll-up counts it (`None`: new in this batch).
    stored_status: Option<SessionStatus>,
}

impl Row {
    /// The session as the all-time totals count it, with `status`.
    fn totaled(&self, status: SessionStatus) -> totals::Totaled<'_> {
        totals::Totaled {
            gateway_id: self.gateway_id,
            resource_type: &self.resource_type,
            status,
            duration_ms: self.ended_at.map(|end| end.saturating_sub(self.started_at)),
        }
    }

    /// The session as the roll-up counts it, with `status`.
    fn counted(&self, status: SessionStatus) -> rollup::Counted<'_> {
        rollup::Counted {
            gateway_id: self.gateway_id,
            started_at: self.started_at,
            resource_type: &self.resource_type,
            client_interface: &self.client_interface,
            status,
        }
    }
}

/// What a batch does with a change to a session that has meanwhile ended otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The change contradicts the session's end: the batch is refused (gateways, administrators).
    Refuse,
    /// The change is moot: it is acknowledged and ignored (the lost-session sweeper).
    Ignore,
}

impl Store {
    /// Applies a batch of session changes made by the server or an administrator: every update is stored with its
    /// audit entry, or — when one breaks the state machine, names an unknown session or gateway — none is. Late
    /// reports of an earlier state are ignored.
    pub async fn apply_updates(&self, actor: &Actor, updates: &[SessionUpdate]) -> Result<(), StoreError> {
        let items: Vec<(Option<&str>, &SessionUpdate)> = updates.iter().map(|u| (None, u)).collect();
        match self.write_batch(actor, None, &items, Ended::Refuse).await {
            Ok(_) => Ok(()),
            Err(StoreError::UpdateRefused { reason, .. }) => Err(*reason),
            Err(e) => Err(e),
        }
    }

    /// Applies a gateway's batch of reports. Each update ID is acknowledged once: a retried update comes back
    /// [`Outcome::Duplicate`] and is neither applied nor audited again. A gateway writes only its own sessions.
    /// All or nothing: a refused update ([`StoreError::UpdateRefused`]) leaves the whole batch unapplied.
    pub async fn ingest(
        &self,
        gateway: &GatewayIdentity,
        updates: &[GatewayUpdate],
    ) -> Result<Vec<Outcome>, StoreError> {
        let actor = Actor::Gateway(gateway.name.clone());
        let items: Vec<(Option<&str>, &SessionUpdate)> =
            updates.iter().map(|u| (Some(u.update_id.as_str()), &u.update)).collect();
        let written = self.write_batch(&actor, Some(gateway), &items, Ended::Refuse).await;
        self.tally.batch(written.as_deref().map_err(|_| ()));
        written
    }

    async fn write_batch(
        &self,
        actor: &Actor,
        owner: Option<&GatewayIdentity>,
        items: &[(Option<&str>, &SessionUpdate)],
        ended: Ended,
    ) -> Result<Vec<Outcome>, StoreError> {
        let written = self.write_batch_once(actor, owner, items, ended).await;
        // A batch that failed part-way for an outage (a full disk on an INSERT) never reaches its commit: noted here.
        if let Err(e) = &written {
            self.write_health.note(Err(e));
        }
        written
    }

    async fn write_batch_once(
        &self,
        actor: &Actor,
        owner: Option<&GatewayIdentity>,
        items: &[(Option<&str>, &SessionUpdate)],
        ended: Ended,
    ) -> Result<Vec<Outcome>, StoreError> {
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        let mut seen_ids = match owner {
            Some(gateway) => known_update_ids(&txn, gateway.id, items).await?,
            None => HashSet::new(),
        };
        let mut rows = load_sessions(&txn, items).await?;
        let gateway_ids = resolve_gateways(&txn, items).await?;

        let mut outcomes = Vec::with_capacity(items.len());
        // The sessions the batch changed, in first-change order (and as a set, for the membership test).
        let mut touched: Vec<String> = Vec::new();
        let mut touched_set: HashSet<String> = HashSet::new();
        let mut audits: Vec<(Millis, String, Option<String>, Value)> = Vec::new();
        let mut acknowledged: Vec<(String, String, &'static str)> = Vec::new();
        for (index, (update_id, update)) in items.iter().enumerate() {
            let refuse = |reason: StoreError| StoreError::UpdateRefused {
                index,
                update_id: update_id.map(str::to_owned),
                reason: Box::new(reason),
            };
            if let Some(id) = update_id {
                if !seen_ids.insert((*id).to_owned()) {
                    outcomes.push(Outcome::Duplicate);
                    continue;
                }
            }
            let session_id = &update.session_id;
            let outcome = match (&update.change, rows.get_mut(session_id)) {
                (SessionChange::Started(new), None) => {
                    let gateway_id = *gateway_ids
                        .get(&new.gateway)
                        .ok_or_else(|| refuse(StoreError::UnknownGateway(new.gateway.clone())))?;
                    if let Some(owner) = owner.filter(|o| o.id != gateway_id) {
                        return Err(refuse(StoreError::ForeignSession {
                            session_id: session_id.clone(),
                            gateway: owner.name.clone(),
                        }));
                    }
                    rows.insert(session_id.clone(), started_row(session_id, gateway_id, update.at, now, new));
                    audits.push((update.at, "session.started".into(), Some(session_id.clone()), started_details(new)));
                    Outcome::Applied
                }
                (_, None) => return Err(refuse(StoreError::UnknownSession(session_id.clone()))),
                (change, Some(row)) => {
                    if let Some(owner) = owner.filter(|o| o.id != row.gateway_id) {
                        return Err(refuse(StoreError::ForeignSession {
                            session_id: session_id.clone(),
                            gateway: owner.name.clone(),
                        }));
                    }
                    let (next, error) = match change {
                        SessionChange::Started(_) => (SessionStatus::Connecting, None),
                        SessionChange::Connected => (SessionStatus::Connected, None),
                        SessionChange::Completed => (SessionStatus::Completed, None),
                        SessionChange::Failed { error } => (SessionStatus::Failed, Some(error.clone())),
                        SessionChange::Terminated => (SessionStatus::Terminated, None),
                    };
                    match row.status.judge(next) {
                        Transition::Apply => {
                            let mut details = json!({"from": row.status.as_str(), "to": next.as_str()});
                            if let Some(error) = &error {
                                details["error"] = Value::String(error.clone());
                            }
                            row.status = next;
                            row.updated_at = update.at;
                            row.last_seen_at = Some(now);
                            if !next.is_active() {
                                row.ended_at = Some(update.at);
                            }
                            if error.is_some() {
                                row.error_message = error;
                            }
                            audits.push((update.at, format!("session.{next}"), Some(session_id.clone()), details));
                            Outcome::Applied
                        }
                        Transition::Ignore => {
                            let reason = if row.status == next {
                                format!("the session is already {next}")
                            } else {
                                format!("late: the session is already {} (reported {next})", row.status)
                            };
                            Outcome::Ignored { reason }
                        }
                        Transition::Reject if ended == Ended::Ignore && !row.status.is_active() => {
                            Outcome::Ignored { reason: format!("the session ended meanwhile ({})", row.status) }
                        }
                        Transition::Reject => {
                            return Err(refuse(StoreError::InvalidTransition {
                                session_id: session_id.clone(),
                                from: row.status,
                                to: next,
                            }))
                        }
                    }
                }
            };
            if outcome == Outcome::Applied && touched_set.insert(session_id.clone()) {
                touched.push(session_id.clone());
            }
            if let Some(id) = update_id {
                acknowledged.push(((*id).to_owned(), session_id.clone(), outcome.as_str()));
            }
            outcomes.push(outcome);
        }

        let changed: Vec<&Row> = touched.iter().filter_map(|id| rows.get(id)).collect();
        upsert_sessions(&txn, &changed).await?;
        let mut counts = rollup::Changes::default();
        for row in &changed {
            if let Some(before) = row.stored_status {
                counts.add(self.count_spans, &row.counted(before), -1);
            }
            counts.add(self.count_spans, &row.counted(row.status), 1);
        }
        counts.write(&txn).await?;
        let mut totals = totals::Changes::default();
        for row in &changed {
            if let Some(before) = row.stored_status {
                totals.add(&row.totaled(before), -1);
            }
            totals.add(&row.totaled(row.status), 1);
        }
        totals.write(&txn).await?;
        let entries: Vec<Entry<'_>> = audits
            .iter()
            .map(|(at, action, session_id, details)| Entry {
                at: *at,
                actor,
                action,
                session_id: session_id.as_deref(),
                details: details.clone(),
            })
            .collect();
        txn.audit_many(&entries).await?;
        if let Some(gateway) = owner {
            record_update_ids(&txn, gateway.id, now, &acknowledged).await?;
        }
        txn.commit().await?;
        Ok(outcomes)
    }

    /// Marks the active sessions of `gateway` that it reports alive (`live`) as seen now. Answers the live IDs this
    /// server does not know for the gateway, those it considers ended, and the active sessions an administrator asked
    /// to terminate.
    pub async fn heartbeat(&self, gateway: &GatewayIdentity, live: &[String]) -> Result<HeartbeatAnswer, StoreError> {
        let now = now_ms();
        let txn = self.begin_write().await?;
        let mut beat = Sql::new(txn.get_database_backend());
        beat.push("UPDATE gateways SET last_heartbeat_at = ").bind(now).push(" WHERE id = ").bind(gateway.id);
        txn.execute(beat.build()).await?;
        let mut known: HashMap<String, SessionStatus> = HashMap::new();
        for chunk in live.chunks(CHUNK) {
            let mut update = Sql::new(txn.get_database_backend());
            update
                .push("UPDATE sessions SET last_seen_at = ")
                .bind(now)
                .push(" WHERE gateway_id = ")
                .bind(gateway.id)
                .push(" AND status IN ")
                .bind_list(SessionStatus::ACTIVE.iter().map(|s| s.as_str()))
                .push(" AND session_id IN ")
                .bind_list(chunk.iter().cloned());
            txn.execute(update.build()).await?;
            let mut select = Sql::new(txn.get_database_backend());
            select
                .push("SELECT session_id, status FROM sessions WHERE gateway_id = ")
                .bind(gateway.id)
                .push(" AND session_id IN ")
                .bind_list(chunk.iter().cloned());
            for row in txn.query_all(select.build()).await? {
                let status: String = row.try_get("", "status")?;
                known.insert(row.try_get("", "session_id")?, parse_column(&status, "status")?);
            }
        }
        let mut pending = Sql::new(txn.get_database_backend());
        pending
            .push("SELECT session_id FROM sessions WHERE gateway_id = ")
            .bind(gateway.id)
            .push(" AND status IN ")
            .bind_list(SessionStatus::ACTIVE.iter().map(|s| s.as_str()))
            .push(" AND terminate_requested_at IS NOT NULL ORDER BY session_id");
        let terminate = txn
            .query_all(pending.build())
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "session_id"))
            .collect::<Result<Vec<_>, _>>()?;
        let blocked = crate::blocks::live_on(&*txn, gateway.id, now).await?;
        txn.commit().await?;
        let mut unknown = Vec::new();
        let mut ended = Vec::new();
        for id in live {
            match known.get(id) {
                None => unknown.push(id.clone()),
                Some(status) if !status.is_active() => ended.push(id.clone()),
                Some(_) => {}
            }
        }
        Ok(HeartbeatAnswer { terminate, unknown, ended, blocked })
    }

    /// Closes, as `failed` with reason "lost", every active session whose gateway has not reported it (by an update
    /// or a heartbeat) for `silent_for` milliseconds. Returns their IDs. Each closure is audited, by the system.
    pub async fn close_lost_sessions(&self, silent_for: Millis) -> Result<Vec<String>, StoreError> {
        let cutoff = now_ms() - silent_for;
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT session_id FROM sessions WHERE status IN ")
            .bind_list(SessionStatus::ACTIVE.iter().map(|s| s.as_str()))
            .push(" AND COALESCE(last_seen_at, updated_at) < ")
            .bind(cutoff)
            .push(" ORDER BY session_id");
        let lost: Vec<String> = self
            .db
            .query_all(sql.build())
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "session_id"))
            .collect::<Result<_, _>>()?;
        if lost.is_empty() {
            return Ok(lost);
        }
        let error =
            format!("lost: its gateway stopped reporting it (nothing for {})", sra_domain::format_duration(silent_for));
        let at = now_ms();
        let updates: Vec<SessionUpdate> = lost
            .iter()
            .map(|id| SessionUpdate {
                session_id: id.clone(),
                at,
                change: SessionChange::Failed { error: error.clone() },
            })
            .collect();
        // The sessions are judged again inside the batch's transaction: one that ended on its own since it was found
        // silent (completed, terminated) is left as it is.
        let items: Vec<(Option<&str>, &SessionUpdate)> = updates.iter().map(|u| (None, u)).collect();
        let outcomes = self.write_batch(&Actor::System, None, &items, Ended::Ignore).await?;
        self.tally.lost(outcomes.iter().filter(|o| **o == Outcome::Applied).count());
        Ok(lost)
    }
}

/// What a heartbeat answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatAnswer {
    /// Active sessions an administrator asked to terminate: the gateway should end them and report `terminated`.
    pub terminate: Vec<String>,
    /// Live session IDs this server has no record of for this gateway: report their start.
    pub unknown: Vec<String>,
    /// Live session IDs this server considers ended (e.g. closed as lost).
    pub ended: Vec<String>,
    /// Users blocked from new sessions on this gateway, and until when.
    pub blocked: Vec<(String, Millis)>,
}

fn started_row(session_id: &str, gateway_id: i64, at: Millis, now: Millis, new: &NewSession) -> Row {
    Row {
        session_id: session_id.to_owned(),
        user: new.user.clone(),
        access_id: new.access_id.clone(),
        client_interface: new.client_interface.as_str().to_owned(),
        gateway_id,
        resource_type: new.resource_type.as_str().to_owned(),
        secret_name: new.secret_name.clone(),
        target_name: new.target_name.clone(),
        target_host: new.target_host.clone(),
        status: SessionStatus::Connecting,
        started_at: at,
        ended_at: None,
        error_message: None,
        updated_at: at,
        last_seen_at: Some(now),
        stored_status: None,
    }
}

fn started_details(new: &NewSession) -> Value {
    json!({
        "to": SessionStatus::Connecting.as_str(),
        "user": new.user,
        "gateway": new.gateway,
        "client_interface": new.client_interface.as_str(),
        "resource_type": new.resource_type.as_str(),
        "secret_name": new.secret_name,
        "target": new.target_name,
    })
}

/// The update IDs of `items` this gateway has had acknowledged before.
async fn known_update_ids(
    txn: &WriteTxn,
    gateway_id: i64,
    items: &[(Option<&str>, &SessionUpdate)],
) -> Result<HashSet<String>, StoreError> {
    let ids: Vec<&str> = items.iter().filter_map(|(id, _)| *id).collect();
    let mut known = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push("SELECT update_id FROM gateway_updates WHERE gateway_id = ")
            .bind(gateway_id)
            .push(" AND update_id IN ")
            .bind_list(chunk.iter().map(|id| (*id).to_owned()));
        for row in txn.query_all(sql.build()).await? {
            known.insert(row.try_get::<String>("", "update_id")?);
        }
    }
    Ok(known)
}

/// The current rows of the sessions `items` name.
async fn load_sessions(
    txn: &WriteTxn,
    items: &[(Option<&str>, &SessionUpdate)],
) -> Result<HashMap<String, Row>, StoreError> {
    let mut ids: Vec<&str> = items.iter().map(|(_, u)| u.session_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push(
            "SELECT session_id, user_identifier, access_id, client_interface, gateway_id, resource_type, secret_name, \
             target_name, target_host, status, started_at, ended_at, error_message, updated_at, last_seen_at \
             FROM sessions WHERE session_id IN ",
        )
        .bind_list(chunk.iter().map(|id| (*id).to_owned()));
        for r in txn.query_all(sql.build()).await? {
            let status: String = r.try_get("", "status")?;
            let status = parse_column(&status, "status")?;
            let row = Row {
                session_id: r.try_get("", "session_id")?,
                user: r.try_get("", "user_identifier")?,
                access_id: r.try_get("", "access_id")?,
                client_interface: r.try_get("", "client_interface")?,
                gateway_id: r.try_get("", "gateway_id")?,
                resource_type: r.try_get("", "resource_type")?,
                secret_name: r.try_get("", "secret_name")?,
                target_name: r.try_get("", "target_name")?,
                target_host: r.try_get("", "target_host")?,
                status,
                started_at: r.try_get("", "started_at")?,
                ended_at: r.try_get("", "ended_at")?,
                error_message: r.try_get("", "error_message")?,
                updated_at: r.try_get("", "updated_at")?,
                last_seen_at: r.try_get("", "last_seen_at")?,
                stored_status: Some(status),
            };
            rows.insert(row.session_id.clone(), row);
        }
    }
    Ok(rows)
}

/// The IDs of the gateways that `items`' session starts name.
async fn resolve_gateways(
    txn: &WriteTxn,
    items: &[(Option<&str>, &SessionUpdate)],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut names: Vec<&str> = items
        .iter()
        .filter_map(|(_, u)| match &u.change {
            SessionChange::Started(new) => Some(new.gateway.as_str()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut ids = HashMap::new();
    for chunk in names.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push("SELECT id, name FROM gateways WHERE name IN ").bind_list(chunk.iter().map(|n| (*n).to_owned()));
        for row in txn.query_all(sql.build()).await? {
            ids.insert(row.try_get::<String>("", "name")?, row.try_get::<i64>("", "id")?);
        }
    }
    Ok(ids)
}

/// Writes the sessions a batch changed: new ones inserted, known ones updated, in one statement per chunk.
async fn upsert_sessions(txn: &WriteTxn, rows: &[&Row]) -> Result<(), StoreError> {
    for chunk in rows.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push(
            "INSERT INTO sessions (session_id, user_identifier, access_id, client_interface, gateway_id, \
             resource_type, secret_name, target_name, target_host, status, started_at, ended_at, error_message, \
             updated_at, last_seen_at) VALUES ",
        );
        for (i, row) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(row.session_id.clone()).push(", ");
            sql.bind(row.user.clone()).push(", ");
            sql.bind(row.access_id.clone()).push(", ");
            sql.bind(row.client_interface.clone()).push(", ");
            sql.bind(row.gateway_id).push(", ");
            sql.bind(row.resource_type.clone()).push(", ");
            sql.bind(row.secret_name.clone()).push(", ");
            sql.bind(row.target_name.clone()).push(", ");
            sql.bind(row.target_host.clone()).push(", ");
            sql.bind(row.status.as_str()).push(", ");
            sql.bind(row.started_at).push(", ");
            sql.bind(row.ended_at).push(", ");
            sql.bind(row.error_message.clone()).push(", ");
            sql.bind(row.updated_at).push(", ");
            sql.bind(row.last_seen_at).push(")");
        }
        sql.push(
            " ON CONFLICT (session_id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, \
             error_message = excluded.error_message, updated_at = excluded.updated_at, \
             last_seen_at = excluded.last_seen_at",
        );
        txn.execute(sql.build()).await?;
    }
    Ok(())
}

async fn record_update_ids(
    txn: &WriteTxn,
    gateway_id: i64,
    now: Millis,
    acknowledged: &[(String, String, &'static str)],
) -> Result<(), StoreError> {
    for chunk in acknowledged.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push("INSERT INTO gateway_updates (gateway_id, update_id, session_id, outcome, received_at) VALUES ");
        for (i, (update_id, session_id, outcome)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(gateway_id).push(", ").bind(update_id.clone()).push(", ").bind(session_id.clone());
            sql.push(", ").bind(*outcome).push(", ").bind(now).push(")");
        }
        txn.execute(sql.build()).await?;
    }
    Ok(())
}
