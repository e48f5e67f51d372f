//! Reading a request body into a request type, with errors that name the key at fault.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not valid JSON: {0}")]
    Syntax(String),
    #[error("the body must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    #[error("{path:?}: {reason}")]
    Field { path: String, reason: String },
}

/// Reads a JSON object into `T`. Unknown keys are ignored (Akeyless clients send many); a known key with a value of
/// the wrong type is an error naming the key, e.g. `"status-type[1]": invalid type: integer `3`, expected a string`.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    from_value(object(body)?)
}

/// A body that must be a JSON object, parsed.
pub fn object(body: &[u8]) -> Result<Value, BodyError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| BodyError::Syntax(e.to_string()))?;
    let kind = match &value {
        Value::Object(_) => None,
        Value::Null => Some("null"),
        Value::Bool(_) => Some("a boolean"),
        Value::Number(_) => Some("a number"),
        Value::String(_) => Some("a string"),
        Value::Array(_) => Some("an array"),
    };
    match kind {
        Some(kind) => Err(BodyError::NotAnObject(kind)),
        None => Ok(value),
    }
}

/// Reads a parsed body into `T`. A whole number written as a float (`10.0`) is a number like `10`, as JSON Schema has
/// it: integer keys take either.
pub fn from_value<T: DeserializeOwned>(mut value: Value) -> Result<T, BodyError> {
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value)
        .map_err(|e| BodyError::Field { path: e.path().to_string(), reason: e.into_inner().to_string() })
}

fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                // Below 2^53 a whole f64 is exactly an integer.
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ListSraSessions;

    #[test]
    fn errors_name_the_key_and_unknown_keys_pass() {
        let ok: ListSraSessions =
            from_json(br#"{"json": false, "debug": true, "status-type": ["connected"]}"#).unwrap();
        assert_eq!(ok.status_type, ["connected"]);
        let err = from_json::<ListSraSessions>(br#"{"status-type": ["connected", 3]}"#).unwrap_err();
        assert_eq!(err.to_string(), r#""status-type[1]": invalid type: integer `3`, expected a string"#);
        let err = from_json::<ListSraSessions>(br#"{"page-size": "ten"}"#).unwrap_err();
        assert!(err.to_string().starts_with(r#""page-size": invalid type: string "ten""#), "{err}");
        assert_eq!(from_json::<ListSraSessions>(b"[1]").unwrap_err(), BodyError::NotAnObject("an array"));
        assert!(matches!(from_json::<ListSraSessions>(b"{").unwrap_err(), BodyError::Syntax(_)));
        // JSON Schema's integers include whole floats.
        assert_eq!(from_json::<ListSraSessions>(br#"{"page-size": 10.0}"#).unwrap().page_size, Some(10));
        let err = from_json::<ListSraSessions>(br#"{"page-size": 10.5}"#).unwrap_err();
        assert!(err.to_string().starts_with(r#""page-size": invalid type: floating point"#), "{err}");
    }
}
