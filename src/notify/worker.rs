//! The delivery worker: turns outbox events into deliveries and sends them.
//!
//! Runs inside `serve` (unless `STATUSPOST_RUN_WORKER=false`) or alone as
//! `statuspost worker`; several may share one PostgreSQL database. Every step is
//! safe to repeat after a crash: expanding an event inserts each (event,
//! subscriber) pair once, and a delivery a dead worker held is taken up again when
//! its lease runs out. A subscriber may therefore, rarely, get a message twice;
//! the copies carry the same Message-ID or webhook-id.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::{OnceCell, Semaphore};

use super::email::{self, Prepared};
use super::webhook::{self, Notice, WebhookOutcome};
use crate::entity::{component, notification_event, subscriber};
use crate::state::AppState;
use crate::store::{self, deliveries::Claimed};

/// An endpoint failing for this long without a success is disabled.
pub const FAILING_DISABLES_AFTER: chrono::Duration = chrono::Duration::days(5);

/// How often the worker looks for due work when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// Starts the worker on the current runtime.
/// Runs the worker under [`supervise`], so a panic in it is logged and the
/// worker restarted instead of deliveries silently stopping.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(supervise("delivery worker", move || run(state.clone())))
}

/// Runs the task `start` makes, forever: whenever it ends (a panic, or a
/// return it should never make) the failure is logged as an error and a new
/// one is started after a pause that doubles from one second up to a minute,
/// and falls back to one second once a run has lasted a minute.
pub async fn supervise<F, Fut>(name: &'static str, mut start: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    const FIRST: Duration = Duration::from_secs(1);
    const LAST: Duration = Duration::from_secs(60);
    let mut pause = FIRST;
    loop {
        let began = tokio::time::Instant::now();
        match tokio::spawn(start()).await {
            Ok(()) => tracing::error!(task = name, "stopped unexpectedly; restarting"),
            Err(e) if e.is_panic() => {
                let why = e.into_panic();
                let why = why
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| why.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(task = name, panic = %why, "panicked; restarting");
            }
            Err(e) => tracing::error!(task = name, error = %e, "was cancelled; restarting"),
        }
        if began.elapsed() >= LAST {
            pause = FIRST;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LAST);
    }
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    Sent,
    /// Try again on the schedule (or after the receiver's Retry-After).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help.
    Dead(String),
    /// The webhook endpoint answered 410 Gone: stop sending to it at all.
    Gone(String),
}

/// The content of one event, loaded once and shared by all its deliveries.
enum Content {
    Email(Prepared),
    Missing(String),
}

struct EventContent {
    event: notification_event::Model,
    email: Content,
    /// What the webhook tells of (all but the per-subscriber `meta`), or why
    /// there is nothing to tell.
    webhook: Result<Notice, String>,
}

#[derive(Default)]
struct ContentCache(Mutex<HashMap<i32, Arc<OnceCell<Arc<EventContent>>>>>);

impl ContentCache {
    async fn get(&self, state: &AppState, event_id: i32) -> Result<Arc<EventContent>, String> {
        let cell = {
            let mut map = self.0.lock().expect("cache lock");
            // Events are few and short-lived; a full cache starts over.
            if map.len() > 256 {
                map.clear();
            }
            map.entry(event_id).or_default().clone()
        };
        cell.get_or_try_init(|| load_content(state, event_id))
            .await
            .cloned()
    }
}

