//! What the seed's kind of day needs on the page: the time an update promises
//! the next one by; a data-integrity incident's window, restore point, loss
//! and what readers must do; and a long recovery's milestones. The lists
//! (actions, milestones) are JSON on the incident's row: they are read and
//! written only with it, so the row's page triggers cover them too.
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::{IncidentUpdates, Incidents};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    NextUpdateBy,
    DataFrom,
    DataUntil,
    DataRestoredTo,
    DataLoss,
    ReaderActions,
    Milestones,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentUpdates::Table)
                    .add_column(timestamp_with_time_zone_null(Added::NextUpdateBy))
                    .to_owned(),
            )
            .await?;
        // One column a statement: SQLite alters a table one column at a time.
        let columns = [
            timestamp_with_time_zone_null(Added::DataFrom),
            timestamp_with_time_zone_null(Added::DataUntil),
            timestamp_with_time_zone_null(Added::DataRestoredTo),
            string_null(Added::DataLoss),
            text_null(Added::ReaderActions),
            text_null(Added::Milestones),
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentUpdates::Table)
                    .drop_column(Added::NextUpdateBy)
                    .to_owned(),
            )
            .await?;
        for column in [
            Added::DataFrom,
            Added::DataUntil,
            Added::DataRestoredTo,
            Added::DataLoss,
            Added::ReaderActions,
            Added::Milestones,
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
