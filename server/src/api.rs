//! The Akeyless-compatible HTTP API: `POST /auth`, `POST /list-sra-sessions`, `POST /list-sra-session-audit`,
//! `POST /list-sra-audit`, `POST /stream-sra-audit`, `POST /terminate-sra-session` and `POST /terminate-sra-sessions`.
//!
//! Request and answer shapes live in `sra-api` (shared with the CLI); these handlers only authenticate, hand the
//! request to the store — the same query engine and sign-in the console's server functions use — and shape the
//! answer. Errors are `{"error": "…"}` (see `crate::http`): 400 bad input (naming the value and what is allowed),
//! 401 missing or bad credentials, 403 not permitted, 404 unknown session, 405 wrong method, 409 conflicting state,
//! 413 oversized body, 415 not JSON, 429 throttled and 503 busy (both with `Retry-After`).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sra_api::{
    AccessType, AuditEntry, Auth, AuthOutput, BlockEntry, BlockedPair, ChainedAuditEntry, ErrorBody, LiftSraBlock,
    ListSraAudit, ListSraAuditOutput, ListSraBlocks, ListSraBlocksOutput, ListSraSessionAudit,
    ListSraSessionAuditOutput, ListSraSessions, ListSraSessionsAnswer, ListSraSessionsOutput, StreamSraAudit,
    TerminateSraSession, TerminateSraSessionOutput, TerminateSraSessions, TerminateSraSessionsOutput,
};
use sra_domain::{BlockFor, Caller, TerminationReason, TerminationTarget};
use sra_store::{Attempt, Channel, Credential, Store, StoreError};

use crate::http::{bearer_token, conform, read, read_object, ApiError, MAX_BODY};

/// The caller and the body of a user API request: who is asking is settled first (from `Authorization: Bearer` or
/// the body's `token`), so that nobody without a valid token learns more than 401 about what they sent.
async fn signed_in<T: serde::de::DeserializeOwned + utoipa::ToSchema>(
    store: &Store,
    request: Request,
) -> Result<(Caller, T), ApiError> {
    let (parts, body) = request.into_parts();
    let value = read_object(body, &parts.headers, MAX_BODY).await?;
    let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str);
    let caller = bearer(store, &parts.headers, text("token"), text("uid-token")).await?;
    Ok((caller, conform(value)?))
}

/// The caller a request's bearer token stands for: from `Authorization: Bearer` or the body's `token`.
async fn bearer(
    store: &Store,
    headers: &axum::http::HeaderMap,
    body_token: Option<&str>,
    uid_token: Option<&str>,
) -> Result<Caller, ApiError> {
    let header = bearer_token(headers)?;
    let body_token = body_token.map(str::trim).filter(|t| !t.is_empty());
    let token = match (header, body_token) {
        // Which one is the caller? Neither: the credentials are in doubt, as with a wrong token.
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::unauthorized(
                "two different tokens were sent (\"token\" and Authorization); send one",
            ))
        }
        (Some(token), _) | (None, Some(token)) => token,
        (None, None) if uid_token.is_some_and(|t| !t.trim().is_empty()) => {
            return Err(ApiError::unauthorized(
                "\"uid-token\" is not supported by this server; get a token from /auth and send it as \"token\"",
            ))
        }
        (None, None) => {
            return Err(ApiError::unauthorized(
                "no token: get one from /auth and send it as \"token\" or as Authorization: Bearer",
            ))
        }
    };
    if token.len() > crate::http::MAX_TOKEN_LEN {
        return Err(StoreError::UnknownToken.into());
    }
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
        (status = 401, description = "Wrong credentials (a disabled account answers the same)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this account from this address, or from this \
                                      address; Retry-After says when to try again", body = ErrorBody),
        (status = 503, description = "Too many sign-ins being checked at once; Retry-After says when to try again", body = ErrorBody),
    )
)]
pub async fn auth(State(store): State<Store>, request: Request) -> Result<Json<AuthOutput>, ApiError> {
    let address = app::auth::server::address_of(request.extensions());
    let (_, body) = read::<Auth>(request, MAX_BODY).await?;
    let access_type = body.access_type().map_err(ApiError::bad_request)?;
    let required = |value: &Option<String>, key: &str| {
        value.as_deref().filter(|v| !v.is_empty()).map(str::to_owned).ok_or_else(|| {
            ApiError::bad_request(format!("{key:?} is required for access-type {:?}", access_type.as_str()))
        })
    };
    let (account, secret, credential) = match access_type {
        AccessType::AccessKey => {
            (required(&body.access_id, "access-id")?, required(&body.access_key, "access-key")?, Credential::ApiKey)
        }
        AccessType::Password => (
            required(&body.admin_email, "admin-email")?,
            required(&body.admin_password, "admin-password")?,
            Credential::Password,
        ),
    };
    let attempt = Attempt { channel: Channel::Api, credential, account: &account, secret: &secret, address: &address };
    let principal = store.sign_in(attempt).await?;
    let access_id = (access_type == AccessType::AccessKey).then_some(account.trim());
    let issued = store.issue_api_token(&principal, access_id).await?;
    Ok(Json(AuthOutput { token: issued.token, expiration: sra_domain::format_rfc3339(issued.expires_at) }))
}

