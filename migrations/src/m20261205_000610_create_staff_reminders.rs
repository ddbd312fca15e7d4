//! Reminders to staff that an open incident needs an update: its promised
//! next update is overdue, or it has been silent too long. A small outbox of
//! its own: the pair (update, kind) is unique, so however many workers look,
//! each silence is told once; sending is claimed under a lease as deliveries are.
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::Incidents;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffReminders::Table)
                    .col(pk_auto(StaffReminders::Id))
                    .col(integer(StaffReminders::IncidentId))
                    // The latest update when the reminder was due: a newer one answers it.
                    .col(integer(StaffReminders::UpdateId))
                    .col(string(StaffReminders::Kind))
                    .col(timestamp_with_time_zone(StaffReminders::DueAt))
                    .col(timestamp_with_time_zone(StaffReminders::CreatedAt))
                    .col(integer(StaffReminders::Attempts).default(0))
                    .col(timestamp_with_time_zone(StaffReminders::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(StaffReminders::LeaseUntil))
                    .col(timestamp_with_time_zone_null(StaffReminders::SentAt))
                    .col(text_null(StaffReminders::LastError))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffReminders::Table, StaffReminders::IncidentId)
                            .to(Incidents::Table, Incidents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_reminders_once")
                    .table(StaffReminders::Table)
                    .col(StaffReminders::UpdateId)
                    .col(StaffReminders::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_reminders_due")
                    .table(StaffReminders::Table)
                    .col(StaffReminders::SentAt)
                    .col(StaffReminders::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffReminders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum StaffReminders {
    Table,
    Id,
    IncidentId,
    UpdateId,
    Kind,
    DueAt,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    SentAt,
    LastError,
}
