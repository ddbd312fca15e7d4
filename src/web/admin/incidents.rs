//! Publishing incidents and posting updates.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use super::{context, gate, page, see_other, Gate};
use crate::domain::{
    not_in_future, ComponentStatus, Impact, IncidentStatus, IncidentTitle, UpdateBody,
};
use crate::render::{markdown, time, views};
use crate::state::AppState;
use crate::store::{
    self,
    incidents::{NewIncident, NewUpdate},
    StoreError,
};
use crate::web::{
    auth, csrf,
    form::{FieldErrors, FormData},
    AppError,
};

/// Options for the selects, so the templates name each status once.
fn choices(ctx: &mut tera::Context) {
    let statuses: Vec<_> = IncidentStatus::ALL
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
    ctx.insert("statuses", &statuses);
    ctx.insert("impacts", &impacts);
    ctx.insert("component_statuses", &component_statuses);
}

async fn components_ctx(state: &AppState, ctx: &mut tera::Context) -> Result<(), AppError> {
    let all = store::components::list(&state.db).await?;
    ctx.insert("components", &views::components(&all));
    Ok(())
}

/// Reads "component_<id>" fields: an empty value means "not affected".
fn component_changes(form: &FormData, errors: &mut FieldErrors) -> Vec<(i32, ComponentStatus)> {
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
    match time::parse_input(raw, state.page.zone.tz()) {
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
    let tz = state.page.zone.tz();
    let open = store::incidents::unresolved(&state.db).await?;
    let recent: Vec<_> = store::incidents::recent(&state.db, 50)
        .await?
        .into_iter()
        .filter(|i| i.is_resolved())
        .collect();
    let mut ctx = context(Some(&me.0), &token, &state);
    ctx.insert(
        "open",
        &open.iter().map(|i| views::post(i, tz)).collect::<Vec<_>>(),
    );
    ctx.insert(
        "recent",
        &recent
            .iter()
            .map(|i| views::post(i, tz))
            .collect::<Vec<_>>(),
    );
    page(&state, "admin/incidents.html", &ctx, StatusCode::OK)
}

#[get("/incidents/new")]
pub async fn new_page(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let mut ctx = context(Some(&me.0), &token, &state);
    ctx.insert(
        "form",
        &serde_json::json!({ "status": "investigating", "impact": "minor", "notify": "on" }),
    );
    choices(&mut ctx);
    components_ctx(&state, &mut ctx).await?;
    ctx.insert("zone", state.page.zone.name());
    page(&state, "admin/new_incident.html", &ctx, StatusCode::OK)
}

#[post("/incidents")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::MaybeStaff,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    let shown_as = me.0.clone();
    let checked = gate(&req, &state, me.0, &form).await?;
    let mut ctx = context(shown_as.as_ref(), &token, &state);
    ctx.insert("zone", state.page.zone.name());
    choices(&mut ctx);
    components_ctx(&state, &mut ctx).await?;
    let form_page = FormPage {
        template: "admin/new_incident.html",
        not_saved: "Nothing was published yet: please fix the fields marked below.",
    };
    submit(
        &req,
        &state,
        checked,
        &form,
        ctx,
        form_page,
        async |me, errors| {
            let title = errors.check("title", IncidentTitle::parse(form.get("title")));
            let status = errors.check("status", IncidentStatus::parse(form.get("status")));
            let impact = errors.check("impact", Impact::parse(form.get("impact")));
            let body = errors.check("message", UpdateBody::parse(form.get("message")));
            let components = component_changes(&form, errors);
            let at = when(&form, "started_at", &state, errors);
            let (Some(title), Some(status), Some(impact), Some(body), true) =
                (title, status, impact, body, errors.is_empty())
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
            };
            let new = NewIncident {
                title,
                impact,
                seed_key: None,
                update,
            };
            let published = store::incidents::create(&state.db, new).await?;
            tracing::info!(
                incident = published.incident_id,
                staff = me.id,
                "incident published"
            );
            Ok(Some(format!("/admin/incidents/{}", published.incident_id)))
        },
    )
    .await
}

/// Which form a submit re-renders, and what it says when fields need fixing.
struct FormPage {
    template: &'static str,
    not_saved: &'static str,
}

