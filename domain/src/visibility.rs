//! Who may see which sessions.
//!
//! - **Self**: every user sees the sessions they started; no grant needed.
//! - **Own**: an access role whose SRA rule names gateways lets its holders see every session of those gateways.
//! - **All**: a role whose SRA rule is "all" sees every session.
//!
//! A caller's visibility is the union over their roles, plus Self. The store enforces this inside its SQL; the plain
//! function [`Caller::may_see`] states the same rule for tests to check the SQL against.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What a caller's roles grant beyond their own sessions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Every session (some role has the rule "all").
    All,
    /// The sessions of these gateways (cluster names; empty: none beyond Self).
    Gateways(BTreeSet<String>),
}

/// The user a query runs for, with their visibility resolved from their roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Caller {
    /// The user identifier sessions carry (Self visibility).
    pub login: String,
    pub scope: Scope,
}

impl Caller {
    /// A caller who sees everything.
    pub fn admin(login: impl Into<String>) -> Caller {
        Caller { login: login.into(), scope: Scope::All }
    }

    /// A caller with no grants: their own sessions only.
    pub fn self_only(login: impl Into<String>) -> Caller {
        Caller { login: login.into(), scope: Scope::Gateways(BTreeSet::new()) }
    }

    /// The rule for terminating a session on `gateway`: All, or Own on that gateway. Seeing one's own session (Self)
    /// is not enough.
    pub fn may_terminate(&self, gateway: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Gateways(granted) => granted.contains(gateway),
        }
    }

    /// The rule: may this caller see a session of `user` on `gateway`?
    pub fn may_see(&self, user: &str, gateway: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Gateways(gateways) => user == self.login || gateways.contains(gateway),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_own_and_all() {
        let own = Caller { login: "olivia".into(), scope: Scope::Gateways(["gw-a".to_owned()].into()) };
        assert!(own.may_see("olivia", "gw-z"), "Self needs no grant");
        assert!(own.may_see("bob", "gw-a"), "Own sees every session of its gateways");
        assert!(!own.may_see("bob", "gw-z"));
        assert!(Caller::admin("root").may_see("anyone", "anywhere"));
        let alice = Caller::self_only("alice");
        assert!(alice.may_see("alice", "gw-a") && !alice.may_see("bob", "gw-a"));
        assert!(own.may_terminate("gw-a") && !own.may_terminate("gw-z"));
        assert!(!alice.may_terminate("gw-a"), "seeing one's own session is not enough to terminate it");
        assert!(Caller::admin("root").may_terminate("anywhere"));
    }
}
