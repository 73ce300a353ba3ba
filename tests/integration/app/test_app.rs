//! The `TestApp`: the real service on a database of its own, started through a builder
//! (`TestApp::builder(backend).with_config(|c| …).start()`), with its mail sink, its clients, and
//! the people and panels a scenario needs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once, RwLock};
use std::time::{Duration, Instant};

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use epa_panel::config::Config;
use epa_panel::mail::{deliver_due, Transport};
use epa_panel::services::people::{create_user, NewUser};
use epa_panel::services::Input;
use serde_json::{json, Value};

use super::postgres::PgDatabase;
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where outcome emails go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mail {
    /// `EPA_SMTP_URL` points at an SMTP server inside the test process.
    #[default]
    Smtp,
    /// `EPA_SMTP_URL` unset: `.eml` files in `EPA_MAIL_DIR`.
    Files,
}

/// The old way to start a `TestApp` (`TestApp::start(backend, Options::default())`), kept for the
/// scenarios written with it; `TestApp::builder` says the same and more.
#[allow(dead_code, reason = "kept for scenarios written on other branches with TestApp::start")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub mail: Mail,
}

#[allow(dead_code, reason = "kept for scenarios written on other branches with TestApp::start")]
impl Options {
    pub fn files() -> Self {
        Options { mail: Mail::Files }
    }
}

/// One change to the configuration a `TestApp` starts with.
type ConfigChange = Box<dyn FnOnce(&mut Config)>;

/// How a `TestApp` starts: `TestApp::builder(backend).with_config(|c| …).start().await`.
#[must_use = "a builder does nothing until `start`"]
pub struct TestAppBuilder {
    backend: Backend,
    mail: Mail,
    changes: Vec<ConfigChange>,
}

impl TestAppBuilder {
    /// Outcome emails as `.eml` files in `EPA_MAIL_DIR` instead of the SMTP sink.
    pub fn mail_to_files(mut self) -> Self {
        self.mail = Mail::Files;
        self
    }

    /// Changes the configuration the server starts with (after the test's defaults: database,
    /// mail, guides); kept for restarts. Several calls apply in order.
    pub fn with_config(mut self, change: impl FnOnce(&mut Config) + 'static) -> Self {
        self.changes.push(Box::new(change));
        self
    }

    /// Starts the service; None when PostgreSQL is wanted but absent (outside CI).
    pub async fn start(self) -> Option<TestApp> {
        TestApp::start_built(self).await
    }
}

pub(super) fn init_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // RUST_LOG=epa_panel=debug shows the server's log beside a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    });
}

// ---------------------------------------------------------------- the app

