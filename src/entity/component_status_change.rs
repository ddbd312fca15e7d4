//! One change of a component's status, inside an incident update or not: the
//! record uptime is counted from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "component_status_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub component_id: i32,
    /// From when the new status holds.
    pub at: DateTimeUtc,
    pub old_status: String,
    pub new_status: String,
    /// The incident and update that made the change; none for a change made
    /// on the component itself.
    pub incident_id: Option<i32>,
    pub update_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
