//! Subscriber notifications: the outbox events written with each update.
pub mod content;
pub mod email;
pub mod mail;
pub mod ssrf;
pub mod supervise;
pub mod webhook;
pub mod worker;
//
// What kinds of event there are is the store's to say: `store::outbox::EventKind`.
