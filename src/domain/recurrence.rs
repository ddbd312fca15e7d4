//! A recurring maintenance's rule: an RRULE (RFC 5545) read on the wall clock
//! of a zone, so that a window at 2:00 AM stays at 2:00 AM local across
//! daylight saving changes. The `rrule` crate expands the rule over floating
//! (zone-less) times; each one is then placed in the zone here, by one rule
//! for the whole project: an ambiguous time (the hour a clock falls back)
//! takes the earlier instant, a skipped one (the hour it springs forward) is
//! read with the offset before the gap, as RFC 5545 says (2:30 AM becomes
//! 3:30 AM daylight time).
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, Unvalidated};

use super::{ParseError, Window};

/// How many occurrences one expansion may give: two weeks of a daily rule
/// with a few windows a day, far beyond any plan of planned work.
const MOST: u16 = 200;

/// How many occurrences a rule may make in its first two weeks.
const MOST_IN_A_FORTNIGHT: usize = 28;

#[derive(Debug, Clone)]
pub struct Recurrence {
    rule: String,
    first: Window,
    tz: Tz,
}

impl Recurrence {
    /// Checks `raw` (an RRULE such as `FREQ=WEEKLY;BYDAY=SU`, with or
    /// without its `RRULE:` name) against the first window, in `tz`.
    pub fn parse(raw: &str, first: Window, tz: Tz) -> Result<Self, ParseError> {
        let raw = raw.trim();
        let raw = raw
            .strip_prefix("RRULE:")
            .or_else(|| raw.strip_prefix("rrule:"))
            .unwrap_or(raw)
            .trim();
        if raw.is_empty() {
            return Err(ParseError::new(
                "Give a rule like FREQ=WEEKLY;BYDAY=SU, or leave it empty for a single window.",
            ));
        }
        if raw.len() > 500 {
            return Err(ParseError::new(
                "A rule of more than 500 characters is not a plan: simplify it.",
            ));
        }
        if raw.contains(['\n', '\r']) || raw.to_ascii_uppercase().contains("DTSTART") {
            return Err(ParseError::new(
                "Give the rule alone, like FREQ=WEEKLY;BYDAY=SU: the window says when it starts.",
            ));
        }
        let rule: RRule<Unvalidated> = raw
            .parse()
            .map_err(|e| ParseError::new(format!("This is not a recurrence rule: {e}.")))?;
        if !matches!(
            rule.get_freq(),
            Frequency::Daily | Frequency::Weekly | Frequency::Monthly | Frequency::Yearly
        ) {
            return Err(ParseError::new(
                "Repeat it daily, weekly, monthly or yearly (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY).",
            ));
        }
        let this = Self {
            rule: raw.to_owned(),
            first,
            tz,
        };
        // Building it checks what parsing alone does not (BYxxx ranges, UNTIL).
        rule.build(this.floating(first.from))
            .map_err(|e| ParseError::new(format!("This rule cannot be used: {e}.")))?;
        // Every occurrence becomes a maintenance: a rule that makes dozens a
        // week, or windows that run into each other, is a slip, not a plan.
        let fortnight = this.windows(first.from, first.from + Duration::days(14));
        if fortnight.len() > MOST_IN_A_FORTNIGHT {
            return Err(ParseError::new(
                "This rule repeats more than twice a day: a maintenance window is not that frequent.",
            ));
        }
        if fortnight.windows(2).any(|w| w[0].until > w[1].from) {
            return Err(ParseError::new(
                "Each window would run into the next: shorten the window or repeat less often.",
            ));
        }
        Ok(this)
    }

    /// The rule as stored: what staff gave, without its `RRULE:` name.
    pub fn as_str(&self) -> &str {
        &self.rule
    }

