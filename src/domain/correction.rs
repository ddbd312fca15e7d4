//! A published update's text corrected: the earlier texts are kept, in order,
//! so the incident's history shows what readers were first told.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ParseError;

/// A text an update once had, until it was corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub body: String,
    /// When the correction replaced it.
    pub replaced_at: DateTime<Utc>,
    /// Who corrected it: a staff member's name, or the API token's.
    pub replaced_by: String,
}

/// How many times one update may be corrected: past that, post a new update.
pub const MAX_CORRECTIONS: usize = 20;

/// The revisions once `old` is replaced by `new`: refused when nothing
/// changes, or when the update was corrected too often.
pub fn correct(
    revisions: &[Revision],
    old: &str,
    new: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<Vec<Revision>, ParseError> {
    if old == new {
        return Err(ParseError::new(
            "The text is the same as it reads now: change it to correct it.",
        ));
    }
    if revisions.len() >= MAX_CORRECTIONS {
        return Err(ParseError::new(format!(
            "This update was corrected {MAX_CORRECTIONS} times: post a new update instead."
        )));
    }
    let mut out = revisions.to_vec();
    out.push(Revision {
        body: old.to_owned(),
        replaced_at: at,
        replaced_by: by.to_owned(),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correction_keeps_the_text_it_replaces_and_must_change_something() {
        let at = DateTime::parse_from_rfc3339("2008-02-28T18:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(correct(&[], "same", "same", at, "Shannon").is_err());
        let one = correct(&[], "Chekout fails.", "Checkout fails.", at, "Shannon").unwrap();
        assert_eq!(one[0].body, "Chekout fails.");
        let two = correct(
            &one,
            "Checkout fails.",
            "Card checkout fails.",
            at,
            "Shannon",
        )
        .unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].body, "Checkout fails.");
    }
}
