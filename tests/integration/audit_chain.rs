//! Tamper-evident audit: after a panel day, the real binary's `audit verify` passes; editing one
//! entry's detail in the database, or deleting a middle entry, makes it fail naming the first bad
//! entry; `audit export` hands the trail to `audit verify --file`, which catches an edited line.
//! A chain rewritten consistently (every hash and the head recomputed) still passes `audit
//! verify` alone, but not `audit verify --head` with a head kept from before (`audit head`); and
//! with `EPA_AUDIT_KEY` a head forged without the key is refused.

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
            // The server part of EPA_TEST_POSTGRES_URL, as app/postgres.rs builds the test database's URL.
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
pub(crate) fn cli(app: &TestApp, dir: &Path, args: &[&str]) -> Output {
    cli_with(app, dir, args, &[])
}

/// As `cli`, with more environment variables (and no `EPA_AUDIT_KEY` unless given).
pub(crate) fn cli_with(app: &TestApp, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_epa-panel"))
        .args(args)
        .current_dir(dir)
        .env_remove("EPA_AUDIT_KEY")
        .env("EPA_DATABASE_URL", database_url(app))
        .env("EPA_GUIDES_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides"))
        .envs(vars.iter().copied())
        .output()
        .expect("run epa-panel")
}

pub(crate) fn stdout(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub(crate) fn passes(app: &TestApp, dir: &Path, args: &[&str]) -> String {
    let out = cli(app, dir, args);
    assert!(out.status.success(), "epa-panel {args:?} must pass: {}", stdout(&out));
    stdout(&out)
}

/// Fails (non-zero) and names audit entry `seq` in its standard output.
pub(crate) fn names_entry(app: &TestApp, dir: &Path, args: &[&str], seq: i64, what: &str) {
    let out = cli(app, dir, args);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "epa-panel {args:?} must fail after {what}: {}", stdout(&out));
    assert!(
        said.contains(&format!("audit entry {seq}:")),
        "epa-panel {args:?} after {what} must name entry {seq}: {}",
        stdout(&out)
    );
}

pub(crate) fn entries(app: &TestApp) -> Vec<(i64, String)> {
    audit_entries::table
        .select((audit_entries::seq, audit_entries::detail))
        .order(audit_entries::seq)
        .load(&mut app.connect())
        .expect("the audit entries")
}

/// `s` as an SQL string literal.
pub(crate) fn quoted(s: &str) -> String {
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

pub(crate) const KEY: &str = "the assessment body's audit key, kept apart";

/// `epa-panel audit head` (with `vars`): one JSON line on standard output.
pub(crate) fn take_head(app: &TestApp, dir: &Path, vars: &[(&str, &str)]) -> (String, Value) {
    let out = cli_with(app, dir, &["audit", "head"], vars);
    assert!(out.status.success(), "audit head: {}", stdout(&out));
    let line = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    let head: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("audit head prints JSON ({e}): {line}"));
    (line, head)
}

/// `epa-panel audit verify` with `args` (and `vars`) exits 1, saying each of `words`.
pub(crate) fn refused(app: &TestApp, dir: &Path, args: &[&str], vars: &[(&str, &str)], words: &[&str]) {
    let out = cli_with(app, dir, args, vars);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "epa-panel {args:?} must exit 1: {}", stdout(&out));
    for w in words {
        assert!(said.contains(w), "epa-panel {args:?} must say {w:?}: {}", stdout(&out));
    }
}

/// Edits entry `seq`'s detail and recomputes every hash from there in its chain, every seal
/// naming a rewritten hash, and the head rows, as someone with write access to the database
/// could: the chains are consistent again.
pub(crate) fn rewrite_from(app: &TestApp, seq: i64, detail: &str) {
    rewrite(app, |e| {
        if e.seq == seq {
            e.detail = detail.to_string();
        }
        e.seq >= seq
    });
}

