//! Managing staff accounts (admins only).
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{context, page, see_other};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::state::AppState;
use crate::store::{self, staff::NewStaff, StoreError};
use crate::web::{
    auth, csrf,
    form::{FieldErrors, FormData},
    AppError,
};

async fn render(
    state: &AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
    failed: Option<(&FormData, FieldErrors, &str)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = context(Some(me), token, state);
    let staff: Vec<_> = store::staff::list(&state.db)
        .await?
        .into_iter()
        .map(|s| serde_json::json!({ "id": s.id, "name": s.name, "email": s.email, "is_admin": s.is_admin, "active": s.active }))
        .collect();
    ctx.insert("staff", &staff);
    if let Some((form, errors, message)) = failed {
        ctx.insert("form", &form.clone().without(&["password"]).values);
        ctx.insert("errors", &errors.0);
        ctx.insert("error", message);
    }
    page(state, "admin/staff.html", &ctx, status)
}

#[get("/staff")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    render(&state, &me.0, &token, None, StatusCode::OK).await
}

#[post("/staff")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return render(
            &state,
            &me.0,
            &token,
            Some((&form, FieldErrors::default(), csrf::STALE_MESSAGE)),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    let email = errors.check("email", EmailAddress::parse(form.get("email")));
    let name = errors.check("name", DisplayName::parse(form.get("name")));
    let password = errors.check("password", Password::parse(form.get("password")));
    if let (Some(email), Some(name), Some(password)) = (email, name, password) {
        match store::staff::create(
            &state.db,
            NewStaff {
                email,
                name,
                password,
                is_admin: form.has("is_admin"),
            },
        )
        .await
        {
            Ok(_) => return Ok(see_other("/admin/staff")),
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    render(
        &state,
        &me.0,
        &token,
        Some((
            &form,
            errors,
            "The account was not created: please fix the fields marked below.",
        )),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[post("/staff/{id}")]
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return render(
            &state,
            &me.0,
            &token,
            Some((&form, FieldErrors::default(), csrf::STALE_MESSAGE)),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let id = id.into_inner();
    let mut errors = FieldErrors::default();
    if !form.get("password").is_empty() {
        if let Some(p) = errors.check("password", Password::parse(form.get("password"))) {
            store::staff::set_password(&state.db, id, &p).await?;
        }
    }
    if errors.is_empty() {
        match store::staff::set_flags(&state.db, id, form.has("is_admin"), form.has("active")).await
        {
            Ok(()) => return Ok(see_other("/admin/staff")),
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    render(
        &state,
        &me.0,
        &token,
        Some((
            &form,
            errors,
            "Nothing was changed: please fix the fields marked below.",
        )),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
