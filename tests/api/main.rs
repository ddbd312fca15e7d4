//! Integration tests: the real app on port 0 with a fresh database per test,
//! reached over HTTP as users reach it. With TEST_DATABASE_URL set to a
//! PostgreSQL server, every test runs on a throwaway PostgreSQL database.
mod helpers;
mod html_quality;
mod mailer;
mod smtp_server;
