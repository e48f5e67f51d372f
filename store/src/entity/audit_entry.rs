use sea_orm::entity::prelude::*;

/// One append-only audit entry. `details` is a JSON object (for session changes: `{"from": …, "to": …}`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub session_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub details: String,
    /// The hash chaining this entry to the one before (see `crate::audit`).
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
