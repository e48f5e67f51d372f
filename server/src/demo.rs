//! Demo mode: a realistic store to look at, and a little traffic so the 20-second refresh has something to show.
//!
//! Gateways, users and roles are set up as an administrator would. Sessions come from four simulated gateways that
//! report through this server's own ingest API with their own keys (`sra-simulator`), exactly as real gateways do:
//! a 30-day history first (the server reports ready once it is in), then live changes and heartbeats.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sra_domain::{Actor, SraRule};
use sra_simulator::{GatewayClient, Pace, Traffic};
use sra_store::{RoleSpec, Store};

/// The demo's gateways: (cluster name, display name).
pub const GATEWAYS: [(&str, &str); 4] = [
    ("gw-us-east-1", "US East (N. Virginia)"),
    ("gw-eu-west-1", "EU West (Ireland)"),
    ("gw-ap-south-1", "AP South (Mumbai)"),
    ("gw-onprem-dc2", "On-prem DC2"),
];

/// The demo's console users, with the visibility each one's roles give.
pub const USERS: [(&str, &str, &str); 6] = [
    ("admin", "Ada Admin", "All: every session"),
    ("olivia", "Olivia Ops", "Own: gw-us-east-1, gw-eu-west-1"),
    ("oscar", "Oscar Onprem", "Own: gw-onprem-dc2"),
    ("alice", "Alice Developer", "Self: her own sessions"),
    ("bob", "Bob DBA", "Self: his own sessions"),
    ("carol", "Carol Analyst", "Self: her own sessions"),
];

/// A demo user's password: public by design, printed at start. Never use demo mode with real data.
pub fn password(login: &str) -> String {
    format!("{login}-sra-demo")
}

/// Session users who are not console users (service accounts, people from other teams).
const OTHER_USERS: [&str; 5] = ["dave", "erin", "svc-deploy", "frank", "grace"];

/// How many sessions the demo's gateways report over the last 30 days.
pub const SEEDED_SESSIONS: usize = 2_000;
/// How many of them are still active (connecting or connected).
const SEEDED_ACTIVE: usize = 30;

/// What the demo's gateways need to report: their keys, and whether the history is still to be reported.
pub struct Prepared {
    keys: Vec<(&'static str, String)>,
    fresh: bool,
}

/// Sets up the demo's gateways (each with a fresh key), users and roles in an empty store. In a store that already
/// has sessions it only issues the keys: the history was reported before.
pub async fn prepare(store: &Store) -> anyhow::Result<Prepared> {
    let admin = Actor::System;
    let fresh = store.session_count().await? == 0;
    if fresh && store.list_gateways().await?.is_empty() {
        for (name, display) in GATEWAYS {
            store.register_gateway(&admin, name, display).await?;
        }
        for (login, display, _) in USERS {
            store.create_user(&admin, login, display).await?;
            store.set_password(&admin, login, &password(login)).await?;
        }
        let roles = [
            RoleSpec { name: crate::ADMIN_ROLE.into(), rule: SraRule::All, gateways: vec![] },
            RoleSpec {
                name: "cloud-ops".into(),
                rule: SraRule::Own,
                gateways: vec!["gw-us-east-1".into(), "gw-eu-west-1".into()],
            },
            RoleSpec { name: "dc-ops".into(), rule: SraRule::Own, gateways: vec!["gw-onprem-dc2".into()] },
            RoleSpec { name: "developers".into(), rule: SraRule::None, gateways: vec![] },
        ];
        for role in &roles {
            store.create_role(&admin, role).await?;
        }
        for (login, role) in [
            ("admin", "sra-admins"),
            ("olivia", "cloud-ops"),
            ("oscar", "dc-ops"),
            ("alice", "developers"),
            ("bob", "developers"),
            ("carol", "developers"),
        ] {
            store.assign_role(&admin, login, role).await?;
        }
    } else {
        tracing::info!("demo: the store already has data; reporting live traffic only");
    }
    let mut keys = Vec::new();
    for (name, _) in GATEWAYS {
        keys.push((name, store.issue_gateway_key(&admin, name).await?));
    }
    Ok(Prepared { keys, fresh })
}

/// The URL this server is reached at from its own host.
pub fn loopback_url(local: SocketAddr) -> String {
    let ip = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::from([127, 0, 0, 1]),
        ip if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, local.port()))
}

/// The demo's gateways, run on their own thread: report the history (then mark the server ready), then live traffic
/// and heartbeats every few seconds until `stop` is set.
pub fn run_gateways(base: &str, prepared: Prepared, ready: &AtomicBool, stop: &AtomicBool) {
    let names: Vec<&str> = prepared.keys.iter().map(|(name, _)| *name).collect();
    let clients: Vec<GatewayClient> = prepared.keys.iter().map(|(_, key)| GatewayClient::new(base, key)).collect();
    let users: Vec<&str> = USERS.iter().map(|(login, _, _)| *login).chain(OTHER_USERS).collect();
    let mut traffic = Traffic::new(&names, &users, 0x5ea5_10e5);
    if prepared.fresh {
        let history = traffic.history(SEEDED_SESSIONS, SEEDED_ACTIVE, sra_store::now_ms());
        for ((client, reports), name) in clients.iter().zip(&history).zip(&names) {
            if let Err(e) = client.report(reports) {
                tracing::error!(gateway = name, error = %e, "demo: reporting the history failed");
            }
        }
        tracing::info!(sessions = SEEDED_SESSIONS, active = SEEDED_ACTIVE, "demo: history reported");
    }
    ready.store(true, Ordering::Release);
    let pace =
        Pace { between_changes: Duration::from_millis(3_000), heartbeat_every: Duration::from_secs(15), floor: 10 };
    sra_simulator::run(&clients, &mut traffic, pace, stop, &|line| tracing::warn!("demo: {line}"));
    tracing::info!("demo: gateways stopped");
}
