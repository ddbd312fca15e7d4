use super::ParseError;

/// The incident lifecycle, named as Statuspage and Cachet name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
    ];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "investigating" => Ok(Self::Investigating),
            "identified" => Ok(Self::Identified),
            "monitoring" => Ok(Self::Monitoring),
            "resolved" => Ok(Self::Resolved),
            other => Err(ParseError::new(format!(
                "Unknown status \"{other}\": choose investigating, identified, monitoring or resolved."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
        }
    }

    /// The words used in an update's heading: "UPDATE 12:38 PM EST - Issue Resolved".
    pub fn label(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Issue Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Issue Resolved",
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
        }
    }

    pub fn is_resolved(self) -> bool {
        self == Self::Resolved
    }
}

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
}

impl Impact {
    pub const ALL: [Impact; 4] = [Self::None, Self::Minor, Self::Major, Self::Critical];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "none" => Ok(Self::None),
            "minor" => Ok(Self::Minor),
            "major" => Ok(Self::Major),
            "critical" => Ok(Self::Critical),
            other => Err(ParseError::new(format!(
                "Unknown impact \"{other}\": choose none, minor, major or critical."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Minor => "Minor",
            Self::Major => "Major",
            Self::Critical => "Critical",
        }
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
