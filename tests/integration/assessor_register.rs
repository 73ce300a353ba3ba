//! The assessor register (`PUT /users/{id}/assessor-record`, shown by `GET /users/{id}` and the
//! people page), the eligibility warnings at `PUT …/panel` (each one on its own, the earlier
//! attempt and the assessor without an organisation), `EPA_ASSESSOR_RULES=enforce` refusing
//! with nothing saved, and the due-for-standardisation page.

use crate::app::*;
use crate::web::Web;
use epa_panel::domain::eligibility::AssessorRules;
use serde_json::{json, Value};

fn record_path(user: &str) -> String {
    format!("/api/v1/users/{user}/assessor-record")
}

/// A record that meets the L4 guide's `[assessors]` for a viva on 2026-12-01.
fn good() -> Value {
    json!({"experience_years": 8, "standards": [STANDARD], "trained_on": "2025-01-10", "standardised_on": "2026-03-01"})
}

fn with(changes: Value) -> Value {
    let mut body = good();
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn codes(answer: &Value) -> Vec<String> {
    let list = answer["warnings"].as_array().unwrap_or_else(|| panic!("warnings: {answer}"));
    list.iter()
        .map(|w| {
            assert!(w["message"].as_str().is_some_and(|m| !m.is_empty()), "{w}");
            w["code"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// Audit entries with `action` (their details), from the database's trail.
fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let mut conn = app.connect();
    epa_panel::db::audit::audit_page(&mut conn, 0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

both_backends!(a_record_is_saved_shown_replaced_and_audited, |app| async move {
    let p = app.registered().await;
    let user = format!("/api/v1/users/{}", p.ia.id);
    let before = p.admin.get(&user).await;
    assert_eq!(
        (before["role"].clone(), before["assessor_record"].clone()),
        (json!("independent_assessor"), Value::Null)
    );
    let saved = p.admin.expect(200, "PUT", &record_path(&p.ia.id), good()).await;
    assert_eq!(saved["experience_years"], 8);
    assert_eq!(saved["standards"], json!([STANDARD]));
    let shown = p.admin.get(&user).await;
    assert_eq!(shown["assessor_record"]["standardised_on"], "2026-03-01", "{shown}");
    assert!(shown["assessor_record"]["updated_by"].as_str().is_some());
    // Replacing: the new record is the whole record.
    p.admin
        .expect(200, "PUT", &record_path(&p.ia.id), json!({"experience_years": 9, "standards": [], "trained_on": null}))
        .await;
    let r = &p.admin.get(&user).await["assessor_record"];
    assert_eq!(
        (r["experience_years"].clone(), r["standards"].clone(), r["trained_on"].clone(), r["standardised_on"].clone()),
        (json!(9), json!([]), Value::Null, Value::Null)
    );
    let trail = audited(app, "assessor_record.saved");
    assert_eq!(trail.len(), 2, "{trail:?}");
    assert_eq!(trail[0]["user_id"], json!(p.ia.id));
    assert_eq!(trail[1]["experience_years"], 9);
    // Other roles have no record.
    assert_eq!(p.admin.get(&format!("/api/v1/users/{}", p.lm.id)).await["assessor_record"], Value::Null);
    // The people page shows it.
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let page = admin.get_ok("/admin/people").await;
    assert!(
        page.body.contains("9 years; approved for no standard; trained never; standardised never"),
        "{}",
        page.body
    );
});

both_backends!(bad_records_are_refused_naming_the_field_and_nothing_is_saved, |app| async move {
    let p = app.registered().await;
    let path = record_path(&p.ia.id);
    for (body, code, field) in [
        (with(json!({"experience_years": "eight"})), "invalid_body", "experience_years"),
        (with(json!({"experience_years": -1})), "invalid_body", "experience_years"),
        (with(json!({"experience_years": 81})), "invalid_body", "experience_years"),
        (with(json!({"standards": [STANDARD, "no-such-standard"]})), "unknown_standard", "standards[1]"),
        (with(json!({"standards": [STANDARD, STANDARD]})), "duplicate_item", "standards[1]"),
        (with(json!({"trained_on": "10/01/2025"})), "invalid_date", "trained_on"),
        (with(json!({"standardised_on": "2026-02-30"})), "invalid_date", "standardised_on"),
        (with(json!({"extra": 1})), "invalid_body", "extra"),
    ] {
        let e = p.admin.refused(400, "PUT", &path, body.clone()).await;
        assert_eq!(e.code, code, "{body}: {e:?}");
        assert!(e.message.contains(field), "{body}: {e:?}");
    }
    // Only independent assessors are on the register.
    let e = p.admin.refused(400, "PUT", &record_path(&p.lm.id), good()).await;
    assert_eq!(e.code, "wrong_role", "{e:?}");
    assert_eq!(p.admin.get(&format!("/api/v1/users/{}", p.ia.id)).await["assessor_record"], Value::Null);
    assert!(audited(app, "assessor_record.saved").is_empty());
});

both_backends!(the_register_answers_401_then_404_then_403, |app| async move {
    let p = app.registered().await;
    let path = record_path(&p.ia.id);
    app.client(None).refused(401, "PUT", &path, good()).await;
    app.client(None).refused(401, "GET", &format!("/api/v1/users/{}", p.ia.id), Value::Null).await;
    let e = p.admin.refused(404, "PUT", &record_path("no-such-user"), good()).await;
    assert_eq!(e.code, "not_found");
    p.admin.refused(404, "GET", "/api/v1/users/no-such-user", Value::Null).await;
    for who in [&p.lm.client, &p.ia.client, &p.moderator.client] {
        let e = who.refused(403, "PUT", &path, good()).await;
        assert_eq!(e.code, "forbidden");
        who.refused(403, "GET", &format!("/api/v1/users/{}", p.ia.id), Value::Null).await;
    }
    // 403 before 400.
    p.lm.refused(403, "PUT", &path, json!({"experience_years": "bad"})).await;
    assert_eq!(p.admin.get(&format!("/api/v1/users/{}", p.ia.id)).await["assessor_record"], Value::Null);
});

both_backends!(each_shortfall_is_warned_on_its_own_at_the_panel, |app| async move {
    let p = app.registered().await;
    p.pass_gateway().await;
    let (panel, record) = (p.path("/panel"), record_path(&p.ia.id));
    let appoint = || async { p.admin.expect(200, "PUT", &panel, p.panel_body(&p.ia)).await };
    assert_eq!(codes(&appoint().await), ["no_record"]);
    for (changes, expected) in [
        (json!({}), vec![]),
        (json!({"experience_years": 4}), vec!["too_little_experience"]),
        (json!({"trained_on": null}), vec!["not_trained"]),
        (json!({"trained_on": "2026-12-02"}), vec!["not_trained"]),
        (json!({"standardised_on": null}), vec!["not_standardised"]),
        (json!({"standardised_on": "2025-11-30"}), vec!["standardisation_expired"]),
        (json!({"standards": []}), vec!["not_approved_for_standard"]),
    ] {
        p.admin.expect(200, "PUT", &record, with(changes.clone())).await;
        let answer = appoint().await;
        assert_eq!(codes(&answer), expected, "{changes}: {answer}");
        assert_eq!(answer["status"], "scheduled", "warn: the appointment is made");
    }
    // The audit entries carry the warnings.
    let trail: Vec<Value> = audited(app, "panel.appointed");
    assert_eq!(trail.len(), 8);
    assert_eq!(trail[0]["warnings"][0]["code"], "no_record");
    assert_eq!(trail[1]["warnings"], json!([]));
    assert_eq!(trail[2]["warnings"][0]["code"], "too_little_experience");
    // The panel page shows the appointed assessor's warnings.
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let page = admin.get_ok(&format!("/assessments/{}/panel", p.id)).await;
    assert!(page.body.contains("data-code=\"not_approved_for_standard\""), "{}", page.body);
});

both_backends!(an_assessor_without_an_organisation_or_who_sat_before_is_warned, |app| async move {
    let p = app.registered().await;
    p.pass_gateway().await;
    let loner_id = app.assessor_without_organisation("lone@assessors.test").await;
    p.admin.expect(200, "PUT", &record_path(&loner_id), good()).await;
    let body = json!({"independent_assessor_id": loner_id, "viva_at": "2026-12-01T10:00:00Z", "mode": "video"});
    let answer = p.admin.expect(200, "PUT", &p.path("/panel"), body).await;
    assert_eq!(codes(&answer), ["conflict_unknown"], "unknown, not clear: {answer}");

    // Iris sits on the first assessment; a second one of the same apprentice and standard warns.
    p.admin.expect(200, "PUT", &record_path(&p.ia.id), good()).await;
    assert_eq!(codes(&p.admin.expect(200, "PUT", &p.path("/panel"), p.panel_body(&p.ia)).await), Vec::<String>::new());
    let again = p
        .admin
        .expect(
            201,
            "POST",
            "/api/v1/assessments",
            json!({"apprentice_id": p.apprentice.id, "standard_id": STANDARD,
                   "line_manager_id": p.lm.id, "training_provider_user_id": p.tp.id}),
        )
        .await;
    let second = format!("/api/v1/assessments/{}", id_of(&again));
    p.lm.expect(200, "PUT", &format!("{second}/gateway"), gateway_met()).await;
    let answer = p.admin.expect(200, "PUT", &format!("{second}/panel"), p.panel_body(&p.ia)).await;
    assert_eq!(codes(&answer), ["sat_on_earlier_attempt"], "{answer}");
});

both_backends!(
    enforce_refuses_an_ineligible_assessor_and_saves_nothing,
    |builder| builder.with_config(|c| c.assessor_rules = AssessorRules::Enforce),
    |app| async move {
        let p = app.registered().await;
        p.pass_gateway().await;
        let before = p.view().await;
        p.admin
            .expect(200, "PUT", &record_path(&p.ia.id), with(json!({"experience_years": 3, "trained_on": null})))
            .await;
        let e = p.admin.refused(409, "PUT", &p.path("/panel"), p.panel_body(&p.ia)).await;
        assert_eq!(e.code, "assessor_not_eligible");
        assert!(e.message.contains("3 years") && e.message.contains("not been trained"), "the reasons: {e:?}");
        let after = p.view().await;
        assert_eq!(
            (after["status"].clone(), after["version"].clone()),
            (json!("gateway_passed"), before["version"].clone())
        );
        assert_eq!(after["panel"]["independent_assessor_id"], Value::Null);
        assert!(audited(app, "panel.appointed").is_empty());
        // The page shows the refusal's reasons.
        let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
        let form = admin.get_ok(&format!("/assessments/{}/panel", p.id)).await;
        let csrf = crate::web::hidden(&form.body, "csrf");
        let version = crate::web::input_value(&form.body, "version").unwrap_or_default();
        let r = admin
            .post(
                &format!("/assessments/{}/panel", p.id),
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("independent_assessor_id", &p.ia.id),
                    ("viva_at", "2026-12-01T10:00"),
                    ("mode", "in_person"),
                ],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("3 years"), "{}", r.body);
        // A record that meets the rules: appointed, no warnings.
        p.admin.expect(200, "PUT", &record_path(&p.ia.id), good()).await;
        let answer = p.admin.expect(200, "PUT", &p.path("/panel"), p.panel_body(&p.ia)).await;
        assert_eq!(answer["warnings"], json!([]));
        assert_eq!(answer["status"], "scheduled");
    }
);

both_backends!(the_due_page_lists_who_falls_due_in_sixty_days, |app| async move {
    let p = app.registered().await;
    let today = chrono::Utc::now().date_naive();
    let standardised = |in_days: i64| {
        (today + chrono::Duration::days(in_days))
            .checked_sub_months(chrono::Months::new(12))
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    // Iris falls due in 30 days, Ivan in 90, Paula 10 days ago; the moderator is no assessor.
    p.admin.expect(200, "PUT", &record_path(&p.ia.id), with(json!({"standardised_on": standardised(30)}))).await;
    p.admin.expect(200, "PUT", &record_path(&p.insider.id), with(json!({"standardised_on": standardised(90)}))).await;
    p.admin
        .expect(200, "PUT", &record_path(&p.provider_insider.id), with(json!({"standardised_on": standardised(-10)})))
        .await;
    let lone = app.user("nobody@assessors.test", "Nora Norecord", "independent_assessor", &p.body_id).await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let home = admin.get_ok("/assessments").await;
    assert!(home.body.contains("href=\"/admin/standardisation-due\""), "linked from the admin area");
    let page = admin.get_ok("/admin/standardisation-due").await;
    let row = |id: &str| {
        page.body.split(&format!("id=\"assessor-{id}\"")).nth(1).map(|r| r.split("</tr>").next().unwrap_or(""))
    };
    assert!(row(&p.ia.id).is_some_and(|r| r.contains("due soon")), "{}", page.body);
    assert!(row(&p.insider.id).is_none(), "due in 90 days is not listed: {}", page.body);
    assert!(row(&p.provider_insider.id).is_some_and(|r| r.contains("overdue")), "{}", page.body);
    assert!(row(&lone.id).is_some_and(|r| r.contains("no record")), "{}", page.body);
    // Admin only.
    let mut lm = Web::signed_in(app, &p.lm.email).await;
    assert_eq!(lm.get("/admin/standardisation-due").await.status, 403);
});
