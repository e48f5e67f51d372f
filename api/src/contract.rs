//! What each request accepts, exactly, as JSON Schema (OpenAPI 3.1): allowed values, ranges, lengths, formats, which
//! keys are required and which go together. The OpenAPI document publishes these schemas and the server checks every
//! request body against them before reading it, so the document cannot promise more or less than the server does.
//!
//! The schemas are built from the same constants and enums the rest of the code uses (statuses, resource types, page
//! and list limits, ID lengths). Each is merged into the schema `utoipa` derives from the request type, which keeps
//! the field descriptions written beside the fields; what JSON Schema cannot say (a timeframe's start before its end,
//! a page token issued for the same query, a reported time not in the future) is said in those descriptions and
//! checked by the server after the schema.

use serde_json::{json, Map, Value};
use sra_domain::{
    ClientInterface, ResourceType, SessionStatus, SortField, MAX_CURSOR_LEN, MAX_LIST_LEN, MAX_NAME_LEN, MAX_PAGE_SIZE,
    MAX_REASON_CHARS, MAX_SEARCH_LEN, MAX_TERMINATIONS, MAX_USER_LEN,
};

use crate::gateway::{MAX_ERROR_LEN, MAX_TEXT_LEN};
use crate::{MAX_BATCH, MAX_ID_LEN, MAX_LIVE};

/// The longest `/stream-sra-audit` waits for new entries, in seconds (below common proxies' idle timeouts).
pub const MAX_AUDIT_WAIT_S: u32 = 30;
/// The largest page of audit entries.
pub const MAX_AUDIT_PAGE: u32 = 500;
/// The longest account (`access-id`, `admin-email`) `/auth` reads, in characters (the store's limit).
pub const MAX_ACCOUNT_CHARS: usize = 256;
/// The longest secret (`access-key`, `admin-password`) `/auth` reads, in characters: at most 4 bytes each, within the
/// store's 1,024 bytes.
pub const MAX_SECRET_CHARS: usize = 256;

/// Text without control characters (Unicode category Cc, which is what Rust's `char::is_control` tests).
pub const NO_CONTROL: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
/// One line with something in it: no control characters, and at least one character that is not white space.
pub const TEXT_LINE: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// Nothing, or one line with something in it.
pub const OPTIONAL_TEXT_LINE: &str = r"^(?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*)?$";
/// A name in a filter list: one line without commas (a comma would separate two names).
pub const FILTER_NAME: &str = r"^[^,\x00-\x1f\x7f-\x9f]*$";
/// Something that is not only white space.
pub const NOT_BLANK: &str = r"\S";
/// A block's length: 1 to 90 days, 1 to 2,160 hours or 1 to 129,600 minutes (1m–90d), without leading zeros.
pub const BLOCK_FOR: &str = "^(?:(?:[1-9]|[1-8][0-9]|90)d|(?:[1-9][0-9]{0,2}|1[0-9]{3}|20[0-9]{2}|21[0-5][0-9]|2160)h|\
                             (?:[1-9][0-9]{0,4}|1[01][0-9]{4}|12[0-8][0-9]{3}|129[0-5][0-9]{2}|129600)m)$";
/// An audit action as recorded (`session.terminate_requested`) or a family of them (`session.*`), or nothing.
pub const ACTION: &str = r"^(?:[a-z_]{1,40}\.(?:\*|[a-z_]{1,40}(?:\.[a-z_]{1,40})*))?$";
/// The longest actor `/list-sra-audit` filters by.
pub const MAX_ACTOR_LEN: usize = 300;
/// An audit entry's id, as `/list-sra-audit` pages by it.
pub const ENTRY_ID: &str = "^[0-9]{1,18}$";

/// What each pattern means, in words, for error messages.
pub fn pattern_meaning(pattern: &str) -> Option<&'static str> {
    Some(match pattern {
        NO_CONTROL => "text without control characters",
        TEXT_LINE => "one line of text, not blank, without control characters",
        OPTIONAL_TEXT_LINE => "nothing, or one line of text without control characters",
        FILTER_NAME => "a name without commas or control characters",
        NOT_BLANK => "text that is not blank",
        BLOCK_FOR => "a length of time from 1m to 90d in minutes, hours or days, e.g. 30m, 4h, 7d",
        ENTRY_ID => "an audit entry's id (the previous answer's next_page)",
        ACTION => "an action as recorded (e.g. session.terminate_requested) or a family (e.g. session.*)",
        _ => return None,
    })
}

