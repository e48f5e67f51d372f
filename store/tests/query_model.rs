//! The query engine against a plain-Rust model of the rules.
//!
//! Random worlds (gateways, users, roles with SRA rules, sessions) and random queries (caller, timeframe, filters,
//! search, sort, page size) run through the store page by page — forwards with `next_cursor`, and back again with
//! `prev_cursor` — and must give exactly what the model says: the same sessions in the same order, no duplicates or
//! gaps across pages, never a session the caller may not see; and the same status counts and visible gateways. After a
//! wave of changes, what changed in each view since a token is what the model says.
//! Runs on a real SQLite file and a real PostgreSQL database.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sea_orm::ConnectionTrait;
use sra_domain::{
    Actor, Caller, ChoiceCounts, ClientInterface, Facet, GatewayInfo, NewSession, ResourceType, Scope, SessionChange,
    SessionQuery, SessionStatus, SessionSummary, SessionUpdate, Sort, SortDirection, SortField, SraRule, StatusCounts,
    TimeWindow, Timeframe, ViewChanges,
};
use sra_store::testing::TestDb;
use sra_store::{RoleSpec, Store};

/// All generated times sit on a coarse grid near this instant, so that ties on start time and duration are common.
const T0: i64 = 1_800_000_000_000;
const STEP: i64 = 60_000;
const GATEWAY_NAMES: [&str; 5] = ["gw-a", "gw-b", "gw-c", "gw-d", "gw-e"];
/// Display names repeat on purpose: sorting by gateway must then fall back to the session ID.
const DISPLAY_NAMES: [&str; 4] = ["Alpha", "Beta", "alpha", "Beta"];
const LOGINS: [&str; 5] = ["u0", "u1", "u2", "U3", "u4"];
/// Session users without a console account.
const STRANGERS: [&str; 2] = ["x0", "u0x"];
/// `/ops/abc-bcd` holds every trigram of the search `abcd` without holding `abcd`.
const SECRETS: [&str; 6] =
    ["/prod/db_main", "/prod/DB-replica", "50%-off", "/dev/ssh/web", "/Prod/ssh/Web", "/ops/abc-bcd"];
/// User filters match exactly: `u3` is not `U3`.
const USER_FILTERS: [&str; 5] = ["u0", "U3", "u3", "x0", "nobody"];
/// Searches of three characters or more can be answered by the trigram index; shorter ones always walk.
const SEARCHES: [&str; 15] =
    ["u0", "PROD", "db_", "%", "_", "web", "x", "gw", "prod/", "B-REP", "0.0.3", "u0x", "50%-", "arget-1", "abcd"];
/// How many candidates a search reads before it walks instead: never, a few, and the production limit.
const CANDIDATE_LIMITS: [usize; 3] = [0, 3, 5_000];
/// The roll-up's bucket lengths (coarse, fine): production (no bucket fits these worlds), and short ones that cut the
/// worlds' windows into buckets and edges, aligned with the grid or not.
const COUNT_SPANS: [(i64, i64); 3] = [(86_400_000, 3_600_000), (4 * STEP, 2 * STEP), (5 * STEP, 2 * STEP)];
/// Above how many matches a listing by another column than start time walks that column's index: always, past a
/// few, and the production threshold (never, in these small worlds).
const WALK_ABOVE: [usize; 3] = [0, 5, 5_000];

#[derive(Debug, Clone)]
struct Role {
    rule: SraRule,
    gateways: BTreeSet<usize>,
}

#[derive(Debug, Clone)]
struct Session {
    user: String,
    gateway: usize,
    client: ClientInterface,
    resource: ResourceType,
    secret: &'static str,
    status: SessionStatus,
    start: i64,
    length: i64,
}

#[derive(Debug, Clone)]
struct World {
    display: Vec<&'static str>,
    roles: Vec<Role>,
    /// For each login, the indexes of its roles.
    holdings: Vec<BTreeSet<usize>>,
    sessions: Vec<Session>,
    count_spans: (i64, i64),
}

