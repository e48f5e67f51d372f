//! A PostgreSQL outage while serving, on a throw-away cluster this test starts and stops itself (another port than
//! the shared test server). While the database is down, every request that needs it is answered 503 with
//! `Retry-After` and a message saying the database cannot be reached — at once, once the outage is known, never after
//! the pool's 5-s wait and never as a 500; when the database returns, the server serves again by itself with nothing
//! acknowledged lost; and a start while it is down names the cause. Figures are printed
//! (`cargo test --release -p sra-server --test postgres_outage -- --nocapture`) and reported in BENCHMARKS.md.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{request, server, start_on, terminate, Answer};

/// A PostgreSQL cluster of its own: `initdb` into a temporary folder, trust authentication, TCP on 127.0.0.1 only.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Cluster {
    fn new() -> Cluster {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pg");
        std::fs::create_dir(&data).unwrap();
        // PostgreSQL refuses to run as root: the cluster then belongs to the `postgres` user.
        if is_root() {
            let owned = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap();
            assert!(owned.success(), "chown to postgres");
        }
        let port = free_port();
        let cluster = Cluster { dir, bin, port };
        let init = cluster
            .run("initdb")
            .args(["--auth=trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        cluster
    }

    fn run(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn start(&self) {
        let options =
            format!("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off", self.port);
        let started = self
            .run("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("pg"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("pg.log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(started.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&started.stderr));
    }

    /// Stops the cluster as a crash would: no shutdown checkpoint, clients cut off.
    fn stop(&self) {
        let _ = self
            .run("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("pg"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The newest installed PostgreSQL's programs (Debian keeps them out of PATH).
fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()?.parse::<u32>().ok()));
    found.pop().expect("PostgreSQL's server programs (initdb, pg_ctl) are needed: scripts/test installs them")
}

/// A port nothing listens on now (PostgreSQL cannot report a port the system chose for it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn report(port: u16, key: &str, n: usize) -> Answer {
    let body = serde_json::json!({ "updates": [{
        "update-id": format!("u-{n}"),
        "session-id": format!("s-{n}"),
        "status": "connecting",
        "at": "2026-01-01T00:00:00Z",
        "user": "alice",
        "client-interface": "cli",
        "resource-type": "ssh",
        "secret-name": "/ssh/prod",
    }]});
    let auth = format!("Bearer {key}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    request(port, "POST", "/gateway/session-updates", &headers, &body.to_string()).expect("an answer")
}

fn outcome(answer: &Answer) -> String {
    let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
    value["results"][0]["outcome"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn an_outage_is_answered_at_once_and_the_server_recovers_by_itself() {
    let cluster = Cluster::new();
    cluster.start();
    let data = tempfile::tempdir().unwrap();
    let command = || {
        let mut command = server();
        command.arg("--data-dir").arg(data.path()).env("DATABASE_URL", cluster.url());
        command
    };
    let admin = |args: &[&str]| {
        let output = command().arg("admin").args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    admin(&["gateway", "register", "gw-a"]);
    let key = admin(&["gateway", "key", "gw-a"]).split_whitespace().nth(1).unwrap().to_owned();
    let started = start_on(command().stderr(std::process::Stdio::null()), 0);
    let port = started.port;
    assert_eq!(outcome(&report(port, &key, 0)), "applied");

    // Down: until the watcher notices, a request may wait for the pool; from then on each is answered at once.
    cluster.stop();
    let down = Instant::now();
    let mut waits = Vec::new();
    loop {
        let sent = Instant::now();
        let answer = report(port, &key, 1);
        let took = sent.elapsed();
        assert_eq!(answer.status, 503, "never a 500 or a hang: {}", answer.body);
        assert!(answer.header("retry-after").is_some());
        assert!(answer.body.contains("cannot be reached"), "{}", answer.body);
        waits.push(took);
        if took < Duration::from_millis(200) {
            break;
        }
        assert!(down.elapsed() < Duration::from_secs(20), "never answered at once: {waits:?}");
    }
    let noticed = down.elapsed();
    let mut fast = Duration::ZERO;
    for _ in 0..20 {
        let sent = Instant::now();
        let answer = report(port, &key, 1);
        fast = fast.max(sent.elapsed());
        assert_eq!(answer.status, 503);
    }
    assert!(fast < Duration::from_millis(500), "once known down, answered at once (slowest {fast:?})");
    let ready = request(port, "GET", "/readyz", &[], "").unwrap();
    assert_eq!(ready.status, 503, "{}", ready.body);
    // The API answers the same way, before it even looks at the token.
    let api = request(port, "POST", "/list-sra-sessions", &[("Content-Type", "application/json")], "{\"token\":\"t\"}");
    assert_eq!(api.map(|a| a.status), Some(503));

    // Back: the server serves again by itself; what was acknowledged before is there, the refused report now applies.
    cluster.start();
    let back = Instant::now();
    let recovered = loop {
        let answer = report(port, &key, 1);
        if answer.status == 200 {
            assert_eq!(outcome(&answer), "applied", "refused while down, so not stored then");
            break back.elapsed();
        }
        assert!(back.elapsed() < Duration::from_secs(20), "did not recover: {} {}", answer.status, answer.body);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(outcome(&report(port, &key, 0)), "duplicate", "acknowledged before the outage and kept");
    println!(
        "PostgreSQL outage: first answers while unnoticed took {waits:?}; known down after {noticed:?}; then every \
         request answered 503 within {fast:?}; served again {recovered:?} after the database was back"
    );
    terminate(started.child);

    // Starting while the database is down names why.
    cluster.stop();
    let output = command().args(["--port", "0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("refused") && !stderr.contains("timed out"), "{stderr}");
}
