//! The administration pages' server functions: users, access roles and their Secure Remote Access rule, API keys,
//! gateways and the audit log's destinations. Administrators (All) only — anyone else gets 404. Each calls the same store function as
//! `sra-server admin …`, which checks the names and audits the change with the administrator as its actor.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use sra_domain::{ApiKeyListing, DestinationListing, GatewayListing, RoleSpec, SraRule, UserListing};

use crate::error::ConsoleError;

/// Everything the administration pages list, in one answer (administration is small: people, roles, gateways).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    pub users: Vec<UserListing>,
    pub roles: Vec<RoleSpec>,
    pub gateways: Vec<GatewayListing>,
    pub api_keys: Vec<ApiKeyListing>,
    pub destinations: Vec<DestinationListing>,
}

/// A secret made by the server, shown to the administrator once and never stored in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeSecret {
    /// What it is for, e.g. "password of alice".
    pub label: String,
    /// A public name that goes with it (an API key's access ID), if any.
    pub id: Option<String>,
    pub secret: String,
}

#[server(prefix = "/api", endpoint = "admin_directory", input = Json)]
pub async fn admin_directory() -> Result<Directory, ConsoleError> {
    use crate::auth::server;
    server::administrator().await?;
    let store = server::store()?;
    Ok(Directory {
        users: store.list_users().await.map_err(server::failure)?,
        roles: store.list_roles().await.map_err(server::failure)?,
        gateways: store.list_gateway_details().await.map_err(server::failure)?,
        api_keys: store.list_api_keys().await.map_err(server::failure)?,
        destinations: store.list_destinations().await.map_err(server::failure)?,
    })
}

/// Creates a user with a generated password, shown once.
#[server(prefix = "/api", endpoint = "admin_create_user", input = Json)]
pub async fn create_user(login: String, display_name: String) -> Result<OneTimeSecret, ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let store = server::store()?;
    let login = login.trim().to_owned();
    let display_name = if display_name.trim().is_empty() { login.clone() } else { display_name };
    store.create_user(&actor, &login, &display_name).await.map_err(server::failure)?;
    let password = sra_store::random_password();
    store.set_password(&actor, &login, &password).await.map_err(server::failure)?;
    Ok(OneTimeSecret { label: format!("Password of {login}"), id: None, secret: password })
}

/// Gives a user a new generated password, shown once; their sign-ins and API tokens end.
#[server(prefix = "/api", endpoint = "admin_reset_password", input = Json)]
pub async fn reset_password(login: String) -> Result<OneTimeSecret, ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let password = sra_store::random_password();
    server::store()?.set_password(&actor, &login, &password).await.map_err(server::failure)?;
    Ok(OneTimeSecret { label: format!("New password of {login}"), id: None, secret: password })
}

/// Disables (their sign-ins end at once) or enables a user.
#[server(prefix = "/api", endpoint = "admin_set_disabled", input = Json)]
pub async fn set_disabled(login: String, disabled: bool) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.set_disabled(&actor, &login, disabled).await.map_err(server::failure)
}

/// Gives a user a role.
#[server(prefix = "/api", endpoint = "admin_assign_role", input = Json)]
pub async fn assign_role(login: String, role: String) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.assign_role(&actor, &login, &role).await.map_err(server::failure)
}

/// Takes a role from a user.
#[server(prefix = "/api", endpoint = "admin_unassign_role", input = Json)]
pub async fn unassign_role(login: String, role: String) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.unassign_role(&actor, &login, &role).await.map_err(server::failure)
}

/// Creates an access role with its Secure Remote Access rule (and, for Own, its gateways).
#[server(prefix = "/api", endpoint = "admin_create_role", input = Json)]
pub async fn create_role(
    name: String,
    rule: SraRule,
    #[server(default)] gateways: Vec<String>,
) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let spec = RoleSpec { name: name.trim().to_owned(), rule, gateways };
    server::store()?.create_role(&actor, &spec).await.map(|_| ()).map_err(server::failure)
}

/// Sets a role's Secure Remote Access rule: none, Own (exactly these gateways) or All.
#[server(prefix = "/api", endpoint = "admin_set_role_rule", input = Json)]
pub async fn set_role_rule(
    name: String,
    rule: SraRule,
    #[server(default)] gateways: Vec<String>,
) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.set_role_rule(&actor, &RoleSpec { name, rule, gateways }).await.map_err(server::failure)
}

/// Creates an API key for a user; the key is shown once.
#[server(prefix = "/api", endpoint = "admin_create_api_key", input = Json)]
pub async fn create_api_key(login: String) -> Result<OneTimeSecret, ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let key = server::store()?.create_api_key(&actor, &login).await.map_err(server::failure)?;
    Ok(OneTimeSecret { label: format!("API key of {login}"), id: Some(key.access_id), secret: key.access_key })
}

/// Revokes an API key and every token issued for it.
#[server(prefix = "/api", endpoint = "admin_revoke_api_key", input = Json)]
pub async fn revoke_api_key(access_id: String) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.revoke_api_key(&actor, &access_id).await.map_err(server::failure)
}

/// Registers a gateway (or changes the display name of a registered one).
#[server(prefix = "/api", endpoint = "admin_register_gateway", input = Json)]
pub async fn register_gateway(name: String, display_name: String) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let name = name.trim().to_owned();
    let display_name = if display_name.trim().is_empty() { name.clone() } else { display_name };
    server::store()?.register_gateway(&actor, &name, &display_name).await.map(|_| ()).map_err(server::failure)
}

/// Issues a gateway a new ingest key, replacing its old one at once; shown once.
#[server(prefix = "/api", endpoint = "admin_rotate_gateway_key", input = Json)]
pub async fn rotate_gateway_key(name: String) -> Result<OneTimeSecret, ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let key = server::store()?.issue_gateway_key(&actor, &name).await.map_err(server::failure)?;
    Ok(OneTimeSecret { label: format!("Ingest key of {name}"), id: None, secret: key })
}

/// Delivers the audit log to a webhook or syslog receiver; the signing secret (used by webhooks) is shown once.
#[server(prefix = "/api", endpoint = "admin_add_destination", input = Json)]
pub async fn add_destination(name: String, url: String, from_now: bool) -> Result<OneTimeSecret, ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    let start = if from_now { sra_store::StartAt::Now } else { sra_store::StartAt::Oldest };
    let name = name.trim().to_owned();
    let secret = server::store()?.add_destination(&actor, &name, url.trim(), start).await.map_err(server::failure)?;
    Ok(OneTimeSecret { label: format!("Signing secret of {name}"), id: None, secret })
}

/// Stops delivering the audit log to a destination.
#[server(prefix = "/api", endpoint = "admin_remove_destination", input = Json)]
pub async fn remove_destination(name: String) -> Result<(), ConsoleError> {
    use crate::auth::server;
    let actor = server::administrator().await?;
    server::store()?.remove_destination(&actor, &name).await.map_err(server::failure)
}
