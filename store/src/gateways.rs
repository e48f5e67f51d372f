//! Gateway credentials and termination requests.
//!
//! A gateway authenticates with an API key of its own (`g-…`, 256 random bits), issued by an administrator and stored
//! as a SHA-256 digest; issuing a new one replaces the old. A termination request marks an active session; the gateway
//! learns of it in its next heartbeat's answer and reports `terminated`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use sra_domain::{Actor, Caller, Millis, SessionStatus};

use crate::audit::audit;
use crate::entity::gateway;
use crate::identity::digest;
use crate::ingest::GatewayIdentity;
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// A termination request as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationRequest {
    pub session_id: String,
    pub requested_at: Millis,
    /// Whether it had been requested before (the first request's time is kept).
    pub repeated: bool,
}

impl Store {
    /// Issues a new API key for a registered gateway (replacing any earlier one) and returns it: it is not stored and
    /// cannot be shown again.
    pub async fn issue_gateway_key(&self, actor: &Actor, gateway: &str) -> Result<String, StoreError> {
        let key = format!("g-{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
        let mut txn = self.begin_write().await?;
        let issued = gateway::Entity::update_many()
            .col_expr(gateway::Column::CredentialHash, Expr::value(digest(&key)))
            .filter(gateway::Column::Name.eq(gateway))
            .exec(&*txn)
            .await?;
        if issued.rows_affected == 0 {
            return Err(StoreError::UnknownGateway(gateway.to_owned()));
        }
        audit(&mut txn, now_ms(), actor, "gateway.key_issued", None, json!({"gateway": gateway})).await?;
        txn.commit().await?;
        Ok(key)
    }

    /// The gateway a key belongs to.
    pub async fn authenticate_gateway(&self, key: &str) -> Result<GatewayIdentity, StoreError> {
        let found =
            gateway::Entity::find().filter(gateway::Column::CredentialHash.eq(digest(key))).one(&self.db).await?;
        let found = found.ok_or(StoreError::UnknownGatewayKey)?;
        Ok(GatewayIdentity { id: found.id, name: found.name })
    }

    /// Asks the session's gateway to terminate it. Allowed to administrators (All) and to holders of Own on the
    /// session's gateway — seeing one's own session (Self) is not enough. Audited every time, repeats included.
    pub async fn request_termination(
        &self,
        caller: &Caller,
        session_id: &str,
    ) -> Result<TerminationRequest, StoreError> {
        let session = self.visible_session(caller, session_id).await?;
        if !caller.may_terminate(&session.gateway.cluster_name) {
            return Err(StoreError::NotPermitted(format!(
                "terminating session {session_id:?} needs All, or Own on its gateway {:?}",
                session.gateway.cluster_name
            )));
        }
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        // Read again inside the write: the gateway may have ended it a moment ago.
        let mut read = Sql::new(txn.get_database_backend());
        read.push("SELECT status, terminate_requested_at FROM sessions WHERE session_id = ").bind(session_id);
        let row = txn.query_one(read.build()).await?.ok_or_else(|| StoreError::UnknownSession(session_id.into()))?;
        let status: SessionStatus = crate::query::parse_column(&row.try_get::<String>("", "status")?, "status")?;
        if !status.is_active() {
            return Err(StoreError::SessionEnded { session_id: session_id.to_owned(), status });
        }
        let earlier: Option<Millis> = row.try_get("", "terminate_requested_at")?;
        if earlier.is_none() {
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push("UPDATE sessions SET terminate_requested_at = ")
                .bind(now)
                .push(", terminate_requested_by = ")
                .bind(caller.login.clone())
                .push(" WHERE session_id = ")
                .bind(session_id);
            txn.execute(sql.build()).await?;
        }
        let details =
            json!({"gateway": session.gateway.cluster_name, "status": status.as_str(), "repeated": earlier.is_some()});
        audit(
            &mut txn,
            now,
            &Actor::User(caller.login.clone()),
            "session.terminate_requested",
            Some(session_id),
            details,
        )
        .await?;
        txn.commit().await?;
        Ok(TerminationRequest {
            session_id: session_id.to_owned(),
            requested_at: earlier.unwrap_or(now),
            repeated: earlier.is_some(),
        })
    }
}
