//! CSRF protection, three ways, each enough against a forged form on its own:
//! - the form token is an HMAC, under the page's secret, of a random cookie
//!   *and* of the session cookie, so a cookie an attacker managed to plant
//!   (from a sibling subdomain, say) yields no token that works in a victim's
//!   session;
//! - over https the cookie is `__Host-` prefixed, which a sibling cannot set;
//! - a browser's `Origin` (or `Referer`, or `Sec-Fetch-Site`) must say the
//!   form came from our own base URL.
use std::future::{ready, Ready};

use actix_web::{
    body::MessageBody,
    cookie::{Cookie, SameSite},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, Error, FromRequest, HttpMessage, HttpRequest,
};

use crate::secrets;
use crate::state::AppState;

pub const FIELD: &str = "csrf_token";

/// The cookie's name: `__Host-` wherever cookies are Secure (browsers accept
/// that prefix only then).
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies {
        "__Host-sp_csrf"
    } else {
        "sp_csrf"
    }
}

#[derive(Clone)]
struct CsrfCookie(String);

/// Gives every request under it a CSRF cookie, minting one when it has none.
pub async fn ensure_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "state is registered",
        ));
    };
    let name = cookie_name(&state);
    let existing = req
        .cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32 && v.len() <= 64);
    let (value, fresh) = match existing {
        Some(v) => (v, false),
        None => (secrets::random_token(), true),
    };
    req.extensions_mut().insert(CsrfCookie(value.clone()));
    let mut res = next.call(req).await?;
    if fresh {
        let cookie = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(state.settings.secure_cookies)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// The token to put in this request's forms.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// The token for forms shown in the same response that sets a new session
    /// cookie (a sign-in inside a form), which the next submit will carry.
    pub fn for_session(req: &HttpRequest, state: &AppState, session: &str) -> Self {
        Self(token_for(state, &csrf_cookie(req), session))
    }
}

fn token_for(state: &AppState, cookie: &str, session: &str) -> String {
    secrets::hmac(&state.secret, &format!("csrf:{cookie}:{session}"))
}

fn csrf_cookie(req: &HttpRequest) -> String {
    req.extensions()
        .get::<CsrfCookie>()
        .map(|c| c.0.clone())
        .unwrap_or_default()
}

fn session_of(req: &HttpRequest) -> String {
    req.cookie(super::auth::COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default()
}

impl FromRequest for CsrfToken {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(actix_web::error::ErrorInternalServerError(
                "state is registered",
            )));
        };
        ready(Ok(CsrfToken(token_for(
            state,
            &csrf_cookie(req),
            &session_of(req),
        ))))
    }
}

/// Whether `submitted` is the token for this request's cookies, and the
/// browser says the form was on our own pages. Handlers get the verdict from
/// [`super::form::CheckedForm`], which asks this for every form.
pub(super) fn is_valid(req: &HttpRequest, submitted: &str) -> bool {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return false;
    };
    let Some(cookie) = req.cookie(cookie_name(state)) else {
        return false;
    };
    same_origin(req, &state.settings.base_url)
        && secrets::constant_time_eq(
            &token_for(state, cookie.value(), &session_of(req)),
            submitted,
        )
}

/// What the browser says of where the form was: our base URL, or the host
/// the browser itself addressed (the `Host` it sent, which a cross-site page
/// cannot choose), so a page opened as `localhost` rather than the configured
/// name still works. Browsers send `Origin` on every cross-origin POST; a
/// client that sends none of these headers is not a browser and carries no
/// victim's cookies, so the token alone decides.
fn same_origin(req: &HttpRequest, base: &url::Url) -> bool {
    let named = |h: &str| {
        req.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if named("sec-fetch-site").as_deref() == Some("cross-site") {
        return false;
    }
    let host = named(header::HOST.as_str());
    let ours = |claimed: &str| {
        // "null" (a sandboxed frame, a privacy setting) parses as no URL: not us.
        url::Url::parse(claimed).is_ok_and(|u| {
            u.origin() == base.origin()
                || host.as_deref().is_some_and(|h| {
                    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                    u.host_str()
                        .is_some_and(|uh| format!("{uh}{port}").eq_ignore_ascii_case(h))
                })
        })
    };
    match (
        named(header::ORIGIN.as_str()),
        named(header::REFERER.as_str()),
    ) {
        (Some(origin), _) => ours(&origin),
        (None, Some(referer)) => ours(&referer),
        (None, None) => true,
    }
}

pub const STALE_MESSAGE: &str =
    "This form had expired, so nothing was saved. Your text is kept below: check it and submit again.";