/// `POST /list-sra-sessions`: one page of the sessions the caller may see — active ones unless `status-type` says
/// otherwise — and the gateways they may see; or, with `changes-since`, what changed in that view since.
#[utoipa::path(
    post,
    path = "/list-sra-sessions",
    tag = "sessions",
    request_body = ListSraSessions,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "One page of sessions; with `changes-since`, the view's changes", body = ListSraSessionsAnswer),
        (status = 400, description = "A value is not allowed (the message names it and what is allowed)", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn list_sra_sessions(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<ListSraSessionsAnswer>, ApiError> {
    let (caller, body) = signed_in::<ListSraSessions>(&store, request).await?;
    let query = body
        .to_query()
        .map_err(|e| ApiError::bad_request(e.to_string()))?
        .parse(sra_store::now_ms())
        .map_err(StoreError::Query)?;
    if let Some(token) = body.changes_since.as_deref() {
        if query.cursor.is_some() {
            return Err(ApiError::bad_request(
                "give either \"changes-since\" (what changed in the whole view) or \"pagination-token\" (a page), not both",
            ));
        }
        let changes = store.session_changes(&caller, &query, token).await?;
        return Ok(Json(ListSraSessionsAnswer::Changes(changes.into())));
    }
    let page = store.list_sessions(&caller, &query).await?;
    let gateways = store.visible_gateways(&caller).await?;
    Ok(Json(ListSraSessionsAnswer::Page(ListSraSessionsOutput {
        sessions: page.sessions.into_iter().map(Into::into).collect(),
        next_page: page.next_cursor,
        allowed_gateways: gateways.allowed.into_iter().map(Into::into).collect(),
        changes_token: page.changes_token,
    })))
}

/// `POST /list-sra-session-audit`: the audit trail of one session the caller may see, oldest first.
#[utoipa::path(
    post,
    path = "/list-sra-session-audit",
    tag = "audit",
    request_body = ListSraSessionAudit,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "The session's audit entries, oldest first", body = ListSraSessionAuditOutput),
        (status = 400, description = "\"session-id\" is missing", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
        (status = 404, description = "No such session, or the caller may not see it", body = ErrorBody),
    )
)]
pub async fn list_sra_session_audit(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<ListSraSessionAuditOutput>, ApiError> {
    let (caller, body) = signed_in::<ListSraSessionAudit>(&store, request).await?;
    let session_id = required_session_id(body.session_id)?;
    let (_, records) = store.view_session(&caller, &session_id, sra_store::ViewedThrough::Api).await?;
    let entries = records.into_iter().map(audit_entry).collect();
    Ok(Json(ListSraSessionAuditOutput { session_id, entries }))
}

/// `POST /list-sra-audit`: audit entries the caller may see, newest first, by session, actor and time range.
#[utoipa::path(
    post,
    path = "/list-sra-audit",
    tag = "audit",
    request_body = ListSraAudit,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "One page of audit entries, newest first", body = ListSraAuditOutput),
        (status = 400, description = "A value is not allowed (named in the message)", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn list_sra_audit(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<ListSraAuditOutput>, ApiError> {
    let (caller, body) = signed_in::<ListSraAudit>(&store, request).await?;
    let time = |key: &str, value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| sra_domain::parse_rfc3339(v).map_err(|e| ApiError::bad_request(format!("{key:?}: {e}"))))
            .transpose()
    };
    let before_id = body
        .pagination_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("invalid pagination-token {t:?}: pass the previous answer's next_page"))
            })
        })
        .transpose()?;
    let actor = body.actor.filter(|a| !a.trim().is_empty());
    let query = sra_store::AuditQuery {
        session_id: body.session_id.filter(|s| !s.trim().is_empty()),
        actor,
        action: body.action.filter(|a| !a.trim().is_empty()),
        from: time("from", &body.from)?,
        to: time("to", &body.to)?,
        page_size: body.page_size.unwrap_or(100),
        before_id,
    };
    let page = store.list_audit(&caller, &query).await?;
    Ok(Json(ListSraAuditOutput {
        entries: page.entries.into_iter().map(audit_entry).collect(),
        next_page: page.next.map(|id| id.to_string()),
    }))
}

