//! Correcting a published update through the API, as staff do in the admin.
use actix_web::{http::StatusCode, patch, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::incidents::{field, incident_json};
use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{idempotent, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody};
use crate::domain::UpdateBody;
use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, corrections::Corrector};
use crate::web::audit;

/// A correction of an update's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// The corrected text, Markdown.
    pub message: String,
    /// Tell subscribers, by a notice that says it is a correction (default false).
    #[serde(default)]
    pub notify: Option<bool>,
}

/// Corrects an update's text. Readers see the new text marked as corrected,
/// with the original kept; the update's `updated_at` becomes the correction's time.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}/updates/{update_id}", tag = "v1", security(("bearer" = [])),
    request_body = CorrectionBody,
    params(
        ("id" = String, Path, description = "Incident id"),
        ("update_id" = String, Path, description = "Update id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result"),
    ),
    responses(
        (status = 200, description = "Corrected; the incident as it now reads", body = sp::Incident),
        (status = 404, description = "No such incident or update", body = ErrorBody),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[patch("/incidents/{id}/updates/{update_id}")]
pub async fn correct_update(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let (id, update_id) = path.into_inner();
    let (id, update_id) = (path_id(&id)?, path_id(&update_id)?);
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let input: CorrectionBody = parse_json(&body)?;
        let text = field("message", UpdateBody::parse(&input.message))?;
        let who = Corrector {
            name: &caller.0.model.name,
            at: store::now(),
        };
        let before = audit::incident(&state, id).await;
        let done = store::corrections::correct(
            &state.db,
            id,
            update_id,
            text,
            who,
            input.notify.unwrap_or(false),
        )
        .await?;
        state.published();
        tracing::info!(
            incident = id,
            update = update_id,
            notified = done.notified,
            token = caller.0.model.id,
            "update corrected through the API"
        );
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "update.correct",
            Subject::new("incident", id),
            format!(
                "Corrected update {update_id}{}",
                if done.notified { ", notifying" } else { "" }
            ),
            before,
            audit::incident(&state, id).await,
        )
        .await;
        written(StatusCode::OK, &incident_json(&state, id).await?)
    })
    .await
}
