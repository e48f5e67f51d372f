//! The SRA Sessions server: the console (server-rendered Leptos, hydrated in the browser), its server functions, and
//! the operational endpoints, over one store.
//!
//! `main.rs` reads the configuration and runs [`serve`]; tests build the same [`router`] and call it directly.

pub mod admin;
pub mod api;
pub mod assets;
pub mod config;
pub mod contract;
pub mod demo;
pub mod events;
pub mod export;
pub mod gateway_api;
pub mod guard;
pub mod http;
pub mod observe;
pub mod openapi;
pub mod security;
pub mod siem;

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use app::auth::server::CookiePolicy;
use app::{shell, App, OUTPUT_NAME};
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use sra_store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::observe::{Metrics, Observed};

/// How the server is reached and what it exposes, beyond the store: decided by the configuration.
#[derive(Debug, Clone, Default)]
pub struct Surface {
    pub cookies: CookiePolicy,
    /// Who may read `/metrics` on the main listener.
    pub metrics: observe::MetricsAccess,
    /// How many event streams one user may hold.
    pub streams_per_user: usize,
}

/// The whole HTTP surface: console pages, server functions, the HTTP API, static files and `/healthz`, `/readyz`,
/// `/metrics`.
pub fn router(site_root: &Path, store: Store, cookies: CookiePolicy) -> Router {
    let surface = Surface { cookies, metrics: observe::MetricsAccess::Open, streams_per_user: events::MAX_PER_USER };
    router_with(site_root, store, surface, Arc::new(AtomicBool::new(true))).0
}

