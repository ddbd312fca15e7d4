//! Managing components: add, rename, group, order, set status.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{context, page, see_other};
use crate::domain::{ComponentName, ComponentStatus};
use crate::render::views;
use crate::state::AppState;
use crate::store::{self, components::ComponentInput};
use crate::web::{
    auth, csrf,
    form::{FieldErrors, FormData},
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

async fn render(
    state: &AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    failed: Option<(Option<i32>, &FormData, FieldErrors, &str)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = context(Some(me), token, state);
    let list = store::components::list(&state.db).await?;
    ctx.insert("components", &views::components(&list));
    let statuses: Vec<_> = ComponentStatus::ALL
        .iter()
        .map(|s| serde_json::json!({ "value": s.as_str(), "label": s.label() }))
        .collect();
    ctx.insert("component_statuses", &statuses);
    if let Some((id, form, errors, message)) = failed {
        ctx.insert("failed_id", &id);
        ctx.insert("form", &form.values);
        ctx.insert("errors", &errors.0);
        ctx.insert("error", message);
    }
    page(state, "admin/components.html", &ctx, status)
}

#[get("/components")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    render(&state, &me.0, &token, None, StatusCode::OK).await
}

#[post("/components")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return render(
            &state,
            &me.0,
            &token,
            Some((None, &form, FieldErrors::default(), csrf::STALE_MESSAGE)),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    match parse(&form, &mut errors) {
        Some(input) => {
            store::components::create(&state.db, input).await?;
            state.published();
            Ok(see_other("/admin/components"))
        }
        None => {
            render(
                &state,
                &me.0,
                &token,
                Some((
                    None,
                    &form,
                    errors,
                    "The component was not added: please fix the fields marked below.",
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[post("/components/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return render(
            &state,
            &me.0,
            &token,
            Some((Some(id), &form, FieldErrors::default(), csrf::STALE_MESSAGE)),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    match parse(&form, &mut errors) {
        Some(input) => {
            store::components::update(&state.db, id, input, form.has("notify")).await?;
            state.published();
            Ok(see_other("/admin/components"))
        }
        None => {
            render(
                &state,
                &me.0,
                &token,
                Some((
                    Some(id),
                    &form,
                    errors,
                    "The component was not saved: please fix the fields marked below.",
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[post("/components/{id}/delete")]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    _me: auth::Staff,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return Err(AppError::Forbidden(csrf::STALE_MESSAGE.into()));
    }
    store::components::delete(&state.db, id.into_inner()).await?;
    state.published();
    Ok(see_other("/admin/components"))
}
