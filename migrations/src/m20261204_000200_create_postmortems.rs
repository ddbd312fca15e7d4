//! The postmortem of a resolved incident: one per incident, a draft until
//! staff publish it, or marked "no postmortem". The public pages read it, so
//! it moves the page generation as the tables of
//! `m20261203_000030_page_generation` do.
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_core::{Incidents, Staff};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every change counts: a draft is not shown, but telling its saves apart
/// from a publish in SQL would be a second copy of the store's rule.
const EVENTS: &str = "INSERT OR UPDATE OR DELETE";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Postmortems::Table)
                    .col(integer(Postmortems::IncidentId).primary_key())
                    .col(text(Postmortems::Body))
                    .col(boolean(Postmortems::Ignored).default(false))
                    .col(timestamp_with_time_zone_null(Postmortems::PublishedAt))
                    // Set the first time subscribers are told, and never
                    // cleared: publishing again after a revert tells no one.
                    .col(timestamp_with_time_zone_null(Postmortems::NotifiedAt))
                    .col(integer(Postmortems::AuthorId))
                    .col(timestamp_with_time_zone(Postmortems::CreatedAt))
                    .col(timestamp_with_time_zone(Postmortems::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Postmortems::Table, Postmortems::IncidentId)
                            .to(Incidents::Table, Incidents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Postmortems::Table, Postmortems::AuthorId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                // The function `m20261203_000030_page_generation` made.
                db.execute_unprepared(&format!(
                    "CREATE CONSTRAINT TRIGGER statuspost_page_changed \
                     AFTER {EVENTS} ON postmortems DEFERRABLE INITIALLY DEFERRED \
                     FOR EACH ROW EXECUTE FUNCTION statuspost_page_changed()"
                ))
                .await?;
            }
            _ => {
                for event in EVENTS.split(" OR ") {
                    let name = event.to_lowercase();
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER statuspost_page_changed_postmortems_{name} \
                         AFTER {event} ON postmortems BEGIN \
                         UPDATE settings SET value = CAST(value AS INTEGER) + 1 \
                         WHERE key = 'page_generation'; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its triggers on both backends.
        manager
            .drop_table(Table::drop().table(Postmortems::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Postmortems {
    Table,
    IncidentId,
    Body,
    Ignored,
    PublishedAt,
    NotifiedAt,
    AuthorId,
    CreatedAt,
    UpdatedAt,
}
