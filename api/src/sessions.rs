//! `POST /list-sra-sessions`: the Akeyless request and answer, and their conversion to and from the domain.

use serde::{Deserialize, Deserializer, Serialize};
use sra_domain::{
    parse_rfc3339, ClientInterface, ConnectionType, GatewayInfo, InvalidTime, Millis, RawSessionQuery, ResourceType,
    SessionStatus, SessionSummary, ViewChanges,
};
use utoipa::ToSchema;

/// A List SRA Sessions request. The first keys are Akeyless's; the rest are this server's additions, for what the
/// console can do. Every key is optional; unknown keys (such as the Akeyless CLI's `json`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", default)]
pub struct ListSraSessions {
    /// The bearer token from `/auth` (or send `Authorization: Bearer …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Statuses to list: `connecting`, `connected`, `failed`, `completed`, `terminated`. Empty or absent: the active
    /// ones (`connecting`, `connected`). A single string, or entries holding comma-separated lists, are accepted too.
    #[serde(deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["connecting", "connected"]))]
    pub status_type: Vec<String>,
    /// Resource types to list (`ssh`, `rdp`, `mysql`, `postgres`, `mssql`, `mongodb`, `oracle`, `redis`, `k8s`,
    /// `eks`, `gke`, `aks`, `aws`, `azure`, `gcp`, `web`). Empty or absent: all.
    #[serde(deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["ssh"]))]
    pub resource_type: Vec<String>,
    /// The `next_page` of the previous answer, sent with the same other keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
    /// Not supported by this server: authenticate with `/auth` and send `token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid_token: Option<String>,
    /// Extension: start of the timeframe (RFC 3339). Sessions overlapping the timeframe are listed. Default: 30 days
    /// before its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-11-01T00:00:00Z")]
    pub from: Option<String>,
    /// Extension: end of the timeframe (RFC 3339). Default: now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Extension: gateway cluster names. Empty or absent: all the caller may see.
    #[serde(deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub gateway: Vec<String>,
    /// Extension: users (exactly as sessions record them). Empty or absent: every user the caller may see.
    #[serde(deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!(["olivia"]))]
    pub user: Vec<String>,
    /// Extension: client interfaces (`web_portal_cli`, `web_portal_web`, `cli`, `desktop_app`).
    #[serde(deserialize_with = "one_or_many", skip_serializing_if = "Vec::is_empty")]
    pub client_interface: Vec<String>,
    /// Extension: case-insensitive text looked for in the user, session ID, secret name, target name and host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Extension: `FIELD`, `FIELD:asc|desc` or `-FIELD`; fields `start_time` (default, newest first), `duration`,
    /// `user`, `gateway`, `resource_type`, `client_interface`, `secret_name`, `session_id`, `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "start_time:desc")]
    pub sort: Option<String>,
    /// Extension: sessions per page, 1 to 500 (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Extension: the `changes_token` of an earlier answer for the same keys: answers what changed in that view since
    /// ([`SraSessionChanges`]) instead of a page. Not with `pagination-token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes_since: Option<String>,
}

/// A request value this layer could not read (the query's own values are checked by the domain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{key:?}: {source}")]
    Time { key: &'static str, source: InvalidTime },
}

impl ListSraSessions {
    /// The session query this request asks for. Without `status-type`, only active sessions (Akeyless's default).
    pub fn to_query(&self) -> Result<RawSessionQuery, RequestError> {
        let time = |key: &'static str, value: &Option<String>| -> Result<Option<Millis>, RequestError> {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| parse_rfc3339(v).map_err(|source| RequestError::Time { key, source }))
                .transpose()
        };
        let mut statuses: Vec<String> = self.status_type.clone();
        if statuses.iter().all(|s| s.split(',').all(|part| part.trim().is_empty())) {
            statuses = SessionStatus::ACTIVE.iter().map(|s| s.as_str().to_owned()).collect();
        }
        Ok(RawSessionQuery {
            range: None,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
            statuses,
            resource_types: self.resource_type.clone(),
            client_interfaces: self.client_interface.clone(),
            gateways: self.gateway.clone(),
            users: self.user.clone(),
            search: self.search.clone(),
            sort: self.sort.clone(),
            page_size: self.page_size,
            cursor: self.pagination_token.clone(),
        })
    }
}