pub async fn run(state: Arc<AppState>) {
    let concurrency = state.settings.worker_concurrency;
    let slots = Arc::new(Semaphore::new(concurrency));
    let finished = Arc::new(tokio::sync::Notify::new());
    let cache = Arc::new(ContentCache::default());
    // Claiming one delivery per finished send would cost a query each: wait
    // until a quarter of the slots are free, unless nothing is in flight.
    let refill_at = (concurrency / 4).max(1);
    tracing::info!(concurrency, "delivery worker started");
    loop {
        match store::deliveries::expand_pending(&state.db, 20).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(events = n, "events expanded"),
            Err(e) => tracing::warn!(error = %e, "expanding events failed"),
        }
        let free = slots.available_permits();
        if free >= refill_at || free == concurrency {
            match store::deliveries::claim(&state.db, free as u64, state.settings.worker_lease)
                .await
            {
                Ok(claimed) => {
                    let full = claimed.len() == free;
                    // One query for the whole batch's subscribers, not one each.
                    let ids: Vec<i32> = claimed.iter().map(|c| c.subscriber_id).collect();
                    let subs = subscriber::Entity::find()
                        .filter(subscriber::Column::Id.is_in(ids))
                        .all(&state.db)
                        .await
                        .map(|v| v.into_iter().map(|s| (s.id, s)).collect::<HashMap<_, _>>())
                        .map_err(|e| format!("database: {e}"));
                    for c in claimed {
                        let permit = slots.clone().acquire_owned().await.expect("open semaphore");
                        let (state, cache, finished) =
                            (state.clone(), cache.clone(), finished.clone());
                        let sub = match &subs {
                            Ok(map) => Ok(map.get(&c.subscriber_id).cloned()),
                            Err(e) => Err(e.clone()),
                        };
                        tokio::spawn(async move {
                            deliver(&state, &cache, c, sub).await;
                            drop(permit);
                            finished.notify_one();
                        });
                    }
                    if full {
                        // Likely more due: claim again as soon as slots free up.
                        finished.notified().await;
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming deliveries failed"),
            }
        }
        tokio::select! {
            _ = state.wake_worker.notified() => {}
            _ = finished.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn deliver(
    state: &AppState,
    cache: &ContentCache,
    c: Claimed,
    sub: Result<Option<subscriber::Model>, String>,
) {
    let outcome = attempt(state, cache, &c, sub).await;
    if let Err(e) = record(state, &c, outcome).await {
        // The lease runs out and the delivery is tried again: at least once.
        tracing::warn!(delivery = c.id, error = %e, "recording a delivery outcome failed");
    }
}

async fn attempt(
    state: &AppState,
    cache: &ContentCache,
    c: &Claimed,
    sub: Result<Option<subscriber::Model>, String>,
) -> (Outcome, Option<subscriber::Model>) {
    let sub = match sub {
        Ok(Some(s)) => s,
        Ok(None) => return (Outcome::Dead("the subscriber is gone".into()), None),
        Err(error) => {
            let retry_after = None;
            return (Outcome::Retry { error, retry_after }, None);
        }
    };
    if sub.disabled_at.is_some() {
        let reason = sub.disabled_reason.as_deref().unwrap_or("disabled");
        let outcome = Outcome::Dead(format!("subscriber disabled: {reason}"));
        return (outcome, Some(sub));
    }
    let content = match cache.get(state, c.event_id).await {
        Ok(c) => c,
        Err(e) => {
            return (
                Outcome::Retry {
                    error: e,
                    retry_after: None,
                },
                Some(sub),
            )
        }
    };
    let unsubscribe = state
        .settings
        .link(&format!("unsubscribe/{}", sub.unsubscribe_token));
    let outcome = match sub.kind.as_str() {
        "email" => send_email(state, &content, &sub, &unsubscribe).await,
        "webhook" => send_webhook(state, &content, &sub, &unsubscribe).await,
        other => Outcome::Dead(format!("unknown subscriber kind {other:?}")),
    };
    (outcome, Some(sub))
}

async fn send_email(
    state: &AppState,
    content: &EventContent,
    sub: &subscriber::Model,
    unsubscribe: &str,
) -> Outcome {
    let prepared = match &content.email {
        Content::Email(p) => p,
        Content::Missing(why) => return Outcome::Dead(why.clone()),
    };
    let message = match prepared.message(state, &sub.email, Some(unsubscribe)) {
        Ok(m) => m,
        Err(e) => return Outcome::Dead(e),
    };
    match state.mailer.send(message).await {
        Ok(()) => Outcome::Sent,
        Err(e) if e.is_transient() => Outcome::Retry {
            error: format!("SMTP: {e}"),
            retry_after: None,
        },
        Err(e) => Outcome::Dead(format!("SMTP: {e}")),
    }
}

/// The `webhook-id` of an event: the same on every retry and every resend.
pub fn webhook_id(state: &AppState, event_id: i32) -> String {
    format!("msg_{}_{event_id}", state.page_id)
}

async fn send_webhook(
    state: &AppState,
    content: &EventContent,
    sub: &subscriber::Model,
    unsubscribe: &str,
) -> Outcome {
    let notice = match &content.webhook {
        Ok(n) => n,
        Err(why) => return Outcome::Dead(why.clone()),
    };
    let (Some(url), Some(secret)) = (&sub.webhook_url, &sub.secret) else {
        return Outcome::Dead("the webhook subscriber has no URL or secret".into());
    };
    let info = crate::api::statuspage::PageInfo::from_state(state);
    let body = webhook::payload(&info, notice, unsubscribe, chrono::Utc::now());
    let bytes = match serde_json::to_vec(&body) {
        Ok(b) => b,
        Err(e) => return Outcome::Dead(format!("payload: {e}")),
    };
    let id = webhook_id(state, content.event.id);
    match state.webhooks.send(url, secret, &id, &bytes).await {
        WebhookOutcome::Delivered => Outcome::Sent,
        WebhookOutcome::Retry { error, retry_after } => Outcome::Retry { error, retry_after },
        WebhookOutcome::Gone => Outcome::Gone("the endpoint answered 410 Gone".into()),
        WebhookOutcome::Refused(e) => Outcome::Dead(e),
    }
}

async fn record(
    state: &AppState,
    c: &Claimed,
    (outcome, sub): (Outcome, Option<subscriber::Model>),
) -> Result<(), sea_orm::DbErr> {
    let db = &state.db;
    let is_webhook = sub.as_ref().is_some_and(|s| s.kind == "webhook");
    match outcome {
        Outcome::Sent => {
            store::deliveries::mark_sent(db, c.id).await?;
            if is_webhook && sub.as_ref().is_some_and(|s| s.failing_since.is_some()) {
                store::deliveries::clear_failing(db, c.subscriber_id).await?;
            }
        }
        Outcome::Retry { error, retry_after } => {
            let failures = (c.attempts + 1).max(1) as u32;
            let next = state
                .settings
                .retry_schedule
                .next_wait(failures, retry_after)
                .map(|w| {
                    store::now()
                        + chrono::Duration::from_std(w).unwrap_or(chrono::Duration::hours(10))
                });
            tracing::info!(delivery = c.id, attempt = failures, error = %error, dead = next.is_none(), "delivery failed");
            store::deliveries::mark_failed(db, c.id, &error, next).await?;
            if let (true, Some(sub)) = (is_webhook, sub) {
                let since = store::deliveries::note_failing(db, sub.id).await?;
                if store::now() - since >= FAILING_DISABLES_AFTER {
                    let reason = format!("failing for 5 days, last error: {error}");
                    if store::deliveries::disable_subscriber(db, sub.id, &reason).await? {
                        tracing::warn!(
                            subscriber = sub.id,
                            "webhook disabled after 5 days of failures"
                        );
                        tell_contact(state, sub.id, &reason).await;
                    }
                }
            }
        }
        Outcome::Dead(error) => {
            tracing::warn!(delivery = c.id, error = %error, "delivery given up");
            store::deliveries::mark_failed(db, c.id, &error, None).await?;
        }
        Outcome::Gone(error) => {
            store::deliveries::mark_failed(db, c.id, &error, None).await?;
            if store::deliveries::disable_subscriber(
                db,
                c.subscriber_id,
                "the endpoint answered 410 Gone",
            )
            .await?
            {
                tracing::warn!(subscriber = c.subscriber_id, "webhook disabled: 410 Gone");
            }
        }
    }
    Ok(())
}

/// Emails a disabled webhook's contact, once, best effort.
async fn tell_contact(state: &AppState, subscriber_id: i32, reason: &str) {
    let sub = match subscriber::Entity::find_by_id(subscriber_id)
        .one(&state.db)
        .await
    {
        Ok(Some(s)) => s,
        _ => return,
    };
    match email::endpoint_disabled(state, &sub, reason) {
        Ok(m) => {
            if let Err(e) = state.mailer.send(m).await {
                tracing::warn!(subscriber = sub.id, error = %e, "telling the webhook's contact failed");
            }
        }
        Err(e) => {
            tracing::warn!(subscriber = sub.id, error = %e, "no email for the webhook's contact")
        }
    }
}

async fn load_content(state: &AppState, event_id: i32) -> Result<Arc<EventContent>, String> {
    let db = &state.db;
    let event = notification_event::Entity::find_by_id(event_id)
        .one(db)
        .await
        .map_err(|e| format!("database: {e}"))?
        .ok_or_else(|| format!("event {event_id} is gone"))?;
    let decoded = store::outbox::Event::decode(&event);
    let email = match decoded {
        Err(ref e) => Content::Missing(format!("event {event_id} cannot be read: {e}")),
        Ok(store::outbox::Event::IncidentUpdate {
            incident_id,
            update_id,
        }) => {
            match store::incidents::load(db, incident_id)
                .await
                .map_err(|e| format!("database: {e}"))?
            {
                Some(view) => match email::incident_update(state, &view, update_id) {
                    Some(p) => Content::Email(p),
                    None => Content::Missing(format!("update {update_id} is gone")),
                },
                None => Content::Missing(format!("incident {incident_id} is gone")),
            }
        }
        Ok(store::outbox::Event::ComponentChange {
            component_id,
            new_status,
            ..
        }) => {
            match component::Entity::find_by_id(component_id)
                .one(db)
                .await
                .map_err(|e| format!("database: {e}"))?
            {
                // The change the event records; the component may have moved on.
                Some(c) => Content::Email(email::component_update(
                    state,
                    event.id,
                    &c,
                    new_status.label(),
                )),
                None => Content::Missing(format!("component {component_id} is gone")),
            }
        }
    };
    let info = crate::api::statuspage::PageInfo::from_state(state);
    let webhook = match decoded {
        Ok(decoded) => Notice::load(db, &info, &event, decoded)
            .await
            .map_err(|e| format!("database: {e}"))?,
        Err(e) => Err(format!("event {event_id} cannot be read: {e}")),
    };
    Ok(Arc::new(EventContent {
        event,
        email,
        webhook,
    }))
}

#[cfg(test)]
mod supervision_tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_task_that_panics_is_restarted() {
        let starts = Arc::new(AtomicU32::new(0));
        let counted = starts.clone();
        let supervisor = tokio::spawn(supervise("test task", move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    panic!("boom {n}");
                }
                std::future::pending::<()>().await;
            }
        }));
        // Paused time advances by itself when every task waits on a timer.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3, "two panics, two restarts");
        assert!(!supervisor.is_finished());
        supervisor.abort();
    }
}
