//! Turning view models into bytes: markdown, times, templates and the page cache.
pub mod badge;
pub mod cache;
pub mod calendar;
pub mod feeds;
pub mod invalidation;
pub mod links;
pub mod markdown;
pub mod statuspage;
pub mod templates;
pub mod time;
pub mod uptime;
pub mod views;
pub mod zones;
