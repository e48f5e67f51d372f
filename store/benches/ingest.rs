//! Ingest benchmark: sustained session updates per second through `Store::ingest` — the gateways' write path, with
//! every update's audit entry (hash-chained) and its update ID recorded in the same transaction — with durability on
//! (SQLite: WAL + `synchronous=FULL`; PostgreSQL: its default `synchronous_commit=on`).
//!
//! ```text
//! cargo bench -p sra-store --bench ingest                                                   # SQLite
//! SRA_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p sra-store --bench ingest
//! SRA_BENCH_UPDATES=30000 cargo bench -p sra-store --bench ingest                           # a shorter run
//! ```
//!
//! Traffic comes from the gateway simulator (`sra-simulator`): realistic sessions whose reports go start → connected →
//! ended. Each run uses a fresh database. Scenarios: batches of 1,000 and of 100 from one gateway; one update per
//! transaction (a gateway that does not batch); four gateways writing batches of 500 at once. The audit chain is
//! verified at the end (and timed).

use std::time::Instant;

use sra_api::SessionReport;
use sra_domain::Actor;
use sra_simulator::Traffic;
use sra_store::{now_ms, AuditVerdict, GatewayIdentity, GatewayUpdate, Store};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let updates: usize = std::env::var("SRA_BENCH_UPDATES").ok().and_then(|v| v.parse().ok()).unwrap_or(120_000);
    let postgres = std::env::var("SRA_BENCH_POSTGRES_URL").ok();
    println!(
        "# {}: {updates} updates per batched scenario, durability on",
        if postgres.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    println!("| scenario | updates | seconds | updates/s (each with its audit entry) |");
    println!("|---|---:|---:|---:|");
    let scenarios: [(&str, usize, usize, usize); 4] = [
        ("1 gateway, batches of 1,000", 1, 1_000, updates),
        ("1 gateway, batches of 100", 1, 100, updates),
        ("1 gateway, one update per transaction", 1, 1, (updates / 20).max(1_000)),
        ("4 gateways at once, batches of 500", 4, 500, updates),
    ];
    for (name, gateways, batch, total) in scenarios {
        let (store, cleanup) = fresh_store(postgres.as_deref(), name).await;
        let identities = register(&store, gateways).await;
        let work: Vec<Vec<Vec<GatewayUpdate>>> =
            identities.iter().enumerate().map(|(i, g)| batches(g, total / gateways, batch, i as u64)).collect();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (identity, batches) in identities.into_iter().zip(work) {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for batch in batches {
                    store.ingest(&identity, &batch).await.expect("ingest");
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer");
        }
        let seconds = started.elapsed().as_secs_f64();
        let done = (total / gateways) * gateways;
        println!("| {name} | {done} | {seconds:.2} | {:.0} |", done as f64 / seconds);
        if name.starts_with("4 gateways") {
            let verify = Instant::now();
            let verdict = store.verify_audit().await.expect("verify");
            let AuditVerdict::Intact { entries, .. } = verdict else { panic!("audit chain broken: {verdict:?}") };
            println!(
                "\naudit chain verified: {entries} entries in {:.2} s ({:.0} entries/s)",
                verify.elapsed().as_secs_f64(),
                entries as f64 / verify.elapsed().as_secs_f64()
            );
        }
        store.close().await.expect("close");
        cleanup.await;
    }
}

/// `count` reports from the simulator for one gateway, in batches of `size`, ready to ingest.
fn batches(gateway: &GatewayIdentity, count: usize, size: usize, seed: u64) -> Vec<Vec<GatewayUpdate>> {
    let mut traffic = Traffic::new(&[gateway.name.as_str()], &["alice", "bob", "carol", "svc-deploy"], seed);
    let mut reports: Vec<SessionReport> = Vec::with_capacity(count);
    let start = now_ms() - 3_600_000;
    let mut t = start;
    while reports.len() < count {
        t += 1;
        reports.extend(traffic.step(t, 200).map(|(_, report)| report));
    }
    let now = now_ms();
    let updates: Vec<GatewayUpdate> = reports
        .iter()
        .map(|r| GatewayUpdate {
            update_id: r.update_id.clone(),
            update: r.to_update("bench", &gateway.name, now).expect("valid"),
        })
        .collect();
    updates.chunks(size).map(<[GatewayUpdate]>::to_vec).collect()
}

async fn register(store: &Store, gateways: usize) -> Vec<GatewayIdentity> {
    let mut identities = Vec::new();
    for i in 0..gateways {
        let name = format!("gw-bench-{i}");
        store.register_gateway(&Actor::System, &name, &name).await.expect("register");
        let key = store.issue_gateway_key(&Actor::System, &name).await.expect("key");
        identities.push(store.authenticate_gateway(&key).await.expect("authenticate"));
    }
    identities
}

/// A fresh database for one scenario, and how to remove it afterwards.
async fn fresh_store(
    postgres: Option<&str>,
    scenario: &str,
) -> (Store, std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    match postgres {
        Some(admin_url) => {
            use sea_orm::ConnectionTrait;
            let name = format!(
                "sra_bench_ingest_{}",
                scenario.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
            );
            let admin = sea_orm::Database::connect(admin_url).await.expect("PostgreSQL for the bench");
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.expect("drop");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create");
            let url = sra_store::testing::database_url(admin_url, &name);
            let store = Store::connect(&url, &sra_store::AuditKeys::generate()).await.expect("open");
            let cleanup = async move {
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
            };
            (store, Box::pin(cleanup))
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/ingest.db", dir.path().display());
            let store = Store::connect(&url, &sra_store::AuditKeys::generate()).await.expect("open");
            (store, Box::pin(async move { drop(dir) }))
        }
    }
}
