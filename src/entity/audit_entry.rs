//! One line of the audit log: who did what, when, to what, before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub at: DateTimeUtc,
    pub actor_kind: String,
    pub actor_id: Option<i32>,
    pub actor_name: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// JSON of the thing before the action; null when it did not exist.
    #[sea_orm(column_type = "Text", nullable)]
    pub before: Option<String>,
    /// JSON of the thing after the action; null when it is gone.
    #[sea_orm(column_type = "Text", nullable)]
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
