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
