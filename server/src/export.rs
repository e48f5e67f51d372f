//! `GET /export/sessions.csv` and `GET /export/sessions.json`: the overview's current view — every page, not just
//! the one on screen — streamed as it is read.
//!
//! The links carry the overview's own URL parameters, read by the same [`RawSessionQuery::from_console_url`] as the
//! page, and the listing runs through the store's query engine with the caller's visibility, page by page with keyset
//! cursors. The first page is read before the answer starts, so a bad parameter or an ended sign-in gets a proper
//! status; a failure later aborts the transfer (the download then shows as failed, never as a silently short file).
//! Every page of one export shares the first page's `as_of`, so "the last 30 days" cannot drift while it streams.
//! Each export is audited (`export.sessions`: format, view, rows): when it ends, before its last bytes leave (a
//! failure to record fails the download), or, if the reader goes away first, with the rows sent so far.

use app::auth::server::SignedInCaller;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::{stream, StreamExt};
use sra_api::SraSession;
use sra_domain::{format_rfc3339, Caller, RawSessionQuery, SessionQuery, SessionSummary, MAX_PAGE_SIZE};
use sra_store::Store;

use crate::http::{plain, plain_failure as failure};

/// The two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

pub async fn sessions_csv(
    State(store): State<Store>,
    signed_in: Option<Extension<SignedInCaller>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    export(store, signed_in, params, Format::Csv).await
}

pub async fn sessions_json(
    State(store): State<Store>,
    signed_in: Option<Extension<SignedInCaller>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    export(store, signed_in, params, Format::Json).await
}

async fn export(
    store: Store,
    signed_in: Option<Extension<SignedInCaller>>,
    params: Vec<(String, String)>,
    format: Format,
) -> Response {
    let Some(Extension(SignedInCaller { caller, .. })) = signed_in else {
        return plain(StatusCode::UNAUTHORIZED, "not signed in: sign in to the console first");
    };
    let query = match export_query(&params) {
        Ok(query) => query,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    let first = match store.list_sessions(&caller, &query).await {
        Ok(page) => page,
        Err(e) => return failure(e),
    };
    let as_of = first.as_of;
    let audit = Some(ExportAudit { format, view: view_of(&params) });
    let state = Pages { store, caller, query, next: Some(first), index: 0, audit };
    let body = stream::unfold(state, move |mut pages| async move {
        let page = match pages.next.take() {
            Some(page) => page,
            None => return None,
        };
        let mut chunk = String::new();
        if pages.index == 0 {
            chunk.push_str(header_of(format));
        }
        for session in page.sessions {
            write_row(&mut chunk, format, session, as_of, pages.index == 0);
            pages.index += 1;
        }
        match page.next_cursor {
            Some(cursor) => {
                pages.query.cursor = Some(cursor);
                match pages.store.list_sessions(&pages.caller, &pages.query).await {
                    Ok(next) => pages.next = Some(next),
                    Err(e) => {
                        tracing::error!(error = %e, "an export failed after {} sessions", pages.index);
                        return Some((Err(std::io::Error::other(e.to_string())), pages));
                    }
                }
            }
            None => {
                chunk.push_str(footer_of(format, pages.index == 0));
                if let Err(e) = pages.record(true).await {
                    tracing::error!(error = %e, "an export could not be audited: its download fails");
                    return Some((Err(std::io::Error::other(e.to_string())), pages));
                }
            }
        }
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), pages))
    });
    let file = format!(
        "attachment; filename=\"sra-sessions-{}.{}\"",
        format_rfc3339(as_of)[..19].replace([':', '-'], ""),
        format.extension()
    );
    // Fused: a layer above (compression) may poll the body once more after its end, which `unfold` does not allow.
    let mut response = Body::from_stream(body.fuse()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&file) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The listing's state between pages.
struct Pages {
    store: Store,
    caller: Caller,
    query: SessionQuery,
    next: Option<sra_domain::SessionsPage>,
    /// Sessions written so far.
    index: usize,
    /// What to audit, until it has been.
    audit: Option<ExportAudit>,
}

/// An export's audit entry, waiting for its row count.
struct ExportAudit {
    format: Format,
    view: String,
}

impl Pages {
    /// Records the export (once): how many rows were written, and whether all of them.
    async fn record(&mut self, complete: bool) -> Result<(), sra_store::StoreError> {
        let Some(audit) = self.audit.take() else { return Ok(()) };
        let actor = sra_domain::Actor::User(self.caller.login.clone());
        let details = serde_json::json!({
            "format": audit.format.extension(), "view": audit.view, "rows": self.index, "complete": complete,
        });
        self.store.record(&actor, "export.sessions", details).await
    }
}

impl Drop for Pages {
    /// A reader that went away mid-export still leaves its entry, with the rows it was sent.
    fn drop(&mut self) {
        if self.audit.is_none() {
            return;
        }
        let mut rest = Pages {
            store: self.store.clone(),
            caller: self.caller.clone(),
            query: self.query.clone(),
            next: None,
            index: self.index,
            audit: self.audit.take(),
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = rest.record(false).await {
                    tracing::error!(error = %e, "an interrupted export could not be audited");
                }
            });
        }
    }
}

