//! `SeaORM` Entity for `incident_templates` (migration m20261204_000210).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "incident_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub status: String,
    pub impact: String,
    #[sea_orm(column_type = "Text")]
    pub components: String,
    pub notify: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
