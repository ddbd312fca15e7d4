//! Managing components: add, rename, group, order, set status.
use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{see_other, AdminPage};
use crate::domain::{ComponentName, ComponentStatus};
use crate::render::views;
use crate::state::AppState;
use crate::store::{self, components::ComponentInput};
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors, FormData},
    AppError,
};

fn parse(form: &FormData, errors: &mut FieldErrors) -> Option<ComponentInput> {
    let name = errors.check("name", ComponentName::parse(form.get("name")));
    let group = match form.get("group").trim() {
        "" => Some(None),
        g => errors.check("group", ComponentName::parse(g)).map(Some),
    };
    let status = errors.check("status", ComponentStatus::parse(form.get("status")));
    let position = match form.get("position").trim() {
        "" => Some(0),
        p => match p.parse::<i32>() {
            Ok(n) if (0..=10_000).contains(&n) => Some(n),
            _ => {
                errors.add("position", "Enter a whole number from 0 to 10000.");
                None
            }
        },
    };
    let description = form.get("description").trim().to_owned();
    if description.chars().count() > 500 {
        errors.add("description", "A description is 500 characters at most.");
    }
    Some(ComponentInput {
        name: name?,
        description,
        group: group?,
        position: position?,
        status: status?,
    })
    .filter(|_| errors.is_empty())
}

/// The components page: every component, each with its own form, and the
/// form that adds one.
async fn listing<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/components.html", Some(me), token);
    let list = store::components::list(&state.db).await?;
    let statuses: Vec<_> = ComponentStatus::ALL
        .iter()
        .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    page.insert("components", &views::components(&list))
        .insert("component_statuses", &statuses);
    Ok(page)
}

/// The page with the form that failed open: component `id`'s, or with None
/// the one that adds a component.
async fn failed<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    id: Option<i32>,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = listing(state, me, token).await?;
    page.insert("failed_id", &id);
    Ok(page)
}

#[get("/components")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    listing(&state, &me.0, &token).await?.render(StatusCode::OK)
}

#[post("/components")]
pub async fn create(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return failed(&state, &me.0, &token, None).await?.stale(&stale),
    };
    let mut errors = FieldErrors::default();
    match parse(&form, &mut errors) {
        Some(input) => {
            store::components::create(&state.db, input).await?;
            state.published();
            Ok(see_other("/admin/components"))
        }
        None => failed(&state, &me.0, &token, None)
            .await?
            .refused(
                &form,
                &errors,
                "The component was not added: please fix the fields marked below.",
            )
            .render(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

#[post("/components/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return failed(&state, &me.0, &token, Some(id)).await?.stale(&stale),
    };
    let mut errors = FieldErrors::default();
    match parse(&form, &mut errors) {
        Some(input) => {
            store::components::update(&state.db, id, input, form.has("notify")).await?;
            state.published();
            Ok(see_other("/admin/components"))
        }
        None => failed(&state, &me.0, &token, Some(id))
            .await?
            .refused(
                &form,
                &errors,
                "The component was not saved: please fix the fields marked below.",
            )
            .render(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

#[post("/components/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    form: CheckedForm<auth::Staff>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    form.fields?;
    store::components::delete(&state.db, id.into_inner()).await?;
    state.published();
    Ok(see_other("/admin/components"))
}
