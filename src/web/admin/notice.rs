//! What the page says after an admin action that sends the staff member back
//! to a page (303): a `?done=` key from [`Done`], mapped here to a fixed
//! message. Nothing from the URL is ever shown: an unknown key shows nothing.
use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};

use super::see_other;

/// An admin action that succeeded, as its `?done=` key names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    ComponentAdded,
    ComponentSaved,
    ComponentDeleted,
    SubscriberAdded,
    SubscriberRemoved,
    IncidentPublished,
    MaintenanceScheduled,
    MaintenanceEdited,
    MaintenanceCancelled,
    SeriesScheduled,
    SeriesStopped,
    UpdatePosted,
    DeliveriesRetried,
    TokenRevoked,
    StaffAdded,
    StaffSaved,
    PostmortemSaved,
    PostmortemEdited,
    PostmortemPublished,
    PostmortemReverted,
    PostmortemIgnored,
    TemplateAdded,
    TemplateSaved,
    TemplateDeleted,
    DataIntegritySaved,
    MilestoneAdded,
    MilestoneDone,
    UnsentEdited,
    NotificationsHeld,
    UpdateCorrected,
}

impl Done {
    pub const ALL: [Done; 30] = [
        Done::ComponentAdded,
        Done::ComponentSaved,
        Done::ComponentDeleted,
        Done::SubscriberAdded,
        Done::SubscriberRemoved,
        Done::IncidentPublished,
        Done::MaintenanceScheduled,
        Done::MaintenanceEdited,
        Done::MaintenanceCancelled,
        Done::SeriesScheduled,
        Done::SeriesStopped,
        Done::UpdatePosted,
        Done::DeliveriesRetried,
        Done::TokenRevoked,
        Done::StaffAdded,
        Done::StaffSaved,
        Done::PostmortemSaved,
        Done::PostmortemEdited,
        Done::PostmortemPublished,
        Done::PostmortemReverted,
        Done::PostmortemIgnored,
        Done::TemplateAdded,
        Done::TemplateSaved,
        Done::TemplateDeleted,
        Done::DataIntegritySaved,
        Done::MilestoneAdded,
        Done::MilestoneDone,
        Done::UnsentEdited,
        Done::NotificationsHeld,
        Done::UpdateCorrected,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Done::ComponentAdded => "component-added",
            Done::ComponentSaved => "component-saved",
            Done::ComponentDeleted => "component-deleted",
            Done::SubscriberAdded => "subscriber-added",
            Done::SubscriberRemoved => "subscriber-removed",
            Done::IncidentPublished => "incident-published",
            Done::MaintenanceScheduled => "maintenance-scheduled",
            Done::MaintenanceEdited => "maintenance-edited",
            Done::MaintenanceCancelled => "maintenance-cancelled",
            Done::SeriesScheduled => "series-scheduled",
            Done::SeriesStopped => "series-stopped",
            Done::UpdatePosted => "update-posted",
            Done::DeliveriesRetried => "deliveries-retried",
            Done::TokenRevoked => "token-revoked",
            Done::StaffAdded => "staff-added",
            Done::StaffSaved => "staff-saved",
            Done::PostmortemSaved => "postmortem-saved",
            Done::PostmortemEdited => "postmortem-edited",
            Done::PostmortemPublished => "postmortem-published",
            Done::PostmortemReverted => "postmortem-reverted",
            Done::PostmortemIgnored => "postmortem-ignored",
            Done::TemplateAdded => "template-added",
            Done::TemplateSaved => "template-saved",
            Done::TemplateDeleted => "template-deleted",
            Done::DataIntegritySaved => "data-integrity-saved",
            Done::MilestoneAdded => "milestone-added",
            Done::MilestoneDone => "milestone-done",
            Done::UnsentEdited => "unsent-edited",
            Done::NotificationsHeld => "notifications-held",
            Done::UpdateCorrected => "update-corrected",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Done::ComponentAdded => "Component added. It is on the public page now.",
            Done::ComponentSaved => "Component saved.",
            Done::ComponentDeleted => "Component deleted. Past incidents that named it still do.",
            Done::SubscriberAdded => "Subscriber added and confirmed.",
            Done::SubscriberRemoved => "Subscriber removed. Nothing more is sent to it.",
            Done::IncidentPublished => {
                "Incident published. Subscribers are being notified if you chose to."
            }
            Done::MaintenanceScheduled => {
                "Maintenance scheduled. It is on the page; subscribers are being notified if you chose to."
            }
            Done::MaintenanceEdited => {
                "Maintenance saved. The page and the calendar show the change; subscribers are not told unless you post an update."
            }
            Done::MaintenanceCancelled => {
                "Maintenance cancelled. The page and the calendar show it cancelled; subscribers are being notified if you chose to."
            }
            Done::SeriesScheduled => {
                "Recurring maintenance scheduled. This is its first window; the windows of the next 14 days are on the page, and each is edited or cancelled on its own."
            }
            Done::SeriesStopped => {
                "The series no longer repeats. The windows already made stay; cancel each on its own if it is off too."
            }
            Done::UpdatePosted => "Update posted. Subscribers are being notified if you chose to.",
            Done::DeliveriesRetried => "The dead deliveries are queued to be sent again.",
            Done::TokenRevoked => "Token revoked. It no longer works.",
            Done::StaffAdded => "Staff account added. They can sign in now.",
            Done::StaffSaved => "Staff account saved.",
            Done::PostmortemSaved => "Draft saved. Readers do not see it until you publish it.",
            Done::PostmortemEdited => {
                "Postmortem saved. Readers see the change; subscribers are not told again."
            }
            Done::PostmortemPublished => {
                "Postmortem published below the incident's updates. Subscribers are being notified if you chose to (only ever once)."
            }
            Done::PostmortemReverted => {
                "Postmortem back to a draft: readers no longer see it. Your text is kept."
            }
            Done::PostmortemIgnored => "Marked: this incident gets no postmortem.",
            Done::TemplateAdded => "Template added. Use it from New incident or an incident's update form.",
            Done::TemplateSaved => "Template saved.",
            Done::TemplateDeleted => "Template deleted. Incidents started from it are unchanged.",
            Done::DataIntegritySaved => {
                "Saved. Readers see it at the top of the incident now; subscribers see it with the next update."
            }
            Done::MilestoneAdded => "Milestone added to the recovery's progress.",
            Done::MilestoneDone => {
                "Milestone done. Readers see it now; subscribers were told if it notifies."
            }
            Done::UnsentEdited => {
                "Text changed. Readers see it now; subscribers get this text when the notifications go."
            }
            Done::UpdateCorrected => {
                "Corrected. Readers see the new text, marked as corrected, with the original kept; subscribers are told if you chose to."
            }
            Done::NotificationsHeld => {
                "Notifications held: no subscriber is told of that update. It stays on the page."
            }
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }
}

/// A 303 to `to` whose page will say `done`.
pub fn see_other_done(to: &str, done: Done) -> HttpResponse {
    let sep = if to.contains('?') { '&' } else { '?' };
    see_other(&format!("{to}{sep}done={}", done.key()))
}

/// The `?done=` of the request, if it names a known action.
pub struct Notice(pub Option<Done>);

impl FromRequest for Notice {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let done = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "done")
            .and_then(|(_, v)| Done::from_key(&v));
        ready(Ok(Self(done)))
    }
}
