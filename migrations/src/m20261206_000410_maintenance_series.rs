//! Recurring maintenance: a series (an RRULE in a zone, and the first window
//! that gives each occurrence its wall-clock times) whose occurrences are
//! ordinary maintenances, made ahead of time by the worker. Each occurrence
//! names its series and the start the rule gave it; the unique index on the
//! pair is what makes two workers create each occurrence once, and keeps an
//! occurrence edited or cancelled since from coming back. Only the worker,
//! the admin and the write API read the series table: no page generation
//! trigger (the occurrences it makes are incidents, which have theirs).
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::Staff;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MaintenanceSeries::Table)
                    .col(pk_auto(MaintenanceSeries::Id))
                    .col(string(MaintenanceSeries::Title))
                    .col(string(MaintenanceSeries::Impact))
                    .col(text(MaintenanceSeries::Message))
                    .col(string(MaintenanceSeries::Rule))
                    .col(string(MaintenanceSeries::Zone))
                    .col(timestamp_with_time_zone(MaintenanceSeries::FirstFrom))
                    .col(timestamp_with_time_zone(MaintenanceSeries::FirstUntil))
                    .col(text(MaintenanceSeries::Components))
                    .col(integer_null(MaintenanceSeries::RemindMinutes))
                    .col(boolean(MaintenanceSeries::AutoInProgress))
                    .col(boolean(MaintenanceSeries::AutoCompleted))
                    .col(boolean(MaintenanceSeries::NotifyStart))
                    .col(boolean(MaintenanceSeries::NotifyEnd))
                    .col(integer(MaintenanceSeries::AuthorId))
                    .col(timestamp_with_time_zone(MaintenanceSeries::CreatedAt))
                    // Set when staff stop it: no occurrence is made after.
                    .col(timestamp_with_time_zone_null(MaintenanceSeries::StoppedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MaintenanceSeries::Table, MaintenanceSeries::AuthorId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One column a statement: SQLite alters a table one column at a time.
        // No foreign key on the series id: SQLite cannot add one to a table
        // that exists; the store writes it only with a series it just read.
        for mut column in [
            integer_null(Incidents::SeriesId),
            timestamp_with_time_zone_null(Incidents::SeriesStart),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Incidents::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_incidents_series_occurrence")
                    .table(Incidents::Table)
                    .col(Incidents::SeriesId)
                    .col(Incidents::SeriesStart)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_incidents_series_occurrence")
                    .table(Incidents::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Incidents::SeriesStart, Incidents::SeriesId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Incidents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(MaintenanceSeries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MaintenanceSeries {
    Table,
    Id,
    Title,
    Impact,
    Message,
    Rule,
    Zone,
    FirstFrom,
    FirstUntil,
    Components,
    RemindMinutes,
    AutoInProgress,
    AutoCompleted,
    NotifyStart,
    NotifyEnd,
    AuthorId,
    CreatedAt,
    StoppedAt,
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    SeriesId,
    SeriesStart,
}
