//! What a long recovery says beyond its updates: the data it touched and the
//! steps it takes. A restore script ticks its milestones as it goes.
use actix_web::{http::StatusCode, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::incidents::{field, incident_json, instant};
use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{
    idempotent, parse_json, parse_optional_json, path_id, read_body, written, ApiError, Caller,
    ErrorBody,
};
use crate::domain::{DataIntegrity, DataLoss, MilestoneTitle, ReaderAction};
use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, milestones::Ticker};
use crate::web::audit;

/// A milestone to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestoneBody {
    /// One line, 200 characters at most.
    pub title: String,
    /// Completing it notifies subscribers, as an update (default false).
    #[serde(default)]
    pub notify: Option<bool>,
}

/// Ticking a milestone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// When it was done (ISO 8601 with offset); default now. Not in the future.
    #[serde(default)]
    pub done_at: Option<String>,
}

/// The domain's reading of an API body's data integrity; `None` when empty.
pub(super) fn integrity(d: &sp::DataIntegrityJson) -> Result<Option<DataIntegrity>, ApiError> {
    let time =
        |name: &str, raw: &Option<String>| raw.as_deref().map(|r| instant(name, r)).transpose();
    let parsed = DataIntegrity {
        from: time("data_integrity.from", &d.from)?,
        until: time("data_integrity.until", &d.until)?,
        restored_to: time("data_integrity.restored_to", &d.restored_to)?,
        loss: d
            .loss
            .as_deref()
            .map(|l| field("data_integrity.loss", DataLoss::parse(l)))
            .transpose()?,
        actions: d
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                field(
                    &format!("data_integrity.actions[{i}]"),
                    ReaderAction::parse(a),
                )
            })
            .collect::<Result<_, _>>()?,
    };
    parsed.parse().map_err(|(name, e)| {
        let name = match name {
            "data_until" => "data_integrity.until",
            "reader_actions" => "data_integrity.actions",
            other => other,
        };
        ApiError::invalid(name, e.0)
    })
}

pub(super) fn milestones(
    list: &[NewMilestoneBody],
) -> Result<Vec<(MilestoneTitle, bool)>, ApiError> {
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            Ok((
                field(
                    &format!("milestones[{i}].title"),
                    MilestoneTitle::parse(&m.title),
                )?,
                m.notify.unwrap_or(false),
            ))
        })
        .collect()
}

/// Sets what the incident says of its data; an empty object clears it. The
/// page shows it at once; subscribers see it with the next update.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/data_integrity", tag = "v1", security(("bearer" = [])),
    request_body = sp::DataIntegrityJson,
    params(
        ("id" = String, Path, description = "Incident id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 200, description = "The incident as it now reads", body = sp::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[put("/incidents/{id}/data_integrity")]
pub async fn put_data_integrity(
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
        let input: sp::DataIntegrityJson = parse_json(&body)?;
        let before = audit::incident(&state, id).await;
        store::incidents::set_integrity(&state.db, id, integrity(&input)?).await?;
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "incident.data_integrity",
            Subject::new("incident", id),
            "Saved what the incident says of its data",
            before,
            audit::incident(&state, id).await,
        )
        .await;
        state.published();
        tracing::info!(
            incident = id,
            token = caller.0.model.id,
            "data integrity set through the API"
        );
        written(StatusCode::OK, &incident_json(&state, id).await?)
    })
    .await
}

/// Adds a milestone at the end of the incident's list.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/milestones", tag = "v1", security(("bearer" = [])),
    request_body = NewMilestoneBody,
    params(
        ("id" = String, Path, description = "Incident id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 201, description = "Added; the incident as it now reads", body = sp::Incident),
        (status = 404, description = "No such incident", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/incidents/{id}/milestones")]
pub async fn add_milestone(
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
        let input: NewMilestoneBody = parse_json(&body)?;
        let title = field("title", MilestoneTitle::parse(&input.title))?;
        let added =
            store::milestones::add(&state.db, id, title, input.notify.unwrap_or(false)).await?;
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "milestone.add",
            Subject::new("incident", id),
            format!("Added the milestone {}", added.title),
            None,
            audit::incident(&state, id).await,
        )
        .await;
        state.published();
        tracing::info!(incident = id, milestone = %added.key, token = caller.0.model.id, "milestone added through the API");
        written(StatusCode::CREATED, &incident_json(&state, id).await?)
    })
    .await
}

/// Marks a milestone done. Ticking one already done changes nothing and
/// notifies no one again, so a restore script may simply retry.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/milestones/{key}/complete", tag = "v1", security(("bearer" = [])),
    request_body(content = CompleteBody, description = "Optional: when it was done"),
    params(
        ("id" = String, Path, description = "Incident id"),
        ("key" = String, Path, description = "The milestone's key"),
    ),
    responses(
        (status = 200, description = "Done; the incident as it now reads", body = sp::Incident),
        (status = 404, description = "No such incident or milestone", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/incidents/{id}/milestones/{key}/complete")]
pub async fn complete_milestone(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let (id, key) = path.into_inner();
    let id = path_id(&id)?;
    let body = read_body(payload).await?;
    let input: CompleteBody = parse_optional_json(&body)?;
    let now = store::now();
    let at = match input.done_at.as_deref() {
        Some(raw) => field(
            "done_at",
            crate::domain::not_in_future(instant("done_at", raw)?, now),
        )?,
        None => now,
    };
    let who = Ticker {
        name: &caller.0.model.name,
        author_id: caller.0.model.created_by,
    };
    let before = audit::incident(&state, id).await;
    let ticked = store::milestones::complete(&state.db, id, &key, who, at).await?;
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "milestone.complete",
        Subject::new("incident", id),
        format!("Marked the milestone {} done", ticked.milestone.title),
        before,
        audit::incident(&state, id).await,
    )
    .await;
    state.published();
    tracing::info!(
        incident = id,
        milestone = %key,
        notified = ticked.update_id.is_some(),
        token = caller.0.model.id,
        "milestone done through the API"
    );
    super::json(StatusCode::OK, &incident_json(&state, id).await?)
}
