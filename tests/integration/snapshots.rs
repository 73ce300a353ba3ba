//! Snapshot tests (insta): the outcome email (subject, plain text, HTML; the apprentice's and the
//! line manager's) and the three standardisation CSVs (scores, outcomes, assessors) of one fixed
//! panel day, byte for byte. Ids, times and today's date are masked before the snapshot; what is
//! left is what a person reads. A change shows as a diff (`cargo insta review`); with `CI=true` a
//! missing or changed snapshot fails.
//!
//! SQLite only: the PostgreSQL runs of the same scenarios (panel_day, reports) assert the content.

use crate::app::*;

/// Replaces what changes from run to run: the ids named in `ids` by their labels, every RFC 3339
/// time by `[time]`, today's date (as a date and in words) by `[today]`.
pub(crate) fn mask(text: &str, ids: &[(&str, &str)]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    let mut text = text.replace("\r\n", "\n");
    for (id, label) in ids {
        text = text.replace(id, &format!("[{label}]"));
    }
    let text = mask_times(&text);
    let zone = epa_panel::local_time::Zone::parse("Europe/London").expect("a zone");
    let now = epa_panel::db::now();
    text.replace(&zone.date_in_words(&now), "[today in words]").replace(&now[..10], "[today]")
}

/// `2026-12-02T10:00:00.123456Z` (or `…+00:00`) → `[time]`.
fn mask_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() >= i + shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b });
        if !fits {
            let c = text[i..].chars().next().expect("a character");
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let mut end = i + shape.len();
        if bytes.get(end) == Some(&b'.') {
            end += 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if bytes.get(end) == Some(&b'Z') {
            end += 1;
        } else if text[end..].starts_with("+00:00") {
            end += 6;
        }
        out.push_str("[time]");
        i = end;
    }
    out
}

/// One panel day with a disagreement agreed at consensus: decided, confirmed, released.
async fn released_panel(app: &TestApp) -> Panel {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let (first, second) = (&items[0], &items[1]);
    let lm = with(sheet(&items, 4), &[(first, 5)]);
    let tp = with(sheet(&items, 4), &[(second, 3)]);
    let ia = with(sheet(&items, 4), &[(first, 3), (second, 3)]);
    panel.submit_all(&lm, &tp, &ia).await;
    panel.record_viva().await;
    panel
        .agree(
            vec![
                agreed(first, Some(4), "the evidence meets the standard"),
                agreed(second, Some(3), "two of three saw 3"),
            ],
            "Agreed on the day.",
        )
        .await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Pass", "{d}");
    panel.moderate("confirm", "Due process followed.").await;
    assert_eq!(panel.status().await, "released");
    panel
}

pub(crate) fn ids_of(panel: &Panel) -> Vec<(&str, &str)> {
    vec![
        (panel.id.as_str(), "assessment"),
        (panel.apprentice.id.as_str(), "apprentice"),
        (panel.employer_id.as_str(), "employer"),
        (panel.provider_id.as_str(), "provider"),
        (panel.body_id.as_str(), "assessment body"),
        (panel.lm.id.as_str(), "line manager"),
        (panel.tp.id.as_str(), "training provider"),
        (panel.ia.id.as_str(), "independent assessor"),
        (panel.moderator.id.as_str(), "moderator"),
    ]
}

#[actix_web::test]
async fn the_outcome_emails_and_the_three_reports_of_a_panel_day() {
    let app = TestApp::builder(Backend::Sqlite).start().await.expect("SQLite always runs");
    let panel = released_panel(&app).await;
    let ids = ids_of(&panel);
    let emails = app.wait_for_emails(3).await;
    assert_eq!(emails.len(), 3, "{emails:#?}");
    for (who, address) in [("apprentice", &panel.apprentice.email), ("line_manager", &panel.lm.email)] {
        let email =
            emails.iter().find(|e| e.to == [address.to_lowercase()]).unwrap_or_else(|| panic!("{who}: {emails:#?}"));
        insta::assert_snapshot!(format!("outcome_email_{who}_subject"), mask(&email.subject, &ids));
        insta::assert_snapshot!(format!("outcome_email_{who}_text"), mask(&email.text, &ids));
        insta::assert_snapshot!(format!("outcome_email_{who}_html"), mask(&email.html, &ids));
    }
    for report in ["scores", "outcomes", "assessors"] {
        let response = app.admin.send("GET", &format!("/api/v1/reports/{report}.csv"), None).await;
        assert_eq!(response.status, 200, "{report}.csv: {}", response.text);
        insta::assert_snapshot!(format!("{report}_csv"), mask(&response.text, &ids));
    }
    app.shutdown().await;
}

#[test]
fn masking_keeps_everything_but_ids_and_times() {
    let text = "Amy [a1] at 2026-12-02T10:00:00.123456Z and 2026-12-02T10:00:00Z, 2026-12-02T10:00:00+00:00; 1.5";
    assert_eq!(mask(text, &[("a1", "assessment")]), "Amy [[assessment]] at [time] and [time], [time]; 1.5");
}
