//! The built `sra` binary against a running server (the real router on a real port, over a real SQLite file and a
//! real PostgreSQL database): authentication and profiles, the default listing, every status, resource types,
//! combinations, pages, `--json`, tables, bad values, expired tokens, an unreachable server — and one user getting the
//! same sessions from the console's server function, the API and the CLI.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use sra_domain::{
    Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionStatus, SessionUpdate, MINUTE_MS,
};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const PASSWORD: &str = "cli-password-1";

/// id, user, gateway, resource type, final status; started `i` × 10 minutes ago, newest first.
const SESSIONS: &[(&str, &str, &str, ResourceType, SessionStatus)] = &[
    ("c-01", "alice", "gw-a", ResourceType::Ssh, SessionStatus::Connected),
    ("c-02", "bob", "gw-b", ResourceType::Rdp, SessionStatus::Connecting),
    ("c-03", "bob", "gw-b", ResourceType::Mysql, SessionStatus::Completed),
    ("c-04", "carol", "gw-a", ResourceType::Ssh, SessionStatus::Failed),
    ("c-05", "olivia", "gw-a", ResourceType::K8s, SessionStatus::Terminated),
    ("c-06", "bob", "gw-a", ResourceType::Ssh, SessionStatus::Connected),
    ("c-07", "carol", "gw-b", ResourceType::Ssh, SessionStatus::Connected),
];

struct World {
    url: String,
    router: Router,
    /// `SRA_CONFIG_DIR` for the CLI runs.
    config: tempfile::TempDir,
    _site: tempfile::TempDir,
}

