//! The audit log: every staff and API action, with who, when, what, and the
//! state before and after. Written after the action succeeds; an entry that
//! cannot be written is logged as an error, never turned into a failed action
//! (what the action changed is already committed). Entries are never updated
//! or deleted by the app, and name their actor and subject as they were, so
//! they still read after either is gone.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set,
};

use super::now;
use crate::entity::{api_token, audit_entry, staff};

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    Staff {
        id: i32,
        name: String,
    },
    /// A write API token, by its name.
    Token {
        id: i32,
        name: String,
    },
}

impl Actor {
    pub fn staff(s: &staff::Model) -> Self {
        Self::Staff {
            id: s.id,
            name: s.name.clone(),
        }
    }

    pub fn token(t: &api_token::Model) -> Self {
        Self::Token {
            id: t.id,
            name: t.name.clone(),
        }
    }

    fn parts(&self) -> (&'static str, i32, &str) {
        match self {
            Self::Staff { id, name } => ("staff", *id, name),
            Self::Token { id, name } => ("token", *id, name),
        }
    }
}

/// What an action was done to: its kind ("incident", "component", ...) and id.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    pub kind: &'static str,
    pub id: Option<i32>,
}

impl Subject {
    pub fn new(kind: &'static str, id: i32) -> Self {
        Self { kind, id: Some(id) }
    }
}

/// One action to record.
pub struct Entry<'a> {
    pub actor: &'a Actor,
    /// A stable name: `incident.create`, `update.correct`, `component.delete`, ...
    pub action: &'static str,
    pub subject: Subject,
    /// One line for people: "Posted an update (Monitoring)".
    pub summary: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Records `entry` now. Never fails the caller: see the module's note.
pub async fn record(db: &DatabaseConnection, entry: Entry<'_>) {
    record_at(db, entry, now()).await
}

/// Records `entry` as done at `at`: the demo replays the seed's day at its own times.
pub async fn record_at(db: &DatabaseConnection, entry: Entry<'_>, at: DateTime<Utc>) {
    let (kind, id, name) = entry.actor.parts();
    let row = audit_entry::ActiveModel {
        at: Set(at),
        actor_kind: Set(kind.to_owned()),
        actor_id: Set(Some(id)),
        actor_name: Set(name.to_owned()),
        action: Set(entry.action.to_owned()),
        subject_kind: Set(entry.subject.kind.to_owned()),
        subject_id: Set(entry.subject.id),
        summary: Set(entry.summary),
        before: Set(entry.before.map(|v| v.to_string())),
        after: Set(entry.after.map(|v| v.to_string())),
        ..Default::default()
    };
    if let Err(e) = row.insert(db).await {
        tracing::error!(error = %e, action = entry.action, "the audit log could not be written");
    }
}

/// One page of the log, newest first, and the number of pages.
pub async fn page(
    db: &DatabaseConnection,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_entry::Model>, u64), sea_orm::DbErr> {
    let total = audit_entry::Entity::find().count(db).await?;
    // By time, not id: the demo writes its entries at the seed's own times.
    let rows = audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::At)
        .order_by_desc(audit_entry::Column::Id)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total.div_ceil(per_page).max(1)))
}

/// Every entry, oldest first, for the export.
pub async fn all(db: &DatabaseConnection) -> Result<Vec<audit_entry::Model>, sea_orm::DbErr> {
    audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::At)
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
}
