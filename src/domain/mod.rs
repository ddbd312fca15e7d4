//! Pure types and rules. Nothing here touches I/O or a framework.
mod api_token;
pub mod backup_changes;
mod component;
pub mod correction;
mod delivery;
mod email;
mod incident;
pub mod integrity;
pub mod milestone;
mod postmortem;
pub mod promise;
mod proxies;
pub mod recurrence;
mod resolution;
pub mod retention;
pub mod retry_schedule;
mod staff;
mod subscriber;
mod template;
mod text;
mod timezone;
pub mod uptime;
mod webhook_url;

pub use api_token::{TokenName, TokenScope};
pub use component::{ComponentStatus, OverallStatus};
pub use correction::Revision;
pub use delivery::DeliveryStatus;
pub use email::EmailAddress;
pub use incident::{Impact, IncidentStatus, Standing, Window};
pub use integrity::{actions_from_lines, DataIntegrity, DataLoss, ReaderAction};
pub use milestone::{Milestone, MilestoneTitle};
pub use postmortem::{notifies as postmortem_notifies, PostmortemAction, PostmortemState};
pub use promise::{Promise, PROMISE_MINUTES};
pub use proxies::TrustedProxies;
pub use recurrence::Recurrence;
pub use resolution::changes_on_resolve;
pub use retry_schedule::RetrySchedule;
pub use staff::{DisplayName, Password};
pub use subscriber::SubscriberKind;
pub use template::{ComponentPlan, Filling, TemplateName, TemplateTitle, PLACEHOLDERS};
pub use text::{ComponentName, IncidentTitle, PostmortemBody, UpdateBody};
pub use timezone::PageZone;
pub use uptime::UptimeWeights;
pub use webhook_url::WebhookUrl;

/// Why a value was refused, in words a staff member can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The earliest time staff may give: before it, a typed year is a slip (and
/// years outside 0..=9999 cannot even be written in RSS's date format).
pub const EARLIEST_YEAR: i32 = 1970;

/// A time staff typed for an incident or update: staff may backdate, never
/// post into the future, and never before [`EARLIEST_YEAR`].
pub fn not_in_future(
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, ParseError> {
    use chrono::Datelike;
    // A minute of slack absorbs clock skew between the staff's machine and ours.
    if at > now + chrono::Duration::minutes(1) {
        Err(ParseError::new("The time cannot be in the future."))
    } else if at.year() < EARLIEST_YEAR {
        Err(ParseError::new(format!(
            "The time must be in {EARLIEST_YEAR} or later."
        )))
    } else {
        Ok(at)
    }
}

/// A page of a paginated list, from a `?page=` value: 1 when missing or
/// unreadable, and never so large that its offset overflows.
pub fn page_number(raw: Option<&str>) -> u64 {
    // Far past any real list; keeps `page * per_page` well inside u64.
    const LAST: u64 = 1_000_000;
    raw.and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .map_or(1, |p| p.min(LAST))
}
