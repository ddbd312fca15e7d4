//! Indexes for the worker's claim, so that one claim reads about as many rows
//! as it takes, however many deliveries are waiting. Only pending deliveries
//! are indexed (sent and dead ones are most rows and never claimed again):
//! the due ones in claim order (`next_attempt_at, id`, so the `LIMIT` stops the
//! scan instead of a sort of every pending row), and each subscriber's pending
//! ones by event, which is what the in-order check looks for.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Same SQL on both backends; sea-query has no partial indexes.
        db.execute_unprepared(
            "CREATE INDEX idx_deliveries_claim ON deliveries (next_attempt_at, id) \
             WHERE status = 'pending'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_deliveries_pending_by_subscriber \
             ON deliveries (subscriber_id, event_id) WHERE status = 'pending'",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_deliveries_due")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX idx_deliveries_pending_by_subscriber")
            .await?;
        db.execute_unprepared("DROP INDEX idx_deliveries_claim")
            .await?;
        Ok(())
    }
}
