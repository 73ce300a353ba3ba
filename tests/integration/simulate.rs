//! `epa-panel simulate`: the real binary writes a seeded history into the app's database, and the
//! reports find the lean planted on one assessor, over the months asked for, with no email sent.

use std::process::Command;

use serde_json::Value;

use crate::app::*;

fn simulate(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_epa-panel"))
        .arg("simulate")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("EPA_DATABASE_URL", app.database_url())
        .env("EPA_GUIDES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides"))
        .env("EPA_MAIL_DIR", app.mail_dir.display().to_string())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run epa-panel simulate")
}

both_backends!(a_planted_lean_is_flagged_over_the_months_and_nobody_is_emailed, |app| async move {
    let planted = "assessor2@simulated-epa.test=+0.8";
    // The L4 EPA by name: panel-guides/ ships several standards, and the default is the first by id.
    let args =
        ["--epas", "60", "--months", "6", "--assessors", "4", "--seed", "3", "--lean", planted, "--standard", STANDARD];
    let out = simulate(app, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "simulate failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let written = &summary["simulated"];
    assert_eq!(written["epas"], 60, "{summary}");
    assert_eq!(written["emails_withheld"], 180, "three outcome emails per EPA, withheld: {summary}");
    assert_eq!(written["planted"][0]["email"], "assessor2@simulated-epa.test", "{summary}");
    let name = written["planted"][0]["name"].as_str().expect("the planted assessor's name").to_string();
    assert!(stderr.contains(&format!("planted lean +0.80: {name}")), "said at the start: {stderr}");

    // The reports flag the planted assessor, and only them among the assessors.
    let assessors = app.admin.csv("/api/v1/reports/assessors.csv").await;
    let row = assessors.rows_where("name", &name);
    assert_eq!(row.len(), 1, "{:?}", assessors.rows);
    assert_eq!(row[0]["flag"], "lenient", "{:?}", row[0]);
    let lean: f64 = row[0]["lean"].parse().expect("a lean");
    assert!((0.5..1.1).contains(&lean), "the planted +0.8 recovered: {lean}");
    for other in assessors.rows.iter().filter(|r| r["role"] == "independent_assessor" && r["name"] != name) {
        assert_ne!(other["flag"], "lenient", "an unbiased assessor flagged: {other:?}");
    }

    // The decisions span the six months asked for, ending about now.
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    assert_eq!(outcomes.rows.len(), 60);
    let days: Vec<chrono::NaiveDate> =
        outcomes.rows.iter().map(|r| r["decided_on"].parse().expect("a decided_on date")).collect();
    let (first, last) = (*days.iter().min().unwrap(), *days.iter().max().unwrap());
    let today = chrono::Utc::now().date_naive();
    assert!(last <= today && (today - last).num_days() <= 10, "the last decision is recent: {last}");
    let span = (last - first).num_days();
    assert!((150..=186).contains(&span), "six months between the first and last decision: {first} … {last}");

    // No email: none left in the outbox for the worker, none delivered.
    use diesel::prelude::*;
    let queued: i64 =
        epa_panel::db::schema::outbox::table.count().get_result(&mut app.connect()).expect("count the outbox");
    assert_eq!(queued, 0, "a simulation queues no email");
    assert!(app.emails().is_empty());

    // A second run would mix into the history: refused, naming why.
    let again = simulate(app, &args);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("already holds 60 assessment(s)"), "{why}");
});

both_backends!(report_pages_walk_decisions_made_at_the_same_instant_once_each, |app| async move {
    use diesel::prelude::*;
    use epa_panel::db::assessments::{decided_page, DecidedFilter};
    use epa_panel::db::schema::assessments;
    let out = simulate(app, &["--epas", "12", "--months", "2", "--seed", "5", "--standard", STANDARD]);
    assert!(out.status.success(), "simulate failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut conn = app.connect();
    // Half the decisions at one instant, so the page key's second column decides between them.
    let decided: Vec<String> = assessments::table
        .filter(assessments::decided_at.is_not_null())
        .order(assessments::id.asc())
        .select(assessments::id)
        .load(&mut conn)
        .unwrap();
    assert!(decided.len() >= 6, "{decided:?}");
    let tied: Vec<&String> = decided.iter().step_by(2).collect();
    diesel::update(assessments::table.filter(assessments::id.eq_any(&tied)))
        .set(assessments::decided_at.eq("2026-11-30T09:00:00.000000Z"))
        .execute(&mut conn)
        .unwrap();
    let filter = DecidedFilter::default();
    let key = |rows: &[(epa_panel::db::assessments::DecidedRow, _)]| -> Vec<(String, String)> {
        rows.iter().map(|(r, _)| (r.decided_at.clone().unwrap_or_default(), r.id.clone())).collect()
    };
    let whole = key(&decided_page(&mut conn, &filter, None, 1000).unwrap());
    let mut sorted = whole.clone();
    sorted.sort();
    assert_eq!(whole, sorted, "in (decided_at, id) order");
    assert!(whole.len() >= 6);
    for limit in [1, 2, 5] {
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = key(&decided_page(&mut conn, &filter, after.as_ref(), limit).unwrap());
            let Some(last) = page.last().cloned() else { break };
            walked.extend(page);
            after = Some(last);
        }
        assert_eq!(walked, whole, "pages of {limit}, in order, are every decision once");
    }
});
