//! Reviews and appeals (`POST …/{id}/appeals`, `GET /appeals[/{appeal_id}]`,
//! `PUT /appeals/{appeal_id}/reviewer`, `POST /appeals/{appeal_id}/decision`): lodged against a
//! released outcome, reviewed by an independent assessor with no part in it, decided once;
//! upheld, the agreed scores and grade change, the earlier grade is kept and one amended outcome
//! email per recipient arrives on the real SMTP server.

use crate::app::*;
use serde_json::{json, Value};

const GROUNDS: &str = "The viva questions on legislation were not asked.";

/// A released assessment of `people` (everyone scoring `score`): gateway, panel, declaration,
/// sheets, viva, decision, moderation.
async fn released_for(app: &TestApp, people: People, score: i64) -> Panel {
    let p = people.register(app, STANDARD).await;
    p.pass_gateway().await;
    p.appoint().await;
    p.declare().await;
    p.release_unanimous(score).await;
    assert_eq!(p.status().await, "released");
    p
}

async fn released(app: &TestApp, score: i64) -> Panel {
    let p = app.panel().await;
    p.release_unanimous(score).await;
    assert_eq!(p.status().await, "released");
    p
}

/// Another independent assessor of the assessment body, free to review.
async fn reviewer(app: &TestApp, p: &Panel, n: &str) -> Member {
    app.user(&format!("rita{n}@fairepa.test"), &format!("Rita Reviewer {n}"), "independent_assessor", &p.body_id).await
}

async fn lodge(p: &Panel, body: Value) -> String {
    let a = p.admin.expect(201, "POST", &p.path("/appeals"), body).await;
    assert_eq!(a["status"], "open", "{a}");
    id_of(&a)
}

fn appeal_path(id: &str, sub: &str) -> String {
    format!("/api/v1/appeals/{id}{sub}")
}

async fn appoint(p: &Panel, appeal: &str, reviewer: &Member) -> Value {
    p.admin.expect(200, "PUT", &appeal_path(appeal, "/reviewer"), json!({"reviewer_id": reviewer.id})).await
}

fn all_items(p: &Panel, score: i64) -> Vec<Value> {
    p.items()
        .iter()
        .map(|i| json!({"component": i.component, "criterion": i.criterion, "agreed_score": score}))
        .collect()
}

async fn audited(p: &Panel, action: &str) -> Vec<Value> {
    let trail = p.admin.get(&p.path("/audit")).await;
    trail.as_array().unwrap().iter().filter(|e| e["action"] == action).map(|e| e["detail"].clone()).collect()
}

fn amended_emails(app: &TestApp) -> Vec<Email> {
    app.emails().into_iter().filter(|e| e.subject.starts_with("Amended")).collect()
}

