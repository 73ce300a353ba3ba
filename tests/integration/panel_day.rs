//! A whole panel day through the API, as `shared/acceptance/panel_day.py` walks it: gateway,
//! panel, sealed scoring, consensus with a deadlock the independent assessor breaks, decision,
//! moderation refers back, decision again, moderation confirms, three outcome emails over SMTP.

use crate::app::*;
use serde_json::{json, Value};

/// Does `text` contain a date written as ISO 8601 (`2026-12-01`)?
pub fn has_iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| b.get(from..from + n).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    (0..b.len()).any(|i| {
        digits(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
    })
}

/// Does `text` contain `word` as a whole word (letters and digits around it do not count)?
pub fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == word)
}

both_backends!(a_whole_panel_day_ends_in_three_outcome_emails, |app| async move {
    let anon = app.client(None);
    let health = anon.send("GET", "/healthz", None).await;
    assert_eq!(health.status, 200, "{health:?}");
    anon.expect(401, "GET", "/api/v1/assessments", Value::Null).await;

    // The standard, from panel-guides/.
    let listed = app.admin.get("/api/v1/standards").await;
    assert!(listed.as_array().is_some_and(|l| l.iter().any(|s| s["id"] == STANDARD)), "{listed}");
    let std = app.standard(STANDARD).await;
    assert_eq!(std.weights.get("project"), Some(&80.0));
    assert_eq!(std.weights.get("viva"), Some(&20.0));
    assert!(std.items.iter().any(|i| i.component == "project") && std.items.iter().any(|i| i.component == "viva"));

    // Registration and gateway.
    let panel = app.registered().await;
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
    let mut gate = gateway_met();
    gate["english_level2"] = json!(false);
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), gate.clone()).await;
    assert_eq!(g["status"], "registered", "{g}");
    assert_eq!(g["unmet"], json!(["english_level2"]), "{g}");
    gate["english_level2"] = json!(true);
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), gate).await;
    assert_eq!(g["status"], "gateway_passed", "{g}");

    // Panel: an insider may not be the independent assessor.
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.insider)).await;
    panel.appoint().await;
    assert_eq!(panel.status().await, "scheduled");

    // Scores: none before the declaration; bad input refused.
    let items = panel.items().to_vec();
    let (first, second) = (&items[0], &items[1]);
    let one = |item: &Item, score: i64| with(Sheet::new(), &[(item, score)]);
    panel.lm.expect(409, "PUT", &panel.path("/scores"), scores_body(&one(first, 4), false)).await;
    panel.declare().await;
    panel.lm.expect(400, "PUT", &panel.path("/scores"), scores_body(&one(first, 6), false)).await;
    panel
        .lm
        .expect(400, "PUT", &panel.path("/scores"), scores_body(&one(&Item::new("project", "NO-SUCH"), 3), false))
        .await;
    panel.lm.expect(400, "PUT", &panel.path("/scores"), scores_body(&one(first, 4), true)).await;
    let draft = panel.save(&panel.lm, &one(first, 5), false).await;
    assert_eq!(draft["missing"].as_array().map(Vec::len), Some(items.len() - 1), "{draft}");

    // LM 5/3, TP 4/2, IA 3/3 on the first two items; 4 everywhere else.
    let all4 = sheet(&items, 4);
    let lm = with(all4.clone(), &[(first, 5), (second, 3)]);
    let tp = with(all4.clone(), &[(second, 2)]);
    let ia = with(all4.clone(), &[(first, 3), (second, 3)]);
    panel.save(&panel.lm, &lm, true).await;
    panel.lm.expect(409, "PUT", &panel.path("/scores"), scores_body(&lm, true)).await;
    let seen = panel.tp.get(&panel.path("/scores")).await;
    for s in seen["sheets"].as_array().expect("sheets") {
        if s["user_id"] != json!(panel.tp.id) {
            assert!(s["scores"].is_null(), "another member's sheet is sealed: {seen}");
        }
        if s["user_id"] == json!(panel.lm.id) {
            assert_eq!(s["submitted"], true, "{seen}");
        }
    }
    panel.save(&panel.tp, &tp, true).await;
    assert_eq!(panel.status().await, "scheduled", "two of three sheets");
    panel.save(&panel.ia, &ia, true).await;
    assert_eq!(panel.status().await, "consensus", "three sheets");
    let seen = panel.lm.get(&panel.path("/scores")).await;
    let sheets = seen["sheets"].as_array().expect("sheets");
    assert_eq!(sheets.len(), 3);
    assert!(
        sheets.iter().all(|s| s["submitted"] == true && s["scores"].as_array().map(Vec::len) == Some(items.len())),
        "{seen}"
    );

    // Consensus: first agreed at 4, second deadlocked -> the assessor's 3.
    panel.lm.expect(403, "PUT", &panel.path("/consensus"), json!({"items": [], "notes": "x"})).await;
    panel
        .ia
        .expect(
            400,
            "PUT",
            &panel.path("/consensus"),
            json!({"items": [agreed(first, Some(4), "agreed")], "notes": "x"}),
        )
        .await;
    let deal = vec![
        agreed(first, Some(4), "evidence of exceeding in report section 3"),
        agreed(second, None, "panel could not agree"),
    ];
    panel.agree(deal.clone(), "Agreed on the day; one deadlock decided by the independent assessor.").await;
    panel.ia.expect(409, "POST", &panel.path("/decision"), json!({"notes": "no viva record yet"})).await;
    panel.record_viva().await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Pass", "{d}");
    let by = Panel::agreed_of(&d);
    assert_eq!(by[first], (4, "consensus".to_string()));
    assert_eq!(by[second], (3, "independent_assessor".to_string()));
    assert!(items[2..].iter().all(|i| by[i] == (4, "unanimous".to_string())), "{d}");
    let hand = std.weighted(&with(all4.clone(), &[(second, 3)]));
    assert!((d["weighted_score"].as_f64().expect("weighted_score") - hand).abs() < 1e-4, "{d} vs {hand}");

    // Moderation: no mail before confirm; a panel member may not moderate.
    app.deliver_now().await;
    assert!(app.emails().is_empty(), "no outcome email before moderation");
    panel.ia.expect(403, "POST", &panel.path("/moderation"), json!({"action": "confirm", "rationale": "mine"})).await;
    panel
        .moderator
        .expect(400, "POST", &panel.path("/moderation"), json!({"action": "refer_back", "rationale": ""}))
        .await;
    panel.moderate("refer_back", "Record why the first item exceeds the standard.").await;
    assert_eq!(panel.status().await, "consensus");
    panel.agree(deal, "Revisited after moderation.").await;
    panel.decide().await;
    app.deliver_now().await;
    assert!(app.emails().is_empty(), "no outcome email before moderation (decided again)");
    panel.moderate("confirm", "Due process followed.").await;
    assert_eq!(panel.status().await, "released");

    // Exactly three outcome emails, each naming the grade and the standard, no scores.
    let emails = app.wait_for_emails(3).await;
    assert_eq!(emails.len(), 3, "{emails:#?}");
    let mut to: Vec<String> = emails.iter().flat_map(|e| e.to.clone()).collect();
    to.sort();
    let mut want = vec![panel.apprentice.email.clone(), panel.lm.email.clone(), panel.tp.email.clone()];
    want.sort();
    assert_eq!(to, want);
    for e in &emails {
        let text = e.all_text();
        assert!(has_word(&e.subject, "Pass") && has_word(&e.text, "Pass"), "the email names the grade: {e:#?}");
        assert!(e.text.contains(STANDARD_TITLE) && e.subject.contains(STANDARD_TITLE), "names the standard: {e:#?}");
        assert!(e.text.contains(&panel.apprentice.name), "names the apprentice: {e:#?}");
        for item in &items {
            assert!(!has_word(&text, &item.criterion), "an outcome email must not list {}: {e:#?}", item.criterion);
        }
        assert!(!text.to_lowercase().contains("score"), "an outcome email carries no scores: {e:#?}");
    }
    let statuses = panel.wait_for_email_status("sent").await;
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert!(statuses.iter().all(|e| e["status"] == "sent"), "{statuses:?}");
    // One message per recipient: the apprentice's speaks to them, the others speak of them. With
    // EPA_ASSESSMENT_BODY unset each names the one assessment body there is; no contact is
    // configured, so none is invented; the date is in words, in Europe/London.
    let body = epa_panel::db::models::find_organisation(&mut app.connect(), &panel.body_id)
        .expect("read the organisation")
        .expect("the assessment body")
        .name;
    let released_at = panel.view().await["released_at"].as_str().expect("released_at").to_string();
    let on = chrono::DateTime::parse_from_rfc3339(&released_at)
        .expect("RFC 3339")
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string();
    let apprentice = &panel.apprentice.name;
    for e in &emails {
        for text in [&e.text, &e.html] {
            assert!(text.contains(&format!("confirmed by {body}")), "names the assessment body: {text}");
            assert!(text.contains(&format!("contact {body}")) && !text.contains('@'), "no invented contact: {text}");
            assert!(text.contains(&on) && !has_iso_date(text), "the date in words ({on}): {text}");
            assert!(!text.contains("20 working days"), "{text}");
        }
        let words = e.text.to_lowercase();
        if e.to == [panel.apprentice.email.clone()] {
            assert!(e.text.contains("You achieved Pass") && e.subject.starts_with("Your "), "second person: {e:#?}");
            assert!(!e.text.contains(&format!("{apprentice} achieved")), "{e:#?}");
        } else {
            assert!(e.text.contains(&format!("{apprentice} achieved Pass")), "third person: {e:#?}");
            assert!(!has_word(&words, "you") && !has_word(&words, "your"), "third person: {e:#?}");
        }
    }

    // The audit trail: oldest first, one entry per change.
    let audit = app.admin.get(&panel.path("/audit")).await;
    let audit = audit.as_array().expect("audit is a list");
    // registered, 2 gateway, panel, declaration, 4 sheet saves, 2 consensus, viva record,
    // 2 decisions, 2 moderations: at least 16 changes.
    assert!(audit.len() >= 16, "{audit:?}");
    for e in audit {
        let mut keys: Vec<&str> = e.as_object().expect("an audit entry").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["action", "actor_id", "at", "detail", "seq"], "{e}");
    }
    let times: Vec<&str> = audit.iter().map(|e| e["at"].as_str().expect("at")).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    assert!(times.iter().all(|t| t.ends_with('Z')), "{times:?}");

    // The day's figures in the reports.
    app.client(None).expect(401, "GET", "/api/v1/reports/scores.csv", Value::Null).await;
    panel.lm.expect(403, "GET", "/api/v1/reports/scores.csv", Value::Null).await;
    let scores = panel.moderator.csv("/api/v1/reports/scores.csv").await;
    let rows = scores.rows_where("assessment_id", &panel.id);
    assert_eq!(rows.len(), 3 * items.len());
    let outcomes = panel.moderator.csv("/api/v1/reports/outcomes.csv").await;
    let out = outcomes.rows_where("assessment_id", &panel.id);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0]["grade"].as_str(), out[0]["tie_breaks"].as_str()), ("Pass", "1"));
    assert_eq!(out[0]["moderation"], "confirmed");

    // A restart keeps it.
    app.restart().await;
    assert_eq!(panel.status().await, "released");
});