#[derive(Debug, Clone)]
struct Query {
    caller: String,
    window: TimeWindow,
    statuses: BTreeSet<SessionStatus>,
    resources: BTreeSet<ResourceType>,
    clients: BTreeSet<ClientInterface>,
    gateways: BTreeSet<String>,
    users: BTreeSet<&'static str>,
    search: Option<String>,
    sort: Sort,
    page_size: u32,
    candidate_limit: usize,
    walk_above: usize,
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn subset<T: Clone + Ord + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = BTreeSet<T>> {
    // Mostly empty (no filter), sometimes one or a few values.
    prop_oneof![
        2 => Just(BTreeSet::new()),
        1 => proptest::sample::subsequence(items.to_vec(), 1..=items.len().min(3)).prop_map(|v| v.into_iter().collect()),
    ]
}

fn world() -> impl Strategy<Value = World> {
    (1..=GATEWAY_NAMES.len()).prop_flat_map(|gateways| {
        let role = (pick(SraRule::ALL), proptest::collection::btree_set(0..gateways, 0..=gateways))
            .prop_map(|(rule, gateways)| Role { rule, gateways });
        let session = (
            prop_oneof![3 => pick(&LOGINS), 1 => pick(&STRANGERS)],
            0..gateways,
            pick(ClientInterface::ALL),
            pick(&ResourceType::ALL[..4]),
            pick(&SECRETS),
            pick(SessionStatus::ALL),
            0..12_i64,
            0..6_i64,
        )
            .prop_map(|(user, gateway, client, resource, secret, status, start, length)| Session {
                user: user.to_owned(),
                gateway,
                client,
                resource,
                secret,
                status,
                start: T0 + start * STEP,
                length: length * STEP,
            });
        (
            proptest::collection::vec(pick(&DISPLAY_NAMES), gateways),
            proptest::collection::vec(role, 0..=4),
            proptest::collection::vec(proptest::collection::btree_set(0..4_usize, 0..=2), LOGINS.len()),
            proptest::collection::vec(session, 0..=60),
            pick(&COUNT_SPANS),
        )
            .prop_map(|(display, roles, holdings, sessions, count_spans)| {
                let holdings =
                    holdings.into_iter().map(|h| h.into_iter().filter(|r| *r < roles.len()).collect()).collect();
                World { display, roles, holdings, sessions, count_spans }
            })
    })
}

fn query() -> impl Strategy<Value = Query> {
    let gateway_names: &'static [String] =
        Box::leak(GATEWAY_NAMES.iter().map(|g| g.to_string()).chain(["gw-unknown".to_owned()]).collect());
    (
        pick(&LOGINS),
        -2..14_i64,
        0..20_i64,
        subset(SessionStatus::ALL),
        subset(&ResourceType::ALL[..4]),
        subset(ClientInterface::ALL),
        subset(gateway_names),
        subset(&USER_FILTERS),
        prop_oneof![4 => Just(None), 1 => pick(&SEARCHES).prop_map(|s| Some(s.to_owned()))],
        pick(SortField::ALL),
        prop_oneof![Just(SortDirection::Asc), Just(SortDirection::Desc)],
        (1..=7_u32, pick(&CANDIDATE_LIMITS), pick(&WALK_ABOVE)),
    )
        .prop_map(
            |(
                caller,
                from,
                span,
                statuses,
                resources,
                clients,
                gateways,
                users,
                search,
                field,
                direction,
                (page_size, candidate_limit, walk_above),
            )| {
                Query {
                    caller: caller.to_owned(),
                    window: TimeWindow { from: T0 + from * STEP, to: T0 + (from + span) * STEP },
                    statuses,
                    resources,
                    clients,
                    gateways,
                    users,
                    search,
                    sort: Sort { field, direction },
                    page_size,
                    candidate_limit,
                    walk_above,
                }
            },
        )
}

fn session_id(i: usize) -> String {
    // Not in insertion order, so that the tie-breaker is really exercised.
    format!("{:02x}-{i}", (i * 37) % 97)
}

/// The `i` of [`session_id`].
fn session_index(id: &str) -> usize {
    id.rsplit('-').next().and_then(|i| i.parse().ok()).expect("a generated session ID")
}

/// The report that session `i` started.
fn start(i: usize, s: &Session) -> SessionUpdate {
    SessionUpdate {
        session_id: session_id(i),
        at: s.start,
        change: SessionChange::Started(NewSession {
            user: s.user.clone(),
            access_id: None,
            client_interface: s.client,
            gateway: GATEWAY_NAMES[s.gateway].to_owned(),
            resource_type: s.resource,
            secret_name: s.secret.to_owned(),
            target_name: format!("target-{}", i % 3),
            target_host: format!("10.0.0.{}", i % 5),
        }),
    }
}

/// Loads a world into an empty store through the normal write paths.
async fn load(store: &Store, world: &World) {
    for table in
        ["audit_log", "session_counts", "sessions", "role_gateways", "user_roles", "roles", "users", "gateways"]
    {
        store.connection().execute_unprepared(&format!("DELETE FROM {table}")).await.unwrap();
    }
    let admin = Actor::System;
    for (name, display) in GATEWAY_NAMES.iter().zip(&world.display) {
        store.register_gateway(&admin, name, display).await.unwrap();
    }
    for login in LOGINS {
        store.create_user(&admin, login, login).await.unwrap();
    }
    for (i, role) in world.roles.iter().enumerate() {
        let names: Vec<String> = role.gateways.iter().map(|g| GATEWAY_NAMES[*g].to_owned()).collect();
        let own = role.rule == SraRule::Own;
        let spec =
            RoleSpec { name: format!("role-{i}"), rule: role.rule, gateways: if own { names.clone() } else { vec![] } };
        store.create_role(&admin, &spec).await.unwrap();
        if !own {
            // The store no longer lets a None or All role hold gateways, but a database written by an earlier build
            // may: such grants must not change what the role's holders see.
            for name in names {
                let sql = format!(
                    "INSERT INTO role_gateways (role_id, gateway_id) SELECT r.id, g.id FROM roles r, gateways g \
                     WHERE r.name = 'role-{i}' AND g.name = '{name}'"
                );
                store.connection().execute_unprepared(&sql).await.unwrap();
            }
        }
    }
    for (login, roles) in LOGINS.iter().zip(&world.holdings) {
        for role in roles {
            store.assign_role(&admin, login, &format!("role-{role}")).await.unwrap();
        }
    }
    // Two batches: the starts, then every later change, so that the second moves sessions between counts.
    let mut starts = Vec::new();
    let mut updates = Vec::new();
    for (i, s) in world.sessions.iter().enumerate() {
        let id = session_id(i);
        starts.push(start(i, s));
        let end = s.start + s.length;
        let mut step = |change| updates.push(SessionUpdate { session_id: id.clone(), at: end, change });
        match s.status {
            SessionStatus::Connecting => {}
            SessionStatus::Connected => step(SessionChange::Connected),
            SessionStatus::Failed => step(SessionChange::Failed { error: "boom".into() }),
            SessionStatus::Completed => {
                step(SessionChange::Connected);
                step(SessionChange::Completed);
            }
            SessionStatus::Terminated => step(SessionChange::Terminated),
        }
    }
    store.apply_updates(&admin, &starts).await.unwrap();
    store.apply_updates(&admin, &updates).await.unwrap();
}

/// The model's caller: Self, plus the union of the caller's roles.
fn model_caller(world: &World, login: &str) -> Caller {
    let index = LOGINS.iter().position(|l| *l == login).expect("callers are console users");
    let mut gateways = BTreeSet::new();
    for role in &world.holdings[index] {
        let role = &world.roles[*role];
        match role.rule {
            SraRule::All => return Caller::admin(login),
            SraRule::Own => gateways.extend(role.gateways.iter().map(|g| GATEWAY_NAMES[*g].to_owned())),
            SraRule::None => {}
        }
    }
    Caller { login: login.to_owned(), scope: Scope::Gateways(gateways) }
}

/// The model's answer: the matching sessions in order, given the listing's `as_of`, and the status counts.
fn model_answer(world: &World, q: &Query, as_of: i64) -> (Vec<String>, StatusCounts) {
    let caller = model_caller(world, &q.caller);
    let mut rows = Vec::new();
    let mut counts = StatusCounts::default();
    for (i, s) in world.sessions.iter().enumerate() {
        let id = session_id(i);
        let gateway = GATEWAY_NAMES[s.gateway];
        let ended = (!s.status.is_active()).then_some(s.start + s.length);
        let target_name = format!("target-{}", i % 3);
        let target_host = format!("10.0.0.{}", i % 5);
        let matches_search = q.search.as_ref().is_none_or(|needle| {
            let needle = needle.to_lowercase();
            [s.user.as_str(), &id, s.secret, &target_name, &target_host]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
        });
        let visible_and_matching = caller.may_see(&s.user, gateway)
            && q.window.overlaps(s.start, ended)
            && (q.resources.is_empty() || q.resources.contains(&s.resource))
            && (q.clients.is_empty() || q.clients.contains(&s.client))
            && (q.gateways.is_empty() || q.gateways.contains(gateway))
            && (q.users.is_empty() || q.users.contains(s.user.as_str()))
            && matches_search;
        if !visible_and_matching {
            continue;
        }
        counts.add(s.status, 1);
        if !q.statuses.is_empty() && !q.statuses.contains(&s.status) {
            continue;
        }
        let key: (i64, String) = match q.sort.field {
            SortField::StartTime => (s.start, String::new()),
            SortField::Duration => (ended.unwrap_or(as_of) - s.start, String::new()),
            SortField::User => (0, s.user.clone()),
            SortField::Gateway => (0, world.display[s.gateway].to_owned()),
            SortField::ResourceType => (0, s.resource.as_str().to_owned()),
            SortField::ClientInterface => (0, s.client.as_str().to_owned()),
            SortField::SecretName => (0, s.secret.to_owned()),
            SortField::SessionId => (0, id.clone()),
            SortField::Status => {
                (SessionStatus::ALL.iter().position(|x| *x == s.status).unwrap() as i64, String::new())
            }
        };
        rows.push((key, id));
    }
    rows.sort();
    if q.sort.direction == SortDirection::Desc {
        rows.reverse();
    }
    (rows.into_iter().map(|(_, id)| id).collect(), counts)
}

/// How many sessions each choice of `facet` would show: the model's answer with that filter alone left out.
fn model_choice_counts(world: &World, q: &Query, facet: Facet) -> ChoiceCounts {
    let mut without = q.clone();
    match facet {
        Facet::ClientInterface => without.clients.clear(),
        Facet::ResourceType => without.resources.clear(),
        Facet::Gateway => without.gateways.clear(),
    }
    let (listed, _) = model_answer(world, &without, 0);
    let mut counts = ChoiceCounts::new();
    for id in listed {
        let s = &world.sessions[session_index(&id)];
        let value = match facet {
            Facet::ClientInterface => s.client.as_str().to_owned(),
            Facet::ResourceType => s.resource.as_str().to_owned(),
            Facet::Gateway => GATEWAY_NAMES[s.gateway].to_owned(),
        };
        *counts.entry(value).or_default() += 1;
    }
    counts
}

fn to_session_query(q: &Query) -> SessionQuery {
    SessionQuery {
        timeframe: Timeframe::Fixed(q.window),
        statuses: q.statuses.clone(),
        resource_types: q.resources.clone(),
        client_interfaces: q.clients.clone(),
        gateways: q.gateways.clone(),
        users: q.users.iter().map(|u| (*u).to_owned()).collect(),
        search: q.search.clone(),
        sort: q.sort,
        page_size: q.page_size,
        ..SessionQuery::recent()
    }
}

fn ids(sessions: &[SessionSummary]) -> Vec<String> {
    sessions.iter().map(|s| s.session_id.clone()).collect()
}

async fn check(store: &Store, world: &World, queries: &[Query]) -> Result<(), TestCaseError> {
    let mut store = store.clone();
    store.set_count_spans(world.count_spans.0, world.count_spans.1);
    let store = &store;
    load(store, world).await;
    for q in queries {
        let mut store = store.clone();
        store.set_search_candidate_limit(q.candidate_limit);
        store.set_walk_above(q.walk_above);
        let store = &store;
        let caller = store.caller(&q.caller).await.unwrap();
        prop_assert_eq!(&caller, &model_caller(world, &q.caller), "caller resolution");
        let base = to_session_query(q);

        // Forwards, page by page.
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let page =
                store.list_sessions(&caller, &SessionQuery { cursor: cursor.clone(), ..base.clone() }).await.unwrap();
            prop_assert!(page.sessions.len() <= q.page_size as usize);
            prop_assert!(
                page.prev_cursor.is_some() != pages.is_empty(),
                "a previous page exists exactly after the first"
            );
            cursor = page.next_cursor.clone();
            let last = cursor.is_none();
            pages.push(page);
            if last {
                break;
            }
            prop_assert!(pages.len() <= 61, "paging does not end");
        }
        let as_of = pages[0].as_of;
        prop_assert!(pages.iter().all(|p| p.as_of == as_of), "as_of is fixed across pages");
        let listed: Vec<String> = pages.iter().flat_map(|p| ids(&p.sessions)).collect();
        let (expected, counts) = model_answer(world, q, as_of);
        prop_assert_eq!(&listed, &expected, "query {:?}", q);
        if expected.is_empty() {
            prop_assert_eq!(pages.len(), 1);
        } else {
            prop_assert!(pages.iter().all(|p| !p.sessions.is_empty()), "no empty pages");
        }

        // Backwards from every page: the previous page is exactly the one before it.
        for i in 1..pages.len() {
            let back = SessionQuery { cursor: pages[i].prev_cursor.clone(), ..base.clone() };
            let previous = store.list_sessions(&caller, &back).await.unwrap();
            prop_assert_eq!(ids(&previous.sessions), ids(&pages[i - 1].sessions), "prev of page {}", i);
            prop_assert_eq!(previous.prev_cursor.is_some(), i > 1);
            prop_assert!(previous.next_cursor.is_some());
        }

        prop_assert_eq!(store.status_counts(&caller, &base).await.unwrap(), counts, "status counts");
        for facet in Facet::ALL {
            let got = store.choice_counts(&caller, &base, *facet).await.unwrap();
            prop_assert_eq!(got, model_choice_counts(world, q, *facet), "{} counts of {:?}", facet, q);
        }

        let visible = store.visible_gateways(&caller).await.unwrap();
        let allowed: Vec<String> = visible.allowed.iter().map(|g: &GatewayInfo| g.cluster_name.clone()).collect();
        let model_allowed: BTreeSet<String> = match &caller.scope {
            Scope::All => GATEWAY_NAMES[..world.display.len()].iter().map(|g| g.to_string()).collect(),
            Scope::Gateways(g) => g.clone(),
        };
        prop_assert_eq!(allowed.iter().cloned().collect::<BTreeSet<_>>(), model_allowed);
        let own: BTreeSet<String> =
            world.sessions.iter().filter(|s| s.user == q.caller).map(|s| GATEWAY_NAMES[s.gateway].to_owned()).collect();
        let filterable: BTreeSet<String> = visible.filterable.iter().map(|g| g.cluster_name.clone()).collect();
        prop_assert!(allowed.iter().all(|g| filterable.contains(g)) && own.iter().all(|g| filterable.contains(g)));
    }

