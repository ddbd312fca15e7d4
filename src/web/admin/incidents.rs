//! Publishing incidents and posting updates.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::{
    gate,
    notice::{Done, Notice},
    see_other,
    templates::{self, UseTemplate},
    AdminPage, Gate,
};
use crate::domain::{
    not_in_future, promise, ComponentStatus, DataLoss, Impact, IncidentStatus, IncidentTitle,
    UpdateBody, PROMISE_MINUTES,
};
use crate::render::{markdown, time, views};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    incidents::{NewIncident, NewUpdate},
    StoreError,
};
use crate::web::{
    audit, auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

/// Options for the selects, so the templates name each status once: an
/// incident's or a maintenance's.
pub(super) fn choices(page: &mut AdminPage<'_>, maintenance: bool) {
    let statuses: Vec<_> = if maintenance {
        IncidentStatus::MAINTENANCE
    } else {
        IncidentStatus::INCIDENT
    }
    .iter()
    .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
    .collect();
    let impacts: Vec<_> = Impact::ALL
        .iter()
        .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    let component_statuses: Vec<_> = ComponentStatus::ALL
        .iter()
        .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    page.insert("statuses", &statuses)
        .insert("impacts", &impacts)
        .insert("component_statuses", &component_statuses);
    if !maintenance {
        // A maintenance's window says when it speaks next; an incident promises.
        let promises: Vec<_> = PROMISE_MINUTES
            .iter()
            .map(|m| serde_json::json!({ "value": m.to_string(), "label": promise_label(*m) }))
            .collect();
        page.insert("promise_choices", &promises);
        let losses: Vec<_> = DataLoss::ALL
            .iter()
            .map(|l| serde_json::json!({ "value": l.as_str(), "label": l.label() }))
            .collect();
        page.insert("data_losses", &losses);
    }
}

fn promise_label(minutes: i64) -> String {
    match minutes {
        m if m % 60 == 0 && m > 60 => format!("In {} hours", m / 60),
        60 => "In 1 hour".to_owned(),
        m => format!("In {m} minutes"),
    }
}

/// Reads the update form's promise of the next one: a quick choice of
/// minutes, a time in the page's zone ("at"), or none.
pub(super) fn promise(
    form: &FormData,
    state: &AppState,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let now = store::now();
    match form.get("next_update").trim() {
        "" => None,
        "at" => {
            let raw = form.get("next_update_at").trim();
            match time::parse_input(raw, state.page.zone().tz()) {
                Some(at) => errors.check("next_update_at", promise::next_update_by(at, now)),
                None => {
                    errors.add(
                        "next_update_at",
                        "Enter the time the next update comes by, like 2008-02-28T15:30.",
                    );
                    None
                }
            }
        }
        minutes => errors.check("next_update", promise::in_minutes(minutes, now)),
    }
}

async fn components_ctx(state: &AppState, page: &mut AdminPage<'_>) -> Result<(), AppError> {
    let all = store::components::list(&state.db).await?;
    page.insert("components", &views::components(&all));
    Ok(())
}

/// Reads "component_<id>" fields: an empty value means "not affected".
pub(super) fn component_changes(
    form: &FormData,
    errors: &mut FieldErrors,
) -> Vec<(i32, ComponentStatus)> {
    let mut out = Vec::new();
    for (k, v) in &form.pairs {
        let Some(id) = k
            .strip_prefix("component_")
            .and_then(|i| i.parse::<i32>().ok())
        else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        if let Some(s) = errors.check(k, ComponentStatus::parse(v)) {
            if !out.iter().any(|(c, _)| *c == id) {
                out.push((id, s));
            }
        }
    }
    out
}

/// Reads an optional backdating field typed in the page's zone.
fn when(form: &FormData, field: &str, state: &AppState, errors: &mut FieldErrors) -> DateTime<Utc> {
    let now = store::now();
    let raw = form.get(field).trim();
    if raw.is_empty() {
        return now;
    }
    match time::parse_input(raw, state.page.zone().tz()) {
        Some(at) => errors.check(field, not_in_future(at, now)).unwrap_or(now),
        None => {
            errors.add(
                field,
                "Enter a date and time like 2008-02-28T12:38, or leave it empty for now.",
            );
            now
        }
    }
}

#[get("")]
pub async fn list(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let tz = state.page.zone().tz();
    let open = store::incidents::unresolved(&state.db).await?;
    let recent: Vec<_> = store::incidents::recent(&state.db, 50)
        .await?
        .into_iter()
        .filter(|i| i.is_resolved())
        .collect();
    let mut page = AdminPage::new(&state, "admin/incidents.html", Some(&me.0), &token);
    owed_ctx(&state, &mut page).await?;
    page.insert(
        "open",
        &open.iter().map(|i| views::post(i, tz)).collect::<Vec<_>>(),
    )
    .insert(
        "recent",
        &recent
            .iter()
            .map(|i| views::post(i, tz))
            .collect::<Vec<_>>(),
    )
    .render(StatusCode::OK)
}

#[get("/incidents/new")]
pub async fn new_page(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    used: web::Query<UseTemplate>,
) -> Result<HttpResponse, AppError> {
    let mut page = AdminPage::new(&state, "admin/new_incident.html", Some(&me.0), &token);
    let (chosen, form) = match used.template.as_deref() {
        Some(id) => {
            let (id, form) = templates::prefill(&state, id, None).await?;
            (Some(id), form)
        }
        None => (
            None,
            serde_json::json!({ "status": "investigating", "impact": "minor", "notify": "on" }),
        ),
    };
    page.insert("form", &form);
    templates::picker(&state, &mut page, chosen).await?;
    choices(&mut page, false);
    components_ctx(&state, &mut page).await?;
    page.insert("zone", state.page.zone().name())
        .render(StatusCode::OK)
}

#[post("/incidents")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/new_incident.html", shown_as.as_ref(), &token);
    page.insert("zone", state.page.zone().name());
    choices(&mut page, false);
    components_ctx(&state, &mut page).await?;
    submit(
        &req,
        &state,
        checked,
        &form,
        page,
        "Nothing was published yet: please fix the fields marked below.",
        async |me, errors| {
            let title = errors.check("title", IncidentTitle::parse(form.get("title")));
            let status = errors.check("status", IncidentStatus::parse(form.get("status")));
            let impact = errors.check("impact", Impact::parse(form.get("impact")));
            let body = errors.check("message", UpdateBody::parse(form.get("message")));
            let components = component_changes(&form, errors);
            let at = when(&form, "started_at", &state, errors);
            let next_update_by = promise(&form, &state, errors);
            let integrity = super::recovery::integrity_fields(&form, &state, errors);
            let milestones = super::recovery::milestone_lines(&form, errors);
            let (Some(title), Some(status), Some(impact), Some(body), Some(integrity), true) =
                (title, status, impact, body, integrity, errors.is_empty())
            else {
                return Ok(None);
            };
            let update = NewUpdate {
                status,
                body,
                components,
                at,
                author_id: me.id,
                notify: form.has("notify"),
                // The form says so beside the components.
                operational_on_resolve: true,
                next_update_by,
            };
            let new = NewIncident {
                plan: None,
                title,
                impact,
                seed_key: None,
                integrity,
                milestones,
                update,
            };
            let published = store::incidents::create(&state.db, new).await?;
            tracing::info!(
                incident = published.incident_id,
                staff = me.id,
                "incident published"
            );
            let id = published.incident_id;
            audit::record(
                &state,
                &Actor::staff(me),
                "incident.create",
                Subject::new("incident", id),
                "Published the incident",
                None,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{}?done={}",
                published.incident_id,
                Done::IncidentPublished.key()
            )))
        },
    )
    .await
}

