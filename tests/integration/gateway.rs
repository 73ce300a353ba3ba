//! The gateway: which checks are unmet (in the contract's order), when it passes, and how a later
//! change sends the assessment back to `registered`.

use crate::app::*;
use serde_json::{json, Value};

both_backends!(unmet_gateway_checks_are_named_in_contract_order, |app| async move {
    let panel = app.registered().await;
    let view = panel.view().await;
    assert_eq!(view["status"], "registered");
    assert!(view["grade"].is_null() && view["weighted_score"].is_null(), "{view}");

    // Everything unmet: all seven, in the contract's order.
    let nothing = json!({"portfolio_complete": false, "knowledge_route": null, "knowledge_reference": "",
                         "english_level2": false, "maths_level2": false, "employer_ready": false, "provider_ready": false});
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), nothing).await;
    assert_eq!(g["status"], "registered", "{g}");
    assert_eq!(
        g["unmet"],
        json!([
            "portfolio_complete",
            "knowledge_route",
            "knowledge_reference",
            "english_level2",
            "maths_level2",
            "employer_ready",
            "provider_ready"
        ]),
        "{g}"
    );

    // A few unmet, out of order in the body: still in the contract's order.
    let some = json!({"provider_ready": false, "maths_level2": true, "english_level2": true,
                      "knowledge_reference": "", "knowledge_route": "assessment", "employer_ready": true,
                      "portfolio_complete": false});
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), some).await;
    assert_eq!(g["unmet"], json!(["portfolio_complete", "knowledge_reference", "provider_ready"]), "{g}");
    assert_eq!(g["status"], "registered");

    // knowledge_route null does not hold; each single failing field is named alone.
    for field in [
        "portfolio_complete",
        "knowledge_route",
        "knowledge_reference",
        "english_level2",
        "maths_level2",
        "employer_ready",
        "provider_ready",
    ] {
        let mut gate = gateway_met();
        gate[field] = match field {
            "knowledge_route" => Value::Null,
            "knowledge_reference" => json!(""),
            _ => json!(false),
        };
        let g = app.admin.expect(200, "PUT", &panel.path("/gateway"), gate).await;
        assert_eq!(g["unmet"], json!([field]), "{field}: {g}");
        assert_eq!(g["status"], "registered", "{field}: {g}");
    }

    // All met: gateway_passed, by the line manager, the provider or the admin alike.
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert_eq!(g["status"], "gateway_passed", "{g}");
    assert_eq!(g["unmet"], json!([]), "{g}");
    assert_eq!(panel.status().await, "gateway_passed");
    let mut route = gateway_met();
    route["knowledge_route"] = json!("assessment");
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), route).await;
    assert_eq!(g["status"], "gateway_passed", "the alternative knowledge assessment also holds: {g}");

    // A later change that leaves one unmet: back to registered, and no panel can be set.
    let mut lapsed = gateway_met();
    lapsed["maths_level2"] = json!(false);
    let g = panel.tp.expect(200, "PUT", &panel.path("/gateway"), lapsed).await;
    assert_eq!(g["status"], "registered", "{g}");
    assert_eq!(g["unmet"], json!(["maths_level2"]), "{g}");
    assert_eq!(panel.status().await, "registered");
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;

    // Met again: passes again, and the panel can now be appointed.
    let g = app.admin.expect(200, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert_eq!(g["status"], "gateway_passed", "{g}");
    panel.appoint().await;

    // The view carries the gateway, and the audit trail has each confirmation.
    let view = panel.view().await;
    assert_eq!(view["gateway"]["unmet"], json!([]), "{view}");
    let audit = app.admin.get(&panel.path("/audit")).await;
    let gateway_entries = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.contains("gateway")))
        .count();
    assert_eq!(gateway_entries, 13, "one audit entry per gateway change: {audit}");
});

