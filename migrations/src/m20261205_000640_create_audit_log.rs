//! The audit log: who did what, when, to what, with the state before and
//! after. No foreign keys: an entry outlives what it describes, so the
//! account, incident or token may be deleted and the record still reads.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    // `staff`, `token` or `system`.
                    .col(string(AuditLog::ActorKind))
                    .col(integer_null(AuditLog::ActorId))
                    // The name as it was then: the account may be renamed or gone.
                    .col(string(AuditLog::ActorName))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::SubjectKind))
                    .col(integer_null(AuditLog::SubjectId))
                    .col(text(AuditLog::Summary))
                    .col(text_null(AuditLog::Before))
                    .col(text_null(AuditLog::After))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorKind,
    ActorId,
    ActorName,
    Action,
    SubjectKind,
    SubjectId,
    Summary,
    Before,
    After,
}
