//! The audit trail in chains (one per assessment, one for the body, and the seal chain that
//! continues the old single chain): through the real binary, a deletion at the end of a sealed
//! chain, reordering within and across chains, an edit and a forged head are each caught; an
//! entry deleted from a chain's end before any seal named it is not (the window the README
//! states); a trail written before the chains, and a head published from it, still verify after
//! new entries; and on PostgreSQL a change to one assessment commits while another
//! assessment's change holds its transaction open.

use crate::app::*;
use crate::audit_chain::{cli, cli_with, entries, names_entry, passes, quoted, refused, stdout, take_head, KEY};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use epa_panel::db::schema::{audit_entries, audit_head};
use epa_panel::db::DbConnection;
use epa_panel::domain::audit::{entry_hash, Head};

/// The entries of `chain`, oldest first.
fn chain(app: &TestApp, chain: &str) -> Vec<i64> {
    audit_entries::table
        .filter(audit_entries::chain.eq(chain))
        .order(audit_entries::seq)
        .select(audit_entries::seq)
        .load(&mut app.connect())
        .expect("a chain's entries")
}

fn sql(app: &TestApp, statements: &str) {
    app.connect().batch_execute(statements).unwrap_or_else(|e| panic!("{statements}: {e}"));
}

/// Swaps the seqs of entries `a` and `b` (as someone reordering the rows would).
fn swap(app: &TestApp, a: i64, b: i64) {
    sql(
        app,
        &format!(
            "UPDATE audit_entries SET seq = -1 WHERE seq = {a}; UPDATE audit_entries SET seq = {a} WHERE seq = {b}; \
             UPDATE audit_entries SET seq = {b} WHERE seq = -1;"
        ),
    );
}

/// `audit verify` exits 1 and says `words`.
fn broken(app: &TestApp, dir: &std::path::Path, what: &str, words: &[&str]) {
    let out = cli(app, dir, &["audit", "verify"]);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "audit verify must fail after {what}: {said}");
    for w in words {
        assert!(said.contains(w), "after {what}, audit verify must say {w:?}: {said}");
    }
}

