//! Administration on both backends, as the console's pages and the command line use it: a role's SRA rule changed
//! here changes what its holders see at their next listing; names are checked; duplicates, unknown names and changes
//! that would leave no administrator are refused, with nothing written; every change is audited.

use sra_domain::{Actor, RoleSpec, SessionQuery, SraRule};
use sra_store::testing::{sign_in, started, Cast};
use sra_store::{now_ms, AuditQuery, ErrorKind, Store, StoreError};

const PASSWORD: &str = "administration-1";

fn admin() -> Actor {
    Actor::User("admin".into())
}

/// The users whose sessions `login` sees, sorted.
async fn seen_by(store: &Store, login: &str) -> Vec<String> {
    let caller = store.caller(login).await.unwrap();
    let page = store.list_sessions(&caller, &SessionQuery::recent()).await.unwrap();
    let mut users: Vec<String> = page.sessions.into_iter().map(|s| s.user).collect();
    users.sort();
    users
}

async fn actions(store: &Store) -> Vec<String> {
    let query = AuditQuery { page_size: 100, ..Default::default() };
    let page = store.list_audit(&sra_domain::Caller::admin("admin"), &query).await.unwrap();
    page.entries.into_iter().rev().map(|e| e.action).collect()
}

async fn a_roles_rule_decides_what_its_holders_see_at_their_next_listing(store: &Store) {
    Cast::usual(PASSWORD, "gw-b").create(store).await;
    let t0 = now_ms() - 60_000;
    store
        .apply_updates(&Actor::System, &[started("a-1", t0, "alice", "gw-a"), started("b-1", t0, "bob", "gw-b")])
        .await
        .unwrap();
    assert_eq!(seen_by(store, "olivia").await, ["bob"]);

    let rule = |rule, gateways: &[&str]| RoleSpec {
        name: "own".into(),
        rule,
        gateways: gateways.iter().map(|g| (*g).to_owned()).collect(),
    };
    store.set_role_rule(&admin(), &rule(SraRule::Own, &["gw-a"])).await.unwrap();
    assert_eq!(seen_by(store, "olivia").await, ["alice"], "Own now grants gw-a instead of gw-b");
    store.set_role_rule(&admin(), &rule(SraRule::All, &[])).await.unwrap();
    assert_eq!(seen_by(store, "olivia").await, ["alice", "bob"]);
    store.set_role_rule(&admin(), &rule(SraRule::None, &[])).await.unwrap();
    assert_eq!(seen_by(store, "olivia").await, Vec::<String>::new());
    let roles = store.list_roles().await.unwrap();
    assert_eq!(roles.iter().find(|r| r.name == "own"), Some(&rule(SraRule::None, &[])));

    // Refused with nothing written: gateways on a rule that grants none, an unknown gateway, an unknown role.
    let refused = [
        store.set_role_rule(&admin(), &rule(SraRule::All, &["gw-a"])).await.unwrap_err(),
        store.set_role_rule(&admin(), &rule(SraRule::Own, &["gw-a", "gw-nope"])).await.unwrap_err(),
        store
            .set_role_rule(&admin(), &RoleSpec { name: "nope".into(), rule: SraRule::All, gateways: vec![] })
            .await
            .unwrap_err(),
    ];
    for e in &refused {
        assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
    }
    assert!(refused[1].to_string().contains("gw-nope"), "{}", refused[1]);
    assert_eq!(store.list_roles().await.unwrap().iter().find(|r| r.name == "own"), Some(&rule(SraRule::None, &[])));

    // Taking the role away: olivia is back to Self.
    store.set_role_rule(&admin(), &rule(SraRule::Own, &["gw-b"])).await.unwrap();
    store.unassign_role(&admin(), "olivia", "own").await.unwrap();
    assert_eq!(seen_by(store, "olivia").await, Vec::<String>::new());
    let again = store.unassign_role(&admin(), "olivia", "own").await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::BadInput, "{again}");

    let audited = actions(store).await;
    let changes: Vec<&str> =
        audited.iter().map(String::as_str).filter(|a| *a == "role.rule_set" || *a == "role.unassigned").collect();
    assert_eq!(changes, ["role.rule_set", "role.rule_set", "role.rule_set", "role.rule_set", "role.unassigned"]);
}

