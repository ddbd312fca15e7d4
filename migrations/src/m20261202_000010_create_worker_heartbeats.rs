//! Each running delivery worker says it is alive, so that `/ready` and
//! `/metrics` can tell a page whose notifications are going out from one whose
//! worker has stopped, whichever process the worker runs in.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkerHeartbeats::Table)
                    .col(string(WorkerHeartbeats::Id).primary_key())
                    .col(string(WorkerHeartbeats::Host))
                    .col(integer(WorkerHeartbeats::Pid))
                    .col(timestamp_with_time_zone(WorkerHeartbeats::StartedAt))
                    .col(timestamp_with_time_zone(WorkerHeartbeats::BeatAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorkerHeartbeats::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WorkerHeartbeats {
    Table,
    Id,
    Host,
    Pid,
    StartedAt,
    BeatAt,
}
