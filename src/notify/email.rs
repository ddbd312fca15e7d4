//! The emails subscribers get: multipart text and HTML from templates, one
//! thread per incident, with RFC 8058 one-click unsubscribe headers.
use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use tera::Tera;

use crate::domain::ComponentStatus;
use crate::render::statuspage::PageInfo;
use crate::render::{markdown, time};
use crate::store::incidents::IncidentView;

/// One email as rendered from its templates, the same for every recipient:
/// each copy only adds its address and, for a subscriber's copy, that
/// subscriber's links. Rendering is done once per event, however many
/// subscribers it goes to.
#[derive(Debug, Clone)]
pub struct Rendered {
    subject: String,
    text: String,
    html: String,
    message_id: String,
    /// The incident's first message, which later ones reply to.
    thread_root: Option<String>,
    /// In a subscriber's mail, what stands for its links until a copy is addressed.
    slots: Option<Slots>,
}

/// Random texts, so no staff text can contain them; URL-safe characters
/// only, so HTML escaping leaves them as they are.
#[derive(Debug, Clone)]
struct Slots {
    unsubscribe: String,
    manage: String,
}

impl Slots {
    fn new() -> Self {
        let r = crate::secrets::random_token();
        Self {
            unsubscribe: format!("statuspost-unsubscribe-{r}"),
            manage: format!("statuspost-manage-{r}"),
        }
    }
}

/// The links one subscriber's copy carries: both are made from that
/// subscriber's secret token.
#[derive(Debug, Clone, Copy)]
pub struct SubscriberLinks<'a> {
    /// Also in the RFC 8058 one-click headers.
    pub unsubscribe: &'a str,
    /// The page where the subscriber picks components or unsubscribes.
    pub manage: &'a str,
}

/// What one email is made from, before rendering.
struct Letter {
    template: &'static str,
    context: tera::Context,
    message_id: String,
    thread_root: Option<String>,
    /// Sent to subscribers, with their links and the one-click headers.
    to_subscribers: bool,
}

/// `<incident-7-update-12@status.example.com>`: the same for every copy and every retry.
pub fn update_message_id(page: &PageInfo, incident_id: i32, update_id: i32) -> String {
    format!("<incident-{incident_id}-update-{update_id}@{}>", host(page))
}

/// `<confirm-3-Qm9iYXNl@status.example.com>`: for a message that is its own,
/// never resent as the same message. The random part keeps two sent in one
/// second apart, which providers that drop repeated Message-IDs would merge.
fn one_off_message_id(page: &PageInfo, what: &str) -> String {
    let random = crate::secrets::random_token();
    format!("<{what}-{}@{}>", &random[..16], host(page))
}

/// The configured base URL's host: every Message-ID is on it.
fn host(page: &PageInfo) -> String {
    url::Url::parse(&page.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned())
}

fn base_context(page: &PageInfo) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("page_name", &page.name);
    ctx.insert("page_url", &page.url);
    ctx
}

/// The email for one update of an incident; `Err` when the incident has no
/// such update or a template fails.
pub fn incident_update(
    page: &PageInfo,
    tera: &Tera,
    view: &IncidentView,
    update_id: i32,
) -> Result<Rendered, String> {
    update_letter(page, tera, view, update_id, false, &[])
}

/// One email carrying several updates of an incident, `ids` in the order
/// posted (coalescing): it stands for the newest, in the incident's thread.
pub fn incident_updates(
    page: &PageInfo,
    tera: &Tera,
    view: &IncidentView,
    ids: &[i32],
) -> Result<Rendered, String> {
    let newest = *ids.last().ok_or("no update to send")?;
    update_letter(page, tera, view, newest, false, ids)
}

/// The email telling that update `update_id` was corrected: its new text,
/// said to be a correction, in the incident's thread.
pub fn correction(
    page: &PageInfo,
    tera: &Tera,
    view: &IncidentView,
    update_id: i32,
) -> Result<Rendered, String> {
    update_letter(page, tera, view, update_id, true, &[])
}

