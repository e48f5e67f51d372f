//! The sign-in throttle on both backends: parallel attempts counted one by one, no lockout from other addresses, a
//! hard block per address, and refusals audited once per window.

use sea_orm::{ConnectionTrait, Statement};
use sra_domain::Actor;
use sra_store::{
    Attempt, Channel, Credential, Store, StoreError, Throttled, ADDRESS_LIMIT, PAIR_FREE_FAILURES, THROTTLE_WINDOW_MS,
};

const PASSWORD: &str = "correct horse battery";

async fn users(store: &Store, logins: &[&str]) {
    for login in logins {
        store.create_user(&Actor::System, login, login).await.unwrap();
        store.set_password(&Actor::System, login, PASSWORD).await.unwrap();
    }
}

async fn try_password(store: &Store, login: &str, password: &str, address: &str) -> Result<String, StoreError> {
    let attempt = Attempt {
        channel: Channel::Console,
        credential: Credential::Password,
        account: login,
        secret: password,
        address,
    };
    store.sign_in(attempt).await.map(|p| p.login)
}

/// `n` attempts at once; attempts answered "busy" (every hashing slot taken) are sent again until each is either
/// checked or refused, so the counts below do not depend on how many cores the machine has.
async fn parallel(store: &Store, n: usize, login: &str, password: &str, address: &str) -> (usize, usize) {
    let (mut checked, mut throttled) = (0, 0);
    let mut remaining = n;
    while remaining > 0 {
        let tasks: Vec<_> = (0..remaining)
            .map(|_| {
                let (store, login, password, address) =
                    (store.clone(), login.to_owned(), password.to_owned(), address.to_owned());
                tokio::spawn(async move { try_password(&store, &login, &password, &address).await })
            })
            .collect();
        remaining = 0;
        for task in tasks {
            match task.await.unwrap() {
                Err(StoreError::BadCredentials) => checked += 1,
                Err(StoreError::Throttled(_)) => throttled += 1,
                Err(StoreError::Busy { retry_after_secs }) => {
                    assert_eq!(retry_after_secs, 1);
                    remaining += 1;
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }
    (checked, throttled)
}

async fn audit_actions(store: &Store, action: &str) -> Vec<serde_json::Value> {
    let db = store.connection();
    let sql = format!("SELECT details FROM audit_log WHERE action = '{action}' ORDER BY id");
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| serde_json::from_str(&r.try_get::<String>("", "details").unwrap()).unwrap()).collect()
}

async fn parallel_attempts_are_counted_one_by_one_and_only_that_address_waits(store: &Store) {
    users(store, &["alice"]).await;
    let (checked, throttled) = parallel(store, 40, "alice", "wrong guess 1", "10.0.0.66").await;
    assert_eq!((checked, throttled), (PAIR_FREE_FAILURES as usize, 40 - PAIR_FREE_FAILURES as usize));
    assert_eq!(audit_actions(store, "console.sign_in_failed").await.len(), PAIR_FREE_FAILURES as usize);

    // The attacker's address waits, even with the right password, and is told for how long…
    match try_password(store, "alice", PASSWORD, "10.0.0.66").await {
        Err(StoreError::Throttled(t @ Throttled::AccountFromAddress { .. })) => {
            assert!((1..=30).contains(&t.retry_after_secs()), "{t}");
        }
        other => panic!("expected the pair to wait, got {other:?}"),
    }
    // … while alice, from her own address, signs in as usual.
    assert_eq!(try_password(store, "alice", PASSWORD, "10.0.0.7").await.unwrap(), "alice");
}

async fn an_address_spraying_accounts_is_blocked_for_the_window(store: &Store) {
    users(store, &["alice"]).await;
    for i in 0..ADDRESS_LIMIT {
        let err = try_password(store, &format!("user{i}"), "guess guess", "10.0.0.99").await.unwrap_err();
        assert!(matches!(err, StoreError::BadCredentials), "attempt {i}: {err}");
    }
    let err = try_password(store, "alice", PASSWORD, "10.0.0.99").await.unwrap_err();
    match err {
        StoreError::Throttled(t @ Throttled::Address { .. }) => {
            assert!(t.retry_after_secs() > 14 * 60 && t.retry_after_secs() <= 15 * 60, "{t}");
            assert!(t.to_string().starts_with("too many failed sign-ins from this address; try again in"), "{t}");
        }
        other => panic!("expected the address to be blocked, got {other:?}"),
    }
    assert_eq!(try_password(store, "alice", PASSWORD, "10.0.0.100").await.unwrap(), "alice");
}

async fn a_success_takes_its_attempt_back(store: &Store) {
    users(store, &["alice"]).await;
    // An office behind one address: many good sign-ins and a few typos never add up to a block.
    for round in 0..ADDRESS_LIMIT + 10 {
        assert_eq!(try_password(store, "alice", PASSWORD, "10.1.1.1").await.unwrap(), "alice", "round {round}");
        if round % 10 == 0 {
            assert!(matches!(
                try_password(store, "alice", "typo typo", "10.1.1.1").await,
                Err(StoreError::BadCredentials)
            ));
        }
    }
}

async fn refusals_are_audited_once_per_counter_and_window(store: &Store) {
    users(store, &["alice"]).await;
    let (checked, throttled) = parallel(store, 25, "alice", "wrong guess 2", "10.0.0.5").await;
    assert_eq!(checked + throttled, 25);
    // Refused attempts are counted in memory, then added to the shared counter: no audit entry per refusal.
    store.maintain_sign_ins().await.unwrap();
    let db = store.connection();
    let counters = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            db.query_all(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .iter()
                .map(|r| (r.try_get::<String>("", "key").unwrap(), r.try_get::<i64>("", "refused").unwrap()))
                .collect::<Vec<_>>()
        }
    };
    let pair = counters("SELECT key, refused FROM sign_in_throttle WHERE key LIKE 'pair:%'").await;
    assert_eq!(pair, [("pair:alice\n10.0.0.5".to_owned(), throttled as i64)]);
    assert!(audit_actions(store, "sign_in.throttled").await.is_empty(), "reported when the window closes");

    // The window passes: one entry per counter that refused, with the count; the counters are gone.
    let window = THROTTLE_WINDOW_MS;
    db.execute_unprepared(&format!(
        "UPDATE sign_in_throttle SET window_start = window_start - {window} - 1, last_failure_at = last_failure_at - {window} - 1"
    ))
    .await
    .unwrap();
    store.maintain_sign_ins().await.unwrap();
    let reports = audit_actions(store, "sign_in.throttled").await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["refused"], throttled as i64);
    assert_eq!(reports[0]["address"], "10.0.0.5");
    assert!(counters("SELECT key, refused FROM sign_in_throttle").await.is_empty());
    // And the pair may try again.
    assert_eq!(try_password(store, "alice", PASSWORD, "10.0.0.5").await.unwrap(), "alice");
}

