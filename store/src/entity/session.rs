use sea_orm::entity::prelude::*;

/// An SRA session. Times are epoch milliseconds; enum columns hold wire names.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub session_id: String,
    pub user_identifier: String,
    pub access_id: Option<String>,
    pub client_interface: String,
    pub gateway_id: i64,
    pub resource_type: String,
    pub secret_name: String,
    pub target_name: String,
    pub target_host: String,
    pub status: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub error_message: Option<String>,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
    pub terminate_requested_at: Option<i64>,
    pub terminate_requested_by: Option<String>,
    pub termination_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::gateway::Entity", from = "Column::GatewayId", to = "super::gateway::Column::Id")]
    Gateway,
}

impl Related<super::gateway::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Gateway.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
