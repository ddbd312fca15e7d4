//! Editing and cancelling a scheduled maintenance. Creating one and posting
//! its updates go through the incidents' endpoints, as in Statuspage's API.
use actix_web::{http::StatusCode, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::incidents::{field, incident_json, instant, remind_minutes};
use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{
    idempotent, parse_json, parse_optional_json, path_id, read_body, written, ApiError, Caller,
    ErrorBody, Written,
};
use crate::domain::{IncidentStatus, IncidentTitle, Recurrence};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    incidents::NewIncident,
    maintenance::{Edit, NewSeries},
};
use crate::web::audit;

/// What to change on a scheduled maintenance; a field left out stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenancePatch {
    /// The title, one line, 200 characters at most.
    #[serde(default)]
    pub name: Option<String>,
    /// The window's start (ISO 8601 with offset). Fixed once the maintenance
    /// has started.
    #[serde(default)]
    pub scheduled_for: Option<String>,
    /// The window's end, after the start and at most 31 days from it.
    #[serde(default)]
    pub scheduled_until: Option<String>,
    /// Remind subscribers before the start; false turns the reminder off.
    #[serde(default)]
    pub scheduled_remind_prior: Option<bool>,
    /// How many minutes before the start (1 to 10080); giving it turns the
    /// reminder on.
    #[serde(default)]
    pub scheduled_remind_minutes: Option<i32>,
    /// Move to `in_progress` at `scheduled_for`.
    #[serde(default)]
    pub scheduled_auto_in_progress: Option<bool>,
    /// Move to `completed` at `scheduled_until`.
    #[serde(default)]
    pub scheduled_auto_completed: Option<bool>,
    /// Notify subscribers of the automatic start.
    #[serde(default)]
    pub auto_transition_deliver_notifications_at_start: Option<bool>,
    /// Notify subscribers of the automatic end.
    #[serde(default)]
    pub auto_transition_deliver_notifications_at_end: Option<bool>,
}

impl MaintenancePatch {
    /// The first field the body gives, for an error about the whole request.
    fn first_given(&self) -> &'static str {
        [
            ("name", self.name.is_some()),
            ("scheduled_for", self.scheduled_for.is_some()),
            ("scheduled_until", self.scheduled_until.is_some()),
            (
                "scheduled_remind_prior",
                self.scheduled_remind_prior.is_some(),
            ),
            (
                "scheduled_remind_minutes",
                self.scheduled_remind_minutes.is_some(),
            ),
            (
                "scheduled_auto_in_progress",
                self.scheduled_auto_in_progress.is_some(),
            ),
            (
                "scheduled_auto_completed",
                self.scheduled_auto_completed.is_some(),
            ),
            (
                "auto_transition_deliver_notifications_at_start",
                self.auto_transition_deliver_notifications_at_start
                    .is_some(),
            ),
            (
                "auto_transition_deliver_notifications_at_end",
                self.auto_transition_deliver_notifications_at_end.is_some(),
            ),
        ]
        .into_iter()
        .find_map(|(name, given)| given.then_some(name))
        .unwrap_or("scheduled_for")
    }
}

/// How to cancel; the body may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Notify subscribers of the cancellation (default true).
    #[serde(default)]
    pub notify: Option<bool>,
}

/// The reminder a patch asks for, against the one set now.
fn remind(p: &MaintenancePatch, now: Option<i32>) -> Result<Option<Option<i32>>, ApiError> {
    if let Some(m) = p.scheduled_remind_minutes {
        remind_minutes(m)?;
    }
    Ok(
        match (p.scheduled_remind_prior, p.scheduled_remind_minutes) {
            (Some(false), _) => Some(None),
            (Some(true), m) => Some(Some(m.or(now).unwrap_or(60))),
            (None, Some(m)) => Some(Some(m)),
            (None, None) => None,
        },
    )
}

