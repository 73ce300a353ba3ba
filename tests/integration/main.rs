//! epa-panel's integration tests: one test binary that runs the real server (`prepare` + `start`)
//! on a database of its own per test, talks to it over HTTP as the panel's people would, and
//! receives its outcome emails on a real SMTP server inside this process.
//!
//! Every scenario is written once with `both_backends!` and runs on SQLite (a temp file) and on
//! PostgreSQL (a fresh database, dropped afterwards). The test utilities live in `app/` (one file
//! per idea, re-exported by `app.rs`), so that the scenarios read like an EPA: gateway, panel,
//! score sheets, consensus, decision, moderation. A scenario that asserts nothing (more) was sent
//! calls `app.deliver_now()` first instead of waiting.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark that cannot go on should stop loudly, naming what failed"
)]

#[macro_use]
mod app;
mod assessor_register;

mod access;
mod adjustments;
mod admin_pages;
mod appeal_pages;
mod appeals;
mod attempts;
mod audit_chain;
mod audit_seals;
mod browser;
mod change_frame;
mod consensus;
mod copy;
mod crash;
mod demo;
mod errors;
mod evidence;
mod gateway;
mod gateway_checks;
mod guards;
mod guides_drive;
mod idempotency;
mod lists;
mod local_times;
mod mail_outage;
mod migrations;
mod moderation_mail;
mod openapi;
mod panel_day;
mod refer_back_items;
mod reports;
mod restart;
mod save_path;
mod scores;
mod security;
mod shipped_guides;
mod sign_off;
mod simulate;
mod snapshots;
mod standardisation_page;
mod standards;
mod two_servers;
mod verification_sample;
mod versions;
mod web;
mod workflow;
