//! The test utilities the scenarios are written with, one file per idea, all re-exported here
//! so that a scenario needs only `use crate::app::*;`:
//!
//! - `test_app`: the `TestApp` (builder, restart, mail delivered now) on a database of its own;
//! - `postgres`: a fresh PostgreSQL database per test;
//! - `smtp`: the SMTP sink inside the test process, and `Email`;
//! - `client`: the HTTP `Client` and the contract's error shape;
//! - `csv_report`: a CSV report parsed;
//! - `people`: organisations, users and an apprentice made through the API;
//! - `sheets`: score items, standards, sheets and the bodies made of them;
//! - `panel`: one apprentice's EPA and the steps of the day;
//! - `guides`: the panel guides (TOML) the scenarios import.
//!
//! A `TestApp` is the real service (`epa_panel::prepare` + `epa_panel::start` on 127.0.0.1:0)
//! on a database of its own: a SQLite file in a temp dir, or a fresh PostgreSQL database
//! `epa_test_<uuid>` created through `EPA_TEST_POSTGRES_URL` and dropped when the app is. Outcome
//! emails go to an SMTP server running inside the test process (or, with `Mail::Files`, to `.eml`
//! files). The first admin is created through the service layer before the server starts; every
//! other step goes through the HTTP API as the contract (API.md) describes it.

mod client;
mod csv_report;
mod guides;
mod panel;
mod people;
mod postgres;
mod sheets;
mod smtp;
mod test_app;

pub use client::*;
pub use csv_report::*;
pub use guides::*;
pub use panel::*;
pub use people::*;
pub use postgres::*;
pub use sheets::*;
pub use smtp::*;
pub use test_app::*;

/// The standard the panel-guides folder ships, used unless a scenario imports another.
pub const STANDARD: &str = "senior-housing-property-management-l4";
/// Its title, as outcome emails must name it.
pub const STANDARD_TITLE: &str = "Senior Housing/Property Management";

/// Writes a scenario once and runs it on both backends:
/// `both_backends!(name, |app| async move { … });` or, with the app built otherwise,
/// `both_backends!(name, |b| b.mail_to_files().with_config(|c| …), |app| async move { … });`
/// (the older `both_backends!(name, Options::files(), |app| …)` still works).
/// `app` is a `&mut TestApp`; the server is stopped and the database dropped afterwards.
macro_rules! both_backends {
    ($name:ident, |$app:ident| async move $body:block) => {
        both_backends!($name, |builder| builder, |$app| async move $body);
    };
    ($name:ident, |$builder:ident| $configure:expr, |$app:ident| async move $body:block) => {
        mod $name {
            use super::*;

            async fn scenario($app: &mut $crate::app::TestApp) $body

            fn configure($builder: $crate::app::TestAppBuilder) -> $crate::app::TestAppBuilder {
                $configure
            }

            #[actix_web::test]
            async fn sqlite() {
                let builder = configure($crate::app::TestApp::builder($crate::app::Backend::Sqlite));
                if let Some(mut app) = builder.start().await {
                    scenario(&mut app).await;
                    app.shutdown().await;
                }
            }

            #[actix_web::test]
            async fn postgres() {
                let builder = configure($crate::app::TestApp::builder($crate::app::Backend::Postgres));
                if let Some(mut app) = builder.start().await {
                    scenario(&mut app).await;
                    app.shutdown().await;
                }
            }
        }
    };
    ($name:ident, $options:expr, |$app:ident| async move $body:block) => {
        mod $name {
            use super::*;

            async fn scenario($app: &mut $crate::app::TestApp) $body

            #[actix_web::test]
            async fn sqlite() {
                if let Some(mut app) = $crate::app::TestApp::start($crate::app::Backend::Sqlite, $options).await {
                    scenario(&mut app).await;
                    app.shutdown().await;
                }
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(mut app) = $crate::app::TestApp::start($crate::app::Backend::Postgres, $options).await {
                    scenario(&mut app).await;
                    app.shutdown().await;
                }
            }
        }
    };
}
