//! Times travel as RFC 3339 text and are held as epoch milliseconds.

use serde::{Deserialize, Deserializer, Serializer};
use sra_domain::{format_rfc3339, parse_rfc3339, Millis};

pub fn serialize<S: Serializer>(ms: &Millis, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_rfc3339(*ms))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Millis, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse_rfc3339(&text).map_err(serde::de::Error::custom)
}

/// The same for an optional time (absent or null is `None`).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(ms: &Option<Millis>, serializer: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::serialize(ms, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Millis>, D::Error> {
        match <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)? {
            Some(text) => parse_rfc3339(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
