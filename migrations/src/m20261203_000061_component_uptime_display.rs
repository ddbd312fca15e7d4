//! Staff choose per component whether the page shows its uptime bars, and
//! from which date its uptime counts (null: since it was added).
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::Components;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Components::Table)
                    .add_column(boolean(ComponentsUptime::ShowUptime).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Components::Table)
                    .add_column(date_null(ComponentsUptime::UptimeStart))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ComponentsUptime::UptimeStart, ComponentsUptime::ShowUptime] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Components::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ComponentsUptime {
    #[sea_orm(iden = "show_uptime")]
    ShowUptime,
    #[sea_orm(iden = "uptime_start")]
    UptimeStart,
}
