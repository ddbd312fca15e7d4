//! Uptime from a component's recorded status changes, as Statuspage counts it:
//! downtime is the time in major outage plus a weight (0.3) times the time in
//! partial outage; degraded performance and maintenance count as up. Days are
//! the page zone's calendar days, however long the clock makes them.
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{ComponentStatus, ParseError};

/// How much an hour of partial outage counts against uptime, beside a full
/// hour for a major outage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UptimeWeights {
    partial: f64,
}

impl UptimeWeights {
    /// Statuspage's weight.
    pub const STATUSPAGE: Self = Self { partial: 0.3 };

    pub fn new(partial: f64) -> Result<Self, ParseError> {
        if (0.0..=1.0).contains(&partial) {
            Ok(Self { partial })
        } else {
            Err(ParseError::new(format!(
                "{partial} is not a weight from 0 to 1 (Statuspage's is 0.3)"
            )))
        }
    }

    pub fn partial(self) -> f64 {
        self.partial
    }

    /// Percent of `tally.counted` that was up; `None` when nothing was counted.
    pub fn percentage(self, tally: &Tally) -> Option<f64> {
        if tally.counted <= 0 {
            return None;
        }
        let down = tally.major as f64 + self.partial * tally.partial as f64;
        Some((100.0 * (1.0 - down / tally.counted as f64)).clamp(0.0, 100.0))
    }
}

/// A component's status over time, from when its record starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Nothing before this counts: the component did not exist yet, or staff
    /// chose to count from here.
    pub from: DateTime<Utc>,
    /// The status at `from`.
    pub initial: ComponentStatus,
    /// Each status holds from its time until the next; in time order.
    pub changes: Vec<(DateTime<Utc>, ComponentStatus)>,
}

impl Timeline {
    /// The record from `from` on, with the changes before it folded into its
    /// first status. `changes` may come in any order.
    pub fn new(
        from: DateTime<Utc>,
        initial: ComponentStatus,
        mut changes: Vec<(DateTime<Utc>, ComponentStatus)>,
    ) -> Self {
        changes.sort_by_key(|(at, _)| *at);
        let mut initial = initial;
        let mut later = Vec::with_capacity(changes.len());
        for (at, status) in changes {
            if at <= from {
                initial = status;
            } else {
                later.push((at, status));
            }
        }
        Self {
            from,
            initial,
            changes: later,
        }
    }

    /// The status at `at` (`None` before the record starts).
    pub fn status_at(&self, at: DateTime<Utc>) -> Option<ComponentStatus> {
        if at < self.from {
            return None;
        }
        Some(
            self.changes
                .iter()
                .take_while(|(t, _)| *t <= at)
                .last()
                .map_or(self.initial, |(_, s)| *s),
        )
    }

    /// The stretches of one status within `[start, end)`, in order.
    pub fn segments(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, ComponentStatus)> {
        let start = start.max(self.from);
        let mut out = Vec::new();
        if start >= end {
            return out;
        }
        let mut at = start;
        let mut status = self.status_at(start).unwrap_or(self.initial);
        for (t, s) in self.changes.iter().filter(|(t, _)| *t > start && *t < end) {
            out.push((at, *t, status));
            at = *t;
            status = *s;
        }
        out.push((at, end, status));
        out
    }

    /// A group's record: at each moment, the worst status among the members
    /// whose record has started. `None` for no members.
    pub fn worst_of(members: &[Timeline]) -> Option<Timeline> {
        let from = members.iter().map(|m| m.from).min()?;
        let mut moments: Vec<DateTime<Utc>> = members
            .iter()
            .flat_map(|m| std::iter::once(m.from).chain(m.changes.iter().map(|(t, _)| *t)))
            .collect();
        moments.sort();
        moments.dedup();
        let at = |t: DateTime<Utc>| {
            members
                .iter()
                .filter_map(|m| m.status_at(t))
                .reduce(ComponentStatus::worse)
                .unwrap_or(ComponentStatus::Operational)
        };
        let initial = at(from);
        let mut changes = Vec::new();
        let mut last = initial;
        for t in moments.into_iter().filter(|t| *t > from) {
            let s = at(t);
            if s != last {
                changes.push((t, s));
                last = s;
            }
        }
        Some(Timeline {
            from,
            initial,
            changes,
        })
    }

