//! Users: who they are (visibility from their roles), their passwords and console sign-ins.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes). A console sign-in is a random
//! 256-bit token handed to the browser in a cookie; the database keeps only its SHA-256, so every replica can check it
//! and a copy of the database holds no live session. Sign-ins end after an idle period or an absolute lifetime,
//! whichever comes first, or when revoked (sign-out, user disabled).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

use sra_domain::{Actor, Caller, Millis, Scope, SraRule, HOUR_MS, MINUTE_MS};

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set};

use crate::audit::audit;
use crate::entity::{api_token, console_session, user};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// A sign-in ends after this long without use …
pub const IDLE_TIMEOUT_MS: Millis = 30 * MINUTE_MS;
/// … and in any case this long after it began.
pub const ABSOLUTE_TIMEOUT_MS: Millis = 12 * HOUR_MS;
/// `last_seen_at` is written at most this often, so that reading pages does not turn into a write per request.
const TOUCH_EVERY_MS: Millis = MINUTE_MS;

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
}

/// A user row as the sign-in look-ups read it, with what each check needs beside who the user is.
#[derive(Debug, FromQueryResult)]
pub(crate) struct UserRow {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub disabled: bool,
    /// The password's Argon2 hash (password checks), or the API key's SHA-256 (key checks).
    pub secret_hash: Option<String>,
}

impl UserRow {
    pub fn principal(self) -> Principal {
        Principal { user_id: self.id, login: self.login, display_name: self.display_name }
    }
}

/// A live console sign-in's user, and when the sign-in was last used.
#[derive(Debug, FromQueryResult)]
struct SignInRow {
    id: i64,
    login: String,
    display_name: String,
    last_seen_at: i64,
}

/// What checking a presented secret found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    Valid(Principal),
    /// Wrong secret, or no such account.
    Wrong,
    /// The right secret of a disabled account: answered exactly like a wrong one, audited as what it is.
    Disabled,
}

/// A hash no password matches, verified against when the login is unknown so that "no such user" takes as long as
/// "wrong password" and timing does not reveal which logins exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3JhLXNlc3Npb25zLWR1bW15$Wg3hx2bU0S4jyv4VbgYbvw7o5P5c3m6AaJtsvZqGSQk";

/// A password for a new user or a reset: 20 characters without look-alikes (0/O, 1/l/I), since it may be typed from a
/// screen; about 115 bits.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

