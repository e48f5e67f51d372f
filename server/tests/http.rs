//! The HTTP surface through the real router, on a real SQLite file and a real PostgreSQL database: the console page,
//! its server function, the operational endpoints, request IDs and metrics.

use app::auth::server::CookiePolicy;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use sra_domain::{Actor, ClientInterface, NewSession, ResourceType, SessionChange, SessionUpdate};
use sra_store::{now_ms, Store};
use tower::ServiceExt;

const BODY_LIMIT: usize = 4 << 20;

async fn seeded_router(store: &Store) -> (Router, tempfile::TempDir) {
    store.register_gateway(&Actor::System, "gw-test", "Test Gateway").await.unwrap();
    let update = SessionUpdate {
        session_id: "11111111-2222-3333-4444-555555555555".into(),
        at: now_ms() - 90_000,
        change: SessionChange::Started(NewSession {
            user: "alice".into(),
            access_id: None,
            client_interface: ClientInterface::DesktopApp,
            gateway: "gw-test".into(),
            resource_type: ResourceType::Rdp,
            secret_name: "/prod/rdp/jump".into(),
            target_name: "jump".into(),
            target_host: "10.0.0.9:3389".into(),
        }),
    };
    store.apply_updates(&Actor::Gateway("gw-test".into()), &[update]).await.unwrap();
    store.create_user(&Actor::System, "alice", "Alice Example").await.unwrap();
    store.set_password(&Actor::System, "alice", PASSWORD).await.unwrap();
    // No front end is built for these tests: pages render on the server, which is what is checked here.
    let site = tempfile::tempdir().unwrap();
    (sra_server::router(site.path(), store.clone(), CookiePolicy::default()), site)
}

const PASSWORD: &str = "alice-password-1";
const HOST: &str = "console.test";

/// A request as the console's own page sends it: to its host, with its origin, and with the sign-in cookie if any.
fn from_console(method: &str, path: &str, cookie: Option<&str>, content_type: &str, body: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, content_type);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("theme=dark; sra_session={cookie}"));
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

