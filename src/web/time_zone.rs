//! The reader's time-zone picker: every zone by city, grouped, with its offset
//! today. Its form sends the reader back to the page they came from with
//! `?tz=`, which every public page reads and remembers.
use std::collections::HashMap;

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::public::{layout_context, reader_zone};
use super::AppError;
use crate::render::zones;
use crate::state::AppState;
use crate::store;

#[get("/time-zone")]
pub async fn picker(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (zone, cookie) = reader_zone(&req, &state)?;
    let back = zones::back_path(query.get("back").map(String::as_str));
    let mut ctx = layout_context(&state, zone);
    ctx.insert("path", "time-zone");
    ctx.insert("back", &back);
    ctx.insert("zone_groups", &zones::picker(store::now(), zone.name()));
    ctx.insert(
        "page_zone_label",
        &zones::choice(state.page.zone().tz(), store::now()).label,
    );
    let body = state.tera.render("public/time_zone.html", &ctx)?;
    let mut res = HttpResponse::Ok();
    res.content_type("text/html; charset=utf-8")
        // Offsets are today's; the page is cheap to make again.
        .insert_header(("Cache-Control", "no-store"));
    if let Some(c) = cookie {
        res.cookie(c);
    }
    Ok(res.body(body))
}
