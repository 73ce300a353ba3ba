//! One frame for a change: every change to an assessment writes exactly one audit entry, the
//! changes to the assessment itself each give it a new version, and a refused change (its state,
//! its body) writes no entry and leaves the version as it was.

use crate::app::*;
use serde_json::{json, Value};

/// The actions of the assessment's audit trail, oldest first.
async fn actions(p: &Panel) -> Vec<String> {
    let trail = p.admin.get(&p.path("/audit")).await;
    let entries = trail.as_array().unwrap_or_else(|| panic!("audit trail: {trail}"));
    entries.iter().map(|e| e["action"].as_str().unwrap_or_default().to_string()).collect()
}

async fn version(p: &Panel) -> Value {
    p.view().await["version"].clone()
}

both_backends!(each_change_writes_one_audit_entry_and_a_refused_change_none, |app| async move {
    let p = app.panel().await;
    let day = ["assessment.registered", "gateway.recorded", "panel.appointed", "declaration.recorded"];
    assert_eq!(actions(&p).await, day);
    assert_eq!(version(&p).await, json!(4));

    // Refused: the decision before the consensus (409), a panel with an unreadable time and a
    // refer-back without a rationale (400).
    p.ia.refused(409, "POST", &p.path("/decision"), json!({"notes": "Too early."})).await;
    let mut panel = p.panel_body(&p.ia);
    panel["viva_at"] = json!("tomorrow morning");
    p.admin.refused(400, "PUT", &p.path("/panel"), panel).await;
    p.moderator.refused(400, "POST", &p.path("/moderation"), json!({"action": "refer_back"})).await;
    assert_eq!(actions(&p).await, day);
    assert_eq!(version(&p).await, json!(4));

    // A sheet saved but not submitted is audited; the assessment's row is not changed.
    p.save(&p.lm, &sheet(p.items(), 3), false).await;
    assert_eq!(actions(&p).await, [&day[..], &["score_sheet.saved"]].concat());
    assert_eq!(version(&p).await, json!(4));

    // The rest of the day: only the last submission moves the assessment on (a new version).
    p.release_unanimous(3).await;
    let rest = [
        "score_sheet.saved",
        "score_sheet.submitted",
        "score_sheet.submitted",
        "score_sheet.submitted",
        "viva_record.saved",
        "decision.recorded",
        "moderation.confirm",
    ];
    assert_eq!(actions(&p).await, [&day[..], &rest[..]].concat());
    assert_eq!(version(&p).await, json!(8));
});
