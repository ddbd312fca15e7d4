//! The outbox: what happened, written in the same transaction as the change,
//! for the worker to tell subscribers. This file is the one place that turns
//! an event into a row and a row back into an event.
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::domain::{ComponentStatus, ParseError};
use crate::entity::notification_event;

/// The kinds of event the store writes with an update, for the worker to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An incident was published or updated; the event names the update.
    IncidentUpdate,
    /// A component's status changed outside an incident update.
    ComponentUpdate,
    /// A scheduled maintenance starts soon.
    MaintenanceReminder,
    /// An incident's postmortem was published; the event names the incident.
    Postmortem,
    /// A published update's text was corrected; the event names the update.
    Correction,
}

impl EventKind {
    pub const ALL: [Self; 5] = [
        Self::IncidentUpdate,
        Self::ComponentUpdate,
        Self::MaintenanceReminder,
        Self::Postmortem,
        Self::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentUpdate => "incident_update",
            Self::ComponentUpdate => "component_update",
            Self::MaintenanceReminder => "maintenance_reminder",
            Self::Postmortem => "postmortem",
            Self::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseError::new(format!("unknown event kind {s:?}")))
    }
}

/// What an event tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Update `update_id` of incident `incident_id` was posted.
    IncidentUpdate { incident_id: i32, update_id: i32 },
    /// A component's status changed outside an incident update.
    ComponentChange {
        component_id: i32,
        old_status: ComponentStatus,
        new_status: ComponentStatus,
    },
    /// Maintenance `incident_id` starts soon.
    MaintenanceReminder { incident_id: i32 },
    /// Incident `incident_id`'s postmortem was published for the first time.
    Postmortem { incident_id: i32 },
    /// Update `update_id` of incident `incident_id` was corrected, and staff
    /// chose to tell subscribers.
    Correction { incident_id: i32, update_id: i32 },
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::IncidentUpdate { .. } => EventKind::IncidentUpdate,
            Self::ComponentChange { .. } => EventKind::ComponentUpdate,
            Self::MaintenanceReminder { .. } => EventKind::MaintenanceReminder,
            Self::Postmortem { .. } => EventKind::Postmortem,
            Self::Correction { .. } => EventKind::Correction,
        }
    }

    /// Reads a stored event back. A row that does not say what it tells of
    /// (written by hand, or by a newer version) is an error, never a guess.
    pub fn decode(row: &notification_event::Model) -> Result<Self, ParseError> {
        let missing = |what: &str| ParseError::new(format!("event {} has no {what}", row.id));
        match EventKind::parse(&row.kind)? {
            EventKind::IncidentUpdate => Ok(Self::IncidentUpdate {
                incident_id: row.incident_id.ok_or_else(|| missing("incident"))?,
                update_id: row.update_id.ok_or_else(|| missing("update"))?,
            }),
            EventKind::MaintenanceReminder => Ok(Self::MaintenanceReminder {
                incident_id: row.incident_id.ok_or_else(|| missing("incident"))?,
            }),
            EventKind::ComponentUpdate => {
                let new_status = ComponentStatus::parse(
                    row.new_status
                        .as_deref()
                        .ok_or_else(|| missing("new status"))?,
                )?;
                Ok(Self::ComponentChange {
                    component_id: row.component_id.ok_or_else(|| missing("component"))?,
                    old_status: match row.old_status.as_deref() {
                        Some(s) => ComponentStatus::parse(s)?,
                        None => new_status,
                    },
                    new_status,
                })
            }
            EventKind::Postmortem => Ok(Self::Postmortem {
                incident_id: row.incident_id.ok_or_else(|| missing("incident"))?,
            }),
            EventKind::Correction => Ok(Self::Correction {
                incident_id: row.incident_id.ok_or_else(|| missing("incident"))?,
                update_id: row.update_id.ok_or_else(|| missing("update"))?,
            }),
        }
    }
}

/// Writes `event` to the outbox; call it inside the transaction that makes
/// the change, so that the change and its notice commit together or not at all.
pub async fn write(db: &impl ConnectionTrait, event: Event) -> Result<(), sea_orm::DbErr> {
    let mut row = notification_event::ActiveModel {
        kind: Set(event.kind().as_str().to_owned()),
        created_at: Set(super::now()),
        expanded_at: Set(None),
        ..Default::default()
    };
    match event {
        Event::IncidentUpdate {
            incident_id,
            update_id,
        }
        | Event::Correction {
            incident_id,
            update_id,
        } => {
            row.incident_id = Set(Some(incident_id));
            row.update_id = Set(Some(update_id));
        }
        Event::ComponentChange {
            component_id,
            old_status,
            new_status,
        } => {
            row.component_id = Set(Some(component_id));
            row.old_status = Set(Some(old_status.as_str().to_owned()));
            row.new_status = Set(Some(new_status.as_str().to_owned()));
        }
        Event::MaintenanceReminder { incident_id } => {
            row.incident_id = Set(Some(incident_id));
        }
        Event::Postmortem { incident_id } => row.incident_id = Set(Some(incident_id)),
    }
    row.insert(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str) -> notification_event::Model {
        notification_event::Model {
            id: 7,
            kind: kind.into(),
            incident_id: Some(1),
            update_id: Some(2),
            component_id: None,
            old_status: None,
            new_status: None,
            created_at: chrono::Utc::now(),
            expanded_at: None,
            held_at: None,
        }
    }

    #[test]
    fn rows_decode_or_say_why_not() {
        assert_eq!(
            Event::decode(&row("incident_update")),
            Ok(Event::IncidentUpdate {
                incident_id: 1,
                update_id: 2
            })
        );
        let mut c = row("component_update");
        c.component_id = Some(3);
        c.new_status = Some("major_outage".into());
        assert_eq!(
            Event::decode(&c),
            Ok(Event::ComponentChange {
                component_id: 3,
                old_status: ComponentStatus::MajorOutage,
                new_status: ComponentStatus::MajorOutage,
            })
        );
        c.new_status = Some("exploded".into());
        assert!(Event::decode(&c).is_err());
        assert!(Event::decode(&row("maintenance")).is_err());
        let mut no_update = row("incident_update");
        no_update.update_id = None;
        assert!(Event::decode(&no_update)
            .unwrap_err()
            .0
            .contains("no update"));
        assert_eq!(
            Event::decode(&row("postmortem")),
            Ok(Event::Postmortem { incident_id: 1 })
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Ok(k));
        }
        assert!(EventKind::parse("maintenance").is_err());
    }
}
