//! Uptime for readers: one component's uptime over a range as JSON, the
//! bars on the page, and the `/uptime` calendars. Cached like every public
//! read, until the next write or until the clock changes what they say.
use std::collections::HashMap;

use actix_web::{get, http::StatusCode, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use super::api_v1::{path_id, ApiError, ErrorBody};
use super::api_v2::public_read;
use super::public::{cached, layout_context, reader_zone, respond};
use super::AppError;
use crate::domain::uptime::{self as arith, day_bounds, Timeline};
use crate::render::cache::Rendered;
use crate::render::uptime::{self as view, UptimeDocument};
use crate::state::AppState;
use crate::store::{self, components::ComponentView, uptime::IncidentSpan};

/// The days the page's bars show, and the range `uptime.json` counts by default.
pub const DAYS_SHOWN: u64 = 90;
/// The longest range `uptime.json` counts: a leap year.
const MAX_DAYS: i64 = 366;

#[derive(serde::Deserialize)]
struct RangeQuery {
    range_start: Option<String>,
    range_end: Option<String>,
}

fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        field: Some(field.to_owned()),
        ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_range", message)
    }
}

fn date(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => NaiveDate::parse_from_str(r, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_request(field, format!("{field} must be a date like 2026-12-03."))),
    }
}

/// What the shared render said, in the API's words.
fn api_error(e: AppError) -> ApiError {
    match e {
        AppError::NotFound => ApiError::not_found(),
        AppError::BadRequest(m) => bad_request("range_start", m),
        other => ApiError::internal(anyhow::anyhow!("{other:#}")),
    }
}

/// A component's uptime over a range of days in the page's zone, by
/// Statuspage's formula.
#[utoipa::path(get, path = "/api/v2/components/{id}/uptime.json", tag = "v2",
    params(
        ("id" = String, Path, description = "Component id"),
        ("range_start" = Option<NaiveDate>, Query, description = "First day counted (default: 89 days before `range_end`); a day before the component's record starts is moved to that day, with a warning"),
        ("range_end" = Option<NaiveDate>, Query, description = "Last day counted (default: today in the page's zone); a day after today is moved to today, with a warning"),
    ),
    responses(
        (status = 200, description = "Uptime over the range", body = UptimeDocument),
        (status = 400, description = "A date that does not parse, a range that ends before it starts, is longer than 366 days, or has no day in the component's record", body = ErrorBody),
        (status = 404, description = "No such component", body = ErrorBody),
    ))]
#[get("/api/v2/components/{id}/uptime.json")]
pub async fn component_uptime(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let q = web::Query::<RangeQuery>::from_query(req.query_string())
        .map_err(|e| bad_request("query", e.to_string()))?;
    let start = date("range_start", q.range_start.as_deref())?;
    let end = date("range_end", q.range_end.as_deref())?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(bad_request(
                "range_end",
                "range_end must not be before range_start.",
            ));
        }
    }
    let key = format!(
        "/api/v2/components/{id}/uptime.json?{}&{}|api",
        start.map_or(String::new(), |d| d.to_string()),
        end.map_or(String::new(), |d| d.to_string()),
    );
    let page = cached(&req, &state, key, "application/json", || async {
        let c = store::components::find(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let zone = state.page.zone().tz();
        let at = store::now();
        let today = view::today(at, zone);
        let mut warnings = Vec::new();
        let mut last = end.unwrap_or(today);
        // Past today, or by default, the answer moves on with the day.
        let turns_with_the_day = last >= today;
        if last > today {
            warnings.push(format!(
                "range_end {last} is after today; counted to {today}."
            ));
            last = today;
        }
        let mut first = start.unwrap_or_else(|| {
            last.checked_sub_days(Days::new(DAYS_SHOWN - 1))
                .unwrap_or(NaiveDate::MIN)
        });
        let record = store::uptime::record_start(&state.db, &c, zone).await?;
        let record_day = view::today(record, zone);
        if first < record_day {
            warnings.push(format!(
                "range_start {first} is before the component's uptime record starts; counted from {record_day}."
            ));
            first = record_day;
        }
        if first > last {
            return Err(AppError::BadRequest(format!(
                "The range has no day to count: this component's uptime record starts on {record_day}, and today is {today}."
            )));
        }
        if (last - first).num_days() + 1 > MAX_DAYS {
            return Err(AppError::BadRequest(format!(
                "A range is {MAX_DAYS} days at most."
            )));
        }
        let (from, to) = match (day_bounds(first, zone), day_bounds(last, zone)) {
            (Some((from, _)), Some((_, to))) => (from, to),
            _ => return Err(AppError::BadRequest("The range is out of bounds.".into())),
        };
        let timelines =
            store::uptime::timelines(&state.db, std::slice::from_ref(&c), zone, from, to).await?;
        let Some(timeline) = timelines.get(&c.id) else {
            return Err(AppError::NotFound);
        };
        let days = arith::days(timeline, zone, first, last, at);
        let tally = arith::total(&days);
        let incidents = store::uptime::incidents(&state.db, &[c.id], from, to)
            .await?
            .remove(&c.id)
            .unwrap_or_default();
        let doc = view::document(
            c.id,
            &c.name,
            first,
            last,
            &tally,
            state.settings.uptime_weights,
            &incidents,
            warnings,
        );
        let body = serde_json::to_string(&doc).map_err(|e| AppError::Internal(e.into()))?;
        Ok(
            match view::changes_at(&[timeline], last, zone, at, turns_with_the_day) {
                Some(when) => Rendered::until(body, when),
                None => Rendered::from(body),
            },
        )
    })
    .await
    .map_err(api_error)?;
    Ok(public_read(respond(&req, page, None)))
}

