//! The `TestApp` builder and the helpers the scenarios are written with.
//!
//! A `TestApp` is the real service (`epa_panel::prepare` + `epa_panel::start` on 127.0.0.1:0)
//! on a database of its own: a SQLite file in a temp dir, or a fresh PostgreSQL database
//! `epa_test_<uuid>` created through `EPA_TEST_POSTGRES_URL` and dropped when the app is. Outcome
//! emails go to an SMTP server running inside the test process (or, with `Mail::Files`, to `.eml`
//! files). The first admin is created through the service layer before the server starts; every
//! other step goes through the HTTP API as the contract (API.md) describes it.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, RwLock};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use epa_panel::config::Config;
use epa_panel::services::people::{create_user, NewUser};
use epa_panel::services::Input;
use serde_json::{json, Value};

/// The standard the panel-guides folder ships, used unless a scenario imports another.
pub const STANDARD: &str = "senior-housing-property-management-l4";
/// Its title, as outcome emails must name it.
pub const STANDARD_TITLE: &str = "Senior Housing/Property Management";

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Writes a scenario once and runs it on both backends:
/// `both_backends!(name, |app| async move { … });` or, with options,
/// `both_backends!(name, Options::files(), |app| async move { … });`.
/// `app` is a `&mut TestApp`; the server is stopped and the database dropped afterwards.
macro_rules! both_backends {
    ($name:ident, |$app:ident| async move $body:block) => {
        both_backends!($name, $crate::app::Options::default(), |$app| async move $body);
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

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub mail: Mail,
}

impl Options {
    pub fn files() -> Self {
        Options { mail: Mail::Files }
    }
}

fn init_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // RUST_LOG=epa_panel=debug shows the server's log beside a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    });
}

// ---------------------------------------------------------------- PostgreSQL

