//! A long recovery's milestones: the steps staff name ahead ("restore the
//! 6 AM backup"), each ticked with the time it was done.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ParseError;

/// One step, as stored in its incident's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// Stable within its incident, for the form and the API: "1", "2", ...
    pub key: String,
    pub title: String,
    /// Whether completing it tells subscribers (as an update of the incident).
    pub notify: bool,
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
    /// Who ticked it: a staff member's name, or the API token's.
    #[serde(default)]
    pub done_by: Option<String>,
}

/// The most milestones one incident carries.
pub const MAX_MILESTONES: usize = 20;

/// A milestone's title: one line, not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneTitle(String);

impl MilestoneTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("Name the milestone."));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "A milestone is {} characters at most.",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("A milestone is a single line."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The list with `title` added at its end, under the next free key.
pub fn add(
    list: &[Milestone],
    title: MilestoneTitle,
    notify: bool,
) -> Result<Vec<Milestone>, ParseError> {
    if list.len() >= MAX_MILESTONES {
        return Err(ParseError::new(format!(
            "An incident has {MAX_MILESTONES} milestones at most."
        )));
    }
    let next = list
        .iter()
        .filter_map(|m| m.key.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let mut out = list.to_vec();
    out.push(Milestone {
        key: next.to_string(),
        title: title.0,
        notify,
        done_at: None,
        done_by: None,
    });
    Ok(out)
}

/// "2 of 5 steps done".
pub fn progress(list: &[Milestone]) -> (usize, usize) {
    (
        list.iter().filter(|m| m.done_at.is_some()).count(),
        list.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_stable_as_milestones_are_added() {
        let t = |s| MilestoneTitle::parse(s).unwrap();
        let one = add(&[], t("Stop writes"), false).unwrap();
        let two = add(&one, t("Restore the 6 AM backup"), true).unwrap();
        assert_eq!(two[0].key, "1");
        assert_eq!(two[1].key, "2");
        assert_eq!(progress(&two), (0, 2));
        assert!(MilestoneTitle::parse(" ").is_err());
        assert!(MilestoneTitle::parse("a\nb").is_err());
    }
}
