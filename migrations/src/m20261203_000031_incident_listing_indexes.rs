//! Indexes for the public pages' queries, so that their cost does not grow
//! with the history: the open incidents (a partial index, a handful of rows
//! however many are resolved) and the newest-first listing with its tie-break
//! (`started_at, id`), which also answers a history page's ids by itself.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Same SQL on both backends; sea-query has no partial indexes.
        db.execute_unprepared(
            "CREATE INDEX idx_incidents_open ON incidents (started_at) \
             WHERE status <> 'resolved'",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX idx_incidents_listing ON incidents (started_at, id)")
            .await?;
        // The listing index starts with the same column.
        db.execute_unprepared("DROP INDEX idx_incidents_started_at")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX idx_incidents_started_at ON incidents (started_at)")
            .await?;
        db.execute_unprepared("DROP INDEX idx_incidents_listing")
            .await?;
        db.execute_unprepared("DROP INDEX idx_incidents_open")
            .await?;
        Ok(())
    }
}