/// `POST /stream-sra-audit`: audit entries after a position, oldest first, with their chain fields, as
/// newline-delimited JSON; with nothing new, it waits up to `wait` seconds for entries first (a SIEM's long poll).
#[utoipa::path(
    post,
    path = "/stream-sra-audit",
    tag = "audit",
    request_body = StreamSraAudit,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "One ChainedAuditEntry a line (application/x-ndjson), oldest first; none when \
                                      nothing came within `wait`. Pass the last line's id as `after` next time.",
         body = [ChainedAuditEntry], content_type = "application/x-ndjson"),
        (status = 400, description = "A value is not allowed (named in the message)", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn stream_sra_audit(State(store): State<Store>, request: Request) -> Result<Response, ApiError> {
    let (caller, body) = signed_in::<StreamSraAudit>(&store, request).await?;
    let limit = body.limit.unwrap_or(100);
    if !(1..=sra_store::MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit {limit}; allowed: 1 to {}", sra_store::MAX_AUDIT_PAGE)));
    }
    let wait = body.wait.unwrap_or(25);
    if wait > MAX_AUDIT_WAIT_S {
        return Err(ApiError::bad_request(format!("wait {wait}; allowed: 0 to {MAX_AUDIT_WAIT_S} seconds")));
    }
    if let Some(after) = body.after.filter(|a| *a < 0) {
        return Err(ApiError::bad_request(format!("after {after}; allowed: an entry's id (0 or more)")));
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(wait));
    let mut moved = store.subscribe_changes();
    let entries = loop {
        moved.borrow_and_update();
        let entries = store.audit_after(&caller, body.after, limit).await?;
        let now = tokio::time::Instant::now();
        if !entries.is_empty() || now >= deadline {
            break entries;
        }
        // Session changes move the feed at once; other entries (sign-ins, administration) are found by the next look,
        // at most a second later.
        let _ = tokio::time::timeout((deadline - now).min(std::time::Duration::from_secs(1)), moved.changed()).await;
    };
    let mut out = String::new();
    for chained in entries {
        let line = ChainedAuditEntry {
            entry: audit_entry(chained.record),
            previous_hash: chained.previous_hash,
            hash: chained.hash,
        };
        // A value built from strings and numbers always serializes.
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    Ok(([(axum::http::header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
}

pub use sra_api::contract::MAX_AUDIT_WAIT_S;

/// The request's `session-id`, which must be there.
fn required_session_id(value: Option<String>) -> Result<String, ApiError> {
    value
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("\"session-id\" is required"))
}

fn audit_entry(r: sra_store::AuditRecord) -> AuditEntry {
    let summary = r.summary();
    AuditEntry {
        id: r.id,
        time: r.at,
        actor: r.actor,
        action: r.action,
        session_id: r.session_id,
        details: r.details,
        summary,
    }
}

/// The block a termination request asks for, if any.
fn block_for(value: Option<&str>) -> Result<Option<BlockFor>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => BlockFor::parse(text).map(Some).map_err(|e| ApiError::bad_request(e.to_string())),
    }
}

/// The reason a termination request gives (required).
fn required_reason(value: Option<&str>) -> Result<TerminationReason, ApiError> {
    Ok(TerminationReason::parse(value.unwrap_or("")).map_err(StoreError::Reason)?)
}

/// `POST /terminate-sra-session`: asks the session's gateway to end it, for a reason. The request is audited at once;
/// the session shows as terminating until the gateway, told in its next heartbeat answer, reports `terminated`.
#[utoipa::path(
    post,
    path = "/terminate-sra-session",
    tag = "sessions",
    request_body = TerminateSraSession,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "Termination requested (or already was)", body = TerminateSraSessionOutput),
        (status = 400, description = "\"session-id\" or \"reason\" is missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
        (status = 403, description = "The caller sees the session but holds neither All nor Own on its gateway", body = ErrorBody),
        (status = 404, description = "No such session, or the caller may not see it", body = ErrorBody),
        (status = 409, description = "The session has already ended", body = ErrorBody),
    )
)]
pub async fn terminate_sra_session(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<TerminateSraSessionOutput>, ApiError> {
    let (caller, body) = signed_in::<TerminateSraSession>(&store, request).await?;
    let session_id = required_session_id(body.session_id)?;
    let reason = required_reason(body.reason.as_deref())?;
    let block = block_for(body.block_for.as_deref())?;
    let (done, blocked) = store.request_termination_and_block(&caller, &session_id, &reason, block).await?;
    Ok(Json(TerminateSraSessionOutput {
        session_id: done.session_id,
        requested_at: done.requested_at,
        repeated: done.repeated,
        blocked: blocked.into_iter().map(BlockedPair::from).collect(),
    }))
}

/// `POST /terminate-sra-sessions`: asks the gateways to end several sessions (named, or every active one of a user or
/// a gateway), for one reason, in one transaction; sessions the caller may not terminate are answered as skipped.
/// `dry-run` answers the same without requesting anything (for a confirmation that says how many and which).
#[utoipa::path(
    post,
    path = "/terminate-sra-sessions",
    tag = "sessions",
    request_body = TerminateSraSessions,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "What was (or would be) requested, and what was skipped and why", body = TerminateSraSessionsOutput),
        (status = 400, description = "Not exactly one selection, too many sessions, or \"reason\" missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn terminate_sra_sessions(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<TerminateSraSessionsOutput>, ApiError> {
    let (caller, body) = signed_in::<TerminateSraSessions>(&store, request).await?;
    let target: TerminationTarget = body.target().map_err(|e| ApiError::bad_request(e.to_string()))?;
    let block = block_for(body.block_for.as_deref())?;
    let outcome = if body.dry_run {
        store.preview_terminations(&caller, &target, block).await?
    } else {
        let reason = required_reason(body.reason.as_deref())?;
        store.terminate_sessions(&caller, &target, &reason, block).await?
    };
    Ok(Json(TerminateSraSessionsOutput::new(body.dry_run, outcome)))
}