/// A list of strings that may also arrive as one string, or as null. A wrong element is named by its index.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Visitor;

    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<String>, D::Error> {
            deserializer.deserialize_any(self)
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Vec<String>, E> {
            Ok(vec![value.to_owned()])
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_option(Visitor)
}

/// The answer: one page of sessions, newest first unless sorted otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListSraSessionsOutput {
    pub sessions: Vec<SraSession>,
    /// Send as `pagination-token` (with the same other keys) for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    /// The gateways whose every session the caller may see (Own or All grants).
    pub allowed_gateways: Vec<SraGateway>,
    /// Extension: send as `changes-since` (with the same other keys) to learn what changed in this view since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_token: Option<String>,
}

/// The answer to a request with `changes-since`: what changed in its view since that token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SraSessionChanges {
    pub changes: ChangeKind,
    /// The changed sessions that are in the view, as they are now (new ones among them), newest first.
    pub sessions: Vec<SraSession>,
    /// The IDs of changed sessions the caller may see that are not in the view now (e.g. ended, when listing active
    /// sessions): drop those shown; some may never have been in the view.
    pub removed_session_ids: Vec<String>,
    /// Send as `changes-since` next time.
    pub changes_token: String,
}

/// Whether the view changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Nothing the caller may see changed: `sessions` and `removed_session_ids` are empty.
    Unchanged,
    /// Some sessions changed: apply `sessions` and `removed_session_ids`.
    Changed,
    /// Too much changed, or stored data was pruned: list the view again (without `changes-since`).
    Reset,
}

/// What `POST /list-sra-sessions` answers: a page, or with `changes-since` the view's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ListSraSessionsAnswer {
    Page(ListSraSessionsOutput),
    Changes(SraSessionChanges),
}

impl From<sra_domain::SessionChanges> for SraSessionChanges {
    fn from(c: sra_domain::SessionChanges) -> SraSessionChanges {
        let (changes, sessions, removed) = match c.changes {
            ViewChanges::Unchanged => (ChangeKind::Unchanged, Vec::new(), Vec::new()),
            ViewChanges::Reset => (ChangeKind::Reset, Vec::new(), Vec::new()),
            ViewChanges::Changed { sessions, removed } => (ChangeKind::Changed, sessions, removed),
        };
        SraSessionChanges {
            changes,
            sessions: sessions.into_iter().map(Into::into).collect(),
            removed_session_ids: removed,
            changes_token: c.token,
        }
    }
}

/// A gateway (SRA server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SraGateway {
    /// Unique name.
    pub cluster_name: String,
    /// The name people read.
    pub cluster_display_name: String,
}

impl From<GatewayInfo> for SraGateway {
    fn from(g: GatewayInfo) -> SraGateway {
        SraGateway { cluster_name: g.cluster_name, cluster_display_name: g.cluster_display_name }
    }
}

/// One session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SraSession {
    /// The SRA session ID.
    pub session_id: String,
    /// `connecting`, `connected`, `failed`, `completed` or `terminated`.
    #[schema(value_type = String, example = "connected")]
    pub status: SessionStatus,
    #[serde(with = "crate::time")]
    #[schema(value_type = String, format = DateTime)]
    pub start_time: Millis,
    /// Absent while the session is active.
    #[serde(default, with = "crate::time::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<Millis>,
    /// The user who started the session.
    pub user_identifier: String,
    /// The API key the user came through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,
    /// Client interface: `web_portal_cli`, `web_portal_web`, `cli` or `desktop_app`.
    #[schema(value_type = String, example = "web_portal_web")]
    pub client_type: ClientInterface,
    /// Protocol: `ssh`, `rdp`, `db`, `k8s`, `cloud` or `web`.
    #[schema(value_type = String, example = "ssh")]
    pub connection_type: ConnectionType,
    /// Resource type: `ssh`, `rdp`, `mysql`, ….
    #[schema(value_type = String, example = "ssh")]
    pub target_type: ResourceType,
    pub target_name: String,
    pub target_host: String,
    /// The secret used.
    pub secret_name: String,
    /// The gateway that manages the session.
    pub gateway_info: SraGateway,
    /// The gateway's numeric ID.
    pub cluster_unique_id: i64,
    /// Why the session failed (for `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// Extension: when termination of this active session was requested (absent otherwise). The session ends when
    /// its gateway reports `terminated`.
    #[serde(default, with = "crate::time::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub termination_requested_at: Option<Millis>,
    /// Extension: who asked for this session's termination, and why (kept after it ends; absent if never asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_requested_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_reason: Option<String>,
}

