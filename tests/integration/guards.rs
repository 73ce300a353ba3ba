//! Every guard the contract names, with its status code and (where the contract fixes one) its
//! error code, and the order in which they are checked: 401, 404, 403, 400, 409.

use crate::app::*;
use serde_json::{json, Value};

fn one(item: &Item, score: i64) -> Sheet {
    with(Sheet::new(), &[(item, score)])
}

both_backends!(no_token_or_a_bad_token_is_401, |app| async move {
    let panel = app.registered().await;
    let anon = app.client(None);
    let bad = app.client(Some("epa_not-a-real-token"));
    for who in [&anon, &bad] {
        who.expect(401, "GET", "/api/v1/assessments", Value::Null).await;
        who.expect(401, "GET", &panel.path(""), Value::Null).await;
        who.expect(401, "GET", "/api/v1/assessments/no-such-assessment", Value::Null).await;
        who.expect(401, "GET", "/api/v1/standards", Value::Null).await;
        who.expect(401, "GET", "/api/v1/reports/outcomes.csv", Value::Null).await;
        who.expect(401, "POST", "/api/v1/users", json!({"email": "x@y.test", "name": "X", "role": "admin"})).await;
        // 401 comes before 400: a bad body does not change the answer.
        who.expect(401, "PUT", &panel.path("/gateway"), json!({"bogus": true})).await;
    }
    // A revoked token is a bad token.
    panel.lm.get(&panel.path("")).await;
    app.revoke(&panel.lm.email);
    panel.lm.expect(401, "GET", &panel.path(""), Value::Null).await;
    panel.lm.expect(401, "PUT", &panel.path("/gateway"), gateway_met()).await;
    panel.tp.get(&panel.path("")).await;
});

