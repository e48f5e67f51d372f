//! The counts shown beside a page: how many sessions of each status (the status filter's chips), and how many each
//! choice of a folded filter would show ([`Facet`]). Under the same visibility rule and filters as listings; the
//! roll-up (`rollup`) answers where it can, the sessions where it cannot (a search or a user filter, the window's edges,
//! sessions started before the window, an Own caller's own sessions on other gateways).

use std::collections::BTreeMap;
use std::time::Instant;

use sea_orm::ConnectionTrait;
use sra_domain::{Caller, ChoiceCounts, Facet, SessionQuery, SessionStatus, StatusCounts, TimeWindow, Timeframe};

use crate::counts_cache;
use crate::cursor::fingerprint;
use crate::query::{
    conditions, parse_column, single_visibility, GatewayFilter, Gateways, Lifetime, Part, ScopeIds, Slice, Statuses,
    Visibility,
};
use crate::rollup;
use crate::search::Search;
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// What counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountedBy {
    Status,
    Choice(Facet),
}

impl CountedBy {
    /// The column grouped by, named alike in the sessions and the roll-up.
    fn column(self) -> &'static str {
        match self {
            CountedBy::Status => "status",
            CountedBy::Choice(Facet::ClientInterface) => "client_interface",
            CountedBy::Choice(Facet::ResourceType) => "resource_type",
            CountedBy::Choice(Facet::Gateway) => "gateway_id",
        }
    }

    /// `query` without the filter on this column: each value is counted as if it alone were chosen (what ticking it
    /// would show), whatever is chosen now.
    fn unfiltered(self, query: &SessionQuery) -> SessionQuery {
        let mut query = query.clone();
        match self {
            CountedBy::Status => query.statuses.clear(),
            CountedBy::Choice(Facet::ClientInterface) => query.client_interfaces.clear(),
            CountedBy::Choice(Facet::ResourceType) => query.resource_types.clear(),
            CountedBy::Choice(Facet::Gateway) => query.gateways.clear(),
        }
        query
    }
}

/// A value counted: text, or a gateway's id (named after counting, once).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Counted {
    Text(String),
    Gateway(i64),
}

impl Store {
    /// How many sessions of each status `caller` may see that match `query`'s other filters (its status filter, sort
    /// and cursor are ignored: the counts are what each status chip would show).
    pub async fn status_counts(&self, caller: &Caller, query: &SessionQuery) -> Result<StatusCounts, StoreError> {
        let mut counts = StatusCounts::default();
        for (value, n) in self.count_by(caller, query, CountedBy::Status).await? {
            if let Counted::Text(status) = value {
                counts.add(parse_column(&status, "status")?, n);
            }
        }
        Ok(counts)
    }

