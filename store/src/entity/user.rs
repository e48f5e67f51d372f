use sea_orm::entity::prelude::*;

/// A console user. Sessions name their user by `login` (the gateway's user identifier).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub login: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    /// When they last signed in (console or API key), if ever.
    pub last_sign_in_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
