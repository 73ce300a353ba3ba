//! Sign-off of the agreed scores (`PUT …/sign-off`): after the decision the line manager and the
//! training provider each record agreement or dissent (text required), each call replacing that
//! seat's sign-off; shown in `GET …/{id}` and on the moderation page, audited.

use crate::app::*;
use crate::web::{hidden, input_value, Web};
use serde_json::{json, Value};

fn seats(view: &Value) -> Vec<(String, bool, Value)> {
    let list = view["sign_off"].as_array().unwrap_or_else(|| panic!("sign_off: {view}"));
    list.iter()
        .map(|s| {
            assert!(s["at"].as_str().is_some_and(|t| t.len() >= 19), "{s}");
            (s["seat"].as_str().unwrap_or_default().to_string(), s["agree"] == json!(true), s["dissent"].clone())
        })
        .collect()
}

async fn sign_offs_audited(p: &Panel) -> Vec<Value> {
    let trail = p.admin.get(&p.path("/audit")).await;
    let entries = trail.as_array().unwrap_or_else(|| panic!("audit trail: {trail}"));
    entries.iter().filter(|e| e["action"] == "sign_off.recorded").map(|e| e["detail"].clone()).collect()
}

both_backends!(both_seats_sign_off_after_the_decision_and_each_call_replaces, |app| async move {
    let p = app.panel().await;
    let path = p.path("/sign-off");
    assert_eq!(p.view().await["sign_off"], json!([]), "none yet");

    // 409 before the decision, in the contract's wording.
    let e = p.lm.refused(409, "PUT", &path, json!({"agree": true})).await;
    assert_eq!(e.code, "wrong_state");
    assert_eq!(
        e.message,
        "signing off the agreed scores is possible only when the assessment is decided or released; it is scheduled"
    );
    let s = sheet(p.items(), 3);
    p.submit_all(&s, &s, &s).await;
    p.record_viva().await;
    p.decide().await;

    let lm = p.lm.expect(200, "PUT", &path, json!({"agree": true})).await;
    assert_eq!(
        (lm["seat"].clone(), lm["agree"].clone(), lm["dissent"].clone()),
        (json!("line_manager"), json!(true), Value::Null)
    );
    p.tp.expect(200, "PUT", &path, json!({"agree": false, "dissent": "  Criterion two deserved a 4.  "})).await;
    assert_eq!(
        seats(&p.view().await),
        [
            ("line_manager".to_string(), true, Value::Null),
            ("training_provider".to_string(), false, json!("Criterion two deserved a 4."))
        ]
    );
    // The next step is offered to each of the two seats, not to the assessor.
    for (who, offered) in [(&p.lm, true), (&p.tp, true), (&p.ia, false)] {
        let v = who.get(&p.path("")).await;
        assert_eq!(v["next_steps"].as_array().unwrap().contains(&json!("sign_off")), offered, "{v}");
        assert_eq!(v["sign_off"].as_array().map(Vec::len), Some(2), "every seat sees them: {v}");
    }

    // Replacing: the line manager now dissents, the provider now agrees (an empty dissent is none).
    p.lm.expect(200, "PUT", &path, json!({"agree": false, "dissent": "On reflection, too generous."})).await;
    p.tp.expect(200, "PUT", &path, json!({"agree": true, "dissent": ""})).await;
    assert_eq!(
        seats(&p.view().await),
        [
            ("line_manager".to_string(), false, json!("On reflection, too generous.")),
            ("training_provider".to_string(), true, Value::Null)
        ]
    );
    assert_eq!(
        sign_offs_audited(&p).await,
        [
            json!({"seat": "line_manager", "agree": true, "dissent": null}),
            json!({"seat": "training_provider", "agree": false, "dissent": "Criterion two deserved a 4."}),
            json!({"seat": "line_manager", "agree": false, "dissent": "On reflection, too generous."}),
            json!({"seat": "training_provider", "agree": true, "dissent": null}),
        ]
    );
    // Still open once released.
    p.moderate("confirm", "Due process followed.").await;
    p.lm.expect(200, "PUT", &path, json!({"agree": true})).await;
    assert_eq!(seats(&p.view().await)[0], ("line_manager".to_string(), true, Value::Null));
});

both_backends!(a_dissent_needs_its_text_and_an_agreement_has_none, |app| async move {
    let p = app.decided().await;
    let path = p.path("/sign-off");
    for body in [json!({"agree": false}), json!({"agree": false, "dissent": "   "})] {
        let e = p.lm.refused(400, "PUT", &path, body).await;
        assert_eq!(e.code, "missing_value", "{e:?}");
        assert!(e.message.contains("dissent"), "{e:?}");
    }
    let e = p.lm.refused(400, "PUT", &path, json!({"agree": true, "dissent": "but not really"})).await;
    assert_eq!(e.code, "invalid_choice", "{e:?}");
    assert!(e.message.contains("dissent"), "{e:?}");
    let e = p.lm.refused(400, "PUT", &path, json!({"dissent": "no agree"})).await;
    assert!(e.message.contains("agree"), "{e:?}");
    assert_eq!(p.view().await["sign_off"], json!([]), "nothing recorded");
    assert!(sign_offs_audited(&p).await.is_empty());
});

