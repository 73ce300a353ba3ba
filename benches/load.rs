//! A bounded load test on loopback: many panels at once save drafts and submit score sheets
//! against the real server, some with stale `If-Match` versions. It stops by itself and prints
//! requests, errors by status, and latency percentiles; then it checks that no answered write was
//! lost. A benchmark, not a timed assertion.
//!
//!     cargo bench --bench load                      # SQLite (embedded default)
//!     EPA_BENCH_DATABASE_URL=postgres://… cargo bench --bench load
//!     EPA_BENCH_PANELS=100 cargo bench --bench load

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark that cannot go on should stop loudly, naming what failed"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Mutex;

const STANDARD: &str = "senior-housing-property-management-l4";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<String>,
    ) -> (u16, Value, Option<String>) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body, etag)
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let (status, body, _) = self.call(method, path, Some(body), None).await;
        assert!(status < 300, "{path}: {status} {body}");
        body
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    by_status: BTreeMap<u16, usize>,
}

fn main() {
    let panels: usize = std::env::var("EPA_BENCH_PANELS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let dir = tempfile::tempdir().expect("tempdir");
    let database_url = std::env::var("EPA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.path().display()));
    let guides = concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides").to_string();
    let mail_dir = dir.path().join("outbox").display().to_string();
    let config = epa_panel::config::Config::from_lookup(|name| match name {
        "EPA_DATABASE_URL" => Some(database_url.clone()),
        "EPA_GUIDES_DIR" => Some(guides.clone()),
        "EPA_MAIL_DIR" => Some(mail_dir.clone()),
        _ => None,
    })
    .expect("config");
    let prepared = epa_panel::prepare(&config).expect("prepare");
    let (_, admin_token) = {
        let mut conn = prepared.state.db.conn().expect("conn");
        epa_panel::services::people::create_user(
            &mut conn,
            None,
            epa_panel::services::people::NewUser {
                email: "admin@bench.test".into(),
                name: "Bench Admin".into(),
                role: "admin".into(),
                organisation_id: None,
            }
            .into(),
        )
        .expect("admin")
    };
    actix_web::rt::System::new().block_on(async move {
        let running = epa_panel::start(prepared, "127.0.0.1:0").expect("start");
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(64).build().expect("client");
        let admin = Client { http: http.clone(), base: base.clone(), token: admin_token };
        let std = admin.ok(reqwest::Method::GET, &format!("/api/v1/standards/{STANDARD}"), Value::Null).await;
        let items: Vec<(String, String)> = std["score_items"]
            .as_array()
            .expect("score items")
            .iter()
            .map(|i| (i["component"].as_str().unwrap().to_string(), i["criterion"].as_str().unwrap().to_string()))
            .collect();

        let org = |name: &str, kind: &str| json!({"name": name, "kind": kind});
        let employer = admin.ok(reqwest::Method::POST, "/api/v1/organisations", org("Employer", "employer")).await["id"].clone();
        let provider = admin.ok(reqwest::Method::POST, "/api/v1/organisations", org("Provider", "training_provider")).await["id"].clone();
        let body = admin.ok(reqwest::Method::POST, "/api/v1/organisations", org("Body", "assessment_body")).await["id"].clone();

        eprintln!("setting up {panels} panels…");
        let setup_started = Instant::now();
        let mut panel_clients = Vec::new();
        for p in 0..panels {
            let seat = |role: &'static str, org: Value| {
                let admin = &admin;
                async move {
                    let u = admin
                        .ok(reqwest::Method::POST, "/api/v1/users", json!({"email": format!("{role}{p}@bench.test"), "name": format!("{role} {p}"), "role": role, "organisation_id": org}))
                        .await;
                    (u["id"].clone(), Client { http: admin.http.clone(), base: admin.base.clone(), token: u["token"].as_str().unwrap().to_string() })
                }
            };
            let (lm_id, lm) = seat("line_manager", employer.clone()).await;
            let (tp_id, tp) = seat("training_provider", provider.clone()).await;
            let (ia_id, ia) = seat("independent_assessor", body.clone()).await;
            let appr = admin
                .ok(reqwest::Method::POST, "/api/v1/apprentices", json!({"name": format!("Apprentice {p}"), "email": format!("a{p}@bench.test"), "employer_id": employer, "training_provider_id": provider}))
                .await;
            let a = admin
                .ok(reqwest::Method::POST, "/api/v1/assessments", json!({"apprentice_id": appr["id"], "standard_id": STANDARD, "line_manager_id": lm_id, "training_provider_user_id": tp_id}))
                .await;
            let id = a["id"].as_str().unwrap().to_string();
            let gate = json!({"portfolio_complete": true, "knowledge_route": "qualification", "knowledge_reference": "CIH L4", "english_level2": true, "maths_level2": true, "employer_ready": true, "provider_ready": true});
            lm.ok(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/gateway"), gate).await;
            admin.ok(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/panel"), json!({"independent_assessor_id": ia_id, "viva_at": "2026-12-01T10:00:00Z", "mode": "video"})).await;
            ia.ok(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"})).await;
            panel_clients.push((id, [lm, tp, ia]));
        }
        eprintln!("setup took {:.1}s", setup_started.elapsed().as_secs_f64());

        // The load: every member of every panel at once saves the sheet in three drafts (the
        // third with a stale If-Match from before the second, expecting 412), then submits.
        let tally = Arc::new(Mutex::new(Tally::default()));
        let items = Arc::new(items);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (id, members) in panel_clients {
            for (m, member) in members.into_iter().enumerate() {
                let (id, tally, items) = (id.clone(), tally.clone(), items.clone());
                tasks.push(tokio::spawn(async move {
                    let path = format!("/api/v1/assessments/{id}/scores");
                    let score = |i: usize| 1 + ((i + m) % 5) as i64;
                    let chunk = items.len().div_ceil(3);
                    let record = |status: u16, took: Duration, tally: &mut Tally| {
                        tally.latencies.push(took);
                        *tally.by_status.entry(status).or_default() += 1;
                    };
                    let mut stale = None;
                    let mut last_tag = None;
                    for (n, part) in items.chunks(chunk).enumerate() {
                        let scores: Vec<Value> = part
                            .iter()
                            .enumerate()
                            .map(|(i, (c, k))| json!({"component": c, "criterion": k, "score": score(n * chunk + i)}))
                            .collect();
                        if n == 1 {
                            stale = last_tag.clone();
                        }
                        let t = Instant::now();
                        let (status, _, tag) = member.call(reqwest::Method::PUT, &path, Some(json!({"scores": scores, "submit": false})), last_tag.clone()).await;
                        record(status, t.elapsed(), &mut *tally.lock().await);
                        assert_eq!(status, 200, "draft save");
                        last_tag = tag;
                    }
                    // A second tab with an old version: refused, changes nothing.
                    let t = Instant::now();
                    let (status, _, _) = member
                        .call(reqwest::Method::PUT, &path, Some(json!({"scores": [{"component": items[0].0, "criterion": items[0].1, "score": 1}], "submit": false})), stale)
                        .await;
                    record(status, t.elapsed(), &mut *tally.lock().await);
                    assert_eq!(status, 412, "a stale If-Match must be refused");
                    let t = Instant::now();
                    let (status, body, _) = member.call(reqwest::Method::PUT, &path, Some(json!({"scores": [], "submit": true})), last_tag).await;
                    record(status, t.elapsed(), &mut *tally.lock().await);
                    assert_eq!(status, 200, "submit: {body}");
                }));
            }
        }
        for t in tasks {
            t.await.expect("a panel member's task failed");
        }
        let elapsed = started.elapsed();

        // No lost writes: every sheet holds exactly what its owner saved last.
        let mut checked = 0;
        let all = admin.call(reqwest::Method::GET, "/api/v1/assessments", None, None).await.1;
        for a in all.as_array().expect("list") {
            assert_eq!(a["status"], "consensus", "every panel reached consensus");
            let sheets = admin.call(reqwest::Method::GET, &format!("/api/v1/assessments/{}/scores", a["id"].as_str().unwrap()), None, None).await.1;
            for (m, sheet) in sheets["sheets"].as_array().unwrap().iter().enumerate() {
                let scores = sheet["scores"].as_array().expect("open after three submissions");
                assert_eq!(scores.len(), items.len());
                for (i, s) in scores.iter().enumerate() {
                    assert_eq!(s["score"].as_i64().unwrap(), 1 + ((i + m) % 5) as i64, "a lost or foreign write");
                    checked += 1;
                }
            }
        }

        let mut t = tally.lock().await;
        t.latencies.sort();
        let n = t.latencies.len();
        let pct = |p: f64| t.latencies[((n as f64 * p) as usize).min(n - 1)];
        println!("load: {panels} panels × 3 members, {n} requests in {:.2}s ({:.0} req/s)", elapsed.as_secs_f64(), n as f64 / elapsed.as_secs_f64());
        println!("load: statuses {:?} (412s are the stale second tabs, expected)", t.by_status);
        println!("load: latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", pct(0.50).as_secs_f64() * 1e3, pct(0.99).as_secs_f64() * 1e3, t.latencies[n - 1].as_secs_f64() * 1e3);
        println!("load: {checked} saved scores read back, none lost");
        assert!(t.by_status.keys().all(|s| [200, 412].contains(s)), "unexpected statuses");
        running.stop().await;
    });
}
