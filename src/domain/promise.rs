//! "Next update by 3:30 PM": the time an update promises the next one by,
//! and what readers are told of it once the time has come.
use chrono::{DateTime, Duration, Utc};

use super::ParseError;

/// The quick choices the form offers, in minutes from now.
pub const PROMISE_MINUTES: [i64; 4] = [15, 30, 60, 120];

/// The furthest ahead a promise may be: beyond it, "next update" is not a promise.
pub const LONGEST_PROMISE: Duration = Duration::days(7);

/// A promised time as staff give it: ahead of `now`, not beyond [`LONGEST_PROMISE`].
pub fn next_update_by(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ParseError> {
    if at <= now {
        return Err(ParseError::new(
            "The next update must be promised for a time still to come.",
        ));
    }
    if at > now + LONGEST_PROMISE {
        return Err(ParseError::new(
            "Promise the next update within 7 days, or promise none.",
        ));
    }
    // Stored times keep whole seconds: the page shows minutes.
    Ok(DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at))
}

/// Minutes from `now`, one of the form's quick choices or any from 1 to 7 days' worth.
pub fn in_minutes(minutes: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ParseError> {
    let m: i64 = minutes
        .trim()
        .parse()
        .map_err(|_| ParseError::new("Choose when the next update comes."))?;
    next_update_by(now + Duration::minutes(m), now)
}

/// What readers are told of the latest update's promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    /// "Next update by 3:30 PM EST".
    Due(DateTime<Utc>),
    /// "Next update was due at 3:30 PM EST": the time passed with no update.
    Overdue(DateTime<Utc>),
}

impl Promise {
    /// The promise an incident shows at `now`: its latest update's, while it is open.
    pub fn of(latest: Option<DateTime<Utc>>, open: bool, now: DateTime<Utc>) -> Option<Self> {
        let by = latest.filter(|_| open)?;
        Some(if now < by {
            Self::Due(by)
        } else {
            Self::Overdue(by)
        })
    }

    pub fn at(self) -> DateTime<Utc> {
        match self {
            Self::Due(at) | Self::Overdue(at) => at,
        }
    }

    pub fn is_overdue(self) -> bool {
        matches!(self, Self::Overdue(_))
    }

    /// When what readers are told changes by itself: a due promise turns overdue.
    pub fn changes_at(self) -> Option<DateTime<Utc>> {
        match self {
            Self::Due(at) => Some(at),
            Self::Overdue(_) => None,
        }
    }
}

/// How a promise was answered, once a later update came: in time, or late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Kept,
    /// The next update came at this time, after the promise.
    Late(DateTime<Utc>),
}

impl Answer {
    /// A promise of `by`, answered by an update shown at `next`. The page shows
    /// minutes, so an update within the promised minute keeps it.
    pub fn of(by: DateTime<Utc>, next: DateTime<Utc>) -> Self {
        if next < by + Duration::minutes(1) {
            Self::Kept
        } else {
            Self::Late(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_promise_is_kept_by_an_update_within_its_minute_and_late_after() {
        let by = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(Answer::of(by, by - Duration::hours(1)), Answer::Kept);
        assert_eq!(Answer::of(by, by + Duration::seconds(59)), Answer::Kept);
        let late = by + Duration::minutes(1);
        assert_eq!(Answer::of(by, late), Answer::Late(late));
    }

    #[test]
    fn a_promise_is_for_a_time_to_come_within_a_week() {
        let now = DateTime::parse_from_rfc3339("2008-02-28T17:38:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(next_update_by(now, now).is_err());
        assert!(next_update_by(now + Duration::days(8), now).is_err());
        assert_eq!(in_minutes("30", now).unwrap(), now + Duration::minutes(30));
        assert!(in_minutes("soon", now).is_err());
    }

    #[test]
    fn a_passed_promise_reads_as_overdue_and_a_resolved_incident_promises_nothing() {
        let by = DateTime::parse_from_rfc3339("2008-02-28T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let before = by - Duration::minutes(1);
        assert_eq!(Promise::of(Some(by), true, before), Some(Promise::Due(by)));
        assert_eq!(Promise::of(Some(by), true, by), Some(Promise::Overdue(by)));
        assert_eq!(Promise::of(Some(by), false, before), None);
        assert_eq!(Promise::Due(by).changes_at(), Some(by));
        assert_eq!(Promise::Overdue(by).changes_at(), None);
    }
}
