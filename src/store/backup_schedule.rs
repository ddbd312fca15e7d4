//! Who takes each scheduled backup: the slot last taken is one row, moved
//! forward by a conditional update. Of several instances on one database,
//! the one whose update changes the row takes the slot's backup; the others
//! see it changed nothing and wait for the next slot.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::entity::backup_schedule::{ActiveModel, Column, Entity};

/// The row of `serve`'s backup schedule.
pub const SCHEDULED: &str = "scheduled";

/// The row of the points between backups (`restore --at`).
pub const POINTS: &str = "points";

/// Takes `slot` for `me` when no one has taken it (or a later one) yet.
pub async fn claim(
    db: &DatabaseConnection,
    name: &str,
    slot: DateTime<Utc>,
    me: &str,
) -> Result<bool, DbErr> {
    let never = DateTime::<Utc>::UNIX_EPOCH;
    Entity::insert(ActiveModel {
        name: Set(name.to_owned()),
        slot: Set(never),
        taken_by: Set(String::new()),
        taken_at: Set(never),
    })
    .on_conflict(OnConflict::column(Column::Name).do_nothing().to_owned())
    .do_nothing()
    .exec(db)
    .await?;
    let taken = Entity::update_many()
        .col_expr(Column::Slot, slot.into())
        .col_expr(Column::TakenBy, me.into())
        .col_expr(Column::TakenAt, super::now().into())
        .filter(Column::Name.eq(name))
        .filter(Column::Slot.lt(slot))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}
