//! Integration tests: the real app on port 0 with a fresh database per test,
//! reached over HTTP as users reach it. With TEST_DATABASE_URL set to a
//! PostgreSQL server, every test runs on a throwaway PostgreSQL database.
mod admin_forms;
mod api_v1;
mod api_v2;
mod backup;
mod cli;
mod crash;
mod demo;
mod feeds;
mod helpers;
mod html_quality;
mod import;
mod instances;
mod layers;
mod mail_headers;
mod mailer;
mod notify_email;
mod notify_support;
mod notify_webhook;
mod ops;
mod page_cache;
mod past_incidents;
mod public_page;
mod reading_order;
mod request_id;
mod resolving;
mod security;
mod sign_in;
mod smtp_server;
mod subscribe;
mod subscribers_admin;
mod subscription;
mod uptime;
mod webhook_receiver;
mod webhooks;
mod workers;
