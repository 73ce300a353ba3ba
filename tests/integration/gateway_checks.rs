//! The gateway by the guide's own checks (API.md, "Standards described by their guide"): each
//! check answered by id with evidence, who last changed it and when, partial saves, the refusals,
//! the v1 fields mapped onto the L4 guide's four checks, and the CIH certificate's rule of
//! combination at the knowledge check.

use crate::app::*;
use serde_json::{json, Value};

/// The small guide with three gateway checks of its own (as the C&G awards have).
fn checks_guide() -> String {
    SMALL_V1.replace("id = \"small-l3\"", "id = \"checks-l3\"")
        + r#"
[[gateway]]
id = "age_group"
title = "Age group approved 18+"

[[gateway]]
id = "occupational_currency"
title = "Current occupational currency"
description = "Have current occupational currency"

[[gateway]]
id = "authenticity_declaration"
title = "Authenticity of Evidence"
"#
}

fn check<'v>(checks: &'v Value, id: &str) -> &'v Value {
    checks.as_array().and_then(|c| c.iter().find(|c| c["id"] == id)).unwrap_or_else(|| panic!("check {id}: {checks}"))
}

fn gateway_entries(audit: &Value) -> usize {
    audit.as_array().expect("audit").iter().filter(|e| e["action"] == "gateway.recorded").count()
}

both_backends!(the_guides_own_checks_are_answered_by_id_with_evidence_and_who_changed_each, |app| async move {
    app.import_guide(&checks_guide()).await;
    let shown = app.admin.get("/api/v1/standards/checks-l3").await;
    let ids: Vec<&str> =
        shown["gateway"].as_array().expect("gateway").iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["age_group", "occupational_currency", "authenticity_declaration"], "{shown}");
    assert_eq!(shown["gateway"][1]["title"], "Current occupational currency");

    let panel = app.registered_for("checks-l3", Names::default()).await;
    let view = panel.view().await;
    assert_eq!(view["gateway"]["unmet"], json!(["age_group", "occupational_currency", "authenticity_declaration"]));
    let age = check(&view["gateway"]["checks"], "age_group");
    assert_eq!((age["title"].clone(), age["holds"].clone()), (json!("Age group approved 18+"), json!(false)));
    assert!(age["by"].is_null() && age["at"].is_null(), "never changed: {age}");

    // A partial save: only the named check changes, credited to whoever saved it.
    let body = json!({"checks": {"age_group": {"holds": true, "evidence": "Passport seen on 1 Dec"}}});
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), body.clone()).await;
    assert_eq!(g["status"], "registered", "{g}");
    assert_eq!(g["unmet"], json!(["occupational_currency", "authenticity_declaration"]), "{g}");
    let age = check(&g["checks"], "age_group").clone();
    assert_eq!((age["holds"].clone(), age["evidence"].clone()), (json!(true), json!("Passport seen on 1 Dec")));
    assert_eq!(age["by"], json!(panel.lm.id), "{g}");
    assert!(age["at"].is_string(), "{g}");
    assert!(check(&g["checks"], "occupational_currency")["by"].is_null(), "not named, not changed: {g}");
    assert_eq!(g["checks"].as_array().map(Vec::len), Some(3), "every check, in the guide's order: {g}");
    assert_eq!(g["checks"][2]["id"], "authenticity_declaration");

    // The refusals name what is at fault, and save nothing.
    let before = panel.view().await;
    let e =
        panel.lm.refused(400, "PUT", &panel.path("/gateway"), json!({"checks": {"portfolio": {"holds": true}}})).await;
    assert_eq!(e.code, "unknown_gateway_check", "{e:?}");
    assert!(e.message.starts_with("checks.portfolio:") && e.message.contains("age_group"), "{e:?}");
    let long = json!({"checks": {"age_group": {"holds": true, "evidence": "x".repeat(2001)}}});
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), long).await;
    assert_eq!(e.code, "too_long", "{e:?}");
    assert!(e.message.starts_with("checks.age_group.evidence:"), "{e:?}");
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert_eq!(e.code, "gateway_has_own_checks", "the v1 fields do not answer these checks: {e:?}");
    assert!(e.message.contains("age_group"), "{e:?}");
    let mixed = json!({"checks": {"age_group": {"holds": true}}, "portfolio_complete": true});
    assert_eq!(panel.lm.refused(400, "PUT", &panel.path("/gateway"), mixed).await.code, "invalid_body");
    let no_holds = json!({"checks": {"age_group": {"evidence": "seen"}}});
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), no_holds).await;
    assert!(e.code == "invalid_body" && e.message.contains("holds"), "{e:?}");
    let after = panel.view().await;
    assert_eq!(after["version"], before["version"], "nothing saved");
    assert_eq!(after["gateway"], before["gateway"]);

    // The same answer again, by someone else, with another check: the unchanged one keeps its
    // author and time; evidence left out stays as recorded.
    let body = json!({"checks": {"age_group": {"holds": true},
                                 "occupational_currency": {"holds": true, "evidence": "CPD record 2026"}}});
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), body).await;
    let kept = check(&g["checks"], "age_group");
    assert_eq!((kept["by"].clone(), kept["at"].clone()), (age["by"].clone(), age["at"].clone()), "{g}");
    assert_eq!(kept["evidence"], "Passport seen on 1 Dec", "{g}");
    assert_eq!(check(&g["checks"], "occupational_currency")["by"], json!(panel.tp.id), "{g}");
    assert_eq!(g["unmet"], json!(["authenticity_declaration"]));

    // Every check holds: the gateway passes; the view shows the same checks.
    let g = panel
        .admin
        .expect(200, "PUT", &panel.path("/gateway"), json!({"checks": {"authenticity_declaration": {"holds": true}}}))
        .await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("gateway_passed"), json!([])), "{g}");
    let view = panel.view().await;
    assert_eq!(view["gateway"]["checks"], g["checks"], "{view}");
    assert_eq!(view["gateway"]["unmet"], json!([]));

    // One that stops holding sends it back; a change of evidence alone is a change.
    let g =
        panel.lm.expect(200, "PUT", &panel.path("/gateway"), json!({"checks": {"age_group": {"holds": false}}})).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("registered"), json!(["age_group"])), "{g}");
    let reworded = json!({"checks": {"occupational_currency": {"holds": true, "evidence": "CPD record 2027"}}});
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), reworded).await;
    assert_eq!(check(&g["checks"], "occupational_currency")["by"], json!(panel.lm.id), "{g}");

    // Each save is one audit entry naming the checks it changed; refusals wrote none.
    let audit = app.admin.get(&panel.path("/audit")).await;
    assert_eq!(gateway_entries(&audit), 5, "{audit}");
    let last = audit.as_array().unwrap().iter().rev().find(|e| e["action"] == "gateway.recorded").unwrap();
    assert_eq!(last["detail"]["checks_changed"], json!(["occupational_currency"]), "{last}");
});