impl Store {
    /// Sets (or replaces) a user's password. Every sign-in and API token of the user ends.
    pub async fn set_password(&self, actor: &Actor, login: &str, password: &str) -> Result<(), StoreError> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(StoreError::WeakPassword { min: MIN_PASSWORD_LEN });
        }
        let hash = hash_password(password)?;
        let mut txn = self.begin_write().await?;
        let user_id = user_id(&*txn, login).await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(user_id))
            .exec(&*txn)
            .await?;
        revoke_all(&*txn, user_id).await?;
        audit(&mut txn, now_ms(), actor, "user.password_set", None, json!({"login": login})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Enables or disables a user. Disabling ends every sign-in and API token of the user at once.
    pub async fn set_disabled(&self, actor: &Actor, login: &str, disabled: bool) -> Result<(), StoreError> {
        if disabled && matches!(actor, Actor::User(me) if me == login) {
            return Err(StoreError::Invalid {
                field: "login".into(),
                reason: format!("{login} is you: ask another administrator to disable your account"),
            });
        }
        let mut txn = self.begin_write().await?;
        let admins = crate::administration::administrators(&*txn).await?;
        let user_id = user_id(&*txn, login).await?;
        user::Entity::update_many()
            .col_expr(user::Column::Disabled, Expr::value(disabled))
            .filter(user::Column::Id.eq(user_id))
            .exec(&*txn)
            .await?;
        if disabled {
            revoke_all(&*txn, user_id).await?;
            crate::administration::keep_an_administrator(&*txn, admins).await?;
        }
        let action = if disabled { "user.disabled" } else { "user.enabled" };
        audit(&mut txn, now_ms(), actor, action, None, json!({"login": login})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Checks a login and password (see [`Store::sign_in`], the one way in). Unknown logins and wrong passwords take
    /// the same time; `permit` is the hashing slot the caller holds while Argon2 runs.
    pub(crate) async fn check_password(
        &self,
        login: &str,
        password: &str,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<PasswordCheck, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT id, login, display_name, disabled, password_hash AS secret_hash FROM users WHERE login = ")
            .bind(login);
        let found = UserRow::find_by_statement(sql.build()).one(&self.db).await?;
        let hash = found.as_ref().and_then(|row| row.secret_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
        let password = password.to_owned();
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify_password(&password, &hash)
        })
        .await
        .map_err(|e| StoreError::Hashing(e.to_string()))?;
        Ok(match found {
            Some(row) if matches && row.secret_hash.is_some() => {
                if row.disabled {
                    PasswordCheck::Disabled
                } else {
                    PasswordCheck::Valid(row.principal())
                }
            }
            _ => PasswordCheck::Wrong,
        })
    }

    /// Resolves a user's visibility from their roles: All if any role's SRA rule is "all", else the union of the
    /// gateways their "own" rules name — plus, always, their own sessions. A login without an account, or a disabled
    /// one, gets Self only.
    pub async fn caller(&self, login: &str) -> Result<Caller, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(
            "SELECT r.sra_rule AS sra_rule, g.name AS gateway FROM users u \
             JOIN user_roles ur ON ur.user_id = u.id \
             JOIN roles r ON r.id = ur.role_id \
             LEFT JOIN role_gateways rg ON rg.role_id = r.id \
             LEFT JOIN gateways g ON g.id = rg.gateway_id \
             WHERE u.login = ",
        )
        .bind(login)
        .push(" AND u.disabled = ")
        .bind(false);
        let mut gateways = BTreeSet::new();
        for row in self.db.query_all(sql.build()).await? {
            let rule: String = row.try_get("", "sra_rule")?;
            match rule.parse::<SraRule>() {
                Ok(SraRule::All) => return Ok(Caller::admin(login)),
                Ok(SraRule::Own) => {
                    if let Some(gateway) = row.try_get::<Option<String>>("", "gateway")? {
                        gateways.insert(gateway);
                    }
                }
                Ok(SraRule::None) => {}
                Err(e) => {
                    return Err(StoreError::Corrupt { table: "roles", column: "sra_rule", reason: e.to_string() })
                }
            }
        }
        Ok(Caller { login: login.to_owned(), scope: Scope::Gateways(gateways) })
    }

    /// Records an event that changes nothing else (e.g. a refused sign-in) in the audit log.
    pub async fn record(&self, actor: &Actor, action: &str, details: serde_json::Value) -> Result<(), StoreError> {
        let mut txn = self.begin_write().await?;
        audit(&mut txn, now_ms(), actor, action, None, details).await?;
        txn.commit().await
    }

    /// Starts a console sign-in for `principal`; returns the token for the cookie.
    pub async fn open_console_session(&self, principal: &Principal) -> Result<String, StoreError> {
        let token = new_token();
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        let sign_in = console_session::ActiveModel {
            token_hash: Set(digest(&token)),
            user_id: Set(principal.user_id),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + ABSOLUTE_TIMEOUT_MS),
            revoked_at: Set(None),
        };
        console_session::Entity::insert(sign_in).exec_without_returning(&*txn).await?;
        audit(&mut txn, now, &Actor::User(principal.login.clone()), "console.signed_in", None, json!({})).await?;
        txn.commit().await?;
        Ok(token)
    }

    /// The user a console token belongs to, if the sign-in is live (not revoked, not idle too long, not past its
    /// lifetime) and the user is enabled.
    pub async fn console_session(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let now = now_ms();
        let hash = digest(token);
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(
            "SELECT u.id, u.login, u.display_name, c.last_seen_at FROM console_sessions c \
             JOIN users u ON u.id = c.user_id \
             WHERE c.token_hash = ",
        )
        .bind(hash.clone())
        .push(" AND c.revoked_at IS NULL AND c.expires_at > ")
        .bind(now)
        .push(" AND c.last_seen_at > ")
        .bind(now - IDLE_TIMEOUT_MS)
        .push(" AND u.disabled = ")
        .bind(false);
        let Some(row) = SignInRow::find_by_statement(sql.build()).one(&self.db).await? else {
            return Ok(None);
        };
        if now - row.last_seen_at > TOUCH_EVERY_MS {
            console_session::Entity::update_many()
                .col_expr(console_session::Column::LastSeenAt, Expr::value(now))
                .filter(console_session::Column::TokenHash.eq(hash))
                .exec(&self.db)
                .await?;
        }
        Ok(Some(Principal { user_id: row.id, login: row.login, display_name: row.display_name }))
    }

    /// Ends a console sign-in (sign-out). Unknown or already ended tokens are ignored.
    pub async fn close_console_session(&self, token: &str) -> Result<(), StoreError> {
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        let live = console_session::Entity::find_by_id(digest(token))
            .filter(console_session::Column::RevokedAt.is_null())
            .one(&*txn)
            .await?;
        if let Some(sign_in) = live {
            let owner = user::Entity::find_by_id(sign_in.user_id).one(&*txn).await?;
            console_session::Entity::update_many()
                .col_expr(console_session::Column::RevokedAt, Expr::value(now))
                .filter(console_session::Column::TokenHash.eq(sign_in.token_hash))
                .exec(&*txn)
                .await?;
            if let Some(owner) = owner {
                audit(&mut txn, now, &Actor::User(owner.login), "console.signed_out", None, json!({})).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}

pub(crate) async fn user_id(db: &impl ConnectionTrait, login: &str) -> Result<i64, StoreError> {
    let found = user::Entity::find().filter(user::Column::Login.eq(login)).one(db).await?;
    found.map(|u| u.id).ok_or_else(|| StoreError::UnknownUser(login.to_owned()))
}

/// Ends every console sign-in and API token of a user (new password, disabled).
async fn revoke_all(db: &impl ConnectionTrait, user_id: i64) -> Result<(), StoreError> {
    let now = now_ms();
    console_session::Entity::update_many()
        .col_expr(console_session::Column::RevokedAt, Expr::value(now))
        .filter(console_session::Column::UserId.eq(user_id))
        .filter(console_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| StoreError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Hashing(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// A new shared secret (256 random bits, URL-safe base64): a destination's signing secret.
pub(crate) fn new_secret() -> String {
    new_token()
}

/// The SHA-256 of a secret, as stored.
pub(crate) fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "a fresh salt every time");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash_so_unknown_users_cost_the_same() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn tokens_are_long_random_and_stored_only_as_digests() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
