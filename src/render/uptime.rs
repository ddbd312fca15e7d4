//! Uptime as readers get it: the `uptime.json` document, and the view models
//! of the bars on the page and the calendars of `/uptime`.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::uptime::{day_start, Day, Tally, Timeline};
use crate::domain::{ComponentStatus, UptimeWeights};
use crate::store::uptime::IncidentSpan;

/// The date it is in `tz` at `now`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// When an uptime counted at `at` over days up to `last` should be counted
/// again with no write: a minute on while a status other than operational
/// runs (its time grows; an answer is at most that old), and at the next
/// midnight when `turns_with_the_day` (the days shown move on).
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

/// A stretch of seconds as the day's text says it: "1 h 30 min".
pub fn duration(secs: i64) -> String {
    let minutes = secs / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "less than a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// What happened on a day, in a sentence: "Major outage for 1 h 30 min,
/// partial outage for 30 min."
pub fn day_text(t: &Tally) -> String {
    if t.worst.is_none() {
        return "No data.".to_owned();
    }
    let parts: Vec<String> = [
        (t.major, "major outage"),
        (t.partial, "partial outage"),
        (t.degraded, "degraded performance"),
        (t.maintenance, "under maintenance"),
    ]
    .into_iter()
    .filter(|(secs, _)| *secs > 0)
    .map(|(secs, what)| format!("{what} for {}", duration(secs)))
    .collect();
    if parts.is_empty() {
        return "No downtime.".to_owned();
    }
    let text = parts.join(", ");
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentLinkVm {
    pub path: String,
    pub title: String,
}

/// One day of one component or group.
#[derive(Debug, Clone, Serialize)]
pub struct DayVm {
    /// "2026-12-03"
    pub iso: String,
    /// "Thursday, December 3, 2026"
    pub label: String,
    /// The day of the month, for calendars.
    pub number: u32,
    /// The worst status of the day, or "none" without data: a class name.
    pub slug: &'static str,
    /// "Major Outage", "No data"
    pub status_label: &'static str,
    /// A sign of the status beside its colour, for calendars: "!!" for a major outage.
    pub mark: &'static str,
    /// What happened and for how long.
    pub text: String,
    pub incidents: Vec<IncidentLinkVm>,
    /// Anything to tell beyond a day of plain operation.
    pub notable: bool,
}

fn day_vm(day: &Day, incidents: &[IncidentSpan], at: DateTime<Utc>) -> DayVm {
    let incidents: Vec<IncidentLinkVm> = incidents
        .iter()
        .filter(|i| i.overlaps(day.start, day.end.min(at)) && day.start <= at)
        .map(|i| IncidentLinkVm {
            path: format!("incidents/{}", i.id),
            title: super::views::shown_title(&i.title, i.resolved_at.is_some()),
        })
        .collect();
    let (slug, status_label) = match day.tally.worst {
        Some(s) => (s.as_str(), s.label()),
        None => ("none", "No data"),
    };
    DayVm {
        iso: day.date.to_string(),
        label: day.date.format("%A, %B %-d, %Y").to_string(),
        number: chrono::Datelike::day(&day.date),
        slug,
        status_label,
        mark: day.tally.worst.map_or("", mark),
        text: if day.start > at {
            "Still to come.".to_owned()
        } else {
            day_text(&day.tally)
        },
        notable: day
            .tally
            .worst
            .is_some_and(|s| s != ComponentStatus::Operational)
            || !incidents.is_empty(),
        incidents,
    }
}

/// The sign a calendar shows beside a status's colour (see the legend on `/uptime`).
pub fn mark(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::Operational => "",
        ComponentStatus::UnderMaintenance => "M",
        ComponentStatus::DegradedPerformance => "~",
        ComponentStatus::PartialOutage => "!",
        ComponentStatus::MajorOutage => "!!",
    }
}

/// The bars of one component or group over `first..=last`.
#[derive(Debug, Serialize)]
pub struct BarsVm {
    /// The element id, for links to it.
    pub anchor: String,
    pub name: String,
    pub is_group: bool,
    /// A group's members that show bars.
    pub members: Vec<String>,
    /// "99.93", cut to two decimals; none before the record starts.
    pub percentage: Option<String>,
    pub days: Vec<DayVm>,
    pub notable_days: usize,
    /// Days before the record starts, which count for nothing.
    pub days_without_data: usize,
}

/// What a component's or group's row of bars needs, beside its name.
pub struct Row<'a> {
    pub anchor: String,
    pub name: String,
    pub members: Vec<String>,
    pub timeline: &'a Timeline,
    pub incidents: Vec<IncidentSpan>,
}

pub fn bars(
    row: Row<'_>,
    tz: Tz,
    first: NaiveDate,
    last: NaiveDate,
    at: DateTime<Utc>,
    weights: UptimeWeights,
) -> BarsVm {
    let days = crate::domain::uptime::days(row.timeline, tz, first, last, at);
    let tally = crate::domain::uptime::total(&days);
    let days: Vec<DayVm> = days.iter().map(|d| day_vm(d, &row.incidents, at)).collect();
    BarsVm {
        anchor: row.anchor,
        name: row.name,
        is_group: !row.members.is_empty(),
        members: row.members,
        percentage: weights
            .percentage(&tally)
            .map(|p| format!("{:.2}", cut(p, 2))),
        notable_days: days.iter().filter(|d| d.notable).count(),
        days_without_data: days.iter().filter(|d| d.slug == "none").count(),
        days,
    }
}

/// One month of a component's calendar, Monday first.
#[derive(Debug, Serialize)]
pub struct MonthVm {
    /// "October 2026"
    pub heading: String,
    pub percentage: Option<String>,
    /// Weeks of seven cells; `None` pads the first and last weeks.
    pub weeks: Vec<Vec<Option<DayVm>>>,
    /// The month's days with something to tell, in order.
    pub notable: Vec<DayVm>,
}

/// The calendar of the month that `month` is in, counted up to `at`.
pub fn month(
    timeline: &Timeline,
    incidents: &[IncidentSpan],
    tz: Tz,
    month: NaiveDate,
    at: DateTime<Utc>,
    weights: UptimeWeights,
) -> Option<MonthVm> {
    use chrono::Datelike;
    let first = month.with_day(1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let last = next.pred_opt()?;
    let days = crate::domain::uptime::days(timeline, tz, first, last, at);
    // Only the days so far count toward the month's uptime.
    let so_far: Vec<Day> = days.iter().filter(|d| d.start <= at).cloned().collect();
    let tally = crate::domain::uptime::total(&so_far);
    let vms: Vec<DayVm> = days.iter().map(|d| day_vm(d, incidents, at)).collect();
    let mut cells: Vec<Option<DayVm>> = vec![None; first.weekday().num_days_from_monday() as usize];
    cells.extend(vms.iter().cloned().map(Some));
    while cells.len() % 7 != 0 {
        cells.push(None);
    }
    Some(MonthVm {
        heading: first.format("%B %Y").to_string(),
        percentage: weights
            .percentage(&tally)
            .map(|p| format!("{:.2}", cut(p, 2))),
        weeks: cells.chunks(7).map(<[_]>::to_vec).collect(),
        notable: vms.into_iter().filter(|d| d.notable).collect(),
    })
}
