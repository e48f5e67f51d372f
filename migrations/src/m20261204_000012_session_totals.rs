//! All-time session totals for `/metrics`, kept like the counts roll-up (in the transaction that writes the sessions)
//! but never reduced by retention, so that the counters derived from them only grow:
//!
//! - `session_totals`: how many sessions there have been, by gateway, resource type and status now (a session moves
//!   from `connecting` to `connected` to its final status; final statuses only gain). No client interface: a key per
//!   gateway × resource type × status keeps it to a few thousand rows, and the few active sessions are counted by
//!   interface from the sessions themselves.
//! - `session_durations`: how many ended sessions lasted up to each bound of the duration histogram, by resource type
//!   and final status, with the sum of their durations. The bounds are fixed here and in `store/src/totals.rs`
//!   (`DURATION_BOUNDS_S`); bucket `i` holds durations in `(bound[i-1], bound[i]]`, the last bucket those beyond.
//!
//! Both start from the sessions stored when the migration runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The duration histogram's bounds in seconds (the same list as the store's).
const DURATION_BOUNDS_S: [i64; 11] = [10, 30, 60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (int, clustered) = match db.get_database_backend() {
            DbBackend::Postgres => ("BIGINT", ""),
            _ => ("INTEGER", " WITHOUT ROWID"),
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE session_totals (gateway_id {int} NOT NULL, resource_type TEXT NOT NULL, \
             status TEXT NOT NULL, sessions {int} NOT NULL, PRIMARY KEY (gateway_id, resource_type, status)){clustered}"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE session_durations (resource_type TEXT NOT NULL, status TEXT NOT NULL, bucket {int} NOT NULL, \
             sessions {int} NOT NULL, duration_ms {int} NOT NULL, PRIMARY KEY (resource_type, status, bucket)){clustered}"
        ))
        .await?;
        db.execute_unprepared(
            "INSERT INTO session_totals (gateway_id, resource_type, status, sessions) \
             SELECT gateway_id, resource_type, status, COUNT(*) FROM sessions GROUP BY gateway_id, resource_type, status",
        )
        .await?;
        let mut bucket = String::from("CASE");
        for (i, bound) in DURATION_BOUNDS_S.iter().enumerate() {
            bucket.push_str(&format!(" WHEN ended_at - started_at <= {} THEN {i}", bound * 1_000));
        }
        bucket.push_str(&format!(" ELSE {} END", DURATION_BOUNDS_S.len()));
        db.execute_unprepared(&format!(
            "INSERT INTO session_durations (resource_type, status, bucket, sessions, duration_ms) \
             SELECT resource_type, status, {bucket} AS b, COUNT(*), SUM(ended_at - started_at) FROM sessions \
             WHERE ended_at IS NOT NULL GROUP BY resource_type, status, b"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE IF EXISTS session_durations").await?;
        db.execute_unprepared("DROP TABLE IF EXISTS session_totals").await?;
        Ok(())
    }
}
