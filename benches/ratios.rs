//! The product against the engine under it, as issue 13's table measures it: for SQLite and
//! PostgreSQL, in ONE run each, product and raw engine interleaved (A, B, A, B… rounds), with an
//! fsync probe before and after that marks the run VOID when its p99 moved more than 3×.
//!
//!     cargo bench --bench ratios                       # SQLite, and PostgreSQL on 127.0.0.1:5432
//!     EPA_BENCH_BACKENDS=sqlite cargo bench --bench ratios
//!     EPA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench ratios
//!     EPA_BENCH_CSV_ROWS=9000000 EPA_BENCH_SECS=5 cargo bench --bench ratios
//!     EPA_BENCH_ONLY=csv,during cargo bench --bench ratios   # some parts only (saves, list, csv, during)
//!
//! The product is the real binary (`epa-panel serve`, the bench profile's release build) as a
//! child process with its own temporary database, reached over loopback HTTP. The engine is
//! diesel's `sql_query` on its own connections doing the statements the product issues, with
//! the product's pragmas. Large databases are built by SQL replication (INSERT … SELECT with new
//! ids) of a simulated history (`epa-panel simulate`), not by API calls. The helpers' tests:
//! `cargo test --test bench_helpers`. See the README's "Performance" section.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot go on should stop loudly, naming what failed"
)]

#[path = "ratios/stats.rs"]
mod stats;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use serde_json::{json, Value};

use stats::{ms, percentile, rate, Row, Target};

const BIN: &str = env!("CARGO_BIN_EXE_epa-panel");
const GUIDES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides");
const STANDARD: &str = "senior-housing-property-management-l4";
/// The product's SQLite pragmas (`db::DatabaseUrl::connect`), used by the engine too.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// The run's settings, from `EPA_BENCH_*`.
struct Settings {
    secs: f64,
    rounds: usize,
    clients: Vec<usize>,
    open_secs: f64,
    open_connections: usize,
    list: usize,
    csv_rows: u64,
    export_save_rate: f64,
    simulate: usize,
    /// The parts to run (`EPA_BENCH_ONLY=saves,list,csv,during`; all by default).
    only: Vec<String>,
}

impl Settings {
    fn from_env() -> Self {
        let clients = std::env::var("EPA_BENCH_CLIENTS")
            .ok()
            .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect::<Vec<usize>>())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| vec![1, 8, 32]);
        Settings {
            secs: env_num("EPA_BENCH_SECS", 3.0),
            rounds: env_num("EPA_BENCH_ROUNDS", 3).max(1),
            clients,
            open_secs: env_num("EPA_BENCH_OPEN_SECS", 8.0),
            open_connections: env_num("EPA_BENCH_OPEN_CONNECTIONS", 200).max(1),
            list: env_num("EPA_BENCH_LIST", 10_000),
            csv_rows: env_num("EPA_BENCH_CSV_ROWS", 1_000_000),
            export_save_rate: env_num("EPA_BENCH_EXPORT_SAVE_RATE", 50.0),
            simulate: env_num("EPA_BENCH_SIMULATE", 12).max(1),
            only: stats::parts(std::env::var("EPA_BENCH_ONLY").ok().as_deref())
                .unwrap_or_else(|e| panic!("EPA_BENCH_ONLY: {e}")),
        }
    }

    /// Whether `part` runs (one of [`stats::PARTS`]).
    fn runs(&self, part: &str) -> bool {
        debug_assert!(stats::PARTS.contains(&part));
        self.only.iter().any(|p| p == part)
    }
}

// ---------------------------------------------------------------------------------------------
// The machine and the fsync probe

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("nproc {cpus}, {model}, load average {}", load.join(" "))
}

/// p99 of `n` timed writes of 4 KiB + fdatasync of a small file in `dir`.
fn fsync_probe(dir: &Path, n: usize) -> Duration {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("fsync probe file");
    let block = [0x5a_u8; 4096];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&block).expect("probe write");
        f.sync_data().expect("probe fsync");
        times.push(t.elapsed());
    }
    drop(f);
    let _ = std::fs::remove_file(path);
    percentile(&times, 99.0).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The product: the real binary as a child process

struct Product {
    dir: PathBuf,
    database_url: String,
    child: Option<Child>,
    base: String,
}

impl Product {
    fn new(dir: &Path, database_url: &str) -> Self {
        Product { dir: dir.to_path_buf(), database_url: database_url.into(), child: None, base: String::new() }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("EPA_DATABASE_URL", &self.database_url)
            .env("EPA_GUIDES_DIR", GUIDES)
            .env("EPA_MAIL_DIR", self.dir.join("outbox"))
            .env_remove("EPA_SMTP_URL")
            .env_remove("EPA_AUDIT_KEY");
        c
    }

    /// Runs a CLI command to the end and returns its standard output.
    fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).stdin(Stdio::null()).output().expect("run epa-panel");
        assert!(out.status.success(), "epa-panel {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `epa-panel serve` on a free loopback port (a fresh process: its peak RSS starts
    /// afresh) and waits until `/healthz` answers.
    async fn start(&mut self) {
        self.stop();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("server.log")).unwrap();
        let child = self
            .command()
            .arg("serve")
            .env("EPA_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start epa-panel serve");
        self.child = Some(child);
        self.base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("epa-panel serve exited with {status}; see {}", self.dir.join("server.log").display());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "epa-panel serve did not answer /healthz in 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// The server's peak resident set so far (`VmHWM`), in kB.
    fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        stats::vm_hwm_kb(&status).unwrap_or(0)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Product {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (status, v) = self.send(method, path, Some(&body)).await;
        assert!(status < 300, "{path}: {status} {v}");
        v
    }
}