both_backends!(lodging_needs_a_released_outcome_and_names_the_field, |app| async move {
    let p = app.panel().await;
    let path = p.path("/appeals");
    let body = json!({"grounds": GROUNDS});
    // 401, 404, 403 in that order.
    assert_eq!(app.client(None).refused(401, "POST", &path, body.clone()).await.code, "unauthorized");
    let e = p.admin.refused(404, "POST", "/api/v1/assessments/nope/appeals", body.clone()).await;
    assert_eq!(e.code, "not_found");
    assert_eq!(p.moderator.refused(403, "POST", &path, body.clone()).await.code, "forbidden");
    assert_eq!(p.lm.refused(403, "POST", &path, body.clone()).await.code, "forbidden");
    // 400s name the field, before the 409 of the state.
    let e = p.admin.refused(400, "POST", &path, json!({"grounds": "  "})).await;
    assert!(e.message.starts_with("grounds:"), "{e:?}");
    let e = p.admin.refused(400, "POST", &path, json!({"grounds": GROUNDS, "requested_by": "friend"})).await;
    assert_eq!((e.code.as_str(), e.message.starts_with("requested_by:")), ("invalid_choice", true), "{e:?}");
    let first = &p.items()[0];
    let items = json!([{"component": first.component, "criterion": first.criterion},
                       {"component": "project", "criterion": "NOPE"}]);
    let e = p.admin.refused(400, "POST", &path, json!({"grounds": GROUNDS, "items": items})).await;
    assert_eq!(e.code, "unknown_score_item");
    assert!(e.message.starts_with("items[1]:") && e.message.contains("project/NOPE"), "{e:?}");
    // Not released yet: 409.
    let e = p.admin.refused(409, "POST", &path, body.clone()).await;
    assert_eq!(e.code, "wrong_state");
    assert!(e.message.contains("released") && e.message.contains("scheduled"), "{e:?}");
    let s = sheet(p.items(), 3);
    p.submit_all(&s, &s, &s).await;
    p.record_viva().await;
    p.decide().await;
    assert_eq!(p.admin.refused(409, "POST", &path, body.clone()).await.code, "wrong_state", "decided, not released");
    p.moderate("confirm", "Due process followed.").await;

    let id =
        lodge(&p, json!({"grounds": GROUNDS, "items": [{"component": first.component, "criterion": first.criterion}]}))
            .await;
    let second = lodge(&p, json!({"grounds": "The employer asks too.", "requested_by": "employer"})).await;
    let shown = p.moderator.get(&appeal_path(&id, "")).await;
    assert_eq!(
        (&shown["assessment_id"], &shown["status"], &shown["grounds"], &shown["requested_by"], &shown["reviewer"]),
        (&json!(p.id), &json!("open"), &json!(GROUNDS), &json!("apprentice"), &Value::Null),
        "{shown}"
    );
    assert_eq!(shown["items"], json!([{"component": first.component, "criterion": first.criterion}]));
    assert_eq!((&shown["decision"], &shown["related"]), (&Value::Null, &json!([])));
    let list = p.admin.get("/api/v1/appeals").await;
    let ids: Vec<String> = list.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, [second.clone(), id.clone()], "newest first");
    assert_eq!(p.moderator.get("/api/v1/appeals").await.as_array().map(Vec::len), Some(2));
    // Panel members do not see appeals: the list is staff's (403), an appeal unknown to them (404).
    assert_eq!(p.lm.refused(403, "GET", "/api/v1/appeals", Value::Null).await.code, "forbidden");
    assert_eq!(p.ia.refused(404, "GET", &appeal_path(&id, ""), Value::Null).await.code, "not_found");
    assert_eq!(p.admin.refused(404, "GET", &appeal_path("nope", ""), Value::Null).await.code, "not_found");
    assert_eq!(app.client(None).refused(401, "GET", "/api/v1/appeals", Value::Null).await.code, "unauthorized");
    let lodged = audited(&p, "appeal.lodged").await;
    assert_eq!(lodged.len(), 2, "{lodged:?}");
    assert_eq!((&lodged[0]["appeal_id"], &lodged[0]["grounds"]), (&json!(id), &json!(GROUNDS)));
    assert_eq!(lodged[1]["requested_by"], "employer");
});

both_backends!(the_reviewer_has_no_part_in_the_assessment, |app| async move {
    let p = released(app, 3).await;
    let id = lodge(&p, json!({"grounds": GROUNDS})).await;
    let path = appeal_path(&id, "/reviewer");
    let conflicted = |why: &'static str| why;
    let cases: Vec<(&str, String, &str)> = vec![
        ("panel member", p.ia.id.clone(), conflicted("sat on this assessment's panel")),
        ("panel line manager", p.lm.id.clone(), conflicted("sat on this assessment's panel")),
        ("moderator", p.moderator.id.clone(), conflicted("moderated this assessment")),
        ("employer's staff", p.insider.id.clone(), conflicted("works for the apprentice's employer")),
        ("provider's staff", p.provider_insider.id.clone(), conflicted("works for the apprentice's training provider")),
    ];
    for (who, reviewer_id, why) in cases {
        let e = p.admin.refused(409, "PUT", &path, json!({"reviewer_id": reviewer_id})).await;
        assert_eq!(e.code, "reviewer_conflicted", "{who}: {e:?}");
        assert!(e.message.starts_with("reviewer_id:") && e.message.contains(why), "{who}: {e:?}");
    }
    // No organisation: the tie cannot be ruled out.
    let loner = app.assessor_without_organisation("lone@nowhere.test").await;
    let e = p.admin.refused(409, "PUT", &path, json!({"reviewer_id": loner})).await;
    assert_eq!(e.code, "reviewer_conflicted");
    assert!(e.message.contains("no organisation") && e.message.contains("cannot be ruled out"), "{e:?}");
    // Not an assessor (and otherwise unconflicted).
    let other_moderator = app.user("mo2@fairepa.test", "Mo Other", "moderator", &p.body_id).await;
    let e = p.admin.refused(409, "PUT", &path, json!({"reviewer_id": other_moderator.id})).await;
    assert_eq!(e.code, "reviewer_not_assessor", "{e:?}");
    // 400 for no such user; 403 for anyone but an admin; 404 for an unknown appeal.
    let e = p.admin.refused(400, "PUT", &path, json!({"reviewer_id": "nobody"})).await;
    assert_eq!((e.code.as_str(), e.message.starts_with("reviewer_id:")), ("unknown_user", true), "{e:?}");
    let e = p.admin.refused(400, "PUT", &path, json!({})).await;
    assert!(e.message.contains("reviewer_id"), "{e:?}");
    let rita = reviewer(app, &p, "1").await;
    assert_eq!(p.moderator.refused(403, "PUT", &path, json!({"reviewer_id": rita.id})).await.code, "forbidden");
    let unknown = appeal_path("nope", "/reviewer");
    assert_eq!(p.admin.refused(404, "PUT", &unknown, json!({"reviewer_id": rita.id})).await.code, "not_found");
    assert_eq!(audited(&p, "appeal.reviewer_appointed").await, Vec::<Value>::new(), "nothing half-saved");

    let a = appoint(&p, &id, &rita).await;
    assert_eq!(
        (&a["status"], &a["reviewer"]["id"], &a["reviewer"]["name"]),
        (&json!("under_review"), &json!(rita.id), &json!(rita.name))
    );
    // The reviewer sees the appeal they review; another assessor does not.
    assert_eq!(rita.get(&appeal_path(&id, "")).await["status"], "under_review");
    let ruth = reviewer(app, &p, "2").await;
    assert_eq!(ruth.refused(404, "GET", &appeal_path(&id, ""), Value::Null).await.code, "not_found");
    // Replaced while under review.
    assert_eq!(appoint(&p, &id, &ruth).await["reviewer"]["id"], json!(ruth.id));
    assert_eq!(rita.refused(404, "GET", &appeal_path(&id, ""), Value::Null).await.code, "not_found");
    let appointed = audited(&p, "appeal.reviewer_appointed").await;
    assert_eq!(appointed.len(), 2);
    assert_eq!((&appointed[1]["reviewer_id"], &appointed[1]["replaces"]), (&json!(ruth.id), &json!(rita.id)));
});

