//! What the tests that run the real `sra-server` binary share: a clean command, starting it and reading back its
//! port, and plain HTTP/1.1 requests.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SERVER: &str = env!("CARGO_BIN_EXE_sra-server");

/// The server with none of the caller's `SRA_*` or `DATABASE_URL` settings leaking in.
pub fn server() -> Command {
    let mut command = Command::new(SERVER);
    for (key, _) in std::env::vars() {
        if key.starts_with("SRA_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// A started server, on the port it serves (read back from the line it prints).
pub struct Started {
    pub child: Child,
    pub port: u16,
    /// What it printed up to and including that line.
    pub stdout: String,
}

/// Starts the server on `port` (0: one the system picks, so no other process can take it in between) and waits until
/// it says where it serves. What it prints on stdout afterwards is drained, so it never blocks on a full pipe; stderr is
/// the caller's (set it to null unless it is read).
// The child goes back to the caller, who waits for it: clippy cannot see past the return.
#[allow(clippy::zombie_processes)]
pub fn start_on(command: &mut Command, port: u16) -> Started {
    let mut child = command.args(["--port", &port.to_string()]).spawn().expect("start sra-server");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut stdout = String::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).expect("read stdout") == 0 {
            let status = child.wait().expect("wait for sra-server");
            panic!("the server exited ({status}) before serving; it printed: {stdout}");
        }
        stdout.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("SRA Sessions is serving http://127.0.0.1:") {
            let port = rest.split('/').next().and_then(|p| p.parse().ok()).expect("a port in the URL");
            std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
            return Started { child, port, stdout };
        }
    }
}

/// An answer: status, headers (names in lower case) and body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a plain socket; `None` when the server cannot be reached or does not answer in 10 s.
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let extra: String = headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Answer { status, headers, body: body.to_owned() })
}

/// Sends SIGTERM and waits for the exit.
pub fn terminate(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    child.wait().expect("wait for the server");
}