/// Applies `edit` to each entry (oldest first; it says whether to rehash from there) and
/// rechains consistently: per-chain links, seal details, head rows and sealed heads.
pub(crate) fn rewrite(app: &TestApp, mut edit: impl FnMut(&mut epa_panel::domain::audit::ChainedEntry) -> bool) {
    use epa_panel::db::models::AuditEntry;
    use epa_panel::db::schema::{audit_head, audit_sealed};
    use epa_panel::domain::audit::{ChainedEntry, BODY, SEAL};
    use std::collections::HashMap;
    let mut conn = app.connect();
    let trail: Vec<ChainedEntry> = audit_entries::table
        .select(AuditEntry::as_select())
        .order(audit_entries::seq)
        .load(&mut conn)
        .expect("the audit entries")
        .into_iter()
        .map(ChainedEntry::from)
        .collect();
    let mut last: HashMap<String, String> = HashMap::new();
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut rehash = false;
    for mut e in trail {
        let old = e.clone();
        rehash |= edit(&mut e);
        let chain = e.chain.clone().unwrap_or_else(|| SEAL.to_string());
        if rehash {
            for (from, to) in &renamed {
                e.detail = e.detail.replace(from.as_str(), to.as_str());
            }
            e.prev_hash = last.get(&chain).cloned().unwrap_or_default();
            e.hash = e.expected_hash();
            if e.hash != old.hash {
                renamed.insert(old.hash.clone(), e.hash.clone());
            }
            diesel::update(audit_entries::table.filter(audit_entries::seq.eq(old.seq)))
                .set((
                    audit_entries::seq.eq(e.seq),
                    audit_entries::detail.eq(&e.detail),
                    audit_entries::prev_hash.eq(&e.prev_hash),
                    audit_entries::hash.eq(&e.hash),
                    audit_entries::chain.eq(&e.chain),
                ))
                .execute(&mut conn)
                .expect("rewrite an audit row");
        }
        last.insert(chain, e.hash.clone());
    }
    for (id, chain) in [(1, SEAL), (2, BODY)] {
        if let Some(hash) = last.get(chain) {
            diesel::update(audit_head::table.find(id))
                .set(audit_head::last_hash.eq(hash))
                .execute(&mut conn)
                .expect("the head row");
        }
    }
    for (from, to) in &renamed {
        diesel::update(audit_sealed::table.filter(audit_sealed::hash.eq(from)))
            .set(audit_sealed::hash.eq(to))
            .execute(&mut conn)
            .expect("the sealed heads");
    }
}

