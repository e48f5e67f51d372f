//! Passwords and console sign-ins on both backends.

use sea_orm::ConnectionTrait;
use sra_domain::Actor;
use sra_store::{now_ms, Store, StoreError, IDLE_TIMEOUT_MS};

const PASSWORD: &str = "correct horse battery";

async fn alice(store: &Store) {
    store.create_user(&Actor::System, "alice", "Alice").await.unwrap();
    store.set_password(&Actor::System, "alice", PASSWORD).await.unwrap();
}

async fn passwords_are_checked_without_revealing_who_exists(store: &Store) {
    alice(store).await;
    let principal = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap();
    assert_eq!((principal.login.as_str(), principal.display_name.as_str()), ("alice", "Alice"));
    let wrong = sra_store::testing::sign_in(store, "alice", "not the password").await.unwrap_err();
    let unknown = sra_store::testing::sign_in(store, "mallory", PASSWORD).await.unwrap_err();
    assert!(matches!(wrong, StoreError::BadCredentials));
    assert_eq!(wrong.to_string(), unknown.to_string(), "same answer for unknown users");
    store.create_user(&Actor::System, "nopass", "No Password").await.unwrap();
    assert!(matches!(sra_store::testing::sign_in(store, "nopass", "").await, Err(StoreError::BadCredentials)));

    let weak = store.set_password(&Actor::System, "alice", "short").await.unwrap_err();
    assert_eq!(weak.to_string(), "the password is too short; use at least 10 characters");
    let err = store.set_password(&Actor::System, "nobody", PASSWORD).await.unwrap_err();
    assert_eq!(err.to_string(), "unknown user \"nobody\"");
}

async fn sign_ins_live_until_signed_out(store: &Store) {
    alice(store).await;
    let principal = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap();
    let token = store.open_console_session(&principal).await.unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), Some(principal.clone()));
    assert_eq!(store.console_session("forged-token").await.unwrap(), None);
    store.close_console_session(&token).await.unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), None, "signed out");
    store.close_console_session(&token).await.unwrap();
}

async fn sign_ins_expire_when_idle_or_old(store: &Store) {
    alice(store).await;
    let principal = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap();
    let idle = store.open_console_session(&principal).await.unwrap();
    let old = store.open_console_session(&principal).await.unwrap();
    let db = store.connection();
    // Age the two sign-ins in place: one idle past the limit, the other past its absolute lifetime.
    db.execute_unprepared(&format!(
        "UPDATE console_sessions SET last_seen_at = {} WHERE created_at = last_seen_at AND token_hash = (SELECT MIN(token_hash) FROM console_sessions)",
        now_ms() - IDLE_TIMEOUT_MS - 1
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "UPDATE console_sessions SET expires_at = {} WHERE token_hash = (SELECT MAX(token_hash) FROM console_sessions)",
        now_ms() - 1
    ))
    .await
    .unwrap();
    assert_eq!(store.console_session(&idle).await.unwrap(), None);
    assert_eq!(store.console_session(&old).await.unwrap(), None);
}

async fn disabling_or_a_new_password_ends_every_sign_in(store: &Store) {
    alice(store).await;
    let principal = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap();
    let token = store.open_console_session(&principal).await.unwrap();
    store.set_disabled(&Actor::User("admin".into()), "alice", true).await.unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), None);
    // The right password of a disabled account gets exactly the wrong password's answer.
    let disabled = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap_err();
    let wrong = sra_store::testing::sign_in(store, "alice", "not the password").await.unwrap_err();
    assert!(matches!(disabled, StoreError::BadCredentials), "{disabled}");
    assert_eq!(disabled.to_string(), wrong.to_string());
    store.set_disabled(&Actor::User("admin".into()), "alice", false).await.unwrap();
    let principal = sra_store::testing::sign_in(store, "alice", PASSWORD).await.unwrap();
    let token = store.open_console_session(&principal).await.unwrap();
    let api_token = store.issue_api_token(&principal, None).await.unwrap().token;
    store.set_password(&Actor::User("alice".into()), "alice", "another long password").await.unwrap();
    assert_eq!(store.console_session(&token).await.unwrap(), None);
    assert!(
        matches!(store.api_token(&api_token).await, Err(StoreError::TokenRevoked)),
        "a new password ends API tokens"
    );
    assert!(sra_store::testing::sign_in(store, "alice", "another long password").await.is_ok());
}

