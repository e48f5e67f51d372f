//! The vocabulary of SRA Sessions.
//!
//! Every layer — the store, the server functions, the HTTP API and the CLI — speaks in these types. Values arrive as
//! text at the edges (a gateway's JSON, a query string, a CLI flag, a database column) and are parsed here exactly
//! once; past the edge, an unknown status or resource type cannot exist. This crate is deliberately free of I/O and
//! heavy dependencies so that the WASM front end and the CLI can use it too.

mod admin;
mod console_url;
mod enums;
mod query;
mod session;
mod termination;
mod time;
mod update;
mod visibility;

pub use admin::{
    check_display_name, check_name, ApiKeyListing, DestinationListing, GatewayListing, NameError, RoleSpec,
    UserListing, MAX_ADMIN_NAME, MAX_DESTINATION_URL, MAX_DISPLAY_NAME, MAX_ROLE_GATEWAYS,
};
pub use console_url::{console_time, keys as url_keys, parse_tz, UrlParamError};
pub use enums::{
    ClientInterface, ConnectionType, Facet, ParseEnumError, ResourceType, SessionStatus, SraRule, Transition,
};
pub use query::{
    QueryError, RawSessionQuery, SessionQuery, Sort, SortDirection, SortField, TimeWindow, Timeframe,
    DEFAULT_PAGE_SIZE, DEFAULT_WINDOW_MS, MAX_CURSOR_LEN, MAX_LIST_LEN, MAX_NAME_LEN, MAX_PAGE_SIZE, MAX_SEARCH_LEN,
    MAX_USER_LEN, RANGES,
};
pub use session::{
    ChoiceCounts, GatewayInfo, SessionChanges, SessionSummary, SessionsPage, StatusCounts, ViewChanges, VisibleGateways,
};
pub use termination::{
    Block, BlockError, BlockFor, Blocked, ReasonError, Skip, Skipped, Terminated, TerminationReason, TerminationTarget,
    Terminations, MAX_BLOCK_MS, MAX_REASON_CHARS, MAX_TERMINATIONS, MIN_BLOCK_MS,
};
pub use time::{
    format_duration, format_rfc3339, parse_rfc3339, InvalidTime, Millis, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS,
};
pub use update::{Actor, NewSession, SessionChange, SessionUpdate};
pub use visibility::{Caller, Scope};