/// The components that show bars, with their timelines and incidents over
/// `[from, to)`, and their groups' (the worst of the members that show bars).
struct Loaded {
    /// In page order: a group, then its members.
    order: Vec<Entry>,
    timelines: HashMap<i32, Timeline>,
    groups: HashMap<i32, Timeline>,
    incidents: HashMap<i32, Vec<IncidentSpan>>,
}

enum Entry {
    Group {
        id: i32,
        name: String,
        members: Vec<(i32, String)>,
    },
    Component {
        id: i32,
        name: String,
    },
}

impl Loaded {
    async fn read(
        state: &AppState,
        db: &impl sea_orm::ConnectionTrait,
        list: &[ComponentView],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let shown: Vec<&ComponentView> = list.iter().filter(|c| c.model.show_uptime).collect();
        let models: Vec<_> = shown.iter().map(|c| c.model.clone()).collect();
        let ids: Vec<i32> = models.iter().map(|c| c.id).collect();
        let zone = state.page.zone().tz();
        let timelines = store::uptime::timelines(db, &models, zone, from, to).await?;
        let incidents = store::uptime::incidents(db, &ids, from, to).await?;
        let mut order = Vec::new();
        let mut groups = HashMap::new();
        for c in &shown {
            match &c.group {
                None => order.push(Entry::Component {
                    id: c.model.id,
                    name: c.model.name.clone(),
                }),
                Some(g) if !groups.contains_key(&g.id) => {
                    let members: Vec<(i32, String)> = shown
                        .iter()
                        .filter(|m| m.group.as_ref().is_some_and(|mg| mg.id == g.id))
                        .map(|m| (m.model.id, m.model.name.clone()))
                        .collect();
                    let member_lines: Vec<Timeline> = members
                        .iter()
                        .filter_map(|(id, _)| timelines.get(id).cloned())
                        .collect();
                    if let Some(t) = Timeline::worst_of(&member_lines) {
                        groups.insert(g.id, t);
                    }
                    order.push(Entry::Group {
                        id: g.id,
                        name: g.name.clone(),
                        members,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Self {
            order,
            timelines,
            groups,
            incidents,
        })
    }

    /// Every row, a group's right before its members'.
    fn rows<'a>(&'a self) -> Vec<view::Row<'a>> {
        let mut rows = Vec::new();
        for entry in &self.order {
            let component = |id: i32, name: &str, rows: &mut Vec<view::Row<'a>>| {
                if let Some(t) = self.timelines.get(&id) {
                    rows.push(view::Row {
                        anchor: format!("uptime-{id}"),
                        name: name.to_owned(),
                        members: Vec::new(),
                        timeline: t,
                        incidents: self.incidents.get(&id).cloned().unwrap_or_default(),
                    });
                }
            };
            match entry {
                Entry::Component { id, name } => component(*id, name, &mut rows),
                Entry::Group { id, name, members } => {
                    if let Some(t) = self.groups.get(id) {
                        let mut incidents: Vec<IncidentSpan> = members
                            .iter()
                            .flat_map(|(m, _)| self.incidents.get(m).cloned().unwrap_or_default())
                            .collect();
                        incidents.sort_by_key(|i| (i.started_at, i.id));
                        incidents.dedup_by_key(|i| i.id);
                        rows.push(view::Row {
                            anchor: format!("uptime-group-{id}"),
                            name: name.clone(),
                            members: members.iter().map(|(_, n)| n.clone()).collect(),
                            timeline: t,
                            incidents,
                        });
                    }
                    for (m, n) in members {
                        component(*m, n, &mut rows);
                    }
                }
            }
        }
        rows
    }

    fn changes_at(&self, last: NaiveDate, zone: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let all: Vec<&Timeline> = self.timelines.values().collect();
        if all.is_empty() {
            return None;
        }
        view::changes_at(&all, last, zone, at, true)
    }
}

/// The public page's bars: the last 90 days of each component that shows
/// them, and of its group; and when they would read differently with no write.
pub async fn bars(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    list: &[ComponentView],
    at: DateTime<Utc>,
) -> Result<(Vec<view::BarsVm>, Option<DateTime<Utc>>), AppError> {
    let zone = state.page.zone().tz();
    let last = view::today(at, zone);
    let first = last
        .checked_sub_days(Days::new(DAYS_SHOWN - 1))
        .unwrap_or(last);
    let (Some((from, _)), Some((_, to))) = (day_bounds(first, zone), day_bounds(last, zone)) else {
        return Ok((Vec::new(), None));
    };
    let loaded = Loaded::read(state, db, list, from, to).await?;
    let rows = loaded
        .rows()
        .into_iter()
        .map(|row| view::bars(row, zone, first, last, at, state.settings.uptime_weights))
        .collect();
    Ok((rows, loaded.changes_at(last, zone, at)))
}

/// How many months `/uptime` shows, this one included.
const MONTHS_SHOWN: u32 = 3;

#[derive(serde::Serialize)]
struct CalendarVm {
    anchor: String,
    name: String,
    members: Vec<String>,
    months: Vec<view::MonthVm>,
}

/// Monthly calendars of the last three months, per component and group.
#[get("/uptime")]
pub async fn calendars(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (zone, cookie) = reader_zone(&req, &state)?;
    let key = format!("/uptime|{}", zone.name());
    let links = state.links();
    let page = cached(&req, &state, key, "text/html; charset=utf-8", || {
        uptime_page(&state, &state.db, zone, store::now(), &links)
    })
    .await?;
    Ok(respond(&req, page, cookie))
}

/// The calendars page from `db` as it reads at `at`: what `/uptime` serves
/// and what a static copy holds (with its `links`).
pub async fn uptime_page(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    zone: crate::domain::PageZone,
    at: DateTime<Utc>,
    links: &crate::render::links::Links,
) -> Result<Rendered, AppError> {
    let page_zone = state.page.zone().tz();
    let today = view::today(at, page_zone);
    let this_month = today.with_day(1).unwrap_or(today);
    let first = this_month
        .checked_sub_months(Months::new(MONTHS_SHOWN - 1))
        .unwrap_or(this_month);
    let last = this_month
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    let (Some((from, _)), Some((_, to))) =
        (day_bounds(first, page_zone), day_bounds(last, page_zone))
    else {
        return Err(AppError::NotFound);
    };
    let list = store::components::list(db).await?;
    let loaded = Loaded::read(state, db, &list, from, to).await?;
    let rows: Vec<CalendarVm> = loaded
        .rows()
        .into_iter()
        .map(|row| CalendarVm {
            months: first
                .iter_days()
                .take_while(|d| *d <= last)
                .filter(|d| d.day() == 1)
                .filter_map(|m| {
                    view::month(
                        row.timeline,
                        &row.incidents,
                        page_zone,
                        m,
                        at,
                        state.settings.uptime_weights,
                    )
                })
                .collect(),
            anchor: row.anchor,
            name: row.name,
            members: row.members,
        })
        .collect();
    let mut ctx = layout_context(state, zone);
    links.insert_into(&mut ctx);
    ctx.insert("calendars", &rows);
    ctx.insert("uptime_zone", page_zone.name());
    ctx.insert("path", "uptime");
    let body = state.tera.render("public/uptime.html", &ctx)?;
    Ok(match loaded.changes_at(today, page_zone, at) {
        Some(when) => Rendered::until(body, when),
        None => Rendered::from(body),
    })
}
