//! Signing in and out, and the one-time link that creates an account.
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{see_other, AdminPage};
use crate::domain::{DisplayName, EmailAddress, PageZone, Password};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, staff::NewStaff, StoreError};
use crate::web::audit;
use crate::web::{
    auth, csrf,
    form::{CheckedForm, FieldErrors},
    AppError,
};

fn safe_next(next: &str) -> &str {
    // Only paths on this site, so a crafted link cannot bounce a signed-in user elsewhere.
    // Control characters would make the Location header invalid, or split it.
    if next.starts_with("/admin")
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
    {
        next
    } else {
        "/admin"
    }
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[get("/login")]
pub async fn login_page(
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    q: web::Query<NextQuery>,
    me: auth::MaybeStaff,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(q.next.as_deref().unwrap_or("/admin"));
    if me.0.is_some() {
        return Ok(see_other(next));
    }
    AdminPage::new(&state, "admin/login.html", None, &token)
        .insert("form", &serde_json::json!({ "next": next }))
        .render(StatusCode::OK)
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    CheckedForm { fields, .. }: CheckedForm,
) -> Result<HttpResponse, AppError> {
    let mut page = AdminPage::new(&state, "admin/login.html", None, &token);
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return page.stale(&stale),
    };
    let next = safe_next(form.get("next")).to_owned();
    page.form(&form);
    match auth::sign_in(&req, &state, form.get("email"), form.get("password")).await {
        Ok(Some(staff)) => {
            let session =
                store::staff::open_session(&state.db, staff.id, state.settings.session_hours)
                    .await?;
            audit::record(
                &state,
                &Actor::staff(&staff),
                "staff.sign_in",
                Subject::new("staff", staff.id),
                "Signed in",
                None,
                None,
            )
            .await;
            Ok(HttpResponse::SeeOther()
                .cookie(auth::session_cookie(&state, session))
                .insert_header(("Location", next))
                .finish())
        }
        Ok(None) => page
            .insert("error", "That email and password did not match.")
            .render(StatusCode::UNAUTHORIZED),
        Err(AppError::TooManyRequests(secs)) => {
            let mut res = page
                .insert(
                    "error",
                    &format!("Too many failed sign-ins. Try again in {secs} seconds."),
                )
                .render(StatusCode::TOO_MANY_REQUESTS)?;
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs),
            );
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[post("/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CheckedForm,
) -> Result<HttpResponse, AppError> {
    form.fields?;
    if let Some(c) = req.cookie(auth::COOKIE) {
        let who = store::staff::session_staff(&state.db, c.value()).await?;
        store::staff::close_session(&state.db, c.value()).await?;
        if let Some(staff) = who {
            audit::record(
                &state,
                &Actor::staff(&staff),
                "staff.sign_out",
                Subject::new("staff", staff.id),
                "Signed out",
                None,
                None,
            )
            .await;
        }
    }
    Ok(HttpResponse::SeeOther()
        .cookie(auth::cleared_session_cookie())
        .insert_header(("Location", "/admin/login"))
        .finish())
}

#[get("/setup/{token}")]
pub async fn setup_page(
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    link: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    if !store::staff::signup_token_valid(&state.db, &link).await? {
        return Err(AppError::NotFound);
    }
    let mut page = AdminPage::new(&state, "admin/setup.html", None, &token);
    zone_choice(&mut page, &state, state.page.zone().name());
    page.render(StatusCode::OK)
}

fn gone(page: &mut AdminPage<'_>) -> Result<HttpResponse, AppError> {
    page.insert("error", "This link has expired or was already used.")
        .render(StatusCode::GONE)
}

/// The page-zone picker of the setup form, unless the settings fix the zone.
fn zone_choice(page: &mut AdminPage<'_>, state: &AppState, chosen: &str) {
    if state.settings.timezone.is_none() {
        page.insert(
            "zone_groups",
            &crate::render::zones::picker(store::now(), chosen),
        );
    }
}

#[post("/setup/{token}")]
pub async fn setup(
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    link: web::Path<String>,
    CheckedForm { fields, .. }: CheckedForm,
) -> Result<HttpResponse, AppError> {
    let mut page = AdminPage::new(&state, "admin/setup.html", None, &token);
    let form = match fields {
        Ok(form) => form,
        Err(stale) => return page.stale(&stale),
    };
    page.form(&form);
    // Before anything is read from the form: a used or expired link learns nothing more.
    if !store::staff::signup_token_valid(&state.db, &link).await? {
        return gone(&mut page);
    }
    let mut errors = FieldErrors::default();
    // Asked only of the first admin, and only when the settings leave it open.
    let zone = match state.settings.timezone {
        Some(_) => None,
        None => errors.check("timezone", PageZone::parse(form.get("timezone"))),
    };
    zone_choice(
        &mut page,
        &state,
        zone.map_or(form.get("timezone"), |z| z.name()),
    );
    let email = errors.check("email", EmailAddress::parse(form.get("email")));
    let name = errors.check("name", DisplayName::parse(form.get("name")));
    let password = errors.check("password", Password::parse(form.get("password")));
    if form.get("password") != form.get("password_confirm") {
        errors.add("password_confirm", "The two passwords differ.");
    }
    if let (Some(email), Some(name), Some(password), true) =
        (email, name, password, errors.is_empty())
    {
        match store::staff::sign_up(
            &state.db,
            &link,
            NewStaff {
                email,
                name,
                password,
                is_admin: true,
            },
        )
        .await
        {
            Ok(staff) => {
                audit::record(
                    &state,
                    &Actor::staff(&staff),
                    "staff.setup",
                    Subject::new("staff", staff.id),
                    "Created the account from a setup link",
                    None,
                    audit::staff(&state, staff.id).await,
                )
                .await;
                if let Some(zone) = zone {
                    store::settings::set_page_zone(&state.db, zone).await?;
                    state.page.zone.set(zone);
                    state.cache.invalidate();
                }
                let session =
                    store::staff::open_session(&state.db, staff.id, state.settings.session_hours)
                        .await?;
                return Ok(HttpResponse::SeeOther()
                    .cookie(auth::session_cookie(&state, session))
                    .insert_header(("Location", "/admin"))
                    .finish());
            }
            Err(StoreError::NotFound) => return gone(&mut page),
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    page.insert("errors", &errors.0)
        .render(StatusCode::UNPROCESSABLE_ENTITY)
}
