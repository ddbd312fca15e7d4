//! Editing and cancelling a scheduled maintenance from its admin page.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{
    gate,
    incidents::{show_ctx, submit, REMIND_CHOICES},
    notice::{see_other_done, Done},
    see_other, AdminPage, NOT_SHOWN_AGAIN,
};
use crate::domain::{IncidentStatus, IncidentTitle};
use crate::render::time;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self, incidents::IncidentView, maintenance::Edit, maintenance::CANCELLED, StoreError,
};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

/// What a maintenance's admin page shows of its plan: the edit form filled
/// in as it stands, and the series it belongs to.
pub(super) async fn page_ctx(
    state: &AppState,
    page: &mut AdminPage<'_>,
    view: &IncidentView,
) -> Result<(), AppError> {
    page.insert("plan", &plan_now(view, state.page.zone().tz()));
    plan_ctx(page, view);
    if let Some(id) = view.model.series_id {
        if let Some(s) = store::maintenance::find_series(&state.db, id).await? {
            page.insert(
                "series",
                &serde_json::json!({
                    "rule": s.rule,
                    "zone": s.zone,
                    "stopped": s.stopped_at.is_some(),
                }),
            );
        }
    }
    Ok(())
}

/// The plan as the edit form shows it now.
fn plan_now(view: &IncidentView, tz: Tz) -> serde_json::Value {
    let m = &view.model;
    let mut plan = serde_json::json!({
        "title": m.title,
        "scheduled_for": m.scheduled_for.map(|t| time::input_value(t, tz)),
        "scheduled_until": m.scheduled_until.map(|t| time::input_value(t, tz)),
        "remind": m.scheduled_remind_minutes.map(|r| r.to_string()).unwrap_or_default(),
    });
    for (key, on) in [
        ("auto_in_progress", m.scheduled_auto_in_progress),
        ("auto_completed", m.scheduled_auto_completed),
        ("notify_start", m.scheduled_notify_start),
        ("notify_end", m.scheduled_notify_end),
    ] {
        if on {
            plan[key] = "on".into();
        }
    }
    plan
}

/// What the edit form needs beside the plan: whether the start is fixed, and
/// the reminder choices, with the one set now even when the form offers no
/// such choice (an API client may have set any minutes), so that saving
/// another field keeps it.
fn plan_ctx(page: &mut AdminPage<'_>, view: &IncidentView) {
    let mut choices: Vec<_> = REMIND_CHOICES
        .iter()
        .map(|(v, l)| serde_json::json!({ "value": v, "label": l }))
        .collect();
    if let Some(r) = view.model.scheduled_remind_minutes {
        let value = r.to_string();
        if !REMIND_CHOICES.iter().any(|(v, _)| *v == value) {
            choices.push(
                serde_json::json!({ "value": value, "label": format!("{r} minutes before") }),
            );
        }
    }
    page.insert("plan_choices", &choices)
        .insert("plan_started", &(view.status != IncidentStatus::Scheduled));
}

/// A window's end typed in the page's zone: `None` when it reads as it did
/// (the form shows whole minutes, so a start set to the second through the
/// API is not moved by saving another field) or was not sent (a started
/// maintenance's start field is disabled).
fn moved(
    form: &FormData,
    field: &str,
    old: Option<DateTime<Utc>>,
    tz: Tz,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let raw = form.get(field).trim();
    if raw.is_empty() || old.is_some_and(|o| raw == time::input_value(o, tz)) {
        return None;
    }
    let at = time::parse_input(raw, tz);
    if at.is_none() {
        errors.add(field, "Enter a date and time like 2026-03-08T01:00.");
    }
    at
}

async fn maintenance(state: &AppState, id: i32) -> Result<IncidentView, AppError> {
    store::incidents::load(&state.db, id)
        .await?
        .filter(IncidentView::is_maintenance)
        .ok_or(AppError::NotFound)
}

#[post("/incidents/{id}/maintenance")]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let current = maintenance(&state, id).await?;
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/incident.html", shown_as.as_ref(), &token);
    show_ctx(&state, &mut page, id).await?;
    // Shown again as typed, in the edit form rather than the update form.
    page.insert("plan", &form.clone().without(&NOT_SHOWN_AGAIN).values)
        .insert("editing_plan", &true);
    let tz = state.page.zone().tz();
    submit(
        &req,
        &state,
        checked,
        &form,
        page,
        "The maintenance was not changed: please fix the fields marked below.",
        async |me, errors| {
            let title = errors.check("title", IncidentTitle::parse(form.get("title")));
            let from = moved(
                &form,
                "scheduled_for",
                current.model.scheduled_for,
                tz,
                errors,
            );
            let until = moved(
                &form,
                "scheduled_until",
                current.model.scheduled_until,
                tz,
                errors,
            );
            let remind = match form.get("remind") {
                "" => None,
                m => match m.parse::<i32>() {
                    Ok(m) if (1..=10_080).contains(&m) => Some(m),
                    _ => {
                        errors.add("remind", "Choose when to remind subscribers.");
                        None
                    }
                },
            };
            let (Some(title), true) = (title, errors.is_empty()) else {
                return Ok(None);
            };
            let edit = Edit {
                title: Some(title),
                from,
                until,
                remind_minutes: Some(remind),
                auto_in_progress: Some(form.has("auto_in_progress")),
                auto_completed: Some(form.has("auto_completed")),
                notify_start: Some(form.has("notify_start")),
                notify_end: Some(form.has("notify_end")),
            };
            let before = audit::incident(&state, id).await;
            let edited = match store::maintenance::edit(&state.db, id, edit).await {
                // Said above the edit form, not beside the update form's status.
                Err(StoreError::Conflict {
                    field: "status",
                    message,
                }) => {
                    errors.add("plan", message);
                    return Ok(None);
                }
                other => other?,
            };
            tracing::info!(
                incident = id,
                staff = me.id,
                changed = edited.changed,
                remind_again = edited.remind_again,
                "maintenance edited"
            );
            audit::record(
                &state,
                &Actor::staff(me),
                "maintenance.edit",
                Subject::new("incident", id),
                "Edited the maintenance",
                before,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}",
                Done::MaintenanceEdited.key()
            )))
        },
    )
    .await
}