/// [`router`] for a surface, with `/readyz` answering 503 until `ready` is set; also returns the metrics, for a
/// separate metrics listener.
fn router_with(site_root: &Path, store: Store, surface: Surface, ready: Arc<AtomicBool>) -> (Router, Observed) {
    let Surface { cookies, metrics, streams_per_user } = surface;
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .hash_files(assets::hash_file().is_some())
        .build();
    let observed = Observed {
        metrics: Arc::new(Metrics::default()),
        store: store.clone(),
        ready,
        access: metrics,
        probe: Default::default(),
    };

    let api = Router::new()
        .route("/auth", post(api::auth))
        .route("/list-sra-sessions", post(api::list_sra_sessions))
        .route("/stream-sra-audit", post(api::stream_sra_audit))
        .route("/list-sra-session-audit", post(api::list_sra_session_audit))
        .route("/list-sra-audit", post(api::list_sra_audit))
        .route("/terminate-sra-session", post(api::terminate_sra_session))
        .route("/terminate-sra-sessions", post(api::terminate_sra_sessions))
        .route("/list-sra-blocks", post(api::list_sra_blocks))
        .route("/lift-sra-block", post(api::lift_sra_block))
        .route("/gateway/session-update", post(gateway_api::session_update))
        .route("/gateway/session-updates", post(gateway_api::session_updates))
        .route("/gateway/heartbeat", post(gateway_api::heartbeat))
        .route("/openapi.json", get(openapi::openapi))
        .with_state(store.clone());

    let operations = Router::new()
        .route("/", get(|| async { Redirect::to("/sessions") }))
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .with_state(observed.clone());

    // Downloads of the overview's view, for signed-in users (the guard sends others to sign in first).
    let exports = Router::new()
        .route("/export/sessions.csv", get(export::sessions_csv))
        .route("/export/sessions.json", get(export::sessions_json))
        .with_state(store.clone())
        .layer(axum::middleware::from_fn(guard::signed_in_pages));

    // Pushed changes: the API's stream (bearer tokens) and the console's (its cookie, resolved with the console's).
    let streams = Arc::new(events::Streams::new(streams_per_user));
    let api_events = Router::new().route("/stream-sra-sessions", get(events::api_events)).with_state((
        store.clone(),
        cookies,
        streams.clone(),
    ));
    let console_events = Router::new().route("/events/sessions", get(events::console_events)).with_state((
        store.clone(),
        cookies,
        streams,
    ));

    let resolver = (store.clone(), cookies);
    let database = store.clone();
    // What every page render and server function finds in its context.
    let context = move || {
        provide_context(store.clone());
        provide_context(cookies);
        security::provide_nonce();
    };
    let console = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(axum::middleware::from_fn(guard::signed_in_pages))
        .layer(axum::middleware::from_fn(guard::same_origin))
        // Server functions read their bodies themselves; an oversized one is refused first, as 413.
        .layer(axum::middleware::from_fn(security::limit_server_fn_body));

    // Who is signed in is resolved once, for the console and the export (the API uses bearer tokens only).
    let signed_in = exports
        .merge(console_events)
        .merge(console)
        .layer(axum::middleware::from_fn_with_state(resolver, guard::resolve_caller));
    // While the database is known to be down, what needs it is answered at once instead of after the pool's timeout.
    let needs_database = api
        .merge(api_events)
        .merge(signed_in)
        .layer(axum::middleware::from_fn_with_state(database, guard::database_reachable));
    let app = operations
        .merge(assets::router(site_root))
        .merge(needs_database)
        .layer(axum::middleware::from_fn(security::headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(security::panic_answer))
        .layer(axum::middleware::from_fn_with_state(observed.clone(), observe::observe))
        // Pages and JSON answers compressed when the client takes it and they are large enough to gain; the front
        // end's files come precompressed and are left as they are.
        .layer(tower_http::compression::CompressionLayer::new());
    (app, observed)
}

/// A `POST` endpoint; other methods get a JSON 405.
fn post<H, T>(handler: H) -> axum::routing::MethodRouter<Store>
where
    H: axum::handler::Handler<T, Store>,
    T: 'static,
{
    axum::routing::post(handler).fallback(http::method_not_allowed)
}

/// Runs the server until `shutdown` resolves: binds the port, opens the store (applying migrations), seeds and drives
/// the demo when asked, serves, then finishes in-flight requests and closes the database.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let addr = config.listen_addr();
    // Bind first: a port in use is the most common start-up failure and needs no database to find out.
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (--bind / --port): is another server using it?"))?;
    // The request schemas every API body is checked against, compiled before the first request needs them.
    contract::compile();
    let database_url = config.database_url();
    let keys = sra_store::AuditKeys::load_or_create(&config.audit_key_file())
        .context("the audit key file (--audit-key-file) is needed to keep the audit chain")?;
    let store = Store::connect(&database_url, &keys)
        .await
        .context("cannot open the database (DATABASE_URL, or --data-dir for the embedded SQLite)")?;
    tracing::info!(backend = ?store.backend(), "database ready");
    store.watch_reachability();
    store.listen_for_changes();
    store.seek_leadership();
    warn_if_front_end_missing(&config.site_root);

    // One signal stops the background tasks (lost-session sweeper) at shutdown; the demo's gateways have their own.
    let (stop_tasks, tasks_stopped) = watch::channel(false);
    let demo = if config.demo { Some(demo::prepare(&store).await.context("preparing the demo failed")?) } else { None };

    ensure_admin(&store, config.admin_password.as_deref()).await?;
    let sweeper = tokio::spawn(sweep_lost_sessions(store.clone(), config.stale_after, tasks_stopped.clone()));
    let delivery = tokio::spawn(siem::deliver_audit(store.clone(), tasks_stopped.clone()));
    let sign_ins = tokio::spawn(maintain_sign_ins(store.clone(), tasks_stopped.clone()));
    let pruning = tokio::spawn(prune(store.clone(), config.retention()?, tasks_stopped.clone()));
    let upkeep = tokio::spawn(maintain_database(store.clone(), tasks_stopped.clone()));
    let checkpoints = tokio::spawn(sign_checkpoints(
        store.clone(),
        config.audit_checkpoints(),
        config.audit_checkpoint_every,
        tasks_stopped,
    ));

    let ready = Arc::new(AtomicBool::new(demo.is_none()));
    let surface = Surface {
        cookies: CookiePolicy { secure: config.secure_cookies },
        metrics: config.metrics_access(),
        streams_per_user: config.streams_per_user,
    };
    let (app, observed) = router_with(&config.site_root, store.clone(), surface, ready.clone());
    // `/metrics` on a listener of its own (an address only the monitoring network reaches), when configured.
    let metrics_listener = match config.metrics_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--metrics-listen): is another server using it?"))?;
            let metrics = Router::new()
                .route("/metrics", get(observe::metrics))
                .with_state(Observed { access: observe::MetricsAccess::Open, ..observed });
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(async move {
                let mut stopped = stopped;
                let _ = axum::serve(listener, metrics)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    })
                    .await;
            });
            tracing::info!(%addr, "metrics listening");
            Some((stop, task))
        }
        None => None,
    };
    let local = listener.local_addr().unwrap_or(addr);
    let url = format!("http://{local}/sessions");
    println!("SRA Sessions is serving {url}");
    if config.demo {
        println!("Demo sign-ins (each sees what their roles allow):");
        for (login, name, visibility) in demo::USERS {
            println!("  {login:<8} password {:<18} {name:<16} {visibility}", demo::password(login));
        }
    }
    tracing::info!(%addr, "listening");

    // The demo's gateways report through the ingest API of this very server, as real ones would.
    let stop_demo = Arc::new(AtomicBool::new(false));
    // With several replicas on one PostgreSQL, only the leader plays the demo's gateways (the others serve).
    let demo_gateways = demo.map(|prepared| {
        let base = demo::loopback_url(local);
        let (ready, stop, store) = (ready.clone(), stop_demo.clone(), store.clone());
        std::thread::spawn(move || {
            while !store.is_leader() && !stop.load(Ordering::Relaxed) {
                ready.store(true, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            demo::run_gateways(&base, prepared, &ready, &stop)
        })
    });

    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed")?;

    tracing::info!("stopped accepting; closing the database");
    let _ = stop_tasks.send(true);
    if let Some((stop, task)) = metrics_listener {
        let _ = stop.send(true);
        let _ = task.await;
    }
    let _ = sign_ins.await;
    let _ = pruning.await;
    let _ = checkpoints.await;
    let _ = upkeep.await;
    stop_demo.store(true, Ordering::Relaxed);
    if let Some(thread) = demo_gateways {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    let _ = sweeper.await;
    let _ = delivery.await;
    store.close().await.context("closing the database failed")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Closes, every so often, the active sessions whose gateway stopped reporting them (see `--stale-after`).
async fn sweep_lost_sessions(store: Store, stale_after: std::time::Duration, mut stop: watch::Receiver<bool>) {
    let every = (stale_after / 4).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(30));
    let silent_for = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        // One replica at a time (see `Store::is_leader`); the others stand by.
        if !store.is_leader() {
            continue;
        }
        match store.close_lost_sessions(silent_for).await {
            Ok(lost) if !lost.is_empty() => {
                tracing::warn!(count = lost.len(), sessions = ?lost, "closed lost sessions")
            }
            Ok(_) => {}
            // A session may have changed between the look-up and the write: the next round sees it as it is now.
            Err(e) => tracing::warn!(error = %e, "closing lost sessions failed; retrying next round"),
        }
    }
}

/// Deletes what the retention settings no longer keep, a minute after start and then every 10 minutes, on the leader
/// replica (see `Store::prune`).
async fn prune(store: Store, retention: sra_store::Retention, mut stop: watch::Receiver<bool>) {
    if !retention.is_set() {
        return;
    }
    let mut wait = std::time::Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = std::time::Duration::from_secs(600);
        if !store.is_leader() {
            continue;
        }
        match store.prune(&retention, sra_store::now_ms()).await {
            Ok(pruned) if pruned != sra_store::Pruned::default() => {
                tracing::info!(sessions = pruned.sessions, audit_entries = pruned.audit_entries, "pruned")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning failed; retrying next round"),
        }
    }
}

/// Writes refused sign-ins to their shared counters and closes the counters whose window is over, every few seconds.
async fn maintain_sign_ins(store: Store, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = store.maintain_sign_ins().await {
            tracing::warn!(error = %e, "updating the sign-in throttle failed; retrying next round");
        }
    }
    // What was refused since the last round is written before the database closes.
    if let Err(e) = store.maintain_sign_ins().await {
        tracing::warn!(error = %e, "updating the sign-in throttle at shutdown failed");
    }
}

