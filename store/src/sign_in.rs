//! Signing in: the one path from credentials to a user, for the console's login and the API's `POST /auth`.
//!
//! **Throttling.** Failed attempts are counted in the database, so every replica on one PostgreSQL enforces the same
//! limits, and each attempt is counted *before* its secret is checked, in the same write that checks the limit — so
//! parallel attempts cannot slip through between a check and a count. Two counters apply:
//!
//! - per **account and address**: 5 failures are free; after that the pair waits 30 s, then 1, 2, 4, 8 and at most
//!   15 minutes between attempts. Only that address is slowed down for that account: an attacker elsewhere cannot
//!   lock a user out of their own account.
//! - per **address**: 20 failures in 15 minutes block the address for the rest of the window (spraying many accounts).
//!
//! A success takes its own count back. Attempts refused while blocked are not written one by one: they are counted in
//! memory, added to the counter every few seconds, and reported in one audit entry per counter when its window closes
//! ([`Store::maintain_sign_ins`]).
//!
//! **Bounded hashing.** Each Argon2 check takes ~19 MiB for tens of milliseconds. At most one check per core runs at a
//! time; an attempt that finds them all busy is answered at once with [`StoreError::Busy`], without hashing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sra_domain::{Actor, Millis, MINUTE_MS};
use tokio::sync::Semaphore;

use crate::audit::audit;
use crate::entity::sign_in_throttle as counter;
use crate::identity::{PasswordCheck, Principal};
use crate::{now_ms, Store, StoreError};

/// The longest login or access ID accepted, in characters; longer ones are refused before anything is checked or
/// written.
pub const MAX_ACCOUNT_LEN: usize = 256;
/// The longest password or key accepted, in bytes (Argon2 would hash any length: a megabyte costs real CPU).
pub const MAX_SECRET_LEN: usize = 1024;
/// Failures an account-and-address pair may have before it must wait.
pub const PAIR_FREE_FAILURES: i64 = 5;
/// The first wait after the free failures; it doubles with each further failure, up to [`WINDOW_MS`].
pub const FIRST_DELAY_MS: Millis = 30_000;
/// Failures an address may have in a window before it is blocked for the rest of it.
pub const ADDRESS_LIMIT: i64 = 20;
/// The window failures are counted over.
pub const WINDOW_MS: Millis = 15 * MINUTE_MS;
/// Distinct counters whose refusals are kept in memory between flushes; beyond, refusals are still refused but only
/// counted in the log.
const PENDING_LIMIT: usize = 10_000;

/// Where a sign-in comes from: named in its audit entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The console's login form.
    Console,
    /// `POST /auth`.
    Api,
}

/// What is being presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A login and password.
    Password,
    /// An API key's access ID and key.
    ApiKey,
}

/// One sign-in attempt. `account` is the login or access ID; `address` the client's IP address as the server saw it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub channel: Channel,
    pub credential: Credential,
    pub account: &'a str,
    pub secret: &'a str,
    pub address: &'a str,
}

/// Why an attempt was refused before its secret was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Throttled {
    #[error("too many failed sign-ins for this account from this address; try again in {}", wait(*retry_after_ms))]
    AccountFromAddress { retry_after_ms: Millis },
    #[error("too many failed sign-ins from this address; try again in {}", wait(*retry_after_ms))]
    Address { retry_after_ms: Millis },
}

impl Throttled {
    /// Whole seconds until an attempt may be made again (for `Retry-After`), at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let (Throttled::AccountFromAddress { retry_after_ms } | Throttled::Address { retry_after_ms }) = *self;
        u64::try_from(retry_after_ms).unwrap_or(0).div_ceil(1_000).max(1)
    }
}

fn wait(ms: Millis) -> String {
    let seconds = u64::try_from(ms).unwrap_or(0).div_ceil(1_000).max(1);
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds.div_ceil(60))
    }
}

/// The store's sign-in state: the hashing permits and refusals not yet written.
#[derive(Debug)]
pub(crate) struct SignIns {
    hashing: Arc<Semaphore>,
    refusals: Mutex<HashMap<String, i64>>,
}

impl Default for SignIns {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        SignIns { hashing: Arc::new(Semaphore::new(cores)), refusals: Mutex::new(HashMap::new()) }
    }
}

impl SignIns {
    fn refused(&self, key: &str) {
        let mut pending = self.refusals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if pending.len() >= PENDING_LIMIT && !pending.contains_key(key) {
            tracing::warn!("sign-in refusals beyond {PENDING_LIMIT} counters are not counted until the next flush");
            return;
        }
        *pending.entry(key.to_owned()).or_default() += 1;
    }

