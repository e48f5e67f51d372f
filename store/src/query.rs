//! The session query engine: filters, timeframe, sort, keyset pages and the Self / Own / All visibility rule — all
//! inside one SQL statement, so pages, counts and cursors only ever involve sessions the caller may see.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use sra_domain::{
    Caller, GatewayInfo, QueryError, Scope, SessionQuery, SessionStatus, SessionSummary, SessionsPage, SortDirection,
    SortField, TimeWindow, VisibleGateways,
};

use crate::cursor::{fingerprint, Cursor, Direction, SortValue};
use crate::search::Search;
use crate::sql::Sql;
use crate::{now_ms, Backend, Store, StoreError};

/// The columns a listing reads; `row_to_summary` reads them back.
pub(crate) const COLUMNS: &str =
    "s.session_id, s.user_identifier, s.access_id, s.gateway_id, s.client_interface, s.resource_type, s.secret_name, \
     s.target_name, s.target_host, s.status, s.started_at, s.ended_at, s.error_message, s.updated_at, s.terminate_requested_at, \
     s.terminate_requested_by, s.termination_reason, \
     g.name AS gateway_name, g.display_name AS gateway_display_name";

/// A listing ready to run: its statement and what is needed to make cursors for its rows.
struct Listing {
    statement: Option<Statement>,
    /// Whether the statement merges several slices read by start time (see [`Store::run_listing`]).
    sliced: bool,
    cursor: Option<Cursor>,
    fingerprint: String,
    as_of: i64,
    direction: Direction,
}

/// The caller's visibility as the SQL needs it: `None` for All, else the ids of the gateways granted.
pub(crate) type ScopeIds = Option<Vec<i64>>;