/// SQLite upkeep (nothing to do on PostgreSQL): every 30 s the write-ahead log is kept from growing under constant
/// reads (see `Store::bound_wal`), every hour the planner's statistics are refreshed (see `Store::refresh_statistics`;
/// also at every start).
async fn maintain_database(store: Store, mut stop: watch::Receiver<bool>) {
    const ROUNDS_PER_STATISTICS: u32 = 120;
    if let Err(e) = store.refresh_statistics().await {
        tracing::warn!(error = %e, "refreshing the planner's statistics failed; retrying in an hour");
    }
    let mut round = 0_u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            _ = stop.changed() => return,
        }
        match store.bound_wal().await {
            Ok(true) => {}
            Ok(false) => tracing::info!("the write-ahead log could not be emptied (readers); retrying next round"),
            Err(e) => tracing::warn!(error = %e, "checkpointing the write-ahead log failed; retrying next round"),
        }
        round = (round + 1) % ROUNDS_PER_STATISTICS;
        if round == 0 {
            if let Err(e) = store.refresh_statistics().await {
                tracing::warn!(error = %e, "refreshing the planner's statistics failed; retrying in an hour");
            }
        }
    }
}

/// Signs the audit chain's head into the checkpoint file (and the log) every `every` when it moved, and once more at
/// shutdown, so the file always ends near the chain's end.
async fn sign_checkpoints(
    store: Store,
    file: std::path::PathBuf,
    every: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last: Option<String> = None;
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = stop.changed() => true,
        };
        match store.checkpoint().await {
            Ok(Some(checkpoint)) if last.as_deref() != Some(checkpoint.head.as_str()) => {
                tracing::info!(
                    entries = checkpoint.entries,
                    last_id = checkpoint.last_id,
                    head = %checkpoint.head,
                    signature = %checkpoint.signature,
                    at = checkpoint.at,
                    "audit checkpoint"
                );
                match checkpoint.append_to(&file) {
                    Ok(()) => last = Some(checkpoint.head),
                    Err(e) => {
                        tracing::error!(error = %e, "the audit checkpoint could not be written; it is in the log")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "signing an audit checkpoint failed; retrying next round"),
        }
        if stopping {
            return;
        }
    }
}

