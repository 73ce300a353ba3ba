//! Moving up: `epa-panel copy --from sqlite://… --to postgres://…` takes an embedded installation
//! with several released assessments to PostgreSQL, where a server then answers every read as
//! the SQLite one did (the CSV reports byte for byte) and the same tokens work; a second copy
//! into the now non-empty target is refused.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use crate::app::*;

fn copy(from: &str, to: &str, dir: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_epa-panel"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPA_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir).args(["copy", "--from", from, "--to", to]).output().expect("run epa-panel copy")
}

fn audit_verify(database_url: &str, dir: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_epa-panel"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPA_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir).env("EPA_DATABASE_URL", database_url).args(["audit", "verify"]).output().expect("verify")
}

fn said(out: &Output) -> String {
    format!("{}\n{}{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every read the test compares: (who, path) → (status, body).
async fn reads(callers: &[(&str, Client)], paths: &[String]) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    for (who, client) in callers {
        for path in paths {
            let r = client.send("GET", path, None).await;
            out.push((format!("{who} GET {path}"), r.status, r.text));
        }
    }
    out
}

#[actix_web::test]
async fn a_sqlite_installation_moves_to_postgres_and_reads_the_same() {
    let Some(pg) = FreshPostgres::create() else { return };
    let started = Instant::now();
    let mut app = TestApp::builder(Backend::Sqlite).start().await.expect("SQLite always runs");

    // Three released assessments (one deadlocked and referred back on the way), one in scoring.
    let released = [app.panel().await, app.panel().await, app.panel().await];
    released[0].release_unanimous(4).await;
    released[1].release_unanimous(3).await;
    let p = &released[2];
    let items = p.items().to_vec();
    let all4 = sheet(&items, 4);
    p.submit_all(&with(all4.clone(), &[(&items[0], 5)]), &all4, &with(all4.clone(), &[(&items[0], 2)])).await;
    p.agree(vec![agreed(&items[0], None, "no agreement")], "deadlock, the assessor decides").await;
    p.record_viva().await;
    p.decide().await;
    p.moderate("refer_back", "Say why the deadlocked criterion was decided as it was.").await;
    p.agree(vec![agreed(&items[0], Some(3), "meets it on the evidence")], "revisited").await;
    p.decide().await;
    p.moderate("confirm", "Due process followed.").await;
    let scoring = app.panel().await;
    scoring.save(&scoring.lm, &sheet(&items[..3], 3), false).await;
    for panel in &released {
        let sent = panel.wait_for_email_status("sent").await;
        assert!(sent.len() == 3 && sent.iter().all(|e| e["status"] == "sent"), "{sent:#?}");
    }

    let mut paths = vec![
        "/api/v1/assessments".to_string(),
        "/api/v1/reports/scores.csv".to_string(),
        "/api/v1/reports/outcomes.csv".to_string(),
        "/api/v1/reports/assessors.csv".to_string(),
    ];
    for panel in released.iter().chain([&scoring]) {
        for sub in ["", "/scores", "/audit"] {
            paths.push(panel.path(sub));
        }
    }
    let admin = app.admin.clone();
    let callers = |base: Option<&str>| {
        let on = |c: &Client| base.map_or_else(|| c.clone(), |b| c.on(b));
        vec![
            ("admin", on(&admin)),
            ("line manager", on(&released[0].lm.client)),
            ("assessor", on(&released[2].ia.client)),
            ("moderator", on(&released[1].moderator.client)),
            ("scoring line manager", on(&scoring.lm.client)),
        ]
    };
    let before = reads(&callers(None), &paths).await;
    assert!(before.iter().filter(|(_, status, _)| *status == 200).count() > paths.len(), "{before:#?}");
    let csv = app.admin.send("GET", "/api/v1/reports/outcomes.csv", None).await;
    assert!(Csv::parse(&csv.text).rows.len() >= 3, "{}", csv.text);

    // A web password, which must move too.
    let password = "correct horse battery staple";
    epa_panel::services::people::set_password(&mut app.connect(), None, &released[0].lm.email, password)
        .expect("a web password");

    // The server stops; the installation moves.
    app.stop_server().await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let sqlite = app.database_url();
    let out = copy(&sqlite, pg.url(), dir.path());
    assert!(out.status.success(), "copy: {}", said(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit_entries"), "{}", said(&out));
    let out = audit_verify(pg.url(), dir.path());
    assert!(out.status.success(), "audit verify on PostgreSQL: {}", said(&out));

    let url = epa_panel::db::DatabaseUrl::parse(pg.url()).expect("a PostgreSQL URL");
    {
        use diesel::prelude::*;
        use epa_panel::db::schema::credentials;
        let mut conn = url.connect().expect("PostgreSQL");
        let hash: String = credentials::table
            .filter(credentials::user_id.eq(&released[0].lm.id))
            .select(credentials::password_hash)
            .first(&mut conn)
            .expect("the web password was copied");
        assert!(epa_panel::services::people::verify_password(&hash, password));
    }
    let server = app.start_another(|c| c.database_url = url.clone());
    let base = format!("http://{}", server.addr);
    let after = reads(&callers(Some(&base)), &paths).await;
    for ((what, status, body), (_, status_after, body_after)) in before.iter().zip(&after) {
        assert_eq!(status, status_after, "{what}: {body} vs {body_after}");
        assert!(body == body_after, "{what} differs after the copy:\nSQLite:     {body}\nPostgreSQL: {body_after}");
    }
    // Nothing is sent again from the copied outbox, even in a pass more on it.
    app.deliver_now_with(|c| c.database_url = url).await;
    assert_eq!(app.emails().len(), 9, "three emails for each released assessment, once");

    // The copy goes on working: a write, with its audit entry, and the trail still verifies.
    let on_pg = scoring.lm.client.on(&base);
    on_pg.expect(200, "PUT", &scoring.path("/scores"), scores_body(&sheet(&items, 4), false)).await;
    server.stop().await;
    let out = audit_verify(pg.url(), dir.path());
    assert!(out.status.success(), "audit verify after a write on PostgreSQL: {}", said(&out));

    // A second copy into the now non-empty target is refused and changes nothing.
    let out = copy(&sqlite, pg.url(), dir.path());
    assert!(!out.status.success(), "a second copy must be refused: {}", said(&out));
    assert!(said(&out).contains("already holds"), "{}", said(&out));
    let out = audit_verify(pg.url(), dir.path());
    assert!(out.status.success(), "{}", said(&out));
    eprintln!("copy test: {:?}", started.elapsed());
}

/// Every table of the schema is copied (or, for the audit heads, rebuilt from the copied entries),
/// so a table added later cannot be left behind by `copy` unnoticed.
#[test]
fn copy_names_every_table_of_the_schema() {
    let schema = include_str!("../../src/db/schema.rs");
    let copy = include_str!("../../src/db/copy.rs");
    let tables: Vec<&str> =
        schema.split("diesel::table! {").skip(1).filter_map(|block| block.split_whitespace().next()).collect();
    assert!(tables.len() > 10, "tables read from schema.rs: {tables:?}");
    let missing: Vec<&&str> = tables
        .iter()
        // `audit_head` is set from the copied chains' heads (`set_chain_heads`), not copied.
        .filter(|t| **t != "audit_head")
        .filter(|t| {
            !copy.contains(&format!("copy_table!(src, dst, {t},")) && !copy.contains(&format!("                {t},\n"))
        })
        .collect();
    assert!(missing.is_empty(), "tables `epa-panel copy` leaves behind: {missing:?}");
}
