use super::ParseError;

/// The lifecycle of an incident, and of a scheduled maintenance, named as
/// Statuspage names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 8] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
        Self::Scheduled,
        Self::InProgress,
        Self::Verifying,
        Self::Completed,
    ];
    /// What an incident's updates may say.
    pub const INCIDENT: [IncidentStatus; 4] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
    ];
    /// What a maintenance's updates may say.
    pub const MAINTENANCE: [IncidentStatus; 4] = [
        Self::Scheduled,
        Self::InProgress,
        Self::Verifying,
        Self::Completed,
    ];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(format!(
                "Unknown status \"{s}\": choose investigating, identified, monitoring or resolved \
                 (a maintenance: scheduled, in_progress, verifying or completed)."
            ))
            })
    }

    /// Parses a status that a record of this kind may take: a maintenance's
    /// updates say maintenance statuses, an incident's incident statuses.
    pub fn parse_for(s: &str, maintenance: bool) -> Result<Self, ParseError> {
        let status = Self::parse(s)?;
        match (maintenance, status.is_maintenance()) {
            (true, false) => Err(ParseError::new(format!(
                "A maintenance is scheduled, in_progress, verifying or completed, not {}.",
                status.as_str()
            ))),
            (false, true) => Err(ParseError::new(format!(
                "An incident is investigating, identified, monitoring or resolved, not {}: \
                 schedule a maintenance for that.",
                status.as_str()
            ))),
            _ => Ok(status),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
        }
    }

    /// The words used in an update's heading: "UPDATE 12:38 PM EST - Issue Resolved".
    pub fn label(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Issue Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Issue Resolved",
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In Progress",
            Self::Verifying => "Verifying",
            Self::Completed => "Completed",
        }
    }

    /// Statuspage's one word for it, where space is short: a mail's subject
    /// ("Resolved: Checkout errors").
    pub fn short_label(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Resolved",
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In progress",
            Self::Verifying => "Verifying",
            Self::Completed => "Completed",
        }
    }

    /// Over: an incident resolved, a maintenance completed (or cancelled).
    pub fn is_resolved(self) -> bool {
        matches!(self, Self::Resolved | Self::Completed)
    }

    pub fn is_maintenance(self) -> bool {
        Self::MAINTENANCE.contains(&self)
    }
}

/// How bad an incident is; `maintenance` is planned work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Impact {
    pub const ALL: [Impact; 5] = [
        Self::None,
        Self::Minor,
        Self::Major,
        Self::Critical,
        Self::Maintenance,
    ];
    /// What the incident form offers.
    pub const INCIDENT: [Impact; 4] = [Self::None, Self::Minor, Self::Major, Self::Critical];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "Unknown impact \"{s}\": choose none, minor, major, critical or maintenance."
                ))
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
            Self::Maintenance => "maintenance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Minor => "Minor",
            Self::Major => "Major",
            Self::Critical => "Critical",
            Self::Maintenance => "Maintenance",
        }
    }
}

/// When a maintenance is planned: it ends after it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: chrono::DateTime<chrono::Utc>,
    pub until: chrono::DateTime<chrono::Utc>,
}

impl Window {
    pub fn parse(
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, ParseError> {
        if until <= from {
            return Err(ParseError::new("The window must end after it starts."));
        }
        if until - from > chrono::Duration::days(31) {
            return Err(ParseError::new(
                "A window of more than 31 days is not a maintenance: split it.",
            ));
        }
        Ok(Self { from, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Ok(s));
        }
        for i in Impact::ALL {
            assert_eq!(Impact::parse(i.as_str()), Ok(i));
        }
    }

    #[test]
    fn unknown_status_is_refused() {
        assert!(IncidentStatus::parse("fixed").is_err());
        assert!(Impact::parse("huge").is_err());
    }

    #[test]
    fn maintenance_and_incident_statuses_stay_apart() {
        assert!(IncidentStatus::parse_for("in_progress", true).is_ok());
        assert!(IncidentStatus::parse_for("in_progress", false).is_err());
        assert!(IncidentStatus::parse_for("resolved", true).is_err());
        assert!(IncidentStatus::Completed.is_resolved());
        let t = |h| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 8, h, 0, 0).unwrap();
        assert!(Window::parse(t(2), t(4)).is_ok());
        assert!(Window::parse(t(4), t(4)).is_err());
    }

    #[test]
    fn resolved_reads_like_the_seed() {
        assert_eq!(IncidentStatus::Resolved.label(), "Issue Resolved");
    }
}

/// Where an incident stands: what its updates, taken in the order they were
/// posted, make of it. One rule for the store (which keeps it on the incident
/// row) and for the webhook payload (which replays it as of an update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: IncidentStatus,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub monitoring_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The display time of the latest update so far, by display time.
    pub latest_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Standing {
    /// Before any update.
    pub fn new(status: IncidentStatus) -> Self {
        Self {
            status,
            resolved_at: None,
            monitoring_at: None,
            latest_at: None,
        }
    }

    /// After one more update, with `status`, shown at `at`. A backdated update
    /// (shown before the latest) fills in the story and changes nothing here.
    pub fn after(self, status: IncidentStatus, at: chrono::DateTime<chrono::Utc>) -> Self {
        if self.latest_at.is_some_and(|latest| at < latest) {
            return self;
        }
        Self {
            status,
            resolved_at: status.is_resolved().then_some(at),
            monitoring_at: match (self.monitoring_at, status) {
                (None, IncidentStatus::Monitoring) => Some(at),
                (kept, _) => kept,
            },
            latest_at: Some(at),
        }
    }
}

#[cfg(test)]
mod standing_tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.with_ymd_and_hms(2008, 2, 28, h, 0, 0).unwrap()
    }

    #[test]
    fn the_latest_update_by_display_time_decides() {
        let s = Standing::new(IncidentStatus::Investigating)
            .after(IncidentStatus::Investigating, at(10))
            .after(IncidentStatus::Monitoring, at(12))
            .after(IncidentStatus::Resolved, at(17));
        assert_eq!(s.status, IncidentStatus::Resolved);
        assert_eq!(s.resolved_at, Some(at(17)));
        assert_eq!(s.monitoring_at, Some(at(12)));
        // Backdated: history, not the present.
        let b = s.after(IncidentStatus::Identified, at(11));
        assert_eq!(b, s);
        // Reopened: no longer resolved; monitoring keeps its first time.
        let r = s
            .after(IncidentStatus::Identified, at(18))
            .after(IncidentStatus::Monitoring, at(19));
        assert_eq!(r.resolved_at, None);
        assert_eq!(r.monitoring_at, Some(at(12)));
    }
}
