//! HTTP handlers: thin layers that parse, call `store`, and render.
pub mod access_log;
pub mod admin;
pub mod api_v1;
pub mod api_v2;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod badge;
pub mod csrf;
pub mod error;
pub mod feeds;
pub mod form;
pub mod openapi;
pub mod ops;
pub mod public;
pub mod request_id;
pub mod security;
pub mod subscribe;
pub mod subscription;
pub mod time_zone;
pub mod uptime;

pub use error::AppError;
