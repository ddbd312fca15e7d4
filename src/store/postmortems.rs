//! Postmortems: one per incident, written once it is resolved. Every change is
//! one transaction that, on a first notifying publish, also writes the outbox
//! event, so subscribers are told once and only once.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{now, StoreError};
use crate::domain::{postmortem_notifies, PostmortemAction, PostmortemBody, PostmortemState};
use crate::entity::postmortem;

/// A postmortem as the pages and APIs read it.
#[derive(Debug, Clone)]
pub struct Postmortem {
    pub model: postmortem::Model,
    pub state: PostmortemState,
    /// Who last wrote it; filled in by the incident views.
    pub author_name: String,
}

impl Postmortem {
    pub fn from_row(model: postmortem::Model) -> Self {
        let state = PostmortemState::of(model.published_at.is_some(), model.ignored);
        Self {
            model,
            state,
            author_name: String::new(),
        }
    }

    /// The postmortem as readers may see it: published, else nothing.
    pub fn published(&self) -> Option<&Self> {
        self.state.is_published().then_some(self)
    }

    /// When subscribers were told of it, if they were.
    pub fn notified_at(&self) -> Option<DateTime<Utc>> {
        self.model.notified_at
    }
}

/// What staff submitted.
pub struct Change {
    pub action: PostmortemAction,
    /// The text as it will be kept; `None` only when marking "no postmortem"
    /// with nothing written.
    pub body: Option<PostmortemBody>,
    /// "Notify subscribers" was ticked (it counts only on a first publish).
    pub notify: bool,
    pub author_id: i32,
}

/// What a change came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub state: PostmortemState,
    /// Whether subscribers are being told now.
    pub notified: bool,
    /// The postmortem was published before the change.
    pub was_published: bool,
}

pub async fn find(
    db: &impl ConnectionTrait,
    incident_id: i32,
) -> Result<Option<Postmortem>, sea_orm::DbErr> {
    Ok(postmortem::Entity::find_by_id(incident_id)
        .one(db)
        .await?
        .map(Postmortem::from_row))
}

/// The postmortems of these incidents, for the store's incident views.
pub async fn of_incidents(
    db: &impl ConnectionTrait,
    ids: Vec<i32>,
) -> Result<Vec<Postmortem>, sea_orm::DbErr> {
    use sea_orm::ColumnTrait;
    Ok(postmortem::Entity::find()
        .filter(postmortem::Column::IncidentId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(Postmortem::from_row)
        .collect())
}

/// Applies `change` to incident `incident_id`'s postmortem. Only a resolved
/// incident gets one written, published or waived; taking one off the page
/// is always allowed.
pub async fn apply(
    db: &sea_orm::DatabaseConnection,
    incident_id: i32,
    change: Change,
) -> Result<Applied, StoreError> {
    let txn = super::begin_write(db).await?;
    let incident = super::incidents::lock_incident(&txn, incident_id).await?;
    let current = find(&txn, incident_id).await?;
    let from = current.as_ref().map_or(PostmortemState::None, |p| p.state);
    if change.action != PostmortemAction::Revert && incident.resolved_at.is_none() {
        return Err(StoreError::Conflict {
            field: "postmortem",
            message: "A postmortem is written once the incident is resolved.".into(),
        });
    }
    let state = change
        .action
        .after(from)
        .map_err(|e| StoreError::Conflict {
            field: "postmortem",
            message: e.0,
        })?;
    let told_before = current.as_ref().and_then(Postmortem::notified_at).is_some();
    let notified = postmortem_notifies(change.action, from, change.notify, told_before);
    let at = now();
    let body = match (&change.body, &current) {
        (Some(b), _) => b.as_str().to_owned(),
        (None, Some(p)) => p.model.body.clone(),
        (None, None) => String::new(),
    };
    let published_at = match (state, &current) {
        // Edited in place: it keeps the time it was first shown.
        (PostmortemState::Published, Some(p)) if p.state.is_published() => p.model.published_at,
        (PostmortemState::Published, _) => Some(at),
        _ => None,
    };
    let notified_at = match &current {
        Some(p) if p.model.notified_at.is_some() => p.model.notified_at,
        _ => notified.then_some(at),
    };
    let row = postmortem::ActiveModel {
        incident_id: Set(incident_id),
        body: Set(body),
        ignored: Set(state == PostmortemState::Ignored),
        published_at: Set(published_at),
        notified_at: Set(notified_at),
        author_id: Set(change.author_id),
        created_at: Set(current.as_ref().map_or(at, |p| p.model.created_at)),
        updated_at: Set(at),
    };
    if current.is_some() {
        row.update(&txn).await?;
    } else {
        row.insert(&txn).await?;
    }
    if notified {
        super::outbox::write(&txn, super::outbox::Event::Postmortem { incident_id }).await?;
    }
    txn.commit().await?;
    Ok(Applied {
        state,
        notified,
        was_published: from.is_published(),
    })
}
