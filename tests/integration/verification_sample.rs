//! The external verifier's sample over HTTP: the risky released assessments first, twelve at
//! most, all where fewer, only the provider's and only released ones; the 400s naming the
//! field; and the page with its links.

use serde_json::Value;

use crate::app::*;
use crate::web::{Page, Web};

const COLUMNS: &str = "assessment_id,apprentice_id,apprentice_name,employer_name,independent_assessor_id,independent_assessor_name,standard_id,decided_on,grade,weighted_score,risk,reasons";

/// Another scheduled assessment of `first`'s people (same provider and assessor), for a new
/// apprentice.
async fn another(app: &TestApp, first: &Panel, n: usize) -> Panel {
    let mut people = first.people.clone();
    people.apprentice = app.apprentice(&format!("Apprentice {n}"), &first.employer_id, &first.provider_id).await;
    let panel = people.register(app, STANDARD).await;
    panel.pass_gateway().await;
    panel.appoint().await;
    panel.declare().await;
    panel
}

/// Scores (line manager, provider, assessor), the consensus on the items they differ on, the
/// decision and its release.
async fn release(panel: &Panel, lm: &Sheet, tp: &Sheet, ia: &Sheet, consensus: Vec<Value>) {
    panel.submit_all(lm, tp, ia).await;
    if !consensus.is_empty() {
        panel.agree(consensus, "agreed on the day").await;
    }
    panel.record_viva().await;
    panel.decide().await;
    panel.moderate("confirm", "Due process followed.").await;
}

fn sample_path(provider: &str) -> String {
    format!("/api/v1/reports/verification-sample.csv?training_provider_id={provider}&from=2000-01-01&to=9999-12-31")
}

fn column<'a>(csv: &'a Csv, name: &str) -> Vec<&'a str> {
    csv.rows.iter().map(|r| r[name].as_str()).collect()
}

both_backends!(the_sample_takes_the_risky_ones_first_and_twelve_at_most, |app| async move {
    // Fourteen released assessments of one provider, all by the same independent assessor.
    let first = app.panel().await;
    let mut panels = vec![first.clone()];
    for n in 1..14 {
        panels.push(another(app, &first, n).await);
    }
    let items = first.items().to_vec();
    let threes = sheet(&items, 3);
    for (n, panel) in panels.iter().enumerate() {
        match n {
            // Every item at 4 but one at 3: a pass on one item's point.
            11 => {
                let s = with(sheet(&items, 4), &[(&items[0], 3)]);
                release(panel, &s, &s, &s, vec![]).await;
            }
            // The line manager two points below the others on one item.
            12 => {
                let lm = with(threes.clone(), &[(&items[0], 1)]);
                release(panel, &lm, &threes, &threes, vec![agreed(&items[0], Some(3), "agreed")]).await;
            }
            // A deadlock on one item (3, 4, 3): the assessor's own 3 decides it.
            13 => {
                let tp = with(threes.clone(), &[(&items[0], 4)]);
                release(panel, &threes, &tp, &threes, vec![agreed(&items[0], None, "no agreement")]).await;
            }
            _ => release(panel, &threes, &threes, &threes, vec![]).await,
        }
    }
    // A decided assessment not yet released is not sampled.
    another(app, &first, 14).await.decide_unanimous(3).await;

    let csv = app.admin.csv(&sample_path(&first.provider_id)).await;
    assert_eq!(csv.header.join(","), COLUMNS);
    let ids: Vec<&str> = column(&csv, "assessment_id");
    let want: Vec<&str> = [13, 11, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8].iter().map(|n| panels[*n].id.as_str()).collect();
    assert_eq!(ids, want, "tie-break, then boundary and wide spread oldest first, then first EPAs, then oldest");
    assert_eq!(
        column(&csv, "reasons")[..6],
        ["tie_break", "boundary", "wide_spread", "first_epas", "first_epas", "first_epas"]
    );
    assert_eq!(column(&csv, "risk")[..7], ["3", "2", "2", "1", "1", "1", "0"]);
    assert_eq!(column(&csv, "reasons")[6], "");
    let top = &csv.rows[0];
    assert_eq!(top["apprentice_id"], panels[13].apprentice.id);
    assert_eq!(top["apprentice_name"], "Apprentice 13");
    assert_eq!(top["independent_assessor_id"], first.ia.id);
    assert_eq!(top["independent_assessor_name"], "Iris Independent");
    assert!(top["employer_name"].starts_with("Northgate Homes"), "{top:?}");
    assert_eq!(top["standard_id"], STANDARD);
    assert_eq!(top["grade"], "Pass");
    assert_eq!(top["weighted_score"], "3");
    assert_eq!(top["decided_on"].len(), 10, "{top:?}");
    assert_eq!(csv.rows[1]["grade"], "Pass");

    // The moderator may run it too; the same history, the same sample.
    let again = first.moderator.csv(&sample_path(&first.provider_id)).await;
    assert_eq!(column(&again, "assessment_id"), want);
    // A period with nothing decided in it: the header alone.
    let path = format!(
        "/api/v1/reports/verification-sample.csv?training_provider_id={}&from=2000-01-01&to=2000-12-31",
        first.provider_id
    );
    let empty = app.admin.csv(&path).await;
    assert_eq!((empty.header.join(","), empty.rows.len()), (COLUMNS.to_string(), 0));
});

