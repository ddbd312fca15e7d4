//! The delivery worker: turns outbox events into deliveries and sends them.
//!
//! Runs inside `serve` (unless `STATUSPOST_RUN_WORKER=false`) or alone as
//! `statuspost worker`; several may share one PostgreSQL database. Every step is
//! safe to repeat after a crash: expanding an event inserts each (event,
//! subscriber) pair once, and a claimed delivery is held under a short lease
//! that a heartbeat renews while it is in flight, so a delivery a dead worker
//! held is taken up again within one lease. A worker asked to stop stops
//! claiming, lets what is in flight finish for up to one lease, and hands back
//! the rest. A subscriber may therefore, rarely, get a message twice; the copies
//! carry the same Message-ID or webhook-id.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tera::Tera;
use tokio::sync::{Notify, OnceCell, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::content::{self, Told};
use super::email::{self, Rendered};
use super::mail::Mailer;
use super::supervise::supervise;
use super::webhook::{self, Notice, WebhookOutcome, WebhookSender};
use crate::domain::{RetrySchedule, SubscriberKind};
use crate::entity::{notification_event, subscriber};
use crate::render::statuspage::PageInfo;
use crate::store::{self, deliveries::Claimed};

/// What the worker works with, and nothing of the web app's: built once at
/// start by whoever runs it (`serve`, `statuspost worker`, a test).
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    pub page: PageInfo,
    pub tera: Arc<Tera>,
    pub mailer: Arc<Mailer>,
    pub webhooks: WebhookSender,
    pub schedule: RetrySchedule,
    /// Deliveries sent at once.
    pub concurrency: usize,
    /// How long a claimed delivery stays this worker's.
    pub lease: Duration,
    /// Notified after every write that makes an event, so the worker need not wait for its poll.
    pub wake: Arc<Notify>,
    /// How long an open incident may say nothing before staff are reminded.
    pub remind_silent_after: Option<chrono::Duration>,
    /// How long an incident update's notifications wait (`store::sending`).
    pub send_delay: chrono::Duration,
    /// At most one email per subscriber and incident this often (`store::coalescing`).
    pub email_coalesce: Option<chrono::Duration>,
}

/// An endpoint failing for this long without a success is disabled.
pub const FAILING_DISABLES_AFTER: chrono::Duration = chrono::Duration::days(5);

/// How often the worker looks for due work when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// A worker running in the background; [`Worker::stop`] ends it cleanly.
pub struct Worker {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Stops claiming, waits for what is in flight (at most one lease), hands
    /// back what is left and returns once the worker has ended.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the delivery worker did not stop cleanly");
        }
    }
}

/// Starts the worker on the current runtime, under [`supervise`], so a panic
/// in it is logged and the worker restarted instead of deliveries silently
/// stopping.
pub fn spawn(ctx: Context) -> Worker {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(supervise("delivery worker", stop.clone(), move || {
        run(ctx.clone(), token.clone())
    }));
    Worker { stop, task }
}

/// The deliveries this worker holds, whose leases the heartbeat renews.
#[derive(Default)]
struct Held(Mutex<HashSet<i32>>);

impl Held {
    fn take(&self, id: i32) {
        self.0.lock().expect("held lock").insert(id);
    }

    fn done(&self, id: i32) {
        self.0.lock().expect("held lock").remove(&id);
    }

    fn ids(&self) -> Vec<i32> {
        self.0.lock().expect("held lock").iter().copied().collect()
    }
}

/// Which running worker this is, as its heartbeat row names it.
#[derive(Clone)]
struct Identity {
    id: String,
    host: String,
    pid: u32,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl Identity {
    fn new() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Self {
            id: crate::secrets::random_token()[..16].to_owned(),
            host,
            pid: std::process::id(),
            started_at: store::now(),
        }
    }
}