impl Store {
    /// One page of the sessions `caller` may see that match `query`, in the query's order.
    pub async fn list_sessions(&self, caller: &Caller, query: &SessionQuery) -> Result<SessionsPage, StoreError> {
        // Read before the page: a change committed while the page is read is then reported again, never missed.
        let seen = self.change_head().await?;
        let changes_token = Some(self.changes_token(caller, query, seen));
        let Listing { statement, sliced, cursor, fingerprint, as_of, direction } = self.listing(caller, query).await?;
        let Some(statement) = statement else {
            return Ok(SessionsPage {
                sessions: Vec::new(),
                next_cursor: None,
                prev_cursor: None,
                as_of,
                changes_token,
            });
        };
        let field = query.sort.field;
        let rows = self.run_listing(statement, sliced).await?;
        let has_more = rows.len() > query.page_size as usize;
        let mut page = rows
            .iter()
            .take(query.page_size as usize)
            .map(|row| Ok((row_to_summary(row)?, read_sort_value(row, field)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if direction == Direction::Prev {
            page.reverse();
        }

        let make = |direction: Direction, (session, key): &(SessionSummary, SortValue)| {
            self.cursors.encode(&Cursor {
                fingerprint: fingerprint.clone(),
                direction,
                key: key.clone(),
                session_id: session.session_id.clone(),
                as_of,
            })
        };
        // Going forwards, there is a later page when more rows were found, and an earlier one whenever we came from a
        // cursor. Going backwards, the reverse.
        let (more_after, more_before) = match direction {
            Direction::Next => (has_more, cursor.is_some()),
            Direction::Prev => (true, has_more),
        };
        let next_cursor = page.last().filter(|_| more_after).map(|last| make(Direction::Next, last));
        let prev_cursor = page.first().filter(|_| more_before).map(|first| make(Direction::Prev, first));
        let sessions = page.into_iter().map(|(s, _)| s).collect();
        Ok(SessionsPage { sessions, next_cursor, prev_cursor, as_of, changes_token })
    }

    /// The statement behind [`Store::list_sessions`], without running it (for benchmarks: the engine's own SQL is
    /// the floor its overhead is measured against). `None` when nothing can match.
    #[doc(hidden)]
    pub async fn listing_statement(
        &self,
        caller: &Caller,
        query: &SessionQuery,
    ) -> Result<Option<Statement>, StoreError> {
        Ok(self.listing(caller, query).await?.statement)
    }

    /// Checks the cursor, resolves the caller's and the filter's gateways, and builds the listing's statement.
    async fn listing(&self, caller: &Caller, query: &SessionQuery) -> Result<Listing, StoreError> {
        let fingerprint = fingerprint(caller, query);
        let cursor = match &query.cursor {
            Some(text) => Some(self.cursors.decode(text, &fingerprint)?),
            None => None,
        };
        let as_of = cursor.as_ref().map_or_else(now_ms, |c| c.as_of);
        let direction = cursor.as_ref().map_or(Direction::Next, |c| c.direction);
        let Gateways { scope, filter } = self.resolve_gateways(caller, query).await?;
        let search = self.plan_search(query.search.as_deref()).await?;
        if matches!(filter, GatewayFilter::MatchesNothing) || search.matches_nothing() {
            return Ok(Listing { statement: None, sliced: false, cursor, fingerprint, as_of, direction });
        }
        let filter = filter.ids();
        let field = query.sort.field;
        // Rows are fetched in the direction of travel: forwards for "next", backwards for "previous".
        let descending = (query.sort.direction == SortDirection::Desc) != (direction == Direction::Prev);
        let order = if descending { " DESC" } else { " ASC" };
        let limit = i64::from(query.page_size) + 1;

        let window = query.timeframe.at(as_of);
        let slices = plan(caller, &scope, filter, query, &search);
        let reading = self.reading(caller, &scope, filter, query, window, &search).await?;
        let mut sql = Sql::new(self.db.get_database_backend());
        for (i, slice) in slices.iter().enumerate() {
            if slices.len() > 1 {
                sql.push(if i == 0 { "SELECT * FROM (" } else { " UNION ALL SELECT * FROM (" });
            }
            let status = match slice.statuses {
                Statuses::Is(status) => Some(status),
                _ => None,
            };
            let key = SortKey { field, as_of, lifetime: slice.lifetime, status };
            let reading = match slice.lifetime {
                // Active sessions are few, and their own index holds them by start time.
                Lifetime::Active => Reading::Walk,
                _ => reading,
            };
            sql.push("SELECT ").push(COLUMNS).push(", ");
            key.push(&mut sql);
            sql.push(" AS sort_key FROM ");
            from(&mut sql, &key, reading);
            sql.push(" WHERE ");
            conditions(&mut sql, query, window, Part::Overlapping, slice, filter, &search);
            if reading == Reading::Walk {
                walk_bounds(&mut sql, query, slice, filter);
            }
            if let Some(cursor) = &cursor {
                keyset(&mut sql, &key, descending, cursor, reading == Reading::Walk);
            }
            key.order_by(&mut sql, descending, reading);
            sql.push(" LIMIT ").bind(limit);
            if slices.len() > 1 {
                sql.push_numbered(") AS slice", i);
            }
        }
        if slices.len() > 1 {
            sql.push(" ORDER BY sort_key").push(order).push(", session_id").push(order);
            sql.push(" LIMIT ").bind(limit);
        }
        let sliced = slices.len() > 1 && field == SortField::StartTime;
        Ok(Listing { statement: Some(sql.build()), sliced, cursor, fingerprint, as_of, direction })
    }

    /// Runs a listing's statement. PostgreSQL plans a prepared statement afresh for its values (a custom plan) until it
    /// judges a plan made without them (generic) no worse; a statement of many slices is costly to plan (an Own caller's
    /// 42 slices: 10–28 ms, for a page read in 2–3 ms) and, by start time, its generic plan is as good as any — each
    /// slice reads one index from its end, whatever the values — yet which plan it got varied from run to run (a page
    /// in 3 ms or in 18 ms). So such a statement is always run with its generic plan, made once per connection. (Sorted
    /// by another column, generic plans read the wrong index for an Own caller: 88 ms instead of 30 by status.)
    async fn run_listing(&self, statement: Statement, sliced: bool) -> Result<Vec<QueryResult>, StoreError> {
        if !(sliced && self.backend == Backend::Postgres) {
            return Ok(self.db.query_all(statement).await?);
        }
        let txn = sea_orm::TransactionTrait::begin(&self.db).await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan").await?;
        let rows = txn.query_all(statement).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// How a listing reads its rows (see [`Reading`]): by a bounded count of the rows its filters match.
    async fn reading(
        &self,
        caller: &Caller,
        scope: &ScopeIds,
        filter: Option<&[i64]>,
        query: &SessionQuery,
        window: TimeWindow,
        search: &Search,
    ) -> Result<Reading, StoreError> {
        if query.sort.field == SortField::StartTime {
            return Ok(Reading::ByTime);
        }
        if search.is_few() {
            return Ok(Reading::Collect);
        }
        let slice = Slice {
            visibility: single_visibility(caller, scope),
            statuses: Statuses::In(&query.statuses),
            user: None,
            lifetime: Lifetime::Any,
        };
        // Only the sessions started inside the window are counted, from a range of the time index: enough to tell
        // many from few. (As one overlap condition, or with the few started earlier, the planner could read the time
        // or status index from the oldest session on and test each against a recent window: 4 s at a million
        // sessions for "the last 24 hours".)
        let limit = i64::try_from(self.walk_above).unwrap_or(i64::MAX).saturating_add(1);
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 FROM sessions s WHERE ");
        conditions(&mut sql, query, window, Part::StartedInside, &slice, filter, search);
        sql.push(" LIMIT ").bind(limit).push(") AS probe");
        let matching = match self.db.query_one(sql.build()).await? {
            Some(row) => row.try_get::<i64>("", "n")?,
            None => 0,
        };
        Ok(if usize::try_from(matching).unwrap_or(usize::MAX) > self.walk_above {
            Reading::Walk
        } else {
            Reading::Collect
        })
    }

    /// Sets above how many matching sessions a listing sorted by another column than start time reads that column's
    /// index instead of sorting what its filters deliver (tests use it to take either way).
    #[cfg(feature = "testing")]
    pub fn set_walk_above(&mut self, sessions: usize) {
        self.walk_above = sessions;
    }

    /// One session, if `caller` may see it (else [`StoreError::UnknownSession`]: whether a session one may not see
    /// exists is not revealed). The same visibility condition as listings.
    pub async fn visible_session(&self, caller: &Caller, session_id: &str) -> Result<SessionSummary, StoreError> {
        let Gateways { scope, .. } = self.resolve_gateways(caller, &SessionQuery::recent()).await?;
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT ").push(COLUMNS);
        sql.push(" FROM sessions s JOIN gateways g ON g.id = s.gateway_id WHERE s.session_id = ").bind(session_id);
        visibility_condition(&mut sql, &single_visibility(caller, &scope));
        match self.db.query_one(sql.build()).await? {
            Some(row) => row_to_summary(&row),
            None => Err(StoreError::UnknownSession(session_id.to_owned())),
        }
    }

    /// The gateways `caller` may see: those granted (All: every one), and for the filter also those of their own
    /// sessions. Both sorted by display name.
    pub async fn visible_gateways(&self, caller: &Caller) -> Result<VisibleGateways, StoreError> {
        let backend = self.db.get_database_backend();
        let mut sql = Sql::new(backend);
        sql.push("SELECT g.name, g.display_name FROM gateways g");
        match &caller.scope {
            Scope::All => {}
            Scope::Gateways(names) if names.is_empty() => {
                sql.push(" WHERE 1 = 0");
            }
            Scope::Gateways(names) => {
                sql.push(" WHERE g.name IN ").bind_list(names.iter().cloned());
            }
        }
        sql.push(" ORDER BY g.display_name, g.name");
        let allowed = self.gateway_infos(sql).await?;
        if caller.scope == Scope::All {
            return Ok(VisibleGateways { filterable: allowed.clone(), allowed });
        }
        let mut sql = Sql::new(backend);
        sql.push("SELECT g.name, g.display_name FROM gateways g WHERE g.id IN (SELECT s.gateway_id FROM sessions s WHERE s.user_identifier = ")
            .bind(caller.login.clone())
            .push(")");
        let mut filterable = allowed.clone();
        for own in self.gateway_infos(sql).await? {
            if !filterable.contains(&own) {
                filterable.push(own);
            }
        }
        filterable.sort_by(|a, b| {
            (&a.cluster_display_name, &a.cluster_name).cmp(&(&b.cluster_display_name, &b.cluster_name))
        });
        Ok(VisibleGateways { allowed, filterable })
    }

    async fn gateway_infos(&self, sql: Sql) -> Result<Vec<GatewayInfo>, StoreError> {
        self.db
            .query_all(sql.build())
            .await?
            .iter()
            .map(|row| {
                Ok(GatewayInfo {
                    cluster_name: row.try_get("", "name")?,
                    cluster_display_name: row.try_get("", "display_name")?,
                })
            })
            .collect()
    }

    /// Turns the gateway names of the caller's grants and of the query's filter into ids, in one look-up.
    pub(crate) async fn resolve_gateways(&self, caller: &Caller, query: &SessionQuery) -> Result<Gateways, StoreError> {
        let granted = match &caller.scope {
            Scope::All => None,
            Scope::Gateways(names) => Some(names),
        };
        let wanted: BTreeSet<&String> = granted.into_iter().flatten().chain(&query.gateways).collect();
        let mut ids = std::collections::HashMap::new();
        if !wanted.is_empty() {
            let mut sql = Sql::new(self.db.get_database_backend());
            sql.push("SELECT id, name FROM gateways WHERE name IN ").bind_list(wanted.into_iter().cloned());
            for row in self.db.query_all(sql.build()).await? {
                ids.insert(row.try_get::<String>("", "name")?, row.try_get::<i64>("", "id")?);
            }
        }
        let to_ids = |names: &BTreeSet<String>| -> Vec<i64> {
            let mut found: Vec<i64> = names.iter().filter_map(|n| ids.get(n).copied()).collect();
            found.sort_unstable();
            found
        };
        let filter = match query.gateways.is_empty() {
            true => GatewayFilter::None,
            false => match to_ids(&query.gateways) {
                found if found.is_empty() => GatewayFilter::MatchesNothing,
                found => GatewayFilter::Ids(found),
            },
        };
        Ok(Gateways { scope: granted.map(to_ids), filter })
    }
}

/// The gateways of a query, as ids.
pub(crate) struct Gateways {
    /// The caller's granted gateways; `None` for All.
    pub(crate) scope: ScopeIds,
    pub(crate) filter: GatewayFilter,
}

pub(crate) enum GatewayFilter {
    None,
    Ids(Vec<i64>),
    /// The filter names only gateways that do not exist.
    MatchesNothing,
}

impl Gateways {
    /// Appends ` AND …` limiting rows to the sessions `caller` may see (whose grants these are).
    pub(crate) fn visible_to(&self, sql: &mut Sql, caller: &Caller) {
        visibility_condition(sql, &single_visibility(caller, &self.scope));
    }
}

/// The condition that a session is in the view of `query` at `now` — timeframe, filters and search — visibility
/// aside (see [`Gateways::visible_to`]): the very conditions of a listing, for a few rows found otherwise.
pub(crate) fn view_condition(sql: &mut Sql, query: &SessionQuery, gateways: &Gateways, now: i64) {
    if matches!(gateways.filter, GatewayFilter::MatchesNothing) {
        sql.push("1 = 0");
        return;
    }
    let slice = Slice {
        visibility: Visibility::Everything,
        statuses: Statuses::In(&query.statuses),
        user: None,
        lifetime: Lifetime::Any,
    };
    let search = Search::testing_rows(query.search.as_deref());
    conditions(sql, query, query.timeframe.at(now), Part::Overlapping, &slice, gateways.filter.ids(), &search);
}

/// [`view_condition`] and the caller's visibility tested on a session already read, in memory: for the event streams,
/// which read the sessions changed in a moment once and test every open view on them. `None` where memory cannot be
/// sure to agree with the engines (a search when the text or the row is not plain ASCII: SQLite folds only ASCII
/// letters' case, PostgreSQL others too); the caller then asks the database. The property test in
/// `tests/changes.rs` holds the two to the same answers.
pub(crate) fn view_admits(caller: &Caller, query: &SessionQuery, session: &SessionSummary, now: i64) -> Option<bool> {
    let gateway = &session.gateway.cluster_name;
    let in_set = |empty: bool, contains: bool| empty || contains;
    let every_status = query.statuses.is_empty() || query.statuses.len() == SessionStatus::ALL.len();
    let admitted = caller.may_see(&session.user, gateway)
        && query.timeframe.at(now).overlaps(session.started_at, session.ended_at)
        && (every_status || query.statuses.contains(&session.status))
        && in_set(query.gateways.is_empty(), query.gateways.contains(gateway))
        && in_set(query.users.is_empty(), query.users.contains(&session.user))
        && in_set(query.resource_types.is_empty(), query.resource_types.contains(&session.resource_type))
        && in_set(query.client_interfaces.is_empty(), query.client_interfaces.contains(&session.client_interface));
    match (&query.search, admitted) {
        (Some(text), true) => crate::search::row_matches(text, session),
        _ => Some(admitted),
    }
}

impl GatewayFilter {
    pub(crate) fn ids(&self) -> Option<&[i64]> {
        match self {
            GatewayFilter::Ids(ids) => Some(ids),
            _ => None,
        }
    }
}

/// At most this many slices make one listing; beyond, a single statement is cheaper to plan than the union.
const MAX_SLICES: usize = 64;

/// A part of a listing that one index delivers already in start-time order. A listing by start time that is narrowed
/// by visibility or status is the union of such slices, each read newest-first up to the page size and merged: a
/// handful of short index range scans, whatever the share of the table each slice holds. (A single statement would
/// have to choose between scanning the time index past every session the caller may not see, and collecting every
/// visible session to sort it.)
pub(crate) struct Slice<'a> {
    pub(crate) visibility: Visibility<'a>,
    pub(crate) statuses: Statuses<'a>,
    /// One user of the query's user filter (`None`: the whole filter, if any).
    pub(crate) user: Option<&'a str>,
    pub(crate) lifetime: Lifetime,
}

/// Which sessions of a slice by whether they have ended: a listing by duration reads active and ended sessions apart,
/// since only an ended session's duration is fixed (and indexed).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Lifetime {
    Any,
    Active,
    Ended,
}

/// How a listing reads its rows.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Reading {
    /// By start time: slices from the time indexes (see [`Slice`]).
    ByTime,
    /// In the order of the sort column's index, testing each row: when many sessions match, a page is found after a
    /// few rows, and a deep page starts at its cursor.
    Walk,
    /// What the filters' own indexes deliver, sorted: when few sessions match, reading them all is cheaper than
    /// walking past the many that do not.
    Collect,
}

/// Above this many matching sessions, a listing walks the sort column's index rather than collecting and sorting.
/// At a million sessions, 5,000 rows sort in a few milliseconds, and a view matching more than one session in 200
/// finds a page after about 10,000 index entries.
pub(crate) const WALK_ABOVE: usize = 5_000;

#[derive(Clone, Copy)]
pub(crate) enum Visibility<'a> {
    /// No condition: the caller sees everything (All).
    Everything,
    /// Self or Own in one condition (for counts, and listings not sorted by start time).
    SelfOrGranted { login: &'a str, granted: &'a [i64] },
    /// The sessions of one gateway: one granted to the caller, or one named by an All caller's gateway filter.
    Gateway(i64),
    /// The caller's own sessions on gateways not granted to them (the Own slices cover the granted ones).
    OwnElsewhere { login: &'a str, granted: &'a [i64] },
}