async fn the_last_administrator_cannot_be_taken_away(store: &Store) {
    Cast::usual(PASSWORD, "gw-b").create(store).await;
    let all = RoleSpec { name: "admins".into(), rule: SraRule::All, gateways: vec![] };
    let none = RoleSpec { rule: SraRule::None, ..all.clone() };
    let before = actions(store).await.len();
    for refused in [
        store.set_role_rule(&admin(), &none).await.unwrap_err(),
        store.unassign_role(&admin(), "admin", "admins").await.unwrap_err(),
        store.set_disabled(&Actor::User("olivia".into()), "admin", true).await.unwrap_err(),
    ] {
        assert!(matches!(refused, StoreError::LastAdministrator), "{refused}");
        assert_eq!(refused.kind(), ErrorKind::Conflict);
    }
    // Nor can an administrator disable themselves.
    let me = store.set_disabled(&admin(), "admin", true).await.unwrap_err();
    assert!(me.to_string().contains("is you"), "{me}");
    assert_eq!(actions(store).await.len(), before, "nothing refused was audited");
    assert_eq!(store.caller("admin").await.unwrap(), sra_domain::Caller::admin("admin"));

    // With a second administrator the first may go.
    store.assign_role(&admin(), "olivia", "admins").await.unwrap();
    store.set_disabled(&Actor::User("olivia".into()), "admin", true).await.unwrap();
}

async fn names_are_checked_and_duplicates_refused(store: &Store) {
    Cast::usual(PASSWORD, "gw-b").create(store).await;
    for (login, name) in [("", "x"), ("-rf", "x"), ("a b", "x"), ("ok", " "), ("ok", "two\nlines")] {
        let e = store.create_user(&admin(), login, name).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInput, "{login:?} {name:?}: {e}");
    }
    let long = "g".repeat(65);
    let e = store.register_gateway(&admin(), &long, "x").await.unwrap_err();
    assert!(e.to_string().contains("65 characters"), "{e}");
    let duplicates = [
        store.create_user(&admin(), "alice", "Alice Again").await.unwrap_err(),
        store
            .create_role(&admin(), &RoleSpec { name: "own".into(), rule: SraRule::All, gateways: vec![] })
            .await
            .unwrap_err(),
        store.assign_role(&admin(), "olivia", "own").await.unwrap_err(),
    ];
    for e in duplicates {
        assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
        assert!(e.to_string().contains("already exists"), "{e}");
    }
    let users = store.list_users().await.unwrap();
    assert_eq!(users.iter().filter(|u| u.login == "alice").count(), 1);
}

async fn sign_ins_heartbeats_and_keys_are_listed(store: &Store) {
    Cast::usual(PASSWORD, "gw-b").create(store).await;
    let never = store.list_users().await.unwrap();
    assert!(never.iter().all(|u| u.last_sign_in_at.is_none()));
    let before = now_ms();
    sign_in(store, "alice", PASSWORD).await.unwrap();
    let users = store.list_users().await.unwrap();
    let alice = users.iter().find(|u| u.login == "alice").unwrap();
    assert!(alice.last_sign_in_at.is_some_and(|at| at >= before), "{alice:?}");
    assert!(users.iter().find(|u| u.login == "olivia").unwrap().last_sign_in_at.is_none());

    let gateways = store.list_gateway_details().await.unwrap();
    assert!(gateways.iter().all(|g| !g.has_key && g.last_heartbeat_at.is_none()), "{gateways:?}");
    let key = store.issue_gateway_key(&admin(), "gw-a").await.unwrap();
    let gw = store.authenticate_gateway(&key).await.unwrap();
    store.heartbeat(&gw, &[]).await.unwrap();
    let gateways = store.list_gateway_details().await.unwrap();
    let a = gateways.iter().find(|g| g.name == "gw-a").unwrap();
    assert!(a.has_key && a.last_heartbeat_at.is_some_and(|at| at >= before), "{a:?}");
    assert!(gateways.iter().find(|g| g.name == "gw-b").unwrap().last_heartbeat_at.is_none());

    let created = store.create_api_key(&admin(), "olivia").await.unwrap();
    store.revoke_api_key(&admin(), &created.access_id).await.unwrap();
    let keys = store.list_api_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].access_id.as_str(), keys[0].login.as_str()), (created.access_id.as_str(), "olivia"));
    assert!(keys[0].revoked_at.is_some());
}

sra_store::on_both_backends!(
    a_roles_rule_decides_what_its_holders_see_at_their_next_listing,
    the_last_administrator_cannot_be_taken_away,
    names_are_checked_and_duplicates_refused,
    sign_ins_heartbeats_and_keys_are_listed,
);
