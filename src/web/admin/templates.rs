//! Incident templates: list, add, edit, delete (after a confirmation page),
//! and what a form opened from one is filled with.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{
    gate,
    incidents::{choices, component_changes, submit_form, MESSAGE},
    notice::{see_other_done, Done, Notice},
    AdminPage,
};
use crate::domain::{
    ComponentPlan, Filling, Impact, IncidentStatus, TemplateName, TemplateTitle, UpdateBody,
    PLACEHOLDERS,
};
use crate::render::{time, views};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    templates::{TemplateInput, TemplateView},
};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

/// The form's fields read into a template, or `None` with `errors` saying why.
fn parse(form: &FormData, errors: &mut FieldErrors) -> Option<TemplateInput> {
    let name = errors.check("name", TemplateName::parse(form.get("name")));
    let title = errors.check("title", TemplateTitle::parse(form.get("title")));
    let message = errors.check("message", UpdateBody::parse(form.get("message")));
    let status = errors.check("status", IncidentStatus::parse(form.get("status")));
    let impact = errors.check("impact", Impact::parse(form.get("impact")));
    let components = ComponentPlan(component_changes(form, errors));
    let input = TemplateInput {
        name: name?,
        title: title?,
        message: message?,
        status: status?,
        impact: impact?,
        components,
        notify: form.has("notify"),
    };
    errors.is_empty().then_some(input)
}

/// The form's values for a stored template.
fn form_of(t: &TemplateView) -> serde_json::Value {
    let mut form = serde_json::json!({
        "name": t.model.name,
        "title": t.model.title,
        "message": t.model.message,
        "status": t.status.as_str(),
        "impact": t.impact.as_str(),
    });
    if t.model.notify {
        form["notify"] = "on".into();
    }
    for (id, s) in &t.components.0 {
        form[format!("component_{id}")] = s.as_str().into();
    }
    form
}

/// What every template page shows besides its form.
async fn common(state: &AppState, page: &mut AdminPage<'_>) -> Result<(), AppError> {
    choices(page, false);
    let components = store::components::list(&state.db).await?;
    let placeholders: Vec<_> = PLACEHOLDERS
        .iter()
        .map(|(name, what)| serde_json::json!({ "name": name, "what": what }))
        .collect();
    page.insert("components", &views::components(&components))
        .insert("placeholders", &placeholders);
    Ok(())
}

async fn listing<'a>(
    state: &'a AppState,
    me: Option<&crate::entity::staff::Model>,
    token: &csrf::CsrfToken,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/templates.html", me, token);
    common(state, &mut page).await?;
    let list: Vec<_> = store::templates::list(&state.db)
        .await?
        .iter()
        .map(|t| {
            serde_json::json!({
                "id": t.model.id,
                "name": t.model.name,
                "title": t.model.title,
                "status_label": t.status.label(),
            })
        })
        .collect();
    page.insert("templates", &list);
    Ok(page)
}

#[get("/templates")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    let mut page = listing(&state, Some(&me.0), &token).await?;
    page.notice(notice)
        .insert(
            "form",
            &serde_json::json!({ "status": "investigating", "impact": "minor", "notify": "on" }),
        )
        .render(StatusCode::OK)
}

#[post("/templates")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let page = listing(&state, shown_as.as_ref(), &token).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "The template was not added: please fix the fields marked below.",
        &MESSAGE,
        async |me, errors| {
            let Some(input) = parse(&form, errors) else {
                return Ok(None);
            };
            let t = store::templates::create(&state.db, input).await?;
            tracing::info!(template = t.model.id, staff = me.id, "template added");
            audit::record(
                &state,
                &Actor::staff(me),
                "template.create",
                Subject::new("template", t.model.id),
                format!("Added the template {}", t.model.name),
                None,
                audit::template(&state, t.model.id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/templates?done={}",
                Done::TemplateAdded.key()
            )))
        },
    )
    .await
}

async fn edit_page<'a>(
    state: &'a AppState,
    me: Option<&crate::entity::staff::Model>,
    token: &csrf::CsrfToken,
    id: i32,
) -> Result<(AdminPage<'a>, TemplateView), AppError> {
    let t = store::templates::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut page = AdminPage::new(state, "admin/template.html", me, token);
    common(state, &mut page).await?;
    page.insert(
        "template",
        &serde_json::json!({ "id": t.model.id, "name": t.model.name }),
    );
    Ok((page, t))
}

