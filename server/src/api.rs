//! The Akeyless-compatible HTTP API: `POST /auth`, `POST /list-sra-sessions`, `POST /list-sra-session-audit`,
//! `POST /terminate-sra-session`, and the OpenAPI document describing them (and the gateway API) at `/openapi.json`.
//!
//! Request and answer shapes live in `sra-api` (shared with the CLI); these handlers only authenticate, hand the
//! request to the store's query engine — the same one the console's server functions use — and shape the answer.
//! Errors are `{"error": "…"}`: 400 bad input (naming the value and what is allowed), 401 missing or bad credentials,
//! 403 not permitted, 404 unknown session, 405 wrong method, 409 conflicting state, 413 oversized body, 415 not JSON,
//! 429 throttled.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;
use sra_api::{
    AccessType, AuditEntry, Auth, AuthOutput, ErrorBody, ListSraAudit, ListSraAuditOutput, ListSraSessionAudit,
    ListSraSessionAuditOutput, ListSraSessions, ListSraSessionsOutput, TerminateSraSession, TerminateSraSessionOutput,
};
use sra_domain::{Actor, Caller};
use sra_store::throttle::SignInThrottle;
use sra_store::{Store, StoreError};
use utoipa::OpenApi;

/// The largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub throttle: Arc<SignInThrottle>,
}

/// An API error: its status and the message for `{"error": …}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(ErrorBody { error: self.1 })).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Query(e) => bad_request(e.to_string()),
            e @ (StoreError::UnknownToken
            | StoreError::TokenExpired { .. }
            | StoreError::TokenRevoked
            | StoreError::AccountDisabled
            | StoreError::BadCredentials) => ApiError(StatusCode::UNAUTHORIZED, e.to_string()),
            e @ StoreError::UnknownSession(_) => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            e @ StoreError::UnknownGatewayKey => ApiError(StatusCode::UNAUTHORIZED, e.to_string()),
            e @ (StoreError::NotPermitted(_) | StoreError::ForeignSession { .. }) => {
                ApiError(StatusCode::FORBIDDEN, e.to_string())
            }
            e @ StoreError::SessionEnded { .. } => ApiError(StatusCode::CONFLICT, e.to_string()),
            StoreError::UpdateRefused { ref reason, .. } => {
                let status = match **reason {
                    StoreError::ForeignSession { .. } => StatusCode::FORBIDDEN,
                    _ => StatusCode::CONFLICT,
                };
                ApiError(status, e.to_string())
            }
            e => {
                tracing::error!(error = %e, "API request failed");
                ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request failed on the server; the server log has the details".into(),
                )
            }
        }
    }
}

/// Reads a request's JSON body into `T`: 415 unless it is JSON, 413 when too large, 400 naming the key at fault.
async fn read<T: DeserializeOwned>(request: Request) -> Result<(HeaderMap, T), ApiError> {
    read_limited(request, MAX_BODY).await
}

/// [`read`] with another size limit.
pub(crate) async fn read_limited<T: DeserializeOwned>(
    request: Request,
    max_body: usize,
) -> Result<(HeaderMap, T), ApiError> {
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?} is not supported; send application/json"),
        ));
    }
    let body = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {max_body} bytes")))?;
    let value = sra_api::from_json(&body).map_err(|e| bad_request(e.to_string()))?;
    Ok((parts.headers, value))
}

/// The caller a request's bearer token stands for: from `Authorization: Bearer` or the body's `token`.
async fn bearer(
    store: &Store,
    headers: &HeaderMap,
    body_token: Option<&str>,
    uid_token: Option<&str>,
) -> Result<Caller, ApiError> {
    let header = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().unwrap_or("");
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError(StatusCode::UNAUTHORIZED, "the Authorization header must be \"Bearer TOKEN\"".into())
                })?;
            Some(token)
        }
    };
    let body_token = body_token.map(str::trim).filter(|t| !t.is_empty());
    let token = match (header, body_token) {
        (Some(h), Some(b)) if h != b => {
            return Err(bad_request("two different tokens were sent (\"token\" and Authorization); send one"))
        }
        (Some(token), _) | (None, Some(token)) => token,
        (None, None) if uid_token.is_some_and(|t| !t.trim().is_empty()) => {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "\"uid-token\" is not supported by this server; get a token from /auth and send it as \"token\"".into(),
            ))
        }
        (None, None) => {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "no token: get one from /auth and send it as \"token\" or as Authorization: Bearer".into(),
            ))
        }
    };
    let principal = store.api_token(token).await?;
    Ok(store.caller(&principal.login).await?)
}

