//! Demo mode: a realistic store to look at, and a little traffic so the 20-second refresh has something to show.
//!
//! Everything goes through the store's normal write path (`apply_updates`, with audit entries), acting as the gateways
//! that would report it.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sra_domain::{
    Actor, ClientInterface, Millis, NewSession, ResourceType, SessionChange, SessionUpdate, SraRule, DAY_MS, HOUR_MS,
    MINUTE_MS, SECOND_MS,
};
use sra_store::{RoleSpec, Store};
use tokio::sync::watch;

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

/// How many sessions the demo seeds over the last 30 days.
pub const SEEDED_SESSIONS: usize = 2_000;
/// How many of them are still active (connecting or connected) when seeding ends.
const SEEDED_ACTIVE: usize = 30;

/// Sessions the demo driver moves along: (session ID, gateway cluster name).
#[derive(Debug, Default)]
pub struct Live {
    connecting: Vec<(String, &'static str)>,
    connected: Vec<(String, &'static str)>,
}

/// Seeds gateways, users, roles and [`SEEDED_SESSIONS`] sessions into an empty store. Returns the sessions still
/// active, for [`drive`] to move along. Does nothing (and returns none) if the store already has sessions.
pub async fn seed(store: &Store, now: Millis) -> anyhow::Result<Live> {
    if store.session_count().await? > 0 {
        tracing::info!("demo: the store already has sessions; not seeding");
        return Ok(Live::default());
    }
    let admin = Actor::System;
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

    let mut rng = StdRng::seed_from_u64(0x5ea5_10e5);
    let mut by_gateway: Vec<Vec<SessionUpdate>> = vec![Vec::new(); GATEWAYS.len()];
    let mut live = Live::default();
    for i in 0..SEEDED_SESSIONS {
        let gateway = i % GATEWAYS.len();
        let still_active = i < SEEDED_ACTIVE;
        // The first sessions walk through every gateway × resource type and every client interface, so the demo shows
        // each of them; the rest are random.
        let (resource, client) = if i < GATEWAYS.len() * ResourceType::ALL.len() {
            (
                ResourceType::ALL[(i / GATEWAYS.len()) % ResourceType::ALL.len()],
                ClientInterface::ALL[(i / 16) % ClientInterface::ALL.len()],
            )
        } else {
            (*pick(&mut rng, ResourceType::ALL), *pick(&mut rng, ClientInterface::ALL))
        };
        let start = if still_active {
            now - rng.gen_range(10 * SECOND_MS..6 * HOUR_MS)
        } else {
            now - rng.gen_range(5 * MINUTE_MS..30 * DAY_MS)
        };
        let session_id = session_id(&mut rng);
        let updates = &mut by_gateway[gateway];
        updates.push(SessionUpdate {
            session_id: session_id.clone(),
            at: start,
            change: SessionChange::Started(new_session(&mut rng, GATEWAYS[gateway].0, resource, client)),
        });
        let connect_at = start + rng.gen_range(300..4_000);
        if still_active {
            // A few stay "connecting" so that status is on screen too.
            if i % 6 == 0 {
                live.connecting.push((session_id, GATEWAYS[gateway].0));
            } else {
                updates.push(SessionUpdate {
                    session_id: session_id.clone(),
                    at: connect_at,
                    change: SessionChange::Connected,
                });
                live.connected.push((session_id, GATEWAYS[gateway].0));
            }
            continue;
        }
        let roll = rng.gen_range(0..100);
        if roll < 8 {
            // Failed while connecting: bad credentials, unreachable target …
            let error = pick(&mut rng, &FAILURES).to_string();
            updates.push(SessionUpdate { session_id, at: connect_at, change: SessionChange::Failed { error } });
            continue;
        }
        updates.push(SessionUpdate {
            session_id: session_id.clone(),
            at: connect_at,
            change: SessionChange::Connected,
        });
        let end = (connect_at + session_length(&mut rng)).min(now - SECOND_MS);
        let change = match roll {
            8..=13 => SessionChange::Terminated,
            14..=16 => SessionChange::Failed { error: "connection to target lost".into() },
            _ => SessionChange::Completed,
        };
        updates.push(SessionUpdate { session_id, at: end.max(connect_at + 1), change });
    }
    for (updates, (gateway, _)) in by_gateway.iter().zip(GATEWAYS) {
        let actor = Actor::Gateway(gateway.to_owned());
        // Batches apply in order, so a session's history may span two of them.
        for batch in updates.chunks(1_000) {
            store.apply_updates(&actor, batch).await?;
        }
    }
    tracing::info!(sessions = SEEDED_SESSIONS, active = live.connecting.len() + live.connected.len(), "demo: seeded");
    Ok(live)
}

/// Keeps a few sessions changing, every few seconds, until `shutdown` turns true: new sessions start, connecting ones
/// connect, connected ones end.
pub async fn drive(store: Store, live: Live, mut shutdown: watch::Receiver<bool>) {
    let mut rng = StdRng::from_entropy();
    let Live { mut connecting, mut connected } = live;
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(Duration::from_millis(rng.gen_range(2_000..5_000))) => {}
        }
        let now = sra_store::now_ms();
        let (gateway, session_id, change) = if connecting.len() + connected.len() < 10 || rng.gen_range(0..3) == 0 {
            let gateway = GATEWAYS[rng.gen_range(0..GATEWAYS.len())].0;
            let resource = *pick(&mut rng, ResourceType::ALL);
            let client = *pick(&mut rng, ClientInterface::ALL);
            let id = session_id(&mut rng);
            let change = SessionChange::Started(new_session(&mut rng, gateway, resource, client));
            connecting.push((id.clone(), gateway));
            (gateway, id, change)
        } else if !connecting.is_empty() && (connected.is_empty() || rng.gen_bool(0.5)) {
            let (id, gateway) = connecting.swap_remove(rng.gen_range(0..connecting.len()));
            connected.push((id.clone(), gateway));
            (gateway, id, SessionChange::Connected)
        } else {
            let (id, gateway) = connected.swap_remove(rng.gen_range(0..connected.len()));
            let change = match rng.gen_range(0..10) {
                0 => SessionChange::Terminated,
                1 => SessionChange::Failed { error: "connection to target lost".into() },
                _ => SessionChange::Completed,
            };
            (gateway, id, change)
        };
        let update = SessionUpdate { session_id, at: now, change };
        if let Err(e) = store.apply_updates(&Actor::Gateway(gateway.to_owned()), &[update]).await {
            tracing::warn!(error = %e, "demo: update refused");
        }
    }
    tracing::info!("demo: driver stopped");
}