async fn world(store: &Store) -> World {
    sra_store::testing::Cast::usual(PASSWORD, "gw-b").create(store).await;
    let now = now_ms();
    let mut updates = Vec::new();
    for (i, (id, user, gateway, resource, status)) in SESSIONS.iter().enumerate() {
        let at = now - (i as i64 + 1) * 10 * MINUTE_MS;
        let update = |offset: i64, change| SessionUpdate { session_id: (*id).into(), at: at + offset, change };
        updates.push(update(
            0,
            SessionChange::Started(NewSession {
                user: (*user).into(),
                access_id: None,
                client_interface: ClientInterface::Cli,
                gateway: (*gateway).into(),
                resource_type: *resource,
                secret_name: format!("/prod/{resource}/{id}-with-a-rather-long-secret-path"),
                target_name: format!("host-{id}"),
                target_host: "10.1.2.3:22".into(),
            }),
        ));
        match status {
            SessionStatus::Connecting => {}
            SessionStatus::Connected => updates.push(update(1_000, SessionChange::Connected)),
            SessionStatus::Completed => {
                updates.push(update(1_000, SessionChange::Connected));
                updates.push(update(65_000, SessionChange::Completed));
            }
            SessionStatus::Failed => updates.push(update(1_000, SessionChange::Failed { error: "refused".into() })),
            SessionStatus::Terminated => {
                updates.push(update(1_000, SessionChange::Connected));
                updates.push(update(2_000, SessionChange::Terminated));
            }
        }
    }
    store.apply_updates(&Actor::Gateway("sim".into()), &updates).await.unwrap();

    let site = tempfile::tempdir().unwrap();
    let router = sra_server::router(site.path(), store.clone(), Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = router.clone().into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    World { url, router, config: tempfile::tempdir().unwrap(), _site: site }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl World {
    /// Runs `sra ARGS` with this world's config directory and server, and `stdin` as its input.
    async fn sra_with(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        use tokio::io::AsyncWriteExt;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_sra"));
        command
            .args(args)
            .env("SRA_CONFIG_DIR", self.config.path())
            .env("SRA_GATEWAY_URL", &self.url)
            .env("COLUMNS", "300")
            .env_remove("SRA_TOKEN")
            .env_remove("SRA_PROFILE")
            .env_remove("SRA_PASSWORD")
            .env_remove("SRA_ACCESS_KEY")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("run sra");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let output = child.wait_with_output().await.unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    async fn sra(&self, args: &[&str]) -> Run {
        self.sra_with(args, &[], "").await
    }

    /// Runs `sra ARGS`, expecting success.
    async fn ok(&self, args: &[&str]) -> String {
        let run = self.sra(args).await;
        assert_eq!(run.code, 0, "sra {args:?}: {}{}", run.stdout, run.stderr);
        run.stdout
    }

    /// Authenticates `login` with an API key into the default profile.
    async fn sign_in(&self, store: &Store, login: &str) {
        let key = store.create_api_key(&Actor::System, login).await.unwrap();
        let run = self.sra(&["auth", "--access-id", &key.access_id, "--access-key", &key.access_key]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    fn profile(&self, name: &str) -> PathBuf {
        self.config.path().join("profiles").join(format!("{name}.json"))
    }
}

/// The session IDs of a table's rows (the column headed SESSION ID).
fn table_ids(table: &str) -> Vec<String> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let start = header.find("SESSION ID").unwrap_or_else(|| panic!("no SESSION ID column: {table}"));
    lines.map(|line| line[start..].split_whitespace().next().unwrap().to_owned()).collect()
}

fn json_ids(text: &str) -> Vec<String> {
    let answer: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    answer["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_owned()).collect()
}

fn expected(keep: impl Fn(SessionStatus, ResourceType) -> bool) -> Vec<String> {
    SESSIONS.iter().filter(|s| keep(s.4, s.3)).map(|s| s.0.to_owned()).collect()
}

async fn auth_keeps_a_private_profile_and_lists_active_sessions_by_default(store: &Store) {
    let w = world(store).await;
    w.sign_in(store, "admin").await;
    let profile = std::fs::read_to_string(w.profile("default")).unwrap();
    let saved: Value = serde_json::from_str(&profile).unwrap();
    assert!(saved["token"].as_str().unwrap().starts_with("t-"));
    assert_eq!(saved["gateway_url"], w.url);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.profile("default")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is private");
    }

    let table = w.ok(&["list-sra-sessions"]).await;
    assert_eq!(table_ids(&table), expected(|s, _| s.is_active()), "{table}");
    let header: Vec<&str> =
        table.lines().next().unwrap().split("  ").filter(|c| !c.is_empty()).map(str::trim).collect();
    assert_eq!(
        header,
        ["CLIENT INTERFACE", "USER", "GATEWAY", "RESOURCE TYPE", "SECRET", "SESSION ID", "STATUS", "DURATION"]
    );
    let first = table.lines().nth(1).unwrap();
    for cell in ["CLI", "alice", "Gateway A", "ssh", "/prod/ssh/c-01-with-a-rather-long-secret-path", "connected"] {
        assert!(first.contains(cell), "{cell} missing from {first:?}");
    }
    // Started 10 minutes before the listing was set up: whatever the machine's speed, the duration is 10m and some
    // seconds (a window that cannot race, unlike "00s or 01s").
    let duration = first.trim_end().rsplit("  ").next().unwrap().trim();
    let seconds: u32 =
        duration.strip_prefix("10m ").and_then(|s| s.strip_suffix('s')).and_then(|s| s.parse().ok()).unwrap_or(99);
    assert!(seconds < 60, "{first:?}");

    // The server URL is remembered: no flag, no environment.
    let run = w.sra_with(&["list-sra-sessions"], &[("SRA_GATEWAY_URL", "")], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Password sign-in into another profile, the password read from stdin.
    let run = w.sra_with(&["auth", "--profile", "ops", "--admin-email", "alice"], &[], &format!("{PASSWORD}\n")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let table = w.ok(&["list-sra-sessions", "--profile", "ops", "--status-type", "connected,completed,failed"]).await;
    assert_eq!(table_ids(&table), ["c-01"], "alice sees her own only");
    let run = w.sra_with(&["auth", "--profile", "ops", "--admin-email", "alice"], &[], "wrong-password\n").await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("wrong login or password"), "{}", run.stderr);
}

async fn every_status_and_resource_type_filters_and_combines(store: &Store) {
    let w = world(store).await;
    w.sign_in(store, "admin").await;
    for status in SessionStatus::ALL {
        let table = w.ok(&["list-sra-sessions", "--status-type", status.as_str()]).await;
        let want = expected(|s, _| s == *status);
        if want.is_empty() {
            assert_eq!(table, "No sessions match.\n");
        } else {
            assert_eq!(table_ids(&table), want, "{status}: {table}");
        }
    }
    let table = w.ok(&["list-sra-sessions", "--status-type", "failed", "--status-type", "terminated,completed"]).await;
    assert_eq!(table_ids(&table), expected(|s, _| !s.is_active()));
    for resource in [ResourceType::Ssh, ResourceType::Rdp, ResourceType::Mysql] {
        let table = w.ok(&["list-sra-sessions", "--resource-type", resource.as_str()]).await;
        let want = expected(|s, r| r == resource && s.is_active());
        if want.is_empty() {
            assert_eq!(table, "No active sessions match.\n", "{resource}");
        } else {
            assert_eq!(table_ids(&table), want, "{resource}");
        }
    }
    let all = "connecting,connected,failed,completed,terminated";
    let table = w.ok(&["list-sra-sessions", "--status-type", all, "--resource-type", "ssh,k8s"]).await;
    assert_eq!(table_ids(&table), expected(|_, r| matches!(r, ResourceType::Ssh | ResourceType::K8s)));
    let table = w.ok(&["list-sra-sessions", "--status-type", all, "--gateway", "gw-b", "--sort", "session_id"]).await;
    assert_eq!(table_ids(&table), ["c-02", "c-03", "c-07"]);
    let table = w.ok(&["list-sra-sessions", "--status-type", all, "--search", "HOST-C-04", "--from", "2h"]).await;
    assert_eq!(table_ids(&table), ["c-04"]);
    let table = w.ok(&["list-sra-sessions", "--status-type", all, "--from", "35m"]).await;
    assert_eq!(table_ids(&table), ["c-01", "c-02", "c-03", "c-06", "c-07"], "started since, or still running");

    // --json prints the API's answer.
    let text = w.ok(&["list-sra-sessions", "--json"]).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json_ids(&text), expected(|s, _| s.is_active()));
    assert_eq!(answer["allowed_gateways"].as_array().unwrap().len(), 2);
    assert_eq!(answer["sessions"][0]["client_type"], "cli");
}

async fn pages_continue_by_token_or_all_at_once(store: &Store) {
    let w = world(store).await;
    w.sign_in(store, "admin").await;
    let all = "connecting,connected,failed,completed,terminated";
    let run = w.sra(&["list-sra-sessions", "--status-type", all, "--page-size", "3"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(table_ids(&run.stdout), ["c-01", "c-02", "c-03"]);
    let token = run.stderr.split("--pagination-token ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let next =
        w.ok(&["list-sra-sessions", "--status-type", all, "--page-size", "3", "--pagination-token", &token]).await;
    assert_eq!(table_ids(&next), ["c-04", "c-05", "c-06"]);
    let every = w.ok(&["list-sra-sessions", "--status-type", all, "--page-size", "2", "--all-pages"]).await;
    assert_eq!(table_ids(&every), expected(|_, _| true));
    let json = w.ok(&["list-sra-sessions", "--status-type", all, "--page-size", "2", "--all-pages", "--json"]).await;
    assert_eq!(json_ids(&json), expected(|_, _| true));
    assert!(serde_json::from_str::<Value>(&json).unwrap().get("next_page").is_none());
    // A page token with different filters is refused by the server.
    let run = w.sra(&["list-sra-sessions", "--page-size", "3", "--pagination-token", &token]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("invalid page cursor"), "{}", run.stderr);
}

async fn tables_fit_the_terminal(store: &Store) {
    let w = world(store).await;
    w.sign_in(store, "admin").await;
    let run = w.sra_with(&["list-sra-sessions"], &[("COLUMNS", "100")], "").await;
    assert_eq!(run.code, 0);
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 100, "{line:?} is {} wide", line.chars().count());
    }
    assert!(run.stdout.contains('…'), "the secret column gave way: {}", run.stdout);
    assert_eq!(table_ids(&run.stdout), expected(|s, _| s.is_active()), "session IDs stay whole");
}

async fn bad_input_and_failures_end_with_the_right_exit_code(store: &Store) {
    let w = world(store).await;
    let run = w.sra(&["list-sra-sessions"]).await;
    assert_eq!(run.code, 2, "not signed in");
    assert!(run.stderr.contains("not authenticated (profile \"default\"): run `sra auth` first"), "{}", run.stderr);
    w.sign_in(store, "admin").await;
    let usage: &[(&[&str], &str)] = &[
        (
            &["--status-type", "active"],
            "unknown status \"active\"; allowed: connecting, connected, failed, completed, terminated",
        ),
        (&["--resource-type", "ssh,telnet"], "unknown resource type \"telnet\"; allowed: ssh, rdp"),
        (&["--client-interface", "phone"], "allowed: web_portal_cli, web_portal_web, cli, desktop_app"),
        (&["--from", "yesterday"], "--from: invalid time \"yesterday\""),
        (&["--page-size", "0"], "page size 0 is out of range; allowed: 1 to 500"),
        (&["--page-size", "many"], "invalid value 'many' for '--page-size <N>'"),
        (&["--sort", "colour"], "unknown sort field \"colour\""),
        (&["--unknown-flag"], "unexpected argument '--unknown-flag'"),
        (&["--profile", "../etc"], "invalid profile name \"../etc\""),
    ];
    for (args, message) in usage {
        let mut full = vec!["list-sra-sessions"];
        full.extend_from_slice(args);
        let run = w.sra(&full).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {:?} lacks {message:?}", run.stderr);
        assert!(run.stdout.is_empty());
    }

    // An expired token: the server refuses (exit 1) and the message says what to do.
    let sql = format!("UPDATE api_tokens SET expires_at = {}", now_ms() - 1);
    store.connection().execute_unprepared(&sql).await.unwrap();
    let run = w.sra(&["list-sra-sessions"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the token expired at"), "{}", run.stderr);
    assert!(run.stderr.contains("run `sra auth`"), "{}", run.stderr);

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = w.sra(&["list-sra-sessions", "--gateway-url", &url]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(&format!("cannot reach the server at {url}")), "{}", run.stderr);
    let run = w.sra(&["list-sra-sessions", "--gateway-url", "localhost:3000"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid --gateway-url \"localhost:3000\""), "{}", run.stderr);
}

async fn audit_help_and_completions(store: &Store) {
    let w = world(store).await;
    w.sign_in(store, "alice").await;
    let table = w.ok(&["audit", "c-01"]).await;
    let actions: Vec<&str> = table.lines().skip(1).map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(actions, ["session.started", "session.connected"], "{table}");
    let json: Value = serde_json::from_str(&w.ok(&["audit", "c-01", "--json"]).await).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 2);
    let listed = w.ok(&["audit", "--actor", "gateway:sim", "--from", "2h"]).await;
    let sessions: BTreeSet<&str> = listed.lines().skip(1).map(|l| l.split_whitespace().nth(3).unwrap()).collect();
    assert_eq!(sessions, BTreeSet::from(["c-01"]), "alice sees the trail of her own session only: {listed}");
    let json: Value =
        serde_json::from_str(&w.ok(&["audit", "--page-size", "1", "--all-pages", "--json"]).await).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 2);
    let run = w.sra(&["audit", "--page-size", "0"]).await;
    assert_eq!((run.code, run.stderr.contains("page size 0 is out of range")), (2, true), "{}", run.stderr);
    let run = w.sra(&["audit", "c-02"]).await;
    assert_eq!(run.code, 1, "not hers");
    assert!(run.stderr.contains("unknown session \"c-02\""), "{}", run.stderr);

    // Terminating needs a reason, and All or Own on the gateway: alice (Self) is refused, the admin is not.
    let run = w.sra(&["terminate", "c-01"]).await;
    assert_eq!((run.code, run.stderr.contains("--reason")), (2, true), "{}", run.stderr);
    let run = w.sra(&["terminate", "c-01", "--reason", " "]).await;
    assert_eq!((run.code, run.stderr.contains("\"reason\" is required")), (2, true), "{}", run.stderr);
    let run = w.sra(&["terminate", "c-01", "--reason", "leaked key"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not permitted: terminating session \"c-01\" needs All, or Own"), "{}", run.stderr);
    let key = store.create_api_key(&Actor::System, "admin").await.unwrap();
    let args = ["auth", "--profile", "ops", "--access-id", &key.access_id, "--access-key", &key.access_key];
    assert_eq!(w.sra(&args).await.code, 0);
    let done = w.ok(&["terminate", "c-01", "--reason", "leaked key", "--profile", "ops"]).await;
    assert!(done.starts_with("Termination of c-01 requested at 20"), "{done}");
    let again = w.ok(&["terminate", "c-01", "--reason", "leaked key", "--profile", "ops"]).await;
    assert!(again.contains("was already requested"), "{again}");
    let table = w.ok(&["list-sra-sessions", "--profile", "ops"]).await;
    let row = table.lines().find(|l| l.contains("c-01")).unwrap();
    assert!(row.contains("terminating…"), "{row}");
    let json: Value = serde_json::from_str(&w.ok(&["list-sra-sessions", "--profile", "ops", "--json"]).await).unwrap();
    let c01 = json["sessions"].as_array().unwrap().iter().find(|s| s["session_id"] == "c-01").unwrap().clone();
    assert_eq!(
        (c01["termination_reason"].as_str(), c01["termination_requested_by"].as_str()),
        (Some("leaked key"), Some("admin"))
    );
    let run = w.sra(&["terminate", "c-03", "--reason", "leaked key", "--profile", "ops"]).await;
    assert_eq!((run.code, run.stderr.contains("has already ended (completed)")), (1, true), "{}", run.stderr);

    // Several at once: a dry run says which would end; a request names what it skipped and why.
    let preview = w.ok(&["terminate", "--user", "bob", "--dry-run", "--profile", "ops"]).await;
    assert!(preview.starts_with("Would request termination of 2 sessions."), "{preview}");
    assert!(preview.contains("c-02") && preview.contains("c-06") && !preview.contains("c-03"), "{preview}");
    let run = w.sra(&["terminate", "--user", "bob", "--gateway", "gw-a", "--reason", "x", "--profile", "ops"]).await;
    assert_eq!(run.code, 2, "one selection at a time: {}", run.stderr);
    let done = w.ok(&["terminate", "c-06", "c-03", "nope", "--reason", "offboarding", "--profile", "ops"]).await;
    assert!(done.starts_with("Termination requested for 1 session;"), "{done}");
    assert!(done.contains("Skipped 2 sessions:"), "{done}");
    assert!(done.contains("it has already ended (completed)") && done.contains("no such session"), "{done}");
    // The audit reads in words, and filters by action.
    let asked = w.ok(&["audit", "--action", "session.terminate_requested", "--profile", "ops"]).await;
    assert!(asked.lines().next().unwrap().contains("WHAT HAPPENED"), "{asked}");
    assert!(asked.contains("termination requested by admin: offboarding"), "{asked}");
    assert!(asked.contains("termination requested by admin: leaked key"), "{asked}");
    assert!(asked.lines().skip(1).all(|l| l.contains("session.terminate_requested")), "{asked}");
    // A block placed with a termination is listed, and lifted.
    let run = w.sra(&["terminate", "c-07", "--reason", "x", "--block-for", "1w", "--profile", "ops"]).await;
    assert_eq!((run.code, run.stderr.contains("from 1m to 90d")), (2, true), "{}", run.stderr);
    let done = w.ok(&["terminate", "c-07", "--reason", "token theft", "--block-for", "4h", "--profile", "ops"]).await;
    assert!(done.contains("carol may open no new session on gw-b until 20"), "{done}");
    let listed = w.ok(&["blocks", "--profile", "ops"]).await;
    let row = listed.lines().find(|l| l.contains("carol")).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("gw-b") && row.contains("token theft"), "{row}");
    let id = row.split_whitespace().next().unwrap().to_owned();
    let lifted = w.ok(&["blocks", "--lift", &id, "--profile", "ops"]).await;
    assert_eq!(lifted, "Lifted: carol may open sessions on gw-b again.\n");
    assert_eq!(w.ok(&["blocks", "--profile", "ops"]).await, "No live blocks.\n");
    let run = w.sra(&["audit", "--action", "session", "--profile", "ops"]).await;
    assert_eq!(
        (run.code, run.stderr.contains("is not allowed; allowed: an action as recorded")),
        (1, true),
        "{}",
        run.stderr
    );

    for command in ["auth", "list-sra-sessions", "audit", "terminate", "completions"] {
        let help = w.ok(&[command, "--help"]).await;
        assert!(help.contains("Example"), "{command} --help has examples: {help}");
    }
    let script = w.ok(&["completions", "bash"]).await;
    assert!(script.contains("list-sra-sessions") && script.contains("--status-type"), "{script}");
}

/// The console's server function, the API and the CLI give one user the same sessions.
async fn console_api_and_cli_agree(store: &Store) {
    let w = world(store).await;
    for login in ["olivia", "alice", "admin"] {
        w.sign_in(store, login).await;
        let principal = sra_store::testing::sign_in(store, login, PASSWORD).await.unwrap();
        let cookie = store.open_console_session(&principal).await.unwrap();
        let token = store.issue_api_token(&principal, None).await.unwrap().token;
        for statuses in
            [vec![], vec!["failed", "completed", "terminated"], SessionStatus::ALL.iter().map(|s| s.as_str()).collect()]
        {
            // The console asks for the active statuses explicitly; the API and CLI default to them.
            let console_statuses = if statuses.is_empty() { vec!["connecting", "connected"] } else { statuses.clone() };
            let request = Request::post("/api/list_sessions")
                .header(header::HOST, "console.test")
                .header(header::ORIGIN, "http://console.test")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, format!("sra_session={cookie}"))
                .body(Body::from(json!({"query": {"statuses": console_statuses}}).to_string()))
                .unwrap();
            let response = w.router.clone().oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let page: Value = serde_json::from_slice(&bytes).unwrap();
            let console: BTreeSet<String> =
                page["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().into()).collect();

            let request = Request::post("/list-sra-sessions")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"token": token, "status-type": statuses}).to_string()))
                .unwrap();
            let response = w.router.clone().oneshot(request).await.unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let api: BTreeSet<String> = json_ids(&String::from_utf8_lossy(&bytes)).into_iter().collect();

            let mut args = vec!["list-sra-sessions"];
            let joined = statuses.join(",");
            if !statuses.is_empty() {
                args.extend(["--status-type", &joined]);
            }
            let run = w.sra(&args).await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            let cli: BTreeSet<String> = if run.stdout.starts_with("No ") {
                BTreeSet::new()
            } else {
                table_ids(&run.stdout).into_iter().collect()
            };
            assert_eq!(console, api, "{login} {statuses:?}: console vs API");
            assert_eq!(api, cli, "{login} {statuses:?}: API vs CLI");
            let visible = |user: &str, gateway: &str| match login {
                "admin" => true,
                "olivia" => user == "olivia" || gateway == "gw-b",
                _ => user == login,
            };
            let want: BTreeSet<String> = SESSIONS
                .iter()
                .filter(|s| visible(s.1, s.2))
                .filter(|s| if statuses.is_empty() { s.4.is_active() } else { statuses.contains(&s.4.as_str()) })
                .map(|s| s.0.to_owned())
                .collect();
            assert_eq!(cli, want, "{login} {statuses:?}");
        }
    }
}

sra_store::on_both_backends!(
    auth_keeps_a_private_profile_and_lists_active_sessions_by_default,
    every_status_and_resource_type_filters_and_combines,
    pages_continue_by_token_or_all_at_once,
    tables_fit_the_terminal,
    bad_input_and_failures_end_with_the_right_exit_code,
    audit_help_and_completions,
    console_api_and_cli_agree,
);