both_backends!(the_l4_guides_four_checks_take_the_v1_fields_or_their_ids, |app| async move {
    let panel = app.registered().await;
    let view = panel.view().await;
    let ids: Vec<&str> =
        view["gateway"]["checks"].as_array().expect("checks").iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["portfolio_complete", "knowledge", "english_maths", "ready"], "{view}");
    assert_eq!(view["gateway"]["checks"][1]["title"], "Knowledge demonstrated", "the guide's own title");
    assert_eq!(view["gateway"]["unmet"].as_array().map(Vec::len), Some(7), "v1 field names: {view}");

    // A v1 body: its fields answer the four checks as the contract maps them.
    let mut v1 = gateway_met();
    v1["maths_level2"] = json!(false);
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), v1.clone()).await;
    assert_eq!(g["unmet"], json!(["maths_level2"]), "v1 field names for a v1 body: {g}");
    let holds: Vec<(String, bool)> = g["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["holds"].as_bool().unwrap()))
        .collect();
    let expected = [("portfolio_complete", true), ("knowledge", true), ("english_maths", false), ("ready", true)];
    assert_eq!(holds, expected.map(|(i, h)| (i.to_string(), h)), "{g}");
    let portfolio = check(&g["checks"], "portfolio_complete").clone();
    assert_eq!(portfolio["by"], json!(panel.lm.id));
    assert!(check(&g["checks"], "english_maths")["by"].is_null(), "never held, never changed: {g}");

    // The same check by its id, with evidence: gateway ids in `unmet`.
    let by_id = json!({"checks": {"english_maths": {"holds": true, "evidence": "GCSE certificates seen"}}});
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), by_id).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("gateway_passed"), json!([])), "{g}");
    assert_eq!(check(&g["checks"], "english_maths")["by"], json!(panel.tp.id));
    assert_eq!(check(&g["checks"], "portfolio_complete")["by"], portfolio["by"], "unchanged: {g}");
    assert_eq!(check(&g["checks"], "portfolio_complete")["at"], portfolio["at"], "unchanged: {g}");

    // A v1 save that changes no check's value keeps every check's author.
    v1["maths_level2"] = json!(true);
    v1["knowledge_route"] = json!("assessment");
    let g = app.admin.expect(200, "PUT", &panel.path("/gateway"), v1).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("gateway_passed"), json!([])), "{g}");
    assert_eq!(check(&g["checks"], "english_maths")["by"], json!(panel.tp.id), "{g}");
    assert_eq!(check(&g["checks"], "english_maths")["evidence"], "GCSE certificates seen", "{g}");
    assert_eq!(check(&g["checks"], "knowledge")["by"], json!(panel.lm.id), "{g}");

    // A check by id that stops holding: the view names it by id.
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), json!({"checks": {"ready": {"holds": false}}})).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("registered"), json!(["ready"])), "{g}");
    assert_eq!(panel.view().await["gateway"]["unmet"], json!(["ready"]));
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
});

