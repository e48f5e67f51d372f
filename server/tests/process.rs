//! The `sra-server` binary as an operator meets it: clear failures for bad configuration, and a clean shutdown on
//! SIGTERM that keeps the data.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{server, Started};

fn run(command: &mut Command) -> (i32, String) {
    let Output { status, stderr, .. } = command.output().expect("run sra-server");
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stderr).into_owned())
}

/// Starts the server on a port the system picks and waits until it says where it serves.
fn start(command: &mut Command) -> Started {
    common::start_on(command, 0)
}

/// One HTTP/1.1 request over a plain socket, as the console page would send it; returns the status, the
/// `Set-Cookie` value if any, and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> Option<(u16, Option<String>, String)> {
    let content_type = if body.starts_with('{') { "application/json" } else { "application/x-www-form-urlencoded" };
    let origin = format!("http://127.0.0.1:{port}");
    let cookie = cookie.map(|c| format!("sra_session={c}"));
    let mut headers = vec![("Origin", origin.as_str()), ("Content-Type", content_type)];
    if let Some(cookie) = &cookie {
        headers.push(("Cookie", cookie.as_str()));
    }
    let answer = common::request(port, method, path, &headers, body)?;
    let set_cookie = answer
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .find_map(|(_, value)| value.strip_prefix("sra_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    Some((answer.status, set_cookie, answer.body))
}

/// Signs in with a demo login and returns the sign-in cookie.
fn sign_in(port: u16, login: &str) -> String {
    let form = format!("login={login}&password={login}-sra-demo");
    let (status, cookie, body) = http(port, "POST", "/api/login", None, &form).expect("login request");
    assert!((200..400).contains(&status), "{status} {body}");
    cookie.expect("a sign-in cookie")
}

fn list_sessions(port: u16, cookie: &str) -> serde_json::Value {
    let (status, _, body) = http(port, "POST", "/api/list_sessions", Some(cookie), "{}").expect("list request");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn wait_ready(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _, _)) = http(port, "GET", "/readyz", None, "") {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early with {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server not ready on port {port} within 60 s");
}

fn terminate(child: Child) -> (i32, String) {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait for server");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_port_in_use_is_named_and_fails() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let (code, stderr) = run(server().args(["--port", &port.to_string(), "--data-dir"]).arg(data.path()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn an_unreachable_database_is_named_and_fails() {
    let data = tempfile::tempdir().unwrap();
    let (code, stderr) = run(server()
        .args(["--port", "0", "--data-dir"])
        .arg(data.path())
        .env("DATABASE_URL", "postgres://sra:hunter2@127.0.0.1:1/sra"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(stderr.contains("postgres://sra:***@127.0.0.1:1/sra"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "passwords never reach logs: {stderr}");
    assert!(stderr.contains("refused"), "the cause, not a pool time-out: {stderr}");
}

#[test]
fn an_unsupported_database_url_says_what_is_supported() {
    let data = tempfile::tempdir().unwrap();
    let (code, stderr) =
        run(server().args(["--port", "0", "--data-dir"]).arg(data.path()).env("DATABASE_URL", "mysql://x/y"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("use sqlite://PATH"), "{stderr}");
}

#[test]
fn an_unwritable_data_folder_fails_before_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let (code, stderr) = run(server().arg("--data-dir").arg(&file));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--data-dir / SRA_DATA_DIR") && stderr.contains("plain-file"), "{stderr}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let (code, stderr) = run(server().args(["--port", "seventy"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--port"), "{stderr}");
    let (code, stderr) = run(server().args(["--log-level", "info,=[x"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SRA_LOG"), "{stderr}");
    // Retention: audit entries kept for less time than sessions would leave sessions without their timelines.
    let (code, stderr) = run(server().args(["--retain-sessions", "180d", "--retain-audit", "90d"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--retain-audit") && stderr.contains("at least as long"), "{stderr}");
    let (code, stderr) = run(server().args(["--retain-sessions", "180 days"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("180d"), "{stderr}");
}

#[test]
fn sigterm_shuts_down_cleanly_and_the_demo_data_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let Started { mut child, port, .. } =
        start(server().args(["--demo", "--log-format", "json", "--data-dir"]).arg(data.path()));
    wait_ready(&mut child, port);
    let cookie = sign_in(port, "admin");
    assert_eq!(list_sessions(port, &cookie)["sessions"].as_array().map(Vec::len), Some(50));
    let (code, stderr) = terminate(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("shut down cleanly"), "{stderr}");
    // Structured logs: one JSON object a line, with a request line carrying method, path, status and latency.
    let request_line = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["path"] == "/api/list_sessions")
        .unwrap_or_else(|| panic!("no JSON request log line in {stderr}"));
    assert_eq!(request_line["method"], "POST");
    assert_eq!(request_line["status"], 200);
    assert!(request_line["latency_ms"].is_number() && request_line["request_id"].is_string());

    // Restarted without --demo on the same folder: the seeded sessions are all there.
    let Started { mut child, port, .. } = start(server().arg("--data-dir").arg(data.path()));
    wait_ready(&mut child, port);
    // The sign-in lives in the database too, so it survives the restart.
    assert_eq!(list_sessions(port, &cookie)["sessions"].as_array().map(Vec::len), Some(50));
    let (code, stderr) = terminate(child);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_fresh_database_gets_an_administrator_with_the_configured_password() {
    let data = tempfile::tempdir().unwrap();
    let Started { mut child, port, .. } =
        start(server().arg("--data-dir").arg(data.path()).env("SRA_ADMIN_PASSWORD", "admin-sra-demo"));
    wait_ready(&mut child, port);
    let cookie = sign_in(port, "admin");
    assert_eq!(list_sessions(port, &cookie)["sessions"].as_array().map(Vec::len), Some(0));
    let (code, stderr) = terminate(child);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn without_a_configured_password_the_administrator_gets_a_printed_one() {
    let data = tempfile::tempdir().unwrap();
    let Started { mut child, port, stdout } = start(server().arg("--data-dir").arg(data.path()));
    wait_ready(&mut child, port);
    let (code, stderr) = terminate(child);
    assert_eq!(code, 0, "{stderr}");
    // The password is printed before the server says where it serves.
    let password = stdout
        .split("password `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no generated password in {stdout}"));
    assert_eq!(password.len(), 20);
}

/// `sra-server admin …` with a data folder; returns exit code, stdout and stderr.
fn admin(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut command = server();
    command.arg("--data-dir").arg(data).arg("admin").args(args);
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn administration_from_the_command_line_changes_the_database_and_the_audit_log() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    assert_eq!(admin(dir, &["gateway", "register", "gw-eu-1", "--display-name", "EU 1"], None).0, 0);
    assert_eq!(admin(dir, &["gateway", "register", "gw-us-1"], None).0, 0);
    let (code, out, err) = admin(dir, &["role", "create", "eu-ops", "--rule", "own", "--gateway", "gw-eu-1"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created role eu-ops"));
    assert_eq!(admin(dir, &["role", "grant", "eu-ops", "--gateway", "gw-us-1"], None).0, 0);
    let (code, out, err) =
        admin(dir, &["user", "create", "erin", "--name", "Erin Ops", "--password-stdin"], Some("erin-password-1\n"));
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("password:"), "a given password is not echoed: {out}");
    assert_eq!(admin(dir, &["role", "assign", "erin", "eu-ops"], None).0, 0);
    let (_, out, _) = admin(dir, &["user", "list"], None);
    assert!(
        out.lines()
            .any(|l| l.starts_with("erin") && l.contains("Erin Ops") && l.contains("active") && l.ends_with("eu-ops")),
        "{out}"
    );
    let (_, out, _) = admin(dir, &["role", "list"], None);
    assert!(
        out.lines().any(|l| l.starts_with("eu-ops") && l.contains("own") && l.ends_with("gw-eu-1,gw-us-1")),
        "{out}"
    );
    let (code, out, _) = admin(dir, &["user", "set-password", "erin"], None);
    assert_eq!(code, 0);
    assert!(out.contains("password: "), "a generated password is shown once: {out}");
    assert_eq!(admin(dir, &["user", "disable", "erin"], None).0, 0);
    let (_, out, _) = admin(dir, &["user", "list"], None);
    assert!(out.lines().any(|l| l.starts_with("erin") && l.contains("disabled")), "{out}");

    // Bad input: the value and what is allowed, exit 2 for usage, 1 for what the database refuses.
    let (code, _, err) = admin(dir, &["role", "create", "x", "--rule", "some"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown SRA rule \"some\"; allowed: none, own, all"), "{err}");
    let (code, _, err) = admin(dir, &["role", "assign", "nobody", "eu-ops"], None);
    assert_eq!(code, 1);
    assert!(err.contains("unknown user \"nobody\""), "{err}");
    let (code, _, err) = admin(dir, &["role", "create", "y", "--rule", "all", "--gateway", "gw-eu-1"], None);
    assert_eq!(code, 1);
    assert!(err.contains("--gateway goes with --rule own"), "{err}");

    // Every change is in the audit log with the operating-system user as its actor.
    let db = audit_entries(dir);
    for action in [
        "gateway.registered",
        "role.created",
        "role.granted",
        "user.created",
        "user.password_set",
        "role.assigned",
        "user.disabled",
    ] {
        assert!(
            db.iter().any(|(actor, a)| a == action && actor.starts_with("user:os:")),
            "{action} missing from {db:?}"
        );
    }
}

/// The audit log's (actor, action) pairs, read through the store.
fn audit_entries(dir: &std::path::Path) -> Vec<(String, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sea_orm::ConnectionTrait;
        let keys = sra_store::AuditKeys::load(&dir.join("audit.key")).expect("the server's key file");
        let store = sra_store::Store::connect(&format!("sqlite://{}/sra.db", dir.display()), &keys).await.unwrap();
        let rows = store
            .connection()
            .query_all(sea_orm::Statement::from_string(
                store.connection().get_database_backend(),
                "SELECT actor, action FROM audit_log ORDER BY id",
            ))
            .await
            .unwrap();
        let pairs = rows.iter().map(|r| (r.try_get("", "actor").unwrap(), r.try_get("", "action").unwrap())).collect();
        store.close().await.unwrap();
        pairs
    })
}
