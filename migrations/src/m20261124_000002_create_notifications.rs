//! The outbox: one event per published update, written in the update's transaction.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationEvents::Table)
                    .col(pk_auto(NotificationEvents::Id))
                    .col(string(NotificationEvents::Kind))
                    .col(integer_null(NotificationEvents::IncidentId))
                    .col(integer_null(NotificationEvents::UpdateId))
                    .col(integer_null(NotificationEvents::ComponentId))
                    .col(timestamp_with_time_zone(NotificationEvents::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        NotificationEvents::ExpandedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_events_pending")
                    .table(NotificationEvents::Table)
                    .col(NotificationEvents::ExpandedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NotificationEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationEvents {
    Table,
    Id,
    Kind,
    IncidentId,
    UpdateId,
    ComponentId,
    CreatedAt,
    ExpandedAt,
}
