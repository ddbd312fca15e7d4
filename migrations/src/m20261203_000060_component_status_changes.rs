//! Every change of a component's status, with the time it took effect: the
//! record the uptime bars and `uptime.json` count from. Changes made inside an
//! incident update were only in `update_components` (timed by their update);
//! changes made on a component itself were kept only when they notified
//! (`notification_events`). Both are copied in, so existing pages have their
//! past; a change that notified no one before this migration is lost.
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::{Components, IncidentUpdates, Incidents};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ComponentStatusChanges::Table)
                    .col(pk_auto(ComponentStatusChanges::Id))
                    .col(integer(ComponentStatusChanges::ComponentId))
                    .col(timestamp_with_time_zone(ComponentStatusChanges::At))
                    .col(string(ComponentStatusChanges::OldStatus))
                    .col(string(ComponentStatusChanges::NewStatus))
                    .col(integer_null(ComponentStatusChanges::IncidentId))
                    .col(integer_null(ComponentStatusChanges::UpdateId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ComponentStatusChanges::Table,
                                ComponentStatusChanges::ComponentId,
                            )
                            .to(Components::Table, Components::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ComponentStatusChanges::Table,
                                ComponentStatusChanges::IncidentId,
                            )
                            .to(Incidents::Table, Incidents::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ComponentStatusChanges::Table,
                                ComponentStatusChanges::UpdateId,
                            )
                            .to(IncidentUpdates::Table, IncidentUpdates::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // A component's changes in time order, read a range at a time.
        manager
            .create_index(
                Index::create()
                    .name("idx_component_status_changes_at")
                    .table(ComponentStatusChanges::Table)
                    .col(ComponentStatusChanges::ComponentId)
                    .col(ComponentStatusChanges::At)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO component_status_changes \
               (component_id, at, old_status, new_status, incident_id, update_id) \
             SELECT uc.component_id, u.display_at, uc.old_status, uc.new_status, u.incident_id, u.id \
             FROM update_components uc JOIN incident_updates u ON u.id = uc.update_id \
             WHERE uc.old_status <> uc.new_status",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO component_status_changes (component_id, at, old_status, new_status) \
             SELECT e.component_id, e.created_at, e.old_status, e.new_status \
             FROM notification_events e JOIN components c ON c.id = e.component_id \
             WHERE e.kind = 'component_update' AND e.old_status IS NOT NULL \
               AND e.new_status IS NOT NULL AND e.old_status <> e.new_status",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ComponentStatusChanges::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ComponentStatusChanges {
    Table,
    Id,
    ComponentId,
    At,
    OldStatus,
    NewStatus,
    IncidentId,
    UpdateId,
}
