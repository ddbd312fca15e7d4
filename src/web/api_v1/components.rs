//! Components: list, add, change, remove.
use actix_web::{delete, get, http::StatusCode, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::responses::{BadBody, Forbidden, KeyReused, Unauthorized};
use super::{
    idempotent, json, parse_json, path_id, read_body, written, ApiError, Caller, ErrorBody,
};
use crate::domain::{ComponentName, ComponentStatus};
use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, components::ComponentInput};
use crate::web::audit;

/// A new component.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentBody {
    pub name: String,
    /// 500 characters at most.
    #[serde(default)]
    pub description: Option<String>,
    /// The group's name; a group is made the first time it is named.
    #[serde(default)]
    pub group: Option<String>,
    /// 0 to 10000; lower comes first.
    #[serde(default)]
    pub position: Option<i64>,
    /// Default `operational`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Changes to a component; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A group's name, or `""` to take it out of its group.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    /// Notify subscribers of a status change (default true).
    #[serde(default)]
    pub notify: Option<bool>,
}

fn check<T>(name: &str, r: Result<T, crate::domain::ParseError>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid(name, e.0))
}

/// The same rules as the staff form.
fn input(
    name: &str,
    description: &str,
    group: &str,
    position: i64,
    status: &str,
) -> Result<ComponentInput, ApiError> {
    let name = check("name", ComponentName::parse(name))?;
    let group = match group.trim() {
        "" => None,
        g => Some(check("group", ComponentName::parse(g))?),
    };
    let position = i32::try_from(position)
        .ok()
        .filter(|p| (0..=10_000).contains(p))
        .ok_or_else(|| {
            ApiError::invalid("position", "A position is a whole number from 0 to 10000.")
        })?;
    let description = description.trim().to_owned();
    if description.chars().count() > 500 {
        return Err(ApiError::invalid(
            "description",
            "A description is 500 characters at most.",
        ));
    }
    Ok(ComponentInput {
        name,
        description,
        group,
        position,
        status: check("status", ComponentStatus::parse(status))?,
        uptime: None,
    })
}

async fn component_json(state: &AppState, id: i32) -> Result<sp::Component, ApiError> {
    let list = store::components::list(&state.db).await?;
    let c = list
        .iter()
        .find(|c| c.model.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(sp::component(&state.page, c))
}

/// Every component (groups are not listed here; see a component's `group_id`).
#[utoipa::path(get, path = "/api/v1/components", tag = "v1", security(("bearer" = [])),
    responses(
        (status = 200, description = "Components", body = [sp::Component]),
        Unauthorized,
    ))]
#[get("/components")]
pub async fn list_components(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let info = &state.page;
    let list = store::components::list(&state.db).await?;
    let out: Vec<sp::Component> = list.iter().map(|c| sp::component(info, c)).collect();
    json(StatusCode::OK, &out)
}

/// Adds a component.
#[utoipa::path(post, path = "/api/v1/components", tag = "v1", security(("bearer" = [])),
    request_body = ComponentBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first result")),
    responses(
        (status = 201, description = "Added", body = sp::Component),
        Unauthorized, Forbidden, BadBody, KeyReused,
    ))]
#[post("/components")]
pub async fn create_component(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let body = read_body(payload).await?;
    idempotent(&req, &state, &caller, &body, || async {
        let b: ComponentBody = parse_json(&body)?;
        let new = input(
            &b.name,
            b.description.as_deref().unwrap_or(""),
            b.group.as_deref().unwrap_or(""),
            b.position.unwrap_or(0),
            b.status.as_deref().unwrap_or("operational"),
        )?;
        let m = store::components::create(&state.db, new).await?;
        state.published();
        audit::record(
            &state,
            &Actor::token(&caller.0.model),
            "component.create",
            Subject::new("component", m.id),
            format!("Added the component {}", m.name),
            None,
            audit::component(&state, m.id).await,
        )
        .await;
        written(StatusCode::CREATED, &component_json(&state, m.id).await?)
    })
    .await
}

/// Changes a component; a status change notifies subscribers unless `notify` is false.
#[utoipa::path(patch, path = "/api/v1/components/{id}", tag = "v1", security(("bearer" = [])),
    request_body = ComponentPatch,
    params(("id" = String, Path, description = "Component id")),
    responses(
        (status = 200, description = "Changed", body = sp::Component),
        (status = 404, description = "No such component", body = ErrorBody),
        Unauthorized, Forbidden, BadBody,
    ))]
#[patch("/components/{id}")]
pub async fn update_component(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let body = read_body(payload).await?;
    let p: ComponentPatch = parse_json(&body)?;
    let list = store::components::list(&state.db).await?;
    let current = list
        .iter()
        .find(|c| c.model.id == id)
        .ok_or_else(ApiError::not_found)?;
    let current_group = current
        .group
        .as_ref()
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let changed = input(
        p.name.as_deref().unwrap_or(&current.model.name),
        p.description
            .as_deref()
            .unwrap_or(&current.model.description),
        p.group.as_deref().unwrap_or(&current_group),
        p.position.unwrap_or(i64::from(current.model.position)),
        p.status.as_deref().unwrap_or(current.status.as_str()),
    )?;
    let before = audit::component(&state, id).await;
    store::components::update(&state.db, id, changed, p.notify.unwrap_or(true)).await?;
    state.published();
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "component.update",
        Subject::new("component", id),
        "Saved the component",
        before,
        audit::component(&state, id).await,
    )
    .await;
    json(StatusCode::OK, &component_json(&state, id).await?)
}

/// Removes a component.
#[utoipa::path(delete, path = "/api/v1/components/{id}", tag = "v1", security(("bearer" = [])),
    params(("id" = String, Path, description = "Component id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such component", body = ErrorBody),
        Unauthorized, Forbidden,
    ))]
#[delete("/components/{id}")]
pub async fn delete_component(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require_write()?;
    let id = path_id(&id)?;
    let before = audit::component(&state, id).await;
    store::components::delete(&state.db, id).await?;
    state.published();
    audit::record(
        &state,
        &Actor::token(&caller.0.model),
        "component.delete",
        Subject::new("component", id),
        "Deleted the component",
        before,
        None,
    )
    .await;
    Ok(HttpResponse::NoContent().finish())
}