both_backends!(a_rewritten_chain_fails_against_a_head_kept_outside, |app| async move {
    let panel = app.panel().await;
    let s = sheet(panel.items(), 4);
    panel.submit_all(&s, &s, &s).await;
    panel.record_viva().await;
    panel.decide().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();

    // The head, taken and kept outside: plain, and with the key.
    let trail = entries(app);
    let (plain_line, plain) = take_head(app, dir, &[]);
    let (newest, _) = trail.last().cloned().expect("a trail");
    // The head is the seal taken for it, after every entry so far.
    let last_seq = plain["seq"].as_i64().expect("seq");
    assert!(last_seq > newest, "{plain}");
    assert_eq!(action_at(app, last_seq), "audit.sealed", "{plain}");
    assert!(plain["hash"].as_str().is_some_and(|h| h.len() == 64), "{plain}");
    assert!(plain["at"].is_string() && plain["taken_at"].is_string(), "{plain}");
    assert!(plain.get("mac").is_none(), "no MAC without a key: {plain}");
    let (signed_line, signed) = take_head(app, dir, &[("EPA_AUDIT_KEY", KEY)]);
    assert_eq!((&signed["seq"], &signed["hash"]), (&plain["seq"], &plain["hash"]), "{signed}");
    assert!(signed["mac"].as_str().is_some_and(|m| m.len() == 64), "a MAC with the key: {signed}");
    let kept = dir.join("kept.jsonl");
    std::fs::write(&kept, format!("{plain_line}\n")).expect("keep the head");
    let kept = kept.to_str().expect("a UTF-8 path");
    let kept_signed = dir.join("kept-signed.jsonl");
    std::fs::write(&kept_signed, format!("{signed_line}\n")).expect("keep the signed head");
    let kept_signed = kept_signed.to_str().expect("a UTF-8 path");

    // Work goes on after the head was taken: the trail still holds it (as a file, or the JSON).
    panel.moderate("confirm", "Due process followed.").await;
    assert!(entries(app).len() > trail.len());
    let said = passes(app, dir, &["audit", "verify", "--head", kept]);
    assert!(said.contains("intact") && said.contains("kept head"), "{said}");
    passes(app, dir, &["audit", "verify", "--head", &plain_line]);
    let out = cli_with(app, dir, &["audit", "verify", "--head", kept_signed], &[("EPA_AUDIT_KEY", KEY)]);
    assert!(out.status.success(), "the signed head with its key: {}", stdout(&out));
    // An export holds it too.
    let file = dir.join("trail.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    passes(app, dir, &["audit", "export", "--out", file]);
    passes(app, dir, &["audit", "verify", "--file", file, "--head", kept]);

    // Someone with write access to the database rewrites an entry before the head, and every
    // hash after it, and the head row: the chain alone is consistent again …
    let (seq, _) = trail[trail.len() / 2];
    rewrite_from(app, seq, r#"{"forged":true}"#);
    let said = passes(app, dir, &["audit", "verify"]);
    assert!(said.contains("intact"), "a consistent rewrite passes the chain check alone: {said}");
    // … but it does not hold the head kept outside: exit 1, naming the kept entry.
    let at = format!("audit entry {last_seq}:");
    refused(app, dir, &["audit", "verify", "--head", kept], &[], &[&at, "kept at", "rewritten"]);
    refused(app, dir, &["audit", "verify", "--head", kept_signed], &[("EPA_AUDIT_KEY", KEY)], &[&at, "rewritten"]);

    // The rewriter, without the key, cannot make a head for the rewritten chain that passes:
    // one taken without the key has no MAC, one made with another key has the wrong one, and the
    // kept signed head with the new hash put in fails its MAC.
    let (forged, _) = take_head(app, dir, &[]);
    let key = [("EPA_AUDIT_KEY", KEY)];
    refused(app, dir, &["audit", "verify", "--head", &forged], &key, &["kept head REFUSED", "no MAC"]);
    let other = [("EPA_AUDIT_KEY", "someone else's key, at least 32 long")];
    let (other_key, _) = take_head(app, dir, &other);
    refused(app, dir, &["audit", "verify", "--head", &other_key], &key, &["kept head REFUSED", "does not match"]);
    let (_, current) = take_head(app, dir, &[]);
    let mut edited = signed.clone();
    edited["hash"] = trail_hash_at(app, last_seq).into();
    assert_ne!(edited["hash"], signed["hash"], "the rewrite changed the kept entry's hash");
    refused(app, dir, &["audit", "verify", "--head", &edited.to_string()], &key, &["REFUSED", "does not match"]);
    // Without the key a forged head can only be checked against the trail, which it matches.
    passes(app, dir, &["audit", "verify", "--head", &forged]);
    // And a head taken with the key now verifies with it.
    let (fresh, _) = take_head(app, dir, &key);
    let out = cli_with(app, dir, &["audit", "verify", "--head", &fresh], &key);
    assert!(out.status.success(), "a genuine head: {}", stdout(&out));
    assert!(current["seq"].as_i64() > Some(last_seq), "the head moved on: {current}");

    // A broken trail gets no head; and what is not a head is refused by name.
    let mut conn = app.connect();
    diesel::sql_query(format!("UPDATE audit_entries SET detail = {} WHERE seq = {seq}", quoted("{}")))
        .execute(&mut conn)
        .expect("edit an audit row");
    let out = cli(app, dir, &["audit", "head"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("audit entry {seq}:")), "{}", stdout(&out));
    let out = cli(app, dir, &["audit", "verify", "--head", r#"{"seq": 1}"#]);
    assert!(!out.status.success() && stdout(&out).contains("not a head"), "{}", stdout(&out));
});

/// The action of entry `seq`.
fn action_at(app: &TestApp, seq: i64) -> String {
    audit_entries::table
        .filter(audit_entries::seq.eq(seq))
        .select(audit_entries::action)
        .first(&mut app.connect())
        .expect("an audit entry")
}

/// The hash entry `seq` has now.
fn trail_hash_at(app: &TestApp, seq: i64) -> String {
    audit_entries::table
        .filter(audit_entries::seq.eq(seq))
        .select(audit_entries::hash)
        .first(&mut app.connect())
        .expect("an audit entry")
}