/// Changes a scheduled maintenance's title, window, reminder or automatic
/// edges. Nothing is posted and nobody is notified: post an update to tell
/// subscribers. Moving the start re-arms a reminder already sent.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "v1", security(("bearer" = [])),
    request_body = MaintenancePatch,
    params(
        ("id" = String, Path, description = "Maintenance id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 200, description = "Changed; the maintenance as it now reads", body = crate::render::statuspage::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[patch("/incidents/{id}")]
pub async fn edit_maintenance(
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
        let p: MaintenancePatch = parse_json(&body)?;
        let current = store::incidents::load(&state.db, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if !current.is_maintenance() {
            return Err(ApiError::invalid(
                p.first_given(),
                "Only a scheduled maintenance is edited here: this incident has no window.",
            ));
        }
        let edit = Edit {
            title: p
                .name
                .as_deref()
                .map(|n| field("name", IncidentTitle::parse(n)))
                .transpose()?,
            from: p
                .scheduled_for
                .as_deref()
                .map(|s| instant("scheduled_for", s))
                .transpose()?,
            until: p
                .scheduled_until
                .as_deref()
                .map(|s| instant("scheduled_until", s))
                .transpose()?,
            remind_minutes: remind(&p, current.model.scheduled_remind_minutes)?,
            auto_in_progress: p.scheduled_auto_in_progress,
            auto_completed: p.scheduled_auto_completed,
            notify_start: p.auto_transition_deliver_notifications_at_start,
            notify_end: p.auto_transition_deliver_notifications_at_end,
        };
        let before = audit::incident(&state, id).await;
        let edited = store::maintenance::edit(&state.db, id, edit).await?;
        if edited.changed {
            state.published();
            tracing::info!(
                incident = id,
                token = caller.0.model.id,
                remind_again = edited.remind_again,
                "maintenance edited through the API"
            );
            audit::record(
                &state,
                &Actor::token(&caller.0.model),
                "maintenance.edit",
                Subject::new("incident", id),
                "Edited the maintenance",
                before,
                audit::incident(&state, id).await,
            )
            .await;
        }
        written(StatusCode::OK, &incident_json(&state, id).await?)
    })
    .await
}

/// Cancels a scheduled maintenance that has not started: a final update,
/// "This scheduled maintenance has been cancelled.", marks it `completed`;
/// the page and `/maintenance.ics` show it cancelled. One that started is
/// finished by posting a `completed` update instead.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/cancel", tag = "v1", security(("bearer" = [])),
    request_body(content = Option<CancelBody>, description = "Optional"),
    params(
        ("id" = String, Path, description = "Maintenance id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 200, description = "Cancelled; the maintenance as it now reads", body = crate::render::statuspage::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/incidents/{id}/cancel")]
pub async fn cancel_maintenance(
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
        let input: CancelBody = parse_optional_json(&body)?;
        let published = store::maintenance::cancel(
            &state.db,
            id,
            caller.0.model.created_by,
            input.notify.unwrap_or(true),
        )
        .await?;
        state.published();
        tracing::info!(
            incident = id,
            update = published.update_id,
            token = caller.0.model.id,
            "maintenance cancelled through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "maintenance.cancel",
            Subject::new("incident", id),
            "Cancelled the maintenance",
            None,
            audit::incident(&state, id).await,
        )
        .await;
        written(StatusCode::OK, &incident_json(&state, id).await?)
    })
    .await
}

/// `POST /api/v1/incidents` with `scheduled_recurrence`: the series, its
/// first window as given and the occurrences of the next 14 days, each a
/// maintenance of its own. Answers the first occurrence.
pub(super) async fn create_series(
    state: &AppState,
    caller: &Caller,
    new: NewIncident,
    rule: &str,
) -> Written {
    let Some(plan) = new.plan else {
        return Err(ApiError::invalid(
            "scheduled_recurrence",
            "A recurring maintenance needs its first window: give scheduled_for and scheduled_until.",
        ));
    };
    if new.update.status != IncidentStatus::Scheduled {
        return Err(ApiError::invalid(
            "status",
            "Each occurrence of a recurring maintenance starts as scheduled.",
        ));
    }
    let zone = state.page.zone().tz();
    let recurrence = field(
        "scheduled_recurrence",
        Recurrence::parse(rule, plan.window, zone),
    )?;
    let series = NewSeries {
        title: new.title,
        impact: new.impact,
        body: new.update.body,
        plan,
        recurrence,
        zone,
        author_id: new.update.author_id,
        notify: new.update.notify,
    };
    let made = store::maintenance::create_series(&state.db, series, store::now()).await?;
    state.published();
    tracing::info!(
        occurrences = ?made,
        token = caller.0.model.id,
        "recurring maintenance scheduled through the API"
    );
    audit::record(
        state,
        &Actor::token(&caller.0.model),
        "maintenance.create_series",
        Subject::new("incident", made[0]),
        format!(
            "Scheduled a recurring maintenance ({} windows so far)",
            made.len()
        ),
        None,
        audit::incident(state, made[0]).await,
    )
    .await;
    written(StatusCode::CREATED, &incident_json(state, made[0]).await?)
}

/// Stops the recurring series this occurrence belongs to: no window of it is
/// made after this; the windows already made stay, each cancelled on its
/// own. Stopping a stopped series changes nothing.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/stop-series", tag = "v1", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "An occurrence of the series"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 200, description = "Stopped; the occurrence as it reads", body = crate::render::statuspage::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 422, description = "Not an occurrence of a recurring maintenance", body = ErrorBody),
        Unauthorized, Forbidden, KeyReused,
    ))]
#[post("/incidents/{id}/stop-series")]
pub async fn stop_series(
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
        let view = store::incidents::load(&state.db, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let Some(series) = view.model.series_id else {
            return Err(ApiError::invalid(
                "id",
                "This is not an occurrence of a recurring maintenance: there is no series to stop.",
            ));
        };
        store::maintenance::stop_series(&state.db, series).await?;
        tracing::info!(
            series,
            token = caller.0.model.id,
            "maintenance series stopped through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "maintenance.stop_series",
            Subject::new("incident", id),
            format!("Stopped the recurring series {series}"),
            None,
            None,
        )
        .await;
        written(StatusCode::OK, &incident_json(&state, id).await?)
    })
    .await
}
