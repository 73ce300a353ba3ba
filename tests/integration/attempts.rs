//! Resits and retakes (`POST …/resits`): a later attempt of the same EPA, linked both ways, that
//! scores only the components assessed again and carries the other agreed scores over; the
//! guide's grade cap and window, lifted by exceptional circumstances recorded by whom and why; the
//! first attempt's record untouched; the attempt in the reports.

use crate::app::*;
use crate::web::{hidden, Web};
use serde_json::{json, Value};

const REPORTING: &str = "reporting-l4";

/// The reporting guide with the attempts rules a resit is taken under.
fn capped_guide() -> String {
    format!("{REPORT_GUIDE}\n[attempts]\ngrade_cap = \"Pass\"\nwindow_months = 6\n")
}

fn of(p: &Panel, component: &str) -> Vec<Item> {
    p.items().iter().filter(|i| i.component == component).cloned().collect()
}

/// A released first attempt of `people`'s apprentice: the project scored `project`, the viva
/// `viva`, by all three.
async fn released(app: &TestApp, people: People, project: i64, viva: i64) -> Panel {
    let p = people.register(app, REPORTING).await;
    p.pass_gateway().await;
    p.appoint().await;
    p.declare().await;
    let mut s = sheet(&of(&p, "project"), project);
    s.extend(sheet(&of(&p, "viva"), viva));
    p.submit_all(&s, &s, &s).await;
    p.record_viva().await;
    p.decide().await;
    p.moderate("confirm", "Due process followed.").await;
    assert_eq!(p.status().await, "released");
    p
}

/// The later attempt of `p` as a panel (same people) once opened.
fn later(p: &Panel, opened: &Value) -> Panel {
    Panel { id: opened["id"].as_str().expect("id").to_string(), ..p.clone() }
}