/// A database of one test's own, dropped (with its connections) when this value is.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// None (after saying so, loudly) when no PostgreSQL answers and `CI` is not set.
    fn create() -> Option<PgDatabase> {
        let admin_url = std::env::var("EPA_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_string());
        let mut conn = match diesel::PgConnection::establish(&admin_url) {
            Ok(conn) => conn,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("no PostgreSQL at {admin_url} ({e}), and CI is set: the PostgreSQL tests must run")
            }
            Err(e) => {
                eprintln!("SKIPPED (no PostgreSQL at {admin_url}): {e}");
                return None;
            }
        };
        let name = format!("epa_test_{}", uuid::Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let (head, query) = match admin_url.split_once('?') {
            Some((h, q)) => (h, format!("?{q}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = match head.rfind('/') {
            Some(slash) if slash > head.find("://").map_or(0, |s| s + 2) => &head[..slash],
            _ => head,
        };
        let url = format!("{server}/{name}{query}");
        Some(PgDatabase { admin_url, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        match diesel::PgConnection::establish(&self.admin_url) {
            Ok(mut conn) => {
                if let Err(e) =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn)
                {
                    eprintln!("could not drop the test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("could not drop the test database {}: {e}", self.name),
        }
    }
}

// ---------------------------------------------------------------- SMTP

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// A real SMTP server (mailin-embedded) on 127.0.0.1, port chosen by the OS, keeping every message
/// it receives. It has no shutdown: its thread ends with the test process.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
}

#[derive(Clone)]
struct SinkHandler {
    inbox: Arc<Mutex<Vec<Received>>>,
    refusing: Arc<AtomicBool>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SinkHandler {
    fn rcpt(&mut self, _to: &str) -> mailin_embedded::Response {
        if self.refusing.load(Ordering::SeqCst) {
            // 451: a transient failure the sender should retry.
            return mailin_embedded::response::INTERNAL_ERROR;
        }
        mailin_embedded::response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        self.to = to.iter().map(|t| t.trim_matches(|c| c == '<' || c == '>').to_lowercase()).collect();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let message = Received { to: std::mem::take(&mut self.to), raw: std::mem::take(&mut self.data) };
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).push(message);
        mailin_embedded::response::OK
    }
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test SMTP server");
        let port = listener.local_addr().expect("SMTP address").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(false));
        let handler =
            SinkHandler { inbox: inbox.clone(), refusing: refusing.clone(), to: Vec::new(), data: Vec::new() };
        let mut server = mailin_embedded::Server::new(handler);
        server
            .with_name("sink.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("SMTP without TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name(format!("smtp-sink-{port}"))
            .spawn(move || {
                if let Err(e) = server.serve() {
                    eprintln!("test SMTP server stopped: {e}");
                }
            })
            .expect("start the SMTP thread");
        SmtpSink { port, inbox, refusing }
    }

    /// While set, every recipient is refused with a transient 451.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// An outcome email, decoded (quoted-printable/base64 parts, encoded subject).
#[derive(Debug, Clone)]
pub struct Email {
    /// Envelope recipients (SMTP) or the `To:` header (files), lowercased.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    pub fn parse(envelope_to: Option<Vec<String>>, raw: &[u8]) -> Email {
        let message = mail_parser::MessageParser::default().parse(raw).expect("an email that parses");
        let to = envelope_to.unwrap_or_else(|| {
            message
                .to()
                .map(|a| a.iter().filter_map(|addr| addr.address()).map(str::to_lowercase).collect())
                .unwrap_or_default()
        });
        Email {
            to,
            subject: message.subject().unwrap_or_default().to_string(),
            text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        }
    }

    /// Subject, text and HTML together, for "does it say …" checks.
    pub fn all_text(&self) -> String {
        format!("{}\n{}\n{}", self.subject, self.text, self.html)
    }
}

// ---------------------------------------------------------------- HTTP clients

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

/// The contract's error body `{"error": {"code", "message"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// One caller of the API: a bearer token (or none) against the running server. Clones share the
/// server address, which a restart updates.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Arc<RwLock<String>>,
    token: Option<String>,
}

impl Client {
    /// Sends one request; `body` is (content type, bytes).
    pub async fn send(&self, method: &str, path: &str, body: Option<(&str, Vec<u8>)>) -> Response {
        let url = format!("{}{}", self.base.read().unwrap_or_else(|p| p.into_inner()), path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("Content-Type", content_type).body(bytes);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let text = response.text().await.unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
        Response { status, content_type, text }
    }

    /// Sends JSON (`Value::Null`: no body), checks the status, and returns the JSON answer. On a
    /// 4xx it also checks the contract's error shape.
    pub async fn expect(&self, status: u16, method: &str, path: &str, body: Value) -> Value {
        let payload = (!body.is_null()).then(|| ("application/json", serde_json::to_vec(&body).expect("JSON")));
        let response = self.send(method, path, payload).await;
        assert_eq!(
            response.status, status,
            "{method} {path} with {body}: expected {status}, got {} {}",
            response.status, response.text
        );
        if (400..500).contains(&status) {
            let e = error_of(method, path, &response);
            return json!({"error": {"code": e.code, "message": e.message}});
        }
        if response.text.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&response.text)
            .unwrap_or_else(|e| panic!("{method} {path}: the answer is not JSON ({e}): {}", response.text))
    }

    /// Expects a refusal with `status` and returns its code and message.
    pub async fn refused(&self, status: u16, method: &str, path: &str, body: Value) -> ApiError {
        assert!((400..500).contains(&status), "refused() is for 4xx answers");
        let v = self.expect(status, method, path, body).await;
        ApiError {
            code: v["error"]["code"].as_str().unwrap_or_default().to_string(),
            message: v["error"]["message"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// Sends a raw body (e.g. a TOML guide) and returns the raw answer; 4xx answers are checked
    /// for the error shape.
    pub async fn expect_raw(&self, status: u16, method: &str, path: &str, content_type: &str, body: &str) -> Response {
        let response = self.send(method, path, Some((content_type, body.as_bytes().to_vec()))).await;
        assert_eq!(
            response.status, status,
            "{method} {path}: expected {status}, got {} {}",
            response.status, response.text
        );
        if (400..500).contains(&status) {
            error_of(method, path, &response);
        }
        response
    }

    pub async fn get(&self, path: &str) -> Value {
        self.expect(200, "GET", path, Value::Null).await
    }

    /// GET of a CSV report: 200, `text/csv`, parsed into a header and rows.
    pub async fn csv(&self, path: &str) -> Csv {
        let response = self.send("GET", path, None).await;
        assert_eq!(response.status, 200, "GET {path}: {}", response.text);
        assert!(response.content_type.starts_with("text/csv"), "GET {path}: Content-Type {:?}", response.content_type);
        Csv::parse(&response.text)
    }
}

/// Checks the contract's error shape and returns it.
fn error_of(method: &str, path: &str, response: &Response) -> ApiError {
    let v: Value = serde_json::from_str(&response.text).unwrap_or_else(|e| {
        panic!("{method} {path}: a {} must carry a JSON error body ({e}): {:?}", response.status, response.text)
    });
    let code = v["error"]["code"].as_str().unwrap_or_default();
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "{method} {path}: error.code must be snake_case: {v}"
    );
    assert!(!message.trim().is_empty(), "{method} {path}: error.message must say something: {v}");
    ApiError { code: code.to_string(), message: message.to_string() }
}

/// A CSV report: its header and its rows as column → value maps.
#[derive(Debug, Clone)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<BTreeMap<String, String>>,
}

impl Csv {
    pub fn parse(text: &str) -> Csv {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("a CSV header row").iter().map(str::to_string).collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.expect("a CSV record");
                header.iter().cloned().zip(r.iter().map(str::to_string)).collect()
            })
            .collect();
        Csv { header, rows }
    }

    /// The rows whose `column` is `value`.
    pub fn rows_where(&self, column: &str, value: &str) -> Vec<&BTreeMap<String, String>> {
        self.rows.iter().filter(|r| r.get(column).map(String::as_str) == Some(value)).collect()
    }
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
    // Dropped after the server has stopped (see Drop), in this order.
    _pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts the service on `backend`; None when PostgreSQL is wanted but absent (outside CI).
    pub async fn start(backend: Backend, options: Options) -> Option<TestApp> {
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
        let smtp = (options.mail == Mail::Smtp).then(SmtpSink::start);
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
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("a valid test configuration");
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

    /// Waits (up to 10 s) until at least `n` emails have arrived, then a little longer to catch
    /// any extra ones, and returns them all.
    pub async fn wait_for_emails(&self, n: usize) -> Vec<Email> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.emails().len() < n && Instant::now() < deadline {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        self.emails()
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

/// A user made by `admin` through the API, with a client for their token from `client_for`.
pub async fn member_through(
    admin: &Client,
    email: &str,
    name: &str,
    role: &str,
    organisation_id: &str,
    client_for: impl Fn(&str) -> Client,
) -> Member {
    let u = admin
        .expect(
            201,
            "POST",
            "/api/v1/users",
            json!({"email": email, "name": name, "role": role, "organisation_id": organisation_id}),
        )
        .await;
    assert_eq!(u["role"], role, "{u}");
    let token = u["token"].as_str().unwrap_or_else(|| panic!("a new user has a token: {u}"));
    Member { id: id_of(&u), name: name.to_string(), email: email.to_string(), client: client_for(token) }
}

/// Organisations, people and an apprentice for one panel (number `n`), made by `admin` through
/// the API on whatever server it talks to; `client_for` makes each person's client.
pub async fn people_through(admin: &Client, n: usize, names: &Names, client_for: impl Fn(&str) -> Client) -> People {
    let org = |name: String, kind: &'static str| async move {
        let o = admin.expect(201, "POST", "/api/v1/organisations", json!({"name": name, "kind": kind})).await;
        assert_eq!(o["kind"], kind, "organisation echoes its kind: {o}");
        id_of(&o)
    };
    let employer_id = org(format!("Northgate Homes {n}"), "employer").await;
    let provider_id = org(format!("Riverside Training {n}"), "training_provider").await;
    let body_id = org(format!("Fair EPA {n}"), "assessment_body").await;
    let f = &client_for;
    let lm =
        member_through(admin, &format!("lena{n}@northgate.test"), &names.line_manager, "line_manager", &employer_id, f)
            .await;
    let tp = member_through(
        admin,
        &format!("tom{n}@riverside.test"),
        &names.training_provider,
        "training_provider",
        &provider_id,
        f,
    )
    .await;
    let ia =
        member_through(admin, &format!("iris{n}@fairepa.test"), &names.assessor, "independent_assessor", &body_id, f)
            .await;
    let insider = member_through(
        admin,
        &format!("ivan{n}@northgate.test"),
        "Ivan Insider",
        "independent_assessor",
        &employer_id,
        f,
    )
    .await;
    let provider_insider = member_through(
        admin,
        &format!("paula{n}@riverside.test"),
        "Paula Provider",
        "independent_assessor",
        &provider_id,
        f,
    )
    .await;
    let moderator =
        member_through(admin, &format!("max{n}@fairepa.test"), "Max Moderator", "moderator", &body_id, f).await;
    let email = format!("amy{n}@northgate.test");
    let a = admin
        .expect(
            201,
            "POST",
            "/api/v1/apprentices",
            json!({"name": names.apprentice, "email": email, "employer_id": employer_id, "training_provider_id": provider_id}),
        )
        .await;
    let apprentice = Apprentice { id: id_of(&a), name: names.apprentice.clone(), email };
    People {
        admin: admin.clone(),
        employer_id,
        provider_id,
        body_id,
        lm,
        tp,
        ia,
        insider,
        provider_insider,
        moderator,
        apprentice,
    }
}

pub fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        Value::Null => panic!("no id in {v}"),
        other => other.to_string(),
    }
}

/// The names the people of a panel get (some scenarios need awkward ones).
#[derive(Debug, Clone)]
pub struct Names {
    pub apprentice: String,
    pub line_manager: String,
    pub training_provider: String,
    pub assessor: String,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            apprentice: "Amy Apprentice".into(),
            line_manager: "Lena Line".into(),
            training_provider: "Tom Tutor".into(),
            assessor: "Iris Independent".into(),
        }
    }
}

