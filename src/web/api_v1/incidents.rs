//! Incidents and their updates.
use std::collections::BTreeMap;

use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{
    idempotent, json, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody,
};
use crate::domain::promise::next_update_by;
use crate::domain::{
    not_in_future, ComponentStatus, Impact, IncidentStatus, IncidentTitle, UpdateBody, Window,
};
use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    incidents::{NewIncident, NewUpdate},
};
use crate::web::audit;

/// How many incidents the list returns.
const LIST: u64 = 50;

/// A new incident and its first update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentBody {
    /// The title, one line, 200 characters at most.
    pub name: String,
    /// `investigating` (default), `identified`, `monitoring` or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// `none`, `minor` (default), `major` or `critical`.
    #[serde(default)]
    pub impact: Option<String>,
    /// The first update's message, Markdown.
    pub message: String,
    /// Component id -> new status, e.g. `{"3": "major_outage"}`.
    #[serde(default)]
    pub components: Option<BTreeMap<String, String>>,
    /// Notify subscribers (default true).
    #[serde(default)]
    pub notify: Option<bool>,
    /// When it started (ISO 8601 with offset); default now. Not in the future.
    #[serde(default)]
    pub started_at: Option<String>,
    /// With `scheduled_until`: a scheduled maintenance from this time (ISO
    /// 8601 with offset). Its `status` is then `scheduled` (default),
    /// `in_progress`, `verifying` or `completed`, its `impact` defaults to
    /// `maintenance`, and `components` names what the window puts under
    /// maintenance when it starts (the statuses given are not applied now).
    #[serde(default)]
    pub scheduled_for: Option<String>,
    /// The maintenance's end, after `scheduled_for`.
    #[serde(default)]
    pub scheduled_until: Option<String>,
    /// Remind subscribers before the start (default true).
    #[serde(default)]
    pub scheduled_remind_prior: Option<bool>,
    /// How many minutes before the start (default 60, 1 to 10080).
    #[serde(default)]
    pub scheduled_remind_minutes: Option<i32>,
    /// Move to `in_progress` at `scheduled_for`, components under maintenance (default true).
    #[serde(default)]
    pub scheduled_auto_in_progress: Option<bool>,
    /// Move to `completed` at `scheduled_until`, components back to operational (default true).
    #[serde(default)]
    pub scheduled_auto_completed: Option<bool>,
    /// Notify subscribers of the automatic start (default true).
    #[serde(default)]
    pub auto_transition_deliver_notifications_at_start: Option<bool>,
    /// Notify subscribers of the automatic end (default true).
    #[serde(default)]
    pub auto_transition_deliver_notifications_at_end: Option<bool>,
    /// Promise the next update by this time (ISO 8601 with offset, within 7 days).
    #[serde(default)]
    pub next_update_by: Option<String>,
    /// Or promise it this many minutes from now (1 to 10080).
    #[serde(default)]
    pub next_update_in_minutes: Option<i64>,
    /// What a data-integrity incident says of its data.
    #[serde(default)]
    pub data_integrity: Option<sp::DataIntegrityJson>,
    /// The recovery's steps, named ahead (20 at most).
    #[serde(default)]
    pub milestones: Option<Vec<super::recovery::NewMilestoneBody>>,
    /// Repeats the window: an RRULE such as `FREQ=WEEKLY;BYDAY=SU`, read on
    /// the page zone's wall clock (see `POST /api/v1/incidents` in the README).
    #[serde(default)]
    pub scheduled_recurrence: Option<String>,
}

/// An update to post on an incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdateBody {
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub status: String,
    /// Markdown.
    pub message: String,
    /// Component id -> new status.
    #[serde(default)]
    pub components: Option<BTreeMap<String, String>>,
    /// Notify subscribers (default true).
    #[serde(default)]
    pub notify: Option<bool>,
    /// When it happened (ISO 8601 with offset); default now. Not in the future.
    #[serde(default)]
    pub display_at: Option<String>,
    /// With `resolved`: every component the incident affected that
    /// `components` does not name returns to `operational` in this update, as
    /// the admin form does. Default false: as in Statuspage's API, a client
    /// names each component it changes.
    #[serde(default)]
    pub operational_on_resolve: Option<bool>,
    /// Promise the next update by this time (ISO 8601 with offset, within 7 days).
    #[serde(default)]
    pub next_update_by: Option<String>,
    /// Or promise it this many minutes from now (1 to 10080).
    #[serde(default)]
    pub next_update_in_minutes: Option<i64>,
}