/// What cancelling means, said before it is done.
const CANCEL_MEANS: [&str; 3] = [
    "A final update is posted: “This scheduled maintenance has been cancelled.” Readers see the window as cancelled, and calendars subscribed to the page's maintenance calendar mark it cancelled.",
    "It will not start, remind or complete by itself, and its components are not touched.",
    "There is no undo: to do the work after all, schedule it again.",
];

fn confirm_page<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    view: &IncidentView,
) -> AdminPage<'a> {
    let mut page = AdminPage::new(state, "admin/confirm_delete.html", Some(me), token);
    page.insert("title", &format!("Cancel {}?", view.model.title))
        .insert(
            "heading",
            &format!("Cancel the maintenance “{}”?", view.model.title),
        )
        .insert("meaning", &CANCEL_MEANS)
        .insert(
            "action",
            &format!("/admin/incidents/{}/cancel", view.model.id),
        )
        .insert("button", "Cancel maintenance")
        .insert("notify_choice", &true)
        .insert("form", &serde_json::json!({ "notify": "on" }))
        .insert("back", &format!("/admin/incidents/{}", view.model.id));
    page
}

#[get("/incidents/{id}/cancel")]
pub async fn confirm_cancel(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let view = maintenance(&state, id.into_inner()).await?;
    if view.status != IncidentStatus::Scheduled {
        // Started or over meanwhile: its page says where it stands.
        return Ok(see_other(&format!("/admin/incidents/{}", view.model.id)));
    }
    confirm_page(&state, &me.0, &token, &view).render(StatusCode::OK)
}

#[post("/incidents/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let form = fields?;
    let view = maintenance(&state, id.into_inner()).await?;
    match store::maintenance::cancel(&state.db, view.model.id, me.0.id, form.has("notify")).await {
        Ok(published) => {
            state.published();
            tracing::info!(
                incident = view.model.id,
                update = published.update_id,
                staff = me.0.id,
                "maintenance cancelled: {CANCELLED}"
            );
            audit::record(
                &state,
                &Actor::staff(&me.0),
                "maintenance.cancel",
                Subject::new("incident", view.model.id),
                "Cancelled the maintenance",
                None,
                audit::incident(&state, view.model.id).await,
            )
            .await;
            Ok(see_other_done(
                &format!("/admin/incidents/{}", view.model.id),
                Done::MaintenanceCancelled,
            ))
        }
        Err(StoreError::Conflict { message, .. }) => {
            let mut page = confirm_page(&state, &me.0, &token, &view);
            page.insert("error", &message)
                .render(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

/// What stopping a series means, said before it is done.
const STOP_MEANS: [&str; 2] = [
    "No window of this series is made after now. The windows already on the page stay, this one included: cancel each on its own if it is off too.",
    "There is no undo: to repeat it again, schedule a new recurring maintenance.",
];

/// The series of the occurrence `id`, or 404.
async fn series_of(
    state: &AppState,
    id: i32,
) -> Result<(IncidentView, crate::entity::maintenance_series::Model), AppError> {
    let view = maintenance(state, id).await?;
    let series_id = view.model.series_id.ok_or(AppError::NotFound)?;
    let series = store::maintenance::find_series(&state.db, series_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((view, series))
}

#[get("/incidents/{id}/stop-series")]
pub async fn confirm_stop_series(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (view, series) = series_of(&state, id.into_inner()).await?;
    let back = format!("/admin/incidents/{}", view.model.id);
    if series.stopped_at.is_some() {
        return Ok(see_other(&back));
    }
    AdminPage::new(&state, "admin/confirm_delete.html", Some(&me.0), &token)
        .insert("title", &format!("Stop repeating {}?", series.title))
        .insert(
            "heading",
            &format!(
                "Stop repeating “{}” ({} in {})?",
                series.title, series.rule, series.zone
            ),
        )
        .insert("meaning", &STOP_MEANS)
        .insert("action", &format!("{back}/stop-series"))
        .insert("button", "Stop repeating")
        .insert("back", &back)
        .render(StatusCode::OK)
}

#[post("/incidents/{id}/stop-series")]
pub async fn stop_series(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    fields?;
    let (view, series) = series_of(&state, id.into_inner()).await?;
    store::maintenance::stop_series(&state.db, series.id).await?;
    tracing::info!(
        series = series.id,
        staff = me.0.id,
        "maintenance series stopped"
    );
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "maintenance.stop_series",
        Subject::new("incident", view.model.id),
        format!("Stopped the recurring series {}", series.id),
        None,
        None,
    )
    .await;
    Ok(see_other_done(
        &format!("/admin/incidents/{}", view.model.id),
        Done::SeriesStopped,
    ))
}
