//! Which scheduled backup slot was last taken, and by whom: instances sharing
//! a database move it forward with one conditional update, so each slot's
//! backup is taken by one of them.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackupSchedule::Table)
                    .col(string(BackupSchedule::Name).primary_key())
                    .col(timestamp_with_time_zone(BackupSchedule::Slot))
                    .col(string(BackupSchedule::TakenBy))
                    .col(timestamp_with_time_zone(BackupSchedule::TakenAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BackupSchedule::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BackupSchedule {
    Table,
    Name,
    Slot,
    TakenBy,
    TakenAt,
}