/// `POST /auth`: an API key (`access-type` `access_key`, the default) or a login and password (`password`) for a
/// bearer token.
#[utoipa::path(
    post,
    path = "/auth",
    tag = "auth",
    request_body = Auth,
    responses(
        (status = 200, description = "A bearer token", body = AuthOutput),
        (status = 400, description = "A value is missing or malformed", body = ErrorBody),
        (status = 401, description = "Wrong credentials, or the account is disabled", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this account or address", body = ErrorBody),
    )
)]
pub async fn auth(State(state): State<ApiState>, request: Request) -> Result<Json<AuthOutput>, ApiError> {
    let connection = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    let (_, body) = read::<Auth>(request).await?;
    let access_type = body.access_type().map_err(bad_request)?;
    let required = |value: &Option<String>, key: &str| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| bad_request(format!("{key:?} is required for access-type {:?}", access_type.as_str())))
    };
    let (account, secret) = match access_type {
        AccessType::AccessKey => (required(&body.access_id, "access-id")?, required(&body.access_key, "access-key")?),
        AccessType::Password => {
            (required(&body.admin_email, "admin-email")?, required(&body.admin_password, "admin-password")?)
        }
    };
    let address = connection.map_or_else(|| "unknown".to_owned(), |c| c.ip().to_string());
    let actor = Actor::User(account.clone());
    if let Err(refused) = state.throttle.check(&account, &address, Instant::now()) {
        state.store.record(&actor, "api.auth_throttled", json!({"address": address})).await?;
        return Err(ApiError(StatusCode::TOO_MANY_REQUESTS, refused.to_string()));
    }
    let outcome = match access_type {
        AccessType::AccessKey => state.store.authenticate_api_key(&account, &secret).await,
        AccessType::Password => state.store.authenticate(&account, &secret).await,
    };
    let principal = match outcome {
        Ok(principal) => principal,
        Err(e @ (StoreError::BadCredentials | StoreError::AccountDisabled)) => {
            state.throttle.failed(&account, &address, Instant::now());
            let details = json!({"address": address, "access_type": access_type.as_str(), "reason": e.to_string()});
            state.store.record(&actor, "api.auth_failed", details).await?;
            return Err(e.into());
        }
        Err(other) => return Err(other.into()),
    };
    state.throttle.succeeded(&account);
    let access_id = (access_type == AccessType::AccessKey).then_some(account.as_str());
    let issued = state.store.issue_api_token(&principal, access_id).await?;
    Ok(Json(AuthOutput { token: issued.token, expiration: sra_domain::format_rfc3339(issued.expires_at) }))
}

/// `POST /list-sra-sessions`: one page of the sessions the caller may see — active ones unless `status-type` says
/// otherwise — and the gateways they may see.
#[utoipa::path(
    post,
    path = "/list-sra-sessions",
    tag = "sessions",
    request_body = ListSraSessions,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of sessions", body = ListSraSessionsOutput),
        (status = 400, description = "A value is not allowed (the message names it and what is allowed)", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn list_sra_sessions(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Json<ListSraSessionsOutput>, ApiError> {
    let (headers, body) = read::<ListSraSessions>(request).await?;
    let caller = bearer(&state.store, &headers, body.token.as_deref(), body.uid_token.as_deref()).await?;
    let query = body
        .to_query()
        .map_err(|e| bad_request(e.to_string()))?
        .parse(sra_store::now_ms())
        .map_err(StoreError::Query)?;
    let page = state.store.list_sessions(&caller, &query).await?;
    let gateways = state.store.visible_gateways(&caller).await?;
    Ok(Json(ListSraSessionsOutput {
        sessions: page.sessions.into_iter().map(Into::into).collect(),
        next_page: page.next_cursor,
        allowed_gateways: gateways.allowed.into_iter().map(Into::into).collect(),
    }))
}

/// `POST /list-sra-session-audit`: the audit trail of one session the caller may see, oldest first.
#[utoipa::path(
    post,
    path = "/list-sra-session-audit",
    tag = "audit",
    request_body = ListSraSessionAudit,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session's audit entries, oldest first", body = ListSraSessionAuditOutput),
        (status = 400, description = "\"session-id\" is missing", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
        (status = 404, description = "No such session, or the caller may not see it", body = ErrorBody),
    )
)]
pub async fn list_sra_session_audit(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Json<ListSraSessionAuditOutput>, ApiError> {
    let (headers, body) = read::<ListSraSessionAudit>(request).await?;
    let caller = bearer(&state.store, &headers, body.token.as_deref(), None).await?;
    let session_id = required_session_id(body.session_id)?;
    let records = state.store.audit_of_visible_session(&caller, &session_id).await?;
    let entries = records.into_iter().map(audit_entry).collect();
    Ok(Json(ListSraSessionAuditOutput { session_id, entries }))
}

/// `POST /list-sra-audit`: audit entries the caller may see, newest first, by session, actor and time range.
#[utoipa::path(
    post,
    path = "/list-sra-audit",
    tag = "audit",
    request_body = ListSraAudit,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of audit entries, newest first", body = ListSraAuditOutput),
        (status = 400, description = "A value is not allowed (named in the message)", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn list_sra_audit(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Json<ListSraAuditOutput>, ApiError> {
    let (headers, body) = read::<ListSraAudit>(request).await?;
    let caller = bearer(&state.store, &headers, body.token.as_deref(), None).await?;
    let time = |key: &str, value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| sra_domain::parse_rfc3339(v).map_err(|e| bad_request(format!("{key:?}: {e}"))))
            .transpose()
    };
    let before_id = body
        .pagination_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<i64>().map_err(|_| {
                bad_request(format!("invalid pagination-token {t:?}: pass the previous answer's next_page"))
            })
        })
        .transpose()?;
    let actor = body.actor.filter(|a| !a.trim().is_empty());
    if actor.as_ref().is_some_and(|a| a.chars().count() > 200) {
        return Err(bad_request("\"actor\" is too long; allowed: up to 200 characters"));
    }
    let query = sra_store::AuditQuery {
        session_id: body.session_id.filter(|s| !s.trim().is_empty()),
        actor,
        from: time("from", &body.from)?,
        to: time("to", &body.to)?,
        page_size: body.page_size.unwrap_or(100),
        before_id,
    };
    let page = state.store.list_audit(&caller, &query).await?;
    Ok(Json(ListSraAuditOutput {
        entries: page.entries.into_iter().map(audit_entry).collect(),
        next_page: page.next.map(|id| id.to_string()),
    }))
}