both_backends!(the_qualifications_units_show_the_knowledge_it_did_not_cover, |app| async move {
    let panel = app.registered().await;
    let with_units = |route: &str, reference: &str, units: &[&str]| {
        let mut body = gateway_met();
        body["knowledge_route"] = json!(route);
        body["knowledge_reference"] = json!(reference);
        body["knowledge_units"] = json!(units);
        body
    };
    let cih = "CIH Level 4 Certificate in Managing Housing Maintenance 603/1433/3";
    // Professional practice skills (no knowledge area) + The legal framework (Legislation, K1) +
    // four optional units that cover no knowledge area beyond K1-K4 and K6: the certificate (36
    // credits: the mandatory unit and five optional ones), K5 left for the viva.
    let units = ["F/507/9169", "H/504/4186", "F/504/4180", "M/504/4188", "R/507/9256", "F/507/9172"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units("qualification", cih, &units)).await;
    assert_eq!(g["status"], "gateway_passed", "{g}");
    let gaps: Vec<&str> =
        g["knowledge_gaps"].as_array().expect("gaps").iter().map(|c| c["criterion"].as_str().unwrap()).collect();
    assert_eq!(gaps, ["K5"], "{g}");
    let view = panel.view().await;
    assert_eq!(view["gateway"]["knowledge_gaps"], g["knowledge_gaps"], "{view}");
    assert_eq!(view["gateway"]["knowledge_units"], json!(units));

    // Two units leave more gaps (and do not make the certificate: see gateway_checks.rs).
    let two = ["F/507/9169", "H/504/4186"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units("qualification", cih, &two)).await;
    let gaps: Vec<&str> =
        g["knowledge_gaps"].as_array().expect("gaps").iter().map(|c| c["criterion"].as_str().unwrap()).collect();
    assert_eq!(gaps, ["K2", "K3", "K4", "K5", "K6"], "{g}");
    assert_eq!(g["status"], "registered", "{g}");

    // Units that cover every knowledge area leave no gap.
    let all = ["H/504/4186", "L/504/4179", "Y/503/1175"];
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), with_units("qualification", cih, &all)).await;
    assert_eq!(g["knowledge_gaps"], json!([]), "{g}");

    // Without units nothing can be told; units need the qualification route, a mapped
    // qualification and real unit ids — each refusal names the field and saves nothing.
    let g = panel.lm.expect(200, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert!(g["knowledge_gaps"].is_null(), "{g}");
    let before = panel.view().await;
    for (body, code) in [
        (with_units("assessment", "In-house test 2026", &["H/504/4186"]), "knowledge_units_without_qualification"),
        (with_units("qualification", "Some other certificate 601/0000/0", &["H/504/4186"]), "unknown_qualification"),
        (with_units("qualification", cih, &["X/000/0000"]), "unknown_unit"),
    ] {
        let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), body).await;
        assert_eq!(e.code, code, "{e:?}");
        assert!(e.message.starts_with("knowledge_units:"), "{e:?}");
    }
    assert_eq!(panel.view().await["version"], before["version"], "nothing saved");
});

both_backends!(each_gateway_check_credits_only_whoever_changed_it, |app| async move {
    let panel = app.registered().await;
    let changes = |view: &Value| view["gateway"]["changes"].clone();

    // The line manager's first save sets one check: only that one is theirs.
    let mut first = json!({"portfolio_complete": true, "knowledge_route": null, "knowledge_reference": "",
                           "english_level2": false, "maths_level2": false, "employer_ready": false, "provider_ready": false});
    panel.lm.expect(200, "PUT", &panel.path("/gateway"), first.clone()).await;
    let view = panel.view().await;
    let c = changes(&view);
    assert_eq!(c.as_object().map(|o| o.len()), Some(1), "only the check that changed is credited: {view}");
    assert_eq!(c["portfolio_complete"]["changed_by"], json!(panel.lm.id), "{view}");
    assert_eq!(c["portfolio_complete"]["holds"], json!(true), "{view}");
    assert!(c["portfolio_complete"]["changed_at"].is_string(), "{view}");
    assert!(view["gateway"]["confirmations"].get("provider_ready").is_none(), "{view}");
    let lm_at = c["portfolio_complete"]["changed_at"].clone();

    // The provider's later save credits the provider with what it changed, and nothing else.
    first["provider_ready"] = json!(true);
    first["english_level2"] = json!(true);
    panel.tp.expect(200, "PUT", &panel.path("/gateway"), first.clone()).await;
    let view = panel.view().await;
    let c = changes(&view);
    assert_eq!(c.as_object().map(|o| o.len()), Some(3), "{view}");
    assert_eq!(
        c["portfolio_complete"]["changed_by"],
        json!(panel.lm.id),
        "unchanged, still the line manager's: {view}"
    );
    assert_eq!(c["portfolio_complete"]["changed_at"], lm_at, "{view}");
    assert_eq!(c["provider_ready"]["changed_by"], json!(panel.tp.id), "{view}");
    assert_eq!(c["english_level2"]["changed_by"], json!(panel.tp.id), "{view}");
    assert!(c.get("employer_ready").is_none(), "the employer's view was never given: {view}");

    // A change to No is recorded as that person's, and does not hold.
    first["english_level2"] = json!(false);
    panel.lm.expect(200, "PUT", &panel.path("/gateway"), first).await;
    let c = changes(&panel.view().await);
    assert_eq!(c["english_level2"]["changed_by"], json!(panel.lm.id), "{c}");
    assert_eq!(c["english_level2"]["holds"], json!(false), "{c}");
    assert_eq!(c["provider_ready"]["changed_by"], json!(panel.tp.id), "{c}");
});
