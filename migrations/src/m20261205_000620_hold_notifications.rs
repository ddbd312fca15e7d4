//! Safe sending: an update's notifications wait out a short delay (worked out
//! from `created_at` by the worker) in which staff may edit the update or hold
//! them. A held event is set aside for good: `held_at` says why it made no
//! deliveries, and it is marked expanded so that nothing waits behind it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationEvents {
    Table,
    HeldAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationEvents::Table)
                    .add_column(timestamp_with_time_zone_null(NotificationEvents::HeldAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationEvents::Table)
                    .drop_column(NotificationEvents::HeldAt)
                    .to_owned(),
            )
            .await
    }
}