pub(super) fn field<T>(name: &str, r: Result<T, crate::domain::ParseError>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid(name, e.0))
}

fn components(
    map: Option<BTreeMap<String, String>>,
) -> Result<Vec<(i32, ComponentStatus)>, ApiError> {
    let mut out = Vec::new();
    for (id, status) in map.unwrap_or_default() {
        let name = format!("components.{id}");
        let id = id
            .parse::<i32>()
            .map_err(|_| ApiError::invalid(&name, "Component ids are whole numbers."))?;
        out.push((id, field(&name, ComponentStatus::parse(&status))?));
    }
    Ok(out)
}

fn when(name: &str, raw: Option<String>) -> Result<DateTime<Utc>, ApiError> {
    let now = store::now();
    match raw {
        None => Ok(now),
        Some(s) => {
            let at = DateTime::parse_from_rfc3339(s.trim())
                .map_err(|_| {
                    ApiError::invalid(name, "Give a time like 2008-02-28T12:38:00-05:00.")
                })?
                .with_timezone(&Utc);
            // Stored times keep whole microseconds.
            let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
            field(name, not_in_future(at, now))
        }
    }
}

/// A time as the API takes it: ISO 8601 with an offset, whole microseconds.
pub(super) fn instant(name: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let at = DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| ApiError::invalid(name, "Give a time like 2026-03-08T01:00:00-05:00."))?
        .with_timezone(&Utc);
    Ok(DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at))
}

/// The promise a body makes of the next update, by a time or in minutes.
fn promise(by: Option<&str>, in_minutes: Option<i64>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let now = store::now();
    match (by, in_minutes) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "next_update_in_minutes",
            "Promise the next update by a time or in minutes, not both.",
        )),
        (Some(by), None) => {
            let at = instant("next_update_by", by)?;
            field("next_update_by", next_update_by(at, now)).map(Some)
        }
        (None, Some(m)) => field(
            "next_update_in_minutes",
            next_update_by(now + chrono::Duration::minutes(m.clamp(-1, 100_000)), now),
        )
        .map(Some),
    }
}

/// How long before a maintenance's start its reminder goes: 1 minute to 7 days.
pub(super) fn remind_minutes(minutes: i32) -> Result<i32, ApiError> {
    if (1..=10_080).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(ApiError::invalid(
            "scheduled_remind_minutes",
            "Remind between 1 minute and 7 days (10080) before the start.",
        ))
    }
}

/// The maintenance a new incident's body asks for, if any.
fn plan(
    input: &NewIncidentBody,
    changes: &[(i32, ComponentStatus)],
) -> Result<Option<store::maintenance::Plan>, ApiError> {
    let (from, until) = match (&input.scheduled_for, &input.scheduled_until) {
        (None, None) => return Ok(None),
        (Some(f), Some(u)) => (instant("scheduled_for", f)?, instant("scheduled_until", u)?),
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "scheduled_for",
                "Give the window's start too.",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "scheduled_until",
                "Give the window's end too.",
            ))
        }
    };
    let minutes = remind_minutes(input.scheduled_remind_minutes.unwrap_or(60))?;
    Ok(Some(store::maintenance::Plan {
        window: field("scheduled_until", Window::parse(from, until))?,
        components: changes.iter().map(|(id, _)| *id).collect(),
        remind_minutes: input
            .scheduled_remind_prior
            .unwrap_or(true)
            .then_some(minutes),
        auto_in_progress: input.scheduled_auto_in_progress.unwrap_or(true),
        auto_completed: input.scheduled_auto_completed.unwrap_or(true),
        notify_start: input
            .auto_transition_deliver_notifications_at_start
            .unwrap_or(true),
        notify_end: input
            .auto_transition_deliver_notifications_at_end
            .unwrap_or(true),
    }))
}

pub(super) async fn incident_json(state: &AppState, id: i32) -> Result<sp::Incident, ApiError> {
    let view = store::incidents::load(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let comps = store::components::list(&state.db).await?;
    Ok(sp::incident(&state.page, &view, &comps))
}

/// The 50 most recent incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "Incidents", body = [sp::Incident]),
        Unauthorized,
    ))]