both_backends!(upheld_changes_the_grade_keeps_the_old_and_emails_each_recipient_once, |app| async move {
    let p = released(app, 3).await;
    assert_eq!(app.wait_for_emails(3).await.len(), 3, "the three outcome emails");
    let id = lodge(&p, json!({"grounds": GROUNDS})).await;
    let rita = reviewer(app, &p, "1").await;
    let path = appeal_path(&id, "/decision");
    let upheld = json!({"outcome": "upheld", "items": all_items(&p, 4), "rationale": "Every criterion met 4."});
    // Before a reviewer: only the appointed reviewer decides, and there is none.
    assert_eq!(rita.refused(404, "POST", &path, upheld.clone()).await.code, "not_found");
    appoint(&p, &id, &rita).await;
    assert_eq!(p.admin.refused(403, "POST", &path, upheld.clone()).await.code, "forbidden");
    assert_eq!(p.moderator.refused(403, "POST", &path, upheld.clone()).await.code, "forbidden");
    assert_eq!(p.ia.refused(404, "POST", &path, upheld.clone()).await.code, "not_found");
    // 400s name the field.
    let e = rita.refused(400, "POST", &path, json!({"outcome": "maybe", "rationale": "x"})).await;
    assert!(e.message.starts_with("outcome:"), "{e:?}");
    let e = rita.refused(400, "POST", &path, json!({"outcome": "upheld", "rationale": " "})).await;
    assert!(e.message.starts_with("rationale:"), "{e:?}");
    let bad = json!([{"component": "project", "criterion": "NOPE", "agreed_score": 4}]);
    let e = rita.refused(400, "POST", &path, json!({"outcome": "upheld", "items": bad, "rationale": "x"})).await;
    assert_eq!((e.code.as_str(), e.message.starts_with("items[0]:")), ("unknown_score_item", true), "{e:?}");
    let mut off = all_items(&p, 4);
    off[1]["agreed_score"] = json!(9);
    let e = rita.refused(400, "POST", &path, json!({"outcome": "upheld", "items": off, "rationale": "x"})).await;
    assert_eq!(
        (e.code.as_str(), e.message.starts_with("items[1].agreed_score:")),
        ("score_out_of_scale", true),
        "{e:?}"
    );
    let e = rita
        .refused(400, "POST", &path, json!({"outcome": "not_upheld", "items": all_items(&p, 4), "rationale": "x"}))
        .await;
    assert!(e.message.starts_with("items:"), "{e:?}");
    assert_eq!(p.view().await["grade"], "Pass", "nothing half-saved");

    let before = p.view().await;
    let d = rita.expect(200, "POST", &path, upheld.clone()).await;
    assert_eq!(d["status"], "upheld", "{d}");
    let decision = &d["decision"];
    assert_eq!(
        (&decision["grade_before"], &decision["grade_after"], &decision["amended"], &decision["decided_by"]),
        (&json!("Pass"), &json!("Distinction"), &json!(true), &json!(rita.id)),
        "{d}"
    );
    assert_eq!(decision["changes"].as_array().map(Vec::len), Some(p.items().len()));
    assert_eq!(d["related"], json!([]));
    let after = p.view().await;
    assert_eq!(
        (&after["grade"], &after["amended"], &after["status"]),
        (&json!("Distinction"), &json!(true), &json!("released"))
    );
    assert!(after["weighted_score"].as_f64() > before["weighted_score"].as_f64(), "{after}");
    assert_eq!(after["decision"]["items"][0]["decided_by"], "appeal");
    let history = after["grade_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        (&history[0]["grade"], &history[0]["reason"], &history[0]["at"]),
        (&json!("Pass"), &json!("decision"), &before["decided_at"])
    );
    assert_eq!(
        (&history[0]["weighted_score"], &history[1]["grade"]),
        (&before["weighted_score"], &json!("Distinction"))
    );
    assert_eq!((&history[1]["reason"], &history[1]["appeal_id"]), (&json!("appeal_upheld"), &json!(id)));
    assert_eq!(before["amended"], json!(false));
    assert_eq!(before["grade_history"], json!([]));
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    let rows = outcomes.rows_where("assessment_id", &p.id);
    assert_eq!((rows.len(), rows[0]["amended"].as_str(), rows[0]["grade"].as_str()), (1, "true", "Distinction"));

    // Exactly one amended email per recipient, on the real SMTP server.
    app.wait_for_emails(6).await;
    let amended = amended_emails(app);
    let mut to: Vec<String> = amended.iter().flat_map(|e| e.to.clone()).collect();
    to.sort();
    let mut expected = vec![p.apprentice.email.to_lowercase(), p.lm.email.to_lowercase(), p.tp.email.to_lowercase()];
    expected.sort();
    assert_eq!(to, expected, "{amended:#?}");
    for e in &amended {
        assert!(e.subject.contains("Distinction"), "{}", e.subject);
        assert!(e.text.contains("reviewed on appeal") && e.text.contains("from Pass to Distinction"), "{}", e.text);
    }
    // Decided once: a second decision is refused, and no more mail.
    let e = rita.refused(409, "POST", &path, upheld.clone()).await;
    assert_eq!(e.code, "wrong_state");
    assert_eq!(
        p.admin.refused(409, "PUT", &appeal_path(&id, "/reviewer"), json!({"reviewer_id": rita.id})).await.code,
        "wrong_state"
    );
    app.deliver_now().await;
    assert_eq!(amended_emails(app).len(), 3);
    assert_eq!(app.emails().len(), 6);
    let decided = audited(&p, "appeal.decided").await;
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(
        (&decided[0]["outcome"], &decided[0]["emails_queued"], &decided[0]["grade_after"]),
        (&json!("upheld"), &json!(3), &json!("Distinction"))
    );
});

