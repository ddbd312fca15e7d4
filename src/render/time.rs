//! The one place that knows how times read on the page.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// "Thursday, February 28, 2008", the date heading of the blog-style page.
pub fn date_heading(at: DateTime<Utc>, tz: Tz) -> String {
    day_heading(local_date(at, tz))
}

/// The date heading of a day.
pub fn day_heading(day: NaiveDate) -> String {
    day.format("%A, %B %-d, %Y").to_string()
}

/// "12:38 PM EST", with the abbreviation the zone uses on that day.
pub fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-I:%M %p %Z").to_string()
}

/// "Feb 28, 2008 12:38 PM EST", for lists where the date is not a heading.
pub fn date_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%b %-d, %Y %-I:%M %p %Z")
        .to_string()
}

/// The day `at` falls on for a reader in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// `at` as read by someone who already knows the day is `day`: the clock alone
/// ("12:38 PM EST") on that day, else with its date ("Feb 27, 11:02 PM EST"),
/// and with its year too when that is not `day`'s ("Dec 31, 2007, 11:02 PM EST").
pub fn on_day(at: DateTime<Utc>, tz: Tz, day: NaiveDate) -> String {
    let local = at.with_timezone(&tz);
    if local.date_naive() == day {
        clock(at, tz)
    } else if local.year() == day.year() {
        local.format("%b %-d, %-I:%M %p %Z").to_string()
    } else {
        local.format("%b %-d, %Y, %-I:%M %p %Z").to_string()
    }
}

/// The day it is for a reader in a zone. Times with no date heading above
/// them read against it, so a page showing them reads differently (and must
/// be rendered again) once [`Today::ends_at`].
#[derive(Debug, Clone, Copy)]
pub struct Today {
    pub tz: Tz,
    pub date: NaiveDate,
}

impl Today {
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self {
            tz,
            date: local_date(now, tz),
        }
    }

    /// `at` with its date unless it is today's.
    pub fn when(&self, at: DateTime<Utc>) -> String {
        on_day(at, self.tz, self.date)
    }

    /// The first moment of tomorrow in the reader's zone.
    pub fn ends_at(&self) -> DateTime<Utc> {
        day_start(self.date.succ_opt().unwrap_or(self.date), self.tz)
    }

    /// Today and the `n - 1` days before it, newest first.
    pub fn and_days_before(&self, n: u32) -> Vec<NaiveDate> {
        (0..u64::from(n))
            .filter_map(|i| self.date.checked_sub_days(chrono::Days::new(i)))
            .collect()
    }
}

/// The first moment of `day` in `tz`: midnight, or the end of a daylight-saving
/// jump that skips midnight (as some zones' clocks do).
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..24)
        .filter_map(|h| day.and_hms_opt(h, 0, 0))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// "February 2008", the month heading of the history.
pub fn month_heading(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %Y").to_string()
}

/// ISO 8601 with the offset of the zone, for `<time datetime>` and APIs.
pub fn iso(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The value a `datetime-local` input shows for `at` in `tz`.
pub fn input_value(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// Reads a `datetime-local` value typed in `tz`. Ambiguous times (the hour a
/// clock falls back) take the earlier instant; skipped ones are refused.
pub fn parse_input(value: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    naive
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn seed_times_read_as_in_the_post() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2008, 2, 28, 17, 38, 0).unwrap();
        assert_eq!(date_heading(at, ny), "Thursday, February 28, 2008");
        assert_eq!(clock(at, ny), "12:38 PM EST");
        assert_eq!(iso(at, ny), "2008-02-28T12:38:00-05:00");
    }

    #[test]
    fn summer_is_daylight_time() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2008, 7, 1, 16, 38, 0).unwrap();
        assert_eq!(clock(at, ny), "12:38 PM EDT");
    }

    #[test]
    fn a_time_carries_its_date_unless_the_reader_knows_the_day() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2008, 2, 28, 17, 38, 0).unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(on_day(at, ny, day(2008, 2, 28)), "12:38 PM EST");
        assert_eq!(on_day(at, ny, day(2008, 2, 29)), "Feb 28, 12:38 PM EST");
        assert_eq!(
            on_day(at, ny, day(2009, 1, 1)),
            "Feb 28, 2008, 12:38 PM EST"
        );
        // 03:30 UTC on the 29th is still the 28th in New York.
        let late = Utc.with_ymd_and_hms(2008, 2, 29, 3, 30, 0).unwrap();
        let today = Today::new(late, ny);
        assert_eq!(today.date, day(2008, 2, 28));
        assert_eq!(today.when(at), "12:38 PM EST");
        assert_eq!(
            today.ends_at(),
            Utc.with_ymd_and_hms(2008, 2, 29, 5, 0, 0).unwrap()
        );
        assert_eq!(
            today.and_days_before(3),
            [day(2008, 2, 28), day(2008, 2, 27), day(2008, 2, 26)]
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clock_jumps() {
        // Havana moved its clocks from 00:00 to 01:00 on 2013-03-10.
        let havana: Tz = "America/Havana".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2013, 3, 10).unwrap();
        assert_eq!(
            day_start(day, havana),
            Utc.with_ymd_and_hms(2013, 3, 10, 5, 0, 0).unwrap()
        );
    }

    #[test]
    fn input_round_trips() {
        let ber: Tz = "Europe/Berlin".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 5, 0).unwrap();
        assert_eq!(parse_input(&input_value(at, ber), ber), Some(at));
        assert_eq!(parse_input("garbage", ber), None);
    }
}
