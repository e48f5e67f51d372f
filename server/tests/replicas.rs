//! Three replicas of the real `sra-server` binary on one PostgreSQL database, as behind a load balancer without
//! sticky sessions: a sign-in made on one is honoured by the others, a change ingested by one is pushed to an event
//! stream open on another, the sign-in throttle counts across all of them, and when one is killed during a load of
//! readers and gateways the others answer every request and no acknowledged update is lost.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{request, server, start_on, Started};
use serde_json::{json, Value};

const PASSWORD: &str = "replica-admin-password-1";

/// A fresh database on the test PostgreSQL (no store opened on it: the replicas key its audit chain).
fn fresh_database() -> (String, String, String) {
    let admin_url =
        std::env::var("SRA_TEST_POSTGRES_URL").unwrap_or_else(|_| sra_store::testing::DEFAULT_POSTGRES_URL.to_owned());
    let name = format!("sra_replicas_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(&admin_url).await.expect("the test PostgreSQL");
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    });
    let url = sra_store::testing::database_url(&admin_url, &name);
    (admin_url, name, url)
}

fn drop_database(admin_url: &str, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(admin_url).await.unwrap();
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
    });
}

/// The server command for a replica: the shared database and audit key, a data folder of its own.
fn replica_command(url: &str, key_file: &std::path::Path, data: &std::path::Path) -> Command {
    let mut command = server();
    command
        .env("DATABASE_URL", url)
        .env("SRA_ADMIN_PASSWORD", PASSWORD)
        .arg("--audit-key-file")
        .arg(key_file)
        .arg("--data-dir")
        .arg(data)
        .arg("--log-level")
        .arg("warn")
        .stderr(Stdio::null());
    command
}

