//! `/maintenance.ics`: every scheduled maintenance as an RFC 5545 event that
//! calendar applications subscribe to. An event's UID is stable across edits,
//! its SEQUENCE counts the updates and the edits, so a moved or cancelled window replaces
//! the one a calendar holds instead of adding another.
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use super::statuspage::PageInfo;
use crate::store::incidents::IncidentView;

pub fn maintenance_calendar(info: &PageInfo, maintenances: &[IncidentView]) -> String {
    let host = url::Url::parse(&info.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    let mut calendar = Calendar::new();
    calendar.name(&format!("{} maintenance", info.name));
    calendar.append_property(("PRODID", "-//statuspost//maintenance//EN"));
    for m in maintenances {
        let Some(window) = m.window() else { continue };
        let latest = m.updates.last();
        let mut description = latest.map(|u| u.model.body.clone()).unwrap_or_default();
        if !m.planned.is_empty() {
            description.push_str(&format!("\n\nUnder maintenance: {}", m.planned.join(", ")));
        }
        let mut event = Event::new();
        event
            .uid(&format!("maintenance-{}@{host}", m.model.id))
            .summary(&m.model.title)
            .description(&description)
            .starts(window.from)
            .ends(window.until)
            .url(&info.link(&format!("incidents/{}", m.model.id)))
            .status(if m.is_cancelled() {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            })
            .timestamp(m.model.updated_at)
            .add_property("SEQUENCE", sequence(m).to_string())
            .add_property(
                "LAST-MODIFIED",
                m.model.updated_at.format("%Y%m%dT%H%M%SZ").to_string(),
            );
        calendar.push(event.done());
    }
    calendar.done().to_string()
}

/// Grows with every change a calendar should pick up: each update after the
/// first (cancelling posts one) and each edit of the plan (which posts none).
fn sequence(m: &IncidentView) -> usize {
    m.updates.len().saturating_sub(1) + usize::try_from(m.model.scheduled_edits).unwrap_or(0)
}
