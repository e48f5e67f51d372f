use sea_orm::entity::prelude::*;

/// Failed sign-ins counted for one account-and-address pair (`pair:ACCOUNT\nADDRESS`) or one address
/// (`address:ADDRESS`) in the current window (see `crate::sign_in`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub account: Option<String>,
    pub address: String,
    pub window_start: i64,
    /// Attempts counted in this window: each is counted before its secret is checked, and a success takes its own
    /// back.
    pub failures: i64,
    pub last_failure_at: i64,
    /// Attempts refused while blocked, reported in one audit entry when the window closes.
    pub refused: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