both_backends!(unknown_or_another_panels_assessment_is_404_not_403, |app| async move {
    let ours = app.panel().await;
    let theirs = app.panel().await;
    app.admin.expect(404, "GET", "/api/v1/assessments/no-such-assessment", Value::Null).await;
    app.admin.expect(404, "GET", "/api/v1/assessments/no-such-assessment/scores", Value::Null).await;
    app.admin.expect(404, "GET", "/api/v1/assessments/no-such-assessment/audit", Value::Null).await;
    app.admin.expect(404, "PUT", "/api/v1/assessments/no-such-assessment/gateway", gateway_met()).await;

    for stranger in [&theirs.lm, &theirs.tp, &theirs.ia] {
        stranger.expect(404, "GET", &ours.path(""), Value::Null).await;
        stranger.expect(404, "GET", &ours.path("/scores"), Value::Null).await;
        stranger.expect(404, "GET", &ours.path("/audit"), Value::Null).await;
        stranger.expect(404, "PUT", &ours.path("/scores"), scores_body(&one(&ours.items()[0], 3), false)).await;
        stranger.expect(404, "PUT", &ours.path("/viva-record"), json!({"questions": []})).await;
    }
    theirs.lm.expect(404, "PUT", &ours.path("/gateway"), gateway_met()).await;
    theirs
        .ia
        .expect(404, "PUT", &ours.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
        .await;
    theirs.ia.expect(404, "PUT", &ours.path("/consensus"), json!({"items": [], "notes": ""})).await;
    theirs.ia.expect(404, "POST", &ours.path("/decision"), json!({"notes": "n"})).await;

    // The list shows a panel member only their own panels.
    let listed = theirs.lm.get("/api/v1/assessments").await;
    let ids: Vec<String> = listed.as_array().expect("a list").iter().map(id_of).collect();
    assert_eq!(ids, vec![theirs.id.clone()]);
    // Staff see both.
    let listed = ours.moderator.get("/api/v1/assessments").await;
    let ids: Vec<String> = listed.as_array().expect("a list").iter().map(id_of).collect();
    assert!(ids.contains(&ours.id) && ids.contains(&theirs.id), "{ids:?}");
    ours.moderator.get(&ours.path("")).await;
    ours.moderator.get(&ours.path("/audit")).await;
});

both_backends!(roles_that_may_not_act_get_403, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let before = (panel.view().await, app.admin.get(&panel.path("/audit")).await);
    let forbidden = |r: ApiError| assert_eq!(r.code, "forbidden", "{r:?}");

    // Appointing the panel is the admin's.
    forbidden(panel.lm.refused(403, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await);
    forbidden(panel.ia.refused(403, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await);
    forbidden(panel.moderator.refused(403, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await);
    // The gateway is the line manager's, the provider's or the admin's.
    panel.ia.expect(403, "PUT", &panel.path("/gateway"), gateway_met()).await;
    panel.moderator.expect(403, "PUT", &panel.path("/gateway"), gateway_met()).await;
    // Only the independent assessor declares, agrees and decides.
    let declaration = json!({"no_prior_involvement": true, "conflicts": "none"});
    panel.lm.expect(403, "PUT", &panel.path("/declaration"), declaration.clone()).await;
    app.admin.expect(403, "PUT", &panel.path("/declaration"), declaration).await;
    panel.lm.expect(403, "PUT", &panel.path("/consensus"), json!({"items": [], "notes": "x"})).await;
    panel.tp.expect(403, "PUT", &panel.path("/consensus"), json!({"items": [], "notes": "x"})).await;
    panel.lm.expect(403, "POST", &panel.path("/decision"), json!({"notes": "x"})).await;
    // Staff do not score.
    app.admin.expect(403, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    panel.moderator.expect(403, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    // A panel member does not moderate, nor does an admin.
    let confirm = json!({"action": "confirm", "rationale": "fine"});
    panel.ia.expect(403, "POST", &panel.path("/moderation"), confirm.clone()).await;
    panel.lm.expect(403, "POST", &panel.path("/moderation"), confirm.clone()).await;
    app.admin.expect(403, "POST", &panel.path("/moderation"), confirm).await;
    // Reports are for the assessment body's staff.
    for report in ["scores", "outcomes", "assessors"] {
        let path = format!("/api/v1/reports/{report}.csv");
        panel.lm.expect(403, "GET", &path, Value::Null).await;
        panel.ia.expect(403, "GET", &path, Value::Null).await;
    }
    // Administration is the admin's.
    let user = json!({"email": "new@fairepa.test", "name": "New", "role": "line_manager"});
    panel.lm.expect(403, "POST", "/api/v1/users", user.clone()).await;
    panel.moderator.expect(403, "POST", "/api/v1/users", user).await;
    panel.moderator.expect(403, "POST", "/api/v1/organisations", json!({"name": "X", "kind": "employer"})).await;
    panel
        .lm
        .expect(
            403,
            "POST",
            "/api/v1/apprentices",
            json!({"name": "B", "email": "b@x.test", "employer_id": panel.employer_id, "training_provider_id": panel.provider_id}),
        )
        .await;
    panel
        .moderator
        .expect(
            403,
            "POST",
            "/api/v1/assessments",
            json!({"apprentice_id": panel.apprentice.id, "standard_id": STANDARD,
                   "line_manager_id": panel.lm.id, "training_provider_user_id": panel.tp.id}),
        )
        .await;
    let guide = "id = \"x\"\n";
    panel.moderator.expect_raw(403, "POST", "/api/v1/standards", "application/toml", guide).await;
    panel.ia.expect_raw(403, "POST", "/api/v1/standards", "application/toml", guide).await;
    // Nothing of that changed the assessment or its audit trail.
    let after = (panel.view().await, app.admin.get(&panel.path("/audit")).await);
    assert_eq!(after, before, "a refused request changes nothing");
});

both_backends!(bad_input_is_400_naming_the_field, |app| async move {
    let panel = app.registered().await;
    let items = panel.items().to_vec();

    // Gateway.
    let mut gate = gateway_met();
    gate["knowledge_route"] = json!("exam");
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), gate).await;
    assert!(e.message.contains("knowledge_route"), "{e:?}");
    let mut gate = gateway_met();
    gate["colour"] = json!("blue");
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), gate).await;
    assert!(e.message.contains("colour"), "an unknown field is named: {e:?}");
    let mut gate = gateway_met();
    gate["english_level2"] = json!("yes");
    let e = panel.lm.refused(400, "PUT", &panel.path("/gateway"), gate).await;
    assert!(e.message.contains("english_level2"), "{e:?}");
    let r = panel.lm.send("PUT", &panel.path("/gateway"), Some(("application/json", b"{not json".to_vec()))).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(panel.status().await, "registered", "nothing half-applied");
    panel.pass_gateway().await;

    // Panel.
    let mut body = panel.panel_body(&panel.ia);
    body["mode"] = json!("bus");
    let e = app.admin.refused(400, "PUT", &panel.path("/panel"), body).await;
    assert!(e.message.contains("mode"), "{e:?}");
    let mut body = panel.panel_body(&panel.ia);
    body["viva_at"] = json!("next Tuesday");
    let e = app.admin.refused(400, "PUT", &panel.path("/panel"), body).await;
    assert!(e.message.contains("viva_at"), "{e:?}");
    let e = app.admin.refused(400, "PUT", &panel.path("/panel"), panel.panel_body(&panel.lm)).await;
    assert!(e.message.contains("independent_assessor_id"), "a line manager is not an assessor: {e:?}");
    let e = app.admin.refused(400, "PUT", &panel.path("/panel"), panel.panel_body(&panel.moderator)).await;
    assert!(e.message.contains("independent_assessor_id"), "a moderator is not an assessor: {e:?}");
    let mut body = panel.panel_body(&panel.ia);
    body["independent_assessor_id"] = json!("no-such-user");
    let e = app.admin.refused(400, "PUT", &panel.path("/panel"), body).await;
    assert!(e.message.contains("independent_assessor_id"), "{e:?}");
    assert_eq!(panel.status().await, "gateway_passed", "nothing half-applied");
    // Times come back in UTC with a Z.
    let mut body = panel.panel_body(&panel.ia);
    body["viva_at"] = json!("2026-12-01T11:30:00+01:00");
    app.admin.expect(200, "PUT", &panel.path("/panel"), body).await;
    let viva_at = panel.view().await["panel"]["viva_at"].as_str().unwrap_or_default().to_string();
    assert!(viva_at.ends_with('Z'), "{viva_at}");
    let parsed = chrono::DateTime::parse_from_rfc3339(&viva_at).unwrap_or_else(|e| panic!("{viva_at}: {e}"));
    assert_eq!(parsed.to_utc().to_rfc3339(), "2026-12-01T10:30:00+00:00");
    panel.declare().await;

    // Scores.
    for bad in [6, 0, -1] {
        let e = panel.lm.refused(400, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], bad), false)).await;
        assert!(e.message.contains("score"), "score {bad}: {e:?}");
    }
    let e = panel
        .lm
        .refused(400, "PUT", &panel.path("/scores"), scores_body(&one(&Item::new("project", "K99"), 3), false))
        .await;
    assert!(e.message.contains("K99"), "the unknown criterion is named: {e:?}");
    // K2 is assessed by the portfolio only: never a score item.
    let e = panel
        .lm
        .refused(400, "PUT", &panel.path("/scores"), scores_body(&one(&Item::new("portfolio", "K2"), 3), false))
        .await;
    assert!(e.message.contains("K2"), "{e:?}");
    let dup = json!({"scores": [
        {"component": items[0].component, "criterion": items[0].criterion, "score": 3},
        {"component": items[0].component, "criterion": items[0].criterion, "score": 4}], "submit": false});
    let e = panel.lm.refused(400, "PUT", &panel.path("/scores"), dup).await;
    assert!(e.message.contains(&items[0].criterion), "the duplicate is named: {e:?}");
    let mut body = scores_body(&one(&items[0], 3), false);
    body["scores"][0]["weight"] = json!(2);
    let e = panel.lm.refused(400, "PUT", &panel.path("/scores"), body).await;
    assert!(e.message.contains("weight"), "{e:?}");
    let own = panel.lm.get(&panel.path("/scores")).await;
    let mine = own["sheets"].as_array().expect("sheets").iter().find(|s| s["user_id"] == json!(panel.lm.id)).cloned();
    let nothing = mine.as_ref().is_none_or(|s| s["scores"].is_null() || s["scores"] == json!([]));
    assert!(nothing, "no refused score was saved: {own}");

    // Users: an email in use is a conflict.
    let e = app
        .admin
        .refused(
            409,
            "POST",
            "/api/v1/users",
            json!({"email": panel.lm.email, "name": "Again", "role": "line_manager"}),
        )
        .await;
    assert!(e.message.contains("email"), "{e:?}");
    let e = app
        .admin
        .refused(400, "POST", "/api/v1/users", json!({"email": "who@x.test", "name": "Who", "role": "wizard"}))
        .await;
    assert!(e.message.contains("role"), "{e:?}");
});

