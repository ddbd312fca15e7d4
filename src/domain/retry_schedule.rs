//! When a failed delivery is tried again, and when it is given up.
use std::time::Duration;

use rand::Rng;

/// The waits after the 1st, 2nd, ... failed attempt; after the last the delivery is dead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// About 27 hours of trying in all: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT: &str = "5s,5m,30m,2h,5h,10h,10h";

/// A receiver's Retry-After is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT).expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// Reads "5s,5m,30m,2h": numbers with a unit of s, m, h or d.
    pub fn parse(text: &str) -> Result<Self, String> {
        let steps = text
            .split(',')
            .map(|s| parse_duration(s.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if steps.is_empty() {
            return Err("the retry schedule needs at least one wait".into());
        }
        Ok(Self(steps))
    }

    pub fn steps(&self) -> &[Duration] {
        &self.0
    }

    /// The wait before the next attempt after `failures` failed attempts (1 = the
    /// first failed), or None when the delivery is to be given up. The wait is
    /// spread by +/-20% so that many deliveries failing together do not all come
    /// back at the same instant, and is never shorter than the receiver asked.
    pub fn next_wait(&self, failures: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let base = *self.0.get((failures as usize).checked_sub(1)?)?;
        let jitter = rand::thread_rng().gen_range(0.8..=1.2);
        let wait = base.mul_f64(jitter);
        Some(match retry_after {
            Some(asked) => wait.max(asked.min(MAX_RETRY_AFTER)),
            None => wait,
        })
    }
}

/// "90s", "5m", "2h", "1d"; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 5s, 5m or 2h"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(format!("{s:?} is not a duration like 5s, 5m or 2h")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?} is not a duration like 5s, 5m or 2h"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_seven_waits_then_dead() {
        let s = RetrySchedule::default();
        assert_eq!(s.steps().len(), 7);
        assert_eq!(s.steps()[0], Duration::from_secs(5));
        assert_eq!(s.steps()[6], Duration::from_secs(36000));
        assert!(s.next_wait(0, None).is_none());
        assert!(s.next_wait(7, None).is_some());
        assert!(
            s.next_wait(8, None).is_none(),
            "the 8th failure is the last"
        );
    }

    #[test]
    fn waits_are_jittered_within_a_fifth() {
        let s = RetrySchedule::default();
        for _ in 0..200 {
            let w = s.next_wait(2, None).unwrap().as_secs_f64();
            assert!((240.0..=360.0).contains(&w), "{w}");
        }
    }

    #[test]
    fn retry_after_is_honoured_but_bounded() {
        let s = RetrySchedule::parse("1s").unwrap();
        let w = s.next_wait(1, Some(Duration::from_secs(600))).unwrap();
        assert_eq!(w, Duration::from_secs(600));
        let w = s
            .next_wait(1, Some(Duration::from_secs(10 * 86400)))
            .unwrap();
        assert_eq!(w, MAX_RETRY_AFTER);
    }

    #[test]
    fn parses_units_and_refuses_nonsense() {
        let s = RetrySchedule::parse("1s, 2m,3h,1d,250ms,7").unwrap();
        assert_eq!(
            s.steps(),
            &[
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(10800),
                Duration::from_secs(86400),
                Duration::from_millis(250),
                Duration::from_secs(7),
            ]
        );
        assert!(RetrySchedule::parse("").is_err());
        assert!(RetrySchedule::parse("5x").is_err());
        assert!(RetrySchedule::parse("-1s").is_err());
    }
}
