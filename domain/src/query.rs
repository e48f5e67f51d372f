//! The session query: what a caller asks for, parsed and checked once, whichever edge it came from (console URL, HTTP
//! API body, CLI flags). The store runs it; nothing else filters, sorts or pages sessions.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{ClientInterface, Millis, ParseEnumError, ResourceType, SessionStatus, DAY_MS, HOUR_MS};

/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The longest free-text search accepted, in characters.
pub const MAX_SEARCH_LEN: usize = 200;
/// The most values one list filter may hold (statuses, resource types, client interfaces, gateways).
pub const MAX_LIST_LEN: usize = 100;
/// The longest gateway name accepted in a filter.
pub const MAX_NAME_LEN: usize = 128;
/// The longest user accepted in a filter (as long as a login may be).
pub const MAX_USER_LEN: usize = 256;
/// The longest page cursor accepted (ours are a few hundred characters).
pub const MAX_CURSOR_LEN: usize = 4_096;
/// The default timeframe: the last 30 days.
pub const DEFAULT_WINDOW_MS: Millis = 30 * DAY_MS;

/// The preset timeframes, by name: the span up to now.
pub const RANGES: [(&str, Millis); 4] =
    [("1h", HOUR_MS), ("24h", DAY_MS), ("7d", 7 * DAY_MS), ("30d", DEFAULT_WINDOW_MS)];

/// A closed time range in epoch milliseconds. A session belongs to it when the two overlap: it started at or before
/// the window's end and had not ended before its start — so a session connected since long ago is in today's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeWindow {
    pub from: Millis,
    pub to: Millis,
}

impl TimeWindow {
    /// Whether a session that started at `started` and ended at `ended` (if it has) overlaps this window.
    pub fn overlaps(&self, started: Millis, ended: Option<Millis>) -> bool {
        started <= self.to && ended.is_none_or(|end| end >= self.from)
    }
}

/// A timeframe as the caller asked for it. The open-ended forms end at the listing's `as_of` time, which the store fixes
/// when a listing's first page is read and carries in its cursors: every page of "the last 30 days" then covers the
/// same window, however much later the next page is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Timeframe {
    /// The `span` milliseconds up to `as_of` (the default: the last 30 days).
    Recent { span: Millis },
    /// From a fixed time up to `as_of`.
    Since(Millis),
    /// Fixed ends.
    Fixed(TimeWindow),
}

impl Timeframe {
    /// The overview's default: the last 30 days.
    pub const DEFAULT: Timeframe = Timeframe::Recent { span: DEFAULT_WINDOW_MS };

    /// The window this timeframe covers for a listing as of `as_of`.
    pub fn at(self, as_of: Millis) -> TimeWindow {
        match self {
            Timeframe::Recent { span } => TimeWindow { from: as_of - span, to: as_of },
            Timeframe::Since(from) => TimeWindow { from, to: as_of.max(from) },
            Timeframe::Fixed(window) => window,
        }
    }
}

/// What the sessions can be sorted by (the grid's columns). Ties are broken by the session ID, in the same direction,
/// so the order is total and pages never overlap or skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    StartTime,
    Duration,
    User,
    Gateway,
    ResourceType,
    ClientInterface,
    SecretName,
    SessionId,
    Status,
}