both_backends!(submitting_an_incomplete_sheet_saves_nothing, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    panel.save(&panel.lm, &one(&items[0], 5), false).await;
    let e = panel.lm.refused(400, "PUT", &panel.path("/scores"), scores_body(&one(&items[1], 3), true)).await;
    assert_eq!(e.code, "incomplete_sheet", "{e:?}");

    let own = panel.lm.get(&panel.path("/scores")).await;
    let mine = own["sheets"]
        .as_array()
        .expect("sheets")
        .iter()
        .find(|s| s["user_id"] == json!(panel.lm.id))
        .cloned()
        .unwrap_or_else(|| panic!("the caller's sheet is listed: {own}"));
    assert_eq!(mine["submitted"], false, "{mine}");
    let scores = mine["scores"].as_array().unwrap_or_else(|| panic!("own scores are visible: {mine}"));
    assert_eq!(scores.len(), 1, "only the draft's one item: {mine}");
    assert_eq!(scores[0]["criterion"], json!(items[0].criterion));
    assert_eq!(scores[0]["score"], 5);
    assert_eq!(panel.status().await, "scheduled");
    // The refused submission left no trace in the audit trail either.
    let audit = app.admin.get(&panel.path("/audit")).await;
    assert!(!audit.to_string().contains("score_sheet.submitted"), "{audit}");
    // The complete sheet then submits.
    let r = panel.save(&panel.lm, &sheet(&items, 3), true).await;
    assert_eq!(r["missing"], json!([]), "{r}");
});

