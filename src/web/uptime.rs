//! Uptime for readers: one component's uptime over a range as JSON. Cached
//! like every public read, until the next write or until the clock changes it.
use actix_web::{get, http::StatusCode, web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};

use super::api_v1::{path_id, ApiError, ErrorBody};
use super::api_v2::public_read;
use super::public::{cached, respond};
use super::AppError;
use crate::domain::uptime::{self as arith, day_bounds};
use crate::render::cache::Rendered;
use crate::render::uptime::{self as view, UptimeDocument};
use crate::state::AppState;
use crate::store;

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
        let zone = state.page.zone.tz();
        let at = view::counted_at(store::now());
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
