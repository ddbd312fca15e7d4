//! What one outbox event tells of, read from the database once: the email and
//! the webhook body of every delivery of that event are both made from it.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::ComponentStatus;
use crate::entity::{component, notification_event};
use crate::store::components::ComponentView;
use crate::store::incidents::IncidentView;
use crate::store::{self, outbox::Event};

/// The rows an event names, as they are when it is delivered.
#[derive(Debug, Clone)]
pub enum Told {
    /// Update `update_id` of this incident was posted.
    Incident { view: IncidentView, update_id: i32 },
    /// Update `update_id` of this incident was corrected; the view has its new text.
    Correction { view: IncidentView, update_id: i32 },
    /// A maintenance starts soon.
    Reminder { view: IncidentView },
    /// This incident's postmortem was published (and still is).
    Postmortem { view: IncidentView },
    /// A component's status changed outside an incident.
    Component {
        /// The component's row, even when it has been deleted since.
        row: component::Model,
        old_status: ComponentStatus,
        new_status: ComponentStatus,
    },
}

/// An event and everything its notices are made from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub event_id: i32,
    pub created_at: DateTime<Utc>,
    /// Every live component: the page's overall status and the webhook's objects.
    pub components: Vec<ComponentView>,
    /// What the event tells of, or why there is nothing left to tell (the row
    /// cannot be read, or what it names is gone): its deliveries die with that reason.
    pub told: Result<Told, String>,
}

/// Reads `event` and what it names. `Err` only when the database fails, which
/// is worth trying again; anything else that is wrong is in [`Loaded::told`].
pub async fn load(
    db: &impl ConnectionTrait,
    event: &notification_event::Model,
) -> Result<Loaded, sea_orm::DbErr> {
    let components = store::components::list(db).await?;
    let told = match Event::decode(event) {
        Err(e) => Err(format!("event {} cannot be read: {e}", event.id)),
        Ok(Event::IncidentUpdate {
            incident_id,
            update_id,
        }) => match store::incidents::load(db, incident_id).await? {
            Some(view) if view.updates.iter().any(|u| u.model.id == update_id) => {
                Ok(Told::Incident { view, update_id })
            }
            Some(_) => Err(format!("update {update_id} is gone")),
            None => Err(format!("incident {incident_id} is gone")),
        },
        Ok(Event::Correction {
            incident_id,
            update_id,
        }) => match store::incidents::load(db, incident_id).await? {
            Some(view) if view.updates.iter().any(|u| u.model.id == update_id) => {
                Ok(Told::Correction { view, update_id })
            }
            Some(_) => Err(format!("update {update_id} is gone")),
            None => Err(format!("incident {incident_id} is gone")),
        },
        Ok(Event::MaintenanceReminder { incident_id }) => {
            match store::incidents::load(db, incident_id).await? {
                Some(view) => Ok(Told::Reminder { view }),
                None => Err(format!("maintenance {incident_id} is gone")),
            }
        }
        Ok(Event::ComponentChange {
            component_id,
            old_status,
            new_status,
        }) => match component::Entity::find_by_id(component_id).one(db).await? {
            Some(row) => Ok(Told::Component {
                row,
                old_status,
                new_status,
            }),
            None => Err(format!("component {component_id} is gone")),
        },
        Ok(Event::Postmortem { incident_id }) => {
            match store::incidents::load(db, incident_id).await? {
                Some(view) if view.published_postmortem().is_some() => {
                    Ok(Told::Postmortem { view })
                }
                // Taken back to a draft before it reached everyone: what is
                // not on the page is not sent.
                Some(_) => Err(format!(
                    "the postmortem of incident {incident_id} is no longer published"
                )),
                None => Err(format!("incident {incident_id} is gone")),
            }
        }
    };
    Ok(Loaded {
        event_id: event.id,
        created_at: event.created_at,
        components,
        told,
    })
}