both_backends!(steps_in_the_wrong_state_are_409, |app| async move {
    let panel = app.registered().await;
    let items = panel.items().to_vec();
    let all3 = sheet(&items, 3);

    // Before the gateway: no panel, no viva record, no scores.
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
    let record = json!({"questions": [{"question": "Why?", "response": "Because."}]});
    panel.lm.expect(409, "PUT", &panel.path("/viva-record"), record).await;
    panel.lm.expect(409, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    panel.pass_gateway().await;

    // Insiders may not be the independent assessor.
    let e = app.admin.refused(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.insider)).await;
    assert!(e.message.contains("independent"), "{e:?}");
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.provider_insider)).await;
    assert_eq!(panel.status().await, "gateway_passed");
    panel.appoint().await;

    // After scheduling the gateway is closed.
    panel.tp.expect(409, "PUT", &panel.path("/gateway"), gateway_met()).await;
    assert_eq!(panel.status().await, "scheduled");

    // No scores before the declaration; a declaration that does not hold blocks them too.
    let e = panel.lm.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    assert_eq!(e.code, "declaration_required", "{e:?}");
    panel
        .ia
        .expect(
            200,
            "PUT",
            &panel.path("/declaration"),
            json!({"no_prior_involvement": true, "conflicts": "Former colleague of the line manager"}),
        )
        .await;
    let e = panel.lm.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    assert_eq!(e.code, "declaration_required", "{e:?}");
    // The same assessor cannot declare again once they have declared a conflict.
    let e = panel
        .ia
        .refused(409, "PUT", &panel.path("/declaration"), json!({"no_prior_involvement": false, "conflicts": "none"}))
        .await;
    assert_eq!(e.code, "declaration_blocked", "{e:?}");
    let e = panel.ia.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 3), false)).await;
    assert_eq!(e.code, "declaration_required", "{e:?}");

    // Another assessor is appointed (no sheet submitted yet) and declares: scoring opens.
    let other = app.user("olga@fairepa.test", "Olga Other", "independent_assessor", &panel.body_id).await;
    app.admin.expect(200, "PUT", &panel.path("/panel"), panel.panel_body(&other)).await;
    other
        .expect(200, "PUT", &panel.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
        .await;
    panel.ia.expect(404, "PUT", &panel.path("/scores"), scores_body(&all3, false)).await;

    // Not before three sheets: consensus and decision.
    panel.save(&panel.lm, &all3, true).await;
    let e = panel.lm.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&items[0], 4), false)).await;
    assert_ne!(e.code, "declaration_required", "a submitted sheet is final: {e:?}");
    panel.lm.expect(409, "PUT", &panel.path("/scores"), scores_body(&all3, true)).await;
    // A submitted sheet also freezes the panel.
    app.admin.expect(409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
    other.expect(409, "PUT", &panel.path("/consensus"), json!({"items": [], "notes": "too early"})).await;
    other.expect(409, "POST", &panel.path("/decision"), json!({"notes": "too early"})).await;
    panel
        .moderator
        .expect(409, "POST", &panel.path("/moderation"), json!({"action": "confirm", "rationale": "early"}))
        .await;
    panel.save(&panel.tp, &all3, true).await;
    panel.save(&other, &all3, true).await;
    assert_eq!(panel.status().await, "consensus");

    // No decision without the viva record (even with nothing to agree).
    other.expect(409, "POST", &panel.path("/decision"), json!({"notes": "no record"})).await;
    panel
        .moderator
        .expect(409, "POST", &panel.path("/moderation"), json!({"action": "confirm", "rationale": "early"}))
        .await;
    other
        .expect(
            200,
            "PUT",
            &panel.path("/viva-record"),
            json!({"questions": [{"question": "What would you change?", "response": "The repairs triage."}]}),
        )
        .await;
    other.expect(200, "POST", &panel.path("/decision"), json!({"notes": "Pass."})).await;
    assert_eq!(panel.status().await, "decided");
    // Decided: no more scores, consensus or viva record.
    other.expect(409, "PUT", &panel.path("/consensus"), json!({"items": [], "notes": "late"})).await;
    other.expect(409, "PUT", &panel.path("/viva-record"), json!({"questions": []})).await;
    panel.moderate("confirm", "Due process followed.").await;
    panel
        .moderator
        .expect(409, "POST", &panel.path("/moderation"), json!({"action": "confirm", "rationale": "again"}))
        .await;
    other.expect(409, "POST", &panel.path("/decision"), json!({"notes": "again"})).await;
});