fn http_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder().no_proxy().pool_max_idle_per_host(connections).build().unwrap()
}

/// One scorer with their own scheduled assessment: who saves, where, and the engine's ids.
#[derive(Clone)]
struct Scorer {
    token: String,
    token_hash: String,
    user_id: String,
    assessment_id: String,
}

/// `n` assessments ready for scores (gateway passed, panel appointed, declaration made), made
/// through the API; each line manager saves a first draft so that every sheet exists.
async fn scorers(admin: &Api, n: usize, body: &Value) -> Vec<Scorer> {
    use reqwest::Method;
    let org = |name: &str, kind: &str| json!({"name": name, "kind": kind});
    let employer =
        admin.ok(Method::POST, "/api/v1/organisations", org("Bench Employer", "employer")).await["id"].clone();
    let provider =
        admin.ok(Method::POST, "/api/v1/organisations", org("Bench Provider", "training_provider")).await["id"].clone();
    let abody =
        admin.ok(Method::POST, "/api/v1/organisations", org("Bench Body", "assessment_body")).await["id"].clone();
    let mut out = Vec::new();
    for p in 0..n {
        let user = |role: &'static str, org: Value| {
            let admin = admin.clone();
            async move {
                let u = admin
                    .ok(Method::POST, "/api/v1/users", json!({"email": format!("{role}{p}@bench.test"), "name": format!("{role} {p}"), "role": role, "organisation_id": org}))
                    .await;
                (u["id"].as_str().unwrap().to_string(), u["token"].as_str().unwrap().to_string())
            }
        };
        let (lm_id, lm_token) = user("line_manager", employer.clone()).await;
        let (tp_id, _) = user("training_provider", provider.clone()).await;
        let (ia_id, ia_token) = user("independent_assessor", abody.clone()).await;
        let appr = admin
            .ok(Method::POST, "/api/v1/apprentices", json!({"name": format!("Bench Apprentice {p}"), "email": format!("ba{p}@bench.test"), "employer_id": employer, "training_provider_id": provider}))
            .await;
        let a = admin
            .ok(Method::POST, "/api/v1/assessments", json!({"apprentice_id": appr["id"], "standard_id": STANDARD, "line_manager_id": lm_id, "training_provider_user_id": tp_id}))
            .await;
        let id = a["id"].as_str().unwrap().to_string();
        let lm = Api { token: lm_token.clone(), ..admin.clone() };
        let ia = Api { token: ia_token, ..admin.clone() };
        let gate = json!({"portfolio_complete": true, "knowledge_route": "qualification", "knowledge_reference": "CIH L4", "english_level2": true, "maths_level2": true, "employer_ready": true, "provider_ready": true});
        lm.ok(Method::PUT, &format!("/api/v1/assessments/{id}/gateway"), gate).await;
        admin
            .ok(
                Method::PUT,
                &format!("/api/v1/assessments/{id}/panel"),
                json!({"independent_assessor_id": ia_id, "viva_at": "2026-12-01T10:00:00Z", "mode": "video"}),
            )
            .await;
        ia.ok(
            Method::PUT,
            &format!("/api/v1/assessments/{id}/declaration"),
            json!({"no_prior_involvement": true, "conflicts": "none"}),
        )
        .await;
        lm.ok(Method::PUT, &format!("/api/v1/assessments/{id}/scores"), body.clone()).await;
        out.push(Scorer { token: lm_token, token_hash: String::new(), user_id: lm_id, assessment_id: id });
    }
    out
}

