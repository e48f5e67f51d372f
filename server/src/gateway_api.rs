//! The gateways' ingest API: `POST /gateway/session-update` (one report), `POST /gateway/session-updates` (a batch,
//! all or nothing) and `POST /gateway/heartbeat` (the live sessions; answered with the sessions to terminate).
//!
//! A gateway authenticates with its own key (`Authorization: Bearer g-…`), checked before its body is read, and may
//! write only its own sessions: a report about another gateway's session is refused with 403 and audited. Reports are
//! checked whole before anything is written (400 naming the field; 413 for oversized bodies or batches); the store
//! then applies the batch in one transaction, each change with its audit entry, or refuses it whole (409 naming the
//! update).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;
use sra_api::{
    ErrorBody, Heartbeat, HeartbeatError, HeartbeatOutput, ReportResult, ReportResults, SessionReport, SessionReports,
    MAX_BATCH, MAX_LIVE,
};
use sra_domain::Actor;
use sra_store::{GatewayIdentity, GatewayUpdate, Outcome, Store, StoreError};

use crate::http::{bearer_token, conform, read_object, ApiError};

/// The largest body a gateway may send (a full batch of long reports fits easily).
pub const MAX_GATEWAY_BODY: usize = 4 << 20;

/// The gateway a request's key belongs to, then its body: nobody without a key gets as far as the parser.
async fn authenticated<T: DeserializeOwned + utoipa::ToSchema>(
    store: &Store,
    request: Request,
) -> Result<(GatewayIdentity, T), ApiError> {
    let (parts, body) = request.into_parts();
    let key = bearer_token(&parts.headers)?
        .ok_or_else(|| ApiError::unauthorized("send the gateway's key as Authorization: Bearer g-…"))?;
    let gateway = store.authenticate_gateway(key).await?;
    let value = read_object(body, &parts.headers, MAX_GATEWAY_BODY).await?;
    // Too many reports or live sessions is a body too large (413), as a body over the byte limit is, not a bad value.
    for (key, limit) in [("updates", MAX_BATCH), ("live", MAX_LIVE)] {
        if let Some(count) = value.get(key).and_then(serde_json::Value::as_array).map(Vec::len).filter(|n| *n > limit) {
            let what = if key == "updates" { "the batch holds" } else { "the heartbeat lists" };
            let noun = if key == "updates" { "updates" } else { "sessions" };
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{what} {count} {noun}; allowed: up to {limit}"),
            ));
        }
    }
    Ok((gateway, conform(value)?))
}

/// Checks every report, then hands the batch to the store.
async fn apply(
    store: &Store,
    gateway: &GatewayIdentity,
    reports: &[SessionReport],
    label: impl Fn(usize) -> String,
) -> Result<Vec<ReportResult>, ApiError> {
    let now = sra_store::now_ms();
    let updates = reports
        .iter()
        .enumerate()
        .map(|(i, report)| {
            let update =
                report.to_update(&label(i), &gateway.name, now).map_err(|e| ApiError::bad_request(e.to_string()))?;
            Ok(GatewayUpdate { update_id: report.update_id.clone(), update })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let outcomes = match store.ingest(gateway, &updates).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            if let StoreError::UpdateRefused { reason, update_id, .. } = &e {
                if let StoreError::ForeignSession { session_id, .. } = &**reason {
                    let details =
                        json!({"session_id": session_id, "update_id": update_id, "reason": reason.to_string()});
                    store.record(&Actor::Gateway(gateway.name.clone()), "gateway.write_refused", details).await?;
                }
            }
            return Err(e.into());
        }
    };
    Ok(updates
        .iter()
        .zip(outcomes)
        .map(|(update, outcome)| ReportResult {
            update_id: update.update_id.clone(),
            outcome: outcome.as_str().to_owned(),
            reason: match outcome {
                Outcome::Ignored { reason } => Some(reason),
                _ => None,
            },
        })
        .collect())
}

/// `POST /gateway/session-update`: one report.
#[utoipa::path(
    post,
    path = "/gateway/session-update",
    tag = "gateway",
    request_body = SessionReport,
    security(("gatewayKey" = [])),
    responses(
        (status = 200, description = "Applied, a duplicate of an acknowledged update, or ignored as late", body = ReportResult),
        (status = 400, description = "A field is missing, unknown or malformed (named in the message)", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 403, description = "The session belongs to another gateway (audited)", body = ErrorBody),
        (status = 409, description = "The state machine forbids it, or the session is unknown", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    )
)]
pub async fn session_update(State(store): State<Store>, request: Request) -> Result<Json<ReportResult>, ApiError> {
    let (gateway, report) = authenticated::<SessionReport>(&store, request).await?;
    let mut results = apply(&store, &gateway, std::slice::from_ref(&report), |_| "update".to_owned()).await?;
    Ok(Json(results.remove(0)))
}

/// `POST /gateway/session-updates`: a batch of reports, applied in order, all or nothing.
#[utoipa::path(
    post,
    path = "/gateway/session-updates",
    tag = "gateway",
    request_body = SessionReports,
    security(("gatewayKey" = [])),
    responses(
        (status = 200, description = "Every report's outcome, in order", body = ReportResults),
        (status = 400, description = "A field is missing, unknown or malformed (named with its index)", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 403, description = "A report is about another gateway's session (audited); nothing was applied", body = ErrorBody),
        (status = 409, description = "A report breaks the state machine or names an unknown session; nothing was applied", body = ErrorBody),
        (status = 413, description = "The body or the batch is too large", body = ErrorBody),
    )
)]
pub async fn session_updates(State(store): State<Store>, request: Request) -> Result<Json<ReportResults>, ApiError> {
    let (gateway, batch) = authenticated::<SessionReports>(&store, request).await?;
    if batch.updates.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the batch holds {} updates; allowed: up to {MAX_BATCH}", batch.updates.len()),
        ));
    }
    if batch.updates.is_empty() {
        return Err(ApiError::bad_request("\"updates\" is empty; send 1 to 1000 updates"));
    }
    let results = apply(&store, &gateway, &batch.updates, |i| format!("updates[{i}]")).await?;
    Ok(Json(ReportResults { results }))
}

/// `POST /gateway/heartbeat`: the gateway's live sessions. Sessions not mentioned for the server's `--stale-after` are
/// closed as lost.
#[utoipa::path(
    post,
    path = "/gateway/heartbeat",
    tag = "gateway",
    request_body = Heartbeat,
    security(("gatewayKey" = [])),
    responses(
        (status = 200, description = "Sessions to terminate, and live ones the server does not know or considers ended", body = HeartbeatOutput),
        (status = 400, description = "Malformed, or a live ID too long or with control characters", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 413, description = "Too many live sessions in one heartbeat", body = ErrorBody),
    )
)]
pub async fn heartbeat(State(store): State<Store>, request: Request) -> Result<Json<HeartbeatOutput>, ApiError> {
    let (gateway, beat) = authenticated::<Heartbeat>(&store, request).await?;
    match beat.check() {
        Ok(()) => {}
        Err(e @ HeartbeatError::TooMany { .. }) => {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()))
        }
        Err(e) => return Err(ApiError::bad_request(e.to_string())),
    }
    let answer = store.heartbeat(&gateway, &beat.live).await?;
    let blocked = answer.blocked.into_iter().map(|(user, until)| sra_api::BlockedUser { user, until }).collect();
    Ok(Json(HeartbeatOutput { terminate: answer.terminate, unknown: answer.unknown, ended: answer.ended, blocked }))
}