sra_store::on_both_backends!(
    passwords_are_checked_without_revealing_who_exists,
    sign_ins_live_until_signed_out,
    sign_ins_expire_when_idle_or_old,
    disabling_or_a_new_password_ends_every_sign_in,
);

async fn api_keys_and_tokens_live_until_revoked(store: &Store) {
    alice(store).await;
    let key = store.create_api_key(&Actor::System, "alice").await.unwrap();
    assert!(key.access_id.starts_with("p-") && key.access_key.len() == 43);
    let principal = sra_store::testing::sign_in_with_key(store, &key.access_id, &key.access_key).await.unwrap();
    assert_eq!(principal.login, "alice");
    assert!(matches!(
        sra_store::testing::sign_in_with_key(store, &key.access_id, "wrong").await,
        Err(StoreError::BadCredentials)
    ));
    assert!(matches!(
        sra_store::testing::sign_in_with_key(store, "p-nope", &key.access_key).await,
        Err(StoreError::BadCredentials)
    ));

    let issued = store.issue_api_token(&principal, Some(&key.access_id)).await.unwrap();
    assert!(issued.token.starts_with("t-"));
    assert!(issued.expires_at > now_ms() + sra_store::TOKEN_LIFETIME_MS - 60_000);
    assert_eq!(store.api_token(&issued.token).await.unwrap(), principal.clone());
    assert!(matches!(store.api_token("t-forged").await, Err(StoreError::UnknownToken)));

    // Expired tokens are refused.
    let other = store.issue_api_token(&principal, None).await.unwrap();
    store
        .connection()
        .execute_unprepared(&format!("UPDATE api_tokens SET expires_at = {} WHERE access_id IS NULL", now_ms() - 1))
        .await
        .unwrap();
    let expired = store.api_token(&other.token).await.unwrap_err();
    assert!(matches!(expired, StoreError::TokenExpired { .. }), "{expired}");
    assert!(expired.to_string().starts_with("the token expired at 20"), "{expired}");
    store.revoke_api_token(&issued.token).await.unwrap();
    assert!(matches!(store.api_token(&issued.token).await, Err(StoreError::TokenRevoked)));

    // Revoking the key ends its tokens; a disabled user's key and tokens stop working.
    let fresh = store.issue_api_token(&principal, Some(&key.access_id)).await.unwrap();
    store.revoke_api_key(&Actor::System, &key.access_id).await.unwrap();
    assert!(matches!(store.api_token(&fresh.token).await, Err(StoreError::TokenRevoked)));
    assert!(matches!(
        sra_store::testing::sign_in_with_key(store, &key.access_id, &key.access_key).await,
        Err(StoreError::BadCredentials)
    ));
    let err = store.revoke_api_key(&Actor::System, &key.access_id).await.unwrap_err();
    assert!(err.to_string().contains("already revoked"), "{err}");
    let key = store.create_api_key(&Actor::System, "alice").await.unwrap();
    let token = store.issue_api_token(&principal, Some(&key.access_id)).await.unwrap();
    store.set_disabled(&Actor::System, "alice", true).await.unwrap();
    assert!(matches!(store.api_token(&token.token).await, Err(StoreError::TokenRevoked)), "disabling ends API tokens");
    assert!(matches!(
        sra_store::testing::sign_in_with_key(store, &key.access_id, &key.access_key).await,
        Err(StoreError::BadCredentials)
    ));
}

mod keys {
    use super::*;
    sra_store::on_both_backends!(api_keys_and_tokens_live_until_revoked);
}
