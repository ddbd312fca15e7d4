//! Incident templates: list, read, add, change, remove. Their text is kept as
//! written; placeholders are filled only when staff open a form from one.
use std::collections::BTreeMap;

use actix_web::{delete, get, http::StatusCode, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{
    idempotent, json, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody,
};
use crate::domain::{
    ComponentPlan, ComponentStatus, Impact, IncidentStatus, TemplateName, TemplateTitle, UpdateBody,
};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    templates::{TemplateInput, TemplateView},
};
use crate::web::audit;

/// A template as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    /// The incident title it starts with; may be empty.
    pub title: String,
    /// Markdown, placeholders (`{component}`, `{start}`, `{page}`, `{incident}`) as written.
    pub message: String,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    #[schema(pattern = "^(investigating|identified|monitoring|resolved)$")]
    pub status: String,
    /// `none`, `minor`, `major` or `critical`.
    #[schema(pattern = "^(none|minor|major|critical)$")]
    pub impact: String,
    /// Component id -> the status the template gives it.
    pub components: BTreeMap<String, String>,
    /// Whether the form it opens has "Notify subscribers" ticked.
    pub notify: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A new template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// One line, 100 characters at most, unique (ignoring case).
    pub name: String,
    /// Default empty.
    #[serde(default)]
    pub title: Option<String>,
    /// Markdown.
    pub message: String,
    /// Default `investigating`.
    #[serde(default)]
    pub status: Option<String>,
    /// Default `minor`.
    #[serde(default)]
    pub impact: Option<String>,
    /// Component id -> status, e.g. `{"3": "major_outage"}`.
    #[serde(default)]
    pub components: Option<BTreeMap<String, String>>,
    /// Default true.
    #[serde(default)]
    pub notify: Option<bool>,
}

/// Changes to a template; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub impact: Option<String>,
    /// Replaces the whole set; `{}` sets none.
    #[serde(default)]
    pub components: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub notify: Option<bool>,
}

fn field<T>(name: &str, r: Result<T, crate::domain::ParseError>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid(name, e.0))
}

fn template_json(state: &AppState, t: &TemplateView) -> Template {
    Template {
        id: t.model.id.to_string(),
        name: t.model.name.clone(),
        title: t.model.title.clone(),
        message: t.model.message.clone(),
        status: t.status.as_str().to_owned(),
        impact: t.impact.as_str().to_owned(),
        components: t
            .components
            .0
            .iter()
            .map(|(id, s)| (id.to_string(), s.as_str().to_owned()))
            .collect(),
        notify: t.model.notify,
        created_at: state.page.time(t.model.created_at),
        updated_at: state.page.time(t.model.updated_at),
    }
}

/// The components, each a live one, as the form offers them.
async fn plan(state: &AppState, map: &BTreeMap<String, String>) -> Result<ComponentPlan, ApiError> {
    let live = store::components::list(&state.db).await?;
    let mut out = Vec::new();
    for (id, status) in map {
        let name = format!("components.{id}");
        let id = id
            .parse::<i32>()
            .ok()
            .filter(|id| live.iter().any(|c| c.model.id == *id))
            .ok_or_else(|| ApiError::invalid(&name, "No such component."))?;
        out.push((id, field(&name, ComponentStatus::parse(status))?));
    }
    Ok(ComponentPlan(out))
}

/// The same rules as the staff form.
#[allow(clippy::too_many_arguments)]
async fn input(
    state: &AppState,
    name: &str,
    title: &str,
    message: &str,
    status: &str,
    impact: &str,
    components: &BTreeMap<String, String>,
    notify: bool,
) -> Result<TemplateInput, ApiError> {
    Ok(TemplateInput {
        name: field("name", TemplateName::parse(name))?,
        title: field("title", TemplateTitle::parse(title))?,
        message: field("message", UpdateBody::parse(message))?,
        status: field("status", IncidentStatus::parse(status))?,
        impact: field("impact", Impact::parse(impact))?,
        components: plan(state, components).await?,
        notify,
    })
}

/// Every template, by name.
#[utoipa::path(get, path = "/api/v1/templates", tag = "v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "Templates", body = [Template]),
        Unauthorized,
    ))]
#[get("/templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let list = store::templates::list(&state.db).await?;
    let out: Vec<Template> = list.iter().map(|t| template_json(&state, t)).collect();
    json(StatusCode::OK, &out)
}

/// One template.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "v1", security(("bearer" = [])),
    params(("id" = String, Path, description = "Template id")),
    responses(
        (status = 200, description = "The template", body = Template),
        (status = 404, description = "No such template", body = ErrorBody),
        Unauthorized,
    ))]
#[get("/templates/{id}")]
pub async fn get_template(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = store::templates::find(&state.db, path_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    json(StatusCode::OK, &template_json(&state, &t))
}

/// Adds a template.
#[utoipa::path(post, path = "/api/v1/templates", tag = "v1", security(("bearer" = [])),
    request_body = TemplateBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result")),
    responses(
        (status = 201, description = "Added", body = Template),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/templates")]
pub async fn create_template(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let b: TemplateBody = parse_json(&body)?;
        let new = input(
            &state,
            &b.name,
            b.title.as_deref().unwrap_or(""),
            &b.message,
            b.status.as_deref().unwrap_or("investigating"),
            b.impact.as_deref().unwrap_or("minor"),
            &b.components.unwrap_or_default(),
            b.notify.unwrap_or(true),
        )
        .await?;
        let t = store::templates::create(&state.db, new).await?;
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "template.create",
            Subject::new("template", t.model.id),
            format!("Added the template {}", t.model.name),
            None,
            audit::template(&state, t.model.id).await,
        )
        .await;
        written(StatusCode::CREATED, &template_json(&state, &t))
    })
    .await
}

/// Changes a template.
#[utoipa::path(patch, path = "/api/v1/templates/{id}", tag = "v1", security(("bearer" = [])),
    request_body = TemplatePatch,
    params(("id" = String, Path, description = "Template id")),
    responses(
        (status = 200, description = "Changed", body = Template),
        (status = 404, description = "No such template", body = ErrorBody),
        Unauthorized, Forbidden, BadBody,
    ))]
#[patch("/templates/{id}")]
pub async fn update_template(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let body = read_body(payload).await?;
    let p: TemplatePatch = parse_json(&body)?;
    let current = store::templates::find(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = template_json(&state, &current);
    let changed = input(
        &state,
        p.name.as_deref().unwrap_or(&now.name),
        p.title.as_deref().unwrap_or(&now.title),
        p.message.as_deref().unwrap_or(&now.message),
        p.status.as_deref().unwrap_or(&now.status),
        p.impact.as_deref().unwrap_or(&now.impact),
        p.components.as_ref().unwrap_or(&now.components),
        p.notify.unwrap_or(now.notify),
    )
    .await?;
    let before = audit::template(&state, id).await;
    let t = store::templates::update(&state.db, id, changed).await?;
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "template.update",
        Subject::new("template", id),
        "Saved the template",
        before,
        audit::template(&state, id).await,
    )
    .await;
    json(StatusCode::OK, &template_json(&state, &t))
}

/// Removes a template.
#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "v1", security(("bearer" = [])),
    params(("id" = String, Path, description = "Template id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such template", body = ErrorBody),
        Unauthorized, Forbidden,
    ))]
#[delete("/templates/{id}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let before = audit::template(&state, id).await;
    store::templates::delete(&state.db, id).await?;
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "template.delete",
        Subject::new("template", id),
        "Deleted the template",
        before,
        None,
    )
    .await;
    Ok(HttpResponse::NoContent().finish())
}