/// A user and their client.
#[derive(Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    pub client: Client,
}

impl std::ops::Deref for Member {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

#[derive(Debug, Clone)]
pub struct Apprentice {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// One apprentice's people: the employer's line manager, the provider's tutor, an independent
/// assessor from the assessment body, two insiders who may not be independent, a moderator.
#[derive(Clone)]
pub struct People {
    pub admin: Client,
    pub employer_id: String,
    pub provider_id: String,
    pub body_id: String,
    pub lm: Member,
    pub tp: Member,
    pub ia: Member,
    /// An independent assessor who works for the apprentice's employer.
    pub insider: Member,
    /// An independent assessor who works for the apprentice's training provider.
    pub provider_insider: Member,
    pub moderator: Member,
    pub apprentice: Apprentice,
}

impl People {
    /// Registers an assessment of `standard` for this apprentice.
    pub async fn register(self, app: &TestApp, standard: &str) -> Panel {
        let a = self
            .admin
            .expect(
                201,
                "POST",
                "/api/v1/assessments",
                json!({"apprentice_id": self.apprentice.id, "standard_id": standard,
                       "line_manager_id": self.lm.id, "training_provider_user_id": self.tp.id}),
            )
            .await;
        assert_eq!(a["status"], "registered", "{a}");
        let standard = app.standard(standard).await;
        Panel { id: id_of(&a), standard, people: self }
    }
}

/// A (component, criterion) pair each panel member scores.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    pub component: String,
    pub criterion: String,
}

impl Item {
    pub fn new(component: &str, criterion: &str) -> Item {
        Item { component: component.into(), criterion: criterion.into() }
    }
}

/// A standard as the API shows it.
#[derive(Debug, Clone)]
pub struct Standard {
    pub version: String,
    pub items: Vec<Item>,
    pub weights: BTreeMap<String, f64>,
}

impl Standard {
    /// Σ weight/100 × mean agreed score of the component's items, computed here by hand.
    pub fn weighted(&self, agreed: &Sheet) -> f64 {
        self.weights
            .iter()
            .map(|(component, weight)| {
                let scores: Vec<f64> =
                    agreed.iter().filter(|(k, _)| &k.component == component).map(|(_, v)| *v as f64).collect();
                weight / 100.0 * scores.iter().sum::<f64>() / scores.len() as f64
            })
            .sum()
    }
}

/// One member's scores (or the agreed scores), item by item.
pub type Sheet = BTreeMap<Item, i64>;

/// Every item at `score`.
pub fn sheet(items: &[Item], score: i64) -> Sheet {
    items.iter().map(|i| (i.clone(), score)).collect()
}

/// `sheet` with some items changed.
pub fn with(mut sheet: Sheet, changes: &[(&Item, i64)]) -> Sheet {
    for (item, score) in changes {
        sheet.insert((*item).clone(), *score);
    }
    sheet
}

/// The body of `PUT /scores`.
pub fn scores_body(sheet: &Sheet, submit: bool) -> Value {
    let scores: Vec<Value> =
        sheet.iter().map(|(i, s)| json!({"component": i.component, "criterion": i.criterion, "score": s})).collect();
    json!({"scores": scores, "submit": submit})
}

/// One consensus item: `None` records a deadlock.
pub fn agreed(item: &Item, score: Option<i64>, rationale: &str) -> Value {
    json!({"component": item.component, "criterion": item.criterion, "agreed_score": score, "rationale": rationale})
}

/// Gateway answers where every check holds.
pub fn gateway_met() -> Value {
    json!({"portfolio_complete": true, "knowledge_route": "qualification",
           "knowledge_reference": "CIH Level 4 Certificate in Managing Housing Maintenance 603/1433/3",
           "english_level2": true, "maths_level2": true, "employer_ready": true, "provider_ready": true})
}

/// One apprentice's EPA and everyone on it.
#[derive(Clone)]
pub struct Panel {
    pub id: String,
    pub standard: Standard,
    pub people: People,
}

impl std::ops::Deref for Panel {
    type Target = People;