const FAILURES: [&str; 4] = [
    "authentication failed: invalid credentials",
    "target unreachable: connection timed out",
    "secret expired",
    "access denied by policy",
];

fn new_session(rng: &mut StdRng, gateway: &str, resource: ResourceType, client: ClientInterface) -> NewSession {
    let user = if rng.gen_bool(0.7) {
        USERS[rng.gen_range(0..USERS.len())].0
    } else {
        OTHER_USERS[rng.gen_range(0..OTHER_USERS.len())]
    };
    let (target, host) = target(rng, resource);
    NewSession {
        user: user.to_owned(),
        access_id: Some(format!("p-{:012x}", rng.gen::<u64>() & 0xffff_ffff_ffff)),
        client_interface: client,
        gateway: gateway.to_owned(),
        resource_type: resource,
        secret_name: format!("/{}/{}/{}", pick(rng, &["prod", "staging", "dev"]), resource.connection_type(), target),
        target_name: target,
        target_host: host,
    }
}

fn target(rng: &mut StdRng, resource: ResourceType) -> (String, String) {
    use ResourceType::*;
    let n = rng.gen_range(1..20);
    let ip = format!("10.{}.{}.{}", rng.gen_range(0..8), rng.gen_range(0..255), rng.gen_range(2..254));
    match resource {
        Ssh => (format!("web-{n:02}"), format!("{ip}:22")),
        Rdp => (format!("win-jump-{n:02}"), format!("{ip}:3389")),
        Mysql => (format!("orders-mysql-{n}"), format!("{ip}:3306")),
        Postgres => (format!("billing-pg-{n}"), format!("{ip}:5432")),
        Mssql => (format!("erp-mssql-{n}"), format!("{ip}:1433")),
        Mongodb => (format!("catalog-mongo-{n}"), format!("{ip}:27017")),
        Oracle => (format!("ledger-ora-{n}"), format!("{ip}:1521")),
        Redis => (format!("cache-redis-{n}"), format!("{ip}:6379")),
        K8s => (format!("k8s-core-{n}"), format!("https://{ip}:6443")),
        Eks => (format!("eks-prod-{n}"), format!("https://eks-{n}.us-east-1.eks.amazonaws.com")),
        Gke => (format!("gke-analytics-{n}"), format!("https://{ip}")),
        Aks => (format!("aks-apps-{n}"), format!("https://aks-{n}.hcp.westeurope.azmk8s.io")),
        Aws => (format!("aws-account-{n}"), "https://console.aws.amazon.com".to_owned()),
        Azure => (format!("azure-sub-{n}"), "https://portal.azure.com".to_owned()),
        Gcp => (format!("gcp-project-{n}"), "https://console.cloud.google.com".to_owned()),
        Web => (format!("grafana-{n}"), format!("https://{ip}:3000")),
    }
}

/// Most sessions are short; a few last hours.
fn session_length(rng: &mut StdRng) -> Millis {
    match rng.gen_range(0..10) {
        0..=4 => rng.gen_range(20 * SECOND_MS..15 * MINUTE_MS),
        5..=8 => rng.gen_range(15 * MINUTE_MS..2 * HOUR_MS),
        _ => rng.gen_range(2 * HOUR_MS..10 * HOUR_MS),
    }
}

/// An SRA session ID in the UUID layout gateways use.
fn session_id(rng: &mut StdRng) -> String {
    let a: u128 = rng.gen();
    let hex = format!("{a:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A random item of a constant, non-empty list.
fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}
