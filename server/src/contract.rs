//! Every JSON request body is checked against its schema in the served OpenAPI document before it is read: the
//! document is the contract, and the server keeps it to the letter (a value the document does not allow is a 400
//! naming it and what is allowed; one it allows is never refused for its form).

use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

/// The request schemas, compiled once from the document.
static VALIDATORS: LazyLock<HashMap<&'static str, Validator>> = LazyLock::new(|| {
    let document = crate::openapi::document();
    let components = document.get("components").cloned().unwrap_or(Value::Null);
    sra_api::contract::REQUESTS
        .iter()
        .map(|name| {
            let root = json!({"$ref": format!("#/components/schemas/{name}"), "components": components});
            // The document is built from code: a schema that does not compile is a bug found by the first test.
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("the request schema {name} does not compile: {e}"));
            (*name, validator)
        })
        .collect()
});

/// Checks a request body against the schema named `schema` (a request type's component name). The error names the
/// value at fault and what is allowed.
pub fn check(schema: &str, body: &Value) -> Result<(), String> {
    let Some(validator) = VALIDATORS.get(schema) else { return Ok(()) };
    match validator.iter_errors(body).next() {
        None => Ok(()),
        Some(error) => Err(describe(&error)),
    }
}

/// Compiles every request schema (at start, so that a broken one stops the server rather than a request).
pub fn compile() {
    LazyLock::force(&VALIDATORS);
}

/// An error in words: `"status-type[1]": "CONNECTED" is not allowed; allowed: connecting, connected, …`.
fn describe(error: &ValidationError<'_>) -> String {
    // Within a choice (a string or an array, an API key or a password), the branch for what was sent says more than
    // "not valid under any": the one whose errors are not about the value's type.
    if let ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } = error.kind() {
        let wrong_type = |errors: &&Vec<ValidationError<'static>>| {
            errors.iter().any(|e| {
                matches!(e.kind(), ValidationErrorKind::Type { .. }) && e.instance_path() == error.instance_path()
            })
        };
        let branches: Vec<_> = context.iter().filter(|errors| !errors.is_empty() && !wrong_type(errors)).collect();
        if branches.is_empty() && context.iter().all(|errors| wrong_type(&errors)) {
            let mut types: Vec<String> = Vec::new();
            for e in context.iter().flatten() {
                if let ValidationErrorKind::Type { kind: TypeKind::Single(t) } = e.kind() {
                    if e.instance_path() == error.instance_path() && !types.contains(&t.to_string()) {
                        types.push(t.to_string());
                    }
                }
            }
            let path = path_of(error);
            let what = format!("{} has the wrong type; allowed: {}", short(error.instance()), types.join(" or "));
            return if path.is_empty() { what } else { format!("{path}: {what}") };
        }
        let formats = branches.iter().all(|b| matches!(b[0].kind(), ValidationErrorKind::Format { .. }));
        if branches.len() == 1 || (!branches.is_empty() && formats) {
            return describe(&branches[0][0]);
        }
    }
    let path = path_of(error);
    let value = short(error.instance());
    let what = match error.kind() {
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = match &**options {
                Value::Array(options) => {
                    options.iter().map(|o| o.as_str().map_or(o.to_string(), str::to_owned)).collect()
                }
                other => vec![other.to_string()],
            };
            let allowed: Vec<String> =
                allowed.into_iter().map(|a| if a.is_empty() { "\"\"".to_owned() } else { a }).collect();
            format!("{value} is not allowed; allowed: {}", allowed.join(", "))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("{value} is not allowed; allowed: {expected_value}")
        }
        ValidationErrorKind::Minimum { limit } => format!("{value} is too small; allowed: {limit} or more"),
        ValidationErrorKind::Maximum { limit } => format!("{value} is too large; allowed: up to {limit}"),
        ValidationErrorKind::MinLength { limit } => {
            format!("{value} is too short; allowed: at least {limit} characters")
        }
        ValidationErrorKind::MaxLength { limit } => {
            let len = error.instance().as_str().map_or(0, |s| s.chars().count());
            format!("is {len} characters long; allowed: up to {limit}")
        }
        ValidationErrorKind::MinItems { limit } => format!("holds too few entries; allowed: at least {limit}"),
        ValidationErrorKind::MaxItems { limit } => {
            let len = error.instance().as_array().map_or(0, Vec::len);
            format!("holds {len} entries; allowed: up to {limit}")
        }
        ValidationErrorKind::Pattern { pattern } => match sra_api::contract::pattern_meaning(pattern) {
            Some(meaning) => format!("{value} is not allowed; allowed: {meaning}"),
            None => format!("{value} does not match {pattern}"),
        },
        ValidationErrorKind::Format { format } => match format.as_str() {
            "date-time" | "date" => {
                format!("{value} is not a time; allowed: RFC 3339, e.g. 2026-11-28T09:30:00Z or 2026-11-28")
            }
            other => format!("{value} is not a valid {other}"),
        },
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(types) => types.into_iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or "),
            };
            format!("{value} has the wrong type; allowed: {expected}")
        }
        ValidationErrorKind::Required { property } => {
            let property = property.as_str().map_or(property.to_string(), |p| format!("{p:?}"));
            return if path.is_empty() {
                format!("{property} is required")
            } else {
                format!("{path}: {property} is required")
            };
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            return format!(
                "unknown key {}; this endpoint takes only the keys its schema lists",
                unexpected.join(", ")
            );
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => one_of_what(error.instance()),
        ValidationErrorKind::OneOfMultipleValid { .. } => one_of_what(error.instance()),
        ValidationErrorKind::Not { .. } => {
            "\"pagination-token\" and \"changes-since\" were both sent; send one".to_owned()
        }
        _ => error.to_string(),
    };
    if path.is_empty() {
        what
    } else {
        format!("{path}: {what}")
    }
}