/// Signs in as alice and returns the session cookie's value.
async fn sign_in(router: &Router) -> String {
    let form = format!("login=alice&password={PASSWORD}&next=%2Fsessions");
    let (status, headers, body) =
        send(router, from_console("POST", "/api/login", None, "application/x-www-form-urlencoded", &form)).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    cookie.strip_prefix("sra_session=").unwrap().split(';').next().unwrap().to_owned()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.unwrap();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn get_with_request_id(path: &str, id: &str) -> Request<Body> {
    Request::get(path).header("x-request-id", id).body(Body::empty()).unwrap()
}

async fn the_overview_renders_sessions_from_the_store(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let (status, headers, _) = send(&router, get("/sessions?sort=user")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out: to the login page first");
    assert_eq!(headers[header::LOCATION], "/login?next=/sessions%3Fsort%3Duser");
    let (status, _, html) = send(&router, get("/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Sign in to SRA Sessions"), "{html}");

    let cookie = sign_in(&router).await;
    let (status, headers, html) = send(&router, from_console("GET", "/sessions", Some(&cookie), "text/html", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(html.contains("<h1>Sessions Overview</h1>"), "{html}");
    for cell in ["Desktop Application", "alice", "Test Gateway", "rdp", "/prod/rdp/jump", "Connecting", "1m 3"] {
        assert!(html.contains(cell), "{cell:?} missing from the page");
    }
    assert!(html.contains("11111111-2222-3333-4444-555555555555"));
    assert!(html.contains("/pkg/sra.js") && html.contains("/pkg/sra_bg.wasm"), "hydration scripts are linked");
    assert!(html.contains("Alice Example"), "the signed-in user is named in the header");
}

async fn the_server_function_answers_signed_in_same_origin_callers_only(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let list = |cookie: Option<&str>| from_console("POST", "/api/list_sessions", cookie, "application/json", "{}");

    let (status, _, body) = send(&router, list(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("not signed in"), "{body}");
    let error: app::error::ConsoleError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.kind, app::error::Failure::NotSignedIn, "{body}");
    let cookie = sign_in(&router).await;

    // The same call from another site, or with no origin at all, is refused before it runs.
    let mut foreign = list(Some(&cookie));
    foreign.headers_mut().insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    assert_eq!(send(&router, foreign).await.0, StatusCode::FORBIDDEN);
    let mut anonymous = list(Some(&cookie));
    anonymous.headers_mut().remove(header::ORIGIN);
    assert_eq!(send(&router, anonymous).await.0, StatusCode::FORBIDDEN);

    let bad = from_console(
        "POST",
        "/api/list_sessions",
        Some(&cookie),
        "application/json",
        r#"{"query":{"statuses":["active"]}}"#,
    );
    let (status, _, body) = send(&router, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let error: app::error::ConsoleError = serde_json::from_str(&body).unwrap();
    assert_eq!(error.kind, app::error::Failure::BadInput, "{body}");
    assert!(error.message.contains("unknown status \"active\"; allowed: connecting"), "{body}");

    let (status, _, body) = send(&router, list(Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: sra_domain::SessionsPage = serde_json::from_str(&body).unwrap();
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.sessions[0].gateway.cluster_name, "gw-test");
    assert!(page.as_of >= page.sessions[0].started_at);

    // Signing out ends the sign-in on the server: the old cookie no longer works.
    let (status, headers, _) =
        send(&router, from_console("POST", "/api/logout", Some(&cookie), "application/x-www-form-urlencoded", ""))
            .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(send(&router, list(Some(&cookie))).await.0, StatusCode::UNAUTHORIZED);
}

async fn wrong_passwords_do_not_reveal_who_exists(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let attempt = |form: &str| from_console("POST", "/api/login", None, "application/x-www-form-urlencoded", form);
    let (wrong_status, headers, wrong_body) = send(&router, attempt("login=alice&password=nope-nope-nope")).await;
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (unknown_status, _, unknown_body) = send(&router, attempt("login=nobody&password=nope-nope-nope")).await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong_status, wrong_body.as_str()), (unknown_status, unknown_body.as_str()));
    assert!(wrong_body.contains("wrong login or password"), "{wrong_body}");
}

async fn operations_endpoints_report_health_and_metrics(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    assert_eq!(send(&router, get("/healthz")).await.2, "ok\n");
    assert_eq!(send(&router, get("/readyz")).await.0, StatusCode::OK);

    let (status, headers, _) = send(&router, get("/")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/sessions");
    assert_eq!(send(&router, get("/no-such-page")).await.0, StatusCode::NOT_FOUND);

    // A sane request ID is echoed; an unusable one is replaced.
    let (_, headers, _) = send(&router, get_with_request_id("/healthz", "trace-42")).await;
    assert_eq!(headers["x-request-id"], "trace-42");
    let (_, headers, _) = send(&router, get_with_request_id("/healthz", "a b")).await;
    assert_eq!(headers["x-request-id"].len(), 16);

    send(&router, get("/login")).await;
    let (status, headers, text) = send(&router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"), "{text}");
    assert!(text.contains("sra_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"), "{text}");
    assert!(text.contains("sra_http_request_duration_seconds_count{method=\"GET\",route=\"/login\"} 1"), "{text}");
    assert!(text.contains("sra_db_pool_max_connections{pool=\"writes\"} "), "{text}");
    // The store's series, from the database: the seeded session, connecting on gw-test.
    let kind = r#"gateway="gw-test",resource_type="rdp",client_interface="desktop_app""#;
    assert!(text.contains("sra_store_metrics_up 1\n"), "{text}");
    assert!(text.contains(&format!("sra_sessions_active{{{kind},status=\"connecting\"}} 1\n")), "{text}");
    let started = r#"sra_sessions_started_total{gateway="gw-test",resource_type="rdp"} 1"#;
    assert!(text.contains(started), "{text}");
    assert!(!text.contains("sra_sessions_ended_total{"), "{text}");
    assert!(text.contains("sra_ingest_batches_total{result=\"applied\"} 0\n"), "{text}");
    assert!(text.contains("sra_audit_chain_head "), "{text}");
    every_line_is_exposition_format(&text);

    // With the database gone, the process is still alive but no longer ready.
    store.clone().close().await.unwrap();
    assert_eq!(send(&router, get("/healthz")).await.0, StatusCode::OK);
    let (status, _, body) = send(&router, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.starts_with("not ready: the database cannot be reached"), "{body}");
    // Metrics still answer, and say that the store's part is missing.
    let (status, _, text) = send(&router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("sra_store_metrics_up 0\n"), "{text}");
    every_line_is_exposition_format(&text);
}

/// Prometheus's text format: every sample's family is announced by `# HELP` and `# TYPE` first, its labels are
/// `name="value"` pairs, and its value is a number.
fn every_line_is_exposition_format(text: &str) {
    let mut announced = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            announced.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        let family =
            ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).filter(|f| announced.contains(*f));
        assert!(announced.contains(name) || family.is_some(), "not announced: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap_or_else(|| panic!("{line}"));
            for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(key.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{line}");
                assert!(!value.trim_end_matches('"').contains('"'), "{line}");
            }
        }
    }
}

/// A login form sent from a client address.
fn login_from(address: &str, form: &str) -> Request<Body> {
    let mut request = from_console("POST", "/api/login", None, "application/x-www-form-urlencoded", form);
    let addr: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    request
}

async fn repeated_failures_slow_down_that_address_not_the_user(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    for _ in 0..sra_store::PAIR_FREE_FAILURES {
        let (status, _, body) = send(&router, login_from("10.0.0.66", "login=alice&password=guess-guess-1")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // From the guessing address even the right password waits, told why and for how long (also in Retry-After) …
    let (status, headers, body) =
        send(&router, login_from("10.0.0.66", &format!("login=alice&password={PASSWORD}"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.get(header::SET_COOKIE).is_none());
    let retry: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(body.contains("too many failed sign-ins for this account from this address; try again in"), "{body}");
    // … while alice, from her own address, signs in at once.
    let (status, headers, body) =
        send(&router, login_from("10.0.0.7", &format!("login=alice&password={PASSWORD}"))).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    assert!(headers[header::SET_COOKIE].to_str().unwrap().starts_with("sra_session="));

    use sea_orm::ConnectionTrait;
    let rows = store
        .connection()
        .query_all(sea_orm::Statement::from_string(
            store.connection().get_database_backend(),
            "SELECT action FROM audit_log WHERE actor = 'user:alice' ORDER BY id",
        ))
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.try_get("", "action").unwrap()).collect();
    let failed = actions.iter().filter(|a| *a == "console.sign_in_failed").count();
    assert_eq!(failed, sra_store::PAIR_FREE_FAILURES as usize, "{actions:?}");
    assert!(!actions.iter().any(|a| a.contains("throttled")), "refusals are reported per window, not one by one");
}

async fn after_sign_in_only_paths_of_this_console_are_followed(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    // Browsers drop a TAB or newline in a URL, which would turn these into `//evil.example`; a control character in
    // a Location header would also make it invalid. All land on the overview, and nothing panics.
    for (next, expected) in [
        ("%2Fsessions%3Fstatus%3Dfailed", "/sessions?status=failed"),
        ("%2F%09%2Fevil.example", "/sessions"),
        ("%2F%0A%2Fevil.example", "/sessions"),
        ("%2F%7F%2Fevil.example", "/sessions"),
        ("%2F%2Fevil.example", "/sessions"),
        ("%2F%5Cevil.example", "/sessions"),
        ("https%3A%2F%2Fevil.example", "/sessions"),
    ] {
        let form = format!("login=alice&password={PASSWORD}&next={next}");
        let (status, headers, body) = send(&router, login_from("10.0.0.9", &form)).await;
        assert!(status.is_success() || status.is_redirection(), "{next}: {status} {body}");
        assert_eq!(headers[header::LOCATION], expected, "{next}");
    }
}

async fn every_answer_carries_the_security_headers(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    for request in [get("/login"), get("/healthz"), auth_request("{}", "application/json"), get("/no-such-page")] {
        let path = request.uri().to_string();
        let (_, headers, _) = send(&router, request).await;
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{path}");
    }
    // The page's inline scripts carry this answer's nonce, and only they may run.
    let (_, headers, html) = send(&router, get("/login")).await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap();
    assert!(nonce.len() >= 20, "{csp}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    let (_, other, _) = send(&router, get("/login")).await;
    assert_ne!(other[header::CONTENT_SECURITY_POLICY], headers[header::CONTENT_SECURITY_POLICY], "a nonce per answer");
}

async fn oversized_server_function_bodies_get_413(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let cookie = sign_in(&router).await;
    let body = format!(r#"{{"query":{{"search":"{}"}}}}"#, "x".repeat(200_000));
    let (status, _, answer) =
        send(&router, from_console("POST", "/api/list_sessions", Some(&cookie), "application/json", &body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    let login = format!("login={}&password=x", "x".repeat(100_000));
    let (status, _, _) = send(&router, login_from("10.0.0.3", &login)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let login = format!("login={}&password=longer-than-ten", "x".repeat(1_000));
    let (status, _, answer) = send(&router, login_from("10.0.0.3", &login)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let error: app::error::ConsoleError = serde_json::from_str(&answer).unwrap();
    assert_eq!(error.kind, app::error::Failure::BadInput, "{answer}");
    assert_eq!(error.message, "\"login\": is too long; allowed: up to 256 characters");
}

/// `POST /auth` as Akeyless clients send it: JSON, kebab-case keys, extra keys they always add, no browser origin.
fn auth_request(body: &str, content_type: &str) -> Request<Body> {
    Request::post("/auth").header(header::CONTENT_TYPE, content_type).body(Body::from(body.to_owned())).unwrap()
}

async fn auth_exchanges_api_keys_and_passwords_for_tokens(store: &Store) {
    let (router, _site) = seeded_router(store).await;
    let key = store.create_api_key(&Actor::System, "alice").await.unwrap();
    let body = serde_json::json!({
        "access-id": key.access_id, "access-key": key.access_key,
        "json": false, "debug": false, "azure-cloud": "AzureCloud", "gcp-audience": "akeyless.io", "oci-auth-type": "apikey",
    });
    let (status, _, answer) = send(&router, auth_request(&body.to_string(), "application/json")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let token = answer["token"].as_str().unwrap();
    assert!(token.starts_with("t-"), "{answer}");
    let expiration = answer["expiration"].as_str().unwrap();
    assert!(expiration.len() == 24 && expiration.ends_with('Z') && expiration.contains('T'), "{expiration}");
    assert_eq!(store.api_token(token).await.unwrap().login, "alice");

    let body = serde_json::json!({"access-type": "password", "admin-email": "alice", "admin-password": PASSWORD});
    let (status, _, answer) = send(&router, auth_request(&body.to_string(), "application/json")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let cases: [(String, &str, StatusCode, &str); 6] = [
        (
            serde_json::json!({"access-id": key.access_id, "access-key": "wrong"}).to_string(),
            "application/json",
            StatusCode::UNAUTHORIZED,
            "wrong login or password",
        ),
        (
            r#"{"access-key": "x"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "give \"access-id\" and \"access-key\"",
        ),
        (
            r#"{"access-type": "saml"}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"saml\" is not allowed; allowed: access_key, password",
        ),
        (
            r#"{"access-id": 7}"#.into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "\"access-id\": 7 has the wrong type; allowed: string or null",
        ),
        ("{not json".into(), "application/json", StatusCode::BAD_REQUEST, "not valid JSON"),
        (
            "access-id=x".into(),
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/json",
        ),
    ];
    for (body, content_type, expected, message) in cases {
        let (status, _, answer) = send(&router, auth_request(&body, content_type)).await;
        assert_eq!(status, expected, "{body}: {answer}");
        let error: serde_json::Value = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
        assert!(error["error"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
}

/// The front end's files go out precompressed as the browser accepts them; content-hashed names are cached for good,
/// others revalidated; large pages are compressed on the fly.
async fn front_end_files_are_precompressed_and_cached_by_content(store: &Store) {
    let (router, site) = seeded_router(store).await;
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("sra.0123456789abcdef.wasm"), vec![0_u8; 4_000]).unwrap();
    std::fs::write(pkg.join("sra.0123456789abcdef.wasm.br"), b"brotli!").unwrap();
    std::fs::write(pkg.join("sra.0123456789abcdef.wasm.gz"), b"gzip!").unwrap();
    std::fs::write(pkg.join("sra.css"), b"body{}").unwrap();
    let with =
        |path: &str, accept: &str| Request::get(path).header("accept-encoding", accept).body(Body::empty()).unwrap();

    let (status, headers, body) = send(&router, with("/pkg/sra.0123456789abcdef.wasm", "gzip, deflate, br")).await;
    assert_eq!(
        (status, headers["content-encoding"].to_str().unwrap(), body.as_str()),
        (StatusCode::OK, "br", "brotli!")
    );
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(headers["content-type"], "application/wasm");
    let (_, headers, body) = send(&router, with("/pkg/sra.0123456789abcdef.wasm", "gzip")).await;
    assert_eq!((headers["content-encoding"].to_str().unwrap(), body.as_str()), ("gzip", "gzip!"));
    let (_, headers, body) = send(&router, get("/pkg/sra.0123456789abcdef.wasm")).await;
    assert!(headers.get("content-encoding").is_none() && body.len() == 4_000, "as it is for clients without encodings");
    let (_, headers, _) = send(&router, get("/pkg/sra.css")).await;
    assert_eq!(headers["cache-control"], "no-cache", "a plain name may change: revalidated");
    assert_eq!(send(&router, get("/pkg/missing.js")).await.0, StatusCode::NOT_FOUND);

    let (status, headers, _) = send(&router, with("/login", "br")).await;
    assert_eq!((status, headers.get("content-encoding").map(|v| v.to_str().unwrap())), (StatusCode::OK, Some("br")));
}

sra_store::on_both_backends!(
    front_end_files_are_precompressed_and_cached_by_content,
    auth_exchanges_api_keys_and_passwords_for_tokens,
    repeated_failures_slow_down_that_address_not_the_user,
    after_sign_in_only_paths_of_this_console_are_followed,
    every_answer_carries_the_security_headers,
    oversized_server_function_bodies_get_413,
    the_overview_renders_sessions_from_the_store,
    the_server_function_answers_signed_in_same_origin_callers_only,
    wrong_passwords_do_not_reveal_who_exists,
    operations_endpoints_report_health_and_metrics,
);