/// How long before the start the reminder goes, as the form offers it.
pub(super) const REMIND_CHOICES: [(&str, &str); 6] = [
    ("", "No reminder"),
    ("15", "15 minutes before"),
    ("30", "30 minutes before"),
    ("60", "1 hour before"),
    ("120", "2 hours before"),
    ("1440", "1 day before"),
];

fn maintenance_ctx(page: &mut AdminPage<'_>, state: &AppState) {
    choices(page, true);
    page.insert("zone", state.page.zone().name()).insert(
        "remind_choices",
        &REMIND_CHOICES
            .iter()
            .map(|(v, l)| serde_json::json!({ "value": v, "label": l }))
            .collect::<Vec<_>>(),
    );
}

#[get("/maintenance/new")]
pub async fn new_maintenance_page(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    used: web::Query<UseTemplate>,
) -> Result<HttpResponse, AppError> {
    let mut page = AdminPage::new(&state, "admin/new_maintenance.html", Some(&me.0), &token);
    let mut form = serde_json::json!({
        "impact": "maintenance", "remind": "60", "notify": "on",
        "auto_in_progress": "on", "auto_completed": "on",
        "notify_start": "on", "notify_end": "on",
    });
    let mut chosen_template = None;
    if let Some(id) = used.template.as_deref() {
        // A template's title, message, impact, notify default and components;
        // its status is an incident's, and a maintenance starts scheduled.
        let (id, filled) = templates::prefill(&state, id, None).await?;
        chosen_template = Some(id);
        for key in ["title", "message", "impact"] {
            form[key] = filled[key].clone();
        }
        if let (None, Some(f)) = (filled.get("notify"), form.as_object_mut()) {
            f.remove("notify");
        }
        let ticked: Vec<i32> = filled
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("component_")?.parse().ok())
            .collect();
        page.insert("chosen", &ticked);
    }
    page.insert("form", &form);
    templates::picker(&state, &mut page, chosen_template).await?;
    maintenance_ctx(&mut page, &state);
    components_ctx(&state, &mut page).await?;
    page.render(StatusCode::OK)
}