both_backends!(not_upheld_and_an_unchanged_grade_send_no_email, |app| async move {
    let p = released(app, 3).await;
    app.wait_for_emails(3).await;
    let rita = reviewer(app, &p, "1").await;
    let first = lodge(&p, json!({"grounds": GROUNDS})).await;
    appoint(&p, &first, &rita).await;
    let d = rita
        .expect(
            200,
            "POST",
            &appeal_path(&first, "/decision"),
            json!({"outcome": "not_upheld", "rationale": "  The questions were asked.  "}),
        )
        .await;
    assert_eq!(
        (&d["status"], &d["decision"]["rationale"], &d["decision"]["amended"]),
        (&json!("not_upheld"), &json!("The questions were asked."), &json!(false)),
        "{d}"
    );
    assert_eq!(d["decision"]["changes"], json!([]));
    let shown = p.moderator.get(&appeal_path(&first, "")).await;
    assert_eq!(shown["decision"]["outcome"], "not_upheld");
    assert!(shown["decision"]["decided_at"].as_str().is_some(), "{shown}");
    let view = p.view().await;
    assert_eq!((&view["grade"], &view["amended"], &view["grade_history"]), (&json!("Pass"), &json!(false), &json!([])));

    // Upheld, one score raised but the grade stays Pass: amended, no email.
    let second = lodge(&p, json!({"grounds": "One criterion deserved a 4."})).await;
    appoint(&p, &second, &rita).await;
    let one = vec![all_items(&p, 4).remove(0)];
    let d = rita
        .expect(
            200,
            "POST",
            &appeal_path(&second, "/decision"),
            json!({"outcome": "upheld", "items": one, "rationale": "Criterion one deserved 4."}),
        )
        .await;
    assert_eq!(
        (&d["decision"]["grade_before"], &d["decision"]["grade_after"]),
        (&json!("Pass"), &json!("Pass")),
        "{d}"
    );
    let view = p.view().await;
    assert_eq!((&view["grade"], &view["amended"]), (&json!("Pass"), &json!(true)));
    assert_eq!(view["grade_history"].as_array().map(Vec::len), Some(2));
    app.deliver_now().await;
    assert_eq!(amended_emails(app).len(), 0);
    assert_eq!(app.emails().len(), 3);
    let decided = audited(&p, "appeal.decided").await;
    assert_eq!(decided.iter().map(|d| d["emails_queued"].clone()).collect::<Vec<_>>(), [json!(0), json!(0)]);
});

