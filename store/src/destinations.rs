//! Where the audit log is delivered (SIEM webhooks), and how far each destination has got (migration 13).
//!
//! The store keeps the destinations and their positions; the server's delivery loop (one replica at a time) reads the
//! entries after a destination's position, sends them, and moves the position only once they were acknowledged — so
//! delivery is at least once, in order, and resumes after a restart or on another replica.

use sea_orm::ConnectionTrait;
use serde_json::json;
use sra_domain::{check_name, Actor, DestinationListing, Millis, MAX_DESTINATION_URL};

use crate::audit::audit;
use crate::sql::Sql;
use crate::{now_ms, Store, StoreError};

/// The longest error kept for a destination (the rest is cut).
const MAX_ERROR: usize = 500;

/// Where delivery of a new destination starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// With the oldest entry kept (the whole log).
    Oldest,
    /// With the next entry recorded.
    Now,
}

/// A destination as the delivery loop needs it (secret included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub secret: String,
    /// The last audit entry acknowledged.
    pub position: i64,
    pub delivered_at: Option<Millis>,
    /// Failed attempts since the last success.
    pub failures: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
}

impl Store {
    /// Adds a webhook destination; returns its signing secret (shown once: it is never listed). Audited
    /// (`destination.added`, without the secret).
    pub async fn add_destination(
        &self,
        actor: &Actor,
        name: &str,
        url: &str,
        start: StartAt,
    ) -> Result<String, StoreError> {
        check_name("destination", name)?;
        check_url(url)?;
        let secret = crate::identity::new_secret();
        let mut txn = self.begin_write().await?;
        let backend = txn.get_database_backend();
        let mut exists = Sql::new(backend);
        exists.push("SELECT 1 AS one FROM audit_destinations WHERE name = ").bind(name.to_owned());
        if txn.query_one(exists.build()).await?.is_some() {
            return Err(StoreError::Exists { what: "destination", name: name.to_owned() });
        }
        let position = match start {
            StartAt::Oldest => 0,
            StartAt::Now => {
                let mut head = Sql::new(backend);
                head.push("SELECT COALESCE(MAX(id), 0) AS head FROM audit_log");
                match txn.query_one(head.build()).await? {
                    Some(row) => row.try_get::<i64>("", "head")?,
                    None => 0,
                }
            }
        };
        let now = now_ms();
        let mut insert = Sql::new(backend);
        insert
            .push("INSERT INTO audit_destinations (name, url, secret, position, failures, created_at) VALUES (")
            .bind(name.to_owned())
            .push(", ")
            .bind(url.to_owned())
            .push(", ")
            .bind(secret.clone())
            .push(", ")
            .bind(position)
            .push(", 0, ")
            .bind(now)
            .push(")");
        txn.execute(insert.build()).await?;
        let details = json!({"name": name, "url": url, "from": if start == StartAt::Now { "now" } else { "oldest" }});
        audit(&mut txn, now, actor, "destination.added", None, details).await?;
        txn.commit().await?;
        Ok(secret)
    }

    /// Removes a destination (delivery to it stops). Audited (`destination.removed`).
    pub async fn remove_destination(&self, actor: &Actor, name: &str) -> Result<(), StoreError> {
        let mut txn = self.begin_write().await?;
        let mut delete = Sql::new(txn.get_database_backend());
        delete.push("DELETE FROM audit_destinations WHERE name = ").bind(name.to_owned());
        if txn.execute(delete.build()).await?.rows_affected() == 0 {
            return Err(StoreError::Invalid {
                field: "destination".into(),
                reason: format!("no destination is named {name:?}"),
            });
        }
        audit(&mut txn, now_ms(), actor, "destination.removed", None, json!({"name": name})).await?;
        txn.commit().await
    }