    /// How `[start, end)` went, counting the statuses up to `now` only: time
    /// still to come counts as up, as it would for a day that is not over.
    pub fn tally(&self, start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> Tally {
        let counted_from = start.max(self.from);
        let mut tally = Tally {
            counted: (end - counted_from).num_seconds().max(0),
            ..Tally::default()
        };
        for (a, b, status) in self.segments(start, end.min(now)) {
            let secs = (b - a).num_seconds();
            tally.worst = Some(tally.worst.map_or(status, |w| w.worse(status)));
            match status {
                ComponentStatus::MajorOutage => tally.major += secs,
                ComponentStatus::PartialOutage => tally.partial += secs,
                ComponentStatus::DegradedPerformance => tally.degraded += secs,
                ComponentStatus::UnderMaintenance => tally.maintenance += secs,
                ComponentStatus::Operational => {}
            }
        }
        tally
    }
}

/// Seconds of each kind over a stretch of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// The stretch's seconds after the record starts: the denominator.
    pub counted: i64,
    pub major: i64,
    pub partial: i64,
    pub degraded: i64,
    pub maintenance: i64,
    /// The worst status seen; `None` when none was (before the record, or to come).
    pub worst: Option<ComponentStatus>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.counted += other.counted;
        self.major += other.major;
        self.partial += other.partial;
        self.degraded += other.degraded;
        self.maintenance += other.maintenance;
        self.worst = match (self.worst, other.worst) {
            (Some(a), Some(b)) => Some(a.worse(b)),
            (a, b) => a.or(b),
        };
    }
}

/// When `date` begins in `tz`: its midnight, or, where the clock skips
/// midnight, the first moment of the day that exists. A date the zone skipped
/// whole (Samoa's 30 December 2011) begins when the next one does.
pub fn day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    // Gaps are at most a day; a quarter-hour step lands inside any of them.
    for _ in 0..=(2 * 24 * 4) {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// `[start, end)` of `date` in `tz`; `None` for the last date chrono knows.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((day_start(date, tz), day_start(date.succ_opt()?, tz)))
}

/// One calendar day of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub tally: Tally,
}

