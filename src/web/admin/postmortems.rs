//! Writing a resolved incident's postmortem: a draft saved with a button (the
//! page has no script), a preview, publish (notifying at most once), revert
//! to draft, or "no postmortem".
use actix_web::{get, http::StatusCode, post, web, HttpRequest, HttpResponse};

use super::{
    gate,
    incidents::{submit_form, Preview},
    notice::{Done, Notice},
    AdminPage,
};
use crate::domain::{PostmortemAction, PostmortemBody, PostmortemState};
use crate::render::{time, views};
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{
    self,
    postmortems::{Applied, Change},
};
use crate::web::audit;
use crate::web::{auth, csrf, form::CheckedForm, AppError};

const POSTMORTEM: Preview = Preview {
    field: "postmortem",
    shown_as: "postmortem_preview_html",
    parse: |s| PostmortemBody::parse(s).map(|b| b.as_str().to_owned()),
};

/// The page's context apart from the form: the incident, and where its
/// postmortem stands. Returns the stored text, which an opened page shows.
async fn context(state: &AppState, page: &mut AdminPage<'_>, id: i32) -> Result<String, AppError> {
    let view = store::incidents::load(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tz = state.page.zone().tz();
    let pm = view.postmortem.as_ref();
    let stands = pm.map_or(PostmortemState::None, |p| p.state);
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| time::date_time(t, tz));
    page.insert("post", &views::post(&view, tz)).insert(
        "pm",
        &serde_json::json!({
            "state": match stands {
                PostmortemState::None => "none",
                PostmortemState::Draft => "draft",
                PostmortemState::Published => "published",
                PostmortemState::Ignored => "ignored",
            },
            "saved": at(pm.map(|p| p.model.updated_at)),
            "published": at(pm.and_then(|p| p.model.published_at)),
            "notified": at(pm.and_then(|p| p.notified_at())),
            "public_url": state.settings.link(&format!("incidents/{id}")),
        }),
    );
    Ok(pm.map(|p| p.model.body.clone()).unwrap_or_default())
}

#[get("/incidents/{id}/postmortem")]
pub async fn edit(
    state: web::Data<AppState>,
    me: auth::Staff,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
    notice: Notice,
) -> Result<HttpResponse, AppError> {
    let mut page = AdminPage::new(&state, "admin/postmortem.html", Some(&me.0), &token);
    let body = context(&state, &mut page, id.into_inner()).await?;
    page.notice(notice)
        .insert(
            "form",
            &serde_json::json!({ "postmortem": body, "notify": "on" }),
        )
        .render(StatusCode::OK)
}

/// The notice for what a change did.
fn done(action: PostmortemAction, applied: Applied) -> Done {
    match action {
        PostmortemAction::Publish if !applied.was_published => Done::PostmortemPublished,
        PostmortemAction::Publish => Done::PostmortemEdited,
        PostmortemAction::Save if applied.state.is_published() => Done::PostmortemEdited,
        PostmortemAction::Save => Done::PostmortemSaved,
        PostmortemAction::Revert => Done::PostmortemReverted,
        PostmortemAction::Ignore => Done::PostmortemIgnored,
    }
}

#[post("/incidents/{id}/postmortem")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/postmortem.html", shown_as.as_ref(), &token);
    context(&state, &mut page, id).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "Nothing was saved yet: please fix what is marked below. Your text is kept.",
        &POSTMORTEM,
        async |me, errors| {
            let action = errors.check("action", PostmortemAction::parse(form.get("action")));
            let Some(action) = action else {
                return Ok(None);
            };
            let raw = form.get("postmortem");
            let body = if action.needs_body() || !raw.trim().is_empty() {
                match errors.check("postmortem", PostmortemBody::parse(raw)) {
                    Some(b) => Some(b),
                    None => return Ok(None),
                }
            } else {
                None
            };
            let change = Change {
                action,
                body,
                notify: form.has("notify"),
                author_id: me.id,
            };
            let before = audit::incident(&state, id).await;
            let applied = store::postmortems::apply(&state.db, id, change).await?;
            audit::record(
                &state,
                &Actor::staff(me),
                "postmortem.change",
                Subject::new("incident", id),
                format!(
                    "Postmortem: {}{}",
                    form.get("action"),
                    if applied.notified { ", notifying" } else { "" }
                ),
                before,
                audit::incident(&state, id).await,
            )
            .await;
            tracing::info!(
                incident = id,
                staff = me.id,
                notified = applied.notified,
                "postmortem changed"
            );
            Ok(Some(format!(
                "/admin/incidents/{id}/postmortem?done={}",
                done(action, applied).key()
            )))
        },
    )
    .await
}