both_backends!(checks_come_in_the_order_401_404_403_400_409, |app| async move {
    let ours = app.registered().await;
    let theirs = app.registered().await;
    let garbage = json!({"bogus": 1});

    // 401 before 404: no token on an unknown assessment.
    app.client(None).expect(401, "PUT", "/api/v1/assessments/nope/panel", garbage.clone()).await;
    // 404 before 403 and 400: a bad body from someone not on the panel.
    theirs.lm.expect(404, "PUT", &ours.path("/gateway"), garbage.clone()).await;
    theirs.lm.expect(404, "PUT", &ours.path("/panel"), garbage.clone()).await;
    theirs.ia.expect(404, "PUT", &ours.path("/consensus"), garbage.clone()).await;
    // 403 before 400: a bad body from a member who may not do this.
    ours.lm.expect(403, "PUT", &ours.path("/panel"), garbage.clone()).await;
    ours.lm.expect(403, "PUT", &ours.path("/consensus"), garbage.clone()).await;
    ours.tp.expect(403, "POST", &ours.path("/moderation"), garbage.clone()).await;
    app.admin.expect(403, "PUT", &ours.path("/declaration"), garbage.clone()).await;
    ours.lm.expect(403, "GET", "/api/v1/reports/scores.csv?from=yesterday", Value::Null).await;
    // 400 before 409: a bad body in the wrong state.
    let mut body = ours.panel_body(&ours.ia);
    body["mode"] = json!("bus");
    app.admin.expect(400, "PUT", &ours.path("/panel"), body).await;
    ours.lm.expect(400, "PUT", &ours.path("/scores"), scores_body(&one(&ours.items()[0], 6), false)).await;
    ours.lm.expect(400, "PUT", &ours.path("/scores"), garbage.clone()).await;
    ours.lm.expect(400, "PUT", &ours.path("/viva-record"), garbage.clone()).await;
    ours.pass_gateway().await;
    ours.appoint().await;
    let mut gate = gateway_met();
    gate["knowledge_route"] = json!("exam");
    ours.lm.expect(400, "PUT", &ours.path("/gateway"), gate).await;
    ours.ia.expect(400, "PUT", &ours.path("/consensus"), garbage.clone()).await;
    ours.ia.expect(400, "POST", &ours.path("/decision"), garbage.clone()).await;
    ours.moderator.expect(400, "POST", &ours.path("/moderation"), json!({"action": "approve", "rationale": "x"})).await;
    // And the same requests with good bodies are 409 in this state.
    ours.lm.expect(409, "PUT", &ours.path("/gateway"), gateway_met()).await;
    ours.ia.expect(409, "PUT", &ours.path("/consensus"), json!({"items": [], "notes": ""})).await;
    ours.ia.expect(409, "POST", &ours.path("/decision"), json!({"notes": "n"})).await;
    ours.moderator.expect(409, "POST", &ours.path("/moderation"), json!({"action": "confirm", "rationale": "x"})).await;
});

