//! Query engine benchmark: a realistic large store, and the time of the pages and counts the console asks for.
//!
//! ```text
//! cargo bench -p sra-store --bench query                     # SQLite, 1,000,000 sessions
//! SRA_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres cargo bench -p sra-store --bench query
//! SRA_BENCH_SESSIONS=100000 cargo bench -p sra-store --bench query   # a smaller store
//! SRA_BENCH_ONLY=sorts cargo bench -p sra-store --bench query        # one table: views | sorts | changes
//! ```
//!
//! The store: N sessions over the last 30 days, 20,000 users, 500 gateways, about 1% still active (started in the last
//! hours). Rows are bulk-inserted (no audit entries: they do not take part in listing). The SQLite file is kept in
//! `target/bench/` and the PostgreSQL database `sra_bench` is kept too, and reused while their shape matches.
//!
//! For three callers — All (admin), Own (20 gateways) and Self (a user with ~50 sessions) — with and without filters it
//! times: the first page (50 rows) through the engine; the floor, the very statement the engine issues run raw on the
//! same connection (so the ratio is the engine's own overhead: caller and gateway look-ups, cursor signing, row
//! mapping); for the default view, a naive single statement for contrast; page 100 reached by cursor; the per-status
//! counts, computed and cached; the counts of each folded filter's choices (client interface, resource type, gateway).
//! A second table sorts views by every column, each way round: the first page and page 100. A third table times the
//! refresh that asks what changed since a changes token (`changes-since`): with nothing changed, and after 10 sessions
//! started. Each figure is the median of repeated runs.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Statement};
use sra_domain::{
    Caller, ClientInterface, Facet, RawSessionQuery, ResourceType, Scope, SessionQuery, SessionStatus, DAY_MS, HOUR_MS,
    MINUTE_MS,
};
use sra_store::{now_ms, Backend, Store};

const USERS: usize = 20_000;
const GATEWAYS: usize = 500;
const OWN_GATEWAYS: usize = 20;
const RUNS: usize = 30;

struct Shape {
    sessions: usize,
    now: i64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sessions = std::env::var("SRA_BENCH_SESSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let (label, url) = match std::env::var("SRA_BENCH_POSTGRES_URL") {
        Ok(admin) => ("PostgreSQL", postgres_bench_db(&admin).await),
        Err(_) => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
            ("SQLite", format!("sqlite://{}/sessions-{sessions}.db", dir.display()))
        }
    };
    // The bench store is kept between runs, so its audit key is too.
    let bench_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    let key_file = bench_dir.join(format!("{}-{sessions}.audit.key", label.to_lowercase()));
    let keys = sra_store::AuditKeys::load_or_create(&key_file).expect("bench audit key");
    let store = Store::connect(&url, &keys).await.expect("open bench store");
    let shape = ensure_data(&store, sessions).await;
    // As the server does at start: the planner's statistics cover every index (see `Store::refresh_statistics`).
    store.refresh_statistics().await.expect("planner statistics");
    println!(
        "# {label}: {} sessions, {USERS} users, {GATEWAYS} gateways (data generated at {})",
        shape.sessions, shape.now
    );

    let own_gateways: std::collections::BTreeSet<String> = (0..OWN_GATEWAYS).map(gateway_name).collect();
    let callers = [
        ("All", Caller::admin("admin")),
        ("Own (20 gateways)", Caller { login: "own-user".into(), scope: Scope::Gateways(own_gateways) }),
        ("Self (~50 sessions)", Caller::self_only(user_name(7))),
    ];
    let filters: [(&str, RawSessionQuery); 7] = [
        ("default view", RawSessionQuery::default()),
        ("active only", RawSessionQuery { statuses: vec!["connecting,connected".into()], ..Default::default() }),
        (
            "ssh+rdp, completed, 2 gateways",
            RawSessionQuery {
                resource_types: vec!["ssh,rdp".into()],
                statuses: vec!["completed".into()],
                gateways: vec![gateway_name(3), gateway_name(250)],
                ..Default::default()
            },
        ),
        ("one user (exact filter)", RawSessionQuery { users: vec![user_name(42)], ..Default::default() }),
        ("search a user's name", RawSessionQuery { search: Some(user_name(42)), ..Default::default() }),
        ("search part of a session ID", RawSessionQuery { search: Some("-424242".into()), ..Default::default() }),
        ("search a common word (ssh)", RawSessionQuery { search: Some("ssh".into()), ..Default::default() }),
    ];
    let only = std::env::var("SRA_BENCH_ONLY").ok();
    let wanted = |table: &str| only.as_deref().is_none_or(|only| only == table);
    if wanted("views") {
        views(&store, &callers, &filters).await;
    }
    if wanted("sorts") {
        sorts(&store, &callers).await;
    }
    if wanted("changes") {
        changes(&store, &callers, &filters[..2]).await;
    }
    store.close().await.unwrap();
}