    /// Every window of the series that has not ended at `from` and starts
    /// before `to`, soonest first, each with the start the rule gives it.
    /// The first window is always one of them, as RFC 5545 counts DTSTART.
    pub fn windows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
        let local = |t: DateTime<Utc>| t.with_timezone(&self.tz).naive_local();
        let length = local(self.first.until) - local(self.first.from);
        // Floating bounds a day wider than asked: offsets move by hours, and
        // the exact instants are compared below.
        let after = self.floating(from) - length - Duration::days(1);
        let before = self.floating(to) + Duration::days(1);
        let starts = match self.rule.parse::<RRule<Unvalidated>>() {
            Ok(rule) => match rule.build(self.floating(self.first.from)) {
                Ok(set) => set.after(after).before(before).all(MOST).dates,
                Err(_) => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        let mut out: Vec<Window> = std::iter::once(self.first)
            .chain(starts.into_iter().map(|s| {
                let start = s.naive_utc();
                let from = place(start, self.tz);
                // A start moved out of the skipped hour may pass its end:
                // the window then keeps its length.
                let mut until = place(start + length, self.tz);
                if until <= from {
                    until = from + length;
                }
                Window { from, until }
            }))
            .filter(|w| w.until > from && w.from < to)
            .collect();
        out.sort_by_key(|w| w.from);
        out.dedup_by_key(|w| w.from);
        out
    }

    /// `at`'s wall-clock time in the zone, as a zone-less time for the rule.
    fn floating(&self, at: DateTime<Utc>) -> DateTime<rrule::Tz> {
        rrule::Tz::UTC.from_utc_datetime(&at.with_timezone(&self.tz).naive_local())
    }
}

/// A wall-clock time in `tz` as an instant (see the module's note).
pub fn place(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => {
            // RFC 5545 (3.3.5): read with the offset in force before the gap.
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::hours(12)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_weekly_night_window_keeps_its_local_time_across_spring_forward() {
        // Saturdays 2:00 to 3:00 AM in New York; clocks spring forward on
        // Sunday March 10, 2030.
        let first =
            Window::parse(utc("2030-03-02T07:00:00Z"), utc("2030-03-02T08:00:00Z")).unwrap();
        let r = Recurrence::parse("FREQ=WEEKLY;BYDAY=SA", first, ny()).unwrap();
        let got: Vec<_> = r
            .windows(utc("2030-03-01T00:00:00Z"), utc("2030-03-20T00:00:00Z"))
            .into_iter()
            .map(|w| (w.from.to_rfc3339(), w.until.to_rfc3339()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2030-03-02T07:00:00+00:00".into(),
                    "2030-03-02T08:00:00+00:00".into()
                ),
                (
                    "2030-03-09T07:00:00+00:00".into(),
                    "2030-03-09T08:00:00+00:00".into()
                ),
                (
                    "2030-03-16T06:00:00+00:00".into(),
                    "2030-03-16T07:00:00+00:00".into()
                ),
            ]
        );
    }

    #[test]
    fn a_start_in_the_skipped_hour_is_read_with_the_offset_before_it() {
        // Daily 2:00 to 4:00 AM: on March 10, 2030 2:00 does not exist; the
        // window opens at 3:00 AM daylight time and still ends at 4:00.
        let first =
            Window::parse(utc("2030-03-09T07:00:00Z"), utc("2030-03-09T09:00:00Z")).unwrap();
        let r = Recurrence::parse("RRULE:FREQ=DAILY", first, ny()).unwrap();
        let w = r.windows(utc("2030-03-10T00:00:00Z"), utc("2030-03-10T23:00:00Z"));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].from, utc("2030-03-10T07:00:00Z"));
        assert_eq!(w[0].until, utc("2030-03-10T08:00:00Z"));
        // 2:30 to 3:30 would end where it starts: it keeps its hour.
        let first =
            Window::parse(utc("2030-03-09T07:30:00Z"), utc("2030-03-09T08:30:00Z")).unwrap();
        let r = Recurrence::parse("FREQ=DAILY", first, ny()).unwrap();
        let w = r.windows(utc("2030-03-10T00:00:00Z"), utc("2030-03-10T23:00:00Z"));
        assert_eq!(w[0].from, utc("2030-03-10T07:30:00Z"));
        assert_eq!(w[0].until, utc("2030-03-10T08:30:00Z"));
    }

    #[test]
    fn windows_that_ended_or_start_later_are_left_out() {
        let first =
            Window::parse(utc("2030-01-01T10:00:00Z"), utc("2030-01-01T12:00:00Z")).unwrap();
        let r = Recurrence::parse("FREQ=DAILY;COUNT=5", first, Tz::UTC).unwrap();
        let starts: Vec<_> = r
            .windows(utc("2030-01-02T11:00:00Z"), utc("2030-01-04T10:00:00Z"))
            .into_iter()
            .map(|w| w.from)
            .collect();
        // Jan 2 is still open at 11:00; Jan 4 starts at the bound, not before it.
        assert_eq!(
            starts,
            [utc("2030-01-02T10:00:00Z"), utc("2030-01-03T10:00:00Z")]
        );
        assert_eq!(
            r.windows(utc("2030-01-10T00:00:00Z"), utc("2030-02-01T00:00:00Z")),
            []
        );
    }

    #[test]
    fn rules_that_make_too_many_or_overlapping_windows_are_refused() {
        let first =
            Window::parse(utc("2030-01-01T10:00:00Z"), utc("2030-01-01T11:00:00Z")).unwrap();
        let e = Recurrence::parse("FREQ=DAILY;BYHOUR=1,5,9,13,17,21", first, Tz::UTC).unwrap_err();
        assert!(e.0.contains("more than twice a day"), "{e}");
        let long = Window::parse(utc("2030-01-01T10:00:00Z"), utc("2030-01-02T12:00:00Z")).unwrap();
        let e = Recurrence::parse("FREQ=DAILY", long, Tz::UTC).unwrap_err();
        assert!(e.0.contains("run into the next"), "{e}");
        assert!(Recurrence::parse("FREQ=DAILY;BYHOUR=10,22", first, Tz::UTC).is_ok());
    }

    #[test]
    fn rules_that_do_not_plan_maintenance_are_refused() {
        let first =
            Window::parse(utc("2030-01-01T10:00:00Z"), utc("2030-01-01T12:00:00Z")).unwrap();
        for bad in [
            "",
            "FREQ=HOURLY",
            "FREQ=MINUTELY",
            "FREQ=SOMETIMES",
            "DTSTART:20300101T100000Z\nRRULE:FREQ=DAILY",
            "FREQ=WEEKLY;BYDAY=XX",
        ] {
            assert!(Recurrence::parse(bad, first, Tz::UTC).is_err(), "{bad:?}");
        }
        assert_eq!(
            Recurrence::parse(" RRULE:FREQ=WEEKLY;BYDAY=SU ", first, Tz::UTC)
                .unwrap()
                .as_str(),
            "FREQ=WEEKLY;BYDAY=SU"
        );
    }
}
