//! SeaORM entities, one module a table. Enum columns are plain strings here; `crate::rows` turns them into domain
//! types, so a row that does not parse is reported as corrupt rather than silently shown.

pub mod api_key;
pub mod api_token;
pub mod audit_entry;
pub mod console_session;
pub mod gateway;
pub mod gateway_update;
pub mod role;
pub mod role_gateway;
pub mod session;
pub mod setting;
pub mod sign_in_throttle;
pub mod user;
pub mod user_role;
