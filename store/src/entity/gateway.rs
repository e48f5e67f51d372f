use sea_orm::entity::prelude::*;

/// A gateway (SRA server) that carries sessions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateways")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The unique cluster name gateways report themselves by.
    #[sea_orm(unique)]
    pub name: String,
    pub display_name: String,
    pub created_at: i64,
    /// SHA-256 of the gateway's API key, once one was issued.
    pub credential_hash: Option<String>,
    /// When it last sent a heartbeat, if ever.
    pub last_heartbeat_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