both_backends!(a_deleted_chain_tail_is_caught_once_sealed_and_the_window_before, |app| async move {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    let panel = app.panel().await;

    // The window: the newest entry of a chain no seal has named yet, deleted, is not caught.
    let other = app.registered().await;
    let unsealed = chain(app, &other.id);
    assert_eq!(unsealed.len(), 1, "{unsealed:?}");
    sql(app, &format!("DELETE FROM audit_entries WHERE seq = {}", unsealed[0]));
    passes(app, dir, &["audit", "verify"]);

    // Sealed (`audit head` seals), then the newest entry of the panel's chain deleted: named.
    take_head(app, dir, &[]);
    let sealed = chain(app, &panel.id);
    let tail = *sealed.last().expect("the panel's chain");
    let file = dir.join("trail.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    passes(app, dir, &["audit", "export", "--out", file]);
    sql(app, &format!("DELETE FROM audit_entries WHERE seq = {tail}"));
    names_entry(app, dir, &["audit", "verify"], tail, "the end of a sealed chain deleted");
    broken(app, dir, "the end of a sealed chain deleted", &["missing", "seal entry", &panel.id]);
    let out = cli(app, dir, &["audit", "head"]);
    assert_eq!(out.status.code(), Some(1), "a broken trail gets no head: {}", stdout(&out));
    // The same line taken out of the exported file: named too.
    let text = std::fs::read_to_string(file).expect("the export");
    let cut: Vec<&str> = text.lines().filter(|l| !l.starts_with(&format!("{{\"seq\":{tail},"))).collect();
    assert_eq!(cut.len() + 1, text.lines().count(), "one line gone");
    let cut_file = dir.join("cut.jsonl");
    std::fs::write(&cut_file, cut.join("\n") + "\n").expect("write the cut file");
    names_entry(app, dir, &["audit", "verify", "--file", cut_file.to_str().expect("path")], tail, "a cut line");

    // The body chain has a head row: its newest entry deleted is caught at once.
    let body = chain(app, "body");
    let last = *body.last().expect("the body chain");
    sql(app, &format!("DELETE FROM audit_entries WHERE seq = {last}"));
    let out = cli(app, dir, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
});

both_backends!(reordering_within_and_across_chains_is_caught, |app| async move {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    let panel = app.panel().await;
    take_head(app, dir, &[]);
    let own = chain(app, &panel.id);
    let body = chain(app, "body");
    assert!(own.len() >= 3 && !body.is_empty(), "{own:?} {body:?}");

    // Two entries of the panel's chain swapped.
    swap(app, own[0], own[1]);
    broken(app, dir, "a reordering within a chain", &["BROKEN", "audit entry"]);
    swap(app, own[0], own[1]);
    passes(app, dir, &["audit", "verify"]);

    // An entry of the panel's chain swapped with one of the body chain.
    swap(app, own[1], body[0]);
    broken(app, dir, "a reordering across chains", &["BROKEN", "audit entry"]);
    swap(app, own[1], body[0]);
    passes(app, dir, &["audit", "verify"]);

    // An entry moved to another chain (its chain renamed).
    sql(app, &format!("UPDATE audit_entries SET chain = 'body' WHERE seq = {}", own[1]));
    broken(app, dir, "an entry moved to another chain", &["BROKEN"]);
    sql(app, &format!("UPDATE audit_entries SET chain = {} WHERE seq = {}", quoted(&panel.id), own[1]));
    passes(app, dir, &["audit", "verify"]);
});

both_backends!(an_edit_in_a_chain_is_named, |app| async move {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    let panel = app.panel().await;
    let (line, _) = take_head(app, dir, &[]);
    let own = chain(app, &panel.id);
    let seq = own[1];
    sql(app, &format!("UPDATE audit_entries SET detail = '{{}}' WHERE seq = {seq}"));
    names_entry(app, dir, &["audit", "verify"], seq, "an edited entry");
    refused(app, dir, &["audit", "verify", "--head", &line], &[], &[&format!("audit entry {seq}:")]);
});

both_backends!(a_forged_head_is_refused_on_an_intact_trail, |app| async move {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    app.panel().await;
    let (_, head) = take_head(app, dir, &[]);
    let seq = head["seq"].as_i64().expect("seq");
    let mut forged = head.clone();
    forged["hash"] = "ab".repeat(32).into();
    refused(
        app,
        dir,
        &["audit", "verify", "--head", &forged.to_string()],
        &[],
        &[&format!("audit entry {seq}:"), "kept at"],
    );
    // A head naming an entry past the trail's end: missing.
    let mut ahead = head.clone();
    ahead["seq"] = (seq + 1000).into();
    refused(app, dir, &["audit", "verify", "--head", &ahead.to_string()], &[], &["missing"]);
    // With the key, a head taken without it is refused before the trail is read.
    let key = [("EPA_AUDIT_KEY", KEY)];
    refused(app, dir, &["audit", "verify", "--head", &head.to_string()], &key, &["REFUSED", "no MAC"]);
    let (signed, _) = take_head(app, dir, &key);
    let out = cli_with(app, dir, &["audit", "verify", "--head", &signed], &key);
    assert!(out.status.success(), "{}", stdout(&out));
});

both_backends!(a_trail_from_before_the_chains_and_its_published_head_still_verify, |app| async move {
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    let panel = app.registered().await;

    // The database as the old version left it: one chain (no `chain`), its head in row 1.
    let mut conn = app.connect();
    conn.batch_execute(
        "DELETE FROM audit_entries; DELETE FROM audit_sealed; UPDATE audit_head SET last_seq = 0, last_hash = '';",
    )
    .expect("clear the trail");
    let mut prev = String::new();
    let mut at = String::new();
    for seq in 1..=3_i64 {
        at = format!("2026-11-30T09:00:0{seq}.000000Z");
        let detail = format!(r#"{{"old":{seq}}}"#);
        let hash = entry_hash(&prev, seq, Some(&panel.id), &at, None, "assessment.old", &detail);
        conn.batch_execute(&format!(
            "INSERT INTO audit_entries (seq, assessment_id, at, actor_id, action, detail, prev_hash, hash) \
             VALUES ({seq}, {}, {}, NULL, 'assessment.old', {}, {}, {})",
            quoted(&panel.id),
            quoted(&at),
            quoted(&detail),
            quoted(&prev),
            quoted(&hash)
        ))
        .expect("an old entry");
        prev = hash;
    }
    diesel::update(audit_head::table.find(1))
        .set((audit_head::last_seq.eq(3), audit_head::last_hash.eq(&prev)))
        .execute(&mut conn)
        .expect("the old head row");
    if let DbConnection::Postgres(_) = conn {
        conn.batch_execute("SELECT setval(pg_get_serial_sequence('audit_entries', 'seq'), 4, false)")
            .expect("the sequence");
    }
    let published =
        Head { seq: 3, hash: prev.clone(), at: Some(at), taken_at: "2026-11-30T10:00:00.000000Z".into(), mac: None };
    let key = epa_panel::domain::audit::AuditKey::new(KEY.as_bytes()).expect("a key");
    let signed = serde_json::to_string(&published.clone().signed(&key)).expect("JSON");
    let published = serde_json::to_string(&published).expect("JSON");
    let keyed = [("EPA_AUDIT_KEY", KEY)];
    passes(app, dir, &["audit", "verify", "--head", &published]);

    // New entries in the chains after it: the old head still holds, with its MAC.
    panel.pass_gateway().await;
    panel.appoint().await;
    app.registered().await;
    assert!(entries(app).len() > 3);
    passes(app, dir, &["audit", "verify", "--head", &published]);
    let (now, head) = take_head(app, dir, &keyed);
    let first_seal: String = audit_entries::table
        .filter(audit_entries::chain.eq("seal"))
        .order(audit_entries::seq)
        .select(audit_entries::prev_hash)
        .first(&mut app.connect())
        .expect("a seal");
    assert_eq!(first_seal, prev, "the seal chain continues the old chain");
    let both = dir.join("heads.jsonl");
    std::fs::write(&both, format!("{signed}\n{now}\n")).expect("keep the heads");
    let both = both.to_str().expect("a UTF-8 path");
    let out = cli_with(app, dir, &["audit", "verify", "--head", both], &keyed);
    assert!(out.status.success() && stdout(&out).contains("2 kept head"), "{}", stdout(&out));
    let file = dir.join("trail.jsonl");
    let file = file.to_str().expect("a UTF-8 path");
    passes(app, dir, &["audit", "export", "--out", file]);
    let out = cli_with(app, dir, &["audit", "verify", "--file", file, "--head", both], &keyed);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(head["seq"].as_i64() > Some(3), "{head}");

    // An old entry edited: named, and the old head no longer held.
    sql(app, "UPDATE audit_entries SET detail = '{}' WHERE seq = 2");
    names_entry(app, dir, &["audit", "verify"], 2, "an old entry edited");
});

both_backends!(a_change_to_one_assessment_commits_while_another_holds_its_transaction, |app| async move {
    use epa_panel::db::assessments::lock_assessment;
    use epa_panel::db::models::append_audit;
    let dir = tempfile::tempdir().expect("a temp dir");
    let dir = dir.path();
    let a = app.registered().await;
    let b = app.registered().await;
    let mut first = app.connect();
    if let DbConnection::Sqlite(_) = first {
        // SQLite has one writer (and the server one connection): nothing to show there.
        return;
    }
    // A change to A, its transaction held open (A's row locked, its entry written).
    first.batch_execute("BEGIN").expect("BEGIN");
    lock_assessment(&mut first, &a.id).expect("lock A");
    append_audit(&mut first, Some(&a.id), "2026-12-03T08:00:00.000000Z", None, "test.held", "{}").expect("A's entry");

    // A change to B commits meanwhile. (With one head row every writer updates, it would wait
    // on A's transaction; the lock timeout turns such a wait into an error instead of a hang.)
    let mut second = app.connect();
    second.batch_execute("SET lock_timeout = '10s'").expect("lock_timeout");
    let committed = second.transaction::<_, diesel::result::Error, _>(|c| {
        lock_assessment(c, &b.id)?;
        append_audit(c, Some(&b.id), "2026-12-03T08:00:01.000000Z", None, "test.passed", "{}")
    });
    let b_seq = committed.expect("a change to B commits while A's transaction is open");

    // A second change to A does wait (its row is A's lock): the timeout says so.
    second.batch_execute("SET lock_timeout = '200ms'").expect("lock_timeout");
    let waited = second.transaction::<_, diesel::result::Error, _>(|c| lock_assessment(c, &a.id));
    assert!(waited.is_err(), "A is locked by the open transaction");

    first.batch_execute("COMMIT").expect("COMMIT");
    let a_seq: i64 = audit_entries::table
        .filter(audit_entries::action.eq("test.held"))
        .select(audit_entries::seq)
        .first(&mut app.connect())
        .expect("A's entry");
    assert!(a_seq < b_seq, "A took its seq first, B committed first: {a_seq} {b_seq}");
    // Committed out of seq order, both verify and seal.
    passes(app, dir, &["audit", "verify"]);
    take_head(app, dir, &[]);
    passes(app, dir, &["audit", "verify"]);
});