/// The component ids ticked in the maintenance form.
fn planned(form: &FormData) -> Vec<i32> {
    form.pairs
        .iter()
        .filter(|(k, _)| k == "components")
        .filter_map(|(_, v)| v.parse::<i32>().ok())
        .collect()
}

/// A window typed in the page's zone, both ends required.
fn window_field(
    form: &FormData,
    state: &AppState,
    errors: &mut FieldErrors,
) -> Option<crate::domain::Window> {
    let tz = state.page.zone().tz();
    let mut read = |field: &str| match time::parse_input(form.get(field), tz) {
        Some(at) => Some(at),
        None => {
            errors.add(field, "Enter a date and time like 2026-03-08T01:00.");
            None
        }
    };
    let (from, until) = (read("scheduled_for"), read("scheduled_until"));
    errors.check(
        "scheduled_until",
        crate::domain::Window::parse(from?, until?),
    )
}

#[post("/maintenance")]
pub async fn create_maintenance(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(
        &state,
        "admin/new_maintenance.html",
        shown_as.as_ref(),
        &token,
    );
    maintenance_ctx(&mut page, &state);
    components_ctx(&state, &mut page).await?;
    // Ticked boxes come back ticked when the form is shown again.
    page.insert("chosen", &planned(&form));
    submit(
        &req,
        &state,
        checked,
        &form,
        page,
        "Nothing was scheduled yet: please fix the fields marked below.",
        async |me, errors| {
            let title = errors.check("title", IncidentTitle::parse(form.get("title")));
            let impact = errors.check("impact", Impact::parse(form.get("impact")));
            let body = errors.check("message", UpdateBody::parse(form.get("message")));
            let window = window_field(&form, &state, errors);
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
            let components = planned(&form);
            let zone = state.page.zone().tz();
            let recurrence = match (form.get("recurrence").trim(), window) {
                ("", _) | (_, None) => None,
                (rule, Some(w)) => errors.check(
                    "recurrence",
                    crate::domain::Recurrence::parse(rule, w, zone),
                ),
            };
            let (Some(title), Some(impact), Some(body), Some(window), true) =
                (title, impact, body, window, errors.is_empty())
            else {
                return Ok(None);
            };
            let plan = store::maintenance::Plan {
                window,
                components,
                remind_minutes: remind,
                auto_in_progress: form.has("auto_in_progress"),
                auto_completed: form.has("auto_completed"),
                notify_start: form.has("notify_start"),
                notify_end: form.has("notify_end"),
            };
            if let Some(recurrence) = recurrence {
                let series = store::maintenance::NewSeries {
                    title,
                    impact,
                    body,
                    plan,
                    recurrence,
                    zone,
                    author_id: me.id,
                    notify: form.has("notify"),
                };
                let made = store::maintenance::create_series(&state.db, series, store::now()).await?;
                tracing::info!(occurrences = ?made, staff = me.id, "recurring maintenance scheduled");
                audit::record(
                    &state,
                    &Actor::staff(me),
                    "maintenance.create_series",
                    Subject::new("incident", made[0]),
                    format!("Scheduled a recurring maintenance ({} windows so far)", made.len()),
                    None,
                    audit::incident(&state, made[0]).await,
                )
                .await;
                return Ok(Some(format!(
                    "/admin/incidents/{}?done={}",
                    made[0],
                    Done::SeriesScheduled.key()
                )));
            }
            let new = NewIncident {
                plan: Some(plan),
                title,
                impact,
                seed_key: None,
                integrity: None,
                milestones: Vec::new(),
                update: NewUpdate {
                    status: IncidentStatus::Scheduled,
                    body,
                    components: Vec::new(),
                    at: store::now(),
                    author_id: me.id,
                    notify: form.has("notify"),
                    operational_on_resolve: false,
                    next_update_by: None,
                },
            };
            let published = store::incidents::create(&state.db, new).await?;
            tracing::info!(
                incident = published.incident_id,
                staff = me.id,
                "maintenance scheduled"
            );
            let id = published.incident_id;
            audit::record(
                &state,
                &Actor::staff(me),
                "maintenance.create",
                Subject::new("incident", id),
                "Scheduled the maintenance",
                None,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{}?done={}",
                published.incident_id,
                Done::MaintenanceScheduled.key()
            )))
        },
    )
    .await
}

