//! Signing in and out, and the one-time link that creates an account.
use crate::web::form::FormData;
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{context, page, see_other};
use crate::domain::{DisplayName, EmailAddress, Password};
use crate::state::AppState;
use crate::store::{self, staff::NewStaff, StoreError};
use crate::web::{auth, csrf, form::FieldErrors, AppError};

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
    let mut ctx = context(None, &token, &state);
    ctx.insert("form", &serde_json::json!({ "next": next }));
    page(&state, "admin/login.html", &ctx, StatusCode::OK)
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    let next = safe_next(form.get("next")).to_owned();
    let mut ctx = context(None, &token, &state);
    ctx.insert("form", &form.clone().without(&["password"]).values);
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        ctx.insert("error", csrf::STALE_MESSAGE);
        return page(&state, "admin/login.html", &ctx, StatusCode::FORBIDDEN);
    }
    match auth::sign_in(&req, &state, form.get("email"), form.get("password")).await {
        Ok(Some(staff)) => {
            let session =
                store::staff::open_session(&state.db, staff.id, state.settings.session_hours)
                    .await?;
            Ok(HttpResponse::SeeOther()
                .cookie(auth::session_cookie(&state, session))
                .insert_header(("Location", next))
                .finish())
        }
        Ok(None) => {
            ctx.insert("error", "That email and password did not match.");
            page(&state, "admin/login.html", &ctx, StatusCode::UNAUTHORIZED)
        }
        Err(AppError::TooManyRequests(secs)) => {
            ctx.insert(
                "error",
                &format!("Too many failed sign-ins. Try again in {secs} seconds."),
            );
            let mut res = page(
                &state,
                "admin/login.html",
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
            )?;
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
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        return Err(AppError::Forbidden(csrf::STALE_MESSAGE.into()));
    }
    if let Some(c) = req.cookie(auth::COOKIE) {
        store::staff::close_session(&state.db, c.value()).await?;
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
    let ctx = context(None, &token, &state);
    page(&state, "admin/setup.html", &ctx, StatusCode::OK)
}

#[post("/setup/{token}")]
pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    link: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormData::parse(&body)?;
    let mut ctx = context(None, &token, &state);
    ctx.insert(
        "form",
        &form
            .clone()
            .without(&["password", "password_confirm"])
            .values,
    );
    let mut errors = FieldErrors::default();
    if !csrf::is_valid(&req, form.get(csrf::FIELD)) {
        ctx.insert("error", csrf::STALE_MESSAGE);
        return page(&state, "admin/setup.html", &ctx, StatusCode::FORBIDDEN);
    }
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
                let session =
                    store::staff::open_session(&state.db, staff.id, state.settings.session_hours)
                        .await?;
                return Ok(HttpResponse::SeeOther()
                    .cookie(auth::session_cookie(&state, session))
                    .insert_header(("Location", "/admin"))
                    .finish());
            }
            Err(StoreError::NotFound) => {
                ctx.insert("error", "This link has expired or was already used.");
                return page(&state, "admin/setup.html", &ctx, StatusCode::GONE);
            }
            Err(StoreError::Conflict { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    ctx.insert("errors", &errors.0);
    page(
        &state,
        "admin/setup.html",
        &ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
