//! How an incident's notifications fared, and retrying the dead ones.
use actix_web::{post, web, HttpResponse};

use super::notice::{see_other_done, Done};
use crate::render::{time, views};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, incidents::IncidentView};
use crate::web::audit;
use crate::web::{auth, form::CheckedForm, AppError};

/// The `deliveries` context of /admin/incidents/{id}, or None when nothing was
/// sent for this incident.
pub async fn context(
    state: &AppState,
    view: &IncidentView,
) -> Result<Option<serde_json::Value>, AppError> {
    let (counts, failures) = store::deliveries::for_incident(&state.db, view.model.id, 50).await?;
    if counts.is_empty() {
        return Ok(None);
    }
    let tz = state.page.zone().tz();
    let heading = |update_id: i32| {
        if update_id == store::deliveries::POSTMORTEM_ROW {
            return "Postmortem".to_owned();
        }
        view.updates
            .iter()
            .find(|u| u.model.id == update_id)
            .map(|u| views::update_heading(u.model.display_at, tz, u.status.label()))
            .unwrap_or_else(|| format!("Update {update_id}"))
    };
    let updates: Vec<_> = view
        .updates
        .iter()
        .map(|u| u.model.id)
        .chain([store::deliveries::POSTMORTEM_ROW])
        .filter_map(|id| {
            counts
                .get(&id)
                .map(|c| serde_json::json!({ "id": id, "heading": heading(id), "counts": c }))
        })
        .collect();
    let dead: i64 = counts.values().map(|c| c.dead).sum();
    let failures: Vec<_> = failures
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "update_heading": heading(f.update_id),
                "recipient": f.recipient,
                "status": f.status.as_str(),
                "attempts": f.attempts,
                "last_error": f.last_error,
                "next_attempt": f.next_attempt_at.map(|t| time::date_time(t, tz)),
            })
        })
        .collect();
    Ok(Some(serde_json::json!({
        "updates": updates,
        "failures": failures,
        "dead": dead,
    })))
}

#[post("/incidents/{id}/deliveries/retry")]
pub async fn retry_dead(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    fields?;
    let id = id.into_inner();
    let n = store::deliveries::retry_dead(&state.db, id).await?;
    state.wake_worker.notify_one();
    tracing::info!(
        incident = id,
        staff = me.0.id,
        deliveries = n,
        "dead deliveries retried"
    );
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "deliveries.retry",
        Subject::new("incident", id),
        format!("Retried {n} dead deliveries"),
        None,
        None,
    )
    .await;
    Ok(see_other_done(
        &format!("/admin/incidents/{id}"),
        Done::DeliveriesRetried,
    ))
}