fn post(port: u16, path: &str, auth: Option<&str>, body: &Value) -> Option<(u16, Value)> {
    let bearer = auth.map(|a| format!("Bearer {a}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let answer = request(port, "POST", path, &headers, &body.to_string())?;
    Some((answer.status, serde_json::from_str(&answer.body).unwrap_or(Value::Null)))
}

fn auth(port: u16, password: &str) -> (u16, Value) {
    let body = json!({"access-type": "password", "admin-email": "admin", "admin-password": password});
    post(port, "/auth", None, &body).expect("auth answered")
}

fn start_report(session: &str) -> Value {
    json!({
        "update-id": format!("{session}:connecting"), "session-id": session, "status": "connecting",
        "at": sra_domain::format_rfc3339(sra_store::now_ms() - 1_000), "user": "alice", "client-interface": "cli",
        "resource-type": "ssh", "secret-name": "/prod/ssh/web",
    })
}

/// Opens `GET path` as a server-sent events stream and returns its lines as they come.
fn stream(port: u16, path: &str, token: &str) -> std::sync::mpsc::Receiver<String> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(socket, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(socket).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

/// The running replicas: killed when the test ends, however it ends (a failed assertion must not leave servers).
struct Replicas(Vec<Started>);

impl Drop for Replicas {
    fn drop(&mut self) {
        for replica in &mut self.0 {
            let _ = replica.child.kill();
            let _ = replica.child.wait();
        }
    }
}

#[test]
fn three_replicas_share_sign_ins_changes_throttle_and_survive_one_lost() {
    let (admin_url, name, url) = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("audit.key");
    let mut replicas = Replicas(Vec::new());
    for i in 0..3 {
        let data = dir.path().join(format!("replica-{i}"));
        // The first creates the schema, the key file and the administrator; the others find them.
        replicas.0.push(start_on(&mut replica_command(&url, &key_file, &data), 0));
    }
    let ports: Vec<u16> = replicas.0.iter().map(|r| r.port).collect();
    let (a, b, c) = (ports[0], ports[1], ports[2]);

    // A gateway and its key, registered from the command line against the same database.
    let admin = |args: &[&str]| {
        let output = replica_command(&url, &key_file, dir.path())
            .arg("admin")
            .args(args)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    admin(&["gateway", "register", "gw-r", "--display-name", "Replicated"]);
    let printed = admin(&["gateway", "key", "gw-r"]);
    let gateway_key = printed.split_whitespace().find(|w| w.starts_with("g-")).expect("a gateway key").to_owned();

    // Signed in on A, listing on B.
    let (status, answer) = auth(a, PASSWORD);
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap().to_owned();
    let (status, answer) = post(b, "/list-sra-sessions", Some(&token), &json!({})).unwrap();
    assert_eq!(status, 200, "a token from A is honoured by B: {answer}");

    // Ingested on C, pushed to a stream open on A.
    let events = stream(a, "/stream-sra-sessions?status=connecting", &token);
    let until = Instant::now() + Duration::from_secs(10);
    while !events.recv_timeout(Duration::from_secs(10)).unwrap().starts_with("event: ready") {
        assert!(Instant::now() < until, "no ready event");
    }
    let sent = Instant::now();
    let (status, answer) = post(c, "/gateway/session-update", Some(&gateway_key), &start_report("pushed-1")).unwrap();
    assert_eq!(status, 200, "{answer}");
    let pushed = loop {
        let line = events.recv_timeout(Duration::from_secs(5)).expect("the change was not pushed to A within 5 s");
        if line.starts_with("data:") && line.contains("pushed-1") {
            break sent.elapsed();
        }
    };
    assert!(pushed < Duration::from_secs(3), "pushed after {pushed:?}");
    eprintln!("a change ingested on C reached a stream on A after {} ms", pushed.as_millis());

    // The throttle counts across replicas: five free failures spread over all three, then every replica refuses.
    for (i, port) in [a, b, c, a, b].into_iter().enumerate() {
        assert_eq!(auth(port, "wrong-password").0, 401, "failure {i} on {port}");
    }
    for port in [c, a, b] {
        let (status, answer) = auth(port, PASSWORD);
        assert_eq!(status, 429, "the sixth attempt, on {port}, must wait: {answer}");
    }

    // A load of readers (on B and C) and gateways (on any replica, moving on when one fails) while A is killed.
    let stop = Arc::new(AtomicBool::new(false));
    let read_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let reads = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let mut threads = Vec::new();
    for port in [b, c] {
        let (stop, errors, reads, token) = (stop.clone(), read_errors.clone(), reads.clone(), token.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match post(port, "/list-sra-sessions", Some(&token), &json!({"status-type": ["connecting"]})) {
                    Some((200, _)) => {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    other => errors.lock().unwrap().push(format!("{port}: {other:?}")),
                }
            }
        }));
    }
    for g in 0..2 {
        let (stop, acknowledged, key, ports) = (stop.clone(), acknowledged.clone(), gateway_key.clone(), ports.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0;
            let mut next = g;
            while !stop.load(Ordering::Relaxed) {
                let session = format!("load-{g}-{n}");
                let report = start_report(&session);
                // Retried with the same update ID on the next replica until one acknowledges it.
                for _ in 0..ports.len() * 3 {
                    let port = ports[next % ports.len()];
                    next += 1;
                    if let Some((200, _)) = post(port, "/gateway/session-update", Some(&key), &report) {
                        acknowledged.lock().unwrap().insert(session.clone());
                        break;
                    }
                }
                n += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(3));
    let killed = &mut replicas.0[0];
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    let errors = read_errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "the surviving replicas failed {} of their reads: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(reads.load(Ordering::Relaxed) > 10, "too few reads to mean anything");

    // Every acknowledged update is stored, whichever replica took it.
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 10, "too few updates to mean anything ({})", acknowledged.len());
    let stored: BTreeSet<String> =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            use sea_orm::ConnectionTrait;
            let db = sea_orm::Database::connect(&url).await.unwrap();
            let rows = db
                .query_all(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT session_id FROM sessions WHERE session_id LIKE 'load-%'",
                ))
                .await
                .unwrap();
            rows.iter().map(|r| r.try_get::<String>("", "session_id").unwrap()).collect()
        });
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    eprintln!(
        "{} reads on the survivors without an error, {} updates acknowledged and stored",
        reads.load(Ordering::Relaxed),
        acknowledged.len()
    );

    for replica in replicas.0.drain(1..) {
        common::terminate(replica.child);
    }
    drop(replicas);
    drop_database(&admin_url, &name);
}