both_backends!(a_guide_listing_no_gateway_checks_has_the_v1_four, |app| async move {
    app.import_guide(SMALL_V1).await;
    let shown = app.admin.get("/api/v1/standards/small-l3").await;
    let ids: Vec<&str> =
        shown["gateway"].as_array().expect("gateway").iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["portfolio_complete", "knowledge", "english_maths", "ready"], "{shown}");
    let panel = app.registered_for("small-l3", Names::default()).await;
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert_eq!(g["status"], "gateway_passed", "{g}");
    let g =
        panel.lm.expect(200, "PUT", &panel.path("/gateway"), json!({"checks": {"knowledge": {"holds": false}}})).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("registered"), json!(["knowledge"])), "{g}");
});

/// The v1 body with the CIH certificate's reference and `units`.
fn with_units(units: &[&str]) -> Value {
    let mut body = gateway_met();
    body["knowledge_units"] = json!(units);
    body
}

both_backends!(units_that_do_not_make_the_cih_certificate_leave_the_knowledge_check_unmet, |app| async move {
    let panel = app.registered().await;
    // The mandatory unit and one optional unit: 12 credits of the 36, 6 of the optional 30.
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units(&["F/507/9169", "H/504/4186"])).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("registered"), json!(["knowledge_units"])), "{g}");
    let c = &g["certificate"];
    assert_eq!((c["achieved"].clone(), c["credits"].clone()), (json!(false), json!(12)), "{g}");
    let why: Vec<&str> = c["why"].as_array().expect("why").iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(why.len(), 2, "{g}");
    assert!(why[0].contains("36") && why[0].contains("12"), "{why:?}");
    assert!(why[1].starts_with("Optional units") && why[1].contains("30"), "{why:?}");
    assert_eq!(check(&g["checks"], "knowledge")["holds"], json!(false), "{g}");
    assert!(g["knowledge_gaps"].is_array(), "the gaps are still shown: {g}");
    let view = panel.view().await;
    assert_eq!(view["gateway"]["certificate"], g["certificate"], "{view}");
    assert_eq!(view["gateway"]["unmet"], json!(["knowledge_units"]));

    // 36 credits of optional units without the mandatory one: named as missing.
    let optional = ["H/504/4186", "L/504/4179", "F/504/4180", "M/504/4188", "R/507/9256", "Y/503/1175"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units(&optional)).await;
    assert_eq!(g["status"], "registered", "{g}");
    assert_eq!(g["certificate"]["credits"], json!(36));
    let why = g["certificate"]["why"].to_string();
    assert!(why.contains("Professional practice skills for housing (F/507/9169)"), "{why}");

    // The mandatory unit and five optional ones: the certificate, and the gateway passes.
    let made = ["F/507/9169", "H/504/4186", "L/504/4179", "F/504/4180", "M/504/4188", "R/507/9256"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units(&made)).await;
    assert_eq!((g["status"].clone(), g["unmet"].clone()), (json!("gateway_passed"), json!([])), "{g}");
    assert_eq!(g["certificate"]["achieved"], json!(true));
    assert_eq!(g["certificate"]["why"], json!([]));
    assert_eq!(g["certificate"]["pathways"], json!([]), "{g}");
    assert_eq!(check(&g["checks"], "knowledge")["holds"], json!(true));

    // A pathway's three units and 24 further credits: the pathway is named too.
    let planned = ["F/507/9169", "H/505/3597", "L/505/3593", "H/504/4186", "L/504/4179", "F/504/4180", "M/504/4188"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units(&planned)).await;
    assert_eq!(g["certificate"]["pathways"], json!(["Planned maintenance"]), "{g}");

    // Without units nothing is judged, as in v1.
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert!(g["certificate"].is_null(), "{g}");
    assert_eq!(g["status"], "gateway_passed");
});