/// The administrator role every fresh database gets.
pub const ADMIN_ROLE: &str = "sra-admins";

/// On a database without users, creates `admin` with an All role, so that someone can sign in and administer. The
/// password comes from `SRA_ADMIN_PASSWORD`, or is generated and printed once.
async fn ensure_admin(store: &Store, password: Option<&str>) -> anyhow::Result<()> {
    if store.user_count().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match password {
        Some(given) => (given.to_owned(), false),
        None => (sra_store::random_password(), true),
    };
    let actor = sra_domain::Actor::System;
    store.create_user(&actor, "admin", "Administrator").await?;
    store.set_password(&actor, "admin", &password).await.context("SRA_ADMIN_PASSWORD is not usable")?;
    if !store.role_exists(ADMIN_ROLE).await? {
        let spec = sra_store::RoleSpec { name: ADMIN_ROLE.into(), rule: sra_domain::SraRule::All, gateways: vec![] };
        store.create_role(&actor, &spec).await?;
    }
    store.assign_role(&actor, "admin", ADMIN_ROLE).await?;
    if generated {
        println!("Created the administrator: login `admin`, password `{password}` (shown only now).");
    } else {
        println!("Created the administrator: login `admin`, password from SRA_ADMIN_PASSWORD.");
    }
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

fn warn_if_front_end_missing(site_root: &Path) {
    let wasm = site_root.join("pkg").join(format!("{OUTPUT_NAME}_bg.wasm"));
    if !wasm.exists() {
        tracing::warn!(
            missing = %wasm.display(),
            "the front end is not built: pages render but will not become interactive (build it with scripts/build)"
        );
    }
}
