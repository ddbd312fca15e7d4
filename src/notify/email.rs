//! The emails subscribers get: multipart text and HTML from templates, one
//! thread per incident, with RFC 8058 one-click unsubscribe headers.
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use crate::render::{markdown, time};
use crate::state::AppState;
use crate::store::incidents::IncidentView;

/// What every copy of one notification shares; each subscriber adds its own
/// address and unsubscribe link.
#[derive(Debug, Clone)]
pub struct Prepared {
    template: &'static str,
    context: tera::Context,
    message_id: String,
    /// The incident's first message, which later ones reply to.
    thread_root: Option<String>,
}

/// `<incident-7-update-12@status.example.com>`: the same for every copy and every retry.
pub fn update_message_id(state: &AppState, incident_id: i32, update_id: i32) -> String {
    format!(
        "<incident-{incident_id}-update-{update_id}@{}>",
        host(state)
    )
}

fn host(state: &AppState) -> String {
    state
        .settings
        .base_url
        .host_str()
        .unwrap_or("localhost")
        .to_owned()
}

fn base_context(state: &AppState) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("page_name", &state.settings.page_name);
    ctx.insert("page_url", &state.settings.link(""));
    ctx
}

/// The email for one update of an incident.
pub fn incident_update(state: &AppState, view: &IncidentView, update_id: i32) -> Option<Prepared> {
    let tz = state.page_zone.tz();
    let index = view.updates.iter().position(|u| u.model.id == update_id)?;
    let update = &view.updates[index];
    let first = view.updates.iter().map(|u| u.model.id).min()?;
    let mut ctx = base_context(state);
    ctx.insert(
        "incident",
        &serde_json::json!({
            "id": view.model.id,
            "title": view.model.title,
            "status_label": view.status.label(),
            "impact": view.impact.as_str(),
            "url": state.settings.link(&format!("incidents/{}", view.model.id)),
            "started": time::date_time(view.model.started_at, tz),
        }),
    );
    ctx.insert(
        "update",
        &serde_json::json!({
            "first": update_id == first,
            "status_label": update.status.label(),
            "at": time::date_time(update.model.display_at, tz),
            "body_text": update.model.body,
            "body_html": markdown::to_safe_html(&update.model.body),
            "components": update.components.iter().map(|c| serde_json::json!({
                "name": c.name,
                "label": c.new_status.label(),
            })).collect::<Vec<_>>(),
        }),
    );
    Some(Prepared {
        template: "incident_update",
        context: ctx,
        message_id: update_message_id(state, view.model.id, update_id),
        thread_root: (update_id != first).then(|| update_message_id(state, view.model.id, first)),
    })
}

/// The email for a component's status change outside an incident.
pub fn component_update(
    state: &AppState,
    event_id: i32,
    component: &crate::entity::component::Model,
    label: &str,
) -> Prepared {
    let mut ctx = base_context(state);
    ctx.insert(
        "component",
        &serde_json::json!({
            "name": component.name,
            "label": label,
        }),
    );
    Prepared {
        template: "component_update",
        context: ctx,
        message_id: format!(
            "<component-{}-event-{event_id}@{}>",
            component.id,
            host(state)
        ),
        thread_root: None,
    }
}

/// Tells a webhook's contact that we stopped sending to it.
pub fn endpoint_disabled(
    state: &AppState,
    subscriber: &crate::entity::subscriber::Model,
    reason: &str,
) -> Result<Message, String> {
    let mut ctx = base_context(state);
    ctx.insert("webhook_url", &subscriber.webhook_url);
    ctx.insert("reason", reason);
    ctx.insert(
        "failing_since",
        &subscriber
            .failing_since
            .map(|t| time::date_time(t, state.page_zone.tz())),
    );
    ctx.insert("subscribe_url", &state.settings.link("subscribe"));
    let prepared = Prepared {
        template: "endpoint_disabled",
        context: ctx,
        message_id: format!(
            "<webhook-{}-disabled-{}@{}>",
            subscriber.id,
            chrono::Utc::now().timestamp(),
            host(state)
        ),
        thread_root: None,
    };
    // A contact is told of failures; it is not a list member with an unsubscribe link.
    prepared.message(state, &subscriber.email, None)
}

impl Prepared {
    /// The message to one address; `unsubscribe_url` adds the visible link and
    /// the one-click headers.
    pub fn message(
        &self,
        state: &AppState,
        to: &str,
        unsubscribe_url: Option<&str>,
    ) -> Result<Message, String> {
        let mut ctx = self.context.clone();
        ctx.insert("unsubscribe_url", &unsubscribe_url);
        let render = |suffix: &str| {
            state
                .tera
                .render(&format!("email/{}.{suffix}", self.template), &ctx)
                .map_err(|e| format!("template email/{}.{suffix}: {e:?}", self.template))
        };
        // Subjects are one line whatever the title holds; lettre encodes what is left.
        let subject = render("subject.txt")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let text = render("txt")?;
        let html = render("html")?;
        let to: Mailbox = to.parse().map_err(|e| format!("bad address {to:?}: {e}"))?;
        let mut b = Message::builder()
            .from(state.mailer.from().clone())
            .to(to)
            .subject(subject)
            .message_id(Some(self.message_id.clone()))
            .header(AutoSubmitted);
        if let Some(root) = &self.thread_root {
            b = b.in_reply_to(root.clone()).references(root.clone());
        }
        if let Some(url) = unsubscribe_url {
            b = b
                .header(ListUnsubscribe(url.to_owned()))
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