/// The view an export was asked for, as its URL query (bounded: it goes into the audit log).
fn view_of(params: &[(String, String)]) -> String {
    const MAX_VIEW: usize = 2_000;
    let mut view = String::new();
    for (key, value) in params {
        if !view.is_empty() {
            view.push('&');
        }
        view.push_str(&format!("{key}={value}"));
        if view.len() > MAX_VIEW {
            let cut = (0..=MAX_VIEW).rev().find(|&i| view.is_char_boundary(i)).unwrap_or(0);
            view.truncate(cut);
            view.push('…');
            break;
        }
    }
    view
}

/// Sessions read per page while exporting. Larger than any listing page: orders no index holds (user, duration, …)
/// cost a sort of the remaining matches per page, so fewer pages make a big export of such a view several times
/// faster, while a page (a few MB at most) still bounds the memory an export holds.
pub const EXPORT_PAGE: u32 = 5_000;

/// The overview's view as a query for the whole listing: from its first page, in export-sized pages.
fn export_query(params: &[(String, String)]) -> Result<SessionQuery, String> {
    let raw = RawSessionQuery::from_console_url(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| e.to_string())?;
    let raw = RawSessionQuery { cursor: None, page_size: Some(MAX_PAGE_SIZE), ..raw };
    let query = raw.parse(sra_store::now_ms()).map_err(|e| e.to_string())?;
    Ok(SessionQuery { page_size: EXPORT_PAGE, ..query })
}

/// The CSV columns, in order. Times are RFC 3339 in UTC: an export is data for other tools, not a reading view.
const CSV_COLUMNS: [&str; 18] = [
    "session_id",
    "status",
    "client_interface",
    "user",
    "gateway",
    "gateway_name",
    "resource_type",
    "secret_name",
    "target_name",
    "target_host",
    "started_at",
    "ended_at",
    "duration_seconds",
    "error_message",
    "termination_requested_at",
    "access_id",
    "termination_requested_by",
    "termination_reason",
];

fn header_of(format: Format) -> &'static str {
    match format {
        Format::Csv => concat!(
            "session_id,status,client_interface,user,gateway,gateway_name,resource_type,secret_name,target_name,",
            "target_host,started_at,ended_at,duration_seconds,error_message,termination_requested_at,access_id,",
            "termination_requested_by,termination_reason\r\n"
        ),
        Format::Json => "[\n",
    }
}

fn footer_of(format: Format, empty: bool) -> &'static str {
    match format {
        Format::Csv => "",
        Format::Json if empty => "]\n",
        Format::Json => "\n]\n",
    }
}

fn write_row(out: &mut String, format: Format, s: SessionSummary, as_of: i64, first: bool) {
    match format {
        Format::Json => {
            if !first {
                out.push_str(",\n");
            }
            // The API's own item shape, so an export and `POST /list-sra-sessions` read the same way.
            match serde_json::to_string(&SraSession::from(s)) {
                Ok(json) => out.push_str(&json),
                Err(e) => tracing::error!(error = %e, "a session could not be written as JSON"),
            }
        }
        Format::Csv => {
            let time = |ms: Option<i64>| ms.map(format_rfc3339).unwrap_or_default();
            let duration = (s.duration_ms(as_of).max(0) / 1_000).to_string();
            let termination = s.terminate_requested_at.filter(|_| s.status.is_active());
            let cells: [String; CSV_COLUMNS.len()] = [
                s.session_id,
                s.status.as_str().to_owned(),
                s.client_interface.as_str().to_owned(),
                s.user,
                s.gateway.cluster_name,
                s.gateway.cluster_display_name,
                s.resource_type.as_str().to_owned(),
                s.secret_name,
                s.target_name,
                s.target_host,
                time(Some(s.started_at)),
                time(s.ended_at),
                duration,
                s.error_message.unwrap_or_default(),
                time(termination),
                s.access_id.unwrap_or_default(),
                s.terminate_requested_by.unwrap_or_default(),
                s.termination_reason.unwrap_or_default(),
            ];
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                csv_cell(out, cell);
            }
            out.push_str("\r\n");
        }
    }
}

/// One CSV cell (RFC 4180). A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
/// first) gets a leading `'`, so that opening an export cannot execute text a user or gateway supplied.
fn csv_cell(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || value.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(value: &str) -> String {
        let mut out = String::new();
        csv_cell(&mut out, value);
        out
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1+2"), "\"'-1+2\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn the_header_names_every_column() {
        assert_eq!(header_of(Format::Csv).trim_end(), CSV_COLUMNS.join(","));
    }

    #[test]
    fn the_export_reads_the_overview_url_from_its_first_page() {
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let q =
            export_query(&pairs(&[("status", "failed"), ("cursor", "abc"), ("size", "25"), ("open", "s-1")])).unwrap();
        assert_eq!((q.cursor, q.page_size, q.statuses.len()), (None, EXPORT_PAGE, 1));
        assert_eq!(
            export_query(&pairs(&[("status", "active")])).unwrap_err(),
            "unknown status \"active\"; allowed: connecting, connected, failed, completed, terminated"
        );
        assert!(export_query(&pairs(&[("size", "x")])).unwrap_err().starts_with("URL parameter \"size\""));
    }
}