/// `POST /list-sra-blocks`: the live blocks the caller may see — on the gateways whose sessions they may terminate,
/// and their own — soonest to end first.
#[utoipa::path(
    post,
    path = "/list-sra-blocks",
    tag = "sessions",
    request_body = ListSraBlocks,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "Live blocks", body = ListSraBlocksOutput),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
    )
)]
pub async fn list_sra_blocks(
    State(store): State<Store>,
    request: Request,
) -> Result<Json<ListSraBlocksOutput>, ApiError> {
    let (caller, _) = signed_in::<ListSraBlocks>(&store, request).await?;
    let blocks = store.list_blocks(&caller).await?;
    Ok(Json(ListSraBlocksOutput { blocks: blocks.into_iter().map(BlockEntry::from).collect() }))
}

/// `POST /lift-sra-block`: lets a blocked user open sessions on the gateway again (audited).
#[utoipa::path(
    post,
    path = "/lift-sra-block",
    tag = "sessions",
    request_body = LiftSraBlock,
    security(("userToken" = [])),
    responses(
        (status = 200, description = "The block, now lifted", body = BlockEntry),
        (status = 400, description = "\"id\" is missing or not a block id", body = ErrorBody),
        (status = 401, description = "No token, or it is unknown, expired or revoked", body = ErrorBody),
        (status = 403, description = "The caller's own block: lifting it needs All, or Own on the gateway", body = ErrorBody),
        (status = 404, description = "No live block by that id that the caller may lift", body = ErrorBody),
    )
)]
pub async fn lift_sra_block(State(store): State<Store>, request: Request) -> Result<Json<BlockEntry>, ApiError> {
    let (caller, body) = signed_in::<LiftSraBlock>(&store, request).await?;
    let id = body.id.ok_or_else(|| ApiError::bad_request("\"id\" is required: a block's id from /list-sra-blocks"))?;
    Ok(Json(BlockEntry::from(store.lift_block(&caller, id).await?)))
}