fn update_letter(
    page: &PageInfo,
    tera: &Tera,
    view: &IncidentView,
    update_id: i32,
    correction: bool,
    batch: &[i32],
) -> Result<Rendered, String> {
    let tz = page.zone().tz();
    let mut batch_vm = None;
    if batch.len() > 1 {
        let updates = batch
            .iter()
            .map(|id| {
                let u = view
                    .updates
                    .iter()
                    .find(|u| u.model.id == *id)
                    .ok_or_else(|| format!("update {id} is gone"))?;
                Ok(serde_json::json!({
                    "status_label": u.status.label(),
                    "at": time::date_time(u.model.display_at, tz),
                    "body_text": u.model.body,
                    "body_html": markdown::to_safe_html(&u.model.body),
                }))
            })
            .collect::<Result<Vec<_>, String>>()?;
        batch_vm = Some(updates);
    }
    let gone = || format!("update {update_id} is gone");
    let update = view
        .updates
        .iter()
        .find(|u| u.model.id == update_id)
        .ok_or_else(gone)?;
    let first = view
        .updates
        .iter()
        .map(|u| u.model.id)
        .min()
        .ok_or_else(gone)?;
    // The update that called a maintenance off reads as what it did: a
    // "Completed" mail for work that never happened would mislead.
    let (status_label, status_short) =
        if view.is_cancelled() && update.status == crate::domain::IncidentStatus::Completed {
            ("Cancelled", "Cancelled")
        } else {
            (update.status.label(), update.status.short_label())
        };
    let mut ctx = base_context(page);
    // Several updates in one email: each in order, under its time and status.
    ctx.insert("batch", &batch_vm);
    ctx.insert(
        "incident",
        &serde_json::json!({
            "id": view.model.id,
            "title": view.model.title,
            "status_label": view.status.label(),
            "impact": view.impact.as_str(),
            "url": page.link(&format!("incidents/{}", view.model.id)),
            "started": time::date_time(view.model.started_at, tz),
            "window": window_text(view, tz),
        }),
    );
    // The box at the top of every email of a data-integrity incident, as it stands now.
    ctx.insert(
        "integrity",
        &view
            .integrity
            .as_ref()
            .map(|d| crate::render::views::integrity_vm(d, tz)),
    );
    ctx.insert(
        "milestones",
        &crate::render::views::milestones_vm(&view.milestones, tz),
    );
    // This update's own promise: a later one answers it, and says its own.
    let day = time::local_date(update.model.display_at, tz);
    ctx.insert(
        "next_update_by",
        &update
            .model
            .next_update_by
            .filter(|_| !view.is_resolved())
            .map(|by| time::on_day(by, tz, day)),
    );
    ctx.insert(
        "update",
        &serde_json::json!({
            "first": update_id == first,
            "status_label": status_label,
            "status_short": status_short,
            "at": time::date_time(update.model.display_at, tz),
            "body_text": update.model.body,
            "body_html": markdown::to_safe_html(&update.model.body),
            "components": update.components.iter().map(|c| serde_json::json!({
                "name": c.name,
                "label": c.new_status.label(),
                "old_label": (c.old_status != c.new_status).then(|| c.old_status.label()),
            })).collect::<Vec<_>>(),
        }),
    );
    let (message_id, thread_root) = if correction {
        ctx.insert(
            "correction",
            &update
                .model
                .corrected_at
                .map(|at| time::date_time(at, tz))
                .unwrap_or_default(),
        );
        // One per correction: the same for every copy and retry of it, new for the next.
        let n = crate::store::corrections::revisions_of(&update.model)
            .map_err(|e| e.to_string())?
            .len();
        (
            format!(
                "<incident-{}-update-{update_id}-correction-{n}@{}>",
                view.model.id,
                host(page)
            ),
            Some(update_message_id(page, view.model.id, first)),
        )
    } else {
        (
            update_message_id(page, view.model.id, update_id),
            (update_id != first).then(|| update_message_id(page, view.model.id, first)),
        )
    };
    Letter {
        template: "incident_update",
        context: ctx,
        message_id,
        thread_root,
        to_subscribers: true,
    }
    .render(tera)
}

/// "Mar 8, 2026 1:00 AM EST to Mar 8, 2026 5:00 AM EDT", for a maintenance.
fn window_text(view: &IncidentView, tz: chrono_tz::Tz) -> Option<String> {
    view.window().map(|w| {
        format!(
            "{} to {}",
            time::date_time(w.from, tz),
            time::date_time(w.until, tz)
        )
    })
}

