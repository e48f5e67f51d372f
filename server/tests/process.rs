//! The `sra-server` binary as an operator meets it: clear failures for bad configuration, and a clean shutdown on
//! SIGTERM that keeps the data.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_sra-server");

/// The server with none of the caller's `SRA_*` or `DATABASE_URL` settings leaking in.
fn server() -> Command {
    let mut command = Command::new(SERVER);
    for (key, _) in std::env::vars() {
        if key.starts_with("SRA_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn run(command: &mut Command) -> (i32, String) {
    let Output { status, stderr, .. } = command.output().expect("run sra-server");
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stderr).into_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.1 request over a plain socket; returns the status code and body.
fn http(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let (extra, body) =
        if method == "POST" { ("Content-Type: application/json\r\nContent-Length: 2\r\n", "{}") } else { ("", "") };
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n{body}").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

fn wait_ready(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _)) = http(port, "GET", "/readyz") {
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
    let (code, stderr) = run(server()
        .args(["--port", &free_port().to_string()])
        .env("DATABASE_URL", "postgres://sra:hunter2@127.0.0.1:1/sra"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(stderr.contains("postgres://sra:***@127.0.0.1:1/sra"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "passwords never reach logs: {stderr}");
}

#[test]
fn an_unsupported_database_url_says_what_is_supported() {
    let (code, stderr) = run(server().args(["--port", &free_port().to_string()]).env("DATABASE_URL", "mysql://x/y"));
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
}

#[test]
fn sigterm_shuts_down_cleanly_and_the_demo_data_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = server()
        .args(["--demo", "--port", &port.to_string(), "--log-format", "json", "--data-dir"])
        .arg(data.path())
        .spawn()
        .unwrap();
    wait_ready(&mut child, port);
    let (status, body) = http(port, "POST", "/api/list_sessions").unwrap();
    assert_eq!(status, 200, "{body}");
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
    let mut child = server().args(["--port", &port.to_string(), "--data-dir"]).arg(data.path()).spawn().unwrap();
    wait_ready(&mut child, port);
    let (_, body) = http(port, "POST", "/api/list_sessions").unwrap();
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["sessions"].as_array().map(Vec::len), Some(50), "{body}");
    let (code, stderr) = terminate(child);
    assert_eq!(code, 0, "{stderr}");
}
