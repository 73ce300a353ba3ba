//! The README's first command: `epa-panel serve --demo` on an empty embedded database gives a
//! newcomer people, tokens and web passwords that work at once.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[actix_web::test]
async fn serve_demo_prints_tokens_and_passwords_that_work() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_epa-panel"))
        .args(["serve", "--demo"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("EPA_BIND", format!("127.0.0.1:{port}"))
        .env("EPA_GUIDES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("epa-panel serve --demo");
    // The logs go to stderr, read on a thread of their own until the server stops.
    let stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let mut people = Vec::new();
    let mut printed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        printed.push(line.clone());
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() == 4 && words[3].starts_with("epa_") {
            people.push((words[0].to_string(), words[1].to_string(), words[2].to_string(), words[3].to_string()));
        }
        if line.starts_with("Try:") {
            break;
        }
    }
    assert_eq!(people.len(), 6, "six demo people with tokens and passwords: {people:?}");
    let assessors = people.iter().filter(|p| p.0 == "independent_assessor").count();
    assert_eq!(assessors, 2, "a second independent assessor, to re-appoint the panel: {people:?}");
    let printed = printed.join("\n");
    assert!(
        !printed.contains(" INFO ") && !printed.contains('\u{1b}'),
        "stdout carries the people only, no logs or colour: {printed}"
    );
    assert!(dir.path().join("epa-panel.db").exists(), "the default sqlite://epa-panel.db in the working directory");

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the demo server did not start");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, _, _, lm_token) = people.iter().find(|p| p.0 == "line_manager").expect("a line manager");
    let list: serde_json::Value = http
        .get(format!("{base}/api/v1/assessments"))
        .bearer_auth(lm_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "registered", "the demo EPA waits at the gateway");
    let _ = child.kill();
    let _ = child.wait();
    let logs = logs.join().expect("the stderr reader");
    assert!(logs.contains("listening"), "the logs are on stderr: {logs}");
    assert!(!logs.contains('\u{1b}'), "no ANSI colour when stderr is not a terminal: {logs:?}");
}

/// `serve` refuses to start on an invalid guide, naming the file, the line and the field.
#[test]
fn an_invalid_guide_stops_the_start_naming_file_line_and_field() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let guides = dir.path().join("guides");
    std::fs::create_dir(&guides).unwrap();
    let good = crate::app::shipped_guide();
    let bad = good.replacen("weight = 20", "weight = 25", 1);
    std::fs::write(guides.join("broken.toml"), &bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_epa-panel"))
        .arg("serve")
        .current_dir(dir.path())
        .env("EPA_DATABASE_URL", format!("sqlite://{}/t.db", dir.path().display()))
        .env("EPA_GUIDES_DIR", &guides)
        .env("EPA_BIND", "127.0.0.1:0")
        .env_remove("EPA_SMTP_URL")
        .output()
        .expect("epa-panel serve");
    assert!(!out.status.success(), "an invalid guide must stop the start");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("broken.toml"), "names the file: {said}");
    assert!(said.contains("line "), "names the line: {said}");
    assert!(said.contains("components.weight"), "names the field: {said}");
    assert!(said.contains("105"), "says what is wrong: {said}");
}