both_backends!(the_gateway_page_shows_and_saves_the_guides_own_checks, |app| async move {
    app.import_guide(&checks_guide()).await;
    let panel = app.registered_for("checks-l3", Names::default()).await;
    let path = format!("/assessments/{}/gateway", panel.id);
    let mut lm = crate::web::Web::signed_in(app, &panel.lm.email).await;
    let page = lm.get_ok(&path).await;
    for text in ["Age group approved 18+", "Current occupational currency", "Authenticity of Evidence"] {
        assert!(page.body.contains(text), "{text}: {}", page.body);
    }
    assert!(page.body.contains("Have current occupational currency"), "the guide's description");
    assert!(page.body.contains("Not yet confirmed") && page.body.contains("name=\"evidence.age_group\""));
    assert!(!page.body.contains("knowledge_route"), "no v1 fields for a guide's own checks");

    // Ticked with evidence: saved as the line manager's, shown with who and when.
    let all = [("check", "age_group"), ("check", "occupational_currency"), ("check", "authenticity_declaration")];
    let mut fields = all.to_vec();
    fields.extend([("holds.age_group", "true"), ("evidence.age_group", "Passport seen on 1 Dec")]);
    let r = lm.submit(&path, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lm.get_ok(&path).await;
    assert!(page.body.contains("Passport seen on 1 Dec"), "{}", page.body);
    assert!(page.body.contains("Confirmed by Lena Line on"), "{}", page.body);
    assert!(page.body.contains("2 of the 3 checks still needed"), "{}", page.body);
    let view = panel.view().await;
    let age = check(&view["gateway"]["checks"], "age_group");
    assert_eq!((age["holds"].clone(), age["by"].clone()), (json!(true), json!(panel.lm.id)), "{view}");
    assert!(check(&view["gateway"]["checks"], "occupational_currency")["by"].is_null(), "unchanged: {view}");

    // Evidence over the limit: refused beside its box, with what was typed kept; nothing saved.
    let long = "x".repeat(2001);
    let mut fields = all.to_vec();
    fields.extend([("holds.age_group", "true"), ("holds.occupational_currency", "true")]);
    fields.push(("evidence.occupational_currency", &long));
    let r = lm.submit(&path, &fields).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Shorten or correct the evidence") && r.body.contains("aria-invalid"), "{}", r.body);
    assert!(r.body.contains("href=\"#field-evidence.occupational_currency\""), "{}", r.body);
    assert_eq!(panel.view().await["version"], view["version"], "nothing saved");

    // Every check ticked: the gateway passes; the evidence left as it was keeps its author.
    let mut fields = all.to_vec();
    fields.extend([
        ("holds.age_group", "true"),
        ("evidence.age_group", "Passport seen on 1 Dec"),
        ("holds.occupational_currency", "true"),
        ("holds.authenticity_declaration", "true"),
    ]);
    let mut tp = crate::web::Web::signed_in(app, &panel.tp.email).await;
    let r = tp.submit(&path, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = tp.get_ok(&path).await;
    assert!(page.body.contains("Every gateway check is met"), "{}", page.body);
    assert!(page.body.contains("Confirmed by Tom Tutor on"), "{}", page.body);
    let view = panel.view().await;
    assert_eq!(view["status"], "gateway_passed");
    assert_eq!(check(&view["gateway"]["checks"], "age_group")["by"], json!(panel.lm.id), "{view}");
    assert_eq!(check(&view["gateway"]["checks"], "authenticity_declaration")["by"], json!(panel.tp.id));
});

both_backends!(the_l4_gateway_page_keeps_the_v1_fields_and_says_when_units_miss_the_certificate, |app| async move {
    let panel = app.registered().await;
    let path = format!("/assessments/{}/gateway", panel.id);
    let mut lm = crate::web::Web::signed_in(app, &panel.lm.email).await;
    let page = lm.get_ok(&path).await;
    assert!(page.body.contains("Knowledge demonstrated") && page.body.contains("name=\"knowledge_route\""));
    assert!(!page.body.contains("name=\"check\""), "the v1 form for the L4 guide");
    let fields = [
        ("portfolio_complete", "true"),
        ("knowledge_route", "qualification"),
        ("knowledge_reference", "CIH 603/1433/3"),
        ("knowledge_units", "F/507/9169"),
        ("knowledge_units", "H/504/4186"),
        ("english_level2", "true"),
        ("maths_level2", "true"),
        ("employer_ready", "true"),
        ("provider_ready", "true"),
    ];
    let r = lm.submit(&path, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lm.get_ok(&path).await;
    assert!(page.body.contains("The units named do not make the qualification"), "{}", page.body);
    assert!(page.body.contains("needs at least 36 credits"), "{}", page.body);
    assert!(page.body.contains("Units achieved that make the qualification"), "named in unmet: {}", page.body);
    let view = panel.view().await;
    assert_eq!(
        (view["status"].clone(), view["gateway"]["unmet"].clone()),
        (json!("registered"), json!(["knowledge_units"]))
    );
});
