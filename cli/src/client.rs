//! Talking to the server: JSON POSTs, answers read as the API's types, failures turned into messages that say what
//! to do.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::CliError;

/// A connection to one server.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

/// An answer: its raw text (for `--json`, printed unchanged) and its parsed form.
pub struct Answer<T> {
    pub text: String,
    pub value: T,
}

impl Client {
    /// A client for `url` (`http://` or `https://`; a trailing slash is fine).
    pub fn new(url: &str) -> Result<Client, CliError> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let valid = ["http://", "https://"]
            .iter()
            .any(|scheme| base.len() > scheme.len() && base[..scheme.len()].eq_ignore_ascii_case(scheme));
        if !valid {
            return Err(CliError::Usage(format!(
                "invalid --gateway-url {url:?}; expected http://HOST[:PORT] or https://HOST[:PORT]"
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("sra/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client { agent, base })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// POSTs `body` as JSON to `path` and reads the answer as `T`. A non-2xx answer becomes the server's own error
    /// message.
    pub fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Answer<T>, CliError> {
        let url = format!("{}{path}", self.base);
        let payload = serde_json::to_vec(body).expect("requests always serialize");
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(&payload[..])
            .map_err(|e| CliError::Server(format!("cannot reach the server at {}: {e}", self.base)))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| CliError::Server(format!("reading the answer from {url} failed: {e}")))?;
        if !status.is_success() {
            let message = serde_json::from_str::<sra_api::ErrorBody>(&text)
                .map(|e| e.error)
                .unwrap_or_else(|_| format!("{status} from {url}"));
            let hint = if status == 401 { " (run `sra auth` to sign in again)" } else { "" };
            return Err(CliError::Server(format!("the server refused the request: {message}{hint}")));
        }
        let value =
            serde_json::from_str(&text).map_err(|e| CliError::Server(format!("unexpected answer from {url}: {e}")))?;
        Ok(Answer { text, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_accepted() {
        assert_eq!(Client::new("http://127.0.0.1:3000/").unwrap().url(), "http://127.0.0.1:3000");
        assert!(Client::new("HTTPS://sra.example.com").is_ok());
        for bad in ["", "127.0.0.1:3000", "ftp://x", "http://"] {
            assert!(matches!(Client::new(bad), Err(CliError::Usage(_))), "{bad:?}");
        }
    }
}
