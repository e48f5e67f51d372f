//! Audit entries in words: what the console's timelines, the audit log page, the API's `summary` and the CLI show
//! first, with the raw details behind them. One wording for every reader, next to the records it describes.

use serde_json::Value;

use crate::AuditRecord;

impl AuditRecord {
    /// What happened, in one line: "connecting → connected", "termination requested by olivia: leaked key",
    /// "closed as failed: lost — …".
    pub fn summary(&self) -> String {
        summary(&self.actor, &self.action, &self.details)
    }
}

/// [`AuditRecord::summary`] of an entry's fields. Unknown actions (from a newer build) read as the action and its
/// details, never as an error.
pub fn summary(actor: &str, action: &str, details: &Value) -> String {
    let text = |key: &str| details.get(key).and_then(Value::as_str).unwrap_or("?").to_owned();
    let number = |key: &str| details.get(key).and_then(Value::as_i64).map_or_else(|| "?".to_owned(), |n| n.to_string());
    let by = actor.strip_prefix("user:").unwrap_or(actor).to_owned();
    match action {
        "session.started" => format!(
            "started: {} to {} ({}, secret {}) through {}, from {}",
            text("user"),
            text("target"),
            text("resource_type"),
            text("secret_name"),
            text("gateway"),
            text("client_interface").replace('_', " "),
        ),
        "session.terminate_requested" => {
            let mut line = format!("termination requested by {by}");
            if let Some(reason) = details.get("reason").and_then(Value::as_str) {
                line.push_str(&format!(": {reason}"));
            }
            match details.get("selected_by") {
                Some(Value::Object(s)) if s.contains_key("user") => {
                    line.push_str(&format!(" (every active session of {})", s["user"].as_str().unwrap_or("?")));
                }
                Some(Value::Object(s)) if s.contains_key("gateway") => {
                    line.push_str(&format!(" (every active session on {})", s["gateway"].as_str().unwrap_or("?")));
                }
                _ => {}
            }
            if details.get("repeated").and_then(Value::as_bool) == Some(true) {
                line.push_str(" — asked again; the first request stands");
            }
            line
        }
        _ if action.starts_with("session.") && details.get("from").is_some() => {
            let step = format!("{} → {}", text("from"), text("to"));
            match details.get("error").and_then(Value::as_str) {
                // The server's own sweeper closes sessions their gateway stopped reporting.
                Some(error) if actor == "system" => match error.split_once(": ") {
                    Some((what, why)) => format!("closed as {}: {what} — {why}", text("to")),
                    None => format!("closed as {}: {error}", text("to")),
                },
                Some(error) => format!("{step}: {error}"),
                None => step,
            }
        }
        "sessions.pruned" => {
            format!("{} ended sessions pruned (ended before {})", number("sessions"), text("ended_before"))
        }
        "audit.pruned" => format!("{} audit entries pruned (through #{})", number("entries"), number("through_id")),
        "audit.chain_keyed" => format!("audit chain of {} entries keyed with the audit key", number("entries")),
        "user.created" => format!("user {} created", text("login")),
        "user.disabled" => format!("user {} disabled", text("login")),
        "user.enabled" => format!("user {} enabled", text("login")),
        "user.password_set" => format!("password of {} set", text("login")),
        "role.created" => format!("role {} created (SRA rule: {})", text("name"), text("sra_rule")),
        "role.assigned" => format!("role {} assigned to {}", text("role"), text("login")),
        "role.granted" => format!("role {} granted gateways {}", text("role"), list(details.get("gateways"))),
        "role.unassigned" => format!("role {} taken from {}", text("role"), text("login")),
        "role.rule_set" => {
            let rule = |rule: &str, gateways: Option<&Value>| match rule {
                "own" => format!("Own ({})", list(gateways)),
                "all" => "All".to_owned(),
                "none" => "None".to_owned(),
                other => other.to_owned(),
            };
            let was = details.get("was").cloned().unwrap_or(Value::Null);
            let was_rule = was.get("sra_rule").and_then(Value::as_str).unwrap_or("?");
            format!(
                "SRA rule of role {} set to {} (was {})",
                text("role"),
                rule(&text("sra_rule"), details.get("gateways")),
                rule(was_rule, was.get("gateways")),
            )
        }
        "user.blocked" => format!(
            "{} blocked on {} until {} by {by}: {}",
            text("user"),
            text("gateway"),
            text("until"),
            text("reason")
        ),
        "user.unblocked" => format!("{by} lifted the block of {} on {}", text("user"), text("gateway")),
        "view.session" => match details.get("through").and_then(Value::as_str) {
            Some("api") => format!("{by} read the session's trail over the API"),
            _ => format!("{by} viewed the session"),
        },
        "api_key.created" => format!("API key {} created for {}", text("access_id"), text("login")),
        "api_key.revoked" => format!("API key {} revoked", text("access_id")),
        "api.token_issued" => match details.get("access_id").and_then(Value::as_str) {
            Some(key) => format!("{by} got an API token with key {key}"),
            None => format!("{by} got an API token with a password"),
        },
        "gateway.registered" => format!("gateway {} ({}) registered", text("name"), text("display_name")),
        "gateway.key_issued" => format!("new ingest key issued for gateway {}", text("gateway")),
        "export.sessions" => {
            let complete = details.get("complete").and_then(Value::as_bool) != Some(false);
            let view = text("view");
            format!(
                "{by} exported {} sessions as {}{} (view: {})",
                number("rows"),
                text("format").to_uppercase(),
                if complete { "" } else { ", interrupted" },
                if view.is_empty() { "the default" } else { &view }
            )
        }
        "console.signed_in" => format!("{by} signed in to the console"),
        "console.signed_out" => format!("{by} signed out of the console"),
        "console.sign_in_failed" | "api.auth_failed" => {
            format!("sign-in refused for {by} from {}: {}", text("address"), text("reason"))
        }
        "sign_in.throttled" => format!(
            "{} sign-in attempts from {} refused by the throttle ({} failures in the window)",
            number("refused"),
            text("address"),
            number("failures")
        ),
        _ => match details {
            Value::Object(map) if map.is_empty() => action.to_owned(),
            Value::Null => action.to_owned(),
            _ => format!("{action}: {details}"),
        },
    }
}

