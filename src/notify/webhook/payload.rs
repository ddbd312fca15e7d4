//! The body of a subscriber webhook, in the shape of Statuspage's:
//!
//! ```json
//! { "meta": { "unsubscribe": "https://status.example.com/unsubscribe/…",
//!             "generated_at": "2026-11-24T20:30:00+00:00" },
//!   "page": { "id": "…", "status_indicator": "major",
//!             "status_description": "Partial System Outage" },
//!   "incident": { …, "incident_updates": [ … ] } }
//! ```
//!
//! or, for a component's change of status outside an incident,
//! `"component": {…}, "component_update": {…}` in place of `incident`. The
//! objects themselves come from [`crate::render::statuspage`], the one owner of
//! the Statuspage shapes.
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::domain::Standing;
use crate::notify::content::{Loaded, Told};
use crate::render::statuspage::{self, PageInfo};
use crate::store::incidents::IncidentView;

/// What a webhook tells of.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// An incident as it stood when the update was posted.
    Incident(statuspage::Incident),
    /// A component's change of status outside an incident.
    Component {
        component: statuspage::Component,
        update: statuspage::ComponentUpdate,
    },
}

/// Everything a webhook says of one event except what differs per subscriber
/// (`meta`): built once per event, however many subscribers it goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The page's overall status when the notice was made.
    pub status: statuspage::Status,
    pub subject: Subject,
}

impl Notice {
    /// What the loaded event tells of, or why nothing can be told.
    pub fn new(info: &PageInfo, loaded: &Loaded) -> Result<Self, String> {
        let components = &loaded.components;
        let status = statuspage::status(components);
        let subject = match &loaded.told {
            Err(why) => return Err(why.clone()),
            // A correction tells of the incident as it stood at that update,
            // with the update's corrected text (and `updated_at` when it changed).
            Ok(Told::Incident { view, update_id } | Told::Correction { view, update_id }) => {
                let then = incident_as_of(view, *update_id)
                    .ok_or_else(|| format!("update {update_id} is gone"))?;
                Subject::Incident(statuspage::incident(info, &then, components))
            }
            // The maintenance as it stands: the receiver reads its window.
            Ok(Told::Reminder { view }) => {
                Subject::Incident(statuspage::incident(info, view, components))
            }
            Ok(Told::Postmortem { view }) => {
                let incident = statuspage::postmortem_notice(info, view, components)
                    .ok_or_else(|| format!("incident {} has no postmortem", view.model.id))?;
                Subject::Incident(incident)
            }
            Ok(Told::Component {
                row,
                old_status,
                new_status,
            }) => {
                // A deleted component is not among the page's: nothing to show.
                let c = components
                    .iter()
                    .find(|c| c.model.id == row.id)
                    .ok_or_else(|| format!("component {} is gone", row.id))?;
                let mut component = statuspage::component(info, c);
                // The component as the change left it, even if it moved on since.
                component.status = new_status.as_str().to_owned();
                Subject::Component {
                    component,
                    update: statuspage::component_update(
                        info,
                        loaded.event_id,
                        row.id,
                        *old_status,
                        *new_status,
                        loaded.created_at,
                    ),
                }
            }
        };
        Ok(Self { status, subject })
    }
}

/// The incident as it stood right after update `update_id` was posted: that
/// update and the ones posted before it, and the status they gave it. A
/// receiver reading `incident_updates[0]` then reads the update it is being
/// told of, even when the delivery comes late, after later updates.
/// `None` when the incident has no such update.
pub fn incident_as_of(view: &IncidentView, update_id: i32) -> Option<IncidentView> {
    let posted = view.updates.iter().find(|u| u.model.id == update_id)?;
    let mut then = view.clone();
    // Ids grow in the order updates are posted; display times may be backdated.
    then.updates.retain(|u| u.model.id <= update_id);
    then.model.updated_at = posted.model.created_at;
    // The store's rule, replayed in posting order (`domain::Standing`).
    let mut posting_order: Vec<_> = then.updates.iter().collect();
    posting_order.sort_by_key(|u| u.model.id);
    let stands = posting_order
        .into_iter()
        .fold(Standing::new(then.status), |s, u| {
            s.after(u.status, u.model.display_at)
        });
    let (status, resolved_at, monitoring_at) =
        (stands.status, stands.resolved_at, stands.monitoring_at);
    then.status = status;
    then.model.status = status.as_str().to_owned();
    then.model.resolved_at = resolved_at;
    then.model.monitoring_at = monitoring_at;
    Some(then)
}

/// The webhook body for one subscriber. `unsubscribe_url` is
/// `settings.link(&format!("unsubscribe/{token}"))` with the subscriber's token.
pub fn payload(
    info: &PageInfo,
    notice: &Notice,
    unsubscribe_url: &str,
    generated_at: DateTime<Utc>,
) -> Value {
    let mut body = json!({
        "meta": {
            "unsubscribe": unsubscribe_url,
            "generated_at": info.time(generated_at),
        },
        "page": {
            "id": info.id,
            "status_indicator": notice.status.indicator,
            "status_description": notice.status.description,
        },
    });
    match &notice.subject {
        Subject::Incident(incident) => body["incident"] = json!(incident),
        Subject::Component { component, update } => {
            body["component"] = json!(component);
            body["component_update"] = json!(update);
        }
    }
    body
}
