//! What every JSON endpoint shares: the error answer, reading a body within limits, and bearer credentials.
//!
//! Errors are `{"error": "…"}` with the status of the failure's [`ErrorKind`] — the same mapping the console's server
//! functions use — plus `WWW-Authenticate` on 401 and `Retry-After` on 429 and 503.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sra_api::ErrorBody;
use sra_store::{ErrorKind, StoreError};
use utoipa::ToSchema;

/// The largest request body the user API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// An error answer: its status, the message for `{"error": …}`, and how long to wait before trying again.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), retry_after_secs: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorBody { error: self.message })).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = status_of(e.kind());
        ApiError { status, retry_after_secs: e.retry_after_secs(), message: e.public_message() }
    }
}

/// The HTTP status of a kind of failure.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Reads a request's body as a JSON object, without looking into it: 415 unless it is JSON, 413 when over
/// `max_body`, 400 when it is not a JSON object.
pub async fn read_object(body: Body, headers: &HeaderMap, max_body: usize) -> Result<Value, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?} is not supported; send application/json"),
        ));
    }
    let body = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {max_body} bytes")))?;
    sra_api::object(&body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Splits a request into its headers and its JSON body read as `T`: 415 unless it is JSON, 413 when over `max_body`,
/// 400 naming the value at fault when it is not what `T`'s schema in the OpenAPI document allows.
pub async fn read<T: DeserializeOwned + ToSchema>(
    request: Request,
    max_body: usize,
) -> Result<(HeaderMap, T), ApiError> {
    let (parts, body) = request.into_parts();
    let value = conform(read_object(body, &parts.headers, max_body).await?)?;
    Ok((parts.headers, value))
}

/// A body read as `T`, once it is what `T`'s schema allows (400 naming the value at fault otherwise).
pub fn conform<T: DeserializeOwned + ToSchema>(value: Value) -> Result<T, ApiError> {
    crate::contract::check(&T::name(), &value).map_err(ApiError::bad_request)?;
    sra_api::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The token of an `Authorization: Bearer TOKEN` header: `Ok(None)` without the header, 401 when it is not of that
/// form. The scheme is case-insensitive (RFC 9110).
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().unwrap_or("");
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_LEN);
    match token {
        Some(token) => Ok(Some(token)),
        None => Err(ApiError::unauthorized("the Authorization header must be \"Bearer TOKEN\"")),
    }
}

/// The longest bearer token looked up (ours are 45 characters).
pub const MAX_TOKEN_LEN: usize = 512;

/// The answer to a known API path asked with the wrong method.
pub async fn method_not_allowed() -> Response {
    let mut response =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this endpoint takes POST with a JSON body").into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// A plain-text answer (for browsers' downloads and event streams, which show no JSON).
pub fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, format!("{}\n", message.into())).into_response()
}

/// A store error as a plain-text answer, with `Retry-After` when there is a time to wait.
pub fn plain_failure(e: StoreError) -> Response {
    let mut response = plain(status_of(e.kind()), e.public_message());
    if let Some(seconds) = e.retry_after_secs() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_required() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            h
        };
        for value in ["Bearer t-1", "bearer t-1", "BEARER  t-1 "] {
            assert_eq!(bearer_token(&headers(value)).unwrap(), Some("t-1"), "{value}");
        }
        for value in ["Basic dTpw", "Bearer", "Bearer   ", "t-1"] {
            assert!(bearer_token(&headers(value)).is_err(), "{value}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn store_errors_keep_their_kind_and_wait() {
        let e = ApiError::from(StoreError::Busy { retry_after_secs: 1 });
        assert_eq!((e.status, e.retry_after_secs), (StatusCode::SERVICE_UNAVAILABLE, Some(1)));
        let e = ApiError::from(StoreError::UnknownSession("s".into()));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let response = ApiError::from(StoreError::Busy { retry_after_secs: 2 }).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