both_backends!(a_resit_scores_only_what_failed_carries_the_rest_and_is_capped, |app| async move {
    assert_eq!(app.import_guide(&capped_guide()).await.0, 201);
    let first = app.panel_for(REPORTING, Names::default()).await;
    let mut s = sheet(&of(&first, "project"), 4);
    s.extend(sheet(&of(&first, "viva"), 2));
    first.submit_all(&s, &s, &s).await;
    first.record_viva().await;
    let failed = first.decide().await;
    assert_eq!(failed["grade"], "Not achieved", "{failed}");

    // Not yet released: no later attempt.
    let e = first.admin.refused(409, "POST", &first.path("/resits"), json!({"kind": "resit"})).await;
    assert_eq!(e.code, "resit_not_allowed", "{e:?}");
    first.moderate("confirm", "Due process followed.").await;
    let before = first.view().await;

    // Only an admin opens one.
    let e = first.ia.refused(403, "POST", &first.path("/resits"), json!({"kind": "resit"})).await;
    assert_eq!(e.code, "forbidden", "{e:?}");
    let e = first.admin.refused(400, "POST", &first.path("/resits"), json!({"kind": "again"})).await;
    assert_eq!(e.code, "invalid_body", "{e:?}");
    let e = first
        .admin
        .refused(400, "POST", &first.path("/resits"), json!({"kind": "resit", "components": ["project"]}))
        .await;
    assert!(e.message.contains("viva") && e.message.contains("components"), "{e:?}");
    let e = first
        .admin
        .refused(400, "POST", &first.path("/resits"), json!({"kind": "resit", "components": ["viva", "essay"]}))
        .await;
    assert!(e.message.contains("components[1]"), "{e:?}");

    let opened = first.admin.expect(201, "POST", &first.path("/resits"), json!({"kind": "resit"})).await;
    assert_eq!(opened["status"], "gateway_passed", "a resit stands on the first gateway: {opened}");
    assert_eq!(opened["attempt"], 2, "{opened}");
    assert_eq!(opened["previous_id"], first.id.as_str(), "{opened}");
    let second = later(&first, &opened);

    // Linked both ways; the first attempt's record is as it was but for its link.
    let after = first.view().await;
    assert_eq!(after["next_id"], second.id.as_str(), "{after}");
    assert_eq!(after["attempt"], 1, "{after}");
    for field in ["decision", "grade", "weighted_score", "status", "version", "released_at", "updated_at"] {
        assert_eq!(after[field], before[field], "{field} of the first attempt changed");
    }
    let listed = first.admin.get("/api/v1/assessments").await;
    let row = listed.as_array().expect("a list").iter().find(|a| a["id"] == first.id.as_str()).expect("listed");
    assert_eq!(row["next_id"], second.id.as_str(), "the list links them too: {row}");
    let view = second.view().await;
    assert_eq!((view["attempt"].clone(), view["previous_id"].clone()), (json!(2), json!(first.id)), "{view}");
    assert_eq!(view["next_id"], Value::Null, "{view}");
    assert_eq!(view["later_attempt"]["components"], json!(["viva"]), "{view}");
    let carried = view["later_attempt"]["carried_over"].as_array().expect("carried_over").clone();
    assert_eq!(carried.len(), of(&first, "project").len(), "{view}");
    assert!(carried
        .iter()
        .all(|i| i["component"] == "project" && i["agreed_score"] == 4 && i["decided_by"] == "carried_over"));
    assert_eq!(view["gateway"]["unmet"], json!([]), "{view}");

    // One later attempt per attempt.
    let e = first.admin.refused(409, "POST", &first.path("/resits"), json!({"kind": "retake"})).await;
    assert_eq!(e.code, "resit_not_allowed", "{e:?}");

    // The assessor who sat on the first attempt is warned of as having prior involvement.
    let appointed = second.admin.expect(200, "PUT", &second.path("/panel"), second.panel_body(&second.ia)).await;
    let warned: Vec<&Value> = appointed["warnings"].as_array().expect("warnings").iter().collect();
    assert!(warned.iter().any(|w| w["code"] == "sat_on_earlier_attempt"), "{appointed}");
    second.declare().await;
    // A carried-over item is not scored again, and is not missing from a sheet.
    let project = of(&first, "project");
    let e = second.lm.refused(400, "PUT", &second.path("/scores"), scores_body(&sheet(&project[..1], 3), false)).await;
    assert_eq!(e.code, "item_carried_over", "{e:?}");
    assert!(e.message.contains("scores[0]"), "{e:?}");
    let viva = sheet(&of(&first, "viva"), 5);
    let saved = second.save(&second.lm, &viva, false).await;
    assert_eq!(saved["missing"], json!([]), "{saved}");
    second.submit_all(&viva, &viva, &viva).await;

    // The viva is assessed again, so its record is needed before the decision.
    let e = second.ia.refused(409, "POST", &second.path("/decision"), json!({"notes": "x"})).await;
    assert_eq!(e.code, "viva_record_required", "{e:?}");
    second.record_viva().await;
    let mut ia = Web::signed_in(app, &second.ia.email).await;
    let preview = ia.get_ok(&format!("/assessments/{}/decision", second.id)).await.body;
    assert!(preview.contains("Capped at Pass") && preview.contains("the scores alone give Distinction"), "{preview}");
    assert!(preview.contains("Carried over from the attempt before"), "{preview}");
    let decision = second.decide().await;
    assert_eq!(decision["grade"], "Pass", "capped: {decision}");
    assert_eq!(decision["grade_capped"], true, "{decision}");
    assert_eq!(decision["uncapped_grade"], "Distinction", "{decision}");
    let agreed = Panel::agreed_of(&decision);
    for item in &project {
        assert_eq!(agreed[item], (4, "carried_over".to_string()), "{decision}");
    }
    second.moderate("confirm", "Due process followed.").await;
    assert_eq!(second.view().await["grade"], "Pass");

    // The reports show the attempt.
    let csv = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    assert_eq!(csv.rows_where("assessment_id", &second.id)[0]["attempt"], "2");
    assert_eq!(csv.rows_where("assessment_id", &first.id)[0]["attempt"], "1");
    let trail = second.admin.get(&second.path("/audit")).await;
    assert!(trail.as_array().expect("trail").iter().any(|e| e["action"] == "attempt.opened"), "{trail}");

    // The pages say so: the attempt, the link back, what carries over.
    let page = ia.get_ok(&format!("/assessments/{}", second.id)).await.body;
    assert!(page.contains("Resit: attempt 2") && page.contains("carried over from the attempt before"), "{page}");
    assert!(page.contains(&format!("/assessments/{}", first.id)), "a link to the attempt before");
});

