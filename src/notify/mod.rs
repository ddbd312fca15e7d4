//! Subscriber notifications: the outbox events written with each update.
pub mod mail;
pub mod ssrf;
pub mod webhook;

/// An incident was published or updated; the event names the update.
pub const EVENT_INCIDENT: &str = "incident_update";
/// A component's status changed outside an incident update.
pub const EVENT_COMPONENT: &str = "component_update";