/// Three times a lease, until dropped: renews the leases of what `held`
/// holds and, for a running worker, says in the database that it is alive.
struct Heartbeat(#[allow(dead_code)] AbortOnDrop);

impl Heartbeat {
    fn start(ctx: &Context, held: Arc<Held>, me: Option<Identity>) -> Self {
        let (db, lease) = (ctx.db.clone(), ctx.lease);
        Self(AbortOnDrop(tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Some(me) = &me {
                    if let Err(e) =
                        store::workers::beat(&db, &me.id, &me.host, me.pid, me.started_at).await
                    {
                        tracing::warn!(error = %e, "recording the worker's heartbeat failed");
                    }
                }
                let ids = held.ids();
                if ids.is_empty() {
                    continue;
                }
                if let Err(e) = store::deliveries::renew(&db, &ids, lease).await {
                    tracing::warn!(error = %e, held = ids.len(), "renewing delivery leases failed");
                }
            }
        })))
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
    /// Coalescing: this subscriber had an email about the incident lately;
    /// wait, then send every update since in one.
    Defer(chrono::DateTime<chrono::Utc>),
}

/// One event's notices, made once from one read of what it tells of and
/// shared by all its deliveries; each `Err` says why its deliveries die.
struct EventContent {
    event_id: i32,
    /// The incident and update an incident update's event tells of: its
    /// emails may be coalesced.
    update: Option<(i32, i32)>,
    /// Rendered once; each delivery adds the address and the subscriber's links.
    email: Result<Rendered, String>,
    /// What the webhook tells of (all but the per-subscriber `meta`).
    webhook: Result<Notice, String>,
}

#[derive(Default)]
struct ContentCache(Mutex<HashMap<i32, Arc<OnceCell<Arc<EventContent>>>>>);

impl ContentCache {
    async fn get(&self, ctx: &Context, event_id: i32) -> Result<Arc<EventContent>, String> {
        let cell = {
            let mut map = self.0.lock().expect("cache lock");
            // Events are few and short-lived; a full cache starts over.
            if map.len() > 256 {
                map.clear();
            }
            map.entry(event_id).or_default().clone()
        };
        cell.get_or_try_init(|| load_content(ctx, event_id))
            .await
            .cloned()
    }
}