#[get("/templates/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    let (mut page, t) = edit_page(&state, Some(&me.0), &token, id.into_inner()).await?;
    page.notice(notice)
        .insert("form", &form_of(&t))
        .render(StatusCode::OK)
}

#[post("/templates/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let (page, _) = edit_page(&state, shown_as.as_ref(), &token, id).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "The template was not saved: please fix the fields marked below.",
        &MESSAGE,
        async |me, errors| {
            let Some(input) = parse(&form, errors) else {
                return Ok(None);
            };
            let before = audit::template(&state, id).await;
            store::templates::update(&state.db, id, input).await?;
            tracing::info!(template = id, staff = me.id, "template saved");
            audit::record(
                &state,
                &Actor::staff(me),
                "template.update",
                Subject::new("template", id),
                "Saved the template",
                before,
                audit::template(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/templates/{id}?done={}",
                Done::TemplateSaved.key()
            )))
        },
    )
    .await
}

/// Deleting asks first: the list's and the edit page's Delete lead here.
#[get("/templates/{id}/delete")]
pub async fn confirm_delete(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let t = store::templates::find(&state.db, id.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let meaning = [
        "Staff can no longer start an incident or an update from it.".to_owned(),
        "Incidents and updates already started from it stay as they were published.".to_owned(),
        "There is no undo here: to use it again, add it anew.".to_owned(),
    ];
    AdminPage::new(&state, "admin/confirm_delete.html", Some(&me.0), &token)
        .insert("title", &format!("Delete {}?", t.model.name))
        .insert(
            "heading",
            &format!("Delete the template “{}”?", t.model.name),
        )
        .insert("meaning", &meaning)
        .insert("action", &format!("/admin/templates/{}/delete", t.model.id))
        .insert("button", &format!("Delete {}", t.model.name))
        .insert("back", "/admin/templates")
        .render(StatusCode::OK)
}

#[post("/templates/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    form: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    form.fields?;
    let id = id.into_inner();
    let before = audit::template(&state, id).await;
    store::templates::delete(&state.db, id).await?;
    audit::record(
        &state,
        &Actor::staff(&form.who.0),
        "template.delete",
        Subject::new("template", id),
        "Deleted the template",
        before,
        None,
    )
    .await;
    Ok(see_other_done("/admin/templates", Done::TemplateDeleted))
}

// ---- using one --------------------------------------------------------------

/// `?template=ID` of a form page.
#[derive(serde::Deserialize)]
pub struct UseTemplate {
    pub template: Option<String>,
}

/// The templates to pick from, and which one the page was opened with.
pub async fn picker(
    state: &AppState,
    page: &mut AdminPage<'_>,
    chosen: Option<i32>,
) -> Result<(), AppError> {
    let list: Vec<_> = store::templates::list(&state.db)
        .await?
        .iter()
        .map(|t| serde_json::json!({ "id": t.model.id, "name": t.model.name }))
        .collect();
    page.insert("templates", &list)
        .insert("template_id", &chosen.unwrap_or(0));
    Ok(())
}

/// The form a template opens, its placeholders filled by plain substitution
/// (`domain::Filling`), never by the template engine. `incident` is the
/// title of the incident an update is for.
pub async fn prefill(
    state: &AppState,
    raw_id: &str,
    incident: Option<&str>,
) -> Result<(i32, serde_json::Value), AppError> {
    let id = raw_id
        .trim()
        .parse::<i32>()
        .map_err(|_| AppError::NotFound)?;
    let t = store::templates::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let live = store::components::list(&state.db).await?;
    // Components deleted since the template was saved are left out.
    let plan: Vec<_> = t
        .components
        .0
        .iter()
        .filter_map(|(cid, s)| live.iter().find(|c| c.model.id == *cid).map(|c| (c, *s)))
        .collect();
    let filling = Filling {
        component: plan
            .iter()
            .map(|(c, _)| c.model.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        start: time::date_time(store::now(), state.page.zone().tz()),
        page: state.settings.page_name.clone(),
        incident: incident.unwrap_or_default().to_owned(),
    };
    let mut form = serde_json::json!({
        "title": filling.fill(&t.model.title),
        "message": filling.fill(&t.model.message),
        "status": t.status.as_str(),
        "impact": t.impact.as_str(),
    });
    if t.model.notify {
        form["notify"] = "on".into();
    }
    for (c, s) in plan {
        form[format!("component_{}", c.model.id)] = s.as_str().into();
    }
    Ok((id, form))
}