async fn oversized_logins_are_refused_before_anything_is_written(store: &Store) {
    users(store, &["alice"]).await;
    let before = audit_actions(store, "console.sign_in_failed").await.len();
    let long = "x".repeat(1_500_000);
    let err = try_password(store, &long, "whatever whatever", "10.0.0.8").await.unwrap_err();
    assert_eq!(err.to_string(), "\"login\": is too long; allowed: up to 256 characters");
    assert_eq!(err.kind(), sra_store::ErrorKind::BadInput);
    let err = try_password(store, "alice", &long, "10.0.0.8").await.unwrap_err();
    assert_eq!(err.kind(), sra_store::ErrorKind::BadInput);
    assert_eq!(audit_actions(store, "console.sign_in_failed").await.len(), before);
    let db = store.connection();
    let rows = db
        .query_all(Statement::from_string(db.get_database_backend(), "SELECT key FROM sign_in_throttle".to_owned()))
        .await
        .unwrap();
    assert!(rows.is_empty());
}

sra_store::on_both_backends!(
    parallel_attempts_are_counted_one_by_one_and_only_that_address_waits,
    an_address_spraying_accounts_is_blocked_for_the_window,
    a_success_takes_its_attempt_back,
    refusals_are_audited_once_per_counter_and_window,
    oversized_logins_are_refused_before_anything_is_written,
);
