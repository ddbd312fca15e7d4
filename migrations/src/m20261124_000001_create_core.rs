//! Staff, components, incidents and their append-only updates.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(string(Settings::Key).primary_key())
                    .col(text(Settings::Value))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(pk_auto(Staff::Id))
                    .col(string_uniq(Staff::Email))
                    .col(string(Staff::Name))
                    .col(string(Staff::PasswordHash))
                    .col(boolean(Staff::IsAdmin))
                    .col(boolean(Staff::Active))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::TokenHash).primary_key())
                    .col(integer(Sessions::StaffId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::StaffId)
                            .to(Staff::Table, Staff::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SignupTokens::Table)
                    .col(string(SignupTokens::TokenHash).primary_key())
                    .col(boolean(SignupTokens::IsAdmin))
                    .col(timestamp_with_time_zone(SignupTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SignupTokens::UsedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ComponentGroups::Table)
                    .col(pk_auto(ComponentGroups::Id))
                    .col(string_uniq(ComponentGroups::Name))
                    .col(integer(ComponentGroups::Position))
                    .col(timestamp_with_time_zone(ComponentGroups::CreatedAt))
                    .col(timestamp_with_time_zone(ComponentGroups::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Components::Table)
                    .col(pk_auto(Components::Id))
                    .col(string(Components::Name))
                    .col(text(Components::Description))
                    .col(integer_null(Components::GroupId))
                    .col(integer(Components::Position))
                    .col(string(Components::Status))
                    .col(timestamp_with_time_zone(Components::CreatedAt))
                    .col(timestamp_with_time_zone(Components::UpdatedAt))
                    // Deleting archives: past incidents keep naming the component.
                    .col(timestamp_with_time_zone_null(Components::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Components::Table, Components::GroupId)
                            .to(ComponentGroups::Table, ComponentGroups::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Incidents::Table)
                    .col(pk_auto(Incidents::Id))
                    .col(string(Incidents::Title))
                    .col(string(Incidents::Impact))
                    .col(string(Incidents::Status))
                    .col(timestamp_with_time_zone(Incidents::StartedAt))
                    .col(timestamp_with_time_zone_null(Incidents::MonitoringAt))
                    .col(timestamp_with_time_zone_null(Incidents::ResolvedAt))
                    .col(integer(Incidents::AuthorId))
                    .col(string_null(Incidents::SeedKey))
                    .col(timestamp_with_time_zone(Incidents::CreatedAt))
                    .col(timestamp_with_time_zone(Incidents::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Incidents::Table, Incidents::AuthorId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incidents_started_at")
                    .table(Incidents::Table)
                    .col(Incidents::StartedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incidents_seed_key")
                    .table(Incidents::Table)
                    .col(Incidents::SeedKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IncidentUpdates::Table)
                    .col(pk_auto(IncidentUpdates::Id))
                    .col(integer(IncidentUpdates::IncidentId))
                    .col(string(IncidentUpdates::Status))
                    .col(text(IncidentUpdates::Body))
                    .col(integer(IncidentUpdates::AuthorId))
                    .col(boolean(IncidentUpdates::Notify))
                    .col(timestamp_with_time_zone(IncidentUpdates::DisplayAt))
                    .col(timestamp_with_time_zone(IncidentUpdates::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IncidentUpdates::Table, IncidentUpdates::IncidentId)
                            .to(Incidents::Table, Incidents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(IncidentUpdates::Table, IncidentUpdates::AuthorId)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_incident_updates_incident")
                    .table(IncidentUpdates::Table)
                    .col(IncidentUpdates::IncidentId)
                    .to_owned(),
            )
            .await?;

        // Which components an update touched, and how: the incident's affected
        // components are the union over its updates.
        manager
            .create_table(
                Table::create()
                    .table(UpdateComponents::Table)
                    .col(integer(UpdateComponents::UpdateId))
                    .col(integer(UpdateComponents::ComponentId))
                    .col(string(UpdateComponents::OldStatus))
                    .col(string(UpdateComponents::NewStatus))
                    .primary_key(
                        Index::create()
                            .col(UpdateComponents::UpdateId)
                            .col(UpdateComponents::ComponentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UpdateComponents::Table, UpdateComponents::UpdateId)
                            .to(IncidentUpdates::Table, IncidentUpdates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UpdateComponents::Table, UpdateComponents::ComponentId)
                            .to(Components::Table, Components::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UpdateComponents::Table.into_table_ref(),
            IncidentUpdates::Table.into_table_ref(),
            Incidents::Table.into_table_ref(),
            Components::Table.into_table_ref(),
            ComponentGroups::Table.into_table_ref(),
            SignupTokens::Table.into_table_ref(),
            Sessions::Table.into_table_ref(),
            Staff::Table.into_table_ref(),
            Settings::Table.into_table_ref(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
pub enum Staff {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    IsAdmin,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    TokenHash,
    StaffId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignupTokens {
    Table,
    TokenHash,
    IsAdmin,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ComponentGroups {
    Table,
    Id,
    Name,
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Components {
    Table,
    Id,
    Name,
    Description,
    GroupId,
    Position,
    Status,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
pub enum Incidents {
    Table,
    Id,
    Title,
    Impact,
    Status,
    StartedAt,
    MonitoringAt,
    ResolvedAt,
    AuthorId,
    SeedKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum IncidentUpdates {
    Table,
    Id,
    IncidentId,
    Status,
    Body,
    AuthorId,
    Notify,
    DisplayAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UpdateComponents {
    Table,
    UpdateId,
    ComponentId,
    OldStatus,
    NewStatus,
}
