//! Registering gateways, users and roles. (Identity and administration build on these.)

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use sra_domain::{Actor, SraRule};

use crate::audit::audit;
use crate::entity::{gateway, role, role_gateway, session, user, user_role};
use crate::{now_ms, Store, StoreError};

/// A user as administrators list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListing {
    pub login: String,
    pub display_name: String,
    pub disabled: bool,
    pub has_password: bool,
    pub roles: Vec<String>,
}

/// A role to create: its name, its SRA rule and, for `Own`, the gateways (cluster names) it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub name: String,
    pub rule: SraRule,
    pub gateways: Vec<String>,
}

impl Store {
    /// Registers a gateway, or renames the display name of an existing one. Returns its id.
    pub async fn register_gateway(&self, actor: &Actor, name: &str, display_name: &str) -> Result<i64, StoreError> {
        let mut txn = self.begin_write().await?;
        let existing = gateway::Entity::find().filter(gateway::Column::Name.eq(name)).one(&*txn).await?;
        let id = match existing {
            Some(found) if found.display_name == display_name => return Ok(found.id),
            Some(found) => {
                let id = found.id;
                let mut active: gateway::ActiveModel = found.into();
                active.display_name = Set(display_name.to_owned());
                active.update(&*txn).await?;
                id
            }
            None => {
                gateway::ActiveModel {
                    name: Set(name.to_owned()),
                    display_name: Set(display_name.to_owned()),
                    created_at: Set(now_ms()),
                    ..Default::default()
                }
                .insert(&*txn)
                .await?
                .id
            }
        };
        audit(
            &mut txn,
            now_ms(),
            actor,
            "gateway.registered",
            None,
            json!({"name": name, "display_name": display_name}),
        )
        .await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Creates a user (without a password: identity sets passwords). Returns its id.
    pub async fn create_user(&self, actor: &Actor, login: &str, display_name: &str) -> Result<i64, StoreError> {
        let mut txn = self.begin_write().await?;
        let id = user::ActiveModel {
            login: Set(login.to_owned()),
            display_name: Set(display_name.to_owned()),
            password_hash: Set(None),
            disabled: Set(false),
            created_at: Set(now_ms()),
            ..Default::default()
        }
        .insert(&*txn)
        .await?
        .id;
        audit(&mut txn, now_ms(), actor, "user.created", None, json!({"login": login})).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Creates a role with its SRA rule and, for `Own`, its gateways. Returns its id.
    pub async fn create_role(&self, actor: &Actor, spec: &RoleSpec) -> Result<i64, StoreError> {
        let mut txn = self.begin_write().await?;
        let role_id = role::ActiveModel {
            name: Set(spec.name.clone()),
            sra_rule: Set(spec.rule.as_str().to_owned()),
            created_at: Set(now_ms()),
            ..Default::default()
        }
        .insert(&*txn)
        .await?
        .id;
        for name in &spec.gateways {
            let gateway_id = gateway_id(&*txn, name).await?;
            role_gateway::ActiveModel { role_id: Set(role_id), gateway_id: Set(gateway_id) }.insert(&*txn).await?;
        }
        audit(
            &mut txn,
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
        let mut txn = self.begin_write().await?;
        let user = user::Entity::find()
            .filter(user::Column::Login.eq(login))
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::UnknownUser(login.to_owned()))?;
        let role = role::Entity::find()
            .filter(role::Column::Name.eq(role_name))
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::UnknownRole(role_name.to_owned()))?;
        user_role::ActiveModel { user_id: Set(user.id), role_id: Set(role.id) }.insert(&*txn).await?;
        audit(&mut txn, now_ms(), actor, "role.assigned", None, json!({"login": login, "role": role_name})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Adds gateways to a role's Own grant (the role's rule becomes `own` if it was `none`; an `all` role keeps `all`).
    pub async fn grant_gateways(&self, actor: &Actor, role_name: &str, gateways: &[String]) -> Result<(), StoreError> {
        let mut txn = self.begin_write().await?;
        let role = role::Entity::find()
            .filter(role::Column::Name.eq(role_name))
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::UnknownRole(role_name.to_owned()))?;
        for name in gateways {
            let gateway_id = gateway_id(&*txn, name).await?;
            let exists = role_gateway::Entity::find()
                .filter(role_gateway::Column::RoleId.eq(role.id))
                .filter(role_gateway::Column::GatewayId.eq(gateway_id))
                .one(&*txn)
                .await?
                .is_some();
            if !exists {
                role_gateway::ActiveModel { role_id: Set(role.id), gateway_id: Set(gateway_id) }.insert(&*txn).await?;
            }
        }
        if role.sra_rule == SraRule::None.as_str() {
            let mut active: role::ActiveModel = role.into();
            active.sra_rule = Set(SraRule::Own.as_str().to_owned());
            active.update(&*txn).await?;
        }
        audit(&mut txn, now_ms(), actor, "role.granted", None, json!({"role": role_name, "gateways": gateways}))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Every user with their roles, by login.
    pub async fn list_users(&self) -> Result<Vec<UserListing>, StoreError> {
        let users = user::Entity::find().order_by_asc(user::Column::Login).all(&self.db).await?;
        let roles = role::Entity::find().all(&self.db).await?;
        let holdings = user_role::Entity::find().all(&self.db).await?;
        Ok(users
            .into_iter()
            .map(|u| UserListing {
                roles: holdings
                    .iter()
                    .filter(|h| h.user_id == u.id)
                    .filter_map(|h| roles.iter().find(|r| r.id == h.role_id).map(|r| r.name.clone()))
                    .collect(),
                has_password: u.password_hash.is_some(),
                login: u.login,
                display_name: u.display_name,
                disabled: u.disabled,
            })
            .collect())
    }

    /// Every role with its rule and granted gateways, by name.
    pub async fn list_roles(&self) -> Result<Vec<RoleSpec>, StoreError> {
        let roles = role::Entity::find().order_by_asc(role::Column::Name).all(&self.db).await?;
        let grants = role_gateway::Entity::find().all(&self.db).await?;
        let gateways = gateway::Entity::find().all(&self.db).await?;
        roles
            .into_iter()
            .map(|r| {
                let rule = r.sra_rule.parse().map_err(|e: sra_domain::ParseEnumError| StoreError::Corrupt {
                    table: "roles",
                    column: "sra_rule",
                    reason: e.to_string(),
                })?;
                let mut names: Vec<String> = grants
                    .iter()
                    .filter(|g| g.role_id == r.id)
                    .filter_map(|g| gateways.iter().find(|gw| gw.id == g.gateway_id).map(|gw| gw.name.clone()))
                    .collect();
                names.sort();
                Ok(RoleSpec { name: r.name, rule, gateways: names })
            })
            .collect()
    }

    /// Every registered gateway, by name.
    pub async fn list_gateways(&self) -> Result<Vec<sra_domain::GatewayInfo>, StoreError> {
        Ok(gateway::Entity::find()
            .order_by_asc(gateway::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|g| sra_domain::GatewayInfo { cluster_name: g.name, cluster_display_name: g.display_name })
            .collect())
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
