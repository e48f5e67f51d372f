use sea_orm::entity::prelude::*;

/// An update ID a gateway has had acknowledged, with its outcome (retries are recognised by it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_updates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub gateway_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub update_id: String,
    pub session_id: String,
    pub outcome: String,
    pub received_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