/// The views table: each caller and filter, by start time.
async fn views(store: &Store, callers: &[(&str, Caller)], filters: &[(&str, RawSessionQuery)]) {
    println!("| caller | view | rows | first page | floor: its SQL run raw | ratio | naive single statement | page 100 | counts | counts, cached | choice counts: client · type · gateway |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (caller_label, caller) in callers {
        for (filter_label, raw) in filters {
            let query = raw.clone().parse(now_ms()).expect("valid bench query");
            let first = median(RUNS, || async { store.list_sessions(caller, &query).await.unwrap() }).await;
            let rows = store.list_sessions(caller, &query).await.unwrap().sessions.len();
            let statement = store.listing_statement(caller, &query).await.unwrap().expect("a statement");
            let floor = median(RUNS, || async { store.connection().query_all(statement.clone()).await.unwrap() }).await;
            let naive = if raw == &RawSessionQuery::default() {
                let statement = naive_first_page(&store, caller, &query).await;
                Some(median(5, || async { store.connection().query_all(statement.clone()).await.unwrap() }).await)
            } else {
                None
            };
            let deep = match cursor_of_page(&store, caller, &query, 100).await {
                Some(cursor) => {
                    let q = SessionQuery { cursor: Some(cursor), ..query.clone() };
                    Some(median(RUNS, || async { store.list_sessions(caller, &q).await.unwrap() }).await)
                }
                None => None,
            };
            let counts = median(5, || async { store.status_counts(caller, &query).await.unwrap() }).await;
            let cached = median(RUNS, || async { store.status_counts_cached(caller, &query).await.unwrap() }).await;
            let mut choices = Vec::new();
            for facet in Facet::ALL {
                choices
                    .push(ms(median(5, || async { store.choice_counts(caller, &query, *facet).await.unwrap() }).await));
            }
            println!(
                "| {caller_label} | {filter_label} | {rows} | {} | {} | {:.2}× | {} | {} | {} | {} | {} |",
                ms(first),
                ms(floor),
                first.as_secs_f64() / floor.as_secs_f64(),
                naive.map_or("–".into(), ms),
                deep.map_or("(fewer pages)".into(), ms),
                ms(counts),
                ms(cached),
                choices.join(" · "),
            );
        }
    }
}

/// The sorts table: views sorted by every column, each way round — a dense one (everything), a fairly dense one (one
/// status), a sparse one (one gateway's failures) and Own's views.
async fn sorts(store: &Store, callers: &[(&str, Caller)]) {
    let views: [(usize, &str, RawSessionQuery); 5] = [
        (0, "default view", RawSessionQuery::default()),
        (0, "completed", RawSessionQuery { statuses: vec!["completed".into()], ..Default::default() }),
        (
            0,
            "one gateway, failed",
            RawSessionQuery { statuses: vec!["failed".into()], gateways: vec![gateway_name(3)], ..Default::default() },
        ),
        (1, "default view", RawSessionQuery::default()),
        (1, "active only", RawSessionQuery { statuses: vec!["connecting,connected".into()], ..Default::default() }),
    ];
    println!();
    println!("| caller | view | sort | rows | first page | page 100 |");
    println!("|---|---|---|---|---|---|");
    for (caller_index, view_label, raw) in &views {
        let (caller_label, caller) = &callers[*caller_index];
        for field in sra_domain::SortField::ALL.iter().filter(|f| **f != sra_domain::SortField::StartTime) {
            for direction in ["asc", "desc"] {
                let sort = format!("{}:{direction}", field.as_str());
                let query = RawSessionQuery { sort: Some(sort.clone()), ..raw.clone() }.parse(now_ms()).unwrap();
                let first = median(RUNS, || async { store.list_sessions(caller, &query).await.unwrap() }).await;
                let rows = store.list_sessions(caller, &query).await.unwrap().sessions.len();
                let deep = match cursor_of_page(store, caller, &query, 100).await {
                    Some(cursor) => {
                        let q = SessionQuery { cursor: Some(cursor), ..query.clone() };
                        Some(median(RUNS, || async { store.list_sessions(caller, &q).await.unwrap() }).await)
                    }
                    None => None,
                };
                println!(
                    "| {caller_label} | {view_label} | {sort} | {rows} | {} | {} |",
                    ms(first),
                    deep.map_or("(fewer pages)".into(), ms)
                );
            }
        }
    }
}

