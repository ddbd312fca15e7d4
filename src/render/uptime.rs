//! Uptime as readers get it: the `uptime.json` document, and the view models
//! of the bars on the page and the calendars of `/uptime`.
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::uptime::{day_start, Tally, Timeline};
use crate::domain::{ComponentStatus, UptimeWeights};
use crate::store::uptime::IncidentSpan;

/// The moment uptime is counted at: the start of this minute, so that an
/// answer stays the same, and cached, for the whole minute.
pub fn counted_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(Duration::minutes(1)).unwrap_or(now)
}

/// The date it is in `tz` at `now`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// When an uptime counted at `at` over days up to `last` would read
/// differently with no write: next minute while a status other than
/// operational is running (its time grows), and at the next midnight when
/// `turns_with_the_day` (the days shown move on).
pub fn changes_at(
    timelines: &[&Timeline],
    last: NaiveDate,
    tz: Tz,
    at: DateTime<Utc>,
    turns_with_the_day: bool,
) -> Option<DateTime<Utc>> {
    let today = today(at, tz);
    let midnight = today.succ_opt().map(|d| day_start(d, tz));
    let running = last >= today
        && timelines.iter().any(|t| {
            t.status_at(at)
                .is_some_and(|s| s != ComponentStatus::Operational)
        });
    let next_minute = running.then(|| at + Duration::minutes(1));
    [next_minute, midnight.filter(|_| turns_with_the_day)]
        .into_iter()
        .flatten()
        .min()
}

/// A percentage as shown: cut, never rounded, to `decimals`, so that any
/// downtime at all reads below 100.
pub fn cut(p: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (p * scale).floor() / scale
}

/// `GET /api/v2/components/{id}/uptime.json`, in the shape of Statuspage's
/// component uptime.
#[derive(Debug, Serialize, ToSchema)]
pub struct UptimeDocument {
    /// The component's id.
    pub id: String,
    pub name: String,
    /// The first day counted (see `warnings` when it is not the one asked for).
    pub range_start: NaiveDate,
    /// The last day counted.
    pub range_end: NaiveDate,
    /// 100 x (1 - (major_outage + weight x partial_outage) / the range's seconds),
    /// the weight 0.3 unless the page sets another; cut to 4 decimals.
    pub uptime_percentage: f64,
    /// Seconds in major outage.
    pub major_outage: i64,
    /// Seconds in partial outage.
    pub partial_outage: i64,
    /// Why the range differs from the one asked for.
    pub warnings: Vec<String>,
    /// The incidents that changed this component and overlap the range, oldest first.
    pub related_events: Vec<RelatedEvent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedEvent {
    /// The incident's id.
    pub id: String,
    pub name: String,
}

#[allow(clippy::too_many_arguments)]
pub fn document(
    id: i32,
    name: &str,
    first: NaiveDate,
    last: NaiveDate,
    tally: &Tally,
    weights: UptimeWeights,
    incidents: &[IncidentSpan],
    warnings: Vec<String>,
) -> UptimeDocument {
    UptimeDocument {
        id: id.to_string(),
        name: name.to_owned(),
        range_start: first,
        range_end: last,
        uptime_percentage: cut(weights.percentage(tally).unwrap_or(100.0), 4),
        major_outage: tally.major,
        partial_outage: tally.partial,
        warnings,
        related_events: incidents
            .iter()
            .map(|i| RelatedEvent {
                id: i.id.to_string(),
                name: i.title.clone(),
            })
            .collect(),
    }
}
