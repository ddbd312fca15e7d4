//! Staff pages under /admin: server-rendered forms that work without JavaScript
//! and never lose what was typed.
mod components;
mod deliveries;
mod incidents;
mod session;
mod staff;
mod subscribers;
mod tokens;

use actix_web::{
    cookie::Cookie, http::StatusCode, middleware::from_fn, web, HttpRequest, HttpResponse,
};

use super::{auth, csrf, form::FormData, AppError};
use crate::entity::staff as staff_entity;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(from_fn(csrf::ensure_cookie))
            .service(session::login_page)
            .service(session::login)
            .service(session::logout)
            .service(session::setup_page)
            .service(session::setup)
            .service(incidents::list)
            .service(incidents::new_page)
            .service(incidents::create)
            .service(incidents::show)
            .service(incidents::post_update)
            .service(deliveries::retry_dead)
            .service(components::index)
            .service(components::create)
            .service(components::update)
            .service(components::delete)
            .service(staff::index)
            .service(staff::create)
            .service(staff::update)
            .service(subscribers::index)
            .service(subscribers::create)
            .service(subscribers::delete)
            .service(subscribers::rotate)
            .service(subscribers::export)
            .service(tokens::index)
            .service(tokens::create)
            .service(tokens::revoke),
    );
}

/// The context every admin page starts from.
pub fn context(
    me: Option<&staff_entity::Model>,
    csrf: &csrf::CsrfToken,
    state: &AppState,
) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("page_name", &state.settings.page_name);
    ctx.insert("csrf_token", &csrf.0);
    if let Some(me) = me {
        ctx.insert("me", &serde_json::json!({ "id": me.id, "name": me.name, "email": me.email, "is_admin": me.is_admin }));
    }
    ctx.insert(
        "errors",
        &std::collections::HashMap::<String, String>::new(),
    );
    ctx.insert("form", &std::collections::HashMap::<String, String>::new());
    ctx
}

pub fn page(
    state: &AppState,
    template: &str,
    ctx: &tera::Context,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let body = state.tera.render(template, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

/// Outcome of checking who submits a staff form.
// Built once per request and matched at once: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Gate {
    /// Go ahead; a fresh session cookie to set when the form carried credentials.
    Pass(staff_entity::Model, Option<Cookie<'static>>),
    /// Show the form again with this message, the text intact.
    Refuse {
        message: String,
        reauth: bool,
        status: StatusCode,
    },
}

/// Checks the CSRF token and the session of a staff form. A session that expired
/// while the staff member was typing is not an error that loses text: the form
/// comes back with sign-in fields, and submitting it signs in and saves.
pub async fn gate(
    req: &HttpRequest,
    state: &AppState,
    me: Option<staff_entity::Model>,
    form: &FormData,
) -> Result<Gate, AppError> {
    if !csrf::is_valid(req, form.get(csrf::FIELD)) {
        return Ok(Gate::Refuse {
            message: csrf::STALE_MESSAGE.into(),
            reauth: me.is_none(),
            status: StatusCode::FORBIDDEN,
        });
    }
    if let Some(me) = me {
        return Ok(Gate::Pass(me, None));
    }
    let (email, password) = (form.get("reauth_email"), form.get("reauth_password"));
    if email.is_empty() || password.is_empty() {
        return Ok(Gate::Refuse {
            message: "Your session has expired. Sign in below and submit again: your text is kept."
                .into(),
            reauth: true,
            status: StatusCode::UNAUTHORIZED,
        });
    }
    match auth::sign_in(req, state, email, password).await? {
        Some(staff) => {
            let token = crate::store::staff::open_session(
                &state.db,
                staff.id,
                state.settings.session_hours,
            )
            .await?;
            Ok(Gate::Pass(staff, Some(auth::session_cookie(state, token))))
        }
        None => Ok(Gate::Refuse {
            message: "That email and password did not match. Your text is kept; try again.".into(),
            reauth: true,
            status: StatusCode::UNAUTHORIZED,
        }),
    }
}