/// The constraints of the request schema named `name` (a component of the OpenAPI document), merged into the schema
/// derived from its type; `None` for a schema that is not a request's.
pub fn request_schema(name: &str, derived: Value) -> Option<Value> {
    let constraints = match name {
        "Auth" => auth(),
        "ListSraSessions" => list_sra_sessions(),
        "ListSraSessionAudit" => json!({
            "required": ["session-id"],
            "properties": {"token": token(), "session-id": session_id()},
        }),
        "ListSraAudit" => json!({"properties": {
            "token": token(),
            "session-id": nullable(json!({"type": "string", "maxLength": MAX_ID_LEN, "pattern": NO_CONTROL})),
            "actor": nullable(json!({"type": "string", "maxLength": MAX_ACTOR_LEN, "pattern": NO_CONTROL})),
            "action": nullable(json!({"type": "string", "pattern": ACTION})),
            "from": time(), "to": time(),
            "page-size": nullable(json!({"type": "integer", "minimum": 1, "maximum": MAX_AUDIT_PAGE})),
            "pagination-token": nullable(json!({"type": "string", "pattern": ENTRY_ID})),
        }}),
        "StreamSraAudit" => json!({"properties": {
            "token": token(),
            "after": nullable(json!({"type": "integer", "minimum": 0, "maximum": i64::MAX})),
            "limit": nullable(json!({"type": "integer", "minimum": 1, "maximum": MAX_AUDIT_PAGE})),
            "wait": nullable(json!({"type": "integer", "minimum": 0, "maximum": MAX_AUDIT_WAIT_S})),
        }}),
        "TerminateSraSession" => json!({
            "required": ["session-id", "reason"],
            "properties": {"token": token(), "session-id": session_id(), "reason": reason(), "block-for": block_for()},
        }),
        "TerminateSraSessions" => terminate_sra_sessions(),
        "ListSraBlocks" => json!({"properties": {"token": token()}}),
        "LiftSraBlock" => json!({
            "required": ["id"],
            "properties": {"token": token(), "id": {"type": "integer", "minimum": 1, "maximum": i64::MAX}},
        }),
        "SessionReport" => session_report(),
        "SessionReports" => json!({
            "additionalProperties": false,
            "properties": {"updates": {"minItems": 1, "maxItems": MAX_BATCH}},
        }),
        "Heartbeat" => json!({
            "additionalProperties": false,
            "properties": {"live": {"type": "array", "maxItems": MAX_LIVE, "items": id()}},
        }),
        _ => return None,
    };
    Some(merge(derived, constraints))
}

/// The names of the request schemas [`request_schema`] constrains.
pub const REQUESTS: [&str; 12] = [
    "Auth",
    "ListSraSessions",
    "ListSraSessionAudit",
    "ListSraAudit",
    "StreamSraAudit",
    "TerminateSraSession",
    "TerminateSraSessions",
    "ListSraBlocks",
    "LiftSraBlock",
    "SessionReport",
    "SessionReports",
    "Heartbeat",
];

fn auth() -> Value {
    let account = || json!({"type": "string", "maxLength": MAX_ACCOUNT_CHARS, "pattern": TEXT_LINE});
    let secret = || json!({"type": "string", "minLength": 1, "maxLength": MAX_SECRET_CHARS});
    let optional = |max: usize| nullable(json!({"type": "string", "maxLength": max}));
    json!({
        "properties": {
            // Empty is the default, as absent, for clients that send every key.
            "access-type": nullable(json!({"type": "string", "enum": ["access_key", "password", ""]})),
            "access-id": optional(MAX_ACCOUNT_CHARS),
            "access-key": optional(MAX_SECRET_CHARS),
            "admin-email": optional(MAX_ACCOUNT_CHARS),
            "admin-password": optional(MAX_SECRET_CHARS),
        },
        "oneOf": [
            {
                "title": "API key",
                "required": ["access-id", "access-key"],
                "properties": {
                    "access-type": {"enum": ["access_key", "", null]},
                    "access-id": account(), "access-key": secret(),
                },
            },
            {
                "title": "Password",
                "required": ["access-type", "admin-email", "admin-password"],
                "properties": {
                    "access-type": {"const": "password"},
                    "admin-email": account(), "admin-password": secret(),
                },
            },
        ],
    })
}