/// The reminder before a maintenance starts, in the maintenance's thread.
pub fn maintenance_reminder(
    page: &PageInfo,
    tera: &Tera,
    view: &IncidentView,
) -> Result<Rendered, String> {
    let tz = page.zone().tz();
    let window = view
        .window()
        .ok_or_else(|| format!("incident {} is not a maintenance", view.model.id))?;
    let first = view
        .updates
        .first()
        .ok_or_else(|| format!("maintenance {} has no update", view.model.id))?;
    let latest = view.updates.last().unwrap_or(first);
    let mut ctx = base_context(page);
    ctx.insert(
        "incident",
        &serde_json::json!({
            "id": view.model.id,
            "title": view.model.title,
            "url": page.link(&format!("incidents/{}", view.model.id)),
            "starts": time::date_time(window.from, tz),
            "ends": time::date_time(window.until, tz),
            "body_text": latest.model.body,
            "body_html": markdown::to_safe_html(&latest.model.body),
            "components": crate::store::maintenance::planned_names(view),
        }),
    );
    Letter {
        template: "maintenance_reminder",
        context: ctx,
        message_id: format!("<incident-{}-reminder@{}>", view.model.id, host(page)),
        thread_root: Some(update_message_id(page, view.model.id, first.model.id)),
        to_subscribers: true,
    }
    .render(tera)
}

/// `<incident-7-postmortem@status.example.com>`: one per incident, as it is sent once.
pub fn postmortem_message_id(page: &PageInfo, incident_id: i32) -> String {
    format!("<incident-{incident_id}-postmortem@{}>", host(page))
}

/// The email of an incident's published postmortem, in the incident's thread
/// (a reply to its first update's mail).
pub fn postmortem(page: &PageInfo, tera: &Tera, view: &IncidentView) -> Result<Rendered, String> {
    let tz = page.zone().tz();
    let id = view.model.id;
    let pm = view
        .published_postmortem()
        .ok_or_else(|| format!("incident {id} has no published postmortem"))?;
    let first = view.updates.iter().map(|u| u.model.id).min();
    let mut ctx = base_context(page);
    ctx.insert(
        "incident",
        &serde_json::json!({
            "id": id,
            "title": view.model.title,
            "url": page.link(&format!("incidents/{id}")),
            "started": time::date_time(view.model.started_at, tz),
            "resolved": view.model.resolved_at.map(|t| time::date_time(t, tz)),
        }),
    );
    ctx.insert(
        "postmortem",
        &serde_json::json!({
            "published": pm.model.published_at.map(|t| time::date_time(t, tz)),
            "body_text": pm.model.body,
            "body_html": markdown::to_safe_html(&pm.model.body),
        }),
    );
    Letter {
        template: "postmortem",
        context: ctx,
        message_id: postmortem_message_id(page, id),
        thread_root: first.map(|f| update_message_id(page, id, f)),
        to_subscribers: true,
    }
    .render(tera)
}

/// The email for a component's status change outside an incident: from
/// what to what, and when, as the event recorded it.
pub fn component_update(
    page: &PageInfo,
    tera: &Tera,
    event_id: i32,
    component: &crate::entity::component::Model,
    change: (ComponentStatus, ComponentStatus),
    at: DateTime<Utc>,
) -> Result<Rendered, String> {
    let (old, new) = change;
    let mut ctx = base_context(page);
    ctx.insert(
        "component",
        &serde_json::json!({
            "name": component.name,
            "label": new.label(),
            // An event written before old statuses were kept reads as no change.
            "old_label": (old != new).then(|| old.label()),
            "at": time::date_time(at, page.zone().tz()),
        }),
    );
    Letter {
        template: "component_update",
        context: ctx,
        message_id: format!(
            "<component-{}-event-{event_id}@{}>",
            component.id,
            host(page)
        ),
        thread_root: None,
        to_subscribers: true,
    }
    .render(tera)
}

/// Tells a webhook's contact that we stopped sending to it. A contact is told
/// of failures; it is not a list member with an unsubscribe link.
pub fn endpoint_disabled(
    page: &PageInfo,
    tera: &Tera,
    subscriber: &crate::entity::subscriber::Model,
    reason: &str,
) -> Result<Rendered, String> {
    let mut ctx = base_context(page);
    ctx.insert("webhook_url", &subscriber.webhook_url);
    ctx.insert("reason", reason);
    ctx.insert(
        "failing_since",
        &subscriber
            .failing_since
            .map(|t| time::date_time(t, page.zone().tz())),
    );
    ctx.insert("subscribe_url", &page.link("subscribe"));
    Letter {
        template: "endpoint_disabled",
        context: ctx,
        message_id: one_off_message_id(page, &format!("webhook-{}-disabled", subscriber.id)),
        thread_root: None,
        to_subscribers: false,
    }
    .render(tera)
}

