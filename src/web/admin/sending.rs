//! The send delay from the staff side: an update's text corrected, or its
//! notifications held, before they go (`store::sending`).
use actix_web::{post, web, HttpRequest, HttpResponse};

use super::incidents::{show_ctx, submit_form, Preview};
use super::notice::Done;
use super::{gate, see_other, AdminPage};
use crate::domain::UpdateBody;
use crate::state::AppState;
use crate::store;
use crate::store::audit::{Actor, Subject};
use crate::web::audit;
use crate::web::{auth, csrf, form::CheckedForm, AppError};

/// The text of an update not sent yet, as edited.
const EDITED: Preview = Preview {
    field: "edited_message",
    shown_as: "edited_preview_html",
    parse: |s| UpdateBody::parse(s).map(|b| b.as_str().to_owned()),
};

/// Saves an update's new text while its notifications still wait; they then
/// carry it. Once they have gone, the form comes back saying so, text kept.
#[post("/incidents/{id}/updates/{update}/edit")]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::MaybeStaff>,
    token: csrf::CsrfToken,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, update) = path.into_inner();
    let shown_as = me.0.clone();
    let (checked, form) = gate(&req, &state, me.0, fields).await?;
    let mut page = AdminPage::new(&state, "admin/incident.html", shown_as.as_ref(), &token);
    show_ctx(&state, &mut page, id).await?;
    submit_form(
        &req,
        &state,
        checked,
        &form,
        page,
        "The text was not changed: please see the field marked below.",
        &EDITED,
        async |me, errors| {
            let Some(body) = errors.check(
                "edited_message",
                UpdateBody::parse(form.get("edited_message")),
            ) else {
                return Ok(None);
            };
            let before = audit::incident(&state, id).await;
            match store::sending::edit_unsent(&state.db, id, update, body).await {
                Err(store::StoreError::Conflict { message, .. }) => {
                    errors.add("edited_message", message);
                    return Ok(None);
                }
                other => other?,
            }
            tracing::info!(incident = id, update, staff = me.id, "unsent update edited");
            audit::record(
                &state,
                &Actor::staff(me),
                "update.edit_unsent",
                Subject::new("incident", id),
                format!("Changed the text of update {update} before it was sent"),
                before,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}#unsent-heading",
                Done::UnsentEdited.key()
            )))
        },
    )
    .await
}

/// Holds an update's notifications for good; the update stays on the page.
#[post("/incidents/{id}/updates/{update}/hold")]
pub async fn hold(
    state: web::Data<AppState>,
    CheckedForm { who: me, fields }: CheckedForm<auth::Staff>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    fields?;
    let (id, update) = path.into_inner();
    store::sending::hold(&state.db, id, update).await?;
    tracing::info!(incident = id, update, staff = me.0.id, "notifications held");
    audit::record(
        &state,
        &Actor::staff(&me.0),
        "update.hold",
        Subject::new("incident", id),
        format!("Held the notifications of update {update}"),
        None,
        None,
    )
    .await;
    Ok(see_other(&format!(
        "/admin/incidents/{id}?done={}",
        Done::NotificationsHeld.key()
    )))
}
