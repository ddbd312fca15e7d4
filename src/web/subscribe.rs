//! Public subscribing: an email address (double opt-in) or a webhook, the
//! confirmation link, and the unsubscribe link every message carries.
use actix_web::{get, http::StatusCode, middleware::from_fn, post, web, HttpRequest, HttpResponse};
use tracing::Instrument;

use super::{
    csrf,
    form::{CheckedForm, FieldErrors, FormData, Stale},
    public::{layout_context, reader_zone},
    AppError,
};
use crate::domain::{EmailAddress, SubscriberKind, WebhookUrl};
use crate::entity::subscriber;
use crate::notify::ssrf;
use crate::render::views;
use crate::state::AppState;
use crate::store::{self, subscribers::EmailSignup, StoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/subscribe")
            .wrap(from_fn(csrf::ensure_cookie))
            .service(form_page)
            .service(subscribe_email)
            .service(sent)
            .service(subscribe_webhook)
            .service(confirm_page)
            .service(confirm),
    )
    // No CSRF cookie here: the token in the URL is the credential, and a mail
    // client's one-click POST (RFC 8058) carries no cookie.
    .service(unsubscribe_page)
    .service(unsubscribe);
}

/// Which of the two forms failed, to refill it and show its errors.
struct Failed<'a> {
    form_name: &'static str,
    form: &'a FormData,
    errors: FieldErrors,
    message: &'a str,
}

/// The component ids ticked in a form's `components` boxes.
pub(super) fn chosen_components(form: &FormData) -> Vec<i32> {
    form.pairs
        .iter()
        .filter(|(k, _)| k == "components")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect()
}

pub(super) fn base_context(req: &HttpRequest, state: &AppState, path: &str) -> tera::Context {
    // A form page answers in the page's zone rather than refuse: a 400 here
    // would lose what the reader typed.
    let zone = reader_zone(req, state).map_or(state.page.zone(), |(z, _)| z);
    let mut ctx = layout_context(state, zone);
    ctx.insert("path", path);
    ctx
}

pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        // Pages reached by a secret link do not pass it on to other sites.
        // Not `no-referrer`: under it browsers send `Origin: null` with the
        // page's own forms, which the CSRF check must refuse.
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(body)
}

async fn render_form(
    req: &HttpRequest,
    state: &AppState,
    token: &csrf::CsrfToken,
    failed: Option<Failed<'_>>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = base_context(req, state, "subscribe");
    ctx.insert("csrf_token", &token.0);
    let components = store::components::list(&state.db).await?;
    ctx.insert("components", &views::components(&components));
    let (failed_form, values, errors, chosen) = match &failed {
        Some(f) => (
            f.form_name,
            f.form.values.clone(),
            f.errors.0.clone(),
            chosen_components(f.form),
        ),
        None => ("", Default::default(), Default::default(), Vec::new()),
    };
    ctx.insert("failed", failed_form);
    ctx.insert("form", &values);
    ctx.insert("errors", &errors);
    ctx.insert("chosen", &chosen);
    if let Some(f) = &failed {
        ctx.insert("error", f.message);
    }
    Ok(html(
        status,
        state.tera.render("public/subscribe.html", &ctx)?,
    ))
}

#[get("")]
pub async fn form_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
) -> Result<HttpResponse, AppError> {
    render_form(&req, &state, &token, None, StatusCode::OK).await
}

