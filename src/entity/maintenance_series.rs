//! `SeaORM` Entity for `maintenance_series` (migration m20261206_000410).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "maintenance_series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    pub impact: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// An RRULE without DTSTART, e.g. `FREQ=WEEKLY;BYDAY=SU`.
    pub rule: String,
    /// The IANA zone whose wall clock the rule and the window follow.
    pub zone: String,
    /// The first window: its local times are every occurrence's.
    pub first_from: DateTimeUtc,
    pub first_until: DateTimeUtc,
    /// JSON list of the component ids each occurrence puts under maintenance.
    #[sea_orm(column_type = "Text")]
    pub components: String,
    pub remind_minutes: Option<i32>,
    pub auto_in_progress: bool,
    pub auto_completed: bool,
    pub notify_start: bool,
    pub notify_end: bool,
    pub author_id: i32,
    pub created_at: DateTimeUtc,
    /// When staff stopped it; no occurrence is made after.
    pub stopped_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
