//! What the outbox says happened: the `kind` column of `notification_events`.
use crate::domain::ParseError;

/// The kinds of event the store writes with an update, for the worker to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An incident was published or updated; the event names the update.
    IncidentUpdate,
    /// A component's status changed outside an incident update.
    ComponentUpdate,
}

impl EventKind {
    pub const ALL: [Self; 2] = [Self::IncidentUpdate, Self::ComponentUpdate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentUpdate => "incident_update",
            Self::ComponentUpdate => "component_update",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseError::new(format!("unknown event kind {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Ok(k));
        }
        assert!(EventKind::parse("maintenance").is_err());
    }
}
