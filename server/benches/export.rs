//! Export benchmark: how fast the overview's CSV and JSON exports stream a large view through the real router, and
//! that memory stays flat however many sessions it holds (the body is read frame by frame, as a browser would).
//!
//! ```text
//! cargo bench -p sra-server --bench export                                   # SQLite
//! SRA_BENCH_BACKEND=postgres cargo bench -p sra-server --bench export        # PostgreSQL (SRA_TEST_POSTGRES_URL)
//! SRA_BENCH_SESSIONS=20000 cargo bench -p sra-server --bench export          # a shorter run
//! ```

use std::time::Instant;

use app::auth::server::CookiePolicy;
use axum::body::Body;
use axum::http::{header, Request};
use futures_util::StreamExt;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate, SraRule};
use sra_store::testing::TestDb;
use sra_store::{now_ms, RoleSpec, Store};
use tower::ServiceExt;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sessions: usize = std::env::var("SRA_BENCH_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let postgres = std::env::var("SRA_BENCH_BACKEND").is_ok_and(|b| b == "postgres");
    let db = if postgres { TestDb::postgres().await } else { TestDb::sqlite().await };
    let store = db.store.clone();
    let seeded = Instant::now();
    seed(&store, sessions).await;
    println!(
        "# {}: {sessions} sessions in the view (seeded in {:.1} s)",
        if postgres { "PostgreSQL" } else { "SQLite" },
        seeded.elapsed().as_secs_f64()
    );
    let site = tempfile::tempdir().expect("temp dir");
    let router = sra_server::router(site.path(), store.clone(), CookiePolicy::default());
    let admin = sign_in(&store, "ada").await;
    let alice = sign_in(&store, "alice").await;

    println!("| export | sessions | MB | first byte ms | seconds | sessions/s | RSS growth while streaming MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, path, token) in [
        ("CSV, administrator, everything", "/export/sessions.csv", &admin),
        ("JSON, administrator, everything", "/export/sessions.json", &admin),
        ("CSV, administrator, ssh only, by user", "/export/sessions.csv?resource=ssh&sort=user%3Aasc", &admin),
        ("CSV, Self user (a third of the sessions)", "/export/sessions.csv", &alice),
    ] {
        let before = rss_kib();
        let mut highest = before;
        let started = Instant::now();
        let request = Request::get(path)
            .header(header::COOKIE, format!("sra_session={token}"))
            .body(Body::empty())
            .expect("request");
        let response = router.clone().oneshot(request).await.expect("answer");
        assert!(response.status().is_success(), "{name}: {}", response.status());
        let mut body = response.into_body().into_data_stream();
        let (mut bytes, mut lines, mut first) = (0usize, 0usize, None);
        while let Some(frame) = body.next().await {
            let frame = frame.expect("frame");
            first.get_or_insert_with(|| started.elapsed());
            bytes += frame.len();
            // A frame is a page of sessions: sampling each is cheap and sees any growth.
            highest = highest.max(rss_kib());
            lines += frame.iter().filter(|b| **b == b'\n').count();
        }
        let seconds = started.elapsed().as_secs_f64();
        // CSV: one header line; JSON: the two brackets' lines.
        let rows = lines.saturating_sub(if path.contains(".json") { 2 } else { 1 });
        highest = highest.max(rss_kib());
        println!(
            "| {name} | {rows} | {:.1} | {:.0} | {seconds:.2} | {:.0} | {:.1} |",
            bytes as f64 / 1e6,
            first.unwrap_or_default().as_secs_f64() * 1e3,
            rows as f64 / seconds,
            highest.saturating_sub(before) as f64 / 1024.0
        );
    }
    db.finish().await;
}

/// `count` sessions on four gateways, every third one alice's, half of them ended.
async fn seed(store: &Store, count: usize) {
    let gateways = ["gw-a", "gw-b", "gw-c", "gw-d"];
    for g in gateways {
        store.register_gateway(&Actor::System, g, g).await.expect("gateway");
    }
    // Spread over the last 25 days: all of them in the default 30-day view, none in the future.
    let now = now_ms();
    let spacing = (25 * 86_400_000 / count.max(1) as i64).max(1);
    let kinds = [ResourceType::Ssh, ResourceType::Rdp, ResourceType::Postgres, ResourceType::K8s];
    for (g, gateway) in gateways.iter().enumerate() {
        let mine: Vec<usize> = (0..count).filter(|i| i % gateways.len() == g).collect();
        let mut updates = Vec::new();
        for &i in &mine {
            let started = now - 25 * 86_400_000 + i as i64 * spacing;
            let id = format!("bench-{i:08}");
            updates.push(SessionUpdate {
                session_id: id.clone(),
                at: started,
                change: SessionChange::Started(NewSession {
                    user: if i % 3 == 0 { "alice".into() } else { format!("user-{}", i % 50) },
                    access_id: Some(format!("p-{:06}", i % 1_000)),
                    client_interface: ClientInterface::ALL[i % ClientInterface::ALL.len()],
                    gateway: (*gateway).into(),
                    resource_type: kinds[i % kinds.len()],
                    secret_name: format!("/prod/{}/secret-{}", kinds[i % kinds.len()].as_str(), i % 300),
                    target_name: format!("target-{}", i % 300),
                    target_host: format!("10.0.{}.{}:22", i % 250, i % 200),
                }),
            });
            updates.push(SessionUpdate {
                session_id: id.clone(),
                at: started + 1_000,
                change: SessionChange::Connected,
            });
            if i % 2 == 0 {
                let ended = (started + 600_000).min(now - 1_000);
                updates.push(SessionUpdate { session_id: id, at: ended, change: SessionChange::Completed });
            }
        }
        for batch in updates.chunks(1_000) {
            store.apply_updates(&Actor::Gateway((*gateway).into()), batch).await.expect("seed");
        }
    }
    for login in ["ada", "alice"] {
        store.create_user(&Actor::System, login, login).await.expect("user");
        store.set_password(&Actor::System, login, &format!("{login}-password-1")).await.expect("password");
    }
    let admins = RoleSpec { name: "admins".into(), rule: SraRule::All, gateways: vec![] };
    store.create_role(&Actor::System, &admins).await.expect("role");
    store.assign_role(&Actor::System, "ada", "admins").await.expect("assign");
}

async fn sign_in(store: &Store, login: &str) -> String {
    let principal = sra_store::testing::sign_in(store, login, &format!("{login}-password-1")).await.expect("sign in");
    store.open_console_session(&principal).await.expect("console session")
}

/// The process's resident memory now (Linux `VmRSS`), in KiB; 0 elsewhere.
fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
