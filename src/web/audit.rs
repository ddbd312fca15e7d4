//! What the audit log records of each kind of thing, before and after an
//! action: the state a reader of the log needs, never a secret (no password
//! hash, token or webhook secret ever goes into it).
use serde_json::{json, Value};

use crate::render::statuspage as sp;
use crate::state::AppState;
use crate::store::{
    self,
    audit::{Actor, Entry, Subject},
};

/// Records one action (see `store::audit`).
pub async fn record(
    state: &AppState,
    actor: &Actor,
    action: &'static str,
    subject: Subject,
    summary: impl Into<String>,
    before: Option<Value>,
    after: Option<Value>,
) {
    store::audit::record(
        &state.db,
        Entry {
            actor,
            action,
            subject,
            summary: summary.into(),
            before,
            after,
        },
    )
    .await;
}

/// An incident as the APIs show it (its updates, data box, milestones,
/// postmortem); `None` when it is gone or cannot be read.
pub async fn incident(state: &AppState, id: i32) -> Option<Value> {
    let view = store::incidents::load(&state.db, id).await.ok()??;
    let comps = store::components::list(&state.db).await.ok()?;
    serde_json::to_value(sp::incident(&state.page, &view, &comps)).ok()
}

pub async fn component(state: &AppState, id: i32) -> Option<Value> {
    let c = store::components::find(&state.db, id).await.ok()??;
    Some(json!({
        "id": c.id, "name": c.name, "description": c.description, "group_id": c.group_id,
        "position": c.position, "status": c.status, "show_uptime": c.show_uptime,
        "uptime_start": c.uptime_start,
    }))
}

pub async fn subscriber(state: &AppState, id: i32) -> Option<Value> {
    let s = store::subscribers::find(&state.db, id).await.ok()??;
    Some(json!({
        "id": s.model.id, "kind": s.kind.as_str(), "email": s.model.email,
        "webhook_url": s.model.webhook_url, "components": s.components,
        "confirmed_at": s.model.confirmed_at, "unsubscribed_at": s.model.unsubscribed_at,
    }))
}

pub async fn template(state: &AppState, id: i32) -> Option<Value> {
    let t = store::templates::find(&state.db, id).await.ok()??;
    Some(json!({
        "id": t.model.id, "name": t.model.name, "title": t.model.title,
        "message": t.model.message, "status": t.status.as_str(), "impact": t.impact.as_str(),
    }))
}

pub async fn staff(state: &AppState, id: i32) -> Option<Value> {
    let s = store::staff::find(&state.db, id).await.ok()??;
    Some(json!({
        "id": s.id, "email": s.email, "name": s.name, "is_admin": s.is_admin, "active": s.active,
    }))
}