/// Expands events and sends deliveries as they fall due, until `stop`.
pub async fn run(ctx: Context, stop: CancellationToken) {
    let concurrency = ctx.concurrency;
    let slots = Arc::new(Semaphore::new(concurrency));
    let finished = Arc::new(Notify::new());
    let cache = Arc::new(ContentCache::default());
    let held = Arc::new(Held::default());
    let me = Identity::new();
    if let Err(e) = store::workers::forget_silent(&ctx.db).await {
        tracing::warn!(error = %e, "forgetting long-silent workers failed");
    }
    let heartbeat = Heartbeat::start(&ctx, held.clone(), Some(me.clone()));
    let (done, recorder) = start_recorder(&ctx, held.clone(), finished.clone());
    // Claiming one delivery per finished send would cost a query each: wait
    // until a quarter of the slots are free, unless nothing is in flight.
    let refill_at = (concurrency / 4).max(1);
    tracing::info!(concurrency, "delivery worker started");
    let mut next_edges = tokio::time::Instant::now();
    while !stop.is_cancelled() {
        if tokio::time::Instant::now() >= next_edges {
            maintenance_edges(&ctx, store::now()).await;
            remind_staff(&ctx, store::now()).await;
            next_edges = tokio::time::Instant::now() + EDGES_EVERY;
        }
        expand(&ctx, store::now()).await;
        let free = slots.available_permits();
        if free >= refill_at || free == concurrency {
            match claim(&ctx, free, store::now()).await {
                Ok(claimed) => {
                    let full = claimed.len() == free;
                    for (c, sub) in claimed {
                        let permit = slots.clone().acquire_owned().await.expect("open semaphore");
                        held.take(c.id);
                        let (ctx, cache, done) = (ctx.clone(), cache.clone(), done.clone());
                        tokio::spawn(async move {
                            let attempted = deliver(&ctx, &cache, c, sub, store::now()).await;
                            // The slot is free once the send is over; the
                            // recorder writes the outcome, with others at once.
                            drop(permit);
                            let _ = done.send(attempted);
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
            _ = ctx.wake.notified() => {}
            _ = finished.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.cancelled() => {}
        }
    }
    wind_down(&ctx, &held, &finished).await;
    recorder.abort();
    drop(heartbeat);
    if let Err(e) = store::workers::forget(&ctx.db, &me.id).await {
        tracing::warn!(error = %e, "removing the worker's heartbeat failed");
    }
}

/// On stop: lets the sends in flight finish and be recorded for up to one
/// lease (the heartbeat still renews them meanwhile), then hands back what is
/// still held, so that any worker may take it at once rather than after its lease.
async fn wind_down(ctx: &Context, held: &Held, finished: &Notify) {
    tracing::info!(in_flight = held.ids().len(), "delivery worker stopping");
    let deadline = tokio::time::Instant::now() + ctx.lease;
    while !held.ids().is_empty() {
        tokio::select! {
            _ = finished.notified() => {}
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    let ids = held.ids();
    if !ids.is_empty() {
        match store::deliveries::release(&ctx.db, &ids).await {
            Ok(n) => tracing::warn!(released = n, "deliveries still in flight handed back"),
            Err(e) => {
                tracing::error!(error = %e, "handing back deliveries failed; their leases run out")
            }
        }
    }
    tracing::info!("delivery worker stopped");
}

/// Writes outcomes as sends finish: whatever finished while the last write
/// ran goes in the next, the successes in one statement, so that under load
/// the database sees a write per batch rather than per delivery.
fn start_recorder(
    ctx: &Context,
    held: Arc<Held>,
    finished: Arc<Notify>,
) -> (tokio::sync::mpsc::UnboundedSender<Attempted>, AbortOnDrop) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Attempted>();
    let ctx = ctx.clone();
    let task = tokio::spawn(async move {
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, 512).await > 0 {
            let ids: Vec<i32> = batch.iter().map(|a| a.claimed.id).collect();
            record_all(&ctx, std::mem::take(&mut batch)).await;
            for id in ids {
                held.done(id);
            }
            finished.notify_one();
        }
    });
    (tx, AbortOnDrop(task))
}

/// A task that ends with its owner, however the owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    fn abort(&self) {
        self.0.abort();
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Works until nothing is due now: [`run_once`] again and again (a retry
/// due at once is tried in the next pass) until a pass finds nothing, and
/// returns how many attempts were made. The same steps as [`run`] with no
/// timer, so tests and one-shot runs know when the work is done.
pub async fn run_until_idle(ctx: &Context) -> Result<usize, sea_orm::DbErr> {
    let mut attempts = 0;
    loop {
        match run_once(ctx).await? {
            0 => return Ok(attempts),
            n => attempts += n,
        }
    }
}

/// One pass: expands pending events, then claims what is due now (up to the
/// concurrency) and sends it, recording each outcome before returning the
/// number of attempts made.
pub async fn run_once(ctx: &Context) -> Result<usize, sea_orm::DbErr> {
    run_once_at(ctx, store::now()).await
}

/// [`run_once`] as it would run at `at`: what is due then is expanded,
/// claimed and sent (the sends themselves are real). Tests move time so.
pub async fn run_once_at(
    ctx: &Context,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<usize, sea_orm::DbErr> {
    let cache = ContentCache::default();
    maintenance_edges(ctx, at).await;
    remind_staff(ctx, at).await;
    expand(ctx, at).await;
    // What expanding just made is due from the moment it was made, which a
    // pass at the present has passed.
    let at = at.max(store::now());
    let claimed = claim(ctx, ctx.concurrency, at).await?;
    let attempts = claimed.len();
    let held = Arc::new(Held::default());
    for (c, _) in &claimed {
        held.take(c.id);
    }
    let _heartbeat = Heartbeat::start(ctx, held, None);
    let sends = claimed
        .into_iter()
        .map(|(c, sub)| deliver(ctx, &cache, c, sub, at));
    let attempted = futures_util::future::join_all(sends).await;
    record_all(ctx, attempted).await;
    Ok(attempts)
}

/// How often the worker looks for maintenance windows that open or close: a
/// transition is at most this late.
const EDGES_EVERY: Duration = Duration::from_secs(5);

/// Makes the maintenance transitions due at `at` (recurring occurrences,
/// reminders, starts, ends);
/// their notices go through the outbox like any update's.
pub async fn maintenance_edges(ctx: &Context, at: chrono::DateTime<chrono::Utc>) {
    match store::maintenance::run_due(&ctx.db, at).await {
        Ok(done) if done.is_empty() => {}
        Ok(done) => tracing::info!(
            created = ?done.created,
            started = ?done.started,
            completed = ?done.completed,
            reminded = ?done.reminded,
            "maintenance windows moved on"
        ),
        Err(e) => tracing::warn!(error = %e, "checking maintenance windows failed"),
    }
}

/// Reminds staff of the open incidents that owe their readers an update at
/// `at` (a promise passed, or too long a silence): once per silence, by email
/// to the incident's author (the active admins when the author cannot be
/// reached); the admin's banner shows them meanwhile. Returns the mails sent.
pub async fn remind_staff(ctx: &Context, at: chrono::DateTime<chrono::Utc>) -> usize {
    let open = match store::reminders::open(&ctx.db).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "reading open incidents for staff reminders failed");
            return 0;
        }
    };
    if let Err(e) = store::reminders::arm(&ctx.db, &open, at, ctx.remind_silent_after).await {
        tracing::warn!(error = %e, "arming staff reminders failed");
        return 0;
    }
    let claimed = match store::reminders::claim(&ctx.db, at, 20).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "claiming staff reminders failed");
            return 0;
        }
    };
    let mut sent = 0;
    for r in claimed {
        let outcome = match store::reminders::standing(&open, &r) {
            Some(standing) => send_reminder(ctx, &r, standing).await.map(Some),
            None => Ok(None),
        };
        let written = match &outcome {
            Ok(Some(())) => {
                sent += 1;
                store::reminders::mark_sent(&ctx.db, r.id, store::now(), None).await
            }
            Ok(None) => {
                store::reminders::mark_sent(&ctx.db, r.id, store::now(), Some("answered")).await
            }
            Err(e) => {
                tracing::warn!(incident = r.incident_id, error = %e, "reminding staff failed");
                store::reminders::mark_failed(&ctx.db, r.id, store::now(), e).await
            }
        };
        if let Err(e) = written {
            tracing::warn!(reminder = r.id, error = %e, "recording a staff reminder failed");
        }
    }
    sent
}

/// Mails one reminder of the incident it still stands for.
async fn send_reminder(
    ctx: &Context,
    r: &crate::entity::staff_reminder::Model,
    (incident, latest): &store::reminders::Open,
) -> Result<(), String> {
    let to = store::staff::reminded_for(&ctx.db, incident.author_id)
        .await
        .map_err(|e| format!("database: {e}"))?;
    if to.is_empty() {
        return Err("no active staff member to remind".into());
    }
    let rendered =
        email::staff_reminder(&ctx.page, &ctx.tera, incident, latest, &r.kind, r.due_at)?;
    for address in to {
        let message = rendered.message(ctx.mailer.from(), &address, None)?;
        ctx.mailer.send(message).await.map_err(|e| e.to_string())?;
    }
    tracing::info!(incident = incident.id, kind = %r.kind, "staff reminded");
    Ok(())
}

async fn expand(ctx: &Context, at: chrono::DateTime<chrono::Utc>) {
    match store::deliveries::expand_pending(&ctx.db, 20, at, ctx.send_delay).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(events = n, "events expanded"),
        Err(e) => tracing::warn!(error = %e, "expanding events failed"),
    }
}

