//! API keys and the bearer tokens `POST /auth` exchanges them for.
//!
//! An API key is an access ID (`p-…`, public) and a key (256 random bits, shown once). A token is 256 random bits
//! prefixed `t-` (as Akeyless tokens are), valid for [`TOKEN_LIFETIME_MS`] unless revoked. Keys and tokens are stored
//! as SHA-256 digests only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set};
use serde_json::json;
use sra_domain::{Actor, Millis, HOUR_MS};
use subtle::ConstantTimeEq;

use crate::audit::audit;
use crate::entity::{api_key, api_token};
use crate::identity::{digest, PasswordCheck, Principal, UserRow};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// How long a bearer token is valid.
pub const TOKEN_LIFETIME_MS: Millis = HOUR_MS;

/// A freshly created API key: the key itself is never stored and cannot be shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub access_id: String,
    pub access_key: String,
}

/// A bearer token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: Millis,
}

/// A bearer token's user, and whether the token is still good.
#[derive(Debug, FromQueryResult)]
struct TokenRow {
    id: i64,
    login: String,
    display_name: String,
    disabled: bool,
    expires_at: Millis,
    revoked_at: Option<Millis>,
}

impl Store {
    /// Creates an API key for a user.
    pub async fn create_api_key(&self, actor: &Actor, login: &str) -> Result<NewApiKey, StoreError> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let access_id: String = "p-"
            .chars()
            .chain((0..12).map(|_| char::from(ALPHABET[rand::random::<usize>() % ALPHABET.len()])))
            .collect();
        let access_key = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let mut txn = self.begin_write().await?;
        let user_id = crate::identity::user_id(&*txn, login).await?;
        let key = api_key::ActiveModel {
            access_id: Set(access_id.clone()),
            key_hash: Set(digest(&access_key)),
            user_id: Set(user_id),
            created_at: Set(now_ms()),
            revoked_at: Set(None),
        };
        api_key::Entity::insert(key).exec_without_returning(&*txn).await?;
        audit(&mut txn, now_ms(), actor, "api_key.created", None, json!({"login": login, "access_id": access_id}))
            .await?;
        txn.commit().await?;
        Ok(NewApiKey { access_id, access_key })
    }

    /// Revokes an API key and every token issued for it.
    pub async fn revoke_api_key(&self, actor: &Actor, access_id: &str) -> Result<(), StoreError> {
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        let revoked = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now))
            .filter(api_key::Column::AccessId.eq(access_id))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&*txn)
            .await?;
        if revoked.rows_affected == 0 {
            return Err(StoreError::UnknownApiKey(access_id.to_owned()));
        }
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now))
            .filter(api_token::Column::AccessId.eq(access_id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&*txn)
            .await?;
        audit(&mut txn, now, actor, "api_key.revoked", None, json!({"access_id": access_id})).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Checks an API key (see [`Store::sign_in`], the one way in): right key, not revoked, user enabled.
    pub(crate) async fn check_api_key(&self, access_id: &str, access_key: &str) -> Result<PasswordCheck, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(
            "SELECT u.id, u.login, u.display_name, u.disabled, k.key_hash AS secret_hash \
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.revoked_at IS NULL AND k.access_id = ",
        )
        .bind(access_id);
        let Some(row) = UserRow::find_by_statement(sql.build()).one(&self.db).await? else {
            return Ok(PasswordCheck::Wrong);
        };
        let stored = row.secret_hash.as_deref().unwrap_or_default();
        if !bool::from(stored.as_bytes().ct_eq(digest(access_key).as_bytes())) {
            return Ok(PasswordCheck::Wrong);
        }
        if row.disabled {
            return Ok(PasswordCheck::Disabled);
        }
        Ok(PasswordCheck::Valid(row.principal()))
    }

    /// Issues a bearer token for a user who has just authenticated (with an API key, if `access_id` is given).
    pub async fn issue_api_token(
        &self,
        principal: &Principal,
        access_id: Option<&str>,
    ) -> Result<IssuedToken, StoreError> {
        let token = format!("t-{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
        let now = now_ms();
        let expires_at = now + TOKEN_LIFETIME_MS;
        let mut txn = self.begin_write().await?;
        let issued = api_token::ActiveModel {
            token_hash: Set(digest(&token)),
            user_id: Set(principal.user_id),
            access_id: Set(access_id.map(str::to_owned)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            revoked_at: Set(None),
        };
        api_token::Entity::insert(issued).exec_without_returning(&*txn).await?;
        let details = json!({"access_id": access_id});
        audit(&mut txn, now, &Actor::User(principal.login.clone()), "api.token_issued", None, details).await?;
        txn.commit().await?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The user a bearer token belongs to, if it is live and the user enabled.
    pub async fn api_token(&self, token: &str) -> Result<Principal, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(
            "SELECT u.id, u.login, u.display_name, u.disabled, t.expires_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ",
        )
        .bind(digest(token));
        let Some(row) = TokenRow::find_by_statement(sql.build()).one(&self.db).await? else {
            return Err(StoreError::UnknownToken);
        };
        if row.revoked_at.is_some() {
            return Err(StoreError::TokenRevoked);
        }
        if row.expires_at <= now_ms() {
            return Err(StoreError::TokenExpired { at: sra_domain::format_rfc3339(row.expires_at) });
        }
        if row.disabled {
            return Err(StoreError::AccountDisabled);
        }
        Ok(Principal { user_id: row.id, login: row.login, display_name: row.display_name })
    }

    /// Revokes one bearer token.
    pub async fn revoke_api_token(&self, token: &str) -> Result<(), StoreError> {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now_ms()))
            .filter(api_token::Column::TokenHash.eq(digest(token)))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
