//! Staff pages under /admin: server-rendered forms that work without JavaScript
//! and never lose what was typed.
mod audit;
mod backups;
mod components;
mod corrections;
mod deliveries;
mod incidents;
mod maintenance;
pub mod notice;
mod postmortems;
mod recovery;
mod sending;
mod session;
mod staff;
mod subscribers;
mod templates;
mod tokens;

use std::collections::HashMap;

use actix_web::{
    cookie::Cookie, http::StatusCode, middleware::from_fn, web, HttpRequest, HttpResponse,
};

use super::{
    auth, csrf,
    form::{FieldErrors, FormData, Stale},
    AppError,
};
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
            .service(incidents::new_maintenance_page)
            .service(incidents::create_maintenance)
            .service(maintenance::edit)
            .service(maintenance::confirm_cancel)
            .service(maintenance::cancel)
            .service(maintenance::confirm_stop_series)
            .service(maintenance::stop_series)
            .service(postmortems::edit)
            .service(postmortems::save)
            .service(deliveries::retry_dead)
            .service(recovery::save_integrity)
            .service(recovery::add_milestone)
            .service(recovery::complete_milestone)
            .service(sending::edit)
            .service(sending::hold)
            .service(corrections::correct)
            .service(components::index)
            .service(components::create)
            .service(components::update)
            .service(components::confirm_delete)
            .service(components::delete)
            .service(staff::index)
            .service(staff::create)
            .service(staff::update)
            .service(subscribers::index)
            .service(subscribers::create)
            .service(subscribers::confirm_delete)
            .service(subscribers::delete)
            .service(subscribers::rotate)
            .service(subscribers::export)
            .service(templates::index)
            .service(templates::create)
            .service(templates::edit)
            .service(templates::update)
            .service(templates::confirm_delete)
            .service(templates::delete)
            .service(tokens::index)
            .service(tokens::create)
            .service(tokens::revoke)
            .service(audit::index)
            .service(audit::export)
            .service(backups::index)
            .service(backups::download),
    );
}

/// Fields never sent back in a page, whatever form they came in.
const NOT_SHOWN_AGAIN: [&str; 4] = [
    "password",
    "password_confirm",
    "reauth_password",
    csrf::FIELD,
];

/// An admin page as a handler answers it: its template and context, starting
/// from what every admin page shows. A form shown again goes through
/// [`AdminPage::refused`] (or [`AdminPage::form`]), so every page keeps the
/// staff member's text the same way and none sends a secret back.
pub struct AdminPage<'a> {
    state: &'a AppState,
    template: &'static str,
    ctx: tera::Context,
}

impl<'a> AdminPage<'a> {
    pub fn new(
        state: &'a AppState,
        template: &'static str,
        me: Option<&staff_entity::Model>,
        csrf: &csrf::CsrfToken,
    ) -> Self {
        let mut ctx = tera::Context::new();
        ctx.insert("page_name", &state.settings.page_name);
        ctx.insert("csrf_token", &csrf.0);
        if let Some(me) = me {
            ctx.insert("me", &serde_json::json!({ "id": me.id, "name": me.name, "email": me.email, "is_admin": me.is_admin }));
        }
        ctx.insert("errors", &HashMap::<String, String>::new());
        ctx.insert("form", &HashMap::<String, String>::new());
        Self {
            state,
            template,
            ctx,
        }
    }

    pub fn insert<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) -> &mut Self {
        self.ctx.insert(key, value);
        self
    }

    /// Says what the action that led here did, when the URL names one.
    pub fn notice(&mut self, notice: notice::Notice) -> &mut Self {
        if let Some(done) = notice.0 {
            self.insert("notice", done.message());
        }
        self
    }

    /// Fills the page's form with `form` as typed.
    pub fn form(&mut self, form: &FormData) -> &mut Self {
        self.insert("form", &form.clone().without(&NOT_SHOWN_AGAIN).values)
    }

    /// A submit that saved nothing: the text as typed, what is wrong with
    /// which field, and `message` above the form.
    pub fn refused(&mut self, form: &FormData, errors: &FieldErrors, message: &str) -> &mut Self {
        self.form(form)
            .insert("errors", &errors.0)
            .insert("error", message)
    }

    /// A form whose CSRF check failed: shown again with its text, as 403.
    pub fn stale(&mut self, stale: &Stale) -> Result<HttpResponse, AppError> {
        self.refused(&stale.0, &FieldErrors::default(), csrf::STALE_MESSAGE)
            .render(StatusCode::FORBIDDEN)
    }

    /// Staff pages may hold what was typed or a secret shown once: never cached.
    pub fn render(&self, status: StatusCode) -> Result<HttpResponse, AppError> {
        let body = self.state.tera.render(self.template, &self.ctx)?;
        Ok(HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body))
    }
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

/// Settles who submits a staff form, once [`super::form::CheckedForm`] has made
/// the CSRF check, and gives back the text to show again whatever the verdict.
/// A session that expired while the staff member was typing is not an error
/// that loses text: the form comes back with sign-in fields, and submitting it
/// signs in and saves.
pub async fn gate(
    req: &HttpRequest,
    state: &AppState,
    me: Option<staff_entity::Model>,
    fields: Result<FormData, Stale>,
) -> Result<(Gate, FormData), AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(Stale(form)) => {
            let refused = Gate::Refuse {
                message: csrf::STALE_MESSAGE.into(),
                reauth: me.is_none(),
                status: StatusCode::FORBIDDEN,
            };
            return Ok((refused, form));
        }
    };
    if let Some(me) = me {
        return Ok((Gate::Pass(me, None), form));
    }
    let (email, password) = (form.get("reauth_email"), form.get("reauth_password"));
    if email.is_empty() || password.is_empty() {
        let refused = Gate::Refuse {
            message: "Your session has expired. Sign in below and submit again: your text is kept."
                .into(),
            reauth: true,
            status: StatusCode::UNAUTHORIZED,
        };
        return Ok((refused, form));
    }
    let gate = match auth::sign_in(req, state, email, password).await? {
        Some(staff) => {
            let token = crate::store::staff::open_session(
                &state.db,
                staff.id,
                state.settings.session_hours,
            )
            .await?;
            Gate::Pass(staff, Some(auth::session_cookie(state, token)))
        }
        None => Gate::Refuse {
            message: "That email and password did not match. Your text is kept; try again.".into(),
            reauth: true,
            status: StatusCode::UNAUTHORIZED,
        },
    };
    Ok((gate, form))
}