    // Changes since a token are each view tested in memory on one shared reading of what changed: after a wave of
    // changes, every query's changed sessions in its view and those that left it are the model's.
    let mut before = Vec::new();
    for q in queries {
        let caller = store.caller(&q.caller).await.unwrap();
        let token = store.current_changes_token(&caller, &to_session_query(q)).await.unwrap();
        before.push((caller, token));
    }
    let (after, changed) = wave(store, world).await;
    for (q, (caller, token)) in queries.iter().zip(&before) {
        let model_caller = model_caller(&after, &q.caller);
        let (in_view, _) = model_answer(&after, q, T0);
        let in_view: BTreeSet<&String> = in_view.iter().collect();
        let mut sessions: Vec<(i64, &String)> =
            changed.iter().filter(|(id, _)| in_view.contains(id)).map(|(id, s)| (s.start, id)).collect();
        sessions.sort();
        sessions.reverse();
        let sessions: Vec<&String> = sessions.into_iter().map(|(_, id)| id).collect();
        let removed: Vec<&String> = changed
            .iter()
            .filter(|(id, s)| !in_view.contains(id) && model_caller.may_see(&s.user, GATEWAY_NAMES[s.gateway]))
            .map(|(id, _)| id)
            .collect();
        let answer = store.session_changes(caller, &to_session_query(q), token).await.unwrap();
        match answer.changes {
            ViewChanges::Unchanged => prop_assert!(sessions.is_empty() && removed.is_empty(), "{:?}", q),
            ViewChanges::Changed { sessions: got, removed: got_removed } => {
                prop_assert_eq!(got.iter().map(|s| &s.session_id).collect::<Vec<_>>(), sessions, "{:?}", q);
                prop_assert_eq!(got_removed.iter().collect::<Vec<_>>(), removed, "{:?}", q);
            }
            ViewChanges::Reset => prop_assert!(false, "reset after a small wave: {:?}", q),
        }
    }
    Ok(())
}

