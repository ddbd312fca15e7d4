//! CSRF protection: a random cookie, and a form token that is an HMAC of it
//! under the page's secret. A cross-site page can neither read the cookie nor
//! compute the token.
use std::future::{ready, Ready};

use actix_web::{
    body::MessageBody,
    cookie::{Cookie, SameSite},
    dev::{Payload, ServiceRequest, ServiceResponse},
    middleware::Next,
    web, Error, FromRequest, HttpMessage, HttpRequest,
};

use crate::secrets;
use crate::state::AppState;

pub const COOKIE: &str = "sp_csrf";
pub const FIELD: &str = "csrf_token";

#[derive(Clone)]
struct CsrfCookie(String);

/// Gives every request under it a CSRF cookie, minting one when it has none.
pub async fn ensure_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let existing = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32 && v.len() <= 64);
    let secure = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.secure_cookies)
        .unwrap_or(false);
    let (value, fresh) = match existing {
        Some(v) => (v, false),
        None => (secrets::random_token(), true),
    };
    req.extensions_mut().insert(CsrfCookie(value.clone()));
    let mut res = next.call(req).await?;
    if fresh {
        let cookie = Cookie::build(COOKIE, value)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// The token to put in this request's forms.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CsrfToken(pub String);

fn token_for(state: &AppState, cookie: &str) -> String {
    secrets::hmac(&state.secret, &format!("csrf:{cookie}"))
}

impl FromRequest for CsrfToken {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("state is registered");
        let cookie = req
            .extensions()
            .get::<CsrfCookie>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        ready(Ok(CsrfToken(token_for(state, &cookie))))
    }
}

/// Whether `submitted` is the token for this request's cookie.
pub fn is_valid(req: &HttpRequest, submitted: &str) -> bool {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return false;
    };
    let Some(cookie) = req.cookie(COOKIE) else {
        return false;
    };
    secrets::constant_time_eq(&token_for(state, cookie.value()), submitted)
}

pub const STALE_MESSAGE: &str =
    "This form had expired, so nothing was saved. Your text is kept below: check it and submit again.";