fn list_sra_sessions() -> Value {
    let names = |max: usize| {
        one_or_many(json!({"type": "string", "maxLength": max, "pattern": FILTER_NAME}), "names, or one name")
    };
    json!({
        "properties": {
            "token": token(),
            "uid-token": nullable(json!({"type": "string"})),
            "status-type": one_or_many(
                values_or_empty(SessionStatus::ALL.iter().map(|s| s.as_str())),
                "statuses, or one; empty entries are ignored; none: the active ones",
            ),
            "resource-type": one_or_many(
                values_or_empty(ResourceType::ALL.iter().map(|s| s.as_str())),
                "resource types, or one; empty entries are ignored",
            ),
            "client-interface": one_or_many(
                values_or_empty(ClientInterface::ALL.iter().map(|s| s.as_str())),
                "client interfaces, or one; empty entries are ignored",
            ),
            "gateway": names(MAX_NAME_LEN),
            "user": names(MAX_USER_LEN),
            "search": nullable(json!({"type": "string", "maxLength": MAX_SEARCH_LEN, "pattern": NO_CONTROL})),
            "sort": nullable(json!({"type": "string", "enum": sorts()})),
            "page-size": nullable(json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE})),
            "from": time(),
            "to": time(),
            "pagination-token": nullable(json!({"type": "string", "maxLength": MAX_CURSOR_LEN})),
            "changes-since": nullable(json!({"type": "string", "maxLength": MAX_CURSOR_LEN})),
        },
        // A page, or the view's changes: not both.
        "not": {
            "required": ["pagination-token", "changes-since"],
            "properties": {
                "pagination-token": {"type": "string", "minLength": 1},
                "changes-since": {"type": "string", "minLength": 1},
            },
        },
    })
}

fn terminate_sra_sessions() -> Value {
    let absent = || json!({"type": "null"});
    json!({
        "properties": {
            "token": token(),
            "session-ids": nullable(json!({"type": "array", "maxItems": MAX_TERMINATIONS, "items": session_id()})),
            "user": nullable(json!({"type": "string", "maxLength": MAX_USER_LEN, "pattern": NO_CONTROL})),
            "gateway": nullable(json!({"type": "string", "maxLength": MAX_NAME_LEN, "pattern": NO_CONTROL})),
            "reason": nullable(reason()),
            "block-for": block_for(),
            "dry-run": {"type": "boolean"},
        },
        // Exactly one selection.
        "oneOf": [
            {
                "title": "Sessions by ID",
                "required": ["session-ids"],
                "properties": {"session-ids": {"type": "array", "minItems": 1}, "user": absent(), "gateway": absent()},
            },
            {
                "title": "Every active session of a user",
                "required": ["user"],
                "properties": {"user": {"type": "string", "pattern": NOT_BLANK}, "session-ids": absent(), "gateway": absent()},
            },
            {
                "title": "Every active session on a gateway",
                "required": ["gateway"],
                "properties": {"gateway": {"type": "string", "pattern": NOT_BLANK}, "session-ids": absent(), "user": absent()},
            },
        ],
        // A reason, unless only asking what would be done.
        "if": {"required": ["dry-run"], "properties": {"dry-run": {"const": true}}},
        "then": {},
        "else": {"required": ["reason"], "properties": {"reason": {"type": "string"}}},
    })
}

fn session_report() -> Value {
    let text = |max: usize| json!({"type": "string", "maxLength": max, "pattern": TEXT_LINE});
    let optional_text = || json!({"type": "string", "maxLength": MAX_TEXT_LEN, "pattern": NO_CONTROL});
    let status = |s: SessionStatus| json!({"properties": {"status": {"const": s.as_str()}}});
    json!({
        "additionalProperties": false,
        "properties": {
            "update-id": id(),
            "session-id": id(),
            "status": values(SessionStatus::ALL.iter().map(|s| s.as_str())),
            "at": {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}]},
            "user": text(MAX_TEXT_LEN),
            "client-interface": values(ClientInterface::ALL.iter().map(|s| s.as_str())),
            "resource-type": values(ResourceType::ALL.iter().map(|s| s.as_str())),
            "secret-name": text(MAX_TEXT_LEN),
            "target-name": optional_text(),
            "target-host": optional_text(),
            "access-id": {"type": "string", "maxLength": MAX_ID_LEN, "pattern": OPTIONAL_TEXT_LINE},
            "error": {"type": "string", "maxLength": MAX_ERROR_LEN, "pattern": NOT_BLANK},
        },
        "allOf": [
            {
                "if": status(SessionStatus::Connecting),
                "then": {"required": ["user", "client-interface", "resource-type", "secret-name"]},
            },
            {"if": status(SessionStatus::Failed), "then": {"required": ["error"]}},
        ],
    })
}

/// A string, or null (absent).
fn nullable(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

/// A list key that also takes one value, or null (none).
fn one_or_many(item: Value, what: &str) -> Value {
    json!({
        "description": format!("An array of {what} (at most {MAX_LIST_LEN})."),
        "oneOf": [
            item.clone(),
            {"type": "array", "maxItems": MAX_LIST_LEN, "items": item},
            {"type": "null"},
        ],
    })
}

/// One of `allowed`.
fn values<'a>(allowed: impl Iterator<Item = &'a str>) -> Value {
    let allowed: Vec<&str> = allowed.collect();
    json!({"type": "string", "enum": allowed})
}