#[derive(Clone, Copy)]
pub(crate) enum Statuses<'a> {
    Any,
    In(&'a BTreeSet<SessionStatus>),
    Is(SessionStatus),
}

pub(crate) fn single_visibility<'a>(caller: &'a Caller, scope: &'a ScopeIds) -> Visibility<'a> {
    match scope {
        None => Visibility::Everything,
        Some(granted) => Visibility::SelfOrGranted { login: &caller.login, granted },
    }
}

/// How to read a listing: one slice, or several to merge (see [`Slice`]).
fn plan<'a>(
    caller: &'a Caller,
    scope: &'a ScopeIds,
    filter: Option<&'a [i64]>,
    query: &'a SessionQuery,
    search: &Search,
) -> Vec<Slice<'a>> {
    let single = || {
        vec![Slice {
            visibility: single_visibility(caller, scope),
            statuses: Statuses::In(&query.statuses),
            user: None,
            lifetime: Lifetime::Any,
        }]
    };
    // By duration: active and ended sessions apart, each only if the status filter lets any through.
    if query.sort.field == SortField::Duration {
        let any = |active: bool| {
            query.statuses.is_empty() || query.statuses.iter().any(|status| status.is_active() == active)
        };
        return [(Lifetime::Active, any(true)), (Lifetime::Ended, any(false))]
            .into_iter()
            .filter(|(_, wanted)| *wanted)
            .map(|(lifetime, _)| Slice {
                visibility: single_visibility(caller, scope),
                statuses: Statuses::In(&query.statuses),
                user: None,
                lifetime,
            })
            .collect();
    }
    // A search's few matches are sorted as they come.
    if search.is_few() {
        return single();
    }
    // By status: one slice per status, each in session-ID order from the `(status, session_id)` index; the cursor's
    // status tells each slice where it starts (see `keyset`).
    if query.sort.field == SortField::Status {
        let statuses: Vec<SessionStatus> = match query.statuses.is_empty() {
            true => SessionStatus::ALL.to_vec(),
            false => query.statuses.iter().copied().collect(),
        };
        return statuses
            .into_iter()
            .map(|status| Slice {
                visibility: single_visibility(caller, scope),
                statuses: Statuses::Is(status),
                user: None,
                lifetime: Lifetime::Any,
            })
            .collect();
    }
    // Other orders than start time read one sort index (or sort what the filters leave).
    if query.sort.field != SortField::StartTime {
        return single();
    }
    // A user filter is the narrowest: each user's sessions come newest first from the (user, start time) index, with
    // visibility and the other filters checked on the way.
    if !query.users.is_empty() {
        if query.users.len() > MAX_SLICES {
            return single();
        }
        let visibility = single_visibility(caller, scope);
        let statuses = Statuses::In(&query.statuses);
        return query
            .users
            .iter()
            .map(|user| Slice { visibility, statuses, user: Some(user), lifetime: Lifetime::Any })
            .collect();
    }
    let visibilities: Vec<Visibility<'a>> = match (scope, filter) {
        (None, None) => vec![Visibility::Everything],
        (None, Some(ids)) => ids.iter().map(|id| Visibility::Gateway(*id)).collect(),
        (Some(granted), filter) => std::iter::once(Visibility::OwnElsewhere { login: &caller.login, granted })
            .chain(granted.iter().filter(|id| filter.is_none_or(|f| f.contains(id))).map(|id| Visibility::Gateway(*id)))
            .collect(),
    };
    let statuses: Vec<Statuses<'a>> = if query.statuses.is_empty() {
        vec![Statuses::Any]
    } else {
        query.statuses.iter().map(|s| Statuses::Is(*s)).collect()
    };
    if visibilities.len() * statuses.len() > MAX_SLICES {
        return single();
    }
    visibilities
        .iter()
        .flat_map(|visibility| {
            statuses.iter().map(|statuses| Slice {
                visibility: *visibility,
                statuses: *statuses,
                user: None,
                lifetime: Lifetime::Any,
            })
        })
        .collect()
}

