//! Unsubscribing marks the subscriber instead of deleting it, so the
//! deliveries already made to it stay counted on each incident's admin page.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Subscribers::Table)
                    .add_column(timestamp_with_time_zone_null(Subscribers::UnsubscribedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Subscribers::Table)
                    .drop_column(Subscribers::UnsubscribedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    UnsubscribedAt,
}
