//! Which entries of the offline journal are in the database, and as what:
//! a replay skips them, so replaying twice writes once, and an update to an
//! incident that was opened offline finds the incident it became.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JournalReplays::Table)
                    .col(string(JournalReplays::EntryId).primary_key())
                    // No foreign keys: the record outlives a deleted incident,
                    // so a later replay still knows the entry was written.
                    .col(integer(JournalReplays::IncidentId))
                    .col(integer(JournalReplays::UpdateId))
                    .col(timestamp_with_time_zone(JournalReplays::ReplayedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JournalReplays::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum JournalReplays {
    Table,
    EntryId,
    IncidentId,
    UpdateId,
    ReplayedAt,
}
