//! The roll-up of sessions by start time (the `session_counts` table, migration 7): how many sessions started in each
//! time bucket, by status, resource type and client interface — for every gateway together in days and in hours, and
//! per gateway in days. Per gateway it also holds each day by status alone (migration 14): those rows carry the
//! gateway's id negated and empty kind columns, so that they lie together at the start of the key, and a count by
//! gateway or over chosen gateways without a resource type or interface filter adds a few rows per gateway and day
//! instead of one per kind (at a million sessions and 500 gateways over 30 days: 75,000 rows instead of 750,000).
//!
//! Status counts add up the buckets that lie wholly inside their window and read only what is left at its edges from
//! the sessions (at most an hour at each end for every gateway together, a day for chosen gateways). Each write batch
//! moves its sessions between buckets (see [`Changes`]) in its own transaction, so the roll-up is never behind the
//! sessions it counts.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;
use sra_domain::{Millis, SessionStatus, DAY_MS, HOUR_MS};

use crate::audit::WriteTxn;
use crate::sql::Sql;
use crate::{Store, StoreError};

/// The `gateway_id` of the rows that count every gateway together (gateway IDs start at 1).
const EVERY_GATEWAY: i64 = 0;
/// Rows per upsert (7 values each).
const CHUNK: usize = 500;

/// The bucket lengths: `coarse` for both levels, `fine` for every gateway together. The migration fills the table with
/// the production lengths; tests choose shorter ones to cross buckets in small worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spans {
    pub coarse: Millis,
    pub fine: Millis,
}

impl Default for Spans {
    fn default() -> Spans {
        Spans { coarse: DAY_MS, fine: HOUR_MS }
    }
}

impl Spans {
    /// What the roll-up holds, one entry per level: whether it is per gateway, and its bucket length. Writes, rebuilds
    /// and reads all follow this list.
    fn levels(self) -> [(Rows, Millis); 4] {
        [
            (Rows::Every, self.coarse),
            (Rows::Every, self.fine),
            (Rows::PerGateway, self.coarse),
            (Rows::AnyKind, self.coarse),
        ]
    }
}

/// The kinds of rows of the roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Every gateway together (`gateway_id` 0), by status, resource type and interface.
    Every,
    /// One gateway (its id), by status, resource type and interface.
    PerGateway,
    /// One gateway (its id negated), by status alone (resource type and interface empty).
    AnyKind,
}

impl Rows {
    /// The `gateway_id` these rows carry for a session of `gateway_id`.
    fn gateway_column(self, gateway_id: i64) -> i64 {
        match self {
            Rows::Every => EVERY_GATEWAY,
            Rows::PerGateway => gateway_id,
            Rows::AnyKind => -gateway_id,
        }
    }
}

/// Which rows of the roll-up a count reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Level<'a> {
    /// Every gateway together.
    Every,
    /// These gateways (never empty).
    Gateways(&'a [i64]),
    /// Each gateway on its own (to count by gateway).
    EachGateway,
}

impl<'a> Level<'a> {
    /// The bucket lengths this level is kept in, longest first.
    fn spans(self, spans: Spans) -> Vec<Millis> {
        let rows = if matches!(self, Level::Every) { Rows::Every } else { Rows::PerGateway };
        spans.levels().into_iter().filter(|(r, _)| *r == rows).map(|(_, span)| span).collect()
    }

    /// The gateways the level is restricted to (`None`: every gateway).
    pub fn gateway_ids(self) -> Option<&'a [i64]> {
        match self {
            Level::Every | Level::EachGateway => None,
            Level::Gateways(ids) => Some(ids),
        }
    }
}

/// A window cut along bucket boundaries: the buckets wholly inside it (length, first start, end), and the stretches
/// left at its edges (start, end; both ends exclusive of the next part) that the sessions must answer for.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Cut {
    pub buckets: Vec<(Millis, Millis, Millis)>,
    pub edges: Vec<(Millis, Millis)>,
}

/// Cuts `[from, until)` into the longest buckets of `spans` that fit, then the next length for what is left, and so on.
pub(crate) fn cut(level: Level<'_>, spans: Spans, from: Millis, until: Millis) -> Cut {
    let mut out = Cut::default();
    cut_into(&level.spans(spans), from, until, &mut out);
    out
}

