//! Correcting an update that subscribers were told of: the page shows the new
//! text as corrected, the earlier one stays in the incident's history, and
//! subscribers hear of it only when staff tick "Notify" (`store::corrections`).
use actix_web::{post, web, HttpRequest, HttpResponse};

use super::incidents::{show_ctx, submit_form, Preview};
use super::notice::Done;
use super::{gate, AdminPage};
use crate::domain::UpdateBody;
use crate::state::AppState;
use crate::store::audit::{Actor, Subject};
use crate::store::{self, corrections::Corrector};
use crate::web::audit;
use crate::web::{auth, csrf, form::CheckedForm, AppError};

const CORRECTED: Preview = Preview {
    field: "corrected_message",
    shown_as: "corrected_preview_html",
    parse: |s| UpdateBody::parse(s).map(|b| b.as_str().to_owned()),
};

#[post("/incidents/{id}/updates/{update}/correct")]
pub async fn correct(
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
        "The correction was not saved: please fix the field marked below.",
        &CORRECTED,
        async |me, errors| {
            let Some(body) = errors.check(
                "corrected_message",
                UpdateBody::parse(form.get("corrected_message")),
            ) else {
                return Ok(None);
            };
            let who = Corrector {
                name: &me.name,
                at: store::now(),
            };
            let notify = form.has("correction_notify");
            let before = audit::incident(&state, id).await;
            let done =
                match store::corrections::correct(&state.db, id, update, body, who, notify).await {
                    Err(store::StoreError::Conflict { message, .. }) => {
                        errors.add("corrected_message", message);
                        return Ok(None);
                    }
                    other => other?,
                };
            tracing::info!(
                incident = id,
                update,
                staff = me.id,
                notified = done.notified,
                "update corrected"
            );
            audit::record(
                &state,
                &Actor::staff(me),
                "update.correct",
                Subject::new("incident", id),
                format!(
                    "Corrected update {update}{}",
                    if done.notified { ", notifying" } else { "" }
                ),
                before,
                audit::incident(&state, id).await,
            )
            .await;
            Ok(Some(format!(
                "/admin/incidents/{id}?done={}#update-{update}",
                Done::UpdateCorrected.key()
            )))
        },
    )
    .await
}
