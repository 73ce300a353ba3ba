//! Tamper-evident audit: after a panel day, the real binary's `audit verify` passes; editing one
//! entry's detail in the database, or deleting a middle entry, makes it fail naming the first bad
//! entry; `audit export` hands the trail to `audit verify --file`, which catches an edited line.

use std::path::Path;
use std::process::{Command, Output};

use crate::app::*;
use diesel::prelude::*;
use diesel::sql_types::Text;
use epa_panel::db::schema::audit_entries;
use epa_panel::db::DbConnection;
use serde_json::Value;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct DatabaseFile {
    #[diesel(sql_type = Text)]
    file: String,
}

/// The `EPA_DATABASE_URL` of the app's database, found through a connection to it: the SQLite
/// file it has open, or the PostgreSQL database's name on the server the tests use.
fn database_url(app: &TestApp) -> String {
    match app.connect() {
        DbConnection::Sqlite(mut c) => {
            let files: Vec<DatabaseFile> =
                diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .load(&mut c)
                    .expect("PRAGMA");
            format!("sqlite://{}", files.first().expect("the main database").file)
        }
        DbConnection::Postgres(mut c) => {
            let name: Vec<Name> =
                diesel::sql_query("SELECT current_database()::text AS name").load(&mut c).expect("current_database");
            let name = &name.first().expect("a database").name;
            // The server part of EPA_TEST_POSTGRES_URL, as app.rs builds the test database's URL.
            let admin_url = std::env::var("EPA_TEST_POSTGRES_URL")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_POSTGRES.to_string());
            let (head, query) = match admin_url.split_once('?') {
                Some((h, q)) => (h.to_string(), format!("?{q}")),
                None => (admin_url.clone(), String::new()),
            };
            let server = match head.rfind('/') {
                Some(slash) if slash > head.find("://").map_or(0, |s| s + 2) => &head[..slash],
                _ => head.as_str(),
            };
            format!("{server}/{name}{query}")
        }
    }
}

/// Runs the real `epa-panel` with `args` on the app's database (in an empty directory, so that
/// no `.env` is read).
fn cli(app: &TestApp, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_epa-panel"))
        .args(args)
        .current_dir(dir)
        .env("EPA_DATABASE_URL", database_url(app))
        .env("EPA_GUIDES_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides"))
        .output()
        .expect("run epa-panel")
}

fn stdout(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn passes(app: &TestApp, dir: &Path, args: &[&str]) -> String {
    let out = cli(app, dir, args);
    assert!(out.status.success(), "epa-panel {args:?} must pass: {}", stdout(&out));
    stdout(&out)
}

/// Fails (non-zero) and names audit entry `seq` in its standard output.
fn names_entry(app: &TestApp, dir: &Path, args: &[&str], seq: i64, what: &str) {
    let out = cli(app, dir, args);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "epa-panel {args:?} must fail after {what}: {}", stdout(&out));
    assert!(
        said.contains(&format!("audit entry {seq}:")),
        "epa-panel {args:?} after {what} must name entry {seq}: {}",
        stdout(&out)
    );
}

fn entries(app: &TestApp) -> Vec<(i64, String)> {
    audit_entries::table
        .select((audit_entries::seq, audit_entries::detail))
        .order(audit_entries::seq)
        .load(&mut app.connect())
        .expect("the audit entries")
}

/// `s` as an SQL string literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

both_backends!(audit_verify_names_the_first_edited_or_deleted_entry, |app| async move {
    // A small panel day: registered, gateway, panel, scores, consensus, decision, release.
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let s = sheet(&items, 3);
    panel.submit_all(&s, &s, &with(s.clone(), &[(&items[0], 4)])).await;
    panel.record_viva().await;
    panel.agree(vec![agreed(&items[0], Some(3), "The diary shows a 3.")], "Agreed.").await;
    panel.decide().await;
    panel.moderate("confirm", "Due process followed.").await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();

    // Intact: 0.
    let said = passes(app, dir, &["audit", "verify"]);
    assert!(said.contains("intact"), "{said}");
    let trail = entries(app);
    assert!(trail.len() >= 10, "a panel day leaves a trail: {trail:?}");

    // Exported, the file verifies without the database; an edited line does not.
    let file = dir.join("trail.jsonl");
    let file_arg = file.to_str().expect("a UTF-8 path");
    passes(app, dir, &["audit", "export", "--out", file_arg]);
    passes(app, dir, &["audit", "verify", "--file", file_arg]);
    let text = std::fs::read_to_string(&file).expect("the export");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), trail.len() + 1, "one line per entry, then the head");
    let k = lines.len() / 2;
    let mut line: Value = serde_json::from_str(lines[k]).expect("a JSON line");
    let edited_seq = line["seq"].as_i64().expect("seq");
    line["detail"] = Value::String(r#"{"grade":"Distinction"}"#.into());
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[k] = line.to_string();
    let tampered = dir.join("tampered.jsonl");
    std::fs::write(&tampered, edited.join("\n") + "\n").expect("write the edited file");
    names_entry(
        app,
        dir,
        &["audit", "verify", "--file", tampered.to_str().expect("path")],
        edited_seq,
        "an edited line",
    );
    // A file cut short (its head line and last entry gone) is no proof either.
    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 2].join("\n") + "\n").expect("write the cut file");
    let out = cli(app, dir, &["audit", "verify", "--file", cut.to_str().expect("path")]);
    assert!(!out.status.success(), "a cut file must not verify: {}", stdout(&out));

    // One row's detail edited in the database: non-zero, naming that entry.
    let (seq, detail) = trail[trail.len() / 2].clone();
    let mut conn = app.connect();
    diesel::sql_query(format!("UPDATE audit_entries SET detail = {} WHERE seq = {seq}", quoted(r#"{"forged":true}"#)))
        .execute(&mut conn)
        .expect("edit an audit row");
    names_entry(app, dir, &["audit", "verify"], seq, "an edited row");
    // Put back as it was: intact again.
    diesel::sql_query(format!("UPDATE audit_entries SET detail = {} WHERE seq = {seq}", quoted(&detail)))
        .execute(&mut conn)
        .expect("restore the audit row");
    passes(app, dir, &["audit", "verify"]);

    // A middle row deleted: non-zero, naming the entry after it.
    let (gone, _) = trail[trail.len() / 3];
    let (next, _) = trail[trail.len() / 3 + 1];
    diesel::sql_query(format!("DELETE FROM audit_entries WHERE seq = {gone}"))
        .execute(&mut conn)
        .expect("delete a row");
    names_entry(app, dir, &["audit", "verify"], next, "a deleted row");
});