/// One of `allowed`, or empty (ignored, for clients that send a flag's empty default).
fn values_or_empty<'a>(allowed: impl Iterator<Item = &'a str>) -> Value {
    let allowed: Vec<&str> = allowed.chain([""]).collect();
    json!({"type": "string", "enum": allowed})
}

fn token() -> Value {
    nullable(json!({"type": "string"}))
}

fn session_id() -> Value {
    json!({"type": "string", "maxLength": MAX_ID_LEN, "pattern": TEXT_LINE})
}

fn id() -> Value {
    json!({"type": "string", "maxLength": MAX_ID_LEN, "pattern": TEXT_LINE})
}

fn reason() -> Value {
    json!({"type": "string", "maxLength": MAX_REASON_CHARS, "pattern": TEXT_LINE})
}

fn block_for() -> Value {
    nullable(json!({"type": "string", "pattern": BLOCK_FOR}))
}

/// An RFC 3339 time, or a date (midnight UTC); null is absent.
fn time() -> Value {
    nullable(json!({"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}]}))
}

/// Every way to write a sort: `FIELD`, `-FIELD`, `FIELD:asc`, `FIELD:desc`.
pub fn sorts() -> Vec<String> {
    SortField::ALL
        .iter()
        .flat_map(|f| {
            let f = f.as_str();
            [f.to_owned(), format!("-{f}"), format!("{f}:asc"), format!("{f}:desc")]
        })
        .collect()
}

/// `derived` with `constraints` laid over it: a property's constraints replace its derived type keywords (its
/// description and examples stay); other keywords are added.
fn merge(derived: Value, constraints: Value) -> Value {
    let (Value::Object(mut schema), Value::Object(constraints)) = (derived, constraints) else {
        return Value::Null;
    };
    for (key, value) in constraints {
        if key == "properties" {
            let properties = schema.entry("properties").or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(properties), Value::Object(constrained)) = (properties, value) {
                for (name, constraint) in constrained {
                    let mut merged = match properties.get(&name) {
                        Some(Value::Object(old)) => old.clone(),
                        _ => Map::new(),
                    };
                    // A constraint that says what the value is replaces what was derived of it; one that only
                    // narrows (a length, a count) keeps it.
                    let retyped =
                        ["type", "oneOf", "anyOf", "enum", "const"].iter().any(|k| constraint.get(k).is_some());
                    if retyped {
                        merged.retain(|k, _| matches!(k.as_str(), "description" | "example" | "examples"));
                    }
                    if let Value::Object(constraint) = constraint {
                        merged.extend(constraint);
                    }
                    properties.insert(name, Value::Object(merged));
                }
            }
        } else {
            schema.insert(key, value);
        }
    }
    Value::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sra_domain::BlockFor;

    #[test]
    fn the_block_pattern_is_the_domain_rule() {
        let pattern = regex::Regex::new(BLOCK_FOR).unwrap();
        for unit in ['m', 'h', 'd', 's'] {
            for n in 0..=130_000u32 {
                let text = format!("{n}{unit}");
                assert_eq!(pattern.is_match(&text), BlockFor::parse(&text).is_ok(), "{text}");
            }
        }
        assert!(!pattern.is_match("030m") && !pattern.is_match(" 4h") && !pattern.is_match("4h\n"));
    }

    #[test]
    fn the_text_patterns_are_the_rust_rules() {
        let line = regex::Regex::new(TEXT_LINE).unwrap();
        let no_control = regex::Regex::new(NO_CONTROL).unwrap();
        for text in ["a", " a ", "\u{a0}b", "ünïcode", "", " ", "\u{3000}", "a\nb", "a\u{85}", "\u{7f}", "x\u{0}"] {
            let ok = !text.trim().is_empty() && !text.chars().any(char::is_control);
            assert_eq!(line.is_match(text), ok, "{text:?}");
            assert_eq!(no_control.is_match(text), !text.chars().any(char::is_control), "{text:?}");
        }
    }

    #[test]
    fn constraints_keep_descriptions_and_every_request_is_constrained() {
        let derived_a = || json!({"type": "object", "properties": {"a": {"type": "integer", "description": "A."}}});
        let merged = merge(derived_a(), json!({"required": ["a"], "properties": {"a": {"minimum": 1}}}));
        assert_eq!(
            merged,
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "description": "A.", "minimum": 1}}})
        );
        let retyped = merge(derived_a(), json!({"properties": {"a": {"type": "string"}}}));
        assert_eq!(retyped, json!({"type": "object", "properties": {"a": {"type": "string", "description": "A."}}}));
        for name in REQUESTS {
            assert!(request_schema(name, json!({"type": "object"})).is_some(), "{name}");
        }
    }
}
