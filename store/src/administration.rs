//! Registering gateways, users and roles, and listing them for administrators. (Identity and administration build on
//! these.) The command line (`sra-server admin`) and the console's administration pages call these same functions:
//! names are checked here, every change is audited, and no change may leave the console without an administrator.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use sra_domain::{check_display_name, check_name, Actor, ApiKeyListing, GatewayListing, SraRule, MAX_ROLE_GATEWAYS};

use crate::audit::audit;
use crate::entity::{api_key, gateway, role, role_gateway, session, user, user_role};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

pub use sra_domain::{RoleSpec, UserListing};

impl Store {
    /// Registers a gateway, or renames the display name of an existing one. Returns its id.
    pub async fn register_gateway(&self, actor: &Actor, name: &str, display_name: &str) -> Result<i64, StoreError> {
        check_name("gateway", name)?;
        let display_name = check_display_name("display name", display_name)?;
        let display_name = display_name.as_str();
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
                    credential_hash: Set(None),
                    last_heartbeat_at: Set(None),
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
        check_name("login", login)?;
        let display_name = check_display_name("display name", display_name)?;
        let mut txn = self.begin_write().await?;
        if user::Entity::find().filter(user::Column::Login.eq(login)).one(&*txn).await?.is_some() {
            return Err(StoreError::Exists { what: "user", name: login.to_owned() });
        }
        let id = user::ActiveModel {
            login: Set(login.to_owned()),
            display_name: Set(display_name),
            password_hash: Set(None),
            disabled: Set(false),
            created_at: Set(now_ms()),
            last_sign_in_at: Set(None),
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
        check_role(spec)?;
        let mut txn = self.begin_write().await?;
        if role::Entity::find().filter(role::Column::Name.eq(&spec.name)).one(&*txn).await?.is_some() {
            return Err(StoreError::Exists { what: "role", name: spec.name.clone() });
        }
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
        let held = user_role::Entity::find()
            .filter(user_role::Column::UserId.eq(user.id))
            .filter(user_role::Column::RoleId.eq(role.id))
            .one(&*txn)
            .await?
            .is_some();
        if held {
            return Err(StoreError::Exists { what: "assignment", name: format!("{login} → {role_name}") });
        }
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

    /// Takes a role from a user (both by name). Refused if it would leave no enabled administrator.
    pub async fn unassign_role(&self, actor: &Actor, login: &str, role_name: &str) -> Result<(), StoreError> {
        let mut txn = self.begin_write().await?;
        let admins = administrators(&*txn).await?;
        let user_id = crate::identity::user_id(&*txn, login).await?;
        let role_id = role_id(&*txn, role_name).await?;
        let removed = user_role::Entity::delete_many()
            .filter(user_role::Column::UserId.eq(user_id))
            .filter(user_role::Column::RoleId.eq(role_id))
            .exec(&*txn)
            .await?;
        if removed.rows_affected == 0 {
            return Err(StoreError::Invalid {
                field: "role".into(),
                reason: format!("{login} does not hold the role {role_name:?}"),
            });
        }
        keep_an_administrator(&*txn, admins).await?;
        audit(&mut txn, now_ms(), actor, "role.unassigned", None, json!({"login": login, "role": role_name})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets a role's Secure Remote Access rule — none, Own with exactly these gateways, or All — replacing what it
    /// granted before. Its holders see the change at their next listing. Refused if it would leave no enabled
    /// administrator.
    pub async fn set_role_rule(&self, actor: &Actor, spec: &RoleSpec) -> Result<(), StoreError> {
        check_role(spec)?;
        let mut txn = self.begin_write().await?;
        let admins = administrators(&*txn).await?;
        let found = role::Entity::find()
            .filter(role::Column::Name.eq(&spec.name))
            .one(&*txn)
            .await?
            .ok_or_else(|| StoreError::UnknownRole(spec.name.clone()))?;
        let role_id = found.id;
        let was_rule = found.sra_rule.clone();
        let was_gateways = granted_names(&*txn, role_id).await?;
        let mut ids = Vec::with_capacity(spec.gateways.len());
        for name in &spec.gateways {
            ids.push(gateway_id(&*txn, name).await?);
        }
        role_gateway::Entity::delete_many().filter(role_gateway::Column::RoleId.eq(role_id)).exec(&*txn).await?;
        for gateway_id in ids {
            role_gateway::ActiveModel { role_id: Set(role_id), gateway_id: Set(gateway_id) }.insert(&*txn).await?;
        }
        let mut active: role::ActiveModel = found.into();
        active.sra_rule = Set(spec.rule.as_str().to_owned());
        active.update(&*txn).await?;
        keep_an_administrator(&*txn, admins).await?;
        let details = json!({
            "role": spec.name,
            "sra_rule": spec.rule.as_str(),
            "gateways": spec.gateways,
            "was": {"sra_rule": was_rule, "gateways": was_gateways},
        });
        audit(&mut txn, now_ms(), actor, "role.rule_set", None, details).await?;
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
                last_sign_in_at: u.last_sign_in_at,
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

    /// Every registered gateway with whether it has an ingest key and when it last sent a heartbeat, by name.
    pub async fn list_gateway_details(&self) -> Result<Vec<GatewayListing>, StoreError> {
        Ok(gateway::Entity::find()
            .order_by_asc(gateway::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|g| GatewayListing {
                has_key: g.credential_hash.is_some(),
                last_heartbeat_at: g.last_heartbeat_at,
                name: g.name,
                display_name: g.display_name,
            })
            .collect())
    }

    /// Every API key (never the key itself), newest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyListing>, StoreError> {
        let keys = api_key::Entity::find().order_by_desc(api_key::Column::CreatedAt).all(&self.db).await?;
        let users = user::Entity::find().all(&self.db).await?;
        Ok(keys
            .into_iter()
            .map(|k| ApiKeyListing {
                login: users.iter().find(|u| u.id == k.user_id).map(|u| u.login.clone()).unwrap_or_default(),
                access_id: k.access_id,
                created_at: k.created_at,
                revoked_at: k.revoked_at,
            })
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

async fn role_id(db: &impl ConnectionTrait, name: &str) -> Result<i64, StoreError> {
    role::Entity::find()
        .filter(role::Column::Name.eq(name))
        .one(db)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| StoreError::UnknownRole(name.to_owned()))
}

/// The names of the gateways a role grants, sorted.
async fn granted_names(db: &impl ConnectionTrait, role_id: i64) -> Result<Vec<String>, StoreError> {
    let ids: Vec<i64> = role_gateway::Entity::find()
        .filter(role_gateway::Column::RoleId.eq(role_id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.gateway_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = gateway::Entity::find()
        .filter(gateway::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    names.sort();
    Ok(names)
}

/// A role's name and gateways are checked before anything is written; only an Own rule grants gateways.
fn check_role(spec: &RoleSpec) -> Result<(), StoreError> {
    check_name("role", &spec.name)?;
    if spec.rule != SraRule::Own && !spec.gateways.is_empty() {
        return Err(StoreError::Invalid {
            field: "gateways".into(),
            reason: format!("only an Own rule grants gateways; a {} rule grants none", spec.rule.label()),
        });
    }
    if spec.gateways.len() > MAX_ROLE_GATEWAYS {
        return Err(StoreError::Invalid {
            field: "gateways".into(),
            reason: format!("{} gateways given; at most {MAX_ROLE_GATEWAYS} are allowed", spec.gateways.len()),
        });
    }
    for name in &spec.gateways {
        check_name("gateway", name)?;
    }
    Ok(())
}

/// How many enabled users hold a role whose SRA rule is All.
pub(crate) async fn administrators(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM users u WHERE u.disabled = ")
        .bind(false)
        .push(
            " AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
         WHERE ur.user_id = u.id AND r.sra_rule = ",
        )
        .bind(SraRule::All.as_str())
        .push(")");
    let row = db.query_one(sql.build()).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// Refuses a change (inside its transaction) that took the last enabled administrator away: nobody could undo it
/// from the console. A database that had none (set up from the command line) is left as it is.
pub(crate) async fn keep_an_administrator(db: &impl ConnectionTrait, before: i64) -> Result<(), StoreError> {
    if before > 0 && administrators(db).await? == 0 {
        return Err(StoreError::LastAdministrator);
    }
    Ok(())
}
