//! Terminating sessions: why (a reason is required) and which (one, several, or every active one of a user or a
//! gateway).

use serde::{Deserialize, Serialize};

/// The longest termination reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The most sessions one termination request may name or select: a bigger selection is refused with its size, so a
/// request never holds the writer for long and its answer stays readable.
pub const MAX_TERMINATIONS: usize = 500;

/// Why a session is being terminated: kept with the session and in its audit entry, shown to whoever reads either.
/// One line of 1–500 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TerminationReason(String);

/// What is wrong with a termination reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("\"reason\" is required: say why the session is being terminated (1–{MAX_REASON_CHARS} characters)")]
    Missing,
    #[error("\"reason\" is {chars} characters long; at most {MAX_REASON_CHARS} are allowed")]
    TooLong { chars: usize },
    #[error("\"reason\" must be one line of text without control characters (found U+{code:04X})")]
    ControlCharacter { code: u32 },
}

impl TerminationReason {
    pub fn parse(text: &str) -> Result<TerminationReason, ReasonError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ReasonError::Missing);
        }
        let chars = text.chars().count();
        if chars > MAX_REASON_CHARS {
            return Err(ReasonError::TooLong { chars });
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(ReasonError::ControlCharacter { code: c as u32 });
        }
        Ok(TerminationReason(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TerminationReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TerminationReason::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shortest and longest a user may be blocked from new sessions with a termination.
pub const MIN_BLOCK_MS: crate::Millis = crate::MINUTE_MS;
pub const MAX_BLOCK_MS: crate::Millis = 90 * crate::DAY_MS;

/// How long to keep a terminated session's user from opening new sessions on its gateway: `30m`, `4h`, `7d`
/// (1 minute to 90 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlockFor(crate::Millis);

/// What is wrong with a block's length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"block-for\": {value:?} is not a length of time; allowed: minutes, hours or days from 1m to 90d, e.g. 30m, 4h, 7d")]
pub struct BlockError {
    pub value: String,
}

impl BlockFor {
    pub fn parse(text: &str) -> Result<BlockFor, BlockError> {
        let error = || BlockError { value: text.chars().take(40).collect() };
        let text = text.trim();
        let Some((at, unit)) = text.char_indices().last() else { return Err(error()) };
        let digits = &text[..at];
        let unit = match unit {
            'm' => crate::MINUTE_MS,
            'h' => crate::HOUR_MS,
            'd' => crate::DAY_MS,
            _ => return Err(error()),
        };
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let ms = digits.parse::<crate::Millis>().map_err(|_| error())? * unit;
        if !(MIN_BLOCK_MS..=MAX_BLOCK_MS).contains(&ms) {
            return Err(error());
        }
        Ok(BlockFor(ms))
    }

    pub fn ms(self) -> crate::Millis {
        self.0
    }
}

impl TryFrom<String> for BlockFor {
    type Error = BlockError;
    fn try_from(text: String) -> Result<Self, BlockError> {
        BlockFor::parse(&text)
    }
}

impl From<BlockFor> for String {
    fn from(block: BlockFor) -> String {
        let ms = block.0;
        if ms % crate::DAY_MS == 0 {
            format!("{}d", ms / crate::DAY_MS)
        } else if ms % crate::HOUR_MS == 0 {
            format!("{}h", ms / crate::HOUR_MS)
        } else {
            format!("{}m", ms / crate::MINUTE_MS)
        }
    }
}

/// A user kept from opening new sessions on a gateway until a time, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub id: i64,
    pub user: String,
    /// The gateway's cluster name.
    pub gateway: String,
    pub blocked_at: crate::Millis,
    pub until: crate::Millis,
    pub blocked_by: String,
    pub reason: String,
}

/// Which sessions a termination request is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationTarget {
    /// These sessions (at most [`MAX_TERMINATIONS`]).
    Sessions(Vec<String>),
    /// Every active session of this user the caller may see.
    User(String),
    /// Every active session on this gateway (cluster name) the caller may see.
    Gateway(String),
}

/// Why a selected session was not (or would not be) terminated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Skip {
    /// No such session, or the caller may not see it (the two are not told apart).
    NotFound,
    /// It has already ended.
    Ended { status: crate::SessionStatus },
    /// The caller sees it but holds neither All nor Own on its gateway.
    NotPermitted { gateway: String },
}

impl Skip {
    /// The reason in words, for people.
    pub fn describe(&self) -> String {
        match self {
            Skip::NotFound => "no such session, or you may not see it".to_owned(),
            Skip::Ended { status } => format!("it has already ended ({status})"),
            Skip::NotPermitted { gateway } => {
                format!("terminating it needs All, or Own on its gateway {gateway:?}")
            }
        }
    }
}

/// A session whose termination was (or would be) requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminated {
    pub session_id: String,
    pub user: String,
    pub gateway: String,
    /// When termination was first requested (now, unless `repeated`; for a preview, now).
    pub requested_at: crate::Millis,
    /// Whether it had been requested before (the first request's time and reason are kept).
    pub repeated: bool,
}

/// The outcome of a termination request, or of its preview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminations {
    pub requested: Vec<Terminated>,
    pub skipped: Vec<Skipped>,
    /// With a block: each (user, gateway) of the requested sessions, kept from new sessions until a time.
    #[serde(default)]
    pub blocked: Vec<Blocked>,
}

/// A user blocked (or, in a preview, to be blocked) from new sessions on a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    pub user: String,
    pub gateway: String,
    pub until: crate::Millis,
}

/// A selected session left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub session_id: String,
    #[serde(flatten)]
    pub why: Skip,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_one_trimmed_line_of_bounded_length() {
        assert_eq!(TerminationReason::parse("  leaked key ").unwrap().as_str(), "leaked key");
        assert_eq!(TerminationReason::parse(" \t").unwrap_err(), ReasonError::Missing);
        assert_eq!(TerminationReason::parse(&"é".repeat(500)).unwrap().as_str().chars().count(), 500);
        assert_eq!(TerminationReason::parse(&"é".repeat(501)).unwrap_err(), ReasonError::TooLong { chars: 501 });
        assert_eq!(
            TerminationReason::parse("a\nb").unwrap_err().to_string(),
            "\"reason\" must be one line of text without control characters (found U+000A)"
        );
        let parsed: Result<TerminationReason, _> = serde_json::from_str("\"\"");
        assert!(parsed.unwrap_err().to_string().contains("\"reason\" is required"));
    }

    #[test]
    fn a_block_lasts_from_a_minute_to_ninety_days() {
        assert_eq!(BlockFor::parse(" 30m").unwrap().ms(), 30 * crate::MINUTE_MS);
        assert_eq!(BlockFor::parse("90d").unwrap().ms(), 90 * crate::DAY_MS);
        assert_eq!(String::from(BlockFor::parse("48h").unwrap()), "2d");
        for bad in ["", "0m", "91d", "1w", "h", "-1h", "1.5h", "９h", "1000000d", "24", "1é", "é"] {
            let err = BlockFor::parse(bad).unwrap_err();
            assert!(err.to_string().contains("from 1m to 90d"), "{bad}: {err}");
        }
    }
}