/// Which sessions of the timeframe a statement reads.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    /// Every session overlapping the window.
    Overlapping,
    /// Those that started inside the window.
    StartedInside,
    /// Those that started before it and had not ended before it started.
    StartedBefore,
}

/// The WHERE conditions of one slice: timeframe, visibility, filters and search.
pub(crate) fn conditions(
    sql: &mut Sql,
    query: &SessionQuery,
    window: TimeWindow,
    part: Part,
    slice: &Slice<'_>,
    gateway_filter: Option<&[i64]>,
    search: &Search,
) {
    match part {
        Part::Overlapping => {
            sql.push("s.started_at <= ").bind(window.to);
            sql.push(" AND (s.ended_at IS NULL OR s.ended_at >= ").bind(window.from).push(")");
        }
        Part::StartedInside => {
            sql.push("s.started_at >= ").bind(window.from).push(" AND s.started_at <= ").bind(window.to);
        }
        Part::StartedBefore => {
            sql.push("s.started_at < ").bind(window.from);
            sql.push(" AND (s.ended_at IS NULL OR s.ended_at >= ").bind(window.from).push(")");
        }
    }

    match slice.lifetime {
        Lifetime::Any => {}
        Lifetime::Active => {
            sql.push(" AND s.ended_at IS NULL");
        }
        Lifetime::Ended => {
            sql.push(" AND s.ended_at IS NOT NULL");
        }
    }
    let filter_applies = visibility_condition(sql, &slice.visibility);
    if let (true, Some(ids)) = (filter_applies, gateway_filter) {
        sql.push(" AND s.gateway_id IN ").bind_list(ids.iter().copied());
    }

    match &slice.statuses {
        Statuses::Any => {}
        // Every status is no filter (and as a condition it would steer the planner to the status index).
        Statuses::In(set) if set.is_empty() || set.len() == SessionStatus::ALL.len() => {}
        Statuses::In(set) => {
            sql.push(" AND s.status IN ").bind_list(set.iter().map(|s| s.as_str()));
        }
        Statuses::Is(status) => {
            sql.push(" AND s.status = ").bind(status.as_str());
        }
    }
    match slice.user {
        Some(user) => {
            sql.push(" AND s.user_identifier = ").bind(user);
        }
        None if !query.users.is_empty() => {
            sql.push(" AND s.user_identifier IN ").bind_list(query.users.iter().cloned());
        }
        None => {}
    }
    if !query.resource_types.is_empty() {
        sql.push(" AND s.resource_type IN ").bind_list(query.resource_types.iter().map(|r| r.as_str()));
    }
    if !query.client_interfaces.is_empty() {
        sql.push(" AND s.client_interface IN ").bind_list(query.client_interfaces.iter().map(|c| c.as_str()));
    }
    search.condition(sql);
}

