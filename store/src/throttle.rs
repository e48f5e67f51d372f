//! Brute-force protection: failed sign-ins counted per account and per client address.
//!
//! Counts live in the process: each replica limits what reaches it, which bounds guessing to (replicas × limit) per
//! window — enough to make password guessing hopeless, without a write to the database per failed attempt.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account in a window …
pub const ACCOUNT_LIMIT: usize = 5;
/// … and per client address (which may sit behind a shared proxy, hence higher).
pub const ADDRESS_LIMIT: usize = 20;
/// The window failures are counted over.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Why an attempt is refused before its password is even checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Throttled {
    #[error("too many failed sign-ins for this account; try again in {minutes} min")]
    Account { minutes: u64 },
    #[error("too many failed sign-ins from this address; try again in {minutes} min")]
    Address { minutes: u64 },
}

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl std::fmt::Debug for SignInThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignInThrottle")
    }
}

impl SignInThrottle {
    /// Refuses the attempt if the account or the address has used up its failures.
    pub fn check(&self, account: &str, address: &str, now: Instant) -> Result<(), Throttled> {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let wait = |times: Option<&mut VecDeque<Instant>>, limit: usize| -> Option<u64> {
            let times = times?;
            while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                times.pop_front();
            }
            (times.len() >= limit).then(|| {
                let oldest = *times.front().expect("at least `limit` entries");
                (WINDOW - now.duration_since(oldest)).as_secs().div_ceil(60).max(1)
            })
        };
        if let Some(minutes) = wait(failures.get_mut(&account_key(account)), ACCOUNT_LIMIT) {
            return Err(Throttled::Account { minutes });
        }
        if let Some(minutes) = wait(failures.get_mut(&address_key(address)), ADDRESS_LIMIT) {
            return Err(Throttled::Address { minutes });
        }
        Ok(())
    }

    pub fn failed(&self, account: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() > 100_000 {
            // Bounded memory under a spray of random logins: forget windows that have passed.
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in [account_key(account), address_key(address)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&account_key(account));
    }
}

fn account_key(account: &str) -> String {
    format!("account:{}", account.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_its_failures_and_unlocks_after_the_window() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for i in 0..ACCOUNT_LIMIT {
            assert_eq!(throttle.check("alice", "10.0.0.1", t0), Ok(()), "attempt {i}");
            throttle.failed("alice", "10.0.0.1", t0);
        }
        assert_eq!(throttle.check("alice", "10.0.0.2", t0), Err(Throttled::Account { minutes: 15 }));
        assert_eq!(
            throttle.check("ALICE", "10.0.0.2", t0),
            Err(Throttled::Account { minutes: 15 }),
            "case-insensitive"
        );
        assert_eq!(throttle.check("bob", "10.0.0.2", t0), Ok(()), "other accounts unaffected");
        assert_eq!(throttle.check("alice", "10.0.0.1", t0 + WINDOW), Ok(()));
        assert_eq!(
            Throttled::Account { minutes: 15 }.to_string(),
            "too many failed sign-ins for this account; try again in 15 min"
        );
    }

    #[test]
    fn an_address_spraying_many_accounts_is_locked() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for i in 0..ADDRESS_LIMIT {
            throttle.failed(&format!("user{i}"), "10.9.9.9", t0);
        }
        assert_eq!(throttle.check("new-user", "10.9.9.9", t0), Err(Throttled::Address { minutes: 15 }));
        assert_eq!(throttle.check("new-user", "10.9.9.8", t0), Ok(()));
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = SignInThrottle::default();
        let t0 = Instant::now();
        for _ in 0..ACCOUNT_LIMIT - 1 {
            throttle.failed("carol", "a", t0);
        }
        throttle.succeeded("carol");
        throttle.failed("carol", "a", t0);
        assert_eq!(throttle.check("carol", "a", t0), Ok(()));
    }
}