/// A subscriber as read for a delivery, or why it could not be read.
type Reader = Result<Option<subscriber::Model>, String>;

/// Claims up to `limit` due deliveries, with their subscribers read in one
/// query for the whole batch, not one each.
async fn claim(
    ctx: &Context,
    limit: usize,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(Claimed, Reader)>, sea_orm::DbErr> {
    let claimed = store::deliveries::claim(&ctx.db, limit as u64, ctx.lease, at).await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = claimed.iter().map(|c| c.subscriber_id).collect();
    let subs = subscriber::Entity::find()
        .filter(subscriber::Column::Id.is_in(ids))
        .all(&ctx.db)
        .await
        .map(|v| v.into_iter().map(|s| (s.id, s)).collect::<HashMap<_, _>>())
        .map_err(|e| format!("database: {e}"));
    Ok(claimed
        .into_iter()
        .map(|c| {
            let sub = match &subs {
                Ok(map) => Ok(map.get(&c.subscriber_id).cloned()),
                Err(e) => Err(e.clone()),
            };
            (c, sub)
        })
        .collect())
}

/// One attempt, made and not yet recorded.
struct Attempted {
    claimed: Claimed,
    outcome: Outcome,
    sub: Option<subscriber::Model>,
    span: tracing::Span,
}

async fn deliver(
    ctx: &Context,
    cache: &ContentCache,
    c: Claimed,
    sub: Reader,
    at: chrono::DateTime<chrono::Utc>,
) -> Attempted {
    let span = tracing::info_span!(
        "delivery",
        id = c.id,
        event = c.event_id,
        subscriber = c.subscriber_id,
        attempt = c.attempts + 1
    );
    let (outcome, sub) = attempt(ctx, cache, &c, sub, at)
        .instrument(span.clone())
        .await;
    Attempted {
        claimed: c,
        outcome,
        sub,
        span,
    }
}

/// Records what came of each attempt: every success in one statement, the
/// rest one by one (each may retry, disable or tell a contact). A failure to
/// record leaves the lease to run out, and the delivery is tried again: at
/// least once.
/// The `channel` label of a delivery's metrics.
fn channel_of(sub: Option<&subscriber::Model>) -> &'static str {
    match sub.map(store::subscribers::kind_of) {
        Some(Ok(kind)) => kind.as_str(),
        _ => "unknown",
    }
}

