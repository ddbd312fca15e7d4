//! The one place that knows how times read on the page.
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// "Thursday, February 28, 2008", the date heading of the blog-style page.
pub fn date_heading(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%A, %B %-d, %Y").to_string()
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
    fn input_round_trips() {
        let ber: Tz = "Europe/Berlin".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 5, 0).unwrap();
        assert_eq!(parse_input(&input_value(at, ber), ber), Some(at));
        assert_eq!(parse_input("garbage", ber), None);
    }
}