impl From<SessionSummary> for SraSession {
    fn from(s: SessionSummary) -> SraSession {
        SraSession {
            connection_type: s.resource_type.connection_type(),
            session_id: s.session_id,
            status: s.status,
            start_time: s.started_at,
            end_time: s.ended_at,
            user_identifier: s.user,
            access_id: s.access_id,
            client_type: s.client_interface,
            target_type: s.resource_type,
            target_name: s.target_name,
            target_host: s.target_host,
            secret_name: s.secret_name,
            gateway_info: s.gateway.into(),
            cluster_unique_id: s.gateway_id,
            error_msg: s.error_message,
            termination_requested_at: s.terminate_requested_at.filter(|_| s.status.is_active()),
            termination_requested_by: s.terminate_requested_by,
            termination_reason: s.termination_reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_json;

    #[test]
    fn no_status_means_active_only_and_keys_map_to_the_query() {
        for body in [&b"{}"[..], br#"{"status-type": []}"#, br#"{"status-type": null}"#, br#"{"status-type": [""]}"#] {
            let q = from_json::<ListSraSessions>(body).unwrap().to_query().unwrap();
            assert_eq!(q.statuses, ["connecting", "connected"], "{}", String::from_utf8_lossy(body));
        }
        let request: ListSraSessions = from_json(
            br#"{"token": "t-1", "status-type": "failed,completed", "resource-type": ["ssh", "rdp"],
                "pagination-token": "c", "from": "2026-11-01", "to": "2026-11-02T00:00:00Z", "gateway": "gw-a",
                "client-interface": ["cli"], "search": "db", "sort": "-duration", "page-size": 10, "json": true}"#,
        )
        .unwrap();
        let q = request.to_query().unwrap();
        assert_eq!(q.statuses, ["failed,completed"]);
        assert_eq!(q.resource_types, ["ssh", "rdp"]);
        assert_eq!((q.from, q.to), (Some(1_793_491_200_000), Some(1_793_577_600_000)));
        assert_eq!((q.gateways, q.client_interfaces), (vec!["gw-a".to_owned()], vec!["cli".to_owned()]));
        assert_eq!((q.search.as_deref(), q.sort.as_deref(), q.page_size), (Some("db"), Some("-duration"), Some(10)));
        assert_eq!(q.cursor.as_deref(), Some("c"));
        // What the CLI sends is read back the same.
        let again: ListSraSessions = from_json(&serde_json::to_vec(&request).unwrap()).unwrap();
        assert_eq!(again, request);
    }

    #[test]
    fn bad_times_name_the_key() {
        let request = ListSraSessions { to: Some("tomorrow".into()), ..Default::default() };
        assert_eq!(
            request.to_query().unwrap_err().to_string(),
            r#""to": invalid time "tomorrow"; expected RFC 3339, e.g. 2026-11-28T09:30:00Z or 2026-11-28"#
        );
        let err = from_json::<ListSraSessions>(br#"{"status-type": {"a": 1}}"#).unwrap_err();
        assert!(err.to_string().contains("a string or an array of strings"), "{err}");
    }

    #[test]
    fn a_session_has_the_akeyless_keys() {
        let summary = SessionSummary {
            session_id: "s-1".into(),
            user: "alice".into(),
            access_id: None,
            client_interface: ClientInterface::WebPortalCli,
            gateway: GatewayInfo { cluster_name: "gw-a".into(), cluster_display_name: "Gateway A".into() },
            gateway_id: 7,
            resource_type: ResourceType::Mysql,
            secret_name: "/db/mysql".into(),
            target_name: "orders".into(),
            target_host: "10.0.0.9:3306".into(),
            status: SessionStatus::Connected,
            started_at: 0,
            ended_at: None,
            error_message: None,
            updated_at: 0,
            terminate_requested_at: None,
            terminate_requested_by: None,
            termination_reason: None,
        };
        let json = serde_json::to_value(SraSession::from(summary)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "session_id": "s-1", "status": "connected", "start_time": "1970-01-01T00:00:00.000Z",
                "user_identifier": "alice", "client_type": "web_portal_cli", "connection_type": "db",
                "target_type": "mysql", "target_name": "orders", "target_host": "10.0.0.9:3306",
                "secret_name": "/db/mysql", "gateway_info": {"cluster_name": "gw-a", "cluster_display_name": "Gateway A"},
                "cluster_unique_id": 7
            })
        );
        let back: SraSession = serde_json::from_value(json).unwrap();
        assert_eq!(back.end_time, None);
    }
}