/// Closed loop: `n` clients save drafts back to back for `secs`; answered saves a second.
async fn product_saves(
    http: &reqwest::Client,
    base: &str,
    scorers: &[Scorer],
    n: usize,
    secs: f64,
    body: &Arc<String>,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let s = scorers[i % scorers.len()].clone();
        let (http, body, done) = (http.clone(), body.clone(), done.clone());
        let url = format!("{base}/api/v1/assessments/{}/scores", s.assessment_id);
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let r = http
                    .put(&url)
                    .bearer_auth(&s.token)
                    .header("content-type", "application/json")
                    .body(body.as_bytes().to_vec())
                    .send()
                    .await
                    .expect("save");
                let status = r.status();
                let _ = r.bytes().await;
                assert!(status.is_success(), "draft save answered {status}");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Open loop: saves due at `rate` a second for `secs` over `connections` connections; each
/// latency is measured from the save's intended send time (coordinated omission corrected).
async fn open_loop_saves(
    base: &str,
    scorers: &[Scorer],
    rate: f64,
    secs: f64,
    connections: usize,
    body: &Arc<String>,
) -> Vec<Duration> {
    let total = stats::schedule_len(rate, secs);
    let http = http_client(connections);
    let next = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (http, body, next) = (http.clone(), body.clone(), next.clone());
        let scorers = scorers.to_vec();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return lat;
                }
                let due = start + stats::intended_offset(i, rate);
                tokio::time::sleep_until(due).await;
                let s = &scorers[(i as usize + c) % scorers.len()];
                let r = http
                    .put(format!("{base}/api/v1/assessments/{}/scores", s.assessment_id))
                    .bearer_auth(&s.token)
                    .header("content-type", "application/json")
                    .body(body.as_bytes().to_vec())
                    .send()
                    .await
                    .expect("save");
                let status = r.status();
                let _ = r.bytes().await;
                assert!(status.is_success(), "draft save answered {status}");
                lat.push(due.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Time to the first byte and to the whole body, and the body's lines.
async fn timed_get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> (Duration, Duration, u64, Vec<u8>) {
    let t = Instant::now();
    let mut resp = http.get(format!("{base}{path}")).bearer_auth(token).send().await.expect("GET");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    let mut first = None;
    let mut lines = 0;
    let mut body = Vec::new();
    let keep = !path.contains(".csv");
    while let Some(chunk) = resp.chunk().await.expect("body") {
        first.get_or_insert_with(|| t.elapsed());
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if keep {
            body.extend_from_slice(&chunk);
        }
    }
    (first.unwrap_or_else(|| t.elapsed()), t.elapsed(), lines, body)
}

// ---------------------------------------------------------------------------------------------
// The engine: diesel's sql_query on its own connections

enum Engine {
    Lite(SqliteConnection),
    Pg(PgConnection),
}

/// `?` placeholders as PostgreSQL's `$1, $2, …`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

macro_rules! exec {
    ($e:expr, $sql:expr $(, $t:ty => $v:expr)*) => {{
        let sql: &str = $sql;
        match $e {
            Engine::Lite(c) => diesel::sql_query(sql)$(.bind::<$t, _>($v))*.execute(c),
            Engine::Pg(c) => diesel::sql_query(numbered(sql))$(.bind::<$t, _>($v))*.execute(c),
        }
        .expect(sql)
    }};
}

macro_rules! load {
    ($e:expr, $row:ty, $sql:expr $(, $t:ty => $v:expr)*) => {{
        let sql: &str = $sql;
        match $e {
            Engine::Lite(c) => diesel::sql_query(sql)$(.bind::<$t, _>($v))*.load::<$row>(c),
            Engine::Pg(c) => diesel::sql_query(numbered(sql))$(.bind::<$t, _>($v))*.load::<$row>(c),
        }
        .expect(sql)
    }};
}

impl Engine {
    fn connect(url: &str) -> Engine {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut c = SqliteConnection::establish(path).expect("engine: sqlite");
            c.batch_execute(SQLITE_PRAGMAS).expect("engine: pragmas");
            Engine::Lite(c)
        } else {
            Engine::Pg(PgConnection::establish(url).expect("engine: postgres"))
        }
    }

    fn batch(&mut self, sql: &str) {
        match self {
            Engine::Lite(c) => c.batch_execute(sql),
            Engine::Pg(c) => c.batch_execute(sql),
        }
        .expect(sql);
    }
}

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read as the product reads them, then dropped")]
struct UserQ {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Text>)]
    organisation_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    token_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    revoked_at: Option<String>,
    #[diesel(sql_type = Text)]
    created_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    disabled_at: Option<String>,
}
const USER_COLS: &str = "id, email, name, role, organisation_id, token_hash, revoked_at, created_at, disabled_at";

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read as the product reads them, then dropped")]
struct AssessmentQ {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    apprentice_id: String,
    #[diesel(sql_type = Text)]
    standard_id: String,
    #[diesel(sql_type = Text)]
    standard_version: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    line_manager_id: String,
    #[diesel(sql_type = Text)]
    training_provider_user_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    independent_assessor_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    viva_at: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    viva_mode: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    gateway_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    declaration_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    viva_record_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    consensus_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    decision_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    grade: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    weighted_score: Option<f64>,
    #[diesel(sql_type = Nullable<Text>)]
    decided_at: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    released_at: Option<String>,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    created_at: String,
    #[diesel(sql_type = Text)]
    updated_at: String,
}
const ASSESSMENT_COLS: &str = "id, apprentice_id, standard_id, standard_version, status, line_manager_id, training_provider_user_id, independent_assessor_id, viva_at, viva_mode, gateway_json, declaration_json, viva_record_json, consensus_json, decision_json, grade, weighted_score, decided_at, released_at, version, created_at, updated_at";

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read as the product reads them, then dropped")]
struct SheetQ {
    #[diesel(sql_type = Text)]
    assessment_id: String,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    seat: String,
    #[diesel(sql_type = Text)]
    scores_json: String,
    #[diesel(sql_type = Nullable<Text>)]
    submitted_at: Option<String>,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Text)]
    updated_at: String,
}
const SHEET_COLS: &str = "assessment_id, user_id, seat, scores_json, submitted_at, version, updated_at";

