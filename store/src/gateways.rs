//! Gateway credentials.
//!
//! A gateway authenticates with an API key of its own (`g-…`, 256 random bits), issued by an administrator and stored
//! as a SHA-256 digest; issuing a new one replaces the old.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use sra_domain::Actor;

use crate::audit::audit;
use crate::entity::gateway;
use crate::identity::digest;
use crate::ingest::GatewayIdentity;
use crate::{now_ms, Store, StoreError};

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
}