    /// How many sessions `caller` may see that match `query` for each choice of `facet`: the query's other filters
    /// (its status filter too) apply, its own choices of `facet` do not; sort and cursor are ignored. Gateways by name.
    pub async fn choice_counts(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        facet: Facet,
    ) -> Result<ChoiceCounts, StoreError> {
        let counted = self.count_by(caller, query, CountedBy::Choice(facet)).await?;
        let mut counts = ChoiceCounts::new();
        let mut gateways = BTreeMap::new();
        for (value, n) in counted {
            match value {
                Counted::Text(text) => *counts.entry(text).or_default() += n,
                Counted::Gateway(id) => *gateways.entry(id).or_default() += n,
            }
        }
        if !gateways.is_empty() {
            let mut sql = Sql::new(self.db.get_database_backend());
            sql.push("SELECT id, name FROM gateways WHERE id IN ").bind_list(gateways.keys().copied());
            for row in self.db.query_all(sql.build()).await? {
                let id: i64 = row.try_get("", "id")?;
                counts.insert(row.try_get("", "name")?, gateways.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(counts)
    }

    /// [`Store::status_counts`], reused for a few seconds (see `counts_cache`): what the console shows beside a page,
    /// asked for again on every refresh.
    pub async fn status_counts_cached(
        &self,
        caller: &Caller,
        query: &SessionQuery,
    ) -> Result<StatusCounts, StoreError> {
        let key = cache_key(caller, query, CountedBy::Status);
        if let Some(counts) = self.counts.get(&key, Instant::now()) {
            return Ok(counts);
        }
        let counts = self.status_counts(caller, query).await?;
        self.counts.put(key, counts.clone(), Instant::now());
        Ok(counts)
    }

    /// [`Store::choice_counts`], reused for a few seconds like [`Store::status_counts_cached`].
    pub async fn choice_counts_cached(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        facet: Facet,
    ) -> Result<ChoiceCounts, StoreError> {
        let key = cache_key(caller, query, CountedBy::Choice(facet));
        if let Some(counts) = self.choices.get(&key, Instant::now()) {
            return Ok(counts);
        }
        let counts = self.choice_counts(caller, query, facet).await?;
        self.choices.put(key, counts.clone(), Instant::now());
        Ok(counts)
    }

    /// The sessions `caller` may see that match `query` (less the filter on `by`'s column), counted by that column.
    /// A value may come more than once (from different parts of the statement): the caller adds them up.
    async fn count_by(
        &self,
        caller: &Caller,
        query: &SessionQuery,
        by: CountedBy,
    ) -> Result<Vec<(Counted, u64)>, StoreError> {
        let query = &by.unfiltered(query);
        let Gateways { scope, filter } = self.resolve_gateways(caller, query).await?;
        let search = self.plan_search(query.search.as_deref()).await?.for_counting();
        if matches!(filter, GatewayFilter::MatchesNothing) || search.matches_nothing() {
            return Ok(Vec::new());
        }
        let filter = filter.ids();
        let window = query.timeframe.at(now_ms());
        let mut sql = Sql::new(self.db.get_database_backend());
        if matches!(search, Search::None) && query.users.is_empty() {
            self.push_rolled_up_counts(&mut sql, caller, &scope, filter, query, window, by);
        } else {
            let slice = Slice {
                visibility: single_visibility(caller, &scope),
                statuses: Statuses::In(&query.statuses),
                user: None,
                lifetime: Lifetime::Any,
            };
            // The window splits in two disjoint parts that indexes answer without reading the table: sessions started
            // inside it (a range of start times), and the few started earlier that still overlap it (by end time). A
            // search's few candidates are read directly instead, once.
            let parts: &[Part] = match search {
                Search::Among { .. } | Search::Few { .. } | Search::Indexed { .. } => &[Part::Overlapping],
                _ => &[Part::StartedInside, Part::StartedBefore],
            };
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    sql.push(" UNION ALL ");
                }
                push_count(&mut sql, query, window, *part, &slice, filter, &search, by);
            }
        }
        let mut counted = Vec::new();
        for row in self.db.query_all(sql.build()).await? {
            let value = match by {
                CountedBy::Choice(Facet::Gateway) => Counted::Gateway(row.try_get("", "k")?),
                _ => Counted::Text(row.try_get("", "k")?),
            };
            let n: i64 = row.try_get("", "n")?;
            counted.push((value, u64::try_from(n).unwrap_or(0)));
        }
        Ok(counted)
    }

    /// The counts' statement when the roll-up can answer (no search, no user filter): the roll-up's buckets inside the
    /// window, the sessions at its edges and those started before it that overlap it, for the gateways the caller
    /// sees; and an Own caller's own sessions elsewhere, which only the sessions hold.
    #[allow(clippy::too_many_arguments)]
    fn push_rolled_up_counts(
        &self,
        sql: &mut Sql,
        caller: &Caller,
        scope: &ScopeIds,
        filter: Option<&[i64]>,
        query: &SessionQuery,
        window: TimeWindow,
        by: CountedBy,
    ) {
        let granted_and_filtered: Vec<i64>;
        let every = match by {
            CountedBy::Choice(Facet::Gateway) => rollup::Level::EachGateway,
            _ => rollup::Level::Every,
        };
        let (level, elsewhere) = match (scope, filter) {
            (None, None) => (Some(every), None),
            (None, Some(ids)) => (Some(rollup::Level::Gateways(ids)), None),
            (Some(granted), filter) => {
                granted_and_filtered =
                    granted.iter().copied().filter(|g| filter.is_none_or(|ids| ids.contains(g))).collect();
                let level =
                    (!granted_and_filtered.is_empty()).then_some(rollup::Level::Gateways(&granted_and_filtered));
                (level, Some(Visibility::OwnElsewhere { login: &caller.login, granted }))
            }
        };
        let mut parts = 0;
        let mut union = |sql: &mut Sql| {
            if parts > 0 {
                sql.push(" UNION ALL ");
            }
            parts += 1;
        };
        if let Some(level) = level {
            let ids = level.gateway_ids();
            // Every status is no filter (as in listings).
            let statuses: Vec<&'static str> = match query.statuses.len() {
                n if n == SessionStatus::ALL.len() => Vec::new(),
                _ => query.statuses.iter().map(|s| s.as_str()).collect(),
            };
            let resource_types: Vec<&'static str> = query.resource_types.iter().map(|r| r.as_str()).collect();
            let client_interfaces: Vec<&'static str> = query.client_interfaces.iter().map(|c| c.as_str()).collect();
            let kept = rollup::Kept {
                statuses: &statuses,
                resource_types: &resource_types,
                client_interfaces: &client_interfaces,
            };
            let every = Slice {
                visibility: Visibility::Everything,
                statuses: Statuses::In(&query.statuses),
                user: None,
                lifetime: Lifetime::Any,
            };
            let cut = rollup::cut(level, self.count_spans, window.from, window.to.saturating_add(1));
            for buckets in cut.buckets {
                union(sql);
                rollup::push_sum(sql, level, buckets, by.column(), &kept);
            }
            for (from, until) in cut.edges {
                union(sql);
                let edge = TimeWindow { from, to: until - 1 };
                push_count(sql, query, edge, Part::StartedInside, &every, ids, &Search::None, by);
            }
            union(sql);
            push_count(sql, query, window, Part::StartedBefore, &every, ids, &Search::None, by);
        }
        if let Some(visibility) = elsewhere {
            union(sql);
            let slice =
                Slice { visibility, statuses: Statuses::In(&query.statuses), user: None, lifetime: Lifetime::Any };
            push_count(sql, query, window, Part::Overlapping, &slice, filter, &Search::None, by);
        }
    }
}

