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
