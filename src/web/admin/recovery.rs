//! What staff say of a long recovery beside its updates: the data it
//! touched ("Your data") and its milestones.
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::incidents::{show_ctx, submit_form, MESSAGE};
use super::notice::Done;
use super::{gate, see_other, AdminPage};
use crate::domain::{actions_from_lines, DataIntegrity, DataLoss, MilestoneTitle};
use crate::render::time;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, milestones::Ticker};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

/// An optional time typed in the page's zone; empty is none.
fn optional_time(
    form: &FormData,
    field: &str,
    state: &AppState,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let raw = form.get(field).trim();
    if raw.is_empty() {
        return None;
    }
    let at = time::parse_input(raw, state.page.zone().tz());
    if at.is_none() {
        errors.add(
            field,
            "Enter a date and time like 2008-02-28T06:00, or leave it empty.",
        );
    }
    at
}

/// The "Your data" form's fields as typed in the page's zone, for a form
/// shown with what is saved.
pub(super) fn integrity_form(d: Option<&DataIntegrity>, tz: chrono_tz::Tz) -> serde_json::Value {
    let t = |at: Option<DateTime<Utc>>| at.map(|at| time::input_value(at, tz));
    match d {
        None => serde_json::json!({}),
        Some(d) => serde_json::json!({
            "data_from": t(d.from),
            "data_until": t(d.until),
            "data_restored_to": t(d.restored_to),
            "data_loss": d.loss.map(|l| l.as_str()),
            "reader_actions": d.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>().join("\n"),
        }),
    }
}

/// Reads the "Your data" fields; `None` in `Ok` when all are empty.
pub(super) fn integrity_fields(
    form: &FormData,
    state: &AppState,
    errors: &mut FieldErrors,
) -> Option<Option<DataIntegrity>> {
    let from = optional_time(form, "data_from", state, errors);
    let until = optional_time(form, "data_until", state, errors);
    let restored_to = optional_time(form, "data_restored_to", state, errors);
    let loss = match form.get("data_loss").trim() {
        "" => None,
        l => errors.check("data_loss", DataLoss::parse(l)),
    };
    let actions = errors
        .check(
            "reader_actions",
            actions_from_lines(form.get("reader_actions")),
        )
        .unwrap_or_default();
    if !errors.is_empty() {
        return None;
    }
    let parsed = DataIntegrity {
        from,
        until,
        restored_to,
        loss,
        actions,
    }
    .parse();
    match parsed {
        Ok(d) => Some(d),
        Err((field, e)) => {
            errors.add(field, e.0);
            None
        }
    }
}

/// Saves what the incident says of its data; all fields empty clears it.
#[post("/incidents/{id}/data_integrity")]
pub async fn save_integrity(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/incident.html", shown_as.as_ref(), &token);
    show_ctx(&state, &mut page, id).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "What the incident says of its data was not saved: please fix the fields marked below.",
        &MESSAGE,
        async |me, errors| {
            let Some(integrity) = integrity_fields(&form, &state, errors) else {
                return Ok(None);
            };
            let before = audit::incident(&state, id).await;
            store::incidents::set_integrity(&state.db, id, integrity).await?;
            tracing::info!(incident = id, staff = me.id, "data integrity saved");
            audit::record(
                &state,
                &Actor::staff(me),
                "incident.data_integrity",
                Subject::new("incident", id),
                "Saved what the incident says of its data",
                before,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}#data-heading",
                Done::DataIntegritySaved.key()
            )))
        },
    )
    .await
}

/// The new-incident form's milestones: one per line, all notifying or none.
pub(super) fn milestone_lines(
    form: &FormData,
    errors: &mut FieldErrors,
) -> Vec<(MilestoneTitle, bool)> {
    let notify = form.has("milestones_notify");
    let mut out = Vec::new();
    for line in form
        .get("milestones")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        match MilestoneTitle::parse(line) {
            Ok(t) => out.push((t, notify)),
            Err(e) => {
                errors.add("milestones", e.0);
                break;
            }
        }
    }
    out
}

/// Adds a milestone at the end of the incident's list.
#[post("/incidents/{id}/milestones")]
pub async fn add_milestone(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/incident.html", shown_as.as_ref(), &token);
    show_ctx(&state, &mut page, id).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "The milestone was not added: please fix the field marked below.",
        &MESSAGE,
        async |me, errors| {
            let Some(title) = errors.check(
                "milestone_title",
                MilestoneTitle::parse(form.get("milestone_title")),
            ) else {
                return Ok(None);
            };
            let added =
                store::milestones::add(&state.db, id, title, form.has("milestone_notify")).await?;
            tracing::info!(incident = id, staff = me.id, milestone = %added.key, "milestone added");
            audit::record(
                &state,
                &Actor::staff(me),
                "milestone.add",
                Subject::new("incident", id),
                format!("Added the milestone {}", added.title),
                None,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}#milestones-heading",
                Done::MilestoneAdded.key()
            )))
        },
    )
    .await
}

/// Marks a milestone done now; a second click changes nothing.
#[post("/incidents/{id}/milestones/{key}/complete")]
pub async fn complete_milestone(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    path: web::Path<(i32, String)>,
) -> Result<HttpResponse, AppError> {
    fields?;
    let (id, key) = path.into_inner();
    let who = Ticker {
        name: &me.0.name,
        author_id: me.0.id,
    };
    let before = audit::incident(&state, id).await;
    let ticked = store::milestones::complete(&state.db, id, &key, who, store::now()).await?;
    audit::record(
        &state,
        &Actor::staff(&me.0),
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
        staff = me.0.id,
        milestone = %key,
        notified = ticked.update_id.is_some(),
        "milestone done"
    );
    Ok(see_other(&format!(
        "/admin/incidents/{id}?done={}#milestones-heading",
        Done::MilestoneDone.key()
    )))
}
