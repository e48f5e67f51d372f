//! Session changes and the audit log: every change is written with its audit entry in one transaction.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::{json, Value};
use sra_domain::{Actor, Millis, NewSession, SessionChange, SessionStatus, SessionUpdate};

use crate::entity::{audit_entry, session};
use crate::setup::gateway_id;
use crate::{Store, StoreError};

impl Store {
    /// Applies a batch of session updates atomically: either every update is stored, each with its audit entry, or —
    /// when any one is invalid — none is, and the error names the offending session.
    pub async fn apply_updates(&self, actor: &Actor, updates: &[SessionUpdate]) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        for update in updates {
            apply(&txn, actor, update).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

async fn apply(txn: &DatabaseTransaction, actor: &Actor, update: &SessionUpdate) -> Result<(), StoreError> {
    let existing = session::Entity::find().filter(session::Column::SessionId.eq(&update.session_id)).one(txn).await?;
    match (&update.change, existing) {
        (SessionChange::Started(new), None) => start(txn, actor, &update.session_id, update.at, new).await,
        (_, None) => Err(StoreError::UnknownSession(update.session_id.clone())),
        (change, Some(row)) => transition(txn, actor, row, update.at, change).await,
    }
}

async fn start(
    txn: &DatabaseTransaction,
    actor: &Actor,
    session_id: &str,
    at: Millis,
    new: &NewSession,
) -> Result<(), StoreError> {
    let gateway_id = gateway_id(txn, &new.gateway).await?;
    let status = SessionStatus::Connecting;
    session::ActiveModel {
        session_id: Set(session_id.to_owned()),
        user_identifier: Set(new.user.clone()),
        access_id: Set(new.access_id.clone()),
        client_interface: Set(new.client_interface.as_str().to_owned()),
        gateway_id: Set(gateway_id),
        resource_type: Set(new.resource_type.as_str().to_owned()),
        secret_name: Set(new.secret_name.clone()),
        target_name: Set(new.target_name.clone()),
        target_host: Set(new.target_host.clone()),
        status: Set(status.as_str().to_owned()),
        started_at: Set(at),
        ended_at: Set(None),
        error_message: Set(None),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let details = json!({
        "to": status.as_str(),
        "user": new.user,
        "gateway": new.gateway,
        "client_interface": new.client_interface.as_str(),
        "resource_type": new.resource_type.as_str(),
        "secret_name": new.secret_name,
        "target": new.target_name,
    });
    audit(txn, at, actor, "session.started", Some(session_id), details).await
}

async fn transition(
    txn: &DatabaseTransaction,
    actor: &Actor,
    row: session::Model,
    at: Millis,
    change: &SessionChange,
) -> Result<(), StoreError> {
    let (next, error) = match change {
        SessionChange::Connected => (SessionStatus::Connected, None),
        SessionChange::Completed => (SessionStatus::Completed, None),
        SessionChange::Failed { error } => (SessionStatus::Failed, Some(error.clone())),
        SessionChange::Terminated => (SessionStatus::Terminated, None),
        SessionChange::Started(_) => return Err(StoreError::DuplicateSession(row.session_id)),
    };
    let current: SessionStatus = row.status.parse().map_err(|e: sra_domain::ParseEnumError| StoreError::Corrupt {
        table: "sessions",
        column: "status",
        reason: e.to_string(),
    })?;
    if !current.can_become(next) {
        return Err(StoreError::InvalidTransition { session_id: row.session_id, from: current, to: next });
    }
    let session_id = row.session_id.clone();
    let mut active: session::ActiveModel = row.into();
    active.status = Set(next.as_str().to_owned());
    active.updated_at = Set(at);
    if !next.is_active() {
        active.ended_at = Set(Some(at));
    }
    if error.is_some() {
        active.error_message = Set(error.clone());
    }
    active.update(txn).await?;
    let mut details = json!({"from": current.as_str(), "to": next.as_str()});
    if let Some(error) = error {
        details["error"] = Value::String(error);
    }
    audit(txn, at, actor, &format!("session.{}", next.as_str()), Some(&session_id), details).await
}

/// Appends one audit entry inside the caller's transaction.
pub(crate) async fn audit(
    db: &impl ConnectionTrait,
    at: Millis,
    actor: &Actor,
    action: &str,
    session_id: Option<&str>,
    details: Value,
) -> Result<(), StoreError> {
    audit_entry::ActiveModel {
        at: Set(at),
        actor: Set(actor.to_string()),
        action: Set(action.to_owned()),
        session_id: Set(session_id.map(str::to_owned)),
        details: Set(details.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