/// Rows strictly after the cursor in the direction of travel: `(key, session_id)` beyond the cursor's, so a deep page
/// starts where the last one ended instead of filtering its way there. A row-value comparison is a range on a
/// `(key, session_id)` index: PostgreSQL always gets it, SQLite when it walks a plain column's index. SQLite's own choice of plan
/// for start time is better with the expanded form (measured: page 100 at 1 ms instead of 5 ms on a million
/// sessions), with a redundant `key >= K` to seek on.
fn keyset(sql: &mut Sql, key: &SortKey, descending: bool, cursor: &Cursor, walking: bool) {
    let value: sea_orm::Value = match &cursor.key {
        SortValue::Int(v) => (*v).into(),
        SortValue::Text(v) => v.clone().into(),
    };
    let id = cursor.session_id.clone();
    let (op, or_equal) = if descending { (" < ", " <= ") } else { (" > ", " >= ") };
    if let (SortField::Status, Some(status), SortValue::Int(cursor_rank)) = (key.field, key.status, &cursor.key) {
        // A slice of one status: after the cursor's status it is read whole, before it not at all, and in it from the
        // cursor's session on.
        let rank = status_rank(status);
        let after = if descending { rank < *cursor_rank } else { rank > *cursor_rank };
        if rank == *cursor_rank {
            sql.push(" AND s.session_id").push(op).bind(id);
        } else if !after {
            sql.push(" AND 1 = 0");
        }
        return;
    }
    if key.lifetime == Lifetime::Active && key.field == SortField::Duration {
        // An active session's duration is `as_of - started_at`: the same condition on the start time (reversed), which
        // the active sessions' index holds.
        let started = match &cursor.key {
            SortValue::Int(v) => key.as_of.saturating_sub(*v),
            SortValue::Text(_) => key.as_of,
        };
        let (before, or_equal) = if descending { (" > ", " >= ") } else { (" < ", " <= ") };
        sql.push(" AND s.started_at").push(or_equal).bind(started).push(" AND (s.started_at").push(before);
        sql.bind(started).push(" OR (s.started_at = ").bind(started).push(" AND s.session_id").push(op).bind(id);
        sql.push("))");
        return;
    }
    // SQLite seeks on a row value only over plain columns of one table; expressions (status rank, duration) and the
    // gateway's name (another table) seek on the expanded form's `key >= K`.
    let plain_column = matches!(
        key.field,
        SortField::User
            | SortField::SecretName
            | SortField::ResourceType
            | SortField::ClientInterface
            | SortField::SessionId
    );
    sql.push(" AND (");
    if sql.backend() == DbBackend::Postgres || (walking && plain_column) {
        key.push(sql);
        sql.push(", s.session_id)").push(op).push("(").bind(value).push(", ").bind(id).push(")");
    } else {
        key.push(sql);
        sql.push(or_equal).bind(value.clone()).push(") AND (");
        key.push(sql);
        sql.push(op).bind(value.clone()).push(" OR (");
        key.push(sql);
        sql.push(" = ").bind(value).push(" AND s.session_id").push(op).bind(id).push("))");
    }
}