/// The running service on a database of its own.
pub struct TestApp {
    config: Config,
    running: Option<epa_panel::Running>,
    base: Arc<RwLock<String>>,
    http: reqwest::Client,
    /// The first admin, created before the server started.
    pub admin: Client,
    pub smtp: Option<SmtpSink>,
    pub mail_dir: PathBuf,
    counter: AtomicUsize,
    /// The running server's state: its database pool and email composer, for `deliver_now`.
    state: actix_web::web::Data<epa_panel::web::AppState>,
    // Dropped after the server has stopped (see Drop), in this order.
    _pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// How the service starts on `backend`: change its configuration, then `start()`.
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder { backend, mail: Mail::Smtp, changes: Vec::new() }
    }

    /// Starts the service on `backend` with `options`; None when PostgreSQL is wanted but absent
    /// (outside CI). The same as `TestApp::builder`.
    #[allow(dead_code, reason = "kept for scenarios written on other branches before the builder")]
    pub async fn start(backend: Backend, options: Options) -> Option<TestApp> {
        let builder = TestApp::builder(backend);
        match options.mail {
            Mail::Smtp => builder.start().await,
            Mail::Files => builder.mail_to_files().start().await,
        }
    }

    async fn start_built(builder: TestAppBuilder) -> Option<TestApp> {
        let TestAppBuilder { backend, mail, changes } = builder;
        init_once();
        let dir = tempfile::tempdir().expect("a temp dir");
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create()?),
        };
        let database_url = match &pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", dir.path().join("t.db").display()),
        };
        let mail_dir = dir.path().join("outbox");
        let smtp = (mail == Mail::Smtp).then(SmtpSink::start);
        let guides = Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides");
        let mut vars: HashMap<&str, String> = HashMap::new();
        vars.insert("EPA_DATABASE_URL", database_url);
        vars.insert("EPA_MAIL_DIR", mail_dir.display().to_string());
        vars.insert("EPA_GUIDES_DIR", guides.display().to_string());
        vars.insert("EPA_MAIL_FROM", "results@fairepa.test".to_string());
        vars.insert("EPA_PG_POOL_SIZE", "4".to_string());
        if let Some(smtp) = &smtp {
            vars.insert("EPA_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp.port));
        }
        let mut config = Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid test configuration");
        for change in changes {
            change(&mut config);
        }
        let prepared = epa_panel::prepare(&config).expect("prepare the service");
        let admin_token = {
            let mut conn = prepared.state.db.conn().expect("a connection for the first admin");
            let new = NewUser {
                email: "ada@fairepa.test".into(),
                name: "Ada Admin".into(),
                role: "admin".into(),
                organisation_id: None,
            };
            let (_, token) = create_user(&mut conn, None, Input::from(new)).expect("create the first admin");
            token
        };
        let state = prepared.state.clone();
        let running = epa_panel::start(prepared, "127.0.0.1:0").expect("start the service");
        let base = Arc::new(RwLock::new(format!("http://{}", running.addr)));
        // No idle keep-alive connections: a graceful stop (restart) need not wait for them.
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let admin = Client { http: http.clone(), base: base.clone(), token: Some(admin_token) };
        Some(TestApp {
            config,
            running: Some(running),
            base,
            http,
            admin,
            smtp,
            mail_dir,
            counter: AtomicUsize::new(0),
            state,
            _pg: pg,
            _dir: dir,
        })
    }

    /// A client with `token` (None: no Authorization header).
    pub fn client(&self, token: Option<&str>) -> Client {
        Client { http: self.http.clone(), base: self.base.clone(), token: token.map(str::to_string) }
    }

    /// Stops the server and starts a new one on the same database, mail sink and config.
    pub async fn restart(&mut self) {
        let running = self.running.take().expect("the server is running");
        running.stop().await;
        let prepared = epa_panel::prepare(&self.config).expect("prepare the service again");
        self.state = prepared.state.clone();
        let running = epa_panel::start(prepared, "127.0.0.1:0").expect("start the service again");
        *self.base.write().unwrap_or_else(|p| p.into_inner()) = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// Revokes a user's token the way the CLI does (on a connection of its own).
    pub fn revoke(&self, email: &str) {
        let mut conn = self.config.database_url.connect().expect("a connection to revoke a token");
        epa_panel::services::people::revoke(&mut conn, email).expect("revoke the token");
    }

    /// Stops the server; the database goes with the app.
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    // ---- mail

    /// Every outcome email delivered so far (SMTP inbox, or `.eml` files in EPA_MAIL_DIR).
    pub fn emails(&self) -> Vec<Email> {
        match &self.smtp {
            Some(smtp) => smtp.received().iter().map(|m| Email::parse(Some(m.to.clone()), &m.raw)).collect(),
            None => {
                self.eml_files().iter().map(|p| Email::parse(None, &std::fs::read(p).expect("read .eml"))).collect()
            }
        }
    }

    /// The `.eml` files in EPA_MAIL_DIR (not the temporary ones).
    pub fn eml_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        files.sort();
        files
    }

    /// Waits (up to 10 s) until at least `n` emails have arrived, then delivers whatever else is
    /// due (`deliver_now`), so that an extra email shows, and returns them all.
    pub async fn wait_for_emails(&self, n: usize) -> Vec<Email> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.emails().len() < n && Instant::now() < deadline {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        self.deliver_now().await;
        self.emails()
    }

    /// Runs the outbox worker's pass now, in the test, on the app's database with its
    /// configuration: every message due is delivered (or its failed attempt recorded) before this
    /// returns, and so is any message a server's own worker was sending. Afterwards nothing more is
    /// sent until something new causes it (a release, a resend, a retry's back-off running out):
    /// a scenario asserts "nothing (more) was sent" right after it, without waiting. Returns how
    /// many attempts this pass made itself.
    pub async fn deliver_now(&self) -> usize {
        deliver_now_on(&self.state, &self.config).await
    }

    /// `deliver_now` for another server on this app's configuration as changed by `change` (e.g.
    /// the database a copy went to), with an outbox pass of its own on that database.
    pub async fn deliver_now_with(&self, change: impl FnOnce(&mut Config)) -> usize {
        let mut config = self.config.clone();
        change(&mut config);
        let prepared = epa_panel::prepare(&config).expect("prepare an outbox pass");
        deliver_now_on(&prepared.state, &config).await
    }

    // ---- people and standards

    /// Organisations, people and an apprentice for one panel, made through the API by the admin.
    pub async fn people(&self, names: Names) -> People {
        people_through(&self.admin, self.next(), &names, |token| self.client(Some(token))).await
    }

    /// Another apprentice of the same employer and provider (for a second assessment of the same
    /// panel people).
    pub async fn apprentice(&self, name: &str, employer_id: &str, provider_id: &str) -> Apprentice {
        let email = format!("apprentice{}@northgate.test", self.next());
        let a = self
            .admin
            .expect(
                201,
                "POST",
                "/api/v1/apprentices",
                json!({"name": name, "email": email, "employer_id": employer_id, "training_provider_id": provider_id}),
            )
            .await;
        Apprentice { id: id_of(&a), name: name.to_string(), email }
    }

    /// Creates a user through the API (as admin).
    pub async fn user(&self, email: &str, name: &str, role: &str, organisation_id: &str) -> Member {
        member_through(&self.admin, email, name, role, organisation_id, |token| self.client(Some(token))).await
    }

    /// A guide's score items and weights, from `GET /standards/{id}`.
    pub async fn standard(&self, id: &str) -> Standard {
        let s = self.admin.get(&format!("/api/v1/standards/{id}")).await;
        let items = s["score_items"]
            .as_array()
            .unwrap_or_else(|| panic!("score_items: {s}"))
            .iter()
            .map(|i| {
                Item::new(i["component"].as_str().expect("component"), i["criterion"].as_str().expect("criterion"))
            })
            .collect();
        let weights = s["components"]
            .as_array()
            .unwrap_or_else(|| panic!("components: {s}"))
            .iter()
            .map(|c| (c["id"].as_str().expect("id").to_string(), c["weight"].as_f64().expect("weight")))
            .collect();
        Standard { version: s["version"].as_str().unwrap_or_default().to_string(), items, weights }
    }

    /// An assessment of `standard` for new people, just registered.
    pub async fn registered_for(&self, standard: &str, names: Names) -> Panel {
        let people = self.people(names).await;
        people.register(self, standard).await
    }

    /// A registered assessment of the default standard.
    pub async fn registered(&self) -> Panel {
        self.registered_for(STANDARD, Names::default()).await
    }

    /// An assessment through the gateway, panel appointed, independence declared: `scheduled`.
    pub async fn panel(&self) -> Panel {
        self.panel_for(STANDARD, Names::default()).await
    }

    /// A panel that has decided on unanimous 3s, not yet moderated: `decided`.
    pub async fn decided(&self) -> Panel {
        let panel = self.panel().await;
        panel.decide_unanimous(3).await;
        panel
    }

    /// An independent assessor who belongs to no organisation (so no conflict check can clear
    /// them); returns their id.
    pub async fn assessor_without_organisation(&self, email: &str) -> String {
        let body = serde_json::json!({"email": email, "name": "Lone Assessor", "role": "independent_assessor"});
        id_of(&self.admin.expect(201, "POST", "/api/v1/users", body).await)
    }

    pub async fn panel_for(&self, standard: &str, names: Names) -> Panel {
        let panel = self.registered_for(standard, names).await;
        panel.pass_gateway().await;
        panel.appoint().await;
        panel.declare().await;
        assert_eq!(panel.status().await, "scheduled");
        panel
    }

    /// Imports a panel guide (TOML) as admin; returns the status (200 or 201) and the body.
    pub async fn import_guide(&self, toml: &str) -> (u16, Value) {
        let r =
            self.admin.send("POST", "/api/v1/standards", Some(("application/toml", toml.as_bytes().to_vec()))).await;
        assert!(r.status == 200 || r.status == 201, "POST /standards: {} {}", r.status, r.text);
        (r.status, serde_json::from_str(&r.text).expect("JSON"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Only when a scenario panicked: stop without waiting, before the database is dropped.
        if let Some(running) = self.running.take() {
            // The stop command is sent by the call itself; its future only awaits completion.
            drop(running.handle.stop(false));
            running.worker.abort();
            running.server.abort();
        }
    }
}

// ---------------------------------------------------------------- for the browser tests

impl TestApp {
    /// The server's address, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The running server's database pools (to count check-outs and statements, or to hold
    /// the writer).
    pub fn db(&self) -> &epa_panel::db::Db {
        &self.state.db
    }

    /// A connection of the test's own to the app's database.
    pub fn connect(&self) -> epa_panel::db::DbConnection {
        self.config.database_url.connect().expect("a connection to the app's database")
    }
}

impl TestApp {
    /// The app's database URL as `EPA_DATABASE_URL` would name it.
    pub fn database_url(&self) -> String {
        match &self._pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self._dir.path().join("t.db").display()),
        }
    }

    /// Starts another server (with an outbox worker of its own) on 127.0.0.1:0 with this app's
    /// configuration as changed by `change` (e.g. another SMTP URL or lease); the caller stops it.
    pub fn start_another(&self, change: impl FnOnce(&mut Config)) -> epa_panel::Running {
        let mut config = self.config.clone();
        change(&mut config);
        let prepared = epa_panel::prepare(&config).expect("prepare another server");
        epa_panel::start(prepared, "127.0.0.1:0").expect("start another server")
    }

    /// Stops this app's own server (and its outbox worker) but keeps the database.
    pub async fn stop_server(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

impl TestApp {
    /// Stops the server and starts a new one on the same database with the configuration as
    /// changed by `change` (kept for later restarts); every client follows the new address.
    pub async fn restart_with(&mut self, change: impl FnOnce(&mut Config)) {
        change(&mut self.config);
        self.restart().await;
    }
}

/// See `TestApp::deliver_now`: the worker's pass with `state`'s database and composer and
/// `config`'s transport and retry policy, repeated until nothing is due and no worker holds a
/// message.
async fn deliver_now_on(state: &epa_panel::web::AppState, config: &Config) -> usize {
    let transport =
        Transport::from_config(config.smtp_url.as_deref(), config.mail_dir.clone(), config.mail_retry.lease)
            .expect("the app's mail transport");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tried = 0;
    loop {
        loop {
            let n =
                deliver_due(&state.db, &state.composer, &transport, config.mail_retry).await.expect("an outbox pass");
            tried += n;
            if n == 0 {
                break;
            }
        }
        // A message another worker holds (its lease not yet run out) is being sent: wait for its end.
        let held = held_in_outbox(config);
        if held == 0 {
            return tried;
        }
        assert!(Instant::now() < deadline, "{held} outbox message(s) still being sent after 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Outbox messages a worker is sending now (pending, with a lease that has not run out).
fn held_in_outbox(config: &Config) -> i64 {
    use epa_panel::db::schema::outbox;
    let mut conn = config.database_url.connect().expect("a connection to the app's database");
    outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::locked_until.ge(epa_panel::db::now()))
        .count()
        .get_result(&mut conn)
        .expect("count the outbox messages being sent")
}
