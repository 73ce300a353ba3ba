//! Crash safety with the real binary: several clients keep saving draft score sheets, the server
//! is killed with SIGKILL in the middle, restarted, and every save that had been answered 200 is
//! there — each sheet is its last answered save or the one in flight, never older, never a mix —
//! the audit trail still verifies (`epa-panel audit verify`), and the server works on. And an
//! outcome email whose sending the kill cut short is sent again after the restart, with the same
//! Message-ID, its interrupted attempt counted.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::app::*;
use crate::mail_outage::{ControlledSmtp, Mode};

const PANELS: usize = 4;

/// `epa-panel` with the test's environment (and nothing of the developer's).
fn epa(database_url: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_epa-panel"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPA_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir)
        .env("EPA_DATABASE_URL", database_url)
        .env("EPA_MAIL_DIR", dir.join("outbox"))
        .env("EPA_GUIDES_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides"))
        .env("EPA_MAIL_FROM", "results@fairepa.test")
        .env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// The real server as a child process, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// `epa-panel serve` on a free port; waits (up to 30 s) until it answers.
    async fn start(database_url: &str, dir: &Path) -> Server {
        Self::start_with(database_url, dir, &[]).await
    }

    /// As `start`, with more environment variables.
    async fn start_with(database_url: &str, dir: &Path, vars: &[(&str, String)]) -> Server {
        let port = free_port();
        let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).expect("a log file");
        let child = epa(database_url, dir)
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .arg("serve")
            .env("EPA_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start epa-panel serve");
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::Client::builder().no_proxy().build().expect("an HTTP client");
        loop {
            if let Some(status) = server.child.try_wait().expect("the server's status") {
                panic!("epa-panel serve exited with {status}: see {}", dir.display());
            }
            // Any answer (401 without a token) means it listens.
            if http.get(format!("{}/api/v1/assessments", server.base)).send().await.is_ok() {
                return server;
            }
            assert!(Instant::now() < deadline, "epa-panel serve did not answer within 30 s");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no graceful stop, no chance to finish anything.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first admin, created the way an operator does (`epa-panel user add`); returns the token.
fn add_admin(database_url: &str, dir: &Path) -> String {
    let out = epa(database_url, dir)
        .args(["user", "add", "--email", "ada@fairepa.test", "--name", "Ada Admin", "--role", "admin"])
        .output()
        .expect("run epa-panel user add");
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("user add prints JSON");
    v["token"].as_str().expect("a token").to_string()
}

fn audit_verify(database_url: &str, dir: &Path) {
    let out = epa(database_url, dir).args(["audit", "verify"]).output().expect("run epa-panel audit verify");
    assert!(
        out.status.success(),
        "audit verify after the crash: {} {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One panel set up through the API as admin, up to `scheduled`.
async fn scheduled_panel(base: &str, admin: &Client, n: usize) -> Panel {
    let people = people_through(admin, n, &Names::default(), |token| Client::at(base, Some(token))).await;
    let a = admin
        .expect(
            201,
            "POST",
            "/api/v1/assessments",
            json!({"apprentice_id": people.apprentice.id, "standard_id": STANDARD,
                   "line_manager_id": people.lm.id, "training_provider_user_id": people.tp.id}),
        )
        .await;
    let panel = Panel { id: id_of(&a), standard: standard(admin).await, people };
    panel.pass_gateway().await;
    panel.appoint().await;
    panel.declare().await;
    panel
}

async fn standard(admin: &Client) -> Standard {
    let s = admin.get(&format!("/api/v1/standards/{STANDARD}")).await;
    let items = s["score_items"]
        .as_array()
        .expect("score_items")
        .iter()
        .map(|i| Item::new(i["component"].as_str().expect("component"), i["criterion"].as_str().expect("criterion")))
        .collect();
    Standard { version: s["version"].as_str().unwrap_or_default().to_string(), items, weights: Default::default() }
}

/// Save number `i` (from 1) of a client: a full sheet that differs from save `i - 1` and `i + 1` in
/// every item, and from every other save in at least one (base-5 digits of `i`, shifted by the
/// lowest), so that a sheet names the save it came from — or shows that it is a mix.
fn sheet_of_save(items: &[Item], i: u64) -> Sheet {
    let d0 = i % 5;
    items
        .iter()
        .enumerate()
        .map(|(j, item)| {
            let dj = (i / 5u64.pow(j.min(27) as u32)) % 5;
            let score = if j == 0 { 1 + d0 } else { 1 + (dj + d0) % 5 };
            (item.clone(), score as i64)
        })
        .collect()
}

/// Which save a sheet is, if it is one.
fn save_of_sheet(items: &[Item], sheet: &Sheet) -> Option<u64> {
    let digits: Option<Vec<u64>> = items.iter().map(|item| sheet.get(item).map(|s| (*s - 1) as u64)).collect();
    let digits = digits?;
    let d0 = digits[0];
    let i = digits.iter().enumerate().take(20).fold(0u64, |acc, (j, v)| {
        let dj = if j == 0 { d0 } else { (v + 5 - d0) % 5 };
        acc + dj * 5u64.pow(j as u32)
    });
    (sheet_of_save(items, i) == *sheet).then_some(i)
}

/// What a client knows about its own saves.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    /// The last save answered 200.
    answered: u64,
    /// A save sent but not answered when the server died.
    in_flight: Option<u64>,
}

/// Keeps saving `member`'s sheet on `panel` until a request fails (the server died) or `stop`.
async fn keep_saving(
    base: String,
    token: String,
    path: String,
    items: Vec<Item>,
    progress: Arc<Mutex<Progress>>,
    deadline: Instant,
) {
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().expect("a client");
    let mut i = 0;
    while Instant::now() < deadline {
        i += 1;
        progress.lock().expect("progress").in_flight = Some(i);
        let body = scores_body(&sheet_of_save(&items, i), false);
        let response = http.put(format!("{base}{path}")).bearer_auth(&token).json(&body).send().await;
        let response = match response {
            Ok(r) => r,
            Err(_) => return, // the server is gone; save i stays in flight
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(text) => assert_eq!(status, 200, "save {i} on {path}: {text}"),
            Err(_) => return, // answered status, but the body never came: still in flight
        }
        let mut p = progress.lock().expect("progress");
        p.answered = i;
        p.in_flight = None;
    }
}

async fn crash_scenario(database_url: &str, dir: &Path) {
    let started = Instant::now();
    let token = add_admin(database_url, dir);
    let mut server = Server::start(database_url, dir).await;
    let admin = Client::at(&server.base, Some(&token));
    let mut panels = Vec::new();
    for n in 0..PANELS {
        panels.push(scheduled_panel(&server.base, &admin, n).await);
    }
    let items = panels[0].items().to_vec();
    assert!(items.len() >= 8, "enough items to tell saves apart: {}", items.len());

    // Every panel member of every panel saves drafts, concurrently.
    let mut clients = Vec::new();
    for panel in &panels {
        for member in [&panel.lm, &panel.tp, &panel.ia] {
            let progress = Arc::new(Mutex::new(Progress::default()));
            clients.push((panel.clone(), member.clone(), progress));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let tasks: Vec<_> = clients
        .iter()
        .map(|(panel, member, progress)| {
            actix_web::rt::spawn(keep_saving(
                server.base.clone(),
                member.token().expect("a token").to_string(),
                panel.path("/scores"),
                items.clone(),
                progress.clone(),
                deadline,
            ))
        })
        .collect();
    // Let them get going, then kill the server in the middle of it.
    let going = Instant::now();
    loop {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        let answered: u64 = clients.iter().map(|(_, _, p)| p.lock().expect("progress").answered).sum();
        let everyone = clients.iter().all(|(_, _, p)| p.lock().expect("progress").answered >= 3);
        if (everyone && answered >= 150) || going.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    server.kill();
    let killed_at = started.elapsed();
    for task in tasks {
        task.await.expect("a saving client");
    }
    let progress: Vec<Progress> = clients.iter().map(|(_, _, p)| *p.lock().expect("progress")).collect();
    let answered: u64 = progress.iter().map(|p| p.answered).sum();
    let in_flight = progress.iter().filter(|p| p.in_flight.is_some()).count();
    eprintln!("killed after {answered} answered saves, {in_flight} in flight, at {killed_at:?}");
    assert!(progress.iter().all(|p| p.answered > 0), "every client saved before the kill: {progress:?}");

    audit_verify(database_url, dir);
    let server = Server::start(database_url, dir).await;

    let mut applied_in_flight = 0;
    for ((panel, member, _), p) in clients.iter().zip(&progress) {
        let member_id = &member.id;
        let member = member.client.on(&server.base);
        let seen = member.get(&panel.path("/scores")).await;
        let own = seen["sheets"]
            .as_array()
            .expect("sheets")
            .iter()
            .find(|s| s["user_id"] == json!(member_id))
            .cloned()
            .unwrap_or_else(|| panic!("the caller's own sheet: {seen}"));
        let sheet: Sheet = own["scores"]
            .as_array()
            .unwrap_or_else(|| panic!("own scores: {own}"))
            .iter()
            .map(|s| {
                (
                    Item::new(s["component"].as_str().expect("component"), s["criterion"].as_str().expect("criterion")),
                    s["score"].as_i64().expect("score"),
                )
            })
            .collect();
        let is = save_of_sheet(&items, &sheet);
        let ok = is == Some(p.answered) || (is.is_some() && is == p.in_flight);
        assert!(
            ok,
            "{} on {}: answered up to save {}, in flight {:?}, but the sheet is {} after the crash: {sheet:?}",
            member_id,
            panel.id,
            p.answered,
            p.in_flight,
            is.map_or("a mix of saves".to_string(), |i| format!("save {i}")),
        );
        // The sheet's version counts the saves applied: each answered one, maybe the one in flight.
        let version = seen["own_version"].as_u64().expect("own_version");
        let want = is.expect("a save");
        assert_eq!(version, want, "{}: version {version} but the sheet is save {want}", panel.id);
        if Some(want) == p.in_flight {
            applied_in_flight += 1;
        }
        assert_eq!(own["submitted"], false, "{own}");
    }
    eprintln!("{applied_in_flight} of {in_flight} saves in flight were applied (either is fine)");

    // One audit entry per applied save, no more, no fewer.
    let admin = admin.on(&server.base);
    for ((panel, member, _), p) in clients.iter().zip(&progress) {
        let audit = admin.get(&panel.path("/audit")).await;
        let saves = audit
            .as_array()
            .expect("audit")
            .iter()
            .filter(|e| e["action"] == "score_sheet.saved" && e["actor_id"] == json!(member.id))
            .count() as u64;
        assert!(
            saves == p.answered || Some(saves) == p.in_flight,
            "{}: {saves} save entries in the audit trail for {} answered (in flight {:?})",
            panel.id,
            p.answered,
            p.in_flight
        );
    }

    // The server works after the restart: the first panel submits and reaches consensus.
    let panel = &panels[0];
    let rebased = |m: &Member| Member { client: m.client.on(&server.base), ..m.clone() };
    let s = sheet(&items, 4);
    for m in [&panel.lm, &panel.tp, &panel.ia] {
        let r = rebased(m).expect(200, "PUT", &panel.path("/scores"), scores_body(&s, true)).await;
        assert_eq!(r["submitted"], true, "{r}");
    }
    assert_eq!(admin.get(&panel.path("")).await["status"], "consensus");
    let list = admin.get("/api/v1/assessments").await;
    let listed = list.as_array().or_else(|| list["items"].as_array()).map_or(0, Vec::len);
    assert_eq!(listed, PANELS, "{list}");
    drop(server);
    audit_verify(database_url, dir);
    eprintln!("crash scenario done in {:?}", started.elapsed());
}

/// One outbox row, as the test reads it from the database.
#[derive(Debug, Clone, Queryable)]
struct Outboxed {
    recipient: String,
    message_id: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
}

fn outbox_rows(database_url: &str) -> Vec<Outboxed> {
    use epa_panel::db::schema::outbox;
    let mut conn = epa_panel::db::DatabaseUrl::parse(database_url)
        .expect("the database URL")
        .connect()
        .expect("a connection to the server's database");
    outbox::table
        .select((outbox::recipient, outbox::message_id, outbox::status, outbox::attempts, outbox::last_error))
        .order(outbox::recipient)
        .load(&mut conn)
        .expect("the outbox")
}

/// Waits (up to `within`) until `done` holds for the outbox; returns the rows either way.
async fn wait_for_outbox(database_url: &str, within: Duration, done: impl Fn(&[Outboxed]) -> bool) -> Vec<Outboxed> {
    let deadline = Instant::now() + within;
    loop {
        let rows = outbox_rows(database_url);
        if done(&rows) || Instant::now() > deadline {
            return rows;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The Message-ID header of a received message, without its angle brackets.
fn message_id_of(m: &Received) -> String {
    let parsed = mail_parser::MessageParser::default().parse(&m.raw).expect("an email that parses");
    parsed.message_id().unwrap_or_else(|| panic!("a Message-ID: {}", String::from_utf8_lossy(&m.raw))).to_string()
}

/// The server is killed after the SMTP server took a message but before the server heard so
/// (and so before it could mark the row sent). After the restart the message is delivered again:
/// the attempt that was cut short was counted before it was made, and the second copy carries
/// the same Message-ID as the first, so a receiver can drop the duplicate.
async fn mail_crash_scenario(database_url: &str, dir: &Path) {
    let token = add_admin(database_url, dir);
    let smtp = ControlledSmtp::start(Mode::Hold);
    // A short lease, so that the restarted server may take the interrupted message over soon; the
    // SMTP timeout is two thirds of it, long enough for the kill to come first.
    let vars = [
        ("EPA_SMTP_URL", smtp.url()),
        ("EPA_MAIL_LEASE_MS", "4500".to_string()),
        ("EPA_MAIL_RETRY_BASE_MS", "100".to_string()),
        ("EPA_MAIL_RETRY_CAP_MS", "400".to_string()),
    ];
    let mut server = Server::start_with(database_url, dir, &vars).await;
    let admin = Client::at(&server.base, Some(&token));
    let panel = scheduled_panel(&server.base, &admin, 0).await;
    panel.release_unanimous(4).await;

    // The first message reaches the SMTP server, which never answers: kill the sender now.
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.received().is_empty() {
        assert!(Instant::now() < deadline, "no message reached the SMTP server within 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    let first = smtp.received();
    assert_eq!(first.len(), 1, "one message was in flight: {:?}", first.iter().map(|m| &m.to).collect::<Vec<_>>());
    let held = first[0].to.clone();
    let before = outbox_rows(database_url);
    assert_eq!(before.len(), 3, "{before:#?}");
    for row in &before {
        if held.contains(&row.recipient.to_lowercase()) {
            assert_eq!(row.status, "pending", "not marked sent: the server died first: {before:#?}");
            assert!(
                row.last_error.is_none(),
                "the attempt must be cut short by the kill, not end in an error (a slow machine?): {before:#?}"
            );
            assert_eq!(row.attempts, 1, "the interrupted attempt was counted before it was made: {before:#?}");
        } else {
            assert_eq!((row.status.as_str(), row.attempts), ("pending", 0), "not tried yet: {before:#?}");
        }
    }

    // Back up, the SMTP server answering again: every message is delivered, the held one again.
    smtp.set_mode(Mode::Accept);
    let server = Server::start_with(database_url, dir, &vars).await;
    let after =
        wait_for_outbox(database_url, Duration::from_secs(30), |rows| rows.iter().all(|r| r.status == "sent")).await;
    assert!(after.iter().all(|r| r.status == "sent"), "delivered after the restart: {after:#?}");
    let received = smtp.received();
    for row in &after {
        let copies: Vec<&Received> = received.iter().filter(|m| m.to.contains(&row.recipient.to_lowercase())).collect();
        let ids: Vec<String> = copies.iter().map(|m| message_id_of(m)).collect();
        assert!(ids.iter().all(|id| format!("<{id}>") == row.message_id), "the stored Message-ID: {ids:?} {row:?}");
        if held.contains(&row.recipient.to_lowercase()) {
            assert_eq!(ids.len(), 2, "delivered again after the crash (at least once): {ids:?}");
            assert_eq!(ids[0], ids[1], "the redelivery carries the same Message-ID");
            assert_eq!(row.attempts, 2, "the interrupted attempt and the delivery: {row:?}");
        } else {
            assert_eq!(ids.len(), 1, "{ids:?}");
            assert_eq!(row.attempts, 1, "{row:?}");
        }
        assert!(row.last_error.is_none(), "{row:?}");
    }
    drop(server);
}

fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[actix_web::test]
async fn sqlite() {
    let (_dir, path) = temp_dir();
    let url = format!("sqlite://{}", path.join("crash.db").display());
    crash_scenario(&url, &path).await;
}

#[actix_web::test]
async fn postgres() {
    let Some(pg) = FreshPostgres::create() else { return };
    let (_dir, path) = temp_dir();
    crash_scenario(pg.url(), &path).await;
}

mod mail_redelivered_after_a_crash_keeps_its_message_id {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        let (_dir, path) = temp_dir();
        let url = format!("sqlite://{}", path.join("mail-crash.db").display());
        mail_crash_scenario(&url, &path).await;
    }

    #[actix_web::test]
    async fn postgres() {
        let Some(pg) = FreshPostgres::create() else { return };
        let (_dir, path) = temp_dir();
        mail_crash_scenario(pg.url(), &path).await;
    }
}