    fn deref(&self) -> &People {
        &self.people
    }
}

impl Panel {
    /// `/api/v1/assessments/{id}` + `sub`.
    pub fn path(&self, sub: &str) -> String {
        format!("/api/v1/assessments/{}{}", self.id, sub)
    }

    pub fn items(&self) -> &[Item] {
        &self.standard.items
    }

    /// `GET /assessments/{id}` as admin.
    pub async fn view(&self) -> Value {
        self.admin.get(&self.path("")).await
    }

    pub async fn status(&self) -> String {
        self.view().await["status"].as_str().unwrap_or_default().to_string()
    }

    pub async fn pass_gateway(&self) {
        let g = self.lm.expect(200, "PUT", &self.path("/gateway"), gateway_met()).await;
        assert_eq!(g["status"], "gateway_passed", "{g}");
        assert_eq!(g["unmet"], json!([]), "{g}");
    }

    /// The body of `PUT /panel` for `assessor`.
    pub fn panel_body(&self, assessor: &Member) -> Value {
        json!({"independent_assessor_id": assessor.id, "viva_at": "2026-12-01T10:00:00Z", "mode": "in_person"})
    }

    pub async fn appoint(&self) {
        let p = self.admin.expect(200, "PUT", &self.path("/panel"), self.panel_body(&self.ia)).await;
        assert_eq!(p["status"], "scheduled", "{p}");
    }

