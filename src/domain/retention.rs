//! When scheduled backups are due, and which of them to keep.
//!
//! A backup is due once a slot: the schedule's interval counted from the Unix
//! epoch, so every instance agrees on the slot of a moment whatever its start.
//! Retention keeps, newest first, the last backup of each of the latest
//! `hourly` hours and of the latest `daily` days (UTC), as `borg prune
//! --keep-hourly --keep-daily` does: a backup kept by the hourly rule still
//! marks its day as seen, but does not count toward the daily ones. The newest
//! is always kept.
use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};

/// The start of the slot `at` falls in, for an interval of `every`.
pub fn slot(at: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let every = every.as_millis().max(1) as i64;
    let ms = at.timestamp_millis();
    DateTime::from_timestamp_millis(ms - ms.rem_euclid(every)).unwrap_or(at)
}

/// The start of the slot after the one `at` falls in.
pub fn next_slot(at: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    slot(at, every) + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1))
}

/// How many of each period to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    pub hourly: u32,
    pub daily: u32,
}

/// The indices into `times` of the backups to keep (in any order of `times`).
pub fn keep(times: &[DateTime<Utc>], rules: Keep) -> BTreeSet<usize> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(times[i]));
    let mut kept = BTreeSet::new();
    let hour = |t: DateTime<Utc>| (t.date_naive(), t.hour());
    let day = |t: DateTime<Utc>| (t.date_naive(), 24u32);
    for (n, period) in [
        (rules.hourly, &hour as &dyn Fn(DateTime<Utc>) -> _),
        (rules.daily, &day),
    ] {
        let mut last = None;
        let mut taken = 0;
        for &i in &order {
            if taken >= n {
                break;
            }
            let p = period(times[i]);
            if last == Some(p) {
                continue;
            }
            last = Some(p);
            // Borg's rule: one already kept marks its period without counting.
            if kept.insert(i) {
                taken += 1;
            }
        }
    }
    if let Some(&newest) = order.first() {
        kept.insert(newest);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn slots_start_at_multiples_of_the_interval() {
        let hour = Duration::from_secs(3600);
        assert_eq!(
            slot(at("2026-12-06T22:59:59Z"), hour),
            at("2026-12-06T22:00:00Z")
        );
        assert_eq!(
            slot(at("2026-12-06T22:00:00Z"), hour),
            at("2026-12-06T22:00:00Z")
        );
        assert_eq!(
            next_slot(at("2026-12-06T22:10:00Z"), hour),
            at("2026-12-06T23:00:00Z")
        );
        let fifteen = Duration::from_secs(900);
        assert_eq!(
            slot(at("2026-12-06T22:44:00Z"), fifteen),
            at("2026-12-06T22:30:00Z")
        );
    }

    #[test]
    fn keeps_the_last_of_each_latest_hour_and_day_as_borg_does() {
        let times = [
            at("2026-12-05T23:59:00Z"),
            at("2026-12-06T01:00:00Z"),
            at("2026-12-06T02:00:00Z"),
            at("2026-12-06T02:30:00Z"),
            at("2026-12-06T03:00:00Z"),
            at("2026-12-07T05:00:00Z"),
            at("2026-12-07T06:00:00Z"),
        ];
        let kept = keep(
            &times,
            Keep {
                hourly: 2,
                daily: 2,
            },
        );
        // Hours: 07T06 and 07T05. Days: the 7th is seen (kept already), so
        // the 6th's last (03:00) and the 5th's count.
        assert_eq!(kept, BTreeSet::from([0, 4, 5, 6]));
        let kept = keep(
            &times,
            Keep {
                hourly: 4,
                daily: 0,
            },
        );
        // 02:30 is its hour's last; 02:00 goes.
        assert_eq!(kept, BTreeSet::from([3, 4, 5, 6]));
    }

    #[test]
    fn the_newest_is_always_kept() {
        let times = [at("2026-12-06T01:00:00Z"), at("2026-12-06T01:10:00Z")];
        assert_eq!(
            keep(
                &times,
                Keep {
                    hourly: 0,
                    daily: 0
                }
            ),
            BTreeSet::from([1])
        );
        assert!(keep(
            &[],
            Keep {
                hourly: 3,
                daily: 3
            }
        )
        .is_empty());
    }
}
