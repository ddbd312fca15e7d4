//! How many times a maintenance's plan was edited after it was scheduled.
//! The calendar's SEQUENCE must grow with every change a subscribed calendar
//! should pick up, and an edit posts no update to count. The incidents table
//! already moves the page generation, so no trigger is needed here.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Incidents::Table)
                    .add_column(integer(Incidents::ScheduledEdits).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Incidents::Table)
                    .drop_column(Incidents::ScheduledEdits)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    ScheduledEdits,
}
