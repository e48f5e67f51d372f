//! Blocks: a user kept from opening new sessions on a gateway until a time. Placed with a termination (see
//! `termination`), listed to whoever may terminate sessions on the gateway (and to the blocked user), liftable by the
//! same people, audited each time; gateways learn the live ones in their heartbeat answers and refuse the user's new
//! sessions until then.

use sea_orm::ConnectionTrait;
use serde_json::json;
use sra_domain::{format_rfc3339, Actor, Block, Blocked, Caller, Millis, Scope, TerminationReason};

use crate::audit::{audit, WriteTxn};
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// Places (or extends: never shortens) the block of `blocked.user` on a gateway, audited.
pub(crate) async fn place(
    txn: &mut WriteTxn,
    caller: &Caller,
    blocked: &Blocked,
    gateway_id: i64,
    reason: &TerminationReason,
    now: Millis,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(txn.get_database_backend());
    sql.push("SELECT id, until FROM user_blocks WHERE gateway_id = ")
        .bind(gateway_id)
        .push(" AND user_identifier = ")
        .bind(blocked.user.clone())
        .push(" AND lifted_at IS NULL AND until > ")
        .bind(now)
        .push(" ORDER BY until DESC");
    let live = txn.query_one(sql.build()).await?;
    let mut write = Sql::new(txn.get_database_backend());
    match live {
        Some(row) if row.try_get::<i64>("", "until")? >= blocked.until => return Ok(()),
        Some(row) => {
            write
                .push("UPDATE user_blocks SET until = ")
                .bind(blocked.until)
                .push(" WHERE id = ")
                .bind(row.try_get::<i64>("", "id")?);
        }
        None => {
            write
                .push(
                    "INSERT INTO user_blocks (user_identifier, gateway_id, blocked_at, until, blocked_by, reason) \
                     VALUES (",
                )
                .bind(blocked.user.clone())
                .push(", ")
                .bind(gateway_id)
                .push(", ")
                .bind(now)
                .push(", ")
                .bind(blocked.until)
                .push(", ")
                .bind(caller.login.clone())
                .push(", ")
                .bind(reason.as_str().to_owned())
                .push(")");
        }
    }
    txn.execute(write.build()).await?;
    let details = json!({
        "user": blocked.user, "gateway": blocked.gateway, "until": format_rfc3339(blocked.until),
        "reason": reason.as_str(),
    });
    audit(txn, now, &Actor::User(caller.login.clone()), "user.blocked", None, details).await
}

const COLUMNS: &str = "b.id, b.user_identifier, g.name AS gateway_name, b.blocked_at, b.until, b.blocked_by, b.reason";

fn block(row: &sea_orm::QueryResult) -> Result<Block, StoreError> {
    Ok(Block {
        id: row.try_get("", "id")?,
        user: row.try_get("", "user_identifier")?,
        gateway: row.try_get("", "gateway_name")?,
        blocked_at: row.try_get("", "blocked_at")?,
        until: row.try_get("", "until")?,
        blocked_by: row.try_get("", "blocked_by")?,
        reason: row.try_get("", "reason")?,
    })
}

/// The most blocks one listing returns (live blocks are few: each needed a termination).
pub const MAX_BLOCKS: u64 = 1_000;

impl Store {
    /// The live blocks `caller` may see — on the gateways whose sessions they may terminate (All: every one), and
    /// their own — soonest to end first.
    pub async fn list_blocks(&self, caller: &Caller) -> Result<Vec<Block>, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("SELECT ").push(COLUMNS);
        sql.push(" FROM user_blocks b JOIN gateways g ON g.id = b.gateway_id WHERE b.lifted_at IS NULL AND b.until > ")
            .bind(now_ms());
        if let Scope::Gateways(granted) = &caller.scope {
            sql.push(" AND (b.user_identifier = ").bind(caller.login.clone());
            if !granted.is_empty() {
                sql.push(" OR g.name IN ").bind_list(granted.iter().cloned());
            }
            sql.push(")");
        }
        sql.push(" ORDER BY b.until, b.id LIMIT ").bind(MAX_BLOCKS as i64);
        self.db.query_all(sql.build()).await?.iter().map(block).collect()
    }

    /// Lifts a live block: allowed to whoever may terminate sessions on its gateway. Audited.
    pub async fn lift_block(&self, caller: &Caller, id: i64) -> Result<Block, StoreError> {
        let now = now_ms();
        let mut txn = self.begin_write().await?;
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push("SELECT ").push(COLUMNS);
        sql.push(" FROM user_blocks b JOIN gateways g ON g.id = b.gateway_id WHERE b.lifted_at IS NULL AND b.until > ")
            .bind(now)
            .push(" AND b.id = ")
            .bind(id);
        let found = txn.query_one(sql.build()).await?.map(|row| block(&row)).transpose()?;
        // Unknown, ended, lifted or not the caller's to see: one answer.
        let not_found = || StoreError::UnknownBlock(id);
        let found = found.ok_or_else(not_found)?;
        if !caller.may_terminate(&found.gateway) {
            if found.user == caller.login {
                return Err(StoreError::NotPermitted(format!(
                    "lifting a block on gateway {:?} needs All, or Own on it",
                    found.gateway
                )));
            }
            return Err(not_found());
        }
        let mut lift = Sql::new(txn.get_database_backend());
        lift.push("UPDATE user_blocks SET lifted_at = ")
            .bind(now)
            .push(", lifted_by = ")
            .bind(caller.login.clone())
            .push(" WHERE id = ")
            .bind(id);
        txn.execute(lift.build()).await?;
        let details = json!({"user": found.user, "gateway": found.gateway, "until": format_rfc3339(found.until)});
        audit(&mut txn, now, &Actor::User(caller.login.clone()), "user.unblocked", None, details).await?;
        txn.commit().await?;
        Ok(found)
    }
}

/// The live blocks on one gateway, as its heartbeat answer carries them: (user, until), soonest to end first.
pub(crate) async fn live_on(
    conn: &impl ConnectionTrait,
    gateway_id: i64,
    now: Millis,
) -> Result<Vec<(String, Millis)>, StoreError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT user_identifier, MAX(until) AS until FROM user_blocks WHERE gateway_id = ")
        .bind(gateway_id)
        .push(" AND lifted_at IS NULL AND until > ")
        .bind(now)
        .push(" GROUP BY user_identifier ORDER BY until, user_identifier LIMIT ")
        .bind(MAX_BLOCKS as i64);
    conn.query_all(sql.build())
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "user_identifier")?, row.try_get("", "until")?)))
        .collect()
}