/// Each date from `first` to `last` (both included), as it went in `tz`.
pub fn days(
    timeline: &Timeline,
    tz: Tz,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Day> {
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter_map(|date| {
            let (start, end) = day_bounds(date, tz)?;
            Some(Day {
                date,
                start,
                end,
                tally: timeline.tally(start, end, now),
            })
        })
        .collect()
}

/// The whole of `days`.
pub fn total(days: &[Day]) -> Tally {
    let mut t = Tally::default();
    for d in days {
        t.add(&d.tally);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;

    #[test]
    fn statuspage_formula() {
        let w = UptimeWeights::STATUSPAGE;
        let t = Tally {
            counted: 10 * DAY,
            major: HOUR,
            partial: 10 * HOUR,
            degraded: 5 * DAY,
            maintenance: DAY,
            worst: Some(MajorOutage),
        };
        // 1 h + 0.3 x 10 h = 4 h down of 240 h; degraded and maintenance are up.
        let p = w.percentage(&t).unwrap();
        assert!((p - (100.0 - 100.0 * 4.0 / 240.0)).abs() < 1e-9, "{p}");
        let none = UptimeWeights::new(0.0).unwrap();
        assert!((none.percentage(&t).unwrap() - (100.0 - 100.0 / 240.0)).abs() < 1e-9);
        assert_eq!(w.percentage(&Tally::default()), None);
        assert!(UptimeWeights::new(1.5).is_err());
        assert!(UptimeWeights::new(-0.1).is_err());
    }

    #[test]
    fn an_outage_across_midnight_is_split_between_the_days() {
        let tz: Tz = "UTC".parse().unwrap();
        let t = Timeline::new(
            utc(2026, 1, 1, 0, 0),
            Operational,
            vec![
                (utc(2026, 1, 10, 23, 30), MajorOutage),
                (utc(2026, 1, 11, 0, 45), PartialOutage),
                (utc(2026, 1, 11, 2, 0), Operational),
            ],
        );
        let now = utc(2026, 2, 1, 0, 0);
        let d = days(&t, tz, date(2026, 1, 9), date(2026, 1, 12), now);
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].tally.worst, Some(Operational));
        assert_eq!((d[0].tally.major, d[0].tally.partial), (0, 0));
        assert_eq!(d[1].tally.major, 30 * 60);
        assert_eq!(d[1].tally.worst, Some(MajorOutage));
        assert_eq!(d[2].tally.major, 45 * 60);
        assert_eq!(d[2].tally.partial, 75 * 60);
        assert_eq!(d[2].tally.worst, Some(MajorOutage));
        assert_eq!(d[3].tally.worst, Some(Operational));
        assert!(d.iter().all(|d| d.tally.counted == DAY));
        let all = total(&d);
        assert_eq!(
            (all.major, all.partial, all.counted),
            (75 * 60, 75 * 60, 4 * DAY)
        );
    }

    #[test]
    fn a_change_at_midnight_belongs_to_the_day_it_starts() {
        let tz: Tz = "UTC".parse().unwrap();
        let t = Timeline::new(
            utc(2026, 1, 1, 0, 0),
            Operational,
            vec![
                (utc(2026, 1, 5, 0, 0), MajorOutage),
                (utc(2026, 1, 6, 0, 0), Operational),
            ],
        );
        let d = days(
            &t,
            tz,
            date(2026, 1, 4),
            date(2026, 1, 6),
            utc(2026, 2, 1, 0, 0),
        );
        assert_eq!(d[0].tally.worst, Some(Operational));
        assert_eq!(d[1].tally.major, DAY);
        assert_eq!(d[2].tally.worst, Some(Operational));
        assert_eq!(d[2].tally.major, 0);
    }

    #[test]
    fn days_follow_the_page_zone_across_daylight_saving() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // Spring forward on 8 March 2026 (23 hours), fall back on 1 November (25).
        let spring = day_bounds(date(2026, 3, 8), ny).unwrap();
        assert_eq!((spring.1 - spring.0).num_seconds(), 23 * HOUR);
        let fall = day_bounds(date(2026, 11, 1), ny).unwrap();
        assert_eq!((fall.1 - fall.0).num_seconds(), 25 * HOUR);

        // Down from 11 PM on the 7th until 4 AM on the 8th, local time:
        // one hour on the 7th, three real hours on the 8th (2-3 AM never happened).
        let t = Timeline::new(
            utc(2026, 1, 1, 0, 0),
            Operational,
            vec![
                (local(ny, 2026, 3, 7, 23, 0), MajorOutage),
                (local(ny, 2026, 3, 8, 4, 0), Operational),
            ],
        );
        let now = utc(2026, 4, 1, 0, 0);
        let d = days(&t, ny, date(2026, 3, 7), date(2026, 3, 8), now);
        assert_eq!(d[0].tally.major, HOUR);
        assert_eq!(d[0].tally.counted, DAY);
        assert_eq!(d[1].tally.major, 3 * HOUR);
        assert_eq!(d[1].tally.counted, 23 * HOUR);
        let p = UptimeWeights::STATUSPAGE.percentage(&total(&d)).unwrap();
        assert!((p - 100.0 * (1.0 - 4.0 / 47.0)).abs() < 1e-9, "{p}");

        // The repeated hour of 1 November counts twice: 1:00-1:59 EDT then EST.
        let t = Timeline::new(
            utc(2026, 1, 1, 0, 0),
            Operational,
            vec![
                (local(ny, 2026, 11, 1, 0, 30), PartialOutage),
                (local(ny, 2026, 11, 1, 3, 30), Operational),
            ],
        );
        let d = days(
            &t,
            ny,
            date(2026, 11, 1),
            date(2026, 11, 1),
            now + Duration::days(365),
        );
        assert_eq!(d[0].tally.partial, 4 * HOUR);
        assert_eq!(d[0].tally.counted, 25 * HOUR);
    }

    #[test]
    fn a_zone_without_midnight_starts_the_day_when_the_clock_does() {
        // Chile sprang forward at midnight: 2026-09-06 00:00 did not exist there.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let (start, end) = day_bounds(date(2026, 9, 6), santiago).unwrap();
        assert_eq!(start, local(santiago, 2026, 9, 6, 1, 0));
        assert_eq!((end - start).num_seconds(), 23 * HOUR);
        // Samoa skipped 30 December 2011 whole.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        let (start, end) = day_bounds(date(2011, 12, 30), apia).unwrap();
        assert_eq!(start, end);
    }

    #[test]
    fn only_the_record_and_the_past_count() {
        let tz: Tz = "UTC".parse().unwrap();
        // The component appears at noon on the 10th, down from 13:00; it is now 18:00 on the 11th.
        let t = Timeline::new(
            utc(2026, 1, 10, 12, 0),
            MajorOutage,
            vec![
                (utc(2026, 1, 9, 0, 0), Operational),
                (utc(2026, 1, 10, 13, 0), MajorOutage),
            ],
        );
        assert_eq!(
            t.initial, Operational,
            "a change before the record folds in"
        );
        let now = utc(2026, 1, 11, 18, 0);
        let d = days(&t, tz, date(2026, 1, 9), date(2026, 1, 12), now);
        assert_eq!(d[0].tally, Tally::default(), "before the record: nothing");
        assert_eq!(d[1].tally.counted, 12 * HOUR);
        assert_eq!(d[1].tally.major, 11 * HOUR);
        // Today counts whole, its outage so far only.
        assert_eq!(d[2].tally.counted, DAY);
        assert_eq!(d[2].tally.major, 18 * HOUR);
        // Tomorrow has no status yet, and counts as up.
        assert_eq!(d[3].tally.worst, None);
        assert_eq!(d[3].tally.major, 0);
    }

    #[test]
    fn a_group_is_as_bad_as_its_worst_member() {
        let a = Timeline::new(
            utc(2026, 1, 1, 0, 0),
            Operational,
            vec![
                (utc(2026, 1, 2, 10, 0), PartialOutage),
                (utc(2026, 1, 2, 14, 0), Operational),
            ],
        );
        let b = Timeline::new(
            utc(2026, 1, 2, 0, 0),
            DegradedPerformance,
            vec![
                (utc(2026, 1, 2, 12, 0), MajorOutage),
                (utc(2026, 1, 2, 13, 0), Operational),
            ],
        );
        let g = Timeline::worst_of(&[a, b]).unwrap();
        assert_eq!(g.from, utc(2026, 1, 1, 0, 0));
        assert_eq!(
            g.changes,
            vec![
                (utc(2026, 1, 2, 0, 0), DegradedPerformance),
                (utc(2026, 1, 2, 10, 0), PartialOutage),
                (utc(2026, 1, 2, 12, 0), MajorOutage),
                (utc(2026, 1, 2, 13, 0), PartialOutage),
                (utc(2026, 1, 2, 14, 0), Operational),
            ]
        );
        let t = g.tally(
            utc(2026, 1, 2, 0, 0),
            utc(2026, 1, 3, 0, 0),
            utc(2026, 2, 1, 0, 0),
        );
        assert_eq!((t.major, t.partial), (HOUR, 3 * HOUR));
        assert_eq!(Timeline::worst_of(&[]), None);
    }
}
