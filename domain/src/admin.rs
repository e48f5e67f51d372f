//! Administration: the names administrators give users, roles and gateways, and how the console lists them.
//!
//! Names are checked here once, whoever sends them (console, CLI): a name is what the audit log, the URL and the
//! gateway's configuration carry, so it stays short, plain ASCII and unambiguous.

use serde::{Deserialize, Serialize};

use crate::{Millis, SraRule};

/// The longest login, role or gateway name, in characters.
pub const MAX_ADMIN_NAME: usize = 64;
/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 128;
/// The longest audit destination URL accepted.
pub const MAX_DESTINATION_URL: usize = 2_048;
/// The most gateways one role may grant by name in one change.
pub const MAX_ROLE_GATEWAYS: usize = 500;

/// What is wrong with a name an administrator gave.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{field:?} is required (1–{MAX_ADMIN_NAME} characters: letters, digits, '.', '_', '-', '@')")]
    Missing { field: &'static str },
    #[error("{field:?} is {chars} characters long; at most {max} are allowed")]
    TooLong { field: &'static str, chars: usize, max: usize },
    #[error("{field:?} {value:?} is not allowed: it may hold only letters, digits, '.', '_', '-' and '@', starting with a letter or digit (found {found:?})")]
    Character { field: &'static str, value: String, found: char },
    #[error("{field:?} must be one line of text without control characters (found U+{code:04X})")]
    ControlCharacter { field: &'static str, code: u32 },
}

impl NameError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            NameError::Missing { field }
            | NameError::TooLong { field, .. }
            | NameError::Character { field, .. }
            | NameError::ControlCharacter { field, .. } => field,
        }
    }
}

/// Checks a login, role or gateway name: 1–64 ASCII letters, digits, `.`, `_`, `-`, `@`, starting with a letter or
/// digit (so it never reads as a flag or a path).
pub fn check_name(field: &'static str, text: &str) -> Result<(), NameError> {
    let Some(first) = text.chars().next() else { return Err(NameError::Missing { field }) };
    let chars = text.chars().count();
    if chars > MAX_ADMIN_NAME {
        return Err(NameError::TooLong { field, chars, max: MAX_ADMIN_NAME });
    }
    if !first.is_ascii_alphanumeric() {
        return Err(NameError::Character { field, value: text.to_owned(), found: first });
    }
    match text.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))) {
        Some(found) => Err(NameError::Character { field, value: text.to_owned(), found }),
        None => Ok(()),
    }
}

/// Checks a display name: one line of 1–128 characters, trimmed. Returns it trimmed.
pub fn check_display_name(field: &'static str, text: &str) -> Result<String, NameError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NameError::Missing { field });
    }
    let chars = text.chars().count();
    if chars > MAX_DISPLAY_NAME {
        return Err(NameError::TooLong { field, chars, max: MAX_DISPLAY_NAME });
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(NameError::ControlCharacter { field, code: c as u32 });
    }
    Ok(text.to_owned())
}

/// A user as administrators list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListing {
    pub login: String,
    pub display_name: String,
    pub disabled: bool,
    pub has_password: bool,
    pub roles: Vec<String>,
    /// When they last signed in (console or API), if ever.
    pub last_sign_in_at: Option<Millis>,
}

/// An access role: its name, its Secure Remote Access rule and, for `Own`, the gateways (cluster names) it grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleSpec {
    pub name: String,
    pub rule: SraRule,
    pub gateways: Vec<String>,
}

/// A registered gateway as administrators list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayListing {
    pub name: String,
    pub display_name: String,
    /// Whether an ingest key has been issued (the key itself is never shown again).
    pub has_key: bool,
    /// When it last sent a heartbeat, if ever.
    pub last_heartbeat_at: Option<Millis>,
}

/// Where the audit log is delivered, as administrators list it: never its signing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationListing {
    pub name: String,
    /// `https://…` (a webhook) or `syslog+tcp://HOST:PORT`.
    pub url: String,
    /// Audit entries recorded that it has not acknowledged yet.
    pub lag: u64,
    /// When it last acknowledged a batch, if ever.
    pub delivered_at: Option<Millis>,
    /// Failed attempts since its last success, and the last failure.
    pub failures: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
}

/// An API key as administrators list it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyListing {
    pub access_id: String,
    pub login: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_plain_and_start_with_a_letter_or_digit() {
        assert!(check_name("login", "alice").is_ok());
        assert!(check_name("gateway", "gw-eu_1.prod@dc2").is_ok());
        assert_eq!(check_name("login", ""), Err(NameError::Missing { field: "login" }));
        assert_eq!(
            check_name("login", "-rf"),
            Err(NameError::Character { field: "login", value: "-rf".into(), found: '-' })
        );
        assert_eq!(
            check_name("login", "a b"),
            Err(NameError::Character { field: "login", value: "a b".into(), found: ' ' })
        );
        assert_eq!(
            check_name("login", "é"),
            Err(NameError::Character { field: "login", value: "é".into(), found: 'é' })
        );
        let refused = check_name("login", "no spaces allowed").unwrap_err().to_string();
        assert!(refused.starts_with(r#""login" "no spaces allowed" is not allowed"#), "{refused}");
        let long = "a".repeat(65);
        assert_eq!(check_name("role", &long), Err(NameError::TooLong { field: "role", chars: 65, max: 64 }));
        assert!(check_name("role", &long[..64]).is_ok());
    }

    #[test]
    fn display_names_are_one_trimmed_line() {
        assert_eq!(check_display_name("name", "  Ada Admin "), Ok("Ada Admin".to_owned()));
        assert_eq!(check_display_name("name", "Zoë Ōno"), Ok("Zoë Ōno".to_owned()));
        assert_eq!(check_display_name("name", " "), Err(NameError::Missing { field: "name" }));
        assert_eq!(check_display_name("name", "a\nb"), Err(NameError::ControlCharacter { field: "name", code: 10 }));
        let long = "é".repeat(129);
        assert_eq!(check_display_name("name", &long), Err(NameError::TooLong { field: "name", chars: 129, max: 128 }));
    }
}