/// A wave of changes: every active session ends (connected ones complete, connecting ones fail, a minute after their
/// length) and a session starts on each gateway — so that sessions move into, out of and within views. Returns the
/// world after it, and the changed sessions by ID (ordered).
async fn wave(store: &Store, world: &World) -> (World, std::collections::BTreeMap<String, Session>) {
    let mut after = world.clone();
    let mut updates = Vec::new();
    let mut changed = std::collections::BTreeMap::new();
    for (i, s) in after.sessions.iter_mut().enumerate() {
        let (status, change) = match s.status {
            SessionStatus::Connected => (SessionStatus::Completed, SessionChange::Completed),
            SessionStatus::Connecting => (SessionStatus::Failed, SessionChange::Failed { error: "lost".into() }),
            _ => continue,
        };
        s.status = status;
        s.length += STEP;
        updates.push(SessionUpdate { session_id: session_id(i), at: s.start + s.length, change });
        changed.insert(session_id(i), s.clone());
    }
    for gateway in 0..world.display.len() {
        let s = Session {
            user: LOGINS[gateway % LOGINS.len()].to_owned(),
            gateway,
            client: ClientInterface::ALL[gateway % ClientInterface::ALL.len()],
            resource: ResourceType::ALL[gateway % 4],
            secret: SECRETS[gateway % SECRETS.len()],
            status: SessionStatus::Connecting,
            start: T0 + gateway as i64 * 2 * STEP,
            length: 0,
        };
        let i = after.sessions.len();
        updates.push(start(i, &s));
        changed.insert(session_id(i), s.clone());
        after.sessions.push(s);
    }
    store.apply_updates(&Actor::System, &updates).await.unwrap();
    (after, changed)
}

fn run(backend: &str) {
    let cases: u32 = match std::env::var("SRA_PROPTEST_CASES") {
        Err(_) => 200,
        // A property test that runs no case proves nothing: refuse zero and garbage instead of passing.
        Ok(v) => {
            v.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| panic!("SRA_PROPTEST_CASES={v:?}: give 1 or more"))
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = runtime.block_on(async {
        match backend {
            "sqlite" => TestDb::sqlite().await,
            _ => TestDb::postgres().await,
        }
    });
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (world(), proptest::collection::vec(query(), 1..=6));
    let result = runner.run(&strategy, |(world, queries)| runtime.block_on(check(&db.store, &world, &queries)));
    runtime.block_on(db.finish());
    if let Err(e) = result {
        panic!("{backend}: {e}");
    }
}

#[test]
fn the_engine_matches_the_model_on_sqlite() {
    run("sqlite");
}

#[test]
fn the_engine_matches_the_model_on_postgres() {
    run("postgres");
}