both_backends!(no_resit_after_a_pass_and_none_outside_the_window_without_exceptional_circumstances, |app| async move {
    assert_eq!(app.import_guide(&capped_guide()).await.0, 201);
    let people = app.people(Names::default()).await;
    let passed = released(app, people.clone(), 3, 3).await;
    let e = passed.admin.refused(409, "POST", &passed.path("/resits"), json!({"kind": "resit"})).await;
    assert_eq!(e.code, "resit_not_allowed", "never a way from Pass to Distinction: {e:?}");
    assert!(e.message.contains("Not achieved"), "{e:?}");

    let apprentice = app.apprentice("Ben Second", &people.employer_id, &people.provider_id).await;
    let failed = released(app, People { apprentice, ..people }, 2, 3).await;
    {
        use epa_panel::db::assessments::set_decided_and_released_at;
        let mut conn = app.connect();
        let long_ago = epa_panel::db::format_time(chrono::Utc::now() - chrono::Duration::days(200));
        set_decided_and_released_at(&mut conn, &failed.id, &long_ago, &long_ago).unwrap();
    }
    let e = failed.admin.refused(409, "POST", &failed.path("/resits"), json!({"kind": "retake"})).await;
    assert_eq!(e.code, "resit_window_passed", "{e:?}");
    // Exceptional circumstances need a reason, and lift both the window and the cap.
    let body = json!({"kind": "retake", "exceptional_circumstances": true, "reason": "  "});
    let e = failed.admin.refused(400, "POST", &failed.path("/resits"), body).await;
    assert!(e.message.contains("reason"), "{e:?}");
    let body =
        json!({"kind": "retake", "exceptional_circumstances": true, "reason": "Hospital stay during the window"});
    let opened = failed.admin.expect(201, "POST", &failed.path("/resits"), body).await;
    assert_eq!(opened["status"], "registered", "a retake confirms the gateway again: {opened}");
    let retake = later(&failed, &opened);
    let view = retake.view().await;
    assert_eq!(view["later_attempt"]["components"], json!(["project"]), "{view}");
    assert_eq!(view["later_attempt"]["reason"], "Hospital stay during the window", "{view}");
    assert!(view["later_attempt"]["by"].as_str().is_some_and(|by| !by.is_empty()), "who recorded them: {view}");
    assert_eq!(view["later_attempt"]["exceptional_circumstances"], true, "{view}");
    retake.pass_gateway().await;
    retake.appoint().await;
    retake.declare().await;
    let project = sheet(&of(&failed, "project"), 5);
    retake.submit_all(&project, &project, &project).await;
    // The viva carries over, so its record is not needed again (nor asked for on the page).
    let mut ia = Web::signed_in(app, &retake.ia.email).await;
    let preview = ia.get_ok(&format!("/assessments/{}/decision", retake.id)).await.body;
    assert!(preview.contains("Confirm the decision") && !preview.contains("The viva record is empty"), "{preview}");
    let decision = retake.decide().await;
    assert_eq!(decision["grade"], "Pass", "viva 3s carried over: {decision}");
    assert_eq!(decision.get("grade_capped"), None, "{decision}");
});