/// Conditions that let a walk in the sort column's index skip what the filters exclude anyway (without them it reads
/// past every session of the excluded values: 200 ms to reach the first completed session by status at 1M): the range
/// of a filter on the sort column itself, and, by gateway, only the gateways that can hold a visible session.
fn walk_bounds(sql: &mut Sql, query: &SessionQuery, slice: &Slice<'_>, gateway_filter: Option<&[i64]>) {
    fn range<T>(sql: &mut Sql, expression: &'static str, values: impl Iterator<Item = T> + Clone)
    where
        T: Into<sea_orm::Value> + PartialOrd + Clone,
    {
        let min = values.clone().reduce(|a, b| if b < a { b } else { a });
        let max = values.reduce(|a, b| if b > a { b } else { a });
        if let (Some(min), Some(max)) = (min, max) {
            sql.push(" AND ").push(expression).push(" BETWEEN ").bind(min).push(" AND ").bind(max);
        }
    }
    match query.sort.field {
        SortField::ResourceType => range(sql, "s.resource_type", query.resource_types.iter().map(|r| r.as_str())),
        SortField::ClientInterface => {
            range(sql, "s.client_interface", query.client_interfaces.iter().map(|c| c.as_str()))
        }
        SortField::User => range(sql, "s.user_identifier", query.users.iter().map(String::as_str)),
        SortField::Gateway => {
            if let Some(ids) = gateway_filter {
                sql.push(" AND g.id IN ").bind_list(ids.iter().copied());
            }
            if let Visibility::SelfOrGranted { login, granted } = slice.visibility {
                sql.push(" AND (g.id IN (SELECT own.gateway_id FROM sessions own WHERE own.user_identifier = ")
                    .bind(login.to_string())
                    .push(")");
                if !granted.is_empty() {
                    sql.push(" OR g.id IN ").bind_list(granted.iter().copied());
                }
                sql.push(")");
            }
        }
        SortField::StartTime
        | SortField::Duration
        | SortField::Status
        | SortField::SecretName
        | SortField::SessionId => {}
    }
}

/// A session's status as its rank in the lifecycle: connecting, connected, failed, completed, terminated (a listing by
/// status that sorts in one statement; slices by status bind [`status_rank`] instead).
const STATUS_RANK: &str = "CAST(CASE s.status WHEN 'connecting' THEN 0 WHEN 'connected' THEN 1 WHEN 'failed' THEN 2 \
                           WHEN 'completed' THEN 3 ELSE 4 END AS BIGINT)";

/// A status's rank in [`STATUS_RANK`]: the lifecycle order.
fn status_rank(status: SessionStatus) -> i64 {
    match status {
        SessionStatus::Connecting => 0,
        SessionStatus::Connected => 1,
        SessionStatus::Failed => 2,
        SessionStatus::Completed => 3,
        SessionStatus::Terminated => 4,
    }
}

/// What a slice sorts by.
struct SortKey {
    field: SortField,
    /// The listing's instant: active sessions last until then, fixed so that pages agree with each other.
    as_of: i64,
    lifetime: Lifetime,
    /// The one status of a slice by status.
    status: Option<SessionStatus>,
}

impl SortKey {
    /// The expression. Those with a sort index are written exactly as indexed (see the sort-index migration).
    fn push(&self, sql: &mut Sql) {
        match self.field {
            SortField::StartTime => sql.push("s.started_at"),
            SortField::Duration => match self.lifetime {
                Lifetime::Ended => sql.push("(s.ended_at - s.started_at)"),
                Lifetime::Active => sql.push("(").bind(self.as_of).push(" - s.started_at)"),
                Lifetime::Any => sql.push("(COALESCE(s.ended_at, ").bind(self.as_of).push(") - s.started_at)"),
            },
            SortField::User => sql.push("s.user_identifier"),
            SortField::Gateway => sql.push("g.display_name"),
            SortField::ResourceType => sql.push("s.resource_type"),
            SortField::ClientInterface => sql.push("s.client_interface"),
            SortField::SecretName => sql.push("s.secret_name"),
            SortField::SessionId => sql.push("s.session_id"),
            // By lifecycle, not alphabet: connecting, connected, failed, completed, terminated.
            SortField::Status => match self.status {
                Some(status) => sql.push("CAST(").bind(status_rank(status)).push(" AS BIGINT)"),
                None => sql.push(STATUS_RANK),
            },
        };
    }

    /// ` ORDER BY …` in the direction of travel.
    fn order_by(&self, sql: &mut Sql, descending: bool, reading: Reading) {
        let (order, reversed) = if descending { (" DESC", " ASC") } else { (" ASC", " DESC") };
        sql.push(" ORDER BY ");
        if self.field == SortField::Duration && self.lifetime == Lifetime::Active {
            // The longest-running active session started first.
            sql.push("s.started_at").push(reversed).push(", s.session_id").push(order);
            return;
        }
        if self.field == SortField::Status && self.status.is_some() {
            // One status: the session ID alone orders it.
            sql.push("s.session_id").push(order);
            return;
        }
        if reading == Reading::Collect && sql.backend() == DbBackend::Sqlite {
            // A unary plus keeps SQLite from reading the sort column's index (see `Reading::Collect`).
            sql.push("+");
        }
        self.push(sql);
        sql.push(order).push(", s.session_id").push(order);
    }
}

/// The FROM clause. SQLite is told the join order and the index to read in when walking: its planner, which does not
/// know how many rows the filters match, otherwise prefers a filter's index and sorts every match (seconds at a
/// million sessions). PostgreSQL's planner estimates from its statistics and chooses by itself.
fn from(sql: &mut Sql, key: &SortKey, reading: Reading) {
    if sql.backend() == DbBackend::Postgres || reading == Reading::ByTime {
        sql.push("sessions s JOIN gateways g ON g.id = s.gateway_id");
        return;
    }
    let index = match (key.field, reading) {
        // Gateways in display-name order, each one's sessions sorted on the way (a display name at a time).
        (SortField::Gateway, Reading::Walk) => {
            sql.push("gateways g INDEXED BY idx_gateways_display CROSS JOIN sessions s ON s.gateway_id = g.id");
            return;
        }
        (SortField::User, Reading::Walk) => Some(" INDEXED BY idx_sessions_sort_user"),
        (SortField::SecretName, Reading::Walk) => Some(" INDEXED BY idx_sessions_sort_secret"),
        (SortField::ResourceType, Reading::Walk) => Some(" INDEXED BY idx_sessions_sort_resource"),
        (SortField::ClientInterface, Reading::Walk) => Some(" INDEXED BY idx_sessions_sort_client"),
        (SortField::Status, Reading::Walk) => Some(" INDEXED BY idx_sessions_sort_status"),
        (SortField::Duration, Reading::Walk) => match key.lifetime {
            Lifetime::Active => Some(" INDEXED BY idx_sessions_active"),
            _ => Some(" INDEXED BY idx_sessions_sort_duration"),
        },
        // The unique constraint's index.
        (SortField::SessionId, Reading::Walk) => Some(" INDEXED BY sqlite_autoindex_sessions_1"),
        _ => None,
    };
    sql.push("sessions s");
    if let Some(index) = index {
        sql.push(index);
    }
    sql.push(" CROSS JOIN gateways g ON g.id = s.gateway_id");
}

/// Appends ` AND …` limiting rows to what the visibility allows: Self always; Own adds its gateways; All needs no
/// condition. Returns whether a gateway filter still has to be applied.
fn visibility_condition(sql: &mut Sql, visibility: &Visibility<'_>) -> bool {
    match visibility {
        Visibility::Everything => true,
        Visibility::SelfOrGranted { login, granted } => {
            sql.push(" AND (s.user_identifier = ").bind(login.to_string());
            if !granted.is_empty() {
                sql.push(" OR s.gateway_id IN ").bind_list(granted.iter().copied());
            }
            sql.push(")");
            true
        }
        Visibility::Gateway(id) => {
            sql.push(" AND s.gateway_id = ").bind(*id);
            false // chosen from within the filter already
        }
        Visibility::OwnElsewhere { login, granted } => {
            sql.push(" AND s.user_identifier = ").bind(login.to_string());
            if !granted.is_empty() {
                sql.push(" AND s.gateway_id NOT IN ").bind_list(granted.iter().copied());
            }
            true
        }
    }
}

/// Whether a sort field's values are integers (else text).
fn is_numeric(field: SortField) -> bool {
    matches!(field, SortField::StartTime | SortField::Duration | SortField::Status)
}

fn read_sort_value(row: &QueryResult, field: SortField) -> Result<SortValue, StoreError> {
    Ok(if is_numeric(field) {
        SortValue::Int(row.try_get("", "sort_key")?)
    } else {
        SortValue::Text(row.try_get("", "sort_key")?)
    })
}

pub(crate) fn row_to_summary(row: &QueryResult) -> Result<SessionSummary, StoreError> {
    let text = |column: &str| row.try_get::<String>("", column);
    Ok(SessionSummary {
        session_id: text("session_id")?,
        user: text("user_identifier")?,
        access_id: row.try_get("", "access_id")?,
        gateway_id: row.try_get("", "gateway_id")?,
        client_interface: parse_column(&text("client_interface")?, "client_interface")?,
        gateway: GatewayInfo {
            cluster_name: text("gateway_name")?,
            cluster_display_name: text("gateway_display_name")?,
        },
        resource_type: parse_column(&text("resource_type")?, "resource_type")?,
        secret_name: text("secret_name")?,
        target_name: text("target_name")?,
        target_host: text("target_host")?,
        status: parse_column(&text("status")?, "status")?,
        started_at: row.try_get("", "started_at")?,
        ended_at: row.try_get("", "ended_at")?,
        error_message: row.try_get("", "error_message")?,
        updated_at: row.try_get("", "updated_at")?,
        terminate_requested_at: row.try_get("", "terminate_requested_at")?,
        terminate_requested_by: row.try_get("", "terminate_requested_by")?,
        termination_reason: row.try_get("", "termination_reason")?,
    })
}

pub(crate) fn parse_column<T>(text: &str, column: &'static str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = sra_domain::ParseEnumError>,
{
    text.parse().map_err(|e: sra_domain::ParseEnumError| StoreError::Corrupt {
        table: "sessions",
        column,
        reason: e.to_string(),
    })
}

impl From<QueryError> for StoreError {
    fn from(e: QueryError) -> Self {
        StoreError::Query(e)
    }
}