/// The reminder to staff that open incident `incident` owes its readers an
/// update since `latest`: `kind` is `store::reminders::PROMISE` (the promised
/// time `due_at` passed) or `SILENT` (it has said nothing for too long).
pub fn staff_reminder(
    page: &PageInfo,
    tera: &Tera,
    incident: &crate::entity::incident::Model,
    latest: &crate::entity::incident_update::Model,
    kind: &str,
    due_at: chrono::DateTime<chrono::Utc>,
) -> Result<Rendered, String> {
    let tz = page.zone().tz();
    let mut ctx = base_context(page);
    ctx.insert("title", &incident.title);
    ctx.insert("overdue", &(kind == crate::store::reminders::PROMISE));
    ctx.insert("due_at", &time::date_time(due_at, tz));
    ctx.insert("last_update_at", &time::date_time(latest.display_at, tz));
    ctx.insert(
        "update_url",
        &page.link(&format!("admin/incidents/{}", incident.id)),
    );
    Letter {
        template: "staff_reminder",
        context: ctx,
        message_id: one_off_message_id(page, &format!("incident-{}-reminder", incident.id)),
        thread_root: None,
        to_subscribers: false,
    }
    .render(tera)
}

/// The link a new subscriber follows to confirm. `confirm_url` comes from
/// the configured base URL, never from the request, so a forged Host header
/// cannot redirect it.
pub fn confirmation(
    page: &PageInfo,
    tera: &Tera,
    subscriber_id: i32,
    confirm_url: &str,
    valid_hours: i64,
) -> Result<Rendered, String> {
    let mut ctx = tera::Context::new();
    ctx.insert("page_name", &page.name);
    ctx.insert("base_url", &page.url);
    ctx.insert("confirm_url", confirm_url);
    ctx.insert("hours", &valid_hours);
    Letter {
        template: "confirm",
        context: ctx,
        message_id: one_off_message_id(page, &format!("confirm-{subscriber_id}")),
        thread_root: None,
        to_subscribers: false,
    }
    .render(tera)
}

impl Letter {
    fn render(mut self, tera: &Tera) -> Result<Rendered, String> {
        let slots = self.to_subscribers.then(Slots::new);
        self.context
            .insert("unsubscribe_url", &slots.as_ref().map(|s| &s.unsubscribe));
        self.context
            .insert("manage_url", &slots.as_ref().map(|s| &s.manage));
        let render = |suffix: &str| {
            tera.render(&format!("email/{}.{suffix}", self.template), &self.context)
                .map_err(|e| format!("template email/{}.{suffix}: {e:?}", self.template))
        };
        // Subjects are one line whatever the title holds; lettre encodes what is left.
        let subject = render("subject.txt")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Rendered {
            subject,
            text: render("txt")?,
            html: render("html")?,
            message_id: self.message_id,
            thread_root: self.thread_root,
            slots,
        })
    }
}

impl Rendered {
    /// The copy for one address. A subscriber's copy needs that subscriber's
    /// links, which fill the visible links and the one-click headers.
    pub fn message(
        &self,
        from: &Mailbox,
        to: &str,
        links: Option<SubscriberLinks<'_>>,
    ) -> Result<Message, String> {
        let (text, html) = match (&self.slots, links) {
            (Some(slots), Some(links)) => {
                let fill = |body: &str, escape: fn(&str) -> String| {
                    body.replace(slots.unsubscribe.as_str(), &escape(links.unsubscribe))
                        .replace(slots.manage.as_str(), &escape(links.manage))
                };
                (
                    fill(&self.text, str::to_owned),
                    // As the template would have escaped them.
                    fill(&self.html, crate::render::templates::escape_html),
                )
            }
            (None, None) => (self.text.clone(), self.html.clone()),
            (Some(_), None) => return Err("a subscriber's mail needs its links".into()),
            (None, Some(_)) => return Err("this mail has no subscriber links".into()),
        };
        let to: Mailbox = to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?;
        let mut b = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()))
            .header(AutoSubmitted);
        if let Some(root) = &self.thread_root {
            b = b.in_reply_to(root.clone()).references(root.clone());
        }
        if let Some(links) = links {
            b = b
                .header(ListUnsubscribe(links.unsubscribe.to_owned()))
                .header(ListUnsubscribePost);
        }
        b.multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| format!("building the message: {e}"))
    }
}

/// `List-Unsubscribe: <https://status.example.com/unsubscribe/TOKEN>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        ))
    }

    fn display(&self) -> HeaderValue {
        // HeaderValue::new encodes any line break, so nothing can be injected.
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies, please.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}
