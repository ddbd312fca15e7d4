//! Templates staff start an incident or an update from. Only the admin and
//! the write API read them, so no page generation trigger.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IncidentTemplates::Table)
                    .col(pk_auto(IncidentTemplates::Id))
                    .col(string_uniq(IncidentTemplates::Name))
                    .col(string(IncidentTemplates::Title))
                    .col(text(IncidentTemplates::Message))
                    .col(string(IncidentTemplates::Status))
                    .col(string(IncidentTemplates::Impact))
                    // `{"<component id>": "<status>"}`: read back through
                    // `store::templates` into a `domain::ComponentPlan`.
                    .col(text(IncidentTemplates::Components))
                    .col(boolean(IncidentTemplates::Notify))
                    .col(timestamp_with_time_zone(IncidentTemplates::CreatedAt))
                    .col(timestamp_with_time_zone(IncidentTemplates::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IncidentTemplates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum IncidentTemplates {
    Table,
    Id,
    Name,
    Title,
    Message,
    Status,
    Impact,
    Components,
    Notify,
    CreatedAt,
    UpdatedAt,
}
