use super::ParseError;

/// A component's health, in Statuspage's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentStatus {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    /// Where the status sits in "the worst of them": the banner's order, the
    /// group's status and the day's bar all read it.
    pub fn severity(self) -> u8 {
        match self {
            Self::Operational => 0,
            Self::UnderMaintenance => 1,
            Self::DegradedPerformance => 2,
            Self::PartialOutage => 3,
            Self::MajorOutage => 4,
        }
    }

    /// The worse of the two (the first when they are as bad).
    pub fn worse(self, other: Self) -> Self {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    pub const ALL: [ComponentStatus; 5] = [
        Self::Operational,
        Self::DegradedPerformance,
        Self::PartialOutage,
        Self::MajorOutage,
        Self::UnderMaintenance,
    ];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "operational" => Ok(Self::Operational),
            "degraded_performance" => Ok(Self::DegradedPerformance),
            "partial_outage" => Ok(Self::PartialOutage),
            "major_outage" => Ok(Self::MajorOutage),
            "under_maintenance" => Ok(Self::UnderMaintenance),
            other => Err(ParseError::new(format!(
                "Unknown component status \"{other}\"."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::UnderMaintenance => "under_maintenance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "Operational",
            Self::DegradedPerformance => "Degraded Performance",
            Self::PartialOutage => "Partial Outage",
            Self::MajorOutage => "Major Outage",
            Self::UnderMaintenance => "Under Maintenance",
        }
    }
}

/// The page-wide status shown in the banner, derived from the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OverallStatus {
    Operational,
    Maintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl OverallStatus {
    pub fn from_components(statuses: impl IntoIterator<Item = ComponentStatus>) -> Self {
        statuses
            .into_iter()
            .map(|s| match s {
                ComponentStatus::Operational => Self::Operational,
                ComponentStatus::UnderMaintenance => Self::Maintenance,
                ComponentStatus::DegradedPerformance => Self::Degraded,
                ComponentStatus::PartialOutage => Self::PartialOutage,
                ComponentStatus::MajorOutage => Self::MajorOutage,
            })
            .max()
            .unwrap_or(Self::Operational)
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Operational => "All Systems Operational",
            Self::Maintenance => "Service Under Maintenance",
            Self::Degraded => "Degraded System Service",
            Self::PartialOutage => "Partial System Outage",
            Self::MajorOutage => "Major Service Outage",
        }
    }

    /// Statuspage's `status.indicator`, which has four values: a page under
    /// maintenance reads `minor`, its description saying why.
    pub fn indicator(self) -> &'static str {
        match self {
            Self::Operational => "none",
            Self::Maintenance | Self::Degraded => "minor",
            Self::PartialOutage => "major",
            Self::MajorOutage => "critical",
        }
    }

    /// A name for styling the banner, finer than the indicator.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::Maintenance => "maintenance",
            Self::Degraded => "degraded",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_component_wins() {
        use ComponentStatus::*;
        assert_eq!(
            OverallStatus::from_components([Operational, PartialOutage, DegradedPerformance]),
            OverallStatus::PartialOutage
        );
        assert_eq!(
            OverallStatus::from_components([]).description(),
            "All Systems Operational"
        );
        assert_eq!(
            OverallStatus::from_components([MajorOutage]).description(),
            "Major Service Outage"
        );
        // Statuspage's indicator has no maintenance value.
        let maintenance = OverallStatus::from_components([UnderMaintenance]);
        assert_eq!(maintenance.indicator(), "minor");
        assert_eq!(maintenance.description(), "Service Under Maintenance");
    }

    #[test]
    fn statuses_round_trip() {
        for s in ComponentStatus::ALL {
            assert_eq!(ComponentStatus::parse(s.as_str()), Ok(s));
        }
        assert!(ComponentStatus::parse("down").is_err());
    }
}