impl SortField {
    pub const ALL: &'static [SortField] = &[
        SortField::StartTime,
        SortField::Duration,
        SortField::User,
        SortField::Gateway,
        SortField::ResourceType,
        SortField::ClientInterface,
        SortField::SecretName,
        SortField::SessionId,
        SortField::Status,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SortField::StartTime => "start_time",
            SortField::Duration => "duration",
            SortField::User => "user",
            SortField::Gateway => "gateway",
            SortField::ResourceType => "resource_type",
            SortField::ClientInterface => "client_interface",
            SortField::SecretName => "secret_name",
            SortField::SessionId => "session_id",
            SortField::Status => "status",
        }
    }
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SortField {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        SortField::ALL.iter().copied().find(|f| f.as_str().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            QueryError::UnknownSortField {
                value: s.to_owned(),
                allowed: SortField::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "),
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    Asc,
    Desc,
}

/// A sort order: a column and a direction. The default is newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sort {
    pub field: SortField,
    pub direction: SortDirection,
}

impl Default for Sort {
    fn default() -> Self {
        Sort { field: SortField::StartTime, direction: SortDirection::Desc }
    }
}

impl FromStr for Sort {
    type Err = QueryError;

    /// `FIELD`, `FIELD:asc` or `FIELD:desc`; `-FIELD` is short for descending. Without a direction, times and
    /// durations sort descending (newest, longest first) and text ascending.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (name, direction) = if let Some(rest) = s.strip_prefix('-') {
            (rest, Some(SortDirection::Desc))
        } else if let Some((name, dir)) = s.split_once(':') {
            let direction = match dir.trim().to_ascii_lowercase().as_str() {
                "asc" => SortDirection::Asc,
                "desc" => SortDirection::Desc,
                _ => return Err(QueryError::UnknownSortDirection { value: dir.to_owned() }),
            };
            (name, Some(direction))
        } else {
            (s, None)
        };
        let field: SortField = name.parse()?;
        let direction = direction.unwrap_or(match field {
            SortField::StartTime | SortField::Duration => SortDirection::Desc,
            _ => SortDirection::Asc,
        });
        Ok(Sort { field, direction })
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            SortDirection::Asc => "asc",
            SortDirection::Desc => "desc",
        };
        write!(f, "{}:{dir}", self.field)
    }
}

/// A validated session query. Build it with [`RawSessionQuery::parse`]; every field is then known to be valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionQuery {
    pub timeframe: Timeframe,
    /// Empty means every status (likewise for the other sets).
    pub statuses: BTreeSet<SessionStatus>,
    pub resource_types: BTreeSet<ResourceType>,
    pub client_interfaces: BTreeSet<ClientInterface>,
    /// Gateway cluster names.
    pub gateways: BTreeSet<String>,
    /// Users, exactly as the sessions record them.
    pub users: BTreeSet<String>,
    /// Case-insensitive text looked for in the user, session ID, secret name and target name and host.
    pub search: Option<String>,
    pub sort: Sort,
    pub page_size: u32,
    /// An opaque cursor from an earlier page of the same query; the store verifies it.
    pub cursor: Option<String>,
}

impl SessionQuery {
    /// The overview's default view: last 30 days, every status, newest first, 50 a page.
    pub fn recent() -> SessionQuery {
        SessionQuery {
            timeframe: Timeframe::DEFAULT,
            statuses: BTreeSet::new(),
            resource_types: BTreeSet::new(),
            client_interfaces: BTreeSet::new(),
            gateways: BTreeSet::new(),
            users: BTreeSet::new(),
            search: None,
            sort: Sort::default(),
            page_size: DEFAULT_PAGE_SIZE,
            cursor: None,
        }
    }
}

/// A session query as it arrives, every value still text. Each edge fills this from its own shape (URL parameters,
/// JSON body, CLI flags); [`RawSessionQuery::parse`] is the one place values are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawSessionQuery {
    /// A preset timeframe up to now: `1h`, `24h`, `7d` or `30d` (instead of `from`/`to`).
    pub range: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Each entry may itself be a comma-separated list.
    pub statuses: Vec<String>,
    pub resource_types: Vec<String>,
    pub client_interfaces: Vec<String>,
    pub gateways: Vec<String>,
    pub users: Vec<String>,
    pub search: Option<String>,
    pub sort: Option<String>,
    pub page_size: Option<u32>,
    pub cursor: Option<String>,
}

