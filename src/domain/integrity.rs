//! A data-integrity incident: which data the fault touched, the point it was
//! restored to, whether data was lost, and what readers need to do about it.
use chrono::{DateTime, Utc};

use super::ParseError;

/// Whether data was lost, as staff know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLoss {
    None,
    Possible,
    Confirmed,
}

impl DataLoss {
    pub const ALL: [Self; 3] = [Self::None, Self::Possible, Self::Confirmed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Possible => "possible",
            Self::Confirmed => "confirmed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "No data lost",
            Self::Possible => "Data loss possible",
            Self::Confirmed => "Data loss confirmed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| ParseError::new("Data loss is none, possible or confirmed."))
    }
}

/// One thing readers need to do, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderAction(String);

impl ReaderAction {
    pub const MAX_CHARS: usize = 300;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("An action cannot be empty."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "Each action is {} characters at most.",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("Each action is a single line."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most actions one incident lists: a checklist, not a manual.
pub const MAX_ACTIONS: usize = 10;

/// Each non-empty line of `text` an action.
pub fn actions_from_lines(text: &str) -> Result<Vec<ReaderAction>, ParseError> {
    let actions = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(ReaderAction::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if actions.len() > MAX_ACTIONS {
        return Err(ParseError::new(format!(
            "List {MAX_ACTIONS} actions at most."
        )));
    }
    Ok(actions)
}

/// What an incident says of its data. Every part is optional; one with no
/// part at all is no data-integrity incident.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataIntegrity {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub restored_to: Option<DateTime<Utc>>,
    pub loss: Option<DataLoss>,
    pub actions: Vec<ReaderAction>,
}

impl DataIntegrity {
    /// The parts together; `Err` names the field at fault. `None` when every part is empty.
    pub fn parse(self) -> Result<Option<Self>, (&'static str, ParseError)> {
        if let (Some(from), Some(until)) = (self.from, self.until) {
            if until <= from {
                return Err((
                    "data_until",
                    ParseError::new("The affected window must end after it starts."),
                ));
            }
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err((
                "reader_actions",
                ParseError::new(format!("List {MAX_ACTIONS} actions at most.")),
            ));
        }
        Ok((!self.is_empty()).then_some(self))
    }

    pub fn is_empty(&self) -> bool {
        self.from.is_none()
            && self.until.is_none()
            && self.restored_to.is_none()
            && self.loss.is_none()
            && self.actions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ends_after_it_starts_and_empty_parts_are_no_incident_of_data() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let backwards = DataIntegrity {
            from: Some(at("2008-02-28T17:00:00Z")),
            until: Some(at("2008-02-28T11:00:00Z")),
            ..Default::default()
        };
        assert_eq!(backwards.parse().unwrap_err().0, "data_until");
        assert_eq!(DataIntegrity::default().parse().unwrap(), None);
        assert!(actions_from_lines("one\n\n two \n").unwrap().len() == 2);
        assert!(actions_from_lines(&"x\n".repeat(11)).is_err());
        assert_eq!(DataLoss::parse("confirmed").unwrap(), DataLoss::Confirmed);
        assert!(DataLoss::parse("maybe").is_err());
    }
}