fn list(value: Option<&Value>) -> String {
    match value {
        Some(Value::Array(items)) if items.is_empty() => "none".to_owned(),
        Some(Value::Array(items)) => items.iter().map(|i| i.as_str().unwrap_or("?")).collect::<Vec<_>>().join(", "),
        _ => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::summary;

    #[test]
    fn session_entries_read_as_what_happened() {
        let started = json!({"to": "connecting", "user": "alice", "gateway": "gw-a", "client_interface": "web_portal_cli",
            "resource_type": "mysql", "secret_name": "/db/orders", "target": "orders"});
        assert_eq!(
            summary("gateway:gw-a", "session.started", &started),
            "started: alice to orders (mysql, secret /db/orders) through gw-a, from web portal cli"
        );
        assert_eq!(
            summary("gateway:gw-a", "session.connected", &json!({"from": "connecting", "to": "connected"})),
            "connecting → connected"
        );
        let failed = json!({"from": "connected", "to": "failed", "error": "auth refused"});
        assert_eq!(summary("gateway:gw-a", "session.failed", &failed), "connected → failed: auth refused");
        let lost = json!({"from": "connected", "to": "failed",
            "error": "lost: its gateway stopped reporting it (nothing for 5m)"});
        assert_eq!(
            summary("system", "session.failed", &lost),
            "closed as failed: lost — its gateway stopped reporting it (nothing for 5m)"
        );
        let asked = json!({"gateway": "gw-a", "user": "bob", "repeated": false, "reason": "leaked key",
            "selected_by": {"user": "bob"}});
        assert_eq!(
            summary("user:olivia", "session.terminate_requested", &asked),
            "termination requested by olivia: leaked key (every active session of bob)"
        );
        let again = json!({"repeated": true, "reason": "x"});
        assert_eq!(
            summary("user:root", "session.terminate_requested", &again),
            "termination requested by root: x — asked again; the first request stands"
        );
    }

    #[test]
    fn exports_say_what_and_how_many() {
        let export = json!({"format": "csv", "view": "status=failed", "rows": 12, "complete": true});
        assert_eq!(
            summary("user:olivia", "export.sessions", &export),
            "olivia exported 12 sessions as CSV (view: status=failed)"
        );
        let cut = json!({"format": "json", "view": "", "rows": 5000, "complete": false});
        assert_eq!(
            summary("user:olivia", "export.sessions", &cut),
            "olivia exported 5000 sessions as JSON, interrupted (view: the default)"
        );
    }

    #[test]
    fn administration_blocks_and_views_read_as_sentences() {
        let rule = json!({"role": "eu-ops", "sra_rule": "own", "gateways": ["gw-a", "gw-b"],
                          "was": {"sra_rule": "none", "gateways": []}});
        assert_eq!(
            summary("user:admin", "role.rule_set", &rule),
            "SRA rule of role eu-ops set to Own (gw-a, gw-b) (was None)"
        );
        let taken = json!({"login": "erin", "role": "eu-ops"});
        assert_eq!(summary("user:admin", "role.unassigned", &taken), "role eu-ops taken from erin");
        let block = json!({"user": "mallory", "gateway": "gw-a", "until": "2026-12-11T09:00:00Z", "reason": "leak"});
        assert_eq!(
            summary("user:olivia", "user.blocked", &block),
            "mallory blocked on gw-a until 2026-12-11T09:00:00Z by olivia: leak"
        );
        assert_eq!(summary("user:olivia", "user.unblocked", &block), "olivia lifted the block of mallory on gw-a");
        assert_eq!(summary("user:olivia", "view.session", &json!({"through": "console"})), "olivia viewed the session");
        assert_eq!(
            summary("user:olivia", "view.session", &json!({"through": "api"})),
            "olivia read the session's trail over the API"
        );
    }

    #[test]
    fn unknown_actions_show_their_details() {
        assert_eq!(summary("system", "future.thing", &json!({"n": 1})), "future.thing: {\"n\":1}");
        assert_eq!(summary("system", "future.thing", &json!({})), "future.thing");
        assert_eq!(
            summary("user:a", "role.granted", &json!({"role": "r", "gateways": []})),
            "role r granted gateways none"
        );
    }
}