impl RawSessionQuery {
    /// Checks every value and builds the query. Without `to` the timeframe ends at the listing's time (`now` for a
    /// first page); without `from` it starts 30 days before its end.
    pub fn parse(self, now: Millis) -> Result<SessionQuery, QueryError> {
        let range = self.range.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let timeframe = match (range, self.from, self.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => return Err(QueryError::RangeAndWindow),
            (Some(range), None, None) => {
                let span = RANGES.iter().find(|(name, _)| name.eq_ignore_ascii_case(range)).map(|(_, span)| *span);
                Timeframe::Recent { span: span.ok_or_else(|| QueryError::UnknownRange { value: range.to_owned() })? }
            }
            (None, from, to) => match (from, to) {
                (None, None) => Timeframe::DEFAULT,
                (Some(from), None) if from > now => return Err(QueryError::WindowReversed { from, to: now }),
                (Some(from), None) => Timeframe::Since(from),
                (from, Some(to)) => {
                    let from = from.unwrap_or(to - DEFAULT_WINDOW_MS);
                    if from > to {
                        return Err(QueryError::WindowReversed { from, to });
                    }
                    Timeframe::Fixed(TimeWindow { from, to })
                }
            },
        };
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(QueryError::PageSize { value: page_size });
        }
        let search = self.search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(s) = &search {
            if s.chars().count() > MAX_SEARCH_LEN {
                return Err(QueryError::SearchTooLong { len: s.chars().count() });
            }
            // A NUL would cut the pattern short on SQLite; no control character belongs in a search.
            if s.chars().any(char::is_control) {
                return Err(QueryError::ControlCharacter { key: "search" });
            }
        }
        let gateways = bounded_names("gateway", &self.gateways, MAX_NAME_LEN)?;
        let users = bounded_names("user", &self.users, MAX_USER_LEN)?;
        let cursor = self.cursor.filter(|c| !c.trim().is_empty());
        if let Some(c) = &cursor {
            if c.len() > MAX_CURSOR_LEN {
                return Err(QueryError::InvalidCursor);
            }
        }
        Ok(SessionQuery {
            timeframe,
            statuses: parse_set(&bounded_list("status", &self.statuses)?)?,
            resource_types: parse_set(&bounded_list("resource-type", &self.resource_types)?)?,
            client_interfaces: parse_set(&bounded_list("client-interface", &self.client_interfaces)?)?,
            gateways: gateways.into_iter().collect(),
            users: users.into_iter().collect(),
            search,
            sort: self.sort.as_deref().map(str::parse).transpose()?.unwrap_or_default(),
            page_size,
            cursor,
        })
    }
}

/// The non-empty items of a list whose entries may be comma-separated.
fn split(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty())
}

/// The items of a list filter, at most [`MAX_LIST_LEN`] of them.
fn bounded_list(key: &'static str, values: &[String]) -> Result<Vec<String>, QueryError> {
    let items: Vec<String> = split(values).take(MAX_LIST_LEN + 1).map(str::to_owned).collect();
    if items.len() > MAX_LIST_LEN {
        return Err(QueryError::TooMany { key, limit: MAX_LIST_LEN });
    }
    Ok(items)
}

/// The items of a list of names: at most [`MAX_LIST_LEN`], each at most `limit` characters, without control characters.
fn bounded_names(key: &'static str, values: &[String], limit: usize) -> Result<Vec<String>, QueryError> {
    let names = bounded_list(key, values)?;
    for name in &names {
        if name.chars().count() > limit {
            return Err(QueryError::TooLong { key, len: name.chars().count(), limit });
        }
        if name.chars().any(char::is_control) {
            return Err(QueryError::ControlCharacter { key });
        }
    }
    Ok(names)
}

fn parse_set<T>(values: &[String]) -> Result<BTreeSet<T>, QueryError>
where
    T: FromStr<Err = ParseEnumError> + Ord,
{
    values.iter().map(|v| v.parse().map_err(QueryError::Value)).collect()
}