#[derive(QueryableByName)]
struct HeadQ {
    #[diesel(sql_type = Text)]
    last_hash: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TokenHash {
    #[diesel(sql_type = Nullable<Text>)]
    token_hash: Option<String>,
}

/// How the engine appends the save's audit entry: as the product does now (`Chain`: the
/// assessment's own chain, under the row lock the change already holds; `seq` from the sequence
/// on PostgreSQL, one past the newest on SQLite), or as it did before the chains
/// (`GlobalHead`: every writer locks, reads and updates the one `audit_head` row), kept as the
/// figure issue 13 measured against.
/// The seqs of the engine's `GlobalHead` entries: far above the product's, one counter for the run.
static ENGINE_SEQ: AtomicI64 = AtomicI64::new(1 << 40);

#[derive(Clone, Copy, PartialEq, Eq)]
enum AuditScheme {
    Chain,
    GlobalHead,
}

#[derive(QueryableByName)]
struct TailQ {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    hash: String,
}

/// The statements of one draft save, as the product issues them (`web::AppState::run_as`,
/// `services::change::change_with`, `save_scores`, `db::sheets::put_score_sheet`,
/// `db::audit::append_audit`): the caller by token, then in one transaction the row lock
/// (PostgreSQL), the assessment, its sheets, the sheet's update, and the audit entry appended by
/// `scheme`. Keep it in step with those functions when they change.
fn engine_save(e: &mut Engine, s: &Scorer, scores_json: &str, scheme: AuditScheme) {
    let _user = load!(e, UserQ, &format!("SELECT {USER_COLS} FROM users WHERE token_hash = ?"), Text => &s.token_hash);
    // several engine connections write at once: take SQLite's write lock up front (the product
    // has one connection, so its deferred BEGIN never waits)
    e.batch(if matches!(e, Engine::Lite(_)) { "BEGIN IMMEDIATE" } else { "BEGIN" });
    if matches!(e, Engine::Pg(_)) {
        exec!(e, "SELECT id FROM assessments WHERE id = ? FOR UPDATE", Text => &s.assessment_id);
    }
    let _a = load!(e, AssessmentQ, &format!("SELECT {ASSESSMENT_COLS} FROM assessments WHERE id = ?"), Text => &s.assessment_id);
    let sheets = load!(e, SheetQ, &format!("SELECT {SHEET_COLS} FROM score_sheets WHERE assessment_id = ?"), Text => &s.assessment_id);
    let version = sheets.iter().find(|x| x.user_id == s.user_id).map_or(0, |x| x.version) + 1;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    exec!(e, "UPDATE score_sheets SET assessment_id = ?, user_id = ?, seat = ?, scores_json = ?, submitted_at = ?, version = ?, updated_at = ? WHERE assessment_id = ? AND user_id = ?",
        Text => &s.assessment_id, Text => &s.user_id, Text => "line_manager", Text => scores_json,
        Nullable<Text> => None::<String>, BigInt => version, Text => &at, Text => &s.assessment_id, Text => &s.user_id);
    let detail = r#"{"items_saved":25,"missing":0,"seat":"line_manager","submitted":false}"#;
    let (action, actor) = ("score_sheet.saved", Some(s.user_id.as_str()));
    match scheme {
        AuditScheme::Chain => {
            let chain = epa_panel::domain::audit::chain_of(Some(&s.assessment_id));
            let tail = load!(e, TailQ, "SELECT seq, hash FROM audit_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1", Text => chain);
            let prev = tail.first().map_or_else(String::new, |t| t.hash.clone());
            let seq = match e {
                Engine::Pg(_) => {
                    load!(e, TailQ, "SELECT nextval(pg_get_serial_sequence('audit_entries', 'seq')) AS seq, '' AS hash")
                        [0]
                    .seq
                }
                Engine::Lite(_) => {
                    load!(e, TailQ, "SELECT COALESCE(MAX(seq), 0) + 1 AS seq, '' AS hash FROM audit_entries")[0].seq
                }
            };
            let hash = epa_panel::domain::audit::chained_hash(
                chain,
                &prev,
                seq,
                Some(&s.assessment_id),
                &at,
                actor,
                action,
                detail,
            );
            exec!(e, "INSERT INTO audit_entries (seq, assessment_id, at, actor_id, action, detail, prev_hash, hash, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                BigInt => seq, Nullable<Text> => Some(&s.assessment_id), Text => &at, Nullable<Text> => actor,
                Text => action, Text => detail, Text => &prev, Text => &hash, Nullable<Text> => Some(chain));
        }
        AuditScheme::GlobalHead => {
            // The head row stays the product's (it heads the seal chain now): the engine reads and
            // rewrites it with its own values, so its entries go in the engine's own chain.
            exec!(e, "UPDATE audit_head SET last_seq = last_seq WHERE id = ?", diesel::sql_types::Integer => 1);
            let h = load!(e, HeadQ, "SELECT last_hash FROM audit_head WHERE id = ?", diesel::sql_types::Integer => 1);
            let (seq, prev) = (ENGINE_SEQ.fetch_add(1, Ordering::Relaxed), h[0].last_hash.clone());
            let hash = epa_panel::domain::audit::chained_hash(
                "engine",
                &prev,
                seq,
                Some(&s.assessment_id),
                &at,
                actor,
                action,
                detail,
            );
            exec!(e, "INSERT INTO audit_entries (seq, assessment_id, at, actor_id, action, detail, prev_hash, hash, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                BigInt => seq, Nullable<Text> => Some(&s.assessment_id), Text => &at, Nullable<Text> => actor,
                Text => action, Text => detail, Text => &prev, Text => &hash, Nullable<Text> => Some("engine"));
            exec!(e, "UPDATE audit_head SET last_seq = last_seq, last_hash = last_hash WHERE id = ?", diesel::sql_types::Integer => 1);
        }
    }
    e.batch("COMMIT");
}

/// Closed loop on the engine: `n` threads, each on its own connection, save back to back for
/// `secs`; transactions a second.
fn engine_saves(url: &str, scorers: &[Scorer], n: usize, secs: f64, scores_json: &str, scheme: AuditScheme) -> f64 {
    let done = AtomicU64::new(0);
    let go = AtomicBool::new(false);
    let mut started = Instant::now();
    std::thread::scope(|scope| {
        for i in 0..n {
            let s = scorers[i % scorers.len()].clone();
            let (done, go) = (&done, &go);
            scope.spawn(move || {
                let mut e = Engine::connect(url);
                while !go.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let deadline = Instant::now() + Duration::from_secs_f64(secs);
                while Instant::now() < deadline {
                    engine_save(&mut e, &s, scores_json, scheme);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // every thread connected first; the clock runs from the start signal to the last one's end
        std::thread::sleep(Duration::from_millis(200));
        started = Instant::now();
        go.store(true, Ordering::Release);
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[derive(QueryableByName)]
#[expect(dead_code, reason = "read as the list reads them, then dropped")]
struct ListJoinQ {
    #[diesel(embed)]
    a: AssessmentQ,
    #[diesel(sql_type = Text)]
    apprentice_name: String,
    #[diesel(sql_type = Text)]
    apprentice_email: String,
    #[diesel(sql_type = Text)]
    employer_id: String,
    #[diesel(sql_type = Text)]
    training_provider_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    sheet_user: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sheet_submitted_at: Option<String>,
}

/// An assessment of a listed page as the bench's walk reads it: its id (the rest is skipped).
#[derive(serde::Deserialize)]
struct ListedId {
    id: String,
}

/// The list's floor: every assessment with its apprentice and its sheets' state, one join.
fn engine_list(e: &mut Engine) -> (Duration, usize) {
    let cols: String = ASSESSMENT_COLS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, p.name AS apprentice_name, p.email AS apprentice_email, p.employer_id, p.training_provider_id, \
         s.user_id AS sheet_user, s.submitted_at AS sheet_submitted_at \
         FROM assessments a JOIN apprentices p ON p.id = a.apprentice_id \
         LEFT JOIN score_sheets s ON s.assessment_id = a.id ORDER BY a.id"
    );
    let t = Instant::now();
    let rows = load!(e, ListJoinQ, &sql);
    (t.elapsed(), rows.len())
}

#[derive(QueryableByName)]
struct ScanQ {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    standard_id: String,
    #[diesel(sql_type = Text)]
    apprentice_id: String,
    #[diesel(sql_type = Text)]
    employer_id: String,
    #[diesel(sql_type = Text)]
    training_provider_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    independent_assessor_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    decided_at: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    consensus_json: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    grade: Option<String>,
    #[diesel(sql_type = Text)]
    seat: String,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    scores_json: String,
}

#[derive(serde::Deserialize)]
#[expect(dead_code, reason = "parsed as a report reads them")]
struct ScoreItem<'a> {
    #[serde(borrow)]
    component: &'a str,
    #[serde(borrow)]
    criterion: &'a str,
    score: i64,
}

/// The export's floor: the same rows read straight from the engine (each submitted sheet of a
/// decided or released assessment, with its assessment and apprentice) and each sheet's items
/// parsed without copying; returns the time and the score rows.
fn engine_scan(e: &mut Engine) -> (Duration, u64) {
    let t = Instant::now();
    let rows = load!(
        e,
        ScanQ,
        "SELECT a.id, a.standard_id, a.apprentice_id, p.employer_id, p.training_provider_id, a.independent_assessor_id, \
         a.decided_at, a.consensus_json, a.grade, s.seat, s.user_id, s.scores_json \
         FROM assessments a JOIN apprentices p ON p.id = a.apprentice_id \
         JOIN score_sheets s ON s.assessment_id = a.id \
         WHERE a.status IN ('decided', 'released') AND s.submitted_at IS NOT NULL ORDER BY a.id"
    );
    let mut items = 0u64;
    let mut bytes = 0usize;
    for r in &rows {
        let parsed: Vec<ScoreItem<'_>> = serde_json::from_str(&r.scores_json).unwrap_or_default();
        items += parsed.len() as u64;
        bytes += r.id.len()
            + r.standard_id.len()
            + r.apprentice_id.len()
            + r.employer_id.len()
            + r.training_provider_id.len()
            + r.independent_assessor_id.as_deref().map_or(0, str::len)
            + r.decided_at.as_deref().map_or(0, str::len)
            + r.consensus_json.as_deref().map_or(0, str::len)
            + r.grade.as_deref().map_or(0, str::len)
            + r.seat.len()
            + r.user_id.len();
    }
    std::hint::black_box(bytes);
    (t.elapsed(), items)
}

fn count(e: &mut Engine, sql: &str) -> i64 {
    load!(e, Count, sql)[0].n
}

// ---------------------------------------------------------------------------------------------
// Growing the database by SQL replication

/// Replicates the simulated decided/released assessments (rows and score sheets, with new ids
/// `<id>-r<k>`) until at least `target` assessments in `status_filter` exist. Returns the
/// number of them after.
struct Grower {
    next_k: i64,
}

impl Grower {
    fn grow(&mut self, e: &mut Engine, decided_target: i64) -> i64 {
        let decided = "status IN ('decided', 'released')";
        let originals =
            count(e, &format!("SELECT COUNT(*) AS n FROM assessments WHERE {decided} AND id NOT LIKE '%-r%'"));
        assert!(originals > 0, "the simulated history has no decided assessments to replicate");
        let now = count(e, &format!("SELECT COUNT(*) AS n FROM assessments WHERE {decided}"));
        if now >= decided_target {
            return now;
        }
        let copies = (decided_target - now + originals - 1) / originals;
        let (k0, k1) = (self.next_k, self.next_k + copies - 1);
        self.next_k = k1 + 1;
        let series = format!(
            "(WITH RECURSIVE n(k) AS (SELECT {k0} UNION ALL SELECT k + 1 FROM n WHERE k < {k1}) SELECT k FROM n) r"
        );
        let new_id = |col: &str| format!("{col} || '-r' || CAST(r.k AS TEXT)");
        let a_cols: Vec<String> =
            ASSESSMENT_COLS.split(", ").map(|c| if c == "id" { new_id("a.id") } else { format!("a.{c}") }).collect();
        let s_cols: Vec<String> = SHEET_COLS
            .split(", ")
            .map(|c| if c == "assessment_id" { new_id("s.assessment_id") } else { format!("s.{c}") })
            .collect();
        e.batch("BEGIN");
        e.batch(&format!(
            "INSERT INTO assessments ({ASSESSMENT_COLS}) SELECT {} FROM assessments a CROSS JOIN {series} \
             WHERE a.{decided} AND a.id NOT LIKE '%-r%'",
            a_cols.join(", ")
        ));
        e.batch(&format!(
            "INSERT INTO score_sheets ({SHEET_COLS}) SELECT {} FROM score_sheets s \
             JOIN assessments a ON a.id = s.assessment_id CROSS JOIN {series} \
             WHERE a.{decided} AND a.id NOT LIKE '%-r%'",
            s_cols.join(", ")
        ));
        e.batch("COMMIT");
        if let Engine::Pg(_) = e {
            e.batch("ANALYZE");
        }
        count(e, &format!("SELECT COUNT(*) AS n FROM assessments WHERE {decided}"))
    }
}

// ---------------------------------------------------------------------------------------------
// One backend's run

struct Backend {
    name: &'static str,
    url: String,
    /// For PostgreSQL: the server URL to drop the temporary database from, and its name.
    drop: Option<(String, String)>,
}

fn postgres_backend() -> Option<Backend> {
    let admin_url = std::env::var("EPA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = match PgConnection::establish(&admin_url) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ratios: PostgreSQL skipped (cannot connect to {}: {e})", epa_panel::db::redact(&admin_url));
            return None;
        }
    };
    let name = format!("epa_bench_{}", std::process::id());
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).expect("drop an old bench database");
    conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the bench database");
    let (head, _) = admin_url.rsplit_once('/').expect("a postgres URL with a database name");
    Some(Backend { name: "PostgreSQL", url: format!("{head}/{name}"), drop: Some((admin_url, name)) })
}

fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(mut c) = PgConnection::establish(admin_url) {
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

fn run_backend(rt: &tokio::runtime::Runtime, cfg: &Settings, b: &Backend, dir: &Path) -> (Vec<Row>, Vec<String>) {
    let pg = b.drop.is_some();
    let tag = if pg { "PG" } else { "SQLite" };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut product = Product::new(dir, &b.url);
    let say = |m: String| eprintln!("ratios [{}]: {m}", b.name);

    // A simulated history to replicate, an admin, then the server.
    let t = Instant::now();
    product.cli(&["migrate"]);
    product.cli(&["simulate", "--epas", &cfg.simulate.to_string(), "--months", "6"]);
    let admin: Value = serde_json::from_str(
        product
            .cli(&["user", "add", "--email", "bench-admin@bench.test", "--name", "Bench Admin", "--role", "admin"])
            .trim(),
    )
    .expect("user add prints JSON");
    let admin_token = admin["token"].as_str().unwrap().to_string();
    say(format!("simulated {} EPAs in {:.1}s", cfg.simulate, t.elapsed().as_secs_f64()));
    let mut engine = Engine::connect(&b.url);
    let max_clients = cfg.clients.iter().copied().max().unwrap_or(1);

    rt.block_on(async {
        product.start().await;
        let http = http_client(256);
        let api = Api { http: http.clone(), base: product.base.clone(), token: admin_token.clone() };
        let standard = api.ok(reqwest::Method::GET, &format!("/api/v1/standards/{STANDARD}"), Value::Null).await;
        let items: Vec<Value> = standard["score_items"]
            .as_array()
            .expect("score items")
            .iter()
            .enumerate()
            .map(|(i, it)| json!({"component": it["component"], "criterion": it["criterion"], "score": 1 + i % 5}))
            .collect();
        let n_items = items.len();
        let body = json!({"scores": items, "submit": false});
        let body_text = Arc::new(body.to_string());
        // the sheet as stored: what the engine writes
        let stored: Vec<Value> = items
            .iter()
            .map(|i| json!({"component": i["component"], "criterion": i["criterion"], "score": i["score"], "comment": null}))
            .collect();
        let scores_json = serde_json::to_string(&stored).unwrap();

        let t = Instant::now();
        let mut scorers = scorers(&api, max_clients.max(8), &body).await;
        for s in &mut scorers {
            let h = load!(&mut engine, TokenHash, "SELECT token_hash FROM users WHERE id = ?", Text => &s.user_id);
            s.token_hash = h[0].token_hash.clone().expect("a token hash");
        }
        say(format!("{} scorers ready in {:.1}s", scorers.len(), t.elapsed().as_secs_f64()));

        // 1. Draft saves, closed loop, product and engine interleaved.
        let mut max_rate: f64 = 0.0;
        for &n in cfg.clients.iter().filter(|_| cfg.runs("saves")) {
            let (mut p, mut e, mut e_head) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..cfg.rounds {
                p.push(product_saves(&http, &product.base, &scorers, n, cfg.secs, &body_text).await);
                e.push(engine_saves(&b.url, &scorers, n, cfg.secs, &scores_json, AuditScheme::Chain));
                if pg {
                    e_head.push(engine_saves(&b.url, &scorers, n, cfg.secs, &scores_json, AuditScheme::GlobalHead));
                }
            }
            let (p, e) = (stats::median(&p), stats::median(&e));
            max_rate = max_rate.max(p);
            say(format!("saves at {n} clients: product {p:.0}/s, engine {e:.0}/s"));
            if pg {
                // The engine replays the product's chain append (no global row): the issue's
                // target is 0.8 of the engine without the head row. The old global-head scheme is
                // shown beside it for comparison.
                let h = stats::median(&e_head);
                rows.push(
                    Row::new(
                        format!("{tag}: draft save ({n_items} items), {n} client(s), req/s"),
                        rate(p),
                        format!("{} tx/s ({} with the old global head row)", rate(e), rate(h)),
                    )
                    .checked(p / e.max(1e-9), Target::AtLeast(0.8)),
                );
                notes.push(format!("{tag} {n} client(s): product/engine with the old head row = {:.2}", p / h.max(1e-9)));
            } else {
                rows.push(
                    Row::new(format!("{tag}: draft save ({n_items} items), {n} client(s), req/s"), rate(p), format!("{} tx/s", rate(e)))
                        .checked(p / e.max(1e-9), Target::AtLeast(0.7)),
                );
            }
        }

        // 2. p99 at a fixed 50 % of the maximum rate, open loop, many connections.
        if cfg.runs("saves") {
            let fixed = (max_rate * 0.5).max(1.0);
            let lat = open_loop_saves(&product.base, &scorers, fixed, cfg.open_secs, cfg.open_connections, &body_text).await;
            let (p50, p99) = (percentile(&lat, 50.0).unwrap_or_default(), percentile(&lat, 99.0).unwrap_or_default());
            say(format!("open loop at {fixed:.0}/s: p50 {} p99 {}", ms(p50), ms(p99)));
            let row = Row::new(
                format!("{tag}: save p99 at 50 % of max ({fixed:.0}/s), {} connections, open loop", cfg.open_connections),
                format!("p99 {} (p50 {})", ms(p99), ms(p50)),
                "—",
            );
            rows.push(if pg { row } else { row.checked(p99.as_secs_f64() * 1e3, Target::MillisAtMost(25.0)) });
        }

        // 4a. scores.csv at N/10 rows on a fresh server (its own peak RSS).
        let per_assessment = (n_items as i64) * 3;
        let mut grower = Grower { next_k: 1 };
        let small_rows = (cfg.csv_rows / 10).max(1) as i64;
        let (mut small_lines, mut small_peak) = (0, 0);
        if cfg.runs("csv") {
            grower.grow(&mut engine, (small_rows + per_assessment - 1) / per_assessment);
            product.start().await;
            let mut small_times = Vec::new();
            for _ in 0..cfg.rounds.min(2) {
                let (_, total, lines, _) = timed_get(&http, &product.base, &admin_token, "/api/v1/reports/scores.csv").await;
                small_lines = lines.saturating_sub(1);
                small_times.push(total.as_secs_f64());
            }
            small_peak = product.peak_rss_kb();
            say(format!("scores.csv at {small_lines} rows: {:.2}s, peak RSS {} MB", stats::median(&small_times), small_peak / 1024));
        }

        // 3. The list with `list` visible, paged and whole, against one join.
        if cfg.runs("list") {
            let total_now = count(&mut engine, "SELECT COUNT(*) AS n FROM assessments");
            let decided_now = count(&mut engine, "SELECT COUNT(*) AS n FROM assessments WHERE status IN ('decided', 'released')");
            grower.grow(&mut engine, decided_now + (cfg.list as i64 - total_now).max(0));
            let visible = count(&mut engine, "SELECT COUNT(*) AS n FROM assessments");
            let (mut whole, mut paged, mut join) = (Vec::new(), Vec::new(), Vec::new());
            let mut paged_count = 0;
            for _ in 0..cfg.rounds {
                let (_, t_whole, _, _) = timed_get(&http, &product.base, &admin_token, "/api/v1/assessments").await;
                whole.push(t_whole.as_secs_f64());
                let (jt, _) = engine_list(&mut engine);
                join.push(jt.as_secs_f64());
                // Only the GETs are timed (each body read whole); the client's reading of a page's
                // ids, for the next page's `after`, is not the product's work and falls outside.
                let mut walk = Duration::ZERO;
                let mut after: Option<String> = None;
                paged_count = 0;
                loop {
                    let path = match &after {
                        Some(a) => format!("/api/v1/assessments?limit=500&after={a}"),
                        None => "/api/v1/assessments?limit=500".to_string(),
                    };
                    let (_, t_page, _, page) = timed_get(&http, &product.base, &admin_token, &path).await;
                    walk += t_page;
                    let page: Vec<ListedId> = serde_json::from_slice(&page).expect("a page of assessments");
                    paged_count += page.len();
                    if page.len() < 500 || page.len() > 500 || paged_count >= visible as usize {
                        break;
                    }
                    after = page.last().map(|a| a.id.clone());
                }
                paged.push(walk.as_secs_f64());
            }
            let (whole, paged, join) = (stats::median(&whole), stats::median(&paged), stats::median(&join));
            say(format!("list of {visible}: whole {whole:.3}s, paged {paged:.3}s ({paged_count} walked), join {join:.3}s"));
            rows.push(
                Row::new(format!("{tag}: GET /api/v1/assessments, {visible} visible, walked by ?limit=500"), format!("{:.0} ms", paged * 1e3), format!("one join: {:.0} ms", join * 1e3))
                    .checked(paged / join.max(1e-9), Target::AtMost(1.5)),
            );
            rows.push(
                Row::new(format!("{tag}: GET /api/v1/assessments, {visible} visible, whole list"), format!("{:.0} ms", whole * 1e3), format!("one join: {:.0} ms", join * 1e3))
                    .checked(whole / join.max(1e-9), Target::None),
            );
        }

        // 4b. scores.csv at N rows on a fresh server, against the scan floor, interleaved.
        grower.grow(&mut engine, (cfg.csv_rows as i64 + per_assessment - 1) / per_assessment);
        product.start().await;
        let (mut csv_secs, mut csv_lines) = (0.0, 0);
        if cfg.runs("csv") {
            let (mut csv, mut first, mut scan) = (Vec::new(), Vec::new(), Vec::new());
            let mut scan_rows = 0;
            for _ in 0..cfg.rounds {
                let (fb, total, lines, _) = timed_get(&http, &product.base, &admin_token, "/api/v1/reports/scores.csv").await;
                csv.push(total.as_secs_f64());
                first.push(fb.as_secs_f64());
                csv_lines = lines.saturating_sub(1);
                let (st, n) = engine_scan(&mut engine);
                scan.push(st.as_secs_f64());
                scan_rows = n;
            }
            let peak = product.peak_rss_kb();
            let (csv, first, scan) = (stats::median(&csv), stats::median(&first), stats::median(&scan));
            csv_secs = csv;
            say(format!("scores.csv at {csv_lines} rows: {csv:.2}s (first byte {first:.3}s), floor {scan:.2}s ({scan_rows} rows), peak RSS {} MB", peak / 1024));
            if csv_lines != scan_rows {
                notes.push(format!("{tag}: scores.csv wrote {csv_lines} rows, the floor read {scan_rows} score items"));
            }
            rows.push(
                Row::new(format!("{tag}: scores.csv, {csv_lines} rows"), format!("{csv:.2} s, first byte {:.0} ms", first * 1e3), format!("scan floor: {scan:.2} s"))
                    .checked(csv / scan.max(1e-9), Target::AtMost(2.0)),
            );
            let extra_mb = (peak as f64 - small_peak as f64) / 1024.0;
            rows.push(
                Row::new(
                    format!("{tag}: scores.csv peak RSS at {csv_lines} vs {small_lines} rows"),
                    format!("{:.0} MB vs {:.0} MB", peak as f64 / 1024.0, small_peak as f64 / 1024.0),
                    "—",
                )
                .checked(extra_mb, Target::PlusMegabytes(16.0)),
            );
        }

        // 5. Saves on other assessments while that export runs, against idle.
        if cfg.runs("during") {
            // At least 5 s (exports run back to back all through it): at 50 saves a second a
            // window of one 1 s export held some 50 saves, so its p99 was their slowest one.
            let export_secs = csv_secs.max(5.0);
            let idle = open_loop_saves(&product.base, &scorers, cfg.export_save_rate, export_secs, 8, &body_text).await;
            let running = Arc::new(AtomicBool::new(true));
            let exporter = {
                let (http, base, token, running) = (http.clone(), product.base.clone(), admin_token.clone(), running.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while running.load(Ordering::Relaxed) {
                        timed_get(&http, &base, &token, "/api/v1/reports/scores.csv").await;
                        n += 1;
                    }
                    n
                })
            };
            tokio::time::sleep(Duration::from_millis(200)).await;
            let during = open_loop_saves(&product.base, &scorers, cfg.export_save_rate, export_secs, 8, &body_text).await;
            running.store(false, Ordering::Relaxed);
            let exports = exporter.await.unwrap();
            let (idle99, during99) = (percentile(&idle, 99.0).unwrap_or_default(), percentile(&during, 99.0).unwrap_or_default());
            say(format!("saves at {}/s: idle p99 {}, during {exports} export(s) p99 {}", cfg.export_save_rate, ms(idle99), ms(during99)));
            rows.push(
                Row::new(
                    format!(
                        "{tag}: save p99 at {}/s during scores.csv ({})",
                        cfg.export_save_rate,
                        if csv_lines > 0 { format!("{csv_lines} rows") } else { "the large database".to_string() }
                    ),
                    format!("{} (idle {})", ms(during99), ms(idle99)),
                    "—",
                )
                .checked(during99.as_secs_f64() / idle99.as_secs_f64().max(1e-9), Target::AtMost(2.0)),
            );
        }
        product.stop();
    });
    (rows, notes)
}

fn main() {
    // `cargo test --benches` runs this without `--bench`: the helpers have their own tests.
    if !std::env::args().any(|a| a == "--bench") {
        println!("ratios: a benchmark; run it with `cargo bench --bench ratios` (helpers: `cargo test --test bench_helpers`)");
        return;
    }
    let cfg = Settings::from_env();
    let backends = std::env::var("EPA_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let machine_before = machine();
    let fsync_before = fsync_probe(dir.path(), 200);
    eprintln!("ratios: {machine_before}; fsync p99 {}", ms(fsync_before));

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for name in backends.split(',').map(str::trim) {
        let backend = match name {
            "sqlite" => {
                Some(Backend { name: "SQLite", url: format!("sqlite://{}/bench.db", dir.path().display()), drop: None })
            }
            "postgres" => postgres_backend(),
            other => panic!("EPA_BENCH_BACKENDS: unknown backend {other:?} (sqlite, postgres)"),
        };
        let Some(backend) = backend else { continue };
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_backend(&rt, &cfg, &backend, &sub)));
        if let Some((admin_url, db)) = &backend.drop {
            drop_postgres(admin_url, db);
        }
        match result {
            Ok((r, n)) => {
                rows.extend(r);
                notes.extend(n);
            }
            Err(_) => {
                let log = std::fs::read_to_string(sub.join("server.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                eprintln!(
                    "ratios [{}]: failed; server log tail:\n{}",
                    backend.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
                std::process::exit(1);
            }
        }
    }

    let fsync_after = fsync_probe(dir.path(), 200);
    let verdict = stats::fsync_verdict(fsync_before, fsync_after, 3.0);
    println!();
    println!("## ratios: product against the engine ({:.0} s)", started.elapsed().as_secs_f64());
    println!();
    println!("machine: {machine_before}");
    println!("fsync p99 (4 KiB write + fdatasync, 200×): before {}, after {}", ms(fsync_before), ms(fsync_after));
    match verdict {
        stats::FsyncVerdict::Valid { moved } => println!("run: VALID (fsync p99 moved {moved:.2}×, limit 3×)"),
        stats::FsyncVerdict::Void { moved } => {
            println!(
                "run: VOID — fsync p99 moved {moved:.2}× (more than 3×): the machine changed under the run; rerun it"
            )
        }
    }
    println!(
        "settings: {} s a round, {} rounds (medians), clients {:?}, open loop {} s × {} connections, list {}, scores.csv {} rows",
        cfg.secs, cfg.rounds, cfg.clients, cfg.open_secs, cfg.open_connections, cfg.list, cfg.csv_rows
    );
    println!();
    print!("{}", stats::table(&rows));
    for n in notes {
        println!("note: {n}");
    }
}
