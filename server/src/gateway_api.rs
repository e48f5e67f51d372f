//! The gateways' ingest API: `POST /gateway/session-update` (one report), `POST /gateway/session-updates` (a batch,
//! all or nothing) and `POST /gateway/heartbeat` (the live sessions; answered with the sessions to terminate).
//!
//! A gateway authenticates with its own key (`Authorization: Bearer g-…`) and may write only its own sessions: a report
//! about another gateway's session is refused with 403 and audited. Reports are checked whole before anything is
//! written (400 naming the field; 413 for oversized bodies or batches); the store then applies the batch in one
//! transaction, each change with its audit entry, or refuses it whole (409 naming the update).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::json;
use sra_api::{
    ErrorBody, Heartbeat, HeartbeatOutput, ReportResult, ReportResults, SessionReport, SessionReports, MAX_BATCH,
    MAX_LIVE,
};
use sra_domain::Actor;
use sra_store::{GatewayIdentity, GatewayUpdate, Outcome, StoreError};

use crate::api::{bad_request, read_limited, ApiError, ApiState};

/// The largest body a gateway may send (a full batch of long reports fits easily).
pub const MAX_GATEWAY_BODY: usize = 4 << 20;

async fn gateway(state: &ApiState, headers: &HeaderMap) -> Result<GatewayIdentity, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError(StatusCode::UNAUTHORIZED, "send the gateway's key as Authorization: Bearer g-…".into())
        })?;
    Ok(state.store.authenticate_gateway(key).await?)
}

/// Checks every report, then hands the batch to the store.
async fn apply(
    state: &ApiState,
    gateway: &GatewayIdentity,
    reports: &[SessionReport],
    label: impl Fn(usize) -> String,
) -> Result<Vec<ReportResult>, ApiError> {
    let now = sra_store::now_ms();
    let updates = reports
        .iter()
        .enumerate()
        .map(|(i, report)| {
            let update = report.to_update(&label(i), &gateway.name, now).map_err(|e| bad_request(e.to_string()))?;
            Ok(GatewayUpdate { update_id: report.update_id.clone(), update })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let outcomes = match state.store.ingest(gateway, &updates).await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            if let StoreError::UpdateRefused { reason, update_id, .. } = &e {
                if let StoreError::ForeignSession { session_id, .. } = &**reason {
                    let details =
                        json!({"session_id": session_id, "update_id": update_id, "reason": reason.to_string()});
                    state.store.record(&Actor::Gateway(gateway.name.clone()), "gateway.write_refused", details).await?;
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
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Applied, a duplicate of an acknowledged update, or ignored as late", body = ReportResult),
        (status = 400, description = "A field is missing, unknown or malformed (named in the message)", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 403, description = "The session belongs to another gateway (audited)", body = ErrorBody),
        (status = 409, description = "The state machine forbids it, or the session is unknown", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    )
)]
pub async fn session_update(State(state): State<ApiState>, request: Request) -> Result<Json<ReportResult>, ApiError> {
    let (headers, report) = read_limited::<SessionReport>(request, MAX_GATEWAY_BODY).await?;
    let gateway = gateway(&state, &headers).await?;
    let mut results = apply(&state, &gateway, std::slice::from_ref(&report), |_| "update".to_owned()).await?;
    Ok(Json(results.remove(0)))
}

/// `POST /gateway/session-updates`: a batch of reports, applied in order, all or nothing.
#[utoipa::path(
    post,
    path = "/gateway/session-updates",
    tag = "gateway",
    request_body = SessionReports,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every report's outcome, in order", body = ReportResults),
        (status = 400, description = "A field is missing, unknown or malformed (named with its index)", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 403, description = "A report is about another gateway's session (audited); nothing was applied", body = ErrorBody),
        (status = 409, description = "A report breaks the state machine or names an unknown session; nothing was applied", body = ErrorBody),
        (status = 413, description = "The body or the batch is too large", body = ErrorBody),
    )
)]
pub async fn session_updates(State(state): State<ApiState>, request: Request) -> Result<Json<ReportResults>, ApiError> {
    let (headers, batch) = read_limited::<SessionReports>(request, MAX_GATEWAY_BODY).await?;
    let gateway = gateway(&state, &headers).await?;
    if batch.updates.len() > MAX_BATCH {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the batch holds {} updates; allowed: up to {MAX_BATCH}", batch.updates.len()),
        ));
    }
    if batch.updates.is_empty() {
        return Err(bad_request("\"updates\" is empty; send 1 to 1000 updates"));
    }
    let results = apply(&state, &gateway, &batch.updates, |i| format!("updates[{i}]")).await?;
    Ok(Json(ReportResults { results }))
}

/// `POST /gateway/heartbeat`: the gateway's live sessions. Sessions not mentioned for the server's `--stale-after` are
/// closed as lost.
#[utoipa::path(
    post,
    path = "/gateway/heartbeat",
    tag = "gateway",
    request_body = Heartbeat,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sessions to terminate, and live ones the server does not know or considers ended", body = HeartbeatOutput),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "No or unknown gateway key", body = ErrorBody),
        (status = 413, description = "Too many live sessions in one heartbeat", body = ErrorBody),
    )
)]
pub async fn heartbeat(State(state): State<ApiState>, request: Request) -> Result<Json<HeartbeatOutput>, ApiError> {
    let (headers, beat) = read_limited::<Heartbeat>(request, MAX_GATEWAY_BODY).await?;
    let gateway = gateway(&state, &headers).await?;
    if beat.live.len() > MAX_LIVE {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the heartbeat lists {} sessions; allowed: up to {MAX_LIVE}", beat.live.len()),
        ));
    }
    let answer = state.store.heartbeat(&gateway, &beat.live).await?;
    Ok(Json(HeartbeatOutput { terminate: answer.terminate, unknown: answer.unknown, ended: answer.ended }))
}