/// The part every incident form shares, once `gate` has said who submits (CSRF,
/// session, or sign-in inside the form): preview, then `save`, which parses the
/// fields into `errors` and writes. Whatever goes wrong, `page` comes back
/// with every field as typed, saying `not_saved` when fields need fixing; on
/// success the staff member is sent to the saved page.
pub(super) async fn submit(
    req: &HttpRequest,
    state: &AppState,
    checked: Gate,
    form: &FormData,
    page: AdminPage<'_>,
    not_saved: &str,
    save: impl AsyncFnOnce(
        &crate::entity::staff::Model,
        &mut FieldErrors,
    ) -> Result<Option<String>, StoreError>,
) -> Result<HttpResponse, AppError> {
    submit_form(req, state, checked, form, page, not_saved, &MESSAGE, save).await
}

/// Which field of a form "Preview" renders, under which name the page shows
/// it, and the field's own rules (its length limit applies before rendering).
pub(super) struct Preview {
    pub field: &'static str,
    pub shown_as: &'static str,
    pub parse: fn(&str) -> Result<String, crate::domain::ParseError>,
}

/// An incident's or an update's message.
pub(super) const MESSAGE: Preview = Preview {
    field: "message",
    shown_as: "preview_html",
    parse: |s| UpdateBody::parse(s).map(|b| b.as_str().to_owned()),
};

