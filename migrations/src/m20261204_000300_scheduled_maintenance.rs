//! A scheduled maintenance is an incident with a window: the columns here are
//! null or false on every other incident. The components it will put under
//! maintenance are a JSON list of ids on the row rather than a table of their
//! own: they are read and written only with the row, and the row's page
//! triggers then cover them too.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let columns = [
            timestamp_with_time_zone_null(Incidents::ScheduledFor),
            timestamp_with_time_zone_null(Incidents::ScheduledUntil),
            integer_null(Incidents::ScheduledRemindMinutes),
            boolean(Incidents::ScheduledAutoInProgress)
                .default(false)
                .take(),
            boolean(Incidents::ScheduledAutoCompleted)
                .default(false)
                .take(),
            boolean(Incidents::ScheduledNotifyStart)
                .default(true)
                .take(),
            boolean(Incidents::ScheduledNotifyEnd).default(true).take(),
            text_null(Incidents::ScheduledComponents),
            timestamp_with_time_zone_null(Incidents::RemindedAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Incidents::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // A completed maintenance is over as a resolved incident is: the
        // partial index of open ones leaves both out.
        // One call, so one connection of the pool runs both: another may
        // still read the schema from before the drop.
        let db = manager.get_connection();
        db.execute_unprepared(
            "DROP INDEX idx_incidents_open; \
             CREATE INDEX idx_incidents_open ON incidents (started_at) \
             WHERE status NOT IN ('resolved', 'completed')",
        )
        .await?;
        // The worker's question every few seconds: which windows are due.
        manager
            .create_index(
                Index::create()
                    .name("idx_incidents_status_scheduled_for")
                    .table(Incidents::Table)
                    .col(Incidents::Status)
                    .col(Incidents::ScheduledFor)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "DROP INDEX idx_incidents_open; \
             CREATE INDEX idx_incidents_open ON incidents (started_at) WHERE status <> 'resolved'",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_incidents_status_scheduled_for")
                    .table(Incidents::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Incidents::RemindedAt,
            Incidents::ScheduledComponents,
            Incidents::ScheduledNotifyEnd,
            Incidents::ScheduledNotifyStart,
            Incidents::ScheduledAutoCompleted,
            Incidents::ScheduledAutoInProgress,
            Incidents::ScheduledRemindMinutes,
            Incidents::ScheduledUntil,
            Incidents::ScheduledFor,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Incidents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Status,
    ScheduledFor,
    ScheduledUntil,
    ScheduledRemindMinutes,
    ScheduledAutoInProgress,
    ScheduledAutoCompleted,
    ScheduledNotifyStart,
    ScheduledNotifyEnd,
    ScheduledComponents,
    RemindedAt,
}
