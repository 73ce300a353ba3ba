//! The standardisation page over plain HTTP: staff only, the same lean figures as
//! `assessors.csv`, its charts drawn as SVG, a flagged scorer's assessments linked, and an empty
//! history that says so.

use crate::app::REPORT_GUIDE;
use crate::app::*;
use crate::web::{Page, Web};

/// The text of the lean cell in the page's row for `scorer`.
fn lean_cell(html: &str, scorer: &str) -> String {
    let row = html
        .find(&format!("data-scorer=\"{scorer}\""))
        .unwrap_or_else(|| panic!("the page has a row for {scorer}: {html}"));
    let at = html[row..].find("<td class=\"num lean\">").expect("the row has a lean cell") + row + 21;
    html[at..].split("</td>").next().unwrap_or_default().to_string()
}

/// Scores, consensus and decision, with the line manager a point above the other two on every
/// item but the last, and the tutor a point below the assessor on one item per assessment.
pub async fn decide_lenient(panel: &Panel, n: usize) {
    let items = panel.items().to_vec();
    let lm: Sheet = items.iter().enumerate().map(|(i, it)| (it.clone(), if i == 4 { 3 } else { 4 })).collect();
    let ia = sheet(&items, 3);
    let tp = with(ia.clone(), &[(&items[n % 4], 2)]);
    panel.submit_all(&lm, &tp, &ia).await;
    let consensus =
        items.iter().enumerate().filter(|(i, _)| *i != 4).map(|(_, it)| agreed(it, Some(3), "agreed")).collect();
    panel.agree(consensus, "notes").await;
    panel.record_viva().await;
    panel.decide().await;
}

both_backends!(the_standardisation_page_shows_the_reports_figures, |app| async move {
    let (status, _) = app.import_guide(REPORT_GUIDE).await;
    assert_eq!(status, 201);
    let first = app.panel_for("reporting-l4", Names::default()).await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;

    // Nothing decided yet: the page says so; no chart of nothing, no NaN.
    let Page { status, body, .. } = admin.get("/reports/standardisation").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Nothing decided yet"), "{body}");
    assert!(!body.contains("NaN") && !body.contains("inf"), "{body}");
    let Page { body: reports, .. } = admin.get("/reports").await;
    assert!(reports.contains("href=\"/reports/standardisation\""), "the reports page links it: {reports}");
    let Page { status, body, .. } = admin.get("/reports/standardisation?period=fortnight").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("The period (period) must be one of month, quarter, year"), "{body}");

    let Page { body: home, .. } = admin.get("/assessments").await;
    assert!(home.contains(">Standardisation</a></li>"), "the navigation links it: {home}");
    let mut moderator = Web::signed_in(app, &first.moderator.email).await;
    let Page { status, body, .. } = moderator.get("/reports/standardisation").await;
    assert_eq!(status, 200, "a moderator sees it too: {body}");

    // A line manager is refused as on the reports page.
    let mut lm = Web::signed_in(app, &first.lm.email).await;
    let Page { status: refused, .. } = lm.get("/reports").await;
    assert!(refused == 403 || refused == 404, "{refused}");
    let Page { status, body, .. } = lm.get("/reports/standardisation").await;
    assert_eq!(status, refused, "{body}");

    // Five assessments with the same panel, each with its own apprentice.
    let mut panels = vec![first.clone()];
    decide_lenient(&first, 0).await;
    for n in 1..5 {
        let mut people = first.people.clone();
        people.apprentice = app.apprentice(&format!("Apprentice {n}"), &first.employer_id, &first.provider_id).await;
        let panel = people.register(app, "reporting-l4").await;
        panel.pass_gateway().await;
        panel.appoint().await;
        panel.declare().await;
        decide_lenient(&panel, n).await;
        panels.push(panel);
    }

    let Page { status, body, .. } = admin.get("/reports/standardisation").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("5 decided assessments"), "{body}");
    assert_eq!(body.matches("<svg class=\"chart\"").count(), 5, "three forest plots, alpha, trends: {body}");
    assert!(body.contains("<circle class=\"forest-dot"), "{body}");
    assert!(body.contains("class=\"chart-reference\""), "alpha's reference line: {body}");
    assert!(!body.contains("NaN") && !body.contains("style="), "{body}");

    // The table's leans are assessors.csv's, scorer by scorer; a flagged one links their list.
    let csv = app.admin.csv("/api/v1/reports/assessors.csv").await;
    assert_eq!(csv.rows.len(), 3, "{csv:?}");
    let mut flagged = 0;
    for row in &csv.rows {
        let want = if row["lean"].is_empty() { "–".to_string() } else { row["lean"].clone() };
        assert_eq!(lean_cell(&body, &row["scorer_id"]), want, "{row:?}");
        if row["flag"] == "lenient" || row["flag"] == "severe" {
            flagged += 1;
            assert!(body.contains(&format!("href=\"#scored-{}\"", row["scorer_id"])), "{row:?}: {body}");
            let list = body.find(&format!("id=\"scored-{}\"", row["scorer_id"])).expect("their list");
            let list = &body[list..list + body[list..].find("</ul>").expect("a list")];
            for panel in &panels {
                assert!(list.contains(&format!("href=\"/assessments/{}\"", panel.id)), "{list}");
            }
        }
    }
    let line_manager = csv.rows_where("scorer_id", &first.lm.id)[0];
    assert_eq!(line_manager["flag"], "lenient", "a point above on four items of five: {line_manager:?}");
    assert!(flagged >= 1);

    // The filters narrow it, and an empty selection says so.
    let Page { status, body, .. } =
        admin.get("/reports/standardisation?from=2001-01-01&to=2001-12-31&period=year").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Nothing decided yet that these filters select"), "{body}");
    let Page { status, body, .. } = admin.get("/reports/standardisation?period=quarter").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Trends per quarter") && body.contains("-Q"), "{body}");
});
