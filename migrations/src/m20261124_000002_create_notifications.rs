//! Subscribers, the outbox (one event per published update, written in the
//! update's transaction) and the deliveries each event expands into.
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
                    // A component event's change, as it was: by the time the
                    // event is sent the component may have changed again.
                    .col(string_null(NotificationEvents::OldStatus))
                    .col(string_null(NotificationEvents::NewStatus))
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
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Subscribers::Table)
                    .col(pk_auto(Subscribers::Id))
                    .col(string(Subscribers::Kind))
                    .col(string(Subscribers::Email))
                    .col(string_null(Subscribers::WebhookUrl))
                    .col(string_null(Subscribers::Secret))
                    .col(string_uniq(Subscribers::UnsubscribeToken))
                    .col(string_null(Subscribers::ConfirmTokenHash))
                    .col(timestamp_with_time_zone_null(Subscribers::ConfirmExpiresAt))
                    .col(timestamp_with_time_zone_null(Subscribers::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(Subscribers::DisabledAt))
                    .col(string_null(Subscribers::DisabledReason))
                    .col(timestamp_with_time_zone_null(Subscribers::FailingSince))
                    .col(timestamp_with_time_zone(Subscribers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One subscription per address (email, compared without case) or per URL
        // (webhook): partial unique indexes, which SQLite and PostgreSQL both have,
        // so a resubscribe racing another can never make a second row.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_subscribers_email ON subscribers (lower(email)) WHERE kind = 'email'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_subscribers_webhook_url ON subscribers (webhook_url) WHERE kind = 'webhook'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SubscriberComponents::Table)
                    .col(integer(SubscriberComponents::SubscriberId))
                    .col(integer(SubscriberComponents::ComponentId))
                    .primary_key(
                        Index::create()
                            .col(SubscriberComponents::SubscriberId)
                            .col(SubscriberComponents::ComponentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SubscriberComponents::Table,
                                SubscriberComponents::SubscriberId,
                            )
                            .to(Subscribers::Table, Subscribers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(pk_auto(Deliveries::Id))
                    .col(integer(Deliveries::EventId))
                    .col(integer(Deliveries::SubscriberId))
                    .col(string(Deliveries::Status))
                    .col(integer(Deliveries::Attempts))
                    .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Deliveries::LeaseUntil))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone_null(Deliveries::SentAt))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::EventId)
                            .to(NotificationEvents::Table, NotificationEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::SubscriberId)
                            .to(Subscribers::Table, Subscribers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Expanding an event twice (after a crash) must not send twice.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_event_subscriber")
                    .table(Deliveries::Table)
                    .col(Deliveries::EventId)
                    .col(Deliveries::SubscriberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_due")
                    .table(Deliveries::Table)
                    .col(Deliveries::Status)
                    .col(Deliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        // A claim looks for an earlier pending delivery to the same subscriber.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_subscriber_status")
                    .table(Deliveries::Table)
                    .col(Deliveries::SubscriberId)
                    .col(Deliveries::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Deliveries::Table.into_table_ref(),
            SubscriberComponents::Table.into_table_ref(),
            Subscribers::Table.into_table_ref(),
            NotificationEvents::Table.into_table_ref(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
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
    OldStatus,
    NewStatus,
    CreatedAt,
    ExpandedAt,
}

#[derive(DeriveIden)]
enum Subscribers {
    Table,
    Id,
    /// "email" or "webhook"
    Kind,
    /// The address mailed, or for a webhook the contact told of failures.
    Email,
    WebhookUrl,
    /// A webhook's signing secret, "whsec_..."
    Secret,
    UnsubscribeToken,
    ConfirmTokenHash,
    ConfirmExpiresAt,
    ConfirmedAt,
    DisabledAt,
    DisabledReason,
    FailingSince,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubscriberComponents {
    Table,
    SubscriberId,
    ComponentId,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    EventId,
    SubscriberId,
    /// pending, sent, dead
    Status,
    Attempts,
    NextAttemptAt,
    /// A worker's claim; another may take the delivery once it has passed.
    LeaseUntil,
    LastError,
    SentAt,
    CreatedAt,
}