    /// Every destination, by name.
    pub async fn destinations(&self) -> Result<Vec<Destination>, StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push(
            "SELECT id, name, url, secret, position, delivered_at, failures, last_error, last_error_at \
             FROM audit_destinations ORDER BY name",
        );
        self.db
            .query_all(sql.build())
            .await?
            .iter()
            .map(|row| {
                Ok(Destination {
                    id: row.try_get("", "id")?,
                    name: row.try_get("", "name")?,
                    url: row.try_get("", "url")?,
                    secret: row.try_get("", "secret")?,
                    position: row.try_get("", "position")?,
                    delivered_at: row.try_get("", "delivered_at")?,
                    failures: row.try_get("", "failures")?,
                    last_error: row.try_get("", "last_error")?,
                    last_error_at: row.try_get("", "last_error_at")?,
                })
            })
            .collect()
    }

    /// Every destination as administrators list it (no secrets), with how far behind the log it is.
    pub async fn list_destinations(&self) -> Result<Vec<DestinationListing>, StoreError> {
        let mut head = Sql::new(self.db.get_database_backend());
        head.push("SELECT COALESCE(MAX(id), 0) AS head FROM audit_log");
        let head = match self.db.query_one(head.build()).await? {
            Some(row) => u64::try_from(row.try_get::<i64>("", "head")?).unwrap_or(0),
            None => 0,
        };
        self.destination_listings(head).await
    }

    /// [`Store::list_destinations`] for an audit head already read.
    pub(crate) async fn destination_listings(&self, head: u64) -> Result<Vec<DestinationListing>, StoreError> {
        Ok(self
            .destinations()
            .await?
            .into_iter()
            .map(|d| DestinationListing {
                name: d.name,
                url: d.url,
                lag: head.saturating_sub(u64::try_from(d.position).unwrap_or(0)),
                delivered_at: d.delivered_at,
                failures: u64::try_from(d.failures).unwrap_or(0),
                last_error: d.last_error,
                last_error_at: d.last_error_at,
            })
            .collect())
    }

    /// Records that a destination acknowledged every entry up to `position`. Only forward: a late answer from an
    /// earlier attempt never moves it back.
    pub async fn mark_delivered(&self, id: i64, position: i64) -> Result<(), StoreError> {
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("UPDATE audit_destinations SET position = ")
            .bind(position)
            .push(", delivered_at = ")
            .bind(now_ms())
            .push(", failures = 0 WHERE id = ")
            .bind(id)
            .push(" AND position < ")
            .bind(position);
        let txn = self.begin_write().await?;
        txn.execute(sql.build()).await?;
        txn.commit().await
    }

    /// Records a failed delivery attempt (the position stays: the same entries are sent again).
    pub async fn mark_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let error: String = error.chars().take(MAX_ERROR).collect();
        let mut sql = Sql::new(self.db.get_database_backend());
        sql.push("UPDATE audit_destinations SET failures = failures + 1, last_error = ")
            .bind(error)
            .push(", last_error_at = ")
            .bind(now_ms())
            .push(" WHERE id = ")
            .bind(id);
        let txn = self.begin_write().await?;
        txn.execute(sql.build()).await?;
        txn.commit().await
    }
}

/// How a destination is reached, by its URL's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `http://` or `https://`: CloudEvents batches POSTed.
    Webhook,
    /// `syslog+tcp://HOST:PORT`: RFC 5424 messages over TCP, octet-counted (RFC 6587).
    SyslogTcp { address: String },
}

impl Transport {
    /// The transport of a URL [`check_url`] accepted.
    pub fn of(url: &str) -> Transport {
        match url.strip_prefix(SYSLOG_TCP) {
            Some(address) => Transport::SyslogTcp { address: address.trim_end_matches('/').to_owned() },
            None => Transport::Webhook,
        }
    }
}

const SYSLOG_TCP: &str = "syslog+tcp://";

/// An `http://` or `https://` URL with a host, or `syslog+tcp://HOST:PORT`; at most [`MAX_DESTINATION_URL`]
/// characters, no spaces or controls.
fn check_url(url: &str) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::Invalid { field: "url".into(), reason: format!("{url:?} {reason}") };
    if url.chars().count() > MAX_DESTINATION_URL {
        return Err(invalid(&format!("is too long; allowed: up to {MAX_DESTINATION_URL} characters")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("holds a space or control character"));
    }
    if let Some(address) = url.strip_prefix(SYSLOG_TCP) {
        let address = address.trim_end_matches('/');
        return match address.rsplit_once(':') {
            Some((host, port))
                if !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p > 0) =>
            {
                Ok(())
            }
            _ => Err(invalid("is not syslog+tcp://HOST:PORT")),
        };
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or("")) {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(invalid("is not an http:// or https:// URL with a host, nor syslog+tcp://HOST:PORT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_destinations() {
        assert!(check_url("https://siem.example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:8088").is_ok());
        assert!(check_url("syslog+tcp://logs.example.com:6514").is_ok());
        assert_eq!(Transport::of("syslog+tcp://10.0.0.5:514"), Transport::SyslogTcp { address: "10.0.0.5:514".into() });
        assert_eq!(Transport::of("https://x"), Transport::Webhook);
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https:///path",
            "http://a b",
            "siem.example.com",
            &"h".repeat(3000),
            "syslog+tcp://host",
            "syslog+tcp://:514",
            "syslog+tcp://host:0",
            "syslog+tcp://host:99999",
            "syslog+tcp://host/x:514",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }
}