/// [`submit`] for any staff form with a Markdown field to preview.
#[allow(clippy::too_many_arguments)]
pub(super) async fn submit_form(
    req: &HttpRequest,
    state: &AppState,
    checked: Gate,
    form: &FormData,
    mut page: AdminPage<'_>,
    not_saved: &str,
    shown: &Preview,
    save: impl AsyncFnOnce(
        &crate::entity::staff::Model,
        &mut FieldErrors,
    ) -> Result<Option<String>, StoreError>,
) -> Result<HttpResponse, AppError> {
    page.form(form);
    let preview = form.get("action") == "preview";
    // Who asks comes first: nothing is rendered for a request that is not a
    // signed-in staff member's own form.
    let (me, cookie) = match checked {
        Gate::Pass(me, cookie) => (me, cookie),
        Gate::Refuse {
            message,
            reauth,
            status,
        } => {
            return page
                .insert("error", &message)
                .insert("reauth", &reauth)
                .render(status);
        }
    };
    page.insert(
        "me",
        &serde_json::json!({ "id": me.id, "name": me.name, "is_admin": me.is_admin }),
    );
    if let Some(c) = &cookie {
        // Signed in inside the form: a form shown again goes with the new session.
        page.insert(
            "csrf_token",
            &csrf::CsrfToken::for_session(req, state, c.value()).0,
        );
    }

    let mut errors = FieldErrors::default();
    if let Some(html) = preview_html(form.get(shown.field), shown, &mut errors).await? {
        page.insert(shown.shown_as, &html);
    }
    let outcome = if preview {
        Ok(None)
    } else {
        save(&me, &mut errors).await
    };
    let status = match outcome {
        Ok(Some(location)) => {
            state.published();
            let mut res = see_other(&location);
            if let Some(c) = &cookie {
                res.add_cookie(c)
                    .map_err(|e| AppError::Internal(e.into()))?;
            }
            return Ok(res);
        }
        Ok(None) if preview => StatusCode::OK,
        Ok(None) => StatusCode::UNPROCESSABLE_ENTITY,
        Err(StoreError::Conflict { field, message }) => {
            errors.add(field, message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(StoreError::Db(e)) => {
            tracing::error!(error = ?e, "saving a staff form failed");
            page.insert("error", UNAVAILABLE);
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    if !errors.is_empty() {
        page.insert("error", not_saved);
    }
    let mut res = page.insert("errors", &errors.0).render(status)?;
    if let Some(c) = &cookie {
        res.add_cookie(c)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(res)
}

/// The message as readers will see it, once it is within the length limit.
/// Rendering runs on the blocking pool so that a long render never holds up
/// the async workers that answer every other request.
async fn preview_html(
    message: &str,
    shown: &Preview,
    errors: &mut FieldErrors,
) -> Result<Option<String>, AppError> {
    if message.trim().is_empty() {
        return Ok(None);
    }
    let Some(body) = errors.check(shown.field, (shown.parse)(message)) else {
        return Ok(None);
    };
    let html = web::block(move || markdown::to_safe_html(&body))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(html))
}

/// Shown when the database fails mid-submit: nothing was saved, nothing typed is lost.
const UNAVAILABLE: &str = "Nothing was saved: the database did not answer. Your text is kept below; submit again in a moment.";

/// The updates whose notifications still wait out the send delay, each with
/// when they go and its text, for the "Not sent yet" forms.
async fn unsent_ctx(
    state: &AppState,
    page: &mut AdminPage<'_>,
    view: &store::incidents::IncidentView,
) -> Result<(), AppError> {
    let tz = state.page.zone().tz();
    let now = store::now();
    let waiting =
        store::sending::unsent(&state.db, view.model.id, state.settings.send_delay).await?;
    let unsent: Vec<_> = waiting
        .iter()
        .filter_map(|u| {
            let update = view.updates.iter().find(|x| x.model.id == u.update_id)?;
            Some(serde_json::json!({
                "update_id": u.update_id,
                "heading": views::update_heading(update.model.display_at, tz, update.status.label()),
                "sends_at": time::iso(u.sends_at, tz),
                "sends_clock": u.sends_at.with_timezone(&tz).format("%-I:%M:%S %p %Z").to_string(),
                "seconds_left": (u.sends_at - now).num_seconds().max(0),
                "body": update.model.body,
            }))
        })
        .collect();
    // The others have been told: they are corrected, not edited.
    let correctable: Vec<_> = view
        .updates
        .iter()
        .filter(|u| !waiting.iter().any(|w| w.update_id == u.model.id))
        .map(|u| {
            serde_json::json!({
                "update_id": u.model.id,
                "heading": views::update_heading(u.model.display_at, tz, u.status.label()),
                "body": u.model.body,
            })
        })
        .collect();
    page.insert("unsent", &unsent)
        .insert("correctable", &correctable);
    Ok(())
}

/// The admin's banner: the open incidents that owe their readers an update.
async fn owed_ctx(state: &AppState, page: &mut AdminPage<'_>) -> Result<(), AppError> {
    let tz = state.page.zone().tz();
    let owed: Vec<_> = store::reminders::owed(&state.db)
        .await?
        .into_iter()
        .map(|o| {
            serde_json::json!({
                "incident_id": o.incident_id,
                "title": o.title,
                "overdue": o.kind == store::reminders::PROMISE,
                "due_at": time::date_time(o.due_at, tz),
            })
        })
        .collect();
    page.insert("owed", &owed);
    Ok(())
}

pub(super) async fn show_ctx(
    state: &AppState,
    page: &mut AdminPage<'_>,
    id: i32,
) -> Result<(), AppError> {
    let view = store::incidents::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    page.insert("post", &views::post(&view, state.page.zone().tz()))
        .insert(
            "postmortem_state",
            // The link to the editor says what is there to find.
            match view.postmortem.as_ref().map(|p| p.state) {
                Some(crate::domain::PostmortemState::Published) => "published",
                Some(crate::domain::PostmortemState::Draft) => "draft",
                Some(crate::domain::PostmortemState::Ignored) => "ignored",
                Some(crate::domain::PostmortemState::None) | None => "none",
            },
        );
    choices(page, view.is_maintenance());
    if view.is_maintenance() {
        super::maintenance::page_ctx(state, page, &view).await?;
    }
    if let Some(d) = super::deliveries::context(state, &view).await? {
        page.insert("deliveries", &d);
    }
    page.insert("zone", state.page.zone().name()).insert(
        "public_url",
        &state.settings.link(&format!("incidents/{id}")),
    );
    let now = store::now();
    page.insert(
        "promise",
        &views::promise_vm(&view, now, &time::Today::new(now, state.page.zone().tz())),
    );
    components_ctx(state, page).await?;
    owed_ctx(state, page).await?;
    unsent_ctx(state, page, &view).await?;
    Ok(())
}

#[get("/incidents/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    notice: Notice,
    used: web::Query<UseTemplate>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut page = AdminPage::new(&state, "admin/incident.html", Some(&me.0), &token);
    show_ctx(&state, &mut page, id).await?;
    page.notice(notice);
    let current = store::incidents::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (chosen, form) = match used.template.as_deref() {
        Some(t) => {
            let (t, form) = templates::prefill(&state, t, Some(&current.model.title)).await?;
            (Some(t), form)
        }
        None => (
            None,
            serde_json::json!({ "status": current.status.as_str(), "notify": "on" }),
        ),
    };
    let mut form = form;
    // The "Your data" form shows what is saved.
    if let (Some(f), serde_json::Value::Object(saved)) = (
        form.as_object_mut(),
        super::recovery::integrity_form(current.integrity.as_ref(), state.page.zone().tz()),
    ) {
        f.extend(saved);
    }
    templates::picker(&state, &mut page, chosen).await?;
    page.insert("form", &form).render(StatusCode::OK)
}

#[post("/incidents/{id}/updates")]
pub async fn post_update(
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
    submit(
        &req,
        &state,
        checked,
        &form,
        page,
        "The update was not posted yet: please fix the fields marked below.",
        async |me, errors| {
            let status = errors.check("status", IncidentStatus::parse(form.get("status")));
            let body = errors.check("message", UpdateBody::parse(form.get("message")));
            let components = component_changes(&form, errors);
            let at = when(&form, "at", &state, errors);
            let next_update_by = promise(&form, &state, errors);
            let (Some(status), Some(body), true) = (status, body, errors.is_empty()) else {
                return Ok(None);
            };
            let update = NewUpdate {
                status,
                body,
                components,
                at,
                author_id: me.id,
                notify: form.has("notify"),
                // The form says so beside the components.
                operational_on_resolve: true,
                next_update_by,
            };
            let before = audit::incident(&state, id).await;
            store::incidents::post_update(&state.db, id, update).await?;
            tracing::info!(
                incident = id,
                staff = me.id,
                status = status.as_str(),
                "update posted"
            );
            audit::record(
                &state,
                &Actor::staff(me),
                "update.post",
                Subject::new("incident", id),
                format!("Posted an update ({})", status.label()),
                before,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}",
                Done::UpdatePosted.key()
            )))
        },
    )
    .await
}
