pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_core;
mod m20261124_000002_create_notifications;
mod m20261124_000003_create_api_tokens;
mod m20261202_000010_create_worker_heartbeats;
mod m20261203_000030_page_generation;
mod m20261203_000031_incident_listing_indexes;
mod m20261203_000032_delivery_claim_indexes;
mod m20261203_000050_subscriber_unsubscribed_at;
mod m20261203_000060_component_status_changes;
mod m20261203_000061_component_uptime_display;
mod m20261204_000200_create_postmortems;
mod m20261204_000210_create_incident_templates;
mod m20261204_000300_scheduled_maintenance;
mod m20261205_000600_promises_integrity_milestones;
mod m20261205_000610_create_staff_reminders;
mod m20261205_000620_hold_notifications;
mod m20261205_000630_update_corrections;
mod m20261205_000640_create_audit_log;
mod m20261206_000400_maintenance_edits;
mod m20261206_000410_maintenance_series;
mod m20261206_000550_create_journal_replays;
mod m20261206_000600_create_backup_schedule;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_core::Migration),
            Box::new(m20261124_000002_create_notifications::Migration),
            Box::new(m20261124_000003_create_api_tokens::Migration),
            Box::new(m20261202_000010_create_worker_heartbeats::Migration),
            Box::new(m20261203_000030_page_generation::Migration),
            Box::new(m20261203_000031_incident_listing_indexes::Migration),
            Box::new(m20261203_000032_delivery_claim_indexes::Migration),
            Box::new(m20261203_000050_subscriber_unsubscribed_at::Migration),
            Box::new(m20261203_000060_component_status_changes::Migration),
            Box::new(m20261203_000061_component_uptime_display::Migration),
            Box::new(m20261204_000200_create_postmortems::Migration),
            Box::new(m20261204_000210_create_incident_templates::Migration),
            Box::new(m20261204_000300_scheduled_maintenance::Migration),
            Box::new(m20261205_000600_promises_integrity_milestones::Migration),
            Box::new(m20261205_000610_create_staff_reminders::Migration),
            Box::new(m20261205_000620_hold_notifications::Migration),
            Box::new(m20261205_000630_update_corrections::Migration),
            Box::new(m20261205_000640_create_audit_log::Migration),
            Box::new(m20261206_000400_maintenance_edits::Migration),
            Box::new(m20261206_000410_maintenance_series::Migration),
            Box::new(m20261206_000550_create_journal_replays::Migration),
            Box::new(m20261206_000600_create_backup_schedule::Migration),
        ]
    }
}
