//! Pure types and rules. Nothing here touches I/O or a framework.
mod component;
mod email;
mod incident;
mod proxies;
mod staff;
mod text;
mod timezone;
mod webhook_url;

pub use component::{ComponentStatus, OverallStatus};
pub use email::EmailAddress;
pub use incident::{Impact, IncidentStatus};
pub use proxies::TrustedProxies;
pub use staff::{DisplayName, Password};
pub use text::{ComponentName, IncidentTitle, UpdateBody};
pub use timezone::PageZone;
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

/// Rejects times after `now`: staff may backdate, never post into the future.
pub fn not_in_future(
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, ParseError> {
    // A minute of slack absorbs clock skew between the staff's machine and ours.
    if at > now + chrono::Duration::minutes(1) {
        Err(ParseError::new("The time cannot be in the future."))
    } else {
        Ok(at)
    }
}
