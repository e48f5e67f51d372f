//! Crashes lose nothing that was acknowledged. The real binary serves two gateways sending batches as fast as they
//! can; it is killed with SIGKILL six times mid-stream and started again on the same data (the same SQLite file, or
//! the same PostgreSQL database). Afterwards every batch has been acknowledged exactly once in the data: as many
//! sessions as were sent, each start audited once (batches whose answer was lost in a crash come back `duplicate` when
//! sent again), and `sra-server admin audit verify` finds the chain intact. The figures are printed
//! (`cargo test --release -p sra-server --test faults -- --nocapture`) and reported in BENCHMARKS.md.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sra_api::SessionReport;
use sra_domain::{ClientInterface, ResourceType, SessionStatus};
use sra_simulator::GatewayClient;

const CRASHES: usize = 6;
const SENDERS: usize = 3;
const BATCH: usize = 100;
/// Batches answered between two crashes.
const BETWEEN: usize = 30;

/// Where the data lives: a data folder (key file, SQLite) and, for PostgreSQL, the database URL.
struct Data {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Data {
    fn command(&self) -> Command {
        let mut command = common::server();
        command.arg("--data-dir").arg(self.dir.path());
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        command
    }

    fn admin(&self, args: &[&str]) -> String {
        let output = self.command().arg("admin").args(args).output().unwrap();
        let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "admin {args:?}: {out} {err}");
        out.into_owned()
    }
}

fn start(data: &Data, port: u16) -> (Child, u16) {
    let started = common::start_on(data.command().stderr(std::process::Stdio::null()), port);
    (started.child, started.port)
}

fn batch(sender: usize, n: usize) -> Vec<SessionReport> {
    let at = sra_simulator::now_ms() - 60_000;
    (0..BATCH)
        .map(|i| SessionReport {
            update_id: format!("u-{sender}-{n}-{i}"),
            session_id: format!("s-{sender}-{n}-{i}"),
            status: SessionStatus::Connecting,
            at,
            user: Some(format!("user-{i}")),
            client_interface: Some(ClientInterface::Cli),
            resource_type: Some(ResourceType::Ssh),
            secret_name: Some("/ssh/prod".into()),
            target_name: None,
            target_host: None,
            access_id: None,
            error: None,
        })
        .collect()
}

/// What the gateways were told, batch by batch: the outcome of its acknowledged answer.
#[derive(Default)]
struct Ledger {
    answered: BTreeMap<(usize, usize), String>,
}

fn crash_and_restart(data: Data) {
    data.admin(&["gateway", "register", "gw-a"]);
    let key = data.admin(&["gateway", "key", "gw-a"]);
    let key = key.split_whitespace().nth(1).expect("gateway-key: KEY").to_owned();

    let (mut child, port) = start(&data, 0);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (draining, acked) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (ledger, draining, acked, key) = (ledger.clone(), draining.clone(), acked.clone(), key.clone());
            std::thread::spawn(move || {
                let client = GatewayClient::new(&format!("http://127.0.0.1:{port}"), &key);
                let mut n = 0;
                while !draining.load(Ordering::Acquire) {
                    let reports = batch(sender, n);
                    // Sent until answered (the client itself sends again for ~3 s with the same update IDs).
                    let outcome = loop {
                        match client.report(&reports) {
                            Ok(answer) => break answer,
                            Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        }
                    };
                    let outcomes: Vec<&str> = outcome.results.iter().map(|r| r.outcome.as_str()).collect();
                    assert!(outcomes.iter().all(|o| *o == outcomes[0]), "a batch is all or nothing: {outcomes:?}");
                    let mut ledger = ledger.lock().unwrap();
                    ledger.answered.insert((sender, n), outcomes[0].to_owned());
                    acked.fetch_add(1, Ordering::Release);
                    n += 1;
                }
            })
        })
        .collect();

    let mut recoveries = Vec::new();
    for _ in 0..CRASHES {
        // Mid-stream: some batches answered since the last start, others in flight.
        let target = acked.load(Ordering::Acquire) + BETWEEN;
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::Acquire) < target {
            assert!(Instant::now() < deadline, "the gateways made no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let restarted = Instant::now();
        let (again, _) = start(&data, port);
        recoveries.push(restarted.elapsed());
        child = again;
    }
    let target = acked.load(Ordering::Acquire) + BETWEEN;
    while acked.load(Ordering::Acquire) < target {
        std::thread::sleep(Duration::from_millis(5));
    }
    draining.store(true, Ordering::Release);
    for sender in senders {
        sender.join().expect("a sender failed");
    }
    common::terminate(child);

    let ledger = ledger.lock().unwrap();
    let batches = ledger.answered.len();
    let duplicates = ledger.answered.values().filter(|o| *o == "duplicate").count();
    assert!(ledger.answered.values().all(|o| o == "applied" || o == "duplicate"), "{:?}", ledger.answered);
    let (sessions, starts) = counts(&data);
    println!(
        "{} crashes (SIGKILL): {batches} batches = {} updates acknowledged, {sessions} sessions found, {starts} starts \
         audited; {duplicates} batches whose answer a crash cut off were already stored (answered duplicate when sent \
         again); restart to serving: {:?}",
        CRASHES,
        batches * BATCH,
        recoveries
    );
    assert_eq!(sessions, batches * BATCH, "every acknowledged update is stored, nothing else");
    assert_eq!(starts, sessions, "each session's start applied and audited once");
    let verified = data.admin(&["audit", "verify"]);
    assert!(verified.contains("intact"), "{verified}");
}

/// Sessions stored and session starts audited, read with the server's key file.
fn counts(data: &Data) -> (usize, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let url = data.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/sra.db", data.dir.path().display()));
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let count = |sql: &'static str| {
            let db = &db;
            async move {
                let row = db.query_one(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
                row.unwrap().try_get::<i64>("", "n").unwrap() as usize
            }
        };
        let sessions = count("SELECT COUNT(*) AS n FROM sessions").await;
        let starts = count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'session.started'").await;
        db.close().await.ok();
        (sessions, starts)
    })
}

#[test]
fn sqlite_survives_sigkill_mid_stream() {
    crash_and_restart(Data { dir: tempfile::tempdir().unwrap(), database_url: None });
}

#[test]
fn postgres_survives_sigkill_mid_stream() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let admin_url =
        std::env::var("SRA_TEST_POSTGRES_URL").unwrap_or_else(|_| sra_store::testing::DEFAULT_POSTGRES_URL.to_owned());
    let name = format!("sra_faults_{}", std::process::id());
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(&admin_url).await.expect("PostgreSQL for tests; run scripts/test");
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        admin.close().await.ok();
    });
    let url = sra_store::testing::database_url(&admin_url, &name);
    crash_and_restart(Data { dir: tempfile::tempdir().unwrap(), database_url: Some(url) });
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
        admin.close().await.ok();
    });
}