/// The cache's key for counts by `by`: the caller and the query less what does not change the counts (sort, cursor,
/// page size, the filter on the counted column). Fixed windows that differ by less than the grain share an entry
/// (their counts differ by as little as the open-ended timeframes' counts do over the entry's lifetime).
fn cache_key(caller: &Caller, query: &SessionQuery, by: CountedBy) -> String {
    let grain = |t: i64| t.div_euclid(counts_cache::WINDOW_GRAIN_MS);
    let timeframe = match query.timeframe {
        Timeframe::Fixed(w) => Timeframe::Fixed(TimeWindow { from: grain(w.from), to: grain(w.to) }),
        Timeframe::Since(from) => Timeframe::Since(grain(from)),
        recent @ Timeframe::Recent { .. } => recent,
    };
    let key_query =
        SessionQuery { timeframe, sort: Default::default(), cursor: None, page_size: 1, ..by.unfiltered(query) };
    format!("{}:{}", by.column(), fingerprint(caller, &key_query))
}

/// `SELECT k, n`: the sessions of one part of the window, counted by `by`'s column.
#[allow(clippy::too_many_arguments)]
fn push_count(
    sql: &mut Sql,
    query: &SessionQuery,
    window: TimeWindow,
    part: Part,
    slice: &Slice<'_>,
    gateway_filter: Option<&[i64]>,
    search: &Search,
    by: CountedBy,
) {
    sql.push("SELECT s.").push(by.column()).push(" AS k, COUNT(*) AS n FROM sessions s WHERE ");
    conditions(sql, query, window, part, slice, gateway_filter, search);
    // SQLite would read a whole sort index in the kind's order to save sorting the few rows a part holds (the
    // sessions started before a window, grouped by interface: 0.9 s at a million sessions); `+` makes the column an
    // expression no index orders (PostgreSQL has no `+` for text, nor the habit). By status and by gateway, the
    // indexes that lead with them answer best (by gateway a covering skip-scan of `(gateway_id, started_at)`).
    let kind = matches!(by, CountedBy::Choice(Facet::ClientInterface | Facet::ResourceType));
    let group = match sql.backend() {
        sea_orm::DbBackend::Sqlite if kind => " GROUP BY +s.",
        _ => " GROUP BY s.",
    };
    sql.push(group).push(by.column());
}
