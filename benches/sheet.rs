//! The long score sheet: the size of `GET /assessments/{id}/scores` and the server's time to
//! answer it, for the 135-item sheet of `tests/guides/long-sheet.toml` (the NOS's statements in
//! its 16 sections, three seats, the 1-5 scale), blank and with half its items scored. Loopback
//! HTTP to the real server in this process, one request at a time; a benchmark, not a timed
//! assertion.
//!
//!     cargo bench --bench sheet                     # SQLite (embedded default)
//!     EPA_BENCH_DATABASE_URL=postgres://… cargo bench --bench sheet
//!     EPA_BENCH_SHEET_ROUNDS=500 cargo bench --bench sheet

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark that cannot go on should stop loudly, naming what failed"
)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};

const GUIDE: &str = include_str!("../tests/guides/long-sheet.toml");
const PASSWORD: &str = "a long bench password";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status < 300, "{path}: {status} {body}");
        body
    }
}

/// The body gzip-compressed at the default level: about what a browser receives (the pages are
/// sent gzip-compressed to clients that ask; this bench's client does not).
fn gzipped(body: &[u8]) -> usize {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).expect("gzip");
    gz.finish().expect("gzip").len()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Fetches `path` `rounds` times with the session `cookie`; returns the body's size and the
/// sorted times to the whole body.
async fn measure(http: &reqwest::Client, url: &str, cookie: &str, rounds: usize) -> ((usize, usize), Vec<Duration>) {
    let mut times = Vec::with_capacity(rounds);
    let mut size = (0, 0);
    for _ in 0..rounds {
        let started = Instant::now();
        let resp = http.get(url).header("Cookie", cookie).send().await.expect("GET the sheet");
        assert_eq!(resp.status().as_u16(), 200, "GET {url}");
        let body = resp.bytes().await.expect("body");
        times.push(started.elapsed());
        size = (body.len(), gzipped(&body));
    }
    times.sort();
    (size, times)
}

fn main() {
    // `cargo test --benches` runs this without `--bench`: it only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sheet: a benchmark; run it with `cargo bench --bench sheet`");
        return;
    }
    let rounds: usize = std::env::var("EPA_BENCH_SHEET_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
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
    let db = prepared.state.db.clone();
    let (_, admin_token) = {
        let mut conn = db.conn().expect("conn");
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
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let admin = Api { http: http.clone(), base: base.clone(), token: admin_token };
        let imported = http
            .post(format!("{base}/api/v1/standards"))
            .bearer_auth(&admin.token)
            .header("Content-Type", "application/toml")
            .body(GUIDE)
            .send()
            .await
            .expect("import");
        assert!(imported.status().is_success(), "import the long guide: {}", imported.text().await.unwrap());
        let std = admin.send(reqwest::Method::GET, "/api/v1/standards/long-sheet", Value::Null).await;
        let items: Vec<(String, String)> = std["score_items"]
            .as_array()
            .expect("score items")
            .iter()
            .map(|i| (i["component"].as_str().unwrap().to_string(), i["criterion"].as_str().unwrap().to_string()))
            .collect();

        let post = reqwest::Method::POST;
        let org = |name: &str, kind: &str| json!({"name": name, "kind": kind});
        let employer = admin.send(post.clone(), "/api/v1/organisations", org("Employer", "employer")).await["id"].clone();
        let provider =
            admin.send(post.clone(), "/api/v1/organisations", org("Provider", "training_provider")).await["id"].clone();
        let body = admin.send(post.clone(), "/api/v1/organisations", org("Body", "assessment_body")).await["id"].clone();
        let user = |role: &'static str, org: Value| {
            let admin = &admin;
            let body = json!({"email": format!("{role}@bench.test"), "name": role, "role": role, "organisation_id": org});
            async move {
                let u = admin.send(reqwest::Method::POST, "/api/v1/users", body).await;
                (u["id"].clone(), u["token"].as_str().unwrap().to_string())
            }
        };
        let (lm_id, lm_token) = user("line_manager", employer.clone()).await;
        let (tp_id, _) = user("training_provider", provider.clone()).await;
        let (ia_id, ia_token) = user("independent_assessor", body).await;
        let lm = Api { http: http.clone(), base: base.clone(), token: lm_token };
        let ia = Api { http: http.clone(), base: base.clone(), token: ia_token };
        let appr = admin
            .send(post.clone(), "/api/v1/apprentices", json!({"name": "Apprentice", "email": "a@bench.test", "employer_id": employer, "training_provider_id": provider}))
            .await;
        let a = admin
            .send(post.clone(), "/api/v1/assessments", json!({"apprentice_id": appr["id"], "standard_id": "long-sheet", "line_manager_id": lm_id, "training_provider_user_id": tp_id}))
            .await;
        let id = a["id"].as_str().unwrap().to_string();
        let gate = json!({"portfolio_complete": true, "knowledge_route": "qualification", "knowledge_reference": "a qualification", "english_level2": true, "maths_level2": true, "employer_ready": true, "provider_ready": true});
        lm.send(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/gateway"), gate).await;
        admin
            .send(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/panel"), json!({"independent_assessor_id": ia_id, "viva_at": "2026-12-01T10:00:00Z", "mode": "video"}))
            .await;
        ia.send(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
            .await;

        // The line manager signs in as a browser would.
        {
            let mut conn = db.conn().expect("conn");
            epa_panel::services::people::set_password(&mut conn, None, "line_manager@bench.test", PASSWORD)
                .expect("password");
        }
        let signin = http.get(format!("{base}/")).send().await.expect("sign-in page");
        let cookie = signin.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
        let page = signin.text().await.unwrap();
        let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let r = http
            .post(format!("{base}/sign-in"))
            .header("Cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("email", "line_manager@bench.test"), ("password", PASSWORD)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(r.status().as_u16(), 303, "sign in");
        let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();

        let url = format!("{base}/assessments/{id}/scores");
        let _ = measure(&http, &url, &cookie, 5).await;
        let (blank_size, blank) = measure(&http, &url, &cookie, rounds).await;
        if let Ok(path) = std::env::var("EPA_BENCH_SHEET_SAVE") {
            let page = http.get(&url).header("Cookie", &cookie).send().await.unwrap().text().await.unwrap();
            std::fs::write(&path, page).expect("save the page");
        }

        let half: Vec<Value> = items
            .iter()
            .step_by(2)
            .map(|(c, k)| json!({"component": c, "criterion": k, "score": 3, "comment": "Seen in the observation."}))
            .collect();
        lm.send(reqwest::Method::PUT, &format!("/api/v1/assessments/{id}/scores"), json!({"scores": half, "submit": false}))
            .await;
        let (half_size, halfway) = measure(&http, &url, &cookie, rounds).await;

        println!("score sheet page, {} items in {} sections, {rounds} GETs each, one at a time:", items.len(), 16);
        println!("| sheet | bytes | gzipped | p50 ms | p95 ms | p99 ms |");
        println!("|---|---|---|---|---|---|");
        for (name, size, times) in [("blank", blank_size, &blank), ("half scored", half_size, &halfway)] {
            println!(
                "| {name} | {} | {} | {:.2} | {:.2} | {:.2} |",
                size.0,
                size.1,
                percentile(times, 0.5),
                percentile(times, 0.95),
                percentile(times, 0.99)
            );
        }
        running.handle.stop(true).await;
    });
}