    fn take_refusals(&self) -> HashMap<String, i64> {
        std::mem::take(&mut *self.refusals.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// The two counters an attempt is held to.
struct Keys {
    pair: String,
    address: String,
}

impl Keys {
    fn of(account: &str, address: &str) -> Keys {
        Keys { pair: format!("pair:{}\n{address}", account.to_lowercase()), address: format!("address:{address}") }
    }
}

/// Until when a counter refuses attempts, if it does.
fn blocked_until(c: &counter::Model) -> Option<Millis> {
    if c.key.starts_with("pair:") {
        (c.failures >= PAIR_FREE_FAILURES).then(|| {
            let doublings = u32::try_from(c.failures - PAIR_FREE_FAILURES).unwrap_or(u32::MAX).min(16);
            c.last_failure_at + (FIRST_DELAY_MS << doublings).min(WINDOW_MS)
        })
    } else {
        (c.failures >= ADDRESS_LIMIT).then_some(c.window_start + WINDOW_MS)
    }
}

/// Whether a counter's window is over (and it no longer blocks): it starts again from nothing.
fn closed(c: &counter::Model, now: Millis) -> bool {
    now >= c.window_start + WINDOW_MS && blocked_until(c).is_none_or(|until| now >= until)
}

/// The counter that refuses an attempt now, if any (the pair's before the address's).
fn refusal(counters: &[counter::Model], keys: &Keys, now: Millis) -> Option<(String, Throttled)> {
    let find = |key: &str| counters.iter().find(|c| c.key == key).filter(|c| !closed(c, now));
    if let Some(until) = find(&keys.pair).and_then(blocked_until).filter(|until| *until > now) {
        return Some((keys.pair.clone(), Throttled::AccountFromAddress { retry_after_ms: until - now }));
    }
    if let Some(until) = find(&keys.address).and_then(blocked_until).filter(|until| *until > now) {
        return Some((keys.address.clone(), Throttled::Address { retry_after_ms: until - now }));
    }
    None
}

/// Checks a presented account name and secret before anything else happens.
fn check_input(attempt: &Attempt<'_>) -> Result<String, StoreError> {
    let field = match attempt.credential {
        Credential::Password => "login",
        Credential::ApiKey => "access-id",
    };
    let account = attempt.account.trim();
    let invalid = |reason: String| StoreError::Invalid { field: field.to_owned(), reason };
    if account.is_empty() {
        return Err(invalid("is required".into()));
    }
    if account.chars().count() > MAX_ACCOUNT_LEN {
        return Err(invalid(format!("is too long; allowed: up to {MAX_ACCOUNT_LEN} characters")));
    }
    if account.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters".into()));
    }
    if attempt.secret.len() > MAX_SECRET_LEN {
        let field = match attempt.credential {
            Credential::Password => "password",
            Credential::ApiKey => "access-key",
        };
        return Err(StoreError::Invalid {
            field: field.into(),
            reason: format!("is too long; allowed: up to {MAX_SECRET_LEN} bytes"),
        });
    }
    Ok(account.to_owned())
}

impl Store {
    /// Signs a user in with a password or an API key: checks the input, the throttle (counting this attempt in the
    /// same write), then the secret, and audits a failure. Wrong secrets, unknown accounts and disabled users all
    /// get [`StoreError::BadCredentials`], in the same time.
    pub async fn sign_in(&self, attempt: Attempt<'_>) -> Result<Principal, StoreError> {
        let account = check_input(&attempt)?;
        let keys = Keys::of(&account, attempt.address);
        let now = now_ms();
        // Refused while blocked: answered from a read, without taking the writer.
        let counters = self.counters(&self.db, &keys).await?;
        if let Some((key, throttled)) = refusal(&counters, &keys, now) {
            self.sign_ins.refused(&key);
            return Err(throttled.into());
        }
        let permit = match attempt.credential {
            Credential::Password => Some(
                self.sign_ins
                    .hashing
                    .clone()
                    .try_acquire_owned()
                    .map_err(|_| StoreError::Busy { retry_after_secs: 1 })?,
            ),
            Credential::ApiKey => None,
        };
        self.count_attempt(&keys, &account, attempt.address).await?;
        let check = match attempt.credential {
            Credential::Password => self.check_password(&account, attempt.secret, permit).await?,
            Credential::ApiKey => self.check_api_key(&account, attempt.secret).await?,
        };
        match check {
            PasswordCheck::Valid(principal) => {
                self.take_back_attempt(&keys, &principal.login, now).await?;
                Ok(principal)
            }
            failed => {
                let reason = match failed {
                    PasswordCheck::Disabled => "the account is disabled",
                    _ => "wrong login or secret",
                };
                let (action, kind) = match (attempt.channel, attempt.credential) {
                    (Channel::Console, _) => ("console.sign_in_failed", "password"),
                    (Channel::Api, Credential::Password) => ("api.auth_failed", "password"),
                    (Channel::Api, Credential::ApiKey) => ("api.auth_failed", "access_key"),
                };
                let details = json!({"address": attempt.address, "access_type": kind, "reason": reason});
                self.record(&Actor::User(account), action, details).await?;
                Err(StoreError::BadCredentials)
            }
        }
    }

    async fn counters(&self, db: &impl ConnectionTrait, keys: &Keys) -> Result<Vec<counter::Model>, StoreError> {
        Ok(counter::Entity::find()
            .filter(counter::Column::Key.is_in([keys.pair.clone(), keys.address.clone()]))
            .all(db)
            .await?)
    }

    /// Counts an attempt against both counters — unless one refuses it, which this same write transaction decides
    /// (writers take turns), so that parallel attempts are counted one after the other.
    async fn count_attempt(&self, keys: &Keys, account: &str, address: &str) -> Result<(), StoreError> {
        let mut txn = self.begin_write().await?;
        let now = now_ms();
        let mut counters = self.counters(&*txn, keys).await?;
        for c in counters.iter_mut().filter(|c| closed(c, now)) {
            close_window(&mut txn, c, now).await?;
        }
        if let Some((key, throttled)) = refusal(&counters, keys, now) {
            let mut sql = crate::sql::Sql::new(txn.get_database_backend());
            sql.push("UPDATE sign_in_throttle SET refused = refused + 1 WHERE key = ").bind(key);
            txn.execute(sql.build()).await?;
            txn.commit().await?;
            return Err(throttled.into());
        }
        for (key, account) in [(&keys.pair, Some(account)), (&keys.address, None)] {
            match counters.iter().find(|c| &c.key == key) {
                Some(c) => {
                    counter::ActiveModel {
                        key: Set(c.key.clone()),
                        failures: Set(c.failures + 1),
                        last_failure_at: Set(now),
                        ..Default::default()
                    }
                    .update(&*txn)
                    .await?;
                }
                None => {
                    let row = counter::ActiveModel {
                        key: Set(key.clone()),
                        account: Set(account.map(|a| truncate(a, MAX_ACCOUNT_LEN))),
                        address: Set(address.to_owned()),
                        window_start: Set(now),
                        failures: Set(1),
                        last_failure_at: Set(now),
                        refused: Set(0),
                    };
                    counter::Entity::insert(row).exec_without_returning(&*txn).await?;
                }
            }
        }
        txn.commit().await
    }

    /// A successful sign-in: its pair starts over, its address gets this attempt back, and the user's last sign-in is
    /// now (the administration pages show it).
    async fn take_back_attempt(&self, keys: &Keys, login: &str, now: Millis) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let mut seen = crate::sql::Sql::new(txn.get_database_backend());
        seen.push("UPDATE users SET last_sign_in_at = ").bind(now).push(" WHERE login = ").bind(login.to_owned());
        txn.execute(seen.build()).await?;
        counter::Entity::delete_by_id(keys.pair.clone()).exec(&*txn).await?;
        let mut sql = crate::sql::Sql::new(txn.get_database_backend());
        sql.push("UPDATE sign_in_throttle SET failures = failures - 1 WHERE failures > 0 AND key = ")
            .bind(keys.address.clone());
        txn.execute(sql.build()).await?;
        txn.commit().await
    }

    /// Writes the refusals counted in memory to their counters, and closes the counters whose window is over — each
    /// that refused attempts with one audit entry saying how many. The server runs this every few seconds; replicas
    /// may run it at the same time (writers take turns, and a closed counter is gone).
    pub async fn maintain_sign_ins(&self) -> Result<(), StoreError> {
        let pending = self.sign_ins.take_refusals();
        let now = now_ms();
        let due = counter::Entity::find()
            .filter(counter::Column::WindowStart.lte(now - WINDOW_MS))
            .all(&self.db)
            .await?
            .into_iter()
            .any(|c| closed(&c, now));
        if pending.is_empty() && !due {
            return Ok(());
        }
        let mut txn = self.begin_write().await?;
        for (key, n) in pending {
            let mut sql = crate::sql::Sql::new(txn.get_database_backend());
            sql.push("UPDATE sign_in_throttle SET refused = refused + ").bind(n).push(" WHERE key = ").bind(key);
            txn.execute(sql.build()).await?;
        }
        let candidates =
            counter::Entity::find().filter(counter::Column::WindowStart.lte(now - WINDOW_MS)).all(&*txn).await?;
        for c in candidates.into_iter().filter(|c| closed(c, now)) {
            report_refusals(&mut txn, &c, now).await?;
            counter::Entity::delete_by_id(c.key).exec(&*txn).await?;
        }
        txn.commit().await
    }
}

/// Starts a counter's window over, reporting what it refused in the window that ended.
async fn close_window(txn: &mut crate::audit::WriteTxn, c: &mut counter::Model, now: Millis) -> Result<(), StoreError> {
    report_refusals(txn, c, now).await?;
    counter::ActiveModel {
        key: Set(c.key.clone()),
        window_start: Set(now),
        failures: Set(0),
        refused: Set(0),
        ..Default::default()
    }
    .update(&**txn)
    .await?;
    c.window_start = now;
    c.failures = 0;
    c.refused = 0;
    Ok(())
}

/// One audit entry for all the attempts a counter refused in its window.
async fn report_refusals(txn: &mut crate::audit::WriteTxn, c: &counter::Model, now: Millis) -> Result<(), StoreError> {
    if c.refused == 0 {
        return Ok(());
    }
    let actor = c.account.clone().map_or(Actor::System, Actor::User);
    let details = json!({
        "address": c.address,
        "refused": c.refused,
        "failures": c.failures,
        "window_start": sra_domain::format_rfc3339(c.window_start),
        "window_end": sra_domain::format_rfc3339(now),
    });
    audit(txn, now, &actor, "sign_in.throttled", None, details).await
}

/// `text` cut to at most `max` characters.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(failures: i64, last: Millis) -> counter::Model {
        counter::Model {
            key: "pair:alice\n10.0.0.1".into(),
            account: Some("alice".into()),
            address: "10.0.0.1".into(),
            window_start: 0,
            failures,
            last_failure_at: last,
            refused: 0,
        }
    }

    #[test]
    fn a_pair_waits_longer_after_each_failure_beyond_the_free_ones() {
        assert_eq!(blocked_until(&pair(4, 1_000)), None);
        assert_eq!(blocked_until(&pair(5, 1_000)), Some(1_000 + 30_000));
        assert_eq!(blocked_until(&pair(6, 1_000)), Some(1_000 + 60_000));
        assert_eq!(blocked_until(&pair(8, 1_000)), Some(1_000 + 240_000));
        assert_eq!(blocked_until(&pair(10, 1_000)), Some(1_000 + WINDOW_MS), "at most the window");
        assert_eq!(blocked_until(&pair(i64::MAX, 1_000)), Some(1_000 + WINDOW_MS));
    }

    #[test]
    fn an_address_is_blocked_for_the_rest_of_its_window() {
        let c = counter::Model { key: "address:10.0.0.1".into(), account: None, failures: ADDRESS_LIMIT, ..pair(0, 0) };
        assert_eq!(blocked_until(&c), Some(WINDOW_MS));
        assert!(!closed(&c, WINDOW_MS - 1));
        assert!(closed(&c, WINDOW_MS));
    }

    #[test]
    fn the_pair_refuses_before_the_address_and_says_for_how_long() {
        let keys = Keys::of("Alice", "10.0.0.1");
        assert_eq!(keys.pair, "pair:alice\n10.0.0.1", "accounts are counted case-insensitively");
        let counters = [pair(5, 1_000)];
        let (key, refused) = refusal(&counters, &keys, 2_000).unwrap();
        assert_eq!(key, keys.pair);
        assert_eq!(refused, Throttled::AccountFromAddress { retry_after_ms: 29_000 });
        assert_eq!(refused.retry_after_secs(), 29);
        assert_eq!(
            refused.to_string(),
            "too many failed sign-ins for this account from this address; try again in 29 s"
        );
        assert_eq!(refusal(&counters, &keys, 31_000), None);
        assert_eq!(refusal(&counters, &Keys::of("alice", "10.0.0.2"), 2_000), None, "another address is not slowed");
        assert_eq!(
            Throttled::Address { retry_after_ms: 14 * MINUTE_MS }.to_string(),
            "too many failed sign-ins from this address; try again in 14 min"
        );
    }

    #[test]
    fn oversized_or_control_character_accounts_are_refused_before_anything_else() {
        let attempt = |account: &'static str, secret: &'static str| Attempt {
            channel: Channel::Api,
            credential: Credential::ApiKey,
            account,
            secret,
            address: "a",
        };
        let long: &'static str = Box::leak("x".repeat(MAX_ACCOUNT_LEN + 1).into_boxed_str());
        let err = check_input(&attempt(long, "k")).unwrap_err();
        assert_eq!(err.to_string(), "\"access-id\": is too long; allowed: up to 256 characters");
        let err = check_input(&attempt("a\u{0}b", "k")).unwrap_err();
        assert_eq!(err.to_string(), "\"access-id\": must not contain control characters");
        let secret: &'static str = Box::leak("k".repeat(MAX_SECRET_LEN + 1).into_boxed_str());
        assert!(check_input(&attempt("p-1", secret)).is_err());
        assert_eq!(check_input(&attempt("  p-1 ", "k")).unwrap(), "p-1");
        assert_eq!(truncate("héllo", 2), "hé");
    }
}
