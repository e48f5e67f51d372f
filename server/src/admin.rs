//! `sra-server admin …`: administration from the command line, against the same database the server uses.
//!
//! Every change goes through the store and is written to the audit log with the operating-system user who ran it as
//! the actor (`user:os:NAME`).

use std::io::BufRead;

use anyhow::Context;
use clap::{Args, Subcommand};
use sra_domain::{Actor, SraRule};
use sra_store::{AuditKeys, AuditVerdict, RoleSpec, Store};

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Access roles and their SRA rule.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Gateways (SRA servers).
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// API keys (access-id + key) for the CLI and automation, exchanged for tokens at `POST /auth`.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Where the audit log is delivered: SIEM webhooks (CloudEvents, signed, in order, at least once).
    #[command(subcommand)]
    Destination(DestinationCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum DestinationCommand {
    /// Deliver every audit entry to a webhook. The signing secret is printed once. Example:
    /// `sra-server admin destination add splunk --url https://siem.example.com/sra`
    Add {
        name: String,
        /// An http:// or https:// URL; each batch is POSTed to it.
        #[arg(long)]
        url: String,
        /// Start with the next entry recorded, instead of the whole log kept.
        #[arg(long)]
        from_now: bool,
    },
    /// Stop delivering to a destination.
    Remove { name: String },
    /// List destinations: lag, last delivery and last error.
    List,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain with the audit key, reading the database only; exit 1 naming the first entry that was
    /// edited, deleted, reordered or cut off.
    Verify {
        /// Also check these signed checkpoints (the server's checkpoint file): proves nothing up to each was rewritten,
        /// even by someone holding the database and the chain key.
        #[arg(long)]
        checkpoints: Option<std::path::PathBuf>,
    },
    /// Sign the chain's head now and append it to the checkpoint file.
    Checkpoint,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key for a user; the key is printed once and cannot be shown again.
    Create { login: String },
    /// Revoke an API key and every token issued for it.
    Revoke { access_id: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a user. Example: `sra-server admin user create alice --name "Alice Doe" --password-stdin < pw.txt`
    Create {
        login: String,
        /// The name shown in the console (default: the login).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List users with their roles.
    List,
    /// Set a user's password (ends all their sign-ins).
    SetPassword {
        login: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Disable a user: they can no longer sign in, and their sign-ins end at once.
    Disable { login: String },
    /// Enable a disabled user.
    Enable { login: String },
}

#[derive(Debug, Clone, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input (otherwise one is generated and printed).
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum RoleCommand {
    /// Create a role. Example: `sra-server admin role create eu-ops --rule own --gateway gw-eu-1 --gateway gw-eu-2`
    Create {
        name: String,
        /// The SRA rule: none (own sessions only), own (the listed gateways), all (every session).
        #[arg(long, value_parser = parse_rule)]
        rule: SraRule,
        /// A gateway the role grants (repeat, or comma-separate); for `--rule own`.
        #[arg(long = "gateway", value_delimiter = ',')]
        gateways: Vec<String>,
    },
    /// Add gateways to a role's Own grant.
    Grant {
        name: String,
        #[arg(long = "gateway", value_delimiter = ',', required = true)]
        gateways: Vec<String>,
    },
    /// Give a user a role.
    Assign { login: String, role: String },
    /// List roles with their rule and gateways.
    List,
}

#[derive(Debug, Clone, Subcommand)]
pub enum GatewayCommand {
    /// Register a gateway (or change its display name).
    Register {
        /// The gateway's unique cluster name.
        name: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Issue the gateway's API key for the ingest API (replacing any earlier key); printed once.
    Key { name: String },
    /// List gateways.
    List,
}

fn parse_rule(text: &str) -> Result<SraRule, String> {
    text.parse().map_err(|e: sra_domain::ParseEnumError| e.to_string())
}

/// The operating-system user running the command, as the audit log's actor.
fn actor() -> Actor {
    let name = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
    Actor::User(format!("os:{name}"))
}

fn password(source: &PasswordSource) -> anyhow::Result<(String, bool)> {
    if source.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(!password.is_empty(), "standard input held no password");
        Ok((password, false))
    } else {
        Ok((sra_store::random_password(), true))
    }
}

/// Runs one administration command; what it changed is printed on stdout.
pub async fn run(store: &Store, command: AdminCommand) -> anyhow::Result<()> {
    let actor = actor();
    match command {
        AdminCommand::User(UserCommand::Create { login, name, password: source }) => {
            let (password, generated) = password(&source)?;
            store.create_user(&actor, &login, name.as_deref().unwrap_or(&login)).await?;
            store.set_password(&actor, &login, &password).await?;
            println!("created user {login}");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::User(UserCommand::List) => {
            println!("{:<20} {:<24} {:<9} roles", "login", "name", "state");
            for user in store.list_users().await? {
                let state = match (user.disabled, user.has_password) {
                    (true, _) => "disabled",
                    (false, false) => "no-pass",
                    (false, true) => "active",
                };
                println!("{:<20} {:<24} {:<9} {}", user.login, user.display_name, state, user.roles.join(","));
            }
        }
        AdminCommand::User(UserCommand::SetPassword { login, password: source }) => {
            let (password, generated) = password(&source)?;
            store.set_password(&actor, &login, &password).await?;
            println!("password of {login} set; their sign-ins have ended");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::User(UserCommand::Disable { login }) => {
            store.set_disabled(&actor, &login, true).await?;
            println!("disabled {login}");
        }
        AdminCommand::User(UserCommand::Enable { login }) => {
            store.set_disabled(&actor, &login, false).await?;
            println!("enabled {login}");
        }
        AdminCommand::Role(RoleCommand::Create { name, rule, gateways }) => {
            anyhow::ensure!(
                rule == SraRule::Own || gateways.is_empty(),
                "--gateway goes with --rule own (a {rule} role grants no gateways)"
            );
            store.create_role(&actor, &RoleSpec { name: name.clone(), rule, gateways }).await?;
            println!("created role {name}");
        }
        AdminCommand::Role(RoleCommand::Grant { name, gateways }) => {
            store.grant_gateways(&actor, &name, &gateways).await?;
            println!("role {name} now grants {}", gateways.join(", "));
        }
        AdminCommand::Role(RoleCommand::Assign { login, role }) => {
            store.assign_role(&actor, &login, &role).await?;
            println!("{login} now holds {role}");
        }
        AdminCommand::Role(RoleCommand::List) => {
            println!("{:<24} {:<5} gateways", "role", "rule");
            for role in store.list_roles().await? {
                println!("{:<24} {:<5} {}", role.name, role.rule, role.gateways.join(","));
            }
        }
        AdminCommand::Gateway(GatewayCommand::Register { name, display_name }) => {
            store.register_gateway(&actor, &name, display_name.as_deref().unwrap_or(&name)).await?;
            println!("registered gateway {name}");
        }
        AdminCommand::ApiKey(ApiKeyCommand::Create { login }) => {
            let key = store.create_api_key(&actor, &login).await?;
            println!("access-id:  {}", key.access_id);
            println!("access-key: {}   (shown only now)", key.access_key);
        }
        AdminCommand::ApiKey(ApiKeyCommand::Revoke { access_id }) => {
            store.revoke_api_key(&actor, &access_id).await?;
            println!("revoked {access_id} and its tokens");
        }
        AdminCommand::Destination(DestinationCommand::Add { name, url, from_now }) => {
            let start = if from_now { sra_store::StartAt::Now } else { sra_store::StartAt::Oldest };
            let secret = store.add_destination(&actor, &name, &url, start).await?;
            println!("signing secret: {secret}   (shown only now; see X-SRA-Signature in the README)");
        }
        AdminCommand::Destination(DestinationCommand::Remove { name }) => {
            store.remove_destination(&actor, &name).await?;
            println!("removed {name}");
        }
        AdminCommand::Destination(DestinationCommand::List) => {
            let when = |at: Option<i64>| at.map_or("never".to_owned(), sra_domain::format_rfc3339);
            for d in store.list_destinations().await? {
                let failure = d.last_error.map(|e| format!("\tlast error {}: {e}", when(d.last_error_at)));
                println!(
                    "{}\t{}\tlag {}\tdelivered {}\tfailures {}{}",
                    d.name,
                    d.url,
                    d.lag,
                    when(d.delivered_at),
                    d.failures,
                    failure.unwrap_or_default()
                );
            }
        }
        AdminCommand::Gateway(GatewayCommand::Key { name }) => {
            let key = store.issue_gateway_key(&actor, &name).await?;
            println!("gateway-key: {key}   (shown only now; the gateway sends it as Authorization: Bearer)");
        }
        AdminCommand::Audit(AuditCommand::Verify { .. }) => {
            unreachable!("verify opens the database read-only, without a store (see `verify`)")
        }
        AdminCommand::Audit(AuditCommand::Checkpoint) => {
            anyhow::bail!("checkpoint is run with the configuration (see `checkpoint`)")
        }
        AdminCommand::Gateway(GatewayCommand::List) => {
            println!("{:<32} display name", "name");
            for gateway in store.list_gateways().await? {
                println!("{:<32} {}", gateway.cluster_name, gateway.cluster_display_name);
            }
        }
    }
    Ok(())
}

/// `audit verify`: the chain of the database at `url`, read-only, checked with `keys` and the checkpoints in `file`.
pub async fn verify(url: &str, keys: &AuditKeys, file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let checkpoints = match file {
        Some(file) => sra_store::read_checkpoints(file)?,
        None => Vec::new(),
    };
    match sra_store::verify_audit(url, keys, &checkpoints).await? {
        AuditVerdict::Intact { entries, checkpoints: 0 } => println!("audit log intact: {entries} entries chain"),
        AuditVerdict::Intact { entries, checkpoints } => {
            println!("audit log intact: {entries} entries chain, and all {checkpoints} signed checkpoints match")
        }
        AuditVerdict::Broken { id: 0, reason } => anyhow::bail!("audit log broken: {reason}"),
        AuditVerdict::Broken { id, reason } => anyhow::bail!("audit log broken at entry {id}: {reason}"),
        AuditVerdict::Truncated { last_id, reason } => anyhow::bail!(
            "audit log truncated after {}: {reason}",
            last_id.map_or_else(|| "the start".to_owned(), |id| format!("entry {id}"))
        ),
        AuditVerdict::WrongKey => anyhow::bail!(
            "the audit key file is not the one this chain was written with: nothing was checked; use the servers' key file"
        ),
    }
    Ok(())
}

/// `audit checkpoint`: signs the chain's head now and appends it to `file`.
pub async fn checkpoint(store: &Store, file: &std::path::Path) -> anyhow::Result<()> {
    match store.checkpoint().await? {
        Some(checkpoint) => {
            checkpoint.append_to(file)?;
            println!(
                "checkpoint: {} entries up to #{} signed into {}",
                checkpoint.entries,
                checkpoint.last_id,
                file.display()
            );
        }
        None => println!("the audit log is empty: nothing to sign"),
    }
    Ok(())
}
