//! epa-panel: end-point assessment panels for apprenticeships, from gateway to moderated,
//! emailed outcome and standardisation reports.
//!
//! Layers (see README, Architecture): `domain` (pure rules) ← `services` (use cases in one
//! transaction with their audit entry) ← `web` (HTTP) and `cli`. `db`, `mail`, `reports` and
//! `templates` are the edges.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod local_time;
pub mod mail;
pub mod reports;
pub mod services;
pub mod templates;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{web as aweb, App, HttpServer};
use tokio::sync::Notify;

use crate::config::Config;
use crate::db::Db;
use crate::mail::{Composer, Transport};
use crate::services::standards::Guides;
use crate::web::AppState;

/// Everything a server needs, prepared before it listens.
pub struct Prepared {
    pub state: aweb::Data<AppState>,
    /// The SMTP URL (or None for `.eml` files) and the mail folder; the transport itself is built
    /// inside the runtime, which its connection pool needs.
    pub mail: (Option<String>, std::path::PathBuf),
    pub mail_retry: mail::RetryPolicy,
    /// The web pages' templates and session-cookie key.
    pub pages: aweb::Data<web::pages::PagesState>,
}

/// Opens the database, applies migrations, loads the templates and imports every guide in
/// `EPA_GUIDES_DIR`. Blocking: call before the server starts.
pub fn prepare(config: &Config) -> anyhow::Result<Prepared> {
    let db = Db::open(&config.database_url, config.pg_pool_size)?;
    let guides = Arc::new(Guides::new());
    let tera = Arc::new(templates::load()?);
    let pages;
    {
        let mut conn = db.conn()?;
        pages = db::with_startup_lock(&mut conn, |conn| {
            let applied = db::migrate(conn)?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
            for (id, version, how) in guides.import_dir(conn, &config.guides_dir)? {
                tracing::info!(%id, %version, ?how, "panel guide loaded");
            }
            let pages = web::pages::PagesState::prepare(conn, tera.clone(), &config.web)?;
            Ok(aweb::Data::new(pages.in_zone(config.timezone)))
        })?;
    }
    let composer = Composer::new(tera, &config.mail_from)?.signed(mail::Signature {
        assessment_body: config.assessment_body.clone(),
        contact: config.assessment_body_contact.clone(),
        zone: config.timezone,
    });
    let state = aweb::Data::new(AppState {
        db,
        guides,
        composer,
        mail_queued: Arc::new(Notify::new()),
        assessor_rules: config.assessor_rules,
    });
    Ok(Prepared {
        state,
        mail: (config.smtp_url.clone(), config.mail_dir.clone()),
        mail_retry: config.mail_retry,
        pages,
    })
}

/// A listening server and its outbox worker.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: actix_web::dev::ServerHandle,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub worker: tokio::task::JoinHandle<()>,
    /// Seals the audit trail every [`SEAL_EVERY`].
    pub sealer: tokio::task::JoinHandle<()>,
}

/// How often a running server seals the audit trail (the window in which a deletion at the end
/// of an assessment's chain goes unnoticed; see the README's Guarantees).
pub const SEAL_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Seals the audit trail every [`SEAL_EVERY`] (the first one a period after start).
async fn run_sealer(db: db::Db) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + SEAL_EVERY, SEAL_EVERY);
    loop {
        tick.tick().await;
        let sealed = db.run(|conn| services::audit_trail::seal(conn, &db::now()).map_err(anyhow::Error::from)).await;
        if let Err(e) = sealed {
            tracing::error!(error = ?e, "audit seal");
        }
    }
}

impl Running {
    /// Stops accepting requests, finishes those in flight, stops the worker.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.worker.abort();
        self.sealer.abort();
        let _ = self.sealer.await;
        // Wait until the worker is gone too, so its database connections close before we return.
        let _ = self.worker.await;
        let _ = self.server.await;
    }
}

/// Binds and starts serving (inside an actix/tokio runtime). `bind` may use port 0.
pub fn start(prepared: Prepared, bind: &str) -> anyhow::Result<Running> {
    let transport =
        Transport::from_config(prepared.mail.0.as_deref(), prepared.mail.1.clone(), prepared.mail_retry.lease)?;
    let state = prepared.state.clone();
    let pages = prepared.pages.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(pages.clone())
            .wrap(actix_web::middleware::from_fn(web::text_guard::refuse_control_characters))
            .wrap(web::security_headers())
            .wrap(web::compression())
            .configure(web::routes)
    })
    .bind(bind)
    .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let addr = *server.addrs().first().ok_or_else(|| anyhow::anyhow!("no address bound"))?;
    let server = server.run();
    let handle = server.handle();
    let s = &prepared.state;
    let worker = tokio::spawn(mail::run_worker(
        s.db.clone(),
        s.composer.clone(),
        transport,
        prepared.mail_retry,
        s.mail_queued.clone(),
    ));
    let sealer = tokio::spawn(run_sealer(s.db.clone()));
    let server = tokio::spawn(server);
    Ok(Running { addr, handle, server, worker, sealer })
}