both_backends!(fewer_than_twelve_are_all_sampled, |app| async move {
    // Another provider's assessment is not in this provider's sample.
    let other = app.panel().await;
    other.release_unanimous(3).await;
    let first = app.panel().await;
    first.release_unanimous(3).await;
    let second = another(app, &first, 1).await;
    second.release_unanimous(4).await;
    let csv = app.admin.csv(&sample_path(&first.provider_id)).await;
    assert_eq!(column(&csv, "assessment_id"), [first.id.as_str(), second.id.as_str()]);
    assert_eq!(column(&csv, "reasons"), ["first_epas", "first_epas"]);
    assert_eq!(column(&csv, "grade"), ["Pass", "Distinction"]);
});

both_backends!(the_sample_refuses_bad_parameters_naming_them, |app| async move {
    let panel = app.decided().await;
    let base = "/api/v1/reports/verification-sample.csv";
    let p = &panel.provider_id;
    for (query, words) in [
        ("from=2026-01-01&to=2026-12-31".to_string(), "(training_provider_id) is required"),
        (format!("training_provider_id={p}&to=2026-12-31"), "(from) is required"),
        (format!("training_provider_id={p}&from=2026-01-01"), "(to) is required"),
        (format!("training_provider_id={p}&from=2026-1-1&to=2026-12-31"), "The start date (from) must be a date"),
        (format!("training_provider_id={p}&from=2026-01-01&to=31/12/2026"), "The end date (to) must be a date"),
        (format!("training_provider_id={p}&from=2026-02-01&to=2026-01-01"), "is after the end date"),
        (format!("training_provider_id={}&from=2026-01-01&to=2026-12-31", panel.employer_id), "(training_provider_id)"),
        ("training_provider_id=nobody&from=2026-01-01&to=2026-12-31".to_string(), "(training_provider_id)"),
        (format!("training_provider_id={p}&from=2026-01-01&to=2026-12-31&standard_id=x"), "standard_id"),
    ] {
        let e = app.admin.refused(400, "GET", &format!("{base}?{query}"), Value::Null).await;
        assert!(e.message.contains(words), "{query}: {} {}", e.code, e.message);
    }
    // Staff only: a line manager is refused before the query is read; no token is a 401.
    let e = panel.lm.refused(403, "GET", &format!("{base}?from=x"), Value::Null).await;
    assert_eq!(e.code, "forbidden", "{}", e.message);
    let anonymous = app.client(None);
    anonymous.refused(401, "GET", &sample_path(p), Value::Null).await;
});

both_backends!(the_sample_page_shows_the_table_and_links_the_csv, |app| async move {
    let first = app.panel().await;
    first.release_unanimous(3).await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let Page { body: reports, .. } = admin.get("/reports").await;
    assert!(reports.contains("href=\"/reports/verification-sample\""), "the reports page links it: {reports}");

    // The form alone: a select of the providers, no table yet.
    let Page { status, body, .. } = admin.get("/reports/verification-sample").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("<option value=\"{}\"", first.provider_id)), "{body}");
    assert!(!body.contains("<table"), "{body}");

    let query = format!("training_provider_id={}&from=0001-01-01&to=9999-12-31", first.provider_id);
    let Page { status, body, .. } = admin.get(&format!("/reports/verification-sample?{query}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("href=\"/assessments/{}\"", first.id)), "links the assessment: {body}");
    assert!(body.contains("first_epas") || body.contains("first EPAs"), "{body}");
    let csv_href = format!("/reports/verification-sample.csv?{}", query.replace('&', "&amp;"));
    assert!(body.contains(&csv_href), "links the CSV {csv_href}: {body}");
    let Page { status, body, .. } = admin.get(&format!("/reports/verification-sample.csv?{query}")).await;
    assert_eq!(status, 200, "{body}");
    let csv = Csv::parse(&body);
    assert_eq!(column(&csv, "assessment_id"), [first.id.as_str()]);

    // A bad query is said on the page in words.
    let Page { status, body, .. } = admin
        .get(&format!("/reports/verification-sample?training_provider_id={}&from=2026-01-01", first.provider_id))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("The end date (to) is required"), "{body}");

    let mut moderator = Web::signed_in(app, &first.moderator.email).await;
    let Page { status, .. } = moderator.get(&format!("/reports/verification-sample?{query}")).await;
    assert_eq!(status, 200);
    let mut lm = Web::signed_in(app, &first.lm.email).await;
    let Page { status: refused, .. } = lm.get("/reports").await;
    let Page { status, .. } = lm.get("/reports/verification-sample").await;
    assert_eq!(status, refused);
});