both_backends!(a_body_over_the_limit_is_413, |app| async move {
    let panel = app.panel().await;
    let huge = "x".repeat(1536 * 1024);
    let body = json!({"questions": [{"question": "Tell us everything.", "response": huge}]});
    let e = panel.lm.refused(413, "PUT", &panel.path("/viva-record"), body).await;
    assert_eq!(e.code, "payload_too_large", "{e:?}");
    assert!(panel.view().await["viva_record"].is_null(), "nothing saved");
});

both_backends!(an_unknown_token_is_401_even_with_a_body_over_the_limit, |app| async move {
    // The token is checked before the body's size: 401 first, as the contract orders them.
    let panel = app.panel().await;
    let huge = "x".repeat(1536 * 1024);
    let body = json!({"questions": [{"question": "Tell us everything.", "response": huge}]});
    let stranger = app.client(Some("not-a-token"));
    let e = stranger.refused(401, "PUT", &panel.path("/viva-record"), body.clone()).await;
    assert_eq!(e.code, "unauthorized", "{e:?}");
    let e = stranger.refused(401, "POST", &panel.path("/appeals"), body.clone()).await;
    assert_eq!(e.code, "unauthorized", "{e:?}");
    // A known caller still gets 413, on a PUT and on a POST (with and without a key).
    let e = panel.admin.refused(413, "POST", &panel.path("/appeals"), body).await;
    assert_eq!(e.code, "payload_too_large", "{e:?}");
    let guide = "x".repeat(1536 * 1024);
    let r = panel.admin.expect_raw(413, "POST", "/api/v1/standards", "application/toml", &guide).await;
    assert!(r.text.contains("payload_too_large"), "{}", r.text);
    let r =
        app.client(Some("not-a-token")).expect_raw(401, "POST", "/api/v1/standards", "application/toml", &guide).await;
    assert!(r.text.contains("unauthorized"), "{}", r.text);
});

both_backends!(a_declared_conflict_blocks_scoring_until_another_assessor_is_appointed, |app| async move {
    let panel = app.registered().await;
    panel.pass_gateway().await;
    panel.appoint().await;
    let item = panel.items()[0].clone();
    let conflict = json!({"no_prior_involvement": true, "conflicts": "I mentored the apprentice last year"});
    panel.ia.expect(200, "PUT", &panel.path("/declaration"), conflict).await;
    let e = panel.tp.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&item, 3), false)).await;
    assert_eq!(e.code, "declaration_required", "{e:?}");
    let view = panel.view().await;
    assert!(view.to_string().contains("I mentored the apprentice last year"), "the declaration is recorded: {view}");

    // The same assessor taking it back does not unblock scoring: only another assessor does.
    let r = panel
        .ia
        .send(
            "PUT",
            &panel.path("/declaration"),
            Some(("application/json", br#"{"no_prior_involvement": true, "conflicts": "none"}"#.to_vec())),
        )
        .await;
    assert!(r.status == 200 || r.status == 409, "{r:?}");
    let e = panel.tp.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&item, 3), false)).await;
    assert_eq!(
        e.code, "declaration_required",
        "a declared conflict blocks scoring until another assessor is appointed: {e:?}"
    );

    let other = app.user("olga@fairepa.test", "Olga Other", "independent_assessor", &panel.body_id).await;
    app.admin.expect(200, "PUT", &panel.path("/panel"), panel.panel_body(&other)).await;
    let e = panel.tp.refused(409, "PUT", &panel.path("/scores"), scores_body(&one(&item, 3), false)).await;
    assert_eq!(e.code, "declaration_required", "the new assessor has not declared yet: {e:?}");
    other
        .expect(200, "PUT", &panel.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
        .await;
    panel.save(&panel.tp, &one(&item, 3), false).await;
});

both_backends!(unknown_addresses_are_404_as_json_under_the_api_and_as_a_page_elsewhere, |app| async move {
    let api = app.admin.send("GET", "/api/v1/no-such-thing", None).await;
    assert_eq!(api.status, 404);
    assert!(api.content_type.starts_with("application/json"), "{api:?}");
    let body: serde_json::Value = serde_json::from_str(&api.text).expect("a JSON error");
    assert_eq!(body["error"]["code"], json!("not_found"), "{api:?}");
    let page = app.client(None).send("GET", "/no-such-page", None).await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert!(page.text.contains("Page not found"), "{page:?}");
});