fn cut_into(spans: &[Millis], from: Millis, until: Millis, out: &mut Cut) {
    if from >= until {
        return;
    }
    let Some((&span, rest)) = spans.split_first() else {
        out.edges.push((from, until));
        return;
    };
    // The first bucket starting at or after `from`, and the end of the last one ending at or before `until`.
    let first = from.div_euclid(span).saturating_add(i64::from(from.rem_euclid(span) != 0)).saturating_mul(span);
    let end = until.div_euclid(span).saturating_mul(span);
    if first < end {
        cut_into(rest, from, first, out);
        out.buckets.push((span, first, end));
        cut_into(rest, end, until, out);
    } else {
        cut_into(rest, from, until, out);
    }
}

/// What a sum over the roll-up keeps besides its level and buckets: the status, resource type and client interface
/// filters (wire names; empty: any).
#[derive(Debug, Default)]
pub(crate) struct Kept<'a> {
    pub statuses: &'a [&'static str],
    pub resource_types: &'a [&'static str],
    pub client_interfaces: &'a [&'static str],
}

/// Appends `SELECT k, n` over one run of buckets of `level`: the sessions kept by `kept`, summed by `column` (one of
/// the roll-up's key columns: `status`, `resource_type`, `client_interface`, `gateway_id`).
pub(crate) fn push_sum(
    sql: &mut Sql,
    level: Level<'_>,
    (span, first, end): (Millis, Millis, Millis),
    column: &'static str,
    kept: &Kept<'_>,
) {
    // Per gateway, without a kind filter or a count by kind, the rows by status alone answer.
    let any_kind = !matches!(level, Level::Every)
        && kept.resource_types.is_empty()
        && kept.client_interfaces.is_empty()
        && matches!(column, "status" | "gateway_id");
    let key = if any_kind && column == "gateway_id" { "-c." } else { "c." };
    sql.push("SELECT ").push(key).push(column);
    sql.push(" AS k, CAST(SUM(c.sessions) AS BIGINT) AS n FROM session_counts c WHERE ");
    match (level, any_kind) {
        (Level::Every, _) => sql.push("c.gateway_id = ").bind(EVERY_GATEWAY),
        (Level::Gateways(ids), false) => sql.push("c.gateway_id IN ").bind_list(ids.iter().copied()),
        (Level::Gateways(ids), true) => sql.push("c.gateway_id IN ").bind_list(ids.iter().map(|id| -id)),
        (Level::EachGateway, false) => sql.push("c.gateway_id > ").bind(EVERY_GATEWAY),
        (Level::EachGateway, true) => sql.push("c.gateway_id < ").bind(EVERY_GATEWAY),
    };
    sql.push(" AND c.span_ms = ").bind(span);
    sql.push(" AND c.bucket >= ").bind(first).push(" AND c.bucket < ").bind(end);
    for (name, values) in [
        ("status", kept.statuses),
        ("resource_type", kept.resource_types),
        ("client_interface", kept.client_interfaces),
    ] {
        if !values.is_empty() {
            sql.push(" AND c.").push(name).push(" IN ").bind_list(values.iter().copied());
        }
    }
    sql.push(" GROUP BY c.").push(column);
}

/// A session as the roll-up counts it.
pub(crate) struct Counted<'a> {
    pub gateway_id: i64,
    pub started_at: Millis,
    pub resource_type: &'a str,
    pub client_interface: &'a str,
    pub status: SessionStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    gateway_id: i64,
    span_ms: Millis,
    bucket: Millis,
    resource_type: String,
    client_interface: String,
    status: &'static str,
}

/// What a write batch does to the roll-up: the net change of each bucket it touched.
#[derive(Debug, Default)]
pub(crate) struct Changes(BTreeMap<Key, i64>);

