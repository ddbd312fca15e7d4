//! Managing staff accounts (admins only).
use actix_web::{get, http::StatusCode, post, web, HttpResponse};

use super::{
    notice::{see_other_done, Done, Notice},
    AdminPage,
};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, staff::NewStaff, StoreError};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors},
    AppError,
};

/// The staff page: every account, and the form that adds one.
async fn listing<'a>(
    state: &'a AppState,
    me: &crate::entity::staff::Model,
    token: &csrf::CsrfToken,
) -> Result<AdminPage<'a>, AppError> {
    let mut page = AdminPage::new(state, "admin/staff.html", Some(me), token);
    let staff: Vec<_> = store::staff::list(&state.db)
        .await?
        .into_iter()
        .map(|s| serde_json::json!({ "id": s.id, "name": s.name, "email": s.email, "is_admin": s.is_admin, "active": s.active }))
        .collect();
    page.insert("staff", &staff);
    Ok(page)
}

#[get("/staff")]
pub async fn index(
    state: web::Data<AppState>,
    me: auth::Admin,
    token: csrf::CsrfToken,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    listing(&state, &me.0, &token)
        .await?
        .notice(notice)
        .render(StatusCode::OK)
}

#[post("/staff")]
pub async fn create(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Admin>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return listing(&state, &me.0, &token).await?.stale(&stale),
    };
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
            Ok(made) => {
                audit::record(
                    &state,
                    &Actor::staff(&me.0),
                    "staff.create",
                    Subject::new("staff", made.id),
                    format!("Added the staff account {}", made.name),
                    None,
                    audit::staff(&state, made.id).await,
                )
                .await;
                return Ok(see_other_done("/admin/staff", Done::StaffAdded));
            }
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    listing(&state, &me.0, &token)
        .await?
        .refused(
            &form,
            &errors,
            "The account was not created: please fix the fields marked below.",
        )
        .render(StatusCode::UNPROCESSABLE_ENTITY)
}

#[post("/staff/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Admin>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return listing(&state, &me.0, &token).await?.stale(&stale),
    };
    let id = id.into_inner();
    let mut errors = FieldErrors::default();
    let before = audit::staff(&state, id).await;
    let mut password_changed = false;
    if !form.get("password").is_empty() {
        if let Some(p) = errors.check("password", Password::parse(form.get("password"))) {
            store::staff::set_password(&state.db, id, &p).await?;
            password_changed = true;
        }
    }
    if errors.is_empty() {
        match store::staff::set_flags(&state.db, id, form.has("is_admin"), form.has("active")).await
        {
            Ok(()) => {
                audit::record(
                    &state,
                    &Actor::staff(&me.0),
                    "staff.update",
                    Subject::new("staff", id),
                    if password_changed {
                        "Saved the staff account and set a new password"
                    } else {
                        "Saved the staff account"
                    },
                    before,
                    audit::staff(&state, id).await,
                )
                .await;
                return Ok(see_other_done("/admin/staff", Done::StaffSaved));
            }
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    listing(&state, &me.0, &token)
        .await?
        .refused(
            &form,
            &errors,
            "Nothing was changed: please fix the fields marked below.",
        )
        .render(StatusCode::UNPROCESSABLE_ENTITY)
}