fn is_webhook(sub: &subscriber::Model) -> bool {
    store::subscribers::kind_of(sub).is_ok_and(|k| k == SubscriberKind::Webhook)
}

/// The `outcome` label: what an attempt came to.
fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "sent",
        Outcome::Retry { .. } => "failed",
        Outcome::Dead(_) => "dead",
        Outcome::Gone(_) => "gone",
        Outcome::Defer(_) => "deferred",
    }
}

async fn record_all(ctx: &Context, attempted: Vec<Attempted>) {
    for a in &attempted {
        metrics::counter!(
            "statuspost_deliveries_total",
            "channel" => channel_of(a.sub.as_ref()),
            "outcome" => outcome_label(&a.outcome)
        )
        .increment(1);
    }
    // Every success in one statement; `record` then does what is particular
    // to each attempt (a recovered webhook, a retry, a disabling).
    let sent: Vec<i32> = attempted
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Sent))
        .map(|a| a.claimed.id)
        .collect();
    if let Err(e) = store::deliveries::mark_sent_many(&ctx.db, &sent).await {
        tracing::warn!(error = %e, deliveries = sent.len(), "recording sent deliveries failed");
    }
    for a in attempted {
        let span = a.span.clone();
        if let Err(e) = record(ctx, &a.claimed, (a.outcome, a.sub))
            .instrument(span.clone())
            .await
        {
            tracing::warn!(parent: &span, error = %e, "recording a delivery outcome failed");
        }
    }
}