impl Changes {
    /// Adds `delta` (1: the session now counts here; -1: it no longer does) to each of the session's buckets.
    pub fn add(&mut self, spans: Spans, session: &Counted<'_>, delta: i64) {
        for (rows, span_ms) in spans.levels() {
            let any_kind = rows == Rows::AnyKind;
            let kind = |value: &str| if any_kind { String::new() } else { value.to_owned() };
            let key = Key {
                gateway_id: rows.gateway_column(session.gateway_id),
                span_ms,
                bucket: session.started_at.div_euclid(span_ms) * span_ms,
                resource_type: kind(session.resource_type),
                client_interface: kind(session.client_interface),
                status: session.status.as_str(),
            };
            *self.0.entry(key).or_default() += delta;
        }
    }

    /// Applies the changes inside the batch's transaction, in key order. Rows that reach zero are removed (only a
    /// decrease can bring one there), so the table holds only buckets with sessions.
    pub async fn write(self, txn: &WriteTxn) -> Result<(), StoreError> {
        let changed: Vec<(Key, i64)> = self.0.into_iter().filter(|(_, delta)| *delta != 0).collect();
        for chunk in changed.chunks(CHUNK) {
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push(
                "INSERT INTO session_counts (gateway_id, span_ms, bucket, resource_type, client_interface, status, \
                 sessions) VALUES ",
            );
            for (i, (key, delta)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " });
                push_key(&mut sql, key, Some(*delta));
            }
            sql.push(
                " ON CONFLICT (gateway_id, span_ms, bucket, resource_type, client_interface, status) \
                 DO UPDATE SET sessions = session_counts.sessions + excluded.sessions",
            );
            txn.execute(sql.build()).await?;

            let emptied: Vec<&Key> = chunk.iter().filter(|(_, delta)| *delta < 0).map(|(key, _)| key).collect();
            if !emptied.is_empty() {
                let mut sql = Sql::new(txn.get_database_backend());
                sql.push(
                    "DELETE FROM session_counts WHERE sessions = 0 AND (gateway_id, span_ms, bucket, resource_type, \
                     client_interface, status) IN (VALUES ",
                );
                for (i, key) in emptied.iter().enumerate() {
                    sql.push(if i == 0 { "" } else { ", " });
                    push_key(&mut sql, key, None);
                }
                sql.push(")");
                txn.execute(sql.build()).await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Counts every session into the roll-up (and the all-time totals) afresh: for sessions loaded around the store (the query benchmark's bulk
    /// insert). One transaction; the store's own writes keep the roll-up in step by themselves.
    pub async fn rebuild_session_counts(&self) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        txn.execute_unprepared("DELETE FROM session_counts").await?;
        for (rows, span) in self.count_spans.levels() {
            // A constant in GROUP BY would name an output column by position.
            let (gateway, kinds, grouped) = match rows {
                Rows::Every => ("0", "resource_type, client_interface", "b, resource_type, client_interface"),
                Rows::PerGateway => {
                    ("gateway_id", "resource_type, client_interface", "gateway_id, b, resource_type, client_interface")
                }
                Rows::AnyKind => ("-gateway_id", "'', ''", "gateway_id, b"),
            };
            txn.execute_unprepared(&format!(
                "INSERT INTO session_counts (gateway_id, span_ms, bucket, resource_type, client_interface, status, \
                 sessions) SELECT {gateway}, {span}, (started_at / {span}) * {span} AS b, {kinds}, status, COUNT(*) \
                 FROM sessions GROUP BY {grouped}, status"
            ))
            .await?;
        }
        // The all-time totals too (as migration 12 fills them).
        txn.execute_unprepared("DELETE FROM session_totals").await?;
        txn.execute_unprepared(
            "INSERT INTO session_totals (gateway_id, resource_type, status, sessions) \
             SELECT gateway_id, resource_type, status, COUNT(*) FROM sessions GROUP BY gateway_id, resource_type, status",
        )
        .await?;
        let mut bucket = String::from("CASE");
        for (i, bound) in crate::totals::DURATION_BOUNDS_S.iter().enumerate() {
            bucket.push_str(&format!(" WHEN ended_at - started_at <= {} THEN {i}", bound * 1_000));
        }
        bucket.push_str(&format!(" ELSE {} END", crate::totals::DURATION_BOUNDS_S.len()));
        txn.execute_unprepared("DELETE FROM session_durations").await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO session_durations (resource_type, status, bucket, sessions, duration_ms) \
             SELECT resource_type, status, {bucket} AS b, COUNT(*), SUM(ended_at - started_at) FROM sessions \
             WHERE ended_at IS NOT NULL GROUP BY resource_type, status, b"
        ))
        .await?;
        txn.commit().await
    }

    /// Sets the roll-up's bucket lengths. The roll-up must be empty (tests start from an empty store): rows counted
    /// with other lengths would be read as these.
    #[cfg(feature = "testing")]
    pub fn set_count_spans(&mut self, coarse: Millis, fine: Millis) {
        self.count_spans = Spans { coarse, fine };
    }
}

/// `(gateway_id, span_ms, bucket, resource_type, client_interface, status[, sessions])`.
fn push_key(sql: &mut Sql, key: &Key, sessions: Option<i64>) {
    sql.push("(").bind(key.gateway_id).push(", ").bind(key.span_ms).push(", ").bind(key.bucket).push(", ");
    sql.bind(key.resource_type.clone()).push(", ").bind(key.client_interface.clone()).push(", ").bind(key.status);
    if let Some(sessions) = sessions {
        sql.push(", ").bind(sessions);
    }
    sql.push(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPANS: Spans = Spans { coarse: 100, fine: 10 };

    #[test]
    fn a_window_is_cut_into_the_longest_buckets_that_fit() {
        // 95..=312: 95..100 by hand, 100..300 in coarse buckets, 300..310 in a fine one, 310..313 by hand.
        let every = cut(Level::Every, SPANS, 95, 313);
        assert_eq!(every.buckets, vec![(100, 100, 300), (10, 300, 310)]);
        assert_eq!(every.edges, vec![(95, 100), (310, 313)]);
        // Before and after the coarse buckets, fine ones fill in.
        let every = cut(Level::Every, SPANS, 75, 330);
        assert_eq!(every.buckets, vec![(10, 80, 100), (100, 100, 300), (10, 300, 330)]);
        assert_eq!(every.edges, vec![(75, 80)]);
        // Per gateway, only coarse buckets: the rest is read from the sessions.
        let ids = [1];
        let gateways = cut(Level::Gateways(&ids), SPANS, 95, 313);
        assert_eq!(gateways.buckets, vec![(100, 100, 300)]);
        assert_eq!(gateways.edges, vec![(95, 100), (300, 313)]);
    }

    #[test]
    fn windows_shorter_than_a_bucket_are_read_from_the_sessions() {
        let ids = [1];
        assert_eq!(cut(Level::Gateways(&ids), SPANS, 101, 199), Cut { buckets: vec![], edges: vec![(101, 199)] });
        assert_eq!(cut(Level::Every, SPANS, 101, 109), Cut { buckets: vec![], edges: vec![(101, 109)] });
        assert_eq!(cut(Level::Every, SPANS, 100, 100), Cut::default());
        // Exactly one bucket, nothing left over.
        assert_eq!(cut(Level::Every, SPANS, 100, 200), Cut { buckets: vec![(100, 100, 200)], edges: vec![] });
    }

    #[test]
    fn a_moved_session_leaves_one_bucket_per_level_and_enters_another() {
        let mut changes = Changes::default();
        let session =
            |status| Counted { gateway_id: 7, started_at: 1234, resource_type: "ssh", client_interface: "cli", status };
        changes.add(SPANS, &session(SessionStatus::Connecting), 1);
        changes.add(SPANS, &session(SessionStatus::Connecting), -1);
        changes.add(SPANS, &session(SessionStatus::Connected), 1);
        let net: Vec<(i64, i64, i64, &str, i64)> = changes
            .0
            .iter()
            .filter(|(_, d)| **d != 0)
            .map(|(k, d)| (k.gateway_id, k.span_ms, k.bucket, k.status, *d))
            .collect();
        assert_eq!(
            net,
            vec![
                (-7, 100, 1200, "connected", 1),
                (0, 10, 1230, "connected", 1),
                (0, 100, 1200, "connected", 1),
                (7, 100, 1200, "connected", 1)
            ]
        );
    }
}
