//! The one integration-test binary: the real server on port 0, real HTTP,
//! real SQLite (and PostgreSQL when ATTEST_TEST_DATABASE_URL is set).

// Test code: a failed unwrap is a failed test, which is what we want.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod admin;
mod attachments;
mod audit_browser;
mod audit_log;
mod auth;
mod browser;
mod capas;
mod cli;
mod crash;
mod csrf;
mod digests;
mod documents;
mod exports;
mod faults;
mod forms;
mod headers;
mod helpers;
mod mail;
mod nonconformances;
mod notifications;
mod products;
mod reminders;
mod requirements;
mod risks;
mod scheduler;
mod security_items;
mod signature_requests;
mod signatures;
mod smtp;
mod startup;
mod testruns;
mod trace;
mod training;
mod webhooks;