/// The request's `session-id`, which must be there.
fn required_session_id(value: Option<String>) -> Result<String, ApiError> {
    value
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad_request("\"session-id\" is required"))
}

fn audit_entry(r: sra_store::AuditRecord) -> AuditEntry {
    AuditEntry { id: r.id, time: r.at, actor: r.actor, action: r.action, session_id: r.session_id, details: r.details }
}

/// `POST /terminate-sra-session`: asks the session's gateway to end it. The request is audited at once; the session
/// shows as terminating until the gateway, told in its next heartbeat answer, reports `terminated`.
#[utoipa::path(
    post,
    path = "/terminate-sra-session",
    tag = "sessions",
    request_body = TerminateSraSession,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Termination requested (or already was)", body = TerminateSraSessionOutput),
        (status = 400, description = "\"session-id\" is missing", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
        (status = 403, description = "The caller sees the session but holds neither All nor Own on its gateway", body = ErrorBody),
        (status = 404, description = "No such session, or the caller may not see it", body = ErrorBody),
        (status = 409, description = "The session has already ended", body = ErrorBody),
    )
)]
pub async fn terminate_sra_session(
    State(state): State<ApiState>,
    request: Request,
) -> Result<Json<TerminateSraSessionOutput>, ApiError> {
    let (headers, body) = read::<TerminateSraSession>(request).await?;
    let caller = bearer(&state.store, &headers, body.token.as_deref(), None).await?;
    let session_id = required_session_id(body.session_id)?;
    let request = state.store.request_termination(&caller, &session_id).await?;
    Ok(Json(TerminateSraSessionOutput {
        session_id: request.session_id,
        requested_at: request.requested_at,
        repeated: request.repeated,
    }))
}

/// The OpenAPI document, generated from the handlers above and the `sra-api` types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SRA Sessions API",
        description = "List and audit Secure Remote Access sessions. Shaped like the Akeyless V2 API: POST with JSON \
                       bodies at the server root, kebab-case request keys, snake_case answers, unknown request keys \
                       ignored. Authenticate with /auth, then send the token as \"token\" or Authorization: Bearer."
    ),
    paths(
        auth,
        list_sra_sessions,
        list_sra_session_audit,
        list_sra_audit,
        terminate_sra_session,
        crate::gateway_api::session_update,
        crate::gateway_api::session_updates,
        crate::gateway_api::heartbeat
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Credentials for a bearer token"),
        (name = "sessions", description = "Sessions, under the caller's visibility (Self, Own, All)"),
        (name = "audit", description = "Audit trails"),
        (name = "gateway", description = "For gateways: report sessions and heartbeats, with the gateway's own key \
                                           (`sra-server admin gateway key NAME`) as Authorization: Bearer"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The answer to a known API path asked with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError(StatusCode::METHOD_NOT_ALLOWED, "this endpoint takes POST with a JSON body".into())
}