#[get("/incidents")]
pub async fn list_incidents(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let info = &state.page;
    let comps = store::components::list(&state.db).await?;
    let list = store::incidents::recent(&state.db, LIST).await?;
    let out: Vec<sp::Incident> = list.iter().map(|i| sp::incident(info, i, &comps)).collect();
    json(StatusCode::OK, &out)
}

/// One incident with all its updates, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "v1", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses(
        (status = 200, description = "The incident", body = sp::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized,
    ))]
#[get("/incidents/{id}")]
pub async fn get_incident(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    json(StatusCode::OK, &incident_json(&state, id).await?)
}

/// Publishes an incident with its first update; subscribers are notified as from the staff form.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "v1", security(("bearer" = [])),
    request_body = NewIncidentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result")),
    responses(
        (status = 201, description = "Published", body = sp::Incident),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/incidents")]
pub async fn create_incident(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let input: NewIncidentBody = parse_json(&body)?;
        let changes = components(input.components.clone())?;
        let plan = plan(&input, &changes)?;
        let maintenance = plan.is_some();
        let new = NewIncident {
            title: field("name", IncidentTitle::parse(&input.name))?,
            impact: match &input.impact {
                Some(i) => field("impact", Impact::parse(i))?,
                None if maintenance => Impact::Maintenance,
                None => Impact::Minor,
            },
            seed_key: None,
            integrity: match &input.data_integrity {
                Some(d) => super::recovery::integrity(d)?,
                None => None,
            },
            milestones: super::recovery::milestones(input.milestones.as_deref().unwrap_or(&[]))?,
            plan,
            update: NewUpdate {
                status: match &input.status {
                    Some(s) => field("status", IncidentStatus::parse_for(s, maintenance))?,
                    None if maintenance => IncidentStatus::Scheduled,
                    None => IncidentStatus::Investigating,
                },
                body: field("message", UpdateBody::parse(&input.message))?,
                // A maintenance changes its components when its window opens.
                components: if maintenance { Vec::new() } else { changes },
                at: when("started_at", input.started_at.clone())?,
                author_id: caller.0.model.created_by,
                notify: input.notify.unwrap_or(true),
                operational_on_resolve: false,
                next_update_by: promise(
                    input.next_update_by.as_deref(),
                    input.next_update_in_minutes,
                )?,
            },
        };
        if let Some(rule) = input.scheduled_recurrence.as_deref() {
            return super::maintenance::create_series(&state, &caller, new, rule).await;
        }
        let published = store::incidents::create(&state.db, new).await?;
        state.published();
        tracing::info!(
            incident = published.incident_id,
            token = caller.0.model.id,
            "incident published through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "incident.create",
            Subject::new("incident", published.incident_id),
            "Published the incident",
            None,
            audit::incident(&state, published.incident_id).await,
        )
        .await;
        written(
            StatusCode::CREATED,
            &incident_json(&state, published.incident_id).await?,
        )
    })
    .await
}

/// Posts an update; subscribers are notified as from the staff form.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/updates", tag = "v1", security(("bearer" = [])),
    request_body = NewUpdateBody,
    params(
        ("id" = String, Path, description = "Incident id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 201, description = "Posted; the incident as it now reads", body = sp::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/incidents/{id}/updates")]
pub async fn post_update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let input: NewUpdateBody = parse_json(&body)?;
        let update = NewUpdate {
            status: field("status", IncidentStatus::parse(&input.status))?,
            body: field("message", UpdateBody::parse(&input.message))?,
            components: components(input.components)?,
            at: when("display_at", input.display_at)?,
            author_id: caller.0.model.created_by,
            notify: input.notify.unwrap_or(true),
            operational_on_resolve: input.operational_on_resolve.unwrap_or(false),
            next_update_by: promise(
                input.next_update_by.as_deref(),
                input.next_update_in_minutes,
            )?,
        };
        let status = update.status;
        let before = audit::incident(&state, id).await;
        let published = match store::incidents::post_update(&state.db, id, update).await {
            Err(store::StoreError::Conflict {
                field: "at",
                message,
            }) => return Err(ApiError::invalid("display_at", message)),
            other => other?,
        };
        state.published();
        tracing::info!(
            incident = id,
            update = published.update_id,
            token = caller.0.model.id,
            status = status.as_str(),
            "update posted through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "update.post",
            Subject::new("incident", id),
            format!("Posted an update ({})", status.label()),
            before,
            audit::incident(&state, id).await,
        )
        .await;
        written(StatusCode::CREATED, &incident_json(&state, id).await?)
    })
    .await
}
