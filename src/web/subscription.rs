//! A subscriber's own page, reached by the link in every notification mail:
//! which components it hears of, and the way out. The token in the path is
//! the credential (the unsubscribe link's); the form also carries a CSRF
//! token, so another site cannot make a reader's browser change it.
use std::future::Future;
use std::pin::Pin;

use actix_web::{
    dev::Payload, error::InternalError, get, http::StatusCode, middleware::from_fn, post, web,
    FromRequest, HttpRequest, HttpResponse,
};

use super::{
    csrf,
    form::{CheckedForm, Stale},
    subscribe::{base_context, chosen_components, describe, html},
    AppError,
};
use crate::entity::subscriber;
use crate::render::{time, views};
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/subscription")
            .wrap(from_fn(csrf::ensure_cookie))
            .service(page)
            .service(save),
    );
}

/// Who asks: the subscriber whose token is in the path, looked up before a
/// form's body is read. An unknown token is answered with a page saying so.
pub struct Holder(subscriber::Model);

impl FromRequest for Holder {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
                return Err(actix_web::error::ErrorInternalServerError(
                    "state is registered",
                ));
            };
            let token = req.match_info().get("token").unwrap_or_default();
            let found = store::subscribers::find_by_unsubscribe_token(&state.db, token)
                .await
                .map_err(AppError::from)?;
            match found {
                Some(m) => Ok(Self(m)),
                None => {
                    let mut ctx = base_context(&req, &state, "");
                    ctx.insert("found", &false);
                    let body = state
                        .tera
                        .render("public/subscription.html", &ctx)
                        .map_err(AppError::from)?;
                    let res = html(StatusCode::NOT_FOUND, body);
                    Err(InternalError::from_response("no such subscription", res).into())
                }
            }
        })
    }
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

/// What the page shows besides the subscriber: the boxes ticked (None: as
/// saved), and a notice or an error above the form.
struct Shown<'a> {
    chosen: Option<Vec<i32>>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    token: &csrf::CsrfToken,
    sub: &subscriber::Model,
    shown: Shown<'_>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = base_context(req, state, "");
    let path = |p: String| format!("/{p}");
    let secret = urlencoding::encode(&sub.unsubscribe_token).into_owned();
    ctx.insert("found", &true);
    ctx.insert("subject", &describe(sub)?);
    ctx.insert(
        "unsubscribed",
        &sub.unsubscribed_at
            .map(|t| time::date_time(t, state.page.zone().tz())),
    );
    ctx.insert(
        "disabled_reason",
        &sub.disabled_at.map(|_| {
            sub.disabled_reason
                .clone()
                .unwrap_or_else(|| "disabled".into())
        }),
    );
    ctx.insert("csrf_token", &token.0);
    ctx.insert("action", &path(store::subscribers::manage_path(&secret)));
    ctx.insert(
        "unsubscribe_action",
        &path(store::subscribers::unsubscribe_path(&secret)),
    );
    let components = store::components::list(&state.db).await?;
    let saved = store::subscribers::components_of(&state.db, &[sub.id])
        .await?
        .remove(&sub.id)
        .unwrap_or_default();
    let names: Vec<&str> = components
        .iter()
        .filter(|c| saved.contains(&c.model.id))
        .map(|c| c.model.name.as_str())
        .collect();
    ctx.insert("hears_all", &saved.is_empty());
    ctx.insert("hears_of", &names);
    ctx.insert("components", &views::components(&components));
    ctx.insert("chosen", shown.chosen.as_ref().unwrap_or(&saved));
    ctx.insert("notice", &shown.notice);
    ctx.insert("error", &shown.error);
    Ok(html(
        status,
        state.tera.render("public/subscription.html", &ctx)?,
    ))
}

#[get("/{token}")]
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    Holder(sub): Holder,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = q.saved.is_some().then_some("Saved.");
    let shown = Shown {
        chosen: None,
        notice,
        error: None,
    };
    render(&req, &state, &token, &sub, shown, StatusCode::OK).await
}

/// Replaces the components the subscriber hears of with those ticked (none
/// ticked: all), then shows the page again with a notice.
#[post("/{token}")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: csrf::CsrfToken,
    CheckedForm {
        who: Holder(sub),
        fields,
    }: CheckedForm<Holder>,
) -> Result<HttpResponse, AppError> {
    let form = match fields {
        Ok(form) => form,
        Err(Stale(form)) => {
            let shown = Shown {
                chosen: Some(chosen_components(&form)),
                notice: None,
                error: Some(csrf::STALE_MESSAGE),
            };
            return render(&req, &state, &token, &sub, shown, StatusCode::FORBIDDEN).await;
        }
    };
    let chosen = chosen_components(&form);
    if !store::subscribers::change_components(&state.db, sub.id, &chosen).await? {
        // Unsubscribed meanwhile: the page says so, and nothing was changed.
        let sub = store::subscribers::find_by_unsubscribe_token(&state.db, &sub.unsubscribe_token)
            .await?
            .unwrap_or(sub);
        let shown = Shown {
            chosen: None,
            notice: None,
            error: None,
        };
        return render(&req, &state, &token, &sub, shown, StatusCode::CONFLICT).await;
    }
    tracing::info!(
        subscriber = sub.id,
        components = chosen.len(),
        "a subscriber chose its components"
    );
    let to = format!(
        "/{}?saved=1",
        store::subscribers::manage_path(&urlencoding::encode(&sub.unsubscribe_token))
    );
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
