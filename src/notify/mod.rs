//! Subscriber notifications: the outbox events written with each update.
pub mod email;
pub mod mail;
pub mod schedule;
pub mod ssrf;
pub mod webhook;
pub mod worker;

/// An incident was published or updated; the event names the update.
pub const EVENT_INCIDENT: &str = "incident_update";
/// A component's status changed outside an incident update.
pub const EVENT_COMPONENT: &str = "component_update";