/// A query that cannot be run, with a message that names the value and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Value(#[from] ParseEnumError),
    #[error("unknown sort field {value:?}; allowed: {allowed}")]
    UnknownSortField { value: String, allowed: String },
    #[error("unknown sort direction {value:?}; allowed: asc, desc")]
    UnknownSortDirection { value: String },
    #[error("the timeframe starts after it ends (from {} > to {})", crate::format_rfc3339(*from), crate::format_rfc3339(*to))]
    WindowReversed { from: Millis, to: Millis },
    #[error("unknown timeframe {value:?}; allowed: 1h, 24h, 7d, 30d")]
    UnknownRange { value: String },
    #[error("give either a preset timeframe (range) or from/to, not both")]
    RangeAndWindow,
    #[error("page size {value} is out of range; allowed: 1 to {MAX_PAGE_SIZE}")]
    PageSize { value: u32 },
    #[error("search text is {len} characters long; allowed: up to {MAX_SEARCH_LEN}")]
    SearchTooLong { len: usize },
    #[error("invalid page cursor: it was not issued for this query, was altered, or is from another server")]
    InvalidCursor,
    #[error("invalid changes token: it was not issued for this view, was altered, or is from another server; list the view again for a new one")]
    InvalidChangesToken,
    #[error("{key}: more than {limit} values; allowed: up to {limit}")]
    TooMany { key: &'static str, limit: usize },
    #[error("{key}: a value is {len} characters long; allowed: up to {limit}")]
    TooLong { key: &'static str, len: usize, limit: usize },
    #[error("{key}: control characters are not allowed")]
    ControlCharacter { key: &'static str },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawSessionQuery {
        RawSessionQuery::default()
    }

    #[test]
    fn the_default_is_the_last_30_days_newest_first_50_a_page() {
        let q = raw().parse(100 * DAY_MS).unwrap();
        assert_eq!(q, SessionQuery::recent());
        assert_eq!(q.timeframe.at(100 * DAY_MS), TimeWindow { from: 70 * DAY_MS, to: 100 * DAY_MS });
        assert_eq!(q.sort, Sort { field: SortField::StartTime, direction: SortDirection::Desc });
    }

    #[test]
    fn lists_may_repeat_or_use_commas_and_duplicates_collapse() {
        let q = RawSessionQuery {
            statuses: vec!["connected, connecting".into(), "CONNECTED".into()],
            resource_types: vec!["ssh".into(), "".into()],
            gateways: vec!["gw-a,gw-b".into()],
            ..raw()
        }
        .parse(0)
        .unwrap();
        assert_eq!(q.statuses, [SessionStatus::Connecting, SessionStatus::Connected].into());
        assert_eq!(q.resource_types, [ResourceType::Ssh].into());
        assert_eq!(q.gateways, ["gw-a".to_owned(), "gw-b".to_owned()].into());
    }

    #[test]
    fn bad_values_are_named_with_what_is_allowed() {
        let err = RawSessionQuery { statuses: vec!["active".into()], ..raw() }.parse(0).unwrap_err();
        assert!(err.to_string().starts_with("unknown status \"active\"; allowed: connecting, connected"), "{err}");
        let err = RawSessionQuery { client_interfaces: vec!["web".into()], ..raw() }.parse(0).unwrap_err();
        assert!(err.to_string().contains("allowed: web_portal_cli, web_portal_web, cli, desktop_app"), "{err}");
        let err = RawSessionQuery { sort: Some("colour".into()), ..raw() }.parse(0).unwrap_err();
        assert!(err.to_string().starts_with("unknown sort field \"colour\"; allowed: start_time, duration"), "{err}");
        let err = RawSessionQuery { sort: Some("user:up".into()), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "unknown sort direction \"up\"; allowed: asc, desc");
        let err = RawSessionQuery { from: Some(10), to: Some(5), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err, QueryError::WindowReversed { from: 10, to: 5 });
        let err = RawSessionQuery { from: Some(10), ..raw() }.parse(0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the timeframe starts after it ends (from 1970-01-01T00:00:00.010Z > to 1970-01-01T00:00:00.000Z)"
        );
        for size in [0, 501] {
            let err = RawSessionQuery { page_size: Some(size), ..raw() }.parse(0).unwrap_err();
            assert_eq!(err.to_string(), format!("page size {size} is out of range; allowed: 1 to 500"));
        }
        let err = RawSessionQuery { search: Some("x".repeat(201)), ..raw() }.parse(0).unwrap_err();
        assert!(matches!(err, QueryError::SearchTooLong { len: 201 }));
    }

    #[test]
    fn lists_and_texts_are_bounded() {
        let many: Vec<String> = (0..=MAX_LIST_LEN).map(|i| format!("gw-{i}")).collect();
        let err = RawSessionQuery { gateways: vec![many.join(",")], ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "gateway: more than 100 values; allowed: up to 100");
        let err = RawSessionQuery { statuses: vec!["connected".into(); 101], ..raw() }.parse(0).unwrap_err();
        assert_eq!(err, QueryError::TooMany { key: "status", limit: 100 });
        let err = RawSessionQuery { search: Some("a\u{0}b".into()), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "search: control characters are not allowed");
        let err = RawSessionQuery { gateways: vec!["g".repeat(129)], ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "gateway: a value is 129 characters long; allowed: up to 128");
        let err = RawSessionQuery { users: vec!["u".repeat(257)], ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "user: a value is 257 characters long; allowed: up to 256");
        let err = RawSessionQuery { users: vec!["a\tb".into()], ..raw() }.parse(0).unwrap_err();
        assert_eq!(err, QueryError::ControlCharacter { key: "user" });
        let q = RawSessionQuery { users: vec!["alice, bob".into(), "alice".into()], ..raw() }.parse(0).unwrap();
        assert_eq!(q.users, ["alice".to_owned(), "bob".to_owned()].into());
        let err = RawSessionQuery { cursor: Some("c".repeat(MAX_CURSOR_LEN + 1)), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err, QueryError::InvalidCursor);
        let fine: Vec<String> = (0..MAX_LIST_LEN).map(|i| format!("gw-{i}")).collect();
        assert_eq!(RawSessionQuery { gateways: fine, ..raw() }.parse(0).unwrap().gateways.len(), MAX_LIST_LEN);
    }

    #[test]
    fn sort_directions_default_by_kind_of_column() {
        assert_eq!("duration".parse::<Sort>().unwrap().direction, SortDirection::Desc);
        assert_eq!("user".parse::<Sort>().unwrap().direction, SortDirection::Asc);
        assert_eq!("-user".parse::<Sort>().unwrap().direction, SortDirection::Desc);
        assert_eq!("gateway:desc".parse::<Sort>().unwrap().to_string(), "gateway:desc");
        for field in SortField::ALL {
            let sort = Sort { field: *field, direction: SortDirection::Asc };
            assert_eq!(sort.to_string().parse::<Sort>().unwrap(), sort);
        }
    }

    #[test]
    fn preset_ranges_end_at_the_listing_time() {
        let q = RawSessionQuery { range: Some("24h".into()), ..raw() }.parse(0).unwrap();
        assert_eq!(q.timeframe, Timeframe::Recent { span: DAY_MS });
        let err = RawSessionQuery { range: Some("2d".into()), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err.to_string(), "unknown timeframe \"2d\"; allowed: 1h, 24h, 7d, 30d");
        let err = RawSessionQuery { range: Some("1h".into()), from: Some(0), ..raw() }.parse(0).unwrap_err();
        assert_eq!(err, QueryError::RangeAndWindow);
    }

    #[test]
    fn open_ended_timeframes_end_at_the_listing_time() {
        let since = RawSessionQuery { from: Some(5 * DAY_MS), ..raw() }.parse(10 * DAY_MS).unwrap().timeframe;
        assert_eq!(since, Timeframe::Since(5 * DAY_MS));
        assert_eq!(since.at(12 * DAY_MS), TimeWindow { from: 5 * DAY_MS, to: 12 * DAY_MS });
        let until = RawSessionQuery { to: Some(40 * DAY_MS), ..raw() }.parse(0).unwrap().timeframe;
        assert_eq!(until, Timeframe::Fixed(TimeWindow { from: 10 * DAY_MS, to: 40 * DAY_MS }));
        assert_eq!(until.at(99 * DAY_MS), TimeWindow { from: 10 * DAY_MS, to: 40 * DAY_MS });
    }

    #[test]
    fn overlap_includes_long_running_sessions_and_touching_edges() {
        let w = TimeWindow { from: 100, to: 200 };
        assert!(w.overlaps(50, None), "still running since before the window");
        assert!(w.overlaps(50, Some(100)), "ended exactly at the start");
        assert!(w.overlaps(200, None), "started exactly at the end");
        assert!(!w.overlaps(50, Some(99)));
        assert!(!w.overlaps(201, None));
    }

    #[test]
    fn blank_search_and_cursor_mean_none() {
        let q = RawSessionQuery { search: Some("  ".into()), cursor: Some(" ".into()), ..raw() }.parse(0).unwrap();
        assert_eq!((q.search, q.cursor), (None, None));
    }
}