/// The part every incident form shares, once `gate` has said who submits (CSRF,
/// session, or sign-in inside the form): preview, then `save`, which parses the
/// fields into `errors` and writes. Whatever goes wrong, the form comes back
/// with every field as typed; on success the staff member is sent to the saved page.
async fn submit(
    req: &HttpRequest,
    state: &AppState,
    checked: Gate,
    form: &FormData,
    mut ctx: tera::Context,
    form_page: FormPage,
    save: impl AsyncFnOnce(
        &crate::entity::staff::Model,
        &mut FieldErrors,
    ) -> Result<Option<String>, StoreError>,
) -> Result<HttpResponse, AppError> {
    ctx.insert(
        "form",
        &form
            .clone()
            .without(&["reauth_password", csrf::FIELD])
            .values,
    );
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
            ctx.insert("error", &message);
            ctx.insert("reauth", &reauth);
            return page(state, form_page.template, &ctx, status);
        }
    };
    ctx.insert(
        "me",
        &serde_json::json!({ "id": me.id, "name": me.name, "is_admin": me.is_admin }),
    );
    if let Some(c) = &cookie {
        // Signed in inside the form: a form shown again goes with the new session.
        ctx.insert(
            "csrf_token",
            &csrf::CsrfToken::for_session(req, state, c.value()).0,
        );
    }

    let mut errors = FieldErrors::default();
    if let Some(html) = preview_html(form.get("message"), &mut errors).await? {
        ctx.insert("preview_html", &html);
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
            ctx.insert("error", UNAVAILABLE);
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    if !errors.is_empty() {
        ctx.insert("error", form_page.not_saved);
    }
    ctx.insert("errors", &errors.0);
    let mut res = page(state, form_page.template, &ctx, status)?;
    if let Some(c) = &cookie {
        res.add_cookie(c)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(res)
}

/// The message as readers will see it, once it is within the length limit.
/// Rendering runs on the blocking pool so that a long render never holds up
/// the async workers that answer every other request.
async fn preview_html(message: &str, errors: &mut FieldErrors) -> Result<Option<String>, AppError> {
    if message.trim().is_empty() {
        return Ok(None);
    }
    let Some(body) = errors.check("message", UpdateBody::parse(message)) else {
        return Ok(None);
    };
    let html = web::block(move || markdown::to_safe_html(body.as_str()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(html))
}

/// Shown when the database fails mid-submit: nothing was saved, nothing typed is lost.
const UNAVAILABLE: &str = "Nothing was saved: the database did not answer. Your text is kept below; submit again in a moment.";

async fn show_ctx(state: &AppState, ctx: &mut tera::Context, id: i32) -> Result<(), AppError> {
    let view = store::incidents::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.insert("post", &views::post(&view, state.page.zone.tz()));
    if let Some(d) = super::deliveries::context(state, &view).await? {
        ctx.insert("deliveries", &d);
    }
    ctx.insert("zone", state.page.zone.name());
    ctx.insert(
        "public_url",
        &state.settings.link(&format!("incidents/{id}")),
    );
    choices(ctx);
    components_ctx(state, ctx).await?;
    Ok(())
}

#[get("/incidents/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let mut ctx = context(Some(&me.0), &token, &state);
    show_ctx(&state, &mut ctx, id).await?;
    let current = store::incidents::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    ctx.insert(
        "form",
        &serde_json::json!({ "status": current.status.as_str(), "notify": "on" }),
    );
    page(&state, "admin/incident.html", &ctx, StatusCode::OK)
}

#[post("/incidents/{id}/updates")]
pub async fn post_update(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::MaybeStaff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = FormData::parse(&body)?;
    let shown_as = me.0.clone();
    let checked = gate(&req, &state, me.0, &form).await?;
    let mut ctx = context(shown_as.as_ref(), &token, &state);
    show_ctx(&state, &mut ctx, id).await?;
    let form_page = FormPage {
        template: "admin/incident.html",
        not_saved: "The update was not posted yet: please fix the fields marked below.",
    };
    submit(
        &req,
        &state,
        checked,
        &form,
        ctx,
        form_page,
        async |me, errors| {
            let status = errors.check("status", IncidentStatus::parse(form.get("status")));
            let body = errors.check("message", UpdateBody::parse(form.get("message")));
            let components = component_changes(&form, errors);
            let at = when(&form, "at", &state, errors);
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
            };
            store::incidents::post_update(&state.db, id, update).await?;
            tracing::info!(
                incident = id,
                staff = me.id,
                status = status.as_str(),
                "update posted"
            );
            Ok(Some(format!("/admin/incidents/{id}")))
        },
    )
    .await
}
