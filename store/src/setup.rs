//! Registering gateways, users and roles. (Identity and administration build on these.)

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use serde_json::json;
use sra_domain::{Actor, SraRule};

use crate::entity::{gateway, role, role_gateway, session, user, user_role};
use crate::ingest::audit;
use crate::{now_ms, Store, StoreError};

/// A role to create: its name, its SRA rule and, for `Own`, the gateways (cluster names) it grants.
#[derive(Debug, Clone)]
pub struct RoleSpec {
    pub name: String,
    pub rule: SraRule,
    pub gateways: Vec<String>,
}

impl Store {
    /// Registers a gateway, or renames the display name of an existing one. Returns its id.
    pub async fn register_gateway(&self, actor: &Actor, name: &str, display_name: &str) -> Result<i64, StoreError> {
        let txn = self.db.begin().await?;
        let existing = gateway::Entity::find().filter(gateway::Column::Name.eq(name)).one(&txn).await?;
        let id = match existing {
            Some(found) if found.display_name == display_name => return Ok(found.id),
            Some(found) => {
                let id = found.id;
                let mut active: gateway::ActiveModel = found.into();
                active.display_name = Set(display_name.to_owned());
                active.update(&txn).await?;
                id
            }
            None => {
                gateway::ActiveModel {
                    name: Set(name.to_owned()),
                    display_name: Set(display_name.to_owned()),
                    created_at: Set(now_ms()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        audit(&txn, now_ms(), actor, "gateway.registered", None, json!({"name": name, "display_name": display_name}))
            .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Creates a user (without a password: identity sets passwords). Returns its id.
    pub async fn create_user(&self, actor: &Actor, login: &str, display_name: &str) -> Result<i64, StoreError> {
        let txn = self.db.begin().await?;
        let id = user::ActiveModel {
            login: Set(login.to_owned()),
            display_name: Set(display_name.to_owned()),
            password_hash: Set(None),
            disabled: Set(false),
            created_at: Set(now_ms()),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id;
        audit(&txn, now_ms(), actor, "user.created", None, json!({"login": login})).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Creates a role with its SRA rule and, for `Own`, its gateways. Returns its id.
    pub async fn create_role(&self, actor: &Actor, spec: &RoleSpec) -> Result<i64, StoreError> {
        let txn = self.db.begin().await?;
        let role_id = role::ActiveModel {
            name: Set(spec.name.clone()),
            sra_rule: Set(spec.rule.as_str().to_owned()),
            created_at: Set(now_ms()),
            ..Default::default()
        }
        .insert(&txn)
        .await?
        .id;
        for name in &spec.gateways {
            let gateway_id = gateway_id(&txn, name).await?;
            role_gateway::ActiveModel { role_id: Set(role_id), gateway_id: Set(gateway_id) }.insert(&txn).await?;
        }
        audit(
            &txn,
            now_ms(),
            actor,
            "role.created",
            None,
            json!({"name": spec.name, "sra_rule": spec.rule.as_str(), "gateways": spec.gateways}),
        )
        .await?;
        txn.commit().await?;
        Ok(role_id)
    }

    /// Gives a user a role (both by name).
    pub async fn assign_role(&self, actor: &Actor, login: &str, role_name: &str) -> Result<(), StoreError> {
        let txn = self.db.begin().await?;
        let user = user::Entity::find()
            .filter(user::Column::Login.eq(login))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::UnknownUser(login.to_owned()))?;
        let role = role::Entity::find()
            .filter(role::Column::Name.eq(role_name))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::UnknownRole(role_name.to_owned()))?;
        user_role::ActiveModel { user_id: Set(user.id), role_id: Set(role.id) }.insert(&txn).await?;
        audit(&txn, now_ms(), actor, "role.assigned", None, json!({"login": login, "role": role_name})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The number of users (the server creates an initial administrator when there are none).
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    pub async fn role_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(role::Entity::find().filter(role::Column::Name.eq(name)).one(&self.db).await?.is_some())
    }

    /// The number of sessions stored (the demo seeds only an empty store).
    pub async fn session_count(&self) -> Result<u64, StoreError> {
        Ok(session::Entity::find().count(&self.db).await?)
    }
}

pub(crate) async fn gateway_id(db: &impl ConnectionTrait, name: &str) -> Result<i64, StoreError> {
    gateway::Entity::find()
        .filter(gateway::Column::Name.eq(name))
        .one(db)
        .await?
        .map(|g| g.id)
        .ok_or_else(|| StoreError::UnknownGateway(name.to_owned()))
}