async fn attempt(
    ctx: &Context,
    cache: &ContentCache,
    c: &Claimed,
    sub: Reader,
    at: chrono::DateTime<chrono::Utc>,
) -> (Outcome, Option<subscriber::Model>) {
    let sub = match sub {
        Ok(Some(s)) => s,
        Ok(None) => return (Outcome::Dead("the subscriber is gone".into()), None),
        Err(error) => {
            let retry_after = None;
            return (Outcome::Retry { error, retry_after }, None);
        }
    };
    if sub.unsubscribed_at.is_some() {
        let outcome = Outcome::Dead("the subscriber unsubscribed".into());
        return (outcome, Some(sub));
    }
    if sub.disabled_at.is_some() {
        let reason = sub.disabled_reason.as_deref().unwrap_or("disabled");
        let outcome = Outcome::Dead(format!("subscriber disabled: {reason}"));
        return (outcome, Some(sub));
    }
    let content = match cache.get(ctx, c.event_id).await {
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
    let token = &sub.unsubscribe_token;
    let unsubscribe = ctx.page.link(&store::subscribers::unsubscribe_path(token));
    let manage = ctx.page.link(&store::subscribers::manage_path(token));
    let links = email::SubscriberLinks {
        unsubscribe: &unsubscribe,
        manage: &manage,
    };
    let outcome = match store::subscribers::kind_of(&sub) {
        Ok(SubscriberKind::Email) => match (ctx.email_coalesce, content.update) {
            (Some(window), Some(update)) => {
                send_coalesced(ctx, &content, c, &sub, links, (window, at), update).await
            }
            _ => send_email(ctx, &content, &sub, links).await,
        },
        Ok(SubscriberKind::Webhook) => send_webhook(ctx, &content, &sub, &unsubscribe).await,
        // The delivery dies with the reason (logged as given up), never guessed.
        Err(e) => Outcome::Dead(e.to_string()),
    };
    (outcome, Some(sub))
}

async fn send_email(
    ctx: &Context,
    content: &EventContent,
    sub: &subscriber::Model,
    links: email::SubscriberLinks<'_>,
) -> Outcome {
    match &content.email {
        Ok(rendered) => send_rendered(ctx, rendered, sub, links).await,
        Err(why) => Outcome::Dead(why.clone()),
    }
}

/// Sends one subscriber's copy of a rendered email.
async fn send_rendered(
    ctx: &Context,
    rendered: &Rendered,
    sub: &subscriber::Model,
    links: email::SubscriberLinks<'_>,
) -> Outcome {
    let message = match rendered.message(ctx.mailer.from(), &sub.email, Some(links)) {
        Ok(m) => m,
        Err(e) => return Outcome::Dead(e),
    };
    match ctx.mailer.send(message).await {
        Ok(()) => Outcome::Sent,
        Err(e) if e.is_transient() => Outcome::Retry {
            error: format!("SMTP: {e}"),
            retry_after: None,
        },
        Err(e) => Outcome::Dead(format!("SMTP: {e}")),
    }
}

/// An incident update's email when coalescing: it waits while the
/// subscriber's last email about the incident is younger than `window`; then
/// it carries every later update of the incident still waiting for them, in
/// the order posted, and those deliveries are marked sent with it.
async fn send_coalesced(
    ctx: &Context,
    content: &EventContent,
    c: &Claimed,
    sub: &subscriber::Model,
    links: email::SubscriberLinks<'_>,
    (window, at): (chrono::Duration, chrono::DateTime<chrono::Utc>),
    (incident_id, update_id): (i32, i32),
) -> Outcome {
    let retry = |e: sea_orm::DbErr| Outcome::Retry {
        error: format!("database: {e}"),
        retry_after: None,
    };
    match store::coalescing::last_email(&ctx.db, sub.id, incident_id).await {
        Ok(Some(last)) if at < last + window => return Outcome::Defer(last + window),
        Ok(_) => {}
        Err(e) => return retry(e),
    }
    let later =
        match store::coalescing::pending_later(&ctx.db, sub.id, incident_id, c.event_id).await {
            Ok(l) => l,
            Err(e) => return retry(e),
        };
    if later.is_empty() {
        return send_email(ctx, content, sub, links).await;
    }
    let view = match store::incidents::load(&ctx.db, incident_id).await {
        Ok(Some(v)) => v,
        Ok(None) => return Outcome::Dead(format!("incident {incident_id} is gone")),
        Err(e) => return retry(e),
    };
    let ids: Vec<i32> = std::iter::once(update_id)
        .chain(later.iter().map(|l| l.update_id))
        .collect();
    let rendered = match email::incident_updates(&ctx.page, &ctx.tera, &view, &ids) {
        Ok(r) => r,
        Err(why) => return Outcome::Dead(why),
    };
    let outcome = send_rendered(ctx, &rendered, sub, links).await;
    if matches!(outcome, Outcome::Sent) {
        let carried: Vec<i32> = later.iter().map(|l| l.delivery_id).collect();
        // Before this delivery is recorded sent: until then no worker can
        // claim the later ones, so none of them is sent twice.
        if let Err(e) = store::coalescing::mark_carried(&ctx.db, &carried, c.id).await {
            tracing::warn!(error = %e, "marking the updates an email carried failed");
        }
        tracing::info!(updates = ids.len(), "one email carried several updates");
    }
    outcome
}

/// The `webhook-id` of an event: the same on every retry and every resend.
pub fn webhook_id(page: &PageInfo, event_id: i32) -> String {
    format!("msg_{}_{event_id}", page.id)
}

async fn send_webhook(
    ctx: &Context,
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
    let body = webhook::payload(&ctx.page, notice, unsubscribe, chrono::Utc::now());
    let bytes = match serde_json::to_vec(&body) {
        Ok(b) => b,
        Err(e) => return Outcome::Dead(format!("payload: {e}")),
    };
    let id = webhook_id(&ctx.page, content.event_id);
    match ctx.webhooks.send(url, secret, &id, &bytes).await {
        WebhookOutcome::Delivered => Outcome::Sent,
        WebhookOutcome::Retry { error, retry_after } => Outcome::Retry { error, retry_after },
        WebhookOutcome::Gone => Outcome::Gone("the endpoint answered 410 Gone".into()),
        WebhookOutcome::Refused(e) => Outcome::Dead(e),
    }
}

async fn record(
    ctx: &Context,
    c: &Claimed,
    (outcome, sub): (Outcome, Option<subscriber::Model>),
) -> Result<(), sea_orm::DbErr> {
    let db = &ctx.db;
    let is_webhook = sub.as_ref().is_some_and(is_webhook);
    match outcome {
        // Marked sent with its batch by `record_all`; a webhook that works
        // again has its run of failures over.
        Outcome::Sent => {
            if is_webhook && sub.as_ref().is_some_and(|s| s.failing_since.is_some()) {
                store::deliveries::clear_failing(db, c.subscriber_id).await?;
            }
        }
        Outcome::Retry { error, retry_after } => {
            let failures = (c.attempts + 1).max(1) as u32;
            let next = ctx.schedule.next_wait(failures, retry_after).map(|w| {
                store::now() + chrono::Duration::from_std(w).unwrap_or(chrono::Duration::hours(10))
            });
            tracing::info!(error = %error, dead = next.is_none(), "delivery failed");
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
                        tell_contact(ctx, sub.id, &reason).await;
                    }
                }
            }
        }
        Outcome::Dead(error) => {
            tracing::warn!(error = %error, "delivery given up");
            store::deliveries::mark_failed(db, c.id, &error, None).await?;
        }
        Outcome::Defer(until) => {
            tracing::debug!(%until, "email waits to be sent with later updates");
            store::coalescing::defer(db, c.id, until).await?;
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
async fn tell_contact(ctx: &Context, subscriber_id: i32, reason: &str) {
    let sub = match subscriber::Entity::find_by_id(subscriber_id)
        .one(&ctx.db)
        .await
    {
        Ok(Some(s)) => s,
        _ => return,
    };
    let message = email::endpoint_disabled(&ctx.page, &ctx.tera, &sub, reason)
        .and_then(|r| r.message(ctx.mailer.from(), &sub.email, None));
    match message {
        Ok(m) => {
            if let Err(e) = ctx.mailer.send(m).await {
                tracing::warn!(subscriber = sub.id, error = %e, "telling the webhook's contact failed");
            }
        }
        Err(e) => {
            tracing::warn!(subscriber = sub.id, error = %e, "no email for the webhook's contact")
        }
    }
}

/// Reads the event once and makes both of its notices from that one read.
async fn load_content(ctx: &Context, event_id: i32) -> Result<Arc<EventContent>, String> {
    let event = notification_event::Entity::find_by_id(event_id)
        .one(&ctx.db)
        .await
        .map_err(|e| format!("database: {e}"))?
        .ok_or_else(|| format!("event {event_id} is gone"))?;
    let loaded = content::load(&ctx.db, &event)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let email = match &loaded.told {
        Err(why) => Err(why.clone()),
        Ok(Told::Incident { view, update_id }) => {
            email::incident_update(&ctx.page, &ctx.tera, view, *update_id)
        }
        Ok(Told::Correction { view, update_id }) => {
            email::correction(&ctx.page, &ctx.tera, view, *update_id)
        }
        Ok(Told::Reminder { view }) => email::maintenance_reminder(&ctx.page, &ctx.tera, view),
        Ok(Told::Postmortem { view }) => email::postmortem(&ctx.page, &ctx.tera, view),
        // The change the event records; the component may have moved on.
        Ok(Told::Component {
            row,
            old_status,
            new_status,
        }) => email::component_update(
            &ctx.page,
            &ctx.tera,
            event_id,
            row,
            (*old_status, *new_status),
            loaded.created_at,
        ),
    };
    let update = match &loaded.told {
        Ok(Told::Incident { view, update_id }) => Some((view.model.id, *update_id)),
        _ => None,
    };
    Ok(Arc::new(EventContent {
        event_id,
        update,
        email,
        webhook: Notice::new(&ctx.page, &loaded),
    }))
}
