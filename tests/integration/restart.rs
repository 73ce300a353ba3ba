//! A restart (stop the server, start a new one on the same database) keeps everything: status,
//! sheets (still sealed where they were), audit trail, emails, tokens.

use crate::app::*;
use serde_json::json;

both_backends!(a_restart_keeps_a_released_assessment, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let all4 = sheet(&items, 4);
    panel.submit_all(&with(all4.clone(), &[(&items[0], 5)]), &all4, &with(all4.clone(), &[(&items[0], 3)])).await;
    panel.agree(vec![agreed(&items[0], None, "no agreement")], "deadlock").await;
    panel.record_viva().await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Pass");
    panel.moderate("confirm", "Due process followed.").await;
    let sent = panel.wait_for_email_status("sent").await;
    assert!(sent.len() == 3 && sent.iter().all(|e| e["status"] == "sent"), "{sent:?}");
    assert_eq!(app.wait_for_emails(3).await.len(), 3);

    let view = panel.view().await;
    let sheets = app.admin.get(&panel.path("/scores")).await;
    let audit = app.admin.get(&panel.path("/audit")).await;
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;

    app.restart().await;

    assert_eq!(panel.view().await, view, "the assessment survives a restart");
    assert_eq!(app.admin.get(&panel.path("/scores")).await, sheets, "the sheets survive");
    assert_eq!(app.admin.get(&panel.path("/audit")).await, audit, "the audit trail survives");
    assert_eq!(app.admin.csv("/api/v1/reports/outcomes.csv").await.rows, outcomes.rows);
    // Tokens survive, and nothing is sent twice.
    panel.lm.get(&panel.path("")).await;
    app.deliver_now().await;
    assert_eq!(app.emails().len(), 3, "no email is sent again after a restart");
    assert_eq!(panel.view().await["emails"], view["emails"]);
});

both_backends!(a_restart_in_the_middle_of_scoring_keeps_the_seal, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let all3 = sheet(&items, 3);
    panel.save(&panel.lm, &all3, true).await;
    panel.save(&panel.tp, &all3, true).await;
    panel.save(&panel.ia, &with(sheet(&items[..2], 5), &[]), false).await;

    app.restart().await;

    assert_eq!(panel.status().await, "scheduled");
    let seen = panel.ia.get(&panel.path("/scores")).await;
    for s in seen["sheets"].as_array().expect("sheets") {
        if s["user_id"] == json!(panel.ia.id) {
            assert_eq!(s["scores"].as_array().map(Vec::len), Some(2), "the draft survives: {seen}");
        } else {
            assert!(s["scores"].is_null(), "still sealed after a restart: {seen}");
            assert_eq!(s["submitted"], true, "{seen}");
        }
    }
    let r = panel.save(&panel.ia, &all3, true).await;
    assert_eq!(r["missing"], json!([]));
    assert_eq!(panel.status().await, "consensus");
    panel.record_viva().await;
    assert_eq!(panel.decide().await["grade"], "Pass");
});