both_backends!(only_the_two_seats_sign_off_and_others_learn_nothing, |app| async move {
    let p = app.decided().await;
    let path = p.path("/sign-off");
    // 401 first, then 404 for someone not on the panel, 403 for those who see it but may not.
    let anonymous = app.client(None);
    anonymous.refused(401, "PUT", &path, json!({"agree": true})).await;
    let e = p.insider.refused(404, "PUT", &path, json!({"agree": true})).await;
    assert_eq!(e.code, "not_found");
    let other = app.registered().await;
    other.lm.refused(404, "PUT", &path, json!({"agree": "not even a bool"})).await;
    let e = p.ia.refused(403, "PUT", &path, json!({"agree": true})).await;
    assert_eq!(e.code, "forbidden");
    assert!(e.message.contains("the independent assessor does not"), "{e:?}");
    for who in [&p.admin, &p.moderator.client] {
        who.refused(403, "PUT", &path, json!({"agree": true})).await;
    }
    // 403 comes before 400.
    p.ia.refused(403, "PUT", &path, json!({"agree": false})).await;
    assert_eq!(p.view().await["sign_off"], json!([]));
});

/// Posts the assessment page's sign-off form (its CSRF token and version) with `fields`.
async fn sign_off_through_the_page(web: &mut Web, id: &str, fields: &[(&str, &str)]) -> crate::web::Page {
    let page = web.get_ok(&format!("/assessments/{id}")).await;
    assert!(
        page.body.contains(&format!("action=\"/assessments/{id}/sign-off\"")),
        "the form is offered: {}",
        page.body
    );
    let (csrf, version) = (hidden(&page.body, "csrf"), input_value(&page.body, "version").unwrap_or_default());
    let mut all = vec![("csrf", csrf.as_str()), ("version", version.as_str())];
    all.extend_from_slice(fields);
    web.post(&format!("/assessments/{id}/sign-off"), &all).await
}

both_backends!(the_pages_sign_off_and_the_moderation_page_shows_each_seat, |app| async move {
    let p = app.decided().await;
    let mut moderator = Web::signed_in(app, &p.moderator.email).await;
    let page = moderator.get_ok(&format!("/assessments/{}/moderation", p.id)).await;
    assert_eq!(page.body.matches("Not yet signed off").count(), 2, "{}", page.body);

    let mut lm = Web::signed_in(app, &p.lm.email).await;
    // A dissent without its text is refused on the page, naming the field, and nothing is kept.
    let r = sign_off_through_the_page(&mut lm, &p.id, &[("agree", "no"), ("dissent", "")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("field-error") && r.body.contains("aria-invalid=\"true\""), "{}", r.body);
    let r = sign_off_through_the_page(&mut lm, &p.id, &[("agree", "yes"), ("dissent", "")]).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some(&*format!("/assessments/{}?done=sign_off", p.id))),
        "{}",
        r.body
    );
    let mut tp = Web::signed_in(app, &p.tp.email).await;
    let r =
        sign_off_through_the_page(&mut tp, &p.id, &[("agree", "no"), ("dissent", "Criterion two deserved a 4.")]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let page = moderator.get_ok(&format!("/assessments/{}/moderation", p.id)).await;
    assert!(page.body.contains("<dt>Line manager</dt><dd>Agrees with the agreed scores</dd>"), "{}", page.body);
    assert!(
        page.body.contains("<dt>Training provider</dt><dd>Dissents: Criterion two deserved a 4.</dd>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Not yet signed off"), "{}", page.body);
    // The assessor is offered no form.
    let mut ia = Web::signed_in(app, &p.ia.email).await;
    let page = ia.get_ok(&format!("/assessments/{}", p.id)).await;
    assert!(!page.body.contains("/sign-off\""), "{}", page.body);
});

both_backends!(the_home_page_lists_sign_off_as_due_until_the_seat_has_signed, |app| async move {
    let p = app.decided().await;
    let mut lm = Web::signed_in(app, &p.lm.email).await;
    let home = lm.get_ok("/assessments").await.body;
    assert!(home.contains("Sign off the agreed scores"), "due after the decision");
    p.lm.expect(200, "PUT", &p.path("/sign-off"), json!({"agree": true})).await;
    let home = lm.get_ok("/assessments").await.body;
    assert!(!home.contains("Sign off the agreed scores"), "no longer due once signed");
});
