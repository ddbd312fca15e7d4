//! `/badge.svg`: the overall status for READMEs and intranet pages.
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::api_v2::public_read;
use super::public::{cached, respond};
use super::AppError;
use crate::render::badge as svg;
use crate::render::statuspage;
use crate::state::AppState;
use crate::store;

#[get("/badge.svg")]
pub async fn badge(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = cached(&req, &state, "/badge.svg".into(), "image/svg+xml", || {
        badge_svg(&state.db)
    })
    .await?;
    Ok(public_read(respond(&req, page, None)))
}

/// The badge from `db`: what `/badge.svg` serves and what a static copy holds.
pub async fn badge_svg(db: &impl sea_orm::ConnectionTrait) -> Result<String, AppError> {
    let components = store::components::list(db).await?;
    Ok(svg::svg("status", &statuspage::status(&components)))
}