both_backends!(related_lists_the_assessors_other_released_outcomes_of_the_year, |app| async move {
    let p = released(app, 3).await;
    // The same independent assessor: one released this year, one decided 13 months ago, one
    // decided and not yet released.
    let app = &*app;
    let again = |name: &'static str| {
        let people = p.people.clone();
        async move {
            let apprentice = app.apprentice(name, &people.employer_id, &people.provider_id).await;
            People { apprentice, ..people }
        }
    };
    let recent = released_for(app, again("Ben Recent").await, 3).await;
    let old = released_for(app, again("Olly Old").await, 3).await;
    {
        use epa_panel::db::assessments::set_decided_and_released_at;
        let mut conn = app.connect();
        let long_ago = epa_panel::db::format_time(chrono::Utc::now() - chrono::Duration::days(400));
        set_decided_and_released_at(&mut conn, &old.id, &long_ago, &long_ago).unwrap();
    }
    let pending = again("Dee Decided").await.register(app, STANDARD).await;
    pending.pass_gateway().await;
    pending.appoint().await;
    pending.declare().await;
    let s = sheet(pending.items(), 3);
    pending.submit_all(&s, &s, &s).await;
    pending.record_viva().await;
    pending.decide().await;
    // Another assessor's released assessment.
    let other = released(app, 3).await;
    assert_ne!(other.ia.id, p.ia.id);

    let id = lodge(&p, json!({"grounds": GROUNDS})).await;
    let rita = reviewer(app, &p, "1").await;
    appoint(&p, &id, &rita).await;
    let d = rita
        .expect(200, "POST", &appeal_path(&id, "/decision"), json!({"outcome": "not_upheld", "rationale": "Sound."}))
        .await;
    assert_eq!(d["related"], json!([recent.id]), "{d}");
    assert_eq!(p.admin.get(&appeal_path(&id, "")).await["related"], json!([recent.id]), "kept with the decision");
    assert_eq!(audited(&p, "appeal.decided").await[0]["related"], json!([recent.id]));
});

/// The amended outcome email, byte for byte (SQLite; the runs above check its content on both).
#[actix_web::test]
async fn the_amended_outcome_email_snapshot() {
    use crate::snapshots::{ids_of, mask};
    let app = TestApp::builder(Backend::Sqlite).start().await.expect("SQLite always runs");
    let p = released(&app, 3).await;
    app.wait_for_emails(3).await;
    let id = lodge(&p, json!({"grounds": GROUNDS})).await;
    let rita = reviewer(&app, &p, "1").await;
    appoint(&p, &id, &rita).await;
    rita.expect(
        200,
        "POST",
        &appeal_path(&id, "/decision"),
        json!({"outcome": "upheld", "items": all_items(&p, 4), "rationale": "All 4."}),
    )
    .await;
    app.wait_for_emails(6).await;
    let ids = ids_of(&p);
    let amended = amended_emails(&app);
    let email = amended.iter().find(|e| e.to == [p.apprentice.email.to_lowercase()]).expect("the apprentice's");
    insta::assert_snapshot!("amended_outcome_email_apprentice_subject", mask(&email.subject, &ids));
    insta::assert_snapshot!("amended_outcome_email_apprentice_text", mask(&email.text, &ids));
    insta::assert_snapshot!("amended_outcome_email_apprentice_html", mask(&email.html, &ids));
    let email = amended.iter().find(|e| e.to == [p.lm.email.to_lowercase()]).expect("the line manager's");
    insta::assert_snapshot!("amended_outcome_email_line_manager_text", mask(&email.text, &ids));
    app.shutdown().await;
}
