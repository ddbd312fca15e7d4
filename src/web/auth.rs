//! Who is signed in: the session cookie, looked up in the database.
use std::future::Future;
use std::pin::Pin;

use actix_web::{
    cookie::{time::Duration as CookieDuration, Cookie, SameSite},
    dev::Payload,
    web, FromRequest, HttpRequest,
};

use super::AppError;
use crate::entity::staff;
use crate::state::AppState;

pub const COOKIE: &str = "sp_session";

/// A signed-in staff member, if any.
pub struct MaybeStaff(pub Option<staff::Model>);

/// A signed-in staff member; pages that need one redirect to sign-in without it.
pub struct Staff(pub staff::Model);

/// A signed-in admin.
pub struct Admin(pub staff::Model);

async fn lookup(req: &HttpRequest) -> Result<Option<staff::Model>, AppError> {
    let Some(cookie) = req.cookie(COOKIE) else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("state is registered");
    Ok(crate::store::staff::session_staff(&state.db, cookie.value()).await?)
}

fn next_of(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/admin".into())
    } else {
        "/admin".into()
    }
}

impl FromRequest for MaybeStaff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeStaff(lookup(&req).await?)) })
    }
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            lookup(&req)
                .await?
                .map(Staff)
                .ok_or_else(|| AppError::SignInRequired {
                    next: next_of(&req),
                })
        })
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let s = lookup(&req)
                .await?
                .ok_or_else(|| AppError::SignInRequired {
                    next: next_of(&req),
                })?;
            if !s.is_admin {
                return Err(AppError::Forbidden("Only admins can do this.".into()));
            }
            Ok(Admin(s))
        })
    }
}

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(state.settings.session_hours))
        .finish()
}

pub fn cleared_session_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "").path("/").finish();
    c.make_removal();
    c
}

/// The client's address, through the proxies the operator named.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    Some(state.settings.trusted_proxies.client(peer, forwarded))
}

/// The throttle key for a sign-in attempt: the account and the address
/// together, so that failures from one address slow down guessing there and
/// never lock the account's owner, or anyone else, out from elsewhere.
pub fn throttle_keys(req: &HttpRequest, state: &AppState, email: &str) -> Vec<String> {
    let ip = client_ip(req, state)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    vec![format!("login:{}|{ip}", email.trim().to_lowercase())]
}

/// Checks credentials with throttling; `Ok(None)` means wrong email or password.
pub async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<Option<staff::Model>, AppError> {
    let keys = throttle_keys(req, state, email);
    if let Some(wait) = state.throttle.wait(&keys) {
        return Err(AppError::TooManyRequests(wait.as_secs().max(1)));
    }
    match crate::store::staff::authenticate(&state.db, email, password).await? {
        Some(s) => {
            state.throttle.succeeded(&keys);
            Ok(Some(s))
        }
        None => {
            state.throttle.failed(&keys);
            Ok(None)
        }
    }
}
