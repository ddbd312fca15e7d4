//! Corrections: staff may correct a published update's text. The page shows
//! the corrected text with the time it was corrected, and keeps every earlier
//! text in `revisions` (JSON on the update's row: read and written only with
//! it, so the row's page triggers and the backup cover it as they are).
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::IncidentUpdates;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    CorrectedAt,
    Revisions,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        for mut column in [
            timestamp_with_time_zone_null(Added::CorrectedAt),
            text_null(Added::Revisions),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(IncidentUpdates::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Added::CorrectedAt, Added::Revisions] {
            manager
                .alter_table(
                    Table::alter()
                        .table(IncidentUpdates::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
