//! The SRA Sessions server: the console (server-rendered Leptos, hydrated in the browser), its server functions, and
//! the operational endpoints, over one store.
//!
//! `main.rs` reads the configuration and runs [`serve`]; tests build the same [`router`] and call it directly.

pub mod admin;
pub mod api;
pub mod config;
pub mod demo;
pub mod export;
pub mod gateway_api;
pub mod guard;
pub mod observe;

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

/// The whole HTTP surface: console pages, server functions, the HTTP API, static files and `/healthz`, `/readyz`,
/// `/metrics`.
pub fn router(site_root: &Path, store: Store, cookies: CookiePolicy) -> Router {
    router_with_readiness(site_root, store, cookies, Arc::new(AtomicBool::new(true)))
}

/// [`router`], with `/readyz` answering 503 until `ready` is set.
fn router_with_readiness(site_root: &Path, store: Store, cookies: CookiePolicy, ready: Arc<AtomicBool>) -> Router {
    let throttle = Arc::new(sra_store::throttle::SignInThrottle::default());
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .build();
    let observed = Observed { metrics: Arc::new(Metrics::default()), store: store.clone(), ready };

    let api = Router::new()
        .route("/auth", axum::routing::post(api::auth).fallback(api::method_not_allowed))
        .route("/list-sra-sessions", axum::routing::post(api::list_sra_sessions).fallback(api::method_not_allowed))
        .route(
            "/list-sra-session-audit",
            axum::routing::post(api::list_sra_session_audit).fallback(api::method_not_allowed),
        )
        .route("/list-sra-audit", axum::routing::post(api::list_sra_audit).fallback(api::method_not_allowed))
        .route(
            "/terminate-sra-session",
            axum::routing::post(api::terminate_sra_session).fallback(api::method_not_allowed),
        )
        .route(
            "/gateway/session-update",
            axum::routing::post(gateway_api::session_update).fallback(api::method_not_allowed),
        )
        .route(
            "/gateway/session-updates",
            axum::routing::post(gateway_api::session_updates).fallback(api::method_not_allowed),
        )
        .route("/gateway/heartbeat", axum::routing::post(gateway_api::heartbeat).fallback(api::method_not_allowed))
        .route("/openapi.json", get(api::openapi))
        .with_state(api::ApiState { store: store.clone(), throttle: throttle.clone() });

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
        .layer(axum::middleware::from_fn_with_state(store.clone(), guard::signed_in_pages));

    let guarded_store = store.clone();
    let console = Router::new()
        .leptos_routes_with_context(
            &options,
            generate_route_list(App),
            move || {
                provide_context(store.clone());
                provide_context(cookies);
                provide_context(throttle.clone());
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(axum::middleware::from_fn_with_state(guarded_store, guard::signed_in_pages))
        .layer(axum::middleware::from_fn(guard::same_origin));

    operations
        .merge(api)
        .merge(exports)
        .merge(console)
        .layer(axum::middleware::from_fn_with_state(observed, observe::observe))
}

/// Runs the server until `shutdown` resolves: binds the port, opens the store (applying migrations), seeds and drives
/// the demo when asked, serves, then finishes in-flight requests and closes the database.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let addr = config.listen_addr();
    // Bind first: a port in use is the most common start-up failure and needs no database to find out.
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (--bind / --port): is another server using it?"))?;
    let database_url = config.database_url();
    let store = Store::connect(&database_url)
        .await
        .context("cannot open the database (DATABASE_URL, or --data-dir for the embedded SQLite)")?;
    tracing::info!(backend = ?store.backend(), "database ready");
    warn_if_front_end_missing(&config.site_root);

    // One signal stops the background tasks (lost-session sweeper) at shutdown; the demo's gateways have their own.
    let (stop_tasks, tasks_stopped) = watch::channel(false);
    let demo = if config.demo { Some(demo::prepare(&store).await.context("preparing the demo failed")?) } else { None };

    ensure_admin(&store, config.admin_password.as_deref()).await?;
    let sweeper = tokio::spawn(sweep_lost_sessions(store.clone(), config.stale_after, tasks_stopped));

    let ready = Arc::new(AtomicBool::new(demo.is_none()));
    let app = router_with_readiness(
        &config.site_root,
        store.clone(),
        CookiePolicy { secure: config.secure_cookies },
        ready.clone(),
    );
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
    let demo_gateways = demo.map(|prepared| {
        let base = demo::loopback_url(local);
        let (ready, stop) = (ready.clone(), stop_demo.clone());
        std::thread::spawn(move || demo::run_gateways(&base, prepared, &ready, &stop))
    });

    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed")?;

    tracing::info!("stopped accepting; closing the database");
    let _ = stop_tasks.send(true);
    stop_demo.store(true, Ordering::Relaxed);
    if let Some(thread) = demo_gateways {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    let _ = sweeper.await;
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
        None => (random_password(), true),
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

pub(crate) fn random_password() -> String {
    use rand::Rng;
    // No look-alike characters (0/O, 1/l/I): it may be typed from a screen.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..20).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
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
