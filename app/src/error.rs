//! The console's typed error: what every server function answers when it cannot do what was asked, and what the
//! pages match on — by kind, never by message text.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function call failed, and the message to show (it names the value at fault where there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ConsoleError {
    pub kind: Failure,
    pub message: String,
}

/// The kinds of failure the pages tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Nobody is signed in (or the sign-in ended): the page goes to the login page.
    NotSignedIn,
    /// The login and password (or key) were not accepted.
    WrongCredentials,
    /// A value sent is not allowed; the message names it and what is allowed.
    BadInput,
    /// Signed in, but not allowed to do this.
    Forbidden,
    /// No such session, or not one the caller may see.
    NotFound,
    /// The state of things forbids it (e.g. the session has already ended).
    Conflict,
    /// Too many attempts; the message says when to try again.
    Throttled,
    /// The server cannot take it now; try again shortly.
    Unavailable,
    /// A fault on the server (its log has the details).
    Internal,
    /// The server could not be reached at all (the browser's request failed): the page keeps what it shows.
    Unreachable,
}

impl ConsoleError {
    pub fn new(kind: Failure, message: impl Into<String>) -> ConsoleError {
        ConsoleError { kind, message: message.into() }
    }

    pub fn not_signed_in() -> ConsoleError {
        ConsoleError::new(Failure::NotSignedIn, crate::auth::NOT_SIGNED_IN)
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let kind = match &value {
            ServerFnErrorErr::Request(_) => Failure::Unreachable,
            // The arguments sent do not decode: the caller's input is wrong, not the server.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Failure::BadInput,
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => Failure::BadInput,
            _ => Failure::Internal,
        };
        #[cfg(feature = "ssr")]
        if kind == Failure::BadInput {
            // Raised before the function runs, so nothing else sets the answer's status.
            crate::auth::server::status(http::StatusCode::BAD_REQUEST);
        }
        ConsoleError::new(kind, value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_failing_is_told_apart_from_the_server_failing() {
        let unreachable = ConsoleError::from_server_fn_error(ServerFnErrorErr::Request("Failed to fetch".into()));
        assert_eq!(unreachable.kind, Failure::Unreachable);
        let fault = ConsoleError::from_server_fn_error(ServerFnErrorErr::ServerError("boom".into()));
        assert_eq!(fault.kind, Failure::Internal);
        let bad = ConsoleError::from_server_fn_error(ServerFnErrorErr::Args("missing field".into()));
        assert_eq!(bad.kind, Failure::BadInput);
        #[cfg(feature = "ssr")]
        assert_eq!(
            serde_json::to_string(&ConsoleError::not_signed_in()).unwrap(),
            r#"{"kind":"not_signed_in","message":"not signed in"}"#
        );
    }
}