#[post("/email")]
pub async fn subscribe_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    CheckedForm { fields, .. }: CheckedForm,
) -> Result<HttpResponse, AppError> {
    let (form, stale) = match fields {
        Ok(form) => (form, false),
        Err(Stale(form)) => (form, true),
    };
    let fail = |errors, message, status| {
        let form = &form;
        let (req, state, token) = (&req, &state, &token);
        async move {
            render_form(
                req,
                state,
                token,
                Some(Failed {
                    form_name: "email",
                    form,
                    errors,
                    message,
                }),
                status,
            )
            .await
        }
    };
    if stale {
        return fail(
            FieldErrors::default(),
            csrf::STALE_MESSAGE,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    let Some(email) = errors.check("email", EmailAddress::parse(form.get("email"))) else {
        return fail(
            errors,
            "You are not subscribed yet: please fix the field marked below.",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // Everything that depends on the address (the lookup, the write, the mail)
    // runs after the answer, so the answer takes as long, and reads the same,
    // whether the address is new, pending or confirmed. Doing "the same
    // database work" for each case instead could only approximate that: an
    // insert, an update and a no-op differ however they are padded.
    //
    // Nothing the page promises is lost this way. Its answer was never "you
    // are subscribed" but "check your inbox", and the confirmation mail was
    // already sent after the answer; a sign-up not recorded (the database
    // failing, the process stopping) ends like a mail not delivered: logged,
    // and the person subscribes again. Notifications to confirmed subscribers
    // do not depend on this path: they go through the outbox.
    //
    // The permit bounds the sign-ups in flight, so a flood of the form waits
    // here (the same for every address) instead of piling up tasks.
    let permit = SIGNUPS_IN_FLIGHT
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let components = chosen_components(&form);
    let state = state.into_inner();
    tokio::spawn(
        async move {
            let _permit = permit;
            if let Err(e) = record_signup(&state, &email, &components).await {
                tracing::warn!(error = %e, "email sign-up not recorded");
            }
        }
        // Its lines, after the answer, still carry the sign-up's request id.
        .in_current_span(),
    );
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/subscribe/sent"))
        .finish())
}

/// Sign-ups being recorded or mailed at once, after their answers.
static SIGNUPS_IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(32);

/// The address-dependent part of an email sign-up, run after the answer.
async fn record_signup(
    state: &AppState,
    email: &EmailAddress,
    components: &[i32],
) -> anyhow::Result<()> {
    // A few confirmations per address come freely; after that each waits longer
    // (30 s, doubling, up to 15 min). Meanwhile the address and its last link are
    // left alone.
    let throttle_key = [format!("confirm:{}", email.as_str().to_lowercase())];
    if state.signup_throttle.wait(&throttle_key).is_some() {
        tracing::warn!("confirmation emails to one address throttled");
        return Ok(());
    }
    match store::subscribers::subscribe_email(&state.db, email, components).await? {
        EmailSignup::Confirm { subscriber, token } => {
            state.signup_throttle.failed(&throttle_key);
            send_confirmation(state, &subscriber, &token)
                .await
                .map_err(|e| {
                    e.context(format!(
                        "confirmation email to subscriber {}",
                        subscriber.id
                    ))
                })?;
        }
        EmailSignup::AlreadyConfirmed => {
            tracing::info!("sign-up for an address already confirmed; nothing sent");
        }
    }
    Ok(())
}

#[get("/sent")]
pub async fn sent(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let ctx = base_context(&req, &state, "subscribe/sent");
    Ok(html(
        StatusCode::OK,
        state.tera.render("public/subscribe_sent.html", &ctx)?,
    ))
}

#[post("/webhook")]
pub async fn subscribe_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    CheckedForm { fields, .. }: CheckedForm,
) -> Result<HttpResponse, AppError> {
    let (form, stale) = match fields {
        Ok(form) => (form, false),
        Err(Stale(form)) => (form, true),
    };
    let fail = |errors, message, status| {
        let form = &form;
        let (req, state, token) = (&req, &state, &token);
        async move {
            render_form(
                req,
                state,
                token,
                Some(Failed {
                    form_name: "webhook",
                    form,
                    errors,
                    message,
                }),
                status,
            )
            .await
        }
    };
    if stale {
        return fail(
            FieldErrors::default(),
            csrf::STALE_MESSAGE,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    let url = match WebhookUrl::parse(form.get("webhook_url")) {
        Ok(u) => ssrf::deliverable(u, state.settings.webhook_allow_private).await,
        Err(e) => Err(e),
    };
    let url = errors.check("webhook_url", url);
    let contact = errors.check("email", EmailAddress::parse(form.get("email")));
    let (Some(url), Some(contact)) = (url, contact) else {
        return fail(
            errors,
            "The webhook was not added: please fix the fields marked below.",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match store::subscribers::subscribe_webhook(
        &state.db,
        &url,
        &contact,
        &chosen_components(&form),
    )
    .await
    {
        Ok((subscriber, secret)) => {
            let mut ctx = base_context(&req, &state, "subscribe");
            ctx.insert("webhook_url", url.as_str());
            ctx.insert("secret", &secret);
            ctx.insert(
                "unsubscribe_url",
                &state.settings.link(&store::subscribers::unsubscribe_path(
                    &subscriber.unsubscribe_token,
                )),
            );
            ctx.insert(
                "manage_url",
                &state.settings.link(&store::subscribers::manage_path(
                    &subscriber.unsubscribe_token,
                )),
            );
            Ok(html(
                StatusCode::OK,
                state.tera.render("public/subscribe_webhook.html", &ctx)?,
            ))
        }
        Err(StoreError::Conflict { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            fail(
                errors,
                "The webhook was not added: please fix the fields marked below.",
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Shows the button that confirms, and changes nothing: mail scanners and
/// prefetchers open every link in a message, so a GET that confirmed would let
/// a stranger's sign-up confirm itself.
#[get("/confirm/{token}")]
pub async fn confirm_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = store::subscribers::find_by_confirm_token(&state.db, &token).await?;
    let mut ctx = base_context(&req, &state, "subscribe");
    ctx.insert("confirmed", &false);
    ctx.insert("email", &found.as_ref().map(|s| s.email.as_str()));
    ctx.insert(
        "action",
        &format!("/subscribe/confirm/{}", urlencoding::encode(&token)),
    );
    render_confirm(&state, &ctx, found.is_some())
}

/// The button of the GET page. No CSRF token is asked for: the token in the
/// path is the credential, and forging a POST to it needs the token already.
#[post("/confirm/{token}")]
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let confirmed = store::subscribers::confirm(&state.db, &token).await?;
    let mut ctx = base_context(&req, &state, "subscribe");
    ctx.insert("confirmed", &confirmed.is_some());
    ctx.insert("email", &Option::<&str>::None);
    if let Some(s) = &confirmed {
        ctx.insert(
            "unsubscribe_url",
            &state
                .settings
                .link(&store::subscribers::unsubscribe_path(&s.unsubscribe_token)),
        );
        ctx.insert(
            "manage_url",
            &state
                .settings
                .link(&store::subscribers::manage_path(&s.unsubscribe_token)),
        );
    }
    render_confirm(&state, &ctx, confirmed.is_some())
}

/// The confirmation page: 200 while the link is good, 410 once it is not.
fn render_confirm(
    state: &AppState,
    ctx: &tera::Context,
    live: bool,
) -> Result<HttpResponse, AppError> {
    let status = if live {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(html(
        status,
        state.tera.render("public/subscribe_confirm.html", ctx)?,
    ))
}

/// "a@example.com", or "the webhook https://…": whom the notifications reach.
pub(super) fn describe(s: &subscriber::Model) -> Result<String, sea_orm::DbErr> {
    Ok(match (store::subscribers::kind_of(s)?, &s.webhook_url) {
        (SubscriberKind::Webhook, Some(url)) => format!("the webhook {url}"),
        _ => s.email.clone(),
    })
}

/// Never unsubscribes by itself: link scanners and prefetchers follow GETs.
#[get("/unsubscribe/{token}")]
pub async fn unsubscribe_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = store::subscribers::find_by_unsubscribe_token(&state.db, &token).await?;
    let mut ctx = base_context(&req, &state, "");
    ctx.insert("found", &found.is_some());
    ctx.insert(
        "done",
        &found.as_ref().is_some_and(|s| s.unsubscribed_at.is_some()),
    );
    ctx.insert("subject", &found.as_ref().map(describe).transpose()?);
    ctx.insert(
        "manage_url",
        &state
            .page
            .link(&store::subscribers::manage_path(&urlencoding::encode(
                &token,
            ))),
    );
    ctx.insert(
        "action",
        &format!("/unsubscribe/{}", urlencoding::encode(&token)),
    );
    Ok(html(
        StatusCode::OK,
        state.tera.render("public/unsubscribe.html", &ctx)?,
    ))
}

/// RFC 8058 one-click: a POST of `List-Unsubscribe=One-Click` (urlencoded or
/// multipart, as mail providers send it) unsubscribes at once. The confirm
/// button of the GET page posts the same. Any POST counts: only a deliberate
/// action sends one, and the unguessable token is the credential.
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let removed = store::subscribers::unsubscribe(&state.db, &token).await?;
    if removed {
        tracing::info!("a subscriber unsubscribed");
    }
    let mut ctx = base_context(&req, &state, "");
    ctx.insert("found", &false);
    ctx.insert("done", &true);
    Ok(html(
        StatusCode::OK,
        state.tera.render("public/unsubscribe.html", &ctx)?,
    ))
}

/// Mails the confirmation link, made from the configured base URL.
async fn send_confirmation(
    state: &AppState,
    subscriber: &subscriber::Model,
    token: &str,
) -> anyhow::Result<()> {
    let message = crate::notify::email::confirmation(
        &state.page,
        &state.tera,
        subscriber.id,
        &state.page.link(&format!("subscribe/confirm/{token}")),
        store::subscribers::confirm_ttl().num_hours(),
    )
    .and_then(|r| r.message(state.mailer.from(), &subscriber.email, None))
    .map_err(|e| anyhow::anyhow!(e))?;
    state.mailer.send(message).await?;
    Ok(())
}
