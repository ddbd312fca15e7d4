//! Turning view models into bytes: markdown, times, templates and the page cache.
pub mod cache;
pub mod markdown;
pub mod templates;
pub mod time;
pub mod views;