/// The changes table: a refresh that asks what changed since its page's changes token, against reading the page and
/// counts again. Starts 10 sessions (on the Own caller's first gateway, by one of its users) for the changed case.
async fn changes(store: &Store, callers: &[(&str, Caller)], filters: &[(&str, RawSessionQuery)]) {
    use sra_domain::{Actor, NewSession, SessionChange, SessionUpdate, ViewChanges};
    println!("| caller | view | unchanged | 10 sessions changed | changed in view | read the page + counts instead |");
    println!("|---|---|---|---|---|---|");
    for (who, caller) in callers {
        for (what, raw) in filters {
            let query = raw.clone().parse(now_ms()).unwrap();
            let token = store.list_sessions(caller, &query).await.unwrap().changes_token.unwrap();
            // Each run pays for the whole answer: the shared readings would answer every run after the first.
            let unchanged = median(RUNS, || async {
                store.forget_shared_readings();
                store.session_changes(caller, &query, &token).await.unwrap()
            })
            .await;
            let answer = store.session_changes(caller, &query, &token).await.unwrap();
            assert_eq!(answer.changes, ViewChanges::Unchanged, "{who} {what}");
            let at = now_ms();
            let started: Vec<SessionUpdate> = (0..10)
                .map(|i| SessionUpdate {
                    session_id: format!("bench-{at}-{i}"),
                    at,
                    change: SessionChange::Started(NewSession {
                        user: user_name(7),
                        access_id: None,
                        client_interface: ClientInterface::Cli,
                        gateway: gateway_name(0),
                        resource_type: ResourceType::Ssh,
                        secret_name: "/prod/ssh/bench".into(),
                        target_name: "bench".into(),
                        target_host: "10.0.0.1:22".into(),
                    }),
                })
                .collect();
            store.apply_updates(&Actor::System, &started).await.unwrap();
            let changed = median(RUNS, || async {
                store.forget_shared_readings();
                store.session_changes(caller, &query, &token).await.unwrap()
            })
            .await;
            let in_view = match store.session_changes(caller, &query, &token).await.unwrap().changes {
                ViewChanges::Changed { sessions, .. } => sessions.len(),
                _ => 0,
            };
            let again = median(5, || async {
                store.list_sessions(caller, &query).await.unwrap();
                store.status_counts(caller, &query).await.unwrap()
            })
            .await;
            println!("| {who} | {what} | {} | {} | {in_view} | {} |", ms(unchanged), ms(changed), ms(again));
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn median<F, Fut, T>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    f().await; // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(f().await);
        times.push(start.elapsed());
    }
    times.sort();
    times[runs / 2]
}

/// The cursor that opens page `n` (1-based), following `next_cursor` from the first page.
async fn cursor_of_page(store: &Store, caller: &Caller, query: &SessionQuery, n: usize) -> Option<String> {
    let mut cursor = None;
    for _ in 1..n {
        let page =
            store.list_sessions(caller, &SessionQuery { cursor: cursor.clone(), ..query.clone() }).await.unwrap();
        cursor = Some(page.next_cursor?);
    }
    cursor
}

/// The default first page as one plain statement, the way one would first write it: the visibility as an OR in the
/// WHERE clause. Shown for contrast with the engine's merged slices.
async fn naive_first_page(store: &Store, caller: &Caller, query: &SessionQuery) -> Statement {
    let backend = store.connection().get_database_backend();
    let placeholder = |n: usize| if store.backend() == Backend::Postgres { format!("${n}") } else { "?".to_owned() };
    let window = query.timeframe.at(sra_store::now_ms());
    let mut values: Vec<sea_orm::Value> = vec![window.to.into(), window.from.into()];
    let visibility = match &caller.scope {
        Scope::All => String::new(),
        Scope::Gateways(names) => {
            values.push(caller.login.clone().into());
            let mut clause = format!(" AND (s.user_identifier = {}", placeholder(3));
            if !names.is_empty() {
                let ids = store
                    .connection()
                    .query_all(Statement::from_string(
                        backend,
                        format!(
                            "SELECT id FROM gateways WHERE name IN ({})",
                            names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.try_get::<i64>("", "id").unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                clause.push_str(&format!(" OR s.gateway_id IN ({ids})"));
            }
            clause.push(')');
            clause
        }
    };
    let sql = format!(
        "SELECT s.session_id, s.user_identifier, s.client_interface, s.resource_type, s.secret_name, s.target_name, \
         s.target_host, s.status, s.started_at, s.ended_at, s.error_message, s.updated_at, g.name, g.display_name \
         FROM sessions s JOIN gateways g ON g.id = s.gateway_id \
         WHERE s.started_at <= {} AND (s.ended_at IS NULL OR s.ended_at >= {}){visibility} \
         ORDER BY s.started_at DESC, s.session_id DESC LIMIT 51",
        placeholder(1),
        placeholder(2)
    );
    Statement::from_sql_and_values(backend, sql, values)
}

fn gateway_name(i: usize) -> String {
    format!("gw-{i:03}")
}

fn user_name(i: usize) -> String {
    format!("user{i:05}")
}

async fn postgres_bench_db(admin_url: &str) -> String {
    let admin = sea_orm::Database::connect(admin_url).await.expect("PostgreSQL admin connection");
    let exists = admin
        .query_one(Statement::from_string(
            admin.get_database_backend(),
            "SELECT 1 AS one FROM pg_database WHERE datname = 'sra_bench'",
        ))
        .await
        .unwrap()
        .is_some();
    if !exists {
        admin.execute_unprepared("CREATE DATABASE sra_bench").await.unwrap();
    }
    admin.close().await.ok();
    sra_store::testing::database_url(admin_url, "sra_bench")
}

/// Generates the store unless one of the same size is already there.
async fn ensure_data(store: &Store, sessions: usize) -> Shape {
    let db = store.connection();
    let backend = db.get_database_backend();
    let existing = db
        .query_one(Statement::from_string(backend, "SELECT value FROM settings WHERE name = 'bench_shape'"))
        .await
        .unwrap()
        .and_then(|row| row.try_get::<String>("", "value").ok())
        .and_then(|v| v.split_once(':').map(|(n, t)| (n.parse::<usize>().ok(), t.parse::<i64>().ok())));
    if let Some((Some(n), Some(now))) = existing {
        if n == sessions && now_ms() - now < DAY_MS {
            return Shape { sessions, now };
        }
    }
    let now = now_ms();
    eprintln!("generating {sessions} sessions …");
    let started = Instant::now();
    for table in ["audit_log", "sessions", "role_gateways", "user_roles", "roles", "users", "gateways"] {
        db.execute_unprepared(&format!("DELETE FROM {table}")).await.unwrap();
    }
    let gateway_rows: Vec<String> =
        (0..GATEWAYS).map(|i| format!("({}, '{}', 'Gateway {i}', {now})", i + 1, gateway_name(i))).collect();
    db.execute_unprepared(&format!(
        "INSERT INTO gateways (id, name, display_name, created_at) VALUES {}",
        gateway_rows.join(", ")
    ))
    .await
    .unwrap();

    let mut rng = StdRng::seed_from_u64(1);
    let batch = 1_000;
    let mut written = 0;
    while written < sessions {
        let n = batch.min(sessions - written);
        let mut rows = Vec::with_capacity(n);
        for i in written..written + n {
            let active = rng.gen_bool(0.01);
            let started = if active {
                now - rng.gen_range(MINUTE_MS..8 * HOUR_MS)
            } else {
                now - rng.gen_range(MINUTE_MS..30 * DAY_MS)
            };
            let (status, ended) = if active {
                (
                    if rng.gen_bool(0.2) { SessionStatus::Connecting } else { SessionStatus::Connected },
                    "NULL".to_owned(),
                )
            } else {
                let status = match rng.gen_range(0..100) {
                    0..=7 => SessionStatus::Failed,
                    8..=15 => SessionStatus::Terminated,
                    _ => SessionStatus::Completed,
                };
                (status, (started + rng.gen_range(10_000..4 * HOUR_MS)).min(now).to_string())
            };
            let resource = ResourceType::ALL[rng.gen_range(0..ResourceType::ALL.len())];
            let client = ClientInterface::ALL[rng.gen_range(0..ClientInterface::ALL.len())];
            rows.push(format!(
                "('{:016x}-{i}', '{}', '{}', {}, '{}', '/prod/{}/secret-{}', 'target-{}', '10.0.{}.{}', '{}', {started}, {ended}, {started})",
                rng.gen::<u64>(),
                user_name(rng.gen_range(0..USERS)),
                client.as_str(),
                rng.gen_range(1..=GATEWAYS),
                resource.as_str(),
                resource.as_str(),
                rng.gen_range(0..200),
                rng.gen_range(0..5_000),
                rng.gen_range(0..255),
                rng.gen_range(0..255),
                status.as_str(),
            ));
        }
        db.execute_unprepared(&format!(
            "INSERT INTO sessions (session_id, user_identifier, client_interface, gateway_id, resource_type, \
             secret_name, target_name, target_host, status, started_at, ended_at, updated_at) VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
        written += n;
    }
    // Bulk-inserted around the store: its roll-up counts them afresh.
    store.rebuild_session_counts().await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    db.execute(Statement::from_sql_and_values(
        backend,
        if backend == sea_orm::DbBackend::Postgres {
            "INSERT INTO settings (name, value) VALUES ('bench_shape', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
        } else {
            "INSERT INTO settings (name, value) VALUES ('bench_shape', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        },
        [format!("{sessions}:{now}").into()],
    ))
    .await
    .unwrap();
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
    Shape { sessions, now }
}
