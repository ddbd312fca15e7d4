//! A generation that every write to what the public pages show moves on, in
//! the write's own transaction, whichever process or tool makes it; on
//! PostgreSQL the commit also notifies `statuspost_pages`. Each `serve`
//! process drops its cached pages when it hears of or reads a new generation.
//!
//! On PostgreSQL the bump runs as a deferred constraint trigger, at commit
//! and once per transaction: the generation row is then the last lock a
//! write takes, so two writes cannot deadlock over it and a row lock on it is
//! held only for the commit.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables the public pages, feeds, badge and read API are made from, and
/// which of their changes count (staff show by name only).
const WATCHED: [(&str, &str); 6] = [
    ("incidents", "INSERT OR UPDATE OR DELETE"),
    ("incident_updates", "INSERT OR UPDATE OR DELETE"),
    ("update_components", "INSERT OR UPDATE OR DELETE"),
    ("components", "INSERT OR UPDATE OR DELETE"),
    ("component_groups", "INSERT OR UPDATE OR DELETE"),
    ("staff", "UPDATE OF name OR DELETE"),
];

const PG_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION statuspost_page_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    generation bigint;
BEGIN
    IF current_setting('statuspost.page_changed', true) = txid_current()::text THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('statuspost.page_changed', txid_current()::text, true);
    UPDATE settings SET value = (value::bigint + 1)::text WHERE key = 'page_generation'
        RETURNING value::bigint INTO generation;
    PERFORM pg_notify('statuspost_pages', generation::text);
    RETURN NULL;
END
$$"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO settings (key, value) VALUES ('page_generation', '0') \
             ON CONFLICT (key) DO NOTHING",
        )
        .await?;
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(PG_FUNCTION).await?;
                for (table, events) in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE CONSTRAINT TRIGGER statuspost_page_changed \
                         AFTER {events} ON {table} DEFERRABLE INITIALLY DEFERRED \
                         FOR EACH ROW EXECUTE FUNCTION statuspost_page_changed()"
                    ))
                    .await?;
                }
            }
            _ => {
                for (table, events) in WATCHED {
                    for event in events.split(" OR ") {
                        let name = event.split(' ').next().unwrap_or(event).to_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER statuspost_page_changed_{table}_{name} \
                             AFTER {event} ON {table} BEGIN \
                             UPDATE settings SET value = CAST(value AS INTEGER) + 1 \
                             WHERE key = 'page_generation'; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                for (table, _) in WATCHED {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS statuspost_page_changed ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS statuspost_page_changed()")
                    .await?;
            }
            _ => {
                for (table, events) in WATCHED {
                    for event in events.split(" OR ") {
                        let name = event.split(' ').next().unwrap_or(event).to_lowercase();
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS statuspost_page_changed_{table}_{name}"
                        ))
                        .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DELETE FROM settings WHERE key = 'page_generation'")
            .await?;
        Ok(())
    }
}