/// What a choice between whole-request forms wants, said once for each request that has one.
fn one_of_what(instance: &Value) -> String {
    let has = |key: &str| instance.get(key).is_some_and(|v| !v.is_null());
    if has("session-ids") || has("user") || has("gateway") || instance.get("dry-run").is_some() {
        "say which sessions: exactly one of \"session-ids\", \"user\" or \"gateway\"".to_owned()
    } else if has("admin-email") || has("admin-password") || has("access-id") || has("access-key") {
        "give \"access-id\" and \"access-key\" (access-type access_key), or \"admin-email\" and \"admin-password\" \
         (access-type password)"
            .to_owned()
    } else {
        "the request does not match any of the forms this endpoint takes (see /openapi.json)".to_owned()
    }
}

/// The value's path as the rest of the API names keys: `status-type[1]`, `updates[3].at`.
fn path_of(error: &ValidationError<'_>) -> String {
    let mut path = String::new();
    for segment in error.instance_path().iter() {
        match segment {
            LocationSegment::Property(p) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&p);
            }
            LocationSegment::Index(i) => path.push_str(&format!("[{i}]")),
        }
    }
    if path.is_empty() {
        path
    } else {
        format!("{path:?}")
    }
}

/// A value as shown in a message, cut short.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 60 {
        text
    } else {
        format!("{}…", text.chars().take(60).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(schema: &str, body: Value) -> String {
        check(schema, &body).unwrap_err()
    }

    #[test]
    fn every_request_schema_compiles_and_errors_name_the_value() {
        compile();
        assert_eq!(
            message("ListSraSessions", json!({"status-type": ["connected", "CONNECTED"]})),
            r#""status-type[1]": "CONNECTED" is not allowed; allowed: connecting, connected, failed, completed, terminated, """#
        );
        assert_eq!(
            message("ListSraSessions", json!({"page-size": 0})),
            r#""page-size": 0 is too small; allowed: 1 or more"#
        );
        assert_eq!(
            message("ListSraSessions", json!({"from": "tomorrow"})),
            r#""from": "tomorrow" is not a time; allowed: RFC 3339, e.g. 2026-11-28T09:30:00Z or 2026-11-28"#
        );
        assert_eq!(message("TerminateSraSession", json!({"reason": "x"})), r#""session-id" is required"#);
        assert_eq!(
            message("TerminateSraSession", json!({"session-id": "s", "reason": "x", "block-for": "91d"})),
            r#""block-for": "91d" is not allowed; allowed: a length of time from 1m to 90d in minutes, hours or days, e.g. 30m, 4h, 7d"#
        );
        assert!(message("TerminateSraSessions", json!({"user": "a", "gateway": "b", "reason": "r"}))
            .starts_with("say which sessions"));
        assert!(message("Heartbeat", json!({"live": [], "extra": 1})).starts_with("unknown key extra"));
        for ok in [
            json!({}),
            json!({"status-type": "failed", "page-size": 500, "from": "2026-11-01", "sort": "-duration"}),
            json!({"status-type": [""], "gateway": ["gw-a"], "user": null, "json": true}),
        ] {
            assert_eq!(check("ListSraSessions", &ok), Ok(()), "{ok}");
        }
    }
}
