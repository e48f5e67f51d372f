//! The Akeyless-compatible HTTP API: `POST /auth` (more endpoints arrive with the List SRA Sessions issue).
//!
//! Request keys are kebab-case and unknown keys are ignored (Akeyless clients send many); answers are snake_case JSON;
//! errors are `{"error": "…"}` with 400 for bad input, 401 for bad credentials, 429 when throttled.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sra_domain::Actor;
use sra_store::throttle::SignInThrottle;
use sra_store::{Store, StoreError};

/// The largest request body the API reads.
const MAX_BODY: usize = 64 * 1024;

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub throttle: Arc<SignInThrottle>,
}

/// An API error: its status and the message for `{"error": …}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "API request failed");
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the request failed on the server; the server log has the details".into(),
    )
}

/// The JSON object of a request body: 415 unless it is JSON, 400 naming the problem if it does not parse.
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?} is not supported; send application/json"),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request("the body must be a JSON object")),
        Err(e) => Err(bad_request(format!("the body is not valid JSON: {e}"))),
    }
}

/// A string field of a request; absent or null is `None`, any other type is an error naming the key.
fn text<'a>(body: &'a serde_json::Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(bad_request(format!("{key:?} must be a string, not {other}"))),
    }
}

fn required<'a>(body: &'a serde_json::Map<String, Value>, key: &str, access_type: &str) -> Result<&'a str, ApiError> {
    text(body, key)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad_request(format!("{key:?} is required for access-type {access_type:?}")))
}

/// `POST /auth`: an API key (`access-type` `access_key`, the default) or a login and password (`password`) for a
/// bearer token.
pub async fn auth(State(state): State<ApiState>, request: Request) -> Result<Json<Value>, ApiError> {
    let connection = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {MAX_BODY} bytes")))?;
    let body = json_body(&parts.headers, &body)?;
    let access_type = text(&body, "access-type")?.unwrap_or("access_key");
    let (account, access_id) = match access_type {
        "access_key" => {
            let id = required(&body, "access-id", access_type)?;
            (id.to_owned(), Some(id))
        }
        "password" => (required(&body, "admin-email", access_type)?.to_owned(), None),
        other => {
            return Err(bad_request(format!("unsupported access-type {other:?}; allowed: access_key, password")));
        }
    };
    let address = connection.map_or_else(|| "unknown".to_owned(), |c| c.ip().to_string());
    let actor = Actor::User(account.clone());
    if let Err(refused) = state.throttle.check(&account, &address, Instant::now()) {
        state.store.record(&actor, "api.auth_throttled", json!({"address": address})).await.map_err(internal)?;
        return Err(ApiError(StatusCode::TOO_MANY_REQUESTS, refused.to_string()));
    }
    let outcome = match access_id {
        Some(id) => state.store.authenticate_api_key(id, required(&body, "access-key", access_type)?).await,
        None => state.store.authenticate(&account, required(&body, "admin-password", access_type)?).await,
    };
    let principal = match outcome {
        Ok(principal) => principal,
        Err(e @ (StoreError::BadCredentials | StoreError::AccountDisabled)) => {
            state.throttle.failed(&account, &address, Instant::now());
            let details = json!({"address": address, "access_type": access_type, "reason": e.to_string()});
            state.store.record(&actor, "api.auth_failed", details).await.map_err(internal)?;
            return Err(ApiError(StatusCode::UNAUTHORIZED, e.to_string()));
        }
        Err(other) => return Err(internal(other)),
    };
    state.throttle.succeeded(&account);
    let issued = state.store.issue_api_token(&principal, access_id).await.map_err(internal)?;
    Ok(Json(json!({
        "token": issued.token,
        "expiration": sra_domain::format_rfc3339(issued.expires_at),
    })))
}
