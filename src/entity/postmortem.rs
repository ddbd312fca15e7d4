//! `SeaORM` Entity for `postmortems` (migration m20261204_000200).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "postmortems")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub incident_id: i32,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub ignored: bool,
    pub published_at: Option<DateTimeUtc>,
    pub notified_at: Option<DateTimeUtc>,
    pub author_id: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