    pub async fn declare(&self) {
        self.ia
            .expect(200, "PUT", &self.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
            .await;
    }

    /// Saves (and maybe submits) `who`'s sheet: 200 expected.
    pub async fn save(&self, who: &Member, sheet: &Sheet, submit: bool) -> Value {
        let r = who.expect(200, "PUT", &self.path("/scores"), scores_body(sheet, submit)).await;
        assert_eq!(r["submitted"], submit, "{r}");
        r
    }

    /// All three sheets submitted: the assessment moves to `consensus`.
    pub async fn submit_all(&self, lm: &Sheet, tp: &Sheet, ia: &Sheet) {
        self.save(&self.lm, lm, true).await;
        self.save(&self.tp, tp, true).await;
        self.save(&self.ia, ia, true).await;
        assert_eq!(self.status().await, "consensus");
    }

    pub async fn record_viva(&self) {
        self.ia
            .expect(
                200,
                "PUT",
                &self.path("/viva-record"),
                json!({"questions": [{"question": "How did you involve tenants in the change?",
                                      "response": "Two resident panels and a survey of 140 households."}]}),
            )
            .await;
    }

    /// The independent assessor records the consensus: 200 expected.
    pub async fn agree(&self, items: Vec<Value>, notes: &str) -> Value {
        self.ia.expect(200, "PUT", &self.path("/consensus"), json!({"items": items, "notes": notes})).await
    }

    /// The independent assessor records the decision: 200 expected.
    pub async fn decide(&self) -> Value {
        self.ia.expect(200, "POST", &self.path("/decision"), json!({"notes": "Decided on the day."})).await
    }

    pub async fn moderate(&self, action: &str, rationale: &str) -> Value {
        self.moderator
            .expect(200, "POST", &self.path("/moderation"), json!({"action": action, "rationale": rationale}))
            .await
    }

    /// The agreed scores of a decision's `items`.
    pub fn agreed_of(decision: &Value) -> BTreeMap<Item, (i64, String)> {
        decision["items"]
            .as_array()
            .unwrap_or_else(|| panic!("decision items: {decision}"))
            .iter()
            .map(|i| {
                (
                    Item::new(i["component"].as_str().expect("component"), i["criterion"].as_str().expect("criterion")),
                    (
                        i["agreed_score"].as_i64().expect("agreed_score"),
                        i["decided_by"].as_str().expect("decided_by").to_string(),
                    ),
                )
            })
            .collect()
    }

    /// Polls `GET /assessments/{id}` (up to 10 s) until every email has `status`; returns them.
    pub async fn wait_for_email_status(&self, status: &str) -> Vec<Value> {
        self.wait_for_email_status_within(status, Duration::from_secs(10)).await
    }

    pub async fn wait_for_email_status_within(&self, status: &str, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let emails = self.view().await["emails"].as_array().cloned().unwrap_or_default();
            let done = !emails.is_empty() && emails.iter().all(|e| e["status"] == status);
            if done || Instant::now() > deadline {
                return emails;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scores, decides and releases with everyone scoring `score` on every item.
    pub async fn release_unanimous(&self, score: i64) -> Value {
        let s = sheet(self.items(), score);
        self.submit_all(&s, &s, &s).await;
        self.record_viva().await;
        let d = self.decide().await;
        self.moderate("confirm", "Due process followed.").await;
        d
    }
}

// ---------------------------------------------------------------- for the browser tests

impl TestApp {
    /// The server's address, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A connection of the test's own to the app's database.
    pub fn connect(&self) -> epa_panel::db::DbConnection {
        self.config.database_url.connect().expect("a connection to the app's database")
    }
}

// ---------------------------------------------------------------- for the fault-tolerance tests

/// A fresh PostgreSQL database of a test's own, dropped (with its connections) with this value.
pub struct FreshPostgres(PgDatabase);

impl FreshPostgres {
    /// None (after saying so, loudly) when no PostgreSQL answers and `CI` is not set.
    pub fn create() -> Option<FreshPostgres> {
        init_once();
        PgDatabase::create().map(FreshPostgres)
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }
}

impl Client {
    /// A caller with `token` against the server at `base` (e.g. `http://127.0.0.1:40123`).
    pub fn at(base: &str, token: Option<&str>) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        Client { http, base: Arc::new(RwLock::new(base.to_string())), token: token.map(str::to_string) }
    }

    /// The same caller (same token) against another server at `base`.
    pub fn on(&self, base: &str) -> Client {
        Client { http: self.http.clone(), base: Arc::new(RwLock::new(base.to_string())), token: self.token.clone() }
    }

    /// The bearer token this caller sends.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
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