both_backends!(exceptional_circumstances_lift_the_cap, |app| async move {
    assert_eq!(app.import_guide(&capped_guide()).await.0, 201);
    let failed = released(app, app.people(Names::default()).await, 4, 2).await;
    let body = json!({"kind": "resit", "exceptional_circumstances": true, "reason": "Bereavement on the day"});
    let second = later(&failed, &failed.admin.expect(201, "POST", &failed.path("/resits"), body).await);
    second.appoint().await;
    second.declare().await;
    let viva = sheet(&of(&failed, "viva"), 4);
    second.submit_all(&viva, &viva, &viva).await;
    second.record_viva().await;
    let decision = second.decide().await;
    assert_eq!(decision["grade"], "Distinction", "{decision}");
    assert_eq!(decision.get("uncapped_grade"), None, "{decision}");
});

both_backends!(a_resit_is_opened_on_the_pages_and_its_sheet_holds_only_what_is_assessed_again, |app| async move {
    assert_eq!(app.import_guide(&capped_guide()).await.0, 201);
    let people = app.people(Names::default()).await;
    let passed = released(app, people.clone(), 3, 3).await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let page = admin.get_ok(&format!("/assessments/{}", passed.id)).await.body;
    assert!(!page.contains("Open the next attempt"), "no resit after a pass");

    let apprentice = app.apprentice("Ben Second", &people.employer_id, &people.provider_id).await;
    let failed = released(app, People { apprentice, ..people }, 4, 2).await;
    let overview = format!("/assessments/{}", failed.id);
    let page = admin.get_ok(&overview).await.body;
    assert!(page.contains("Open the next attempt") && page.contains("capped at Pass"), "{page}");
    assert!(page.contains(r#"name="component" value="viva" checked"#), "the failed component ticked: {page}");
    let csrf = hidden(&page, "csrf");
    let path = format!("/assessments/{}/resits", failed.id);
    // Exceptional circumstances without a reason: refused beside the field, nothing opened.
    let fields =
        [("csrf", csrf.as_str()), ("kind", "resit"), ("component", "viva"), ("exceptional_circumstances", "1")];
    let r = admin.post(&path, &fields).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("say why exceptional circumstances apply"), "{}", r.body);
    assert_eq!(failed.view().await["next_id"], Value::Null, "nothing opened");

    let r = admin.post(&path, &[("csrf", &csrf), ("kind", "resit"), ("component", "viva")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location.expect("a redirect");
    let second_id = to.trim_start_matches("/assessments/").split('?').next().unwrap_or_default().to_string();
    assert_eq!(failed.view().await["next_id"], second_id.as_str());
    let page = admin.get_ok(&to).await.body;
    assert!(page.contains("The later attempt is opened") && page.contains("Resit: attempt 2"), "{page}");
    assert!(!admin.get_ok(&overview).await.body.contains("Open the next attempt"), "one later attempt only");

    let second = Panel { id: second_id, ..failed.clone() };
    second.appoint().await;
    second.declare().await;
    let mut lm = Web::signed_in(app, &second.lm.email).await;
    let sheet_page = lm.get_ok(&format!("/assessments/{}/scores", second.id)).await.body;
    let viva_items = of(&failed, "viva").len();
    let total = format!(r#"<span id="item-total">{viva_items}</span> items scored"#);
    assert!(sheet_page.contains(&total), "only the viva on the sheet");
    for item in of(&failed, "project") {
        assert!(!sheet_page.contains(&format!("s:project:{}", item.criterion)), "{item:?} is not scored again");
    }
    assert!(sheet_page.contains("agreed scores carried over from the attempt before"), "{sheet_page}");
    let viva = sheet(&of(&failed, "viva"), 3);
    second.submit_all(&viva, &viva, &viva).await;
    let mut ia = Web::signed_in(app, &second.ia.email).await;
    let console = ia.get_ok(&format!("/assessments/{}/consensus", second.id)).await.body;
    assert!(console.contains("Resit: attempt 2"), "{console}");
});
