//! Reasonable adjustments and special consideration (`PUT …/adjustments`): recorded by an admin,
//! the line manager or the training provider until the panel scores, each call replacing the
//! record; shown in `GET …/{id}` and on the assessment, viva and score-sheet pages; audited.

use crate::app::*;
use crate::web::Web;
use serde_json::{json, Value};

fn body() -> Value {
    json!({"adjustments": [
        {"kind": "extra_time", "description": "25% extra time for the presentation."},
        {"kind": "rest_breaks", "description": "A short break between the presentation and the questions."}
    ], "special_consideration": "Bereavement in the month before the viva."})
}

fn audited(app: &TestApp, id: &str) -> Vec<Value> {
    let mut conn = app.connect();
    epa_panel::db::models::audit_of(&mut conn, id)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "adjustments.recorded")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

both_backends!(adjustments_are_recorded_shown_replaced_and_audited, |app| async move {
    let p = app.registered().await;
    let path = p.path("/adjustments");
    assert_eq!(p.view().await["adjustments"], Value::Null, "none until recorded");
    let saved = p.lm.expect(200, "PUT", &path, body()).await;
    assert_eq!(saved["items"][0], json!({"kind": "extra_time", "description": "25% extra time for the presentation."}));
    assert_eq!(saved["by"], json!(p.lm.id));
    let shown = p.view().await["adjustments"].clone();
    assert_eq!(shown["items"].as_array().map(Vec::len), Some(2), "{shown}");
    assert_eq!(shown["special_consideration"], "Bereavement in the month before the viva.");
    // Replacing: the provider's record is the whole record; an empty special consideration is none.
    p.pass_gateway().await;
    p.tp.expect(
        200,
        "PUT",
        &path,
        json!({"adjustments": [{"kind": " reader ", "description": "Questions read aloud."}], "special_consideration": "  "}),
    )
    .await;
    let shown = p.view().await["adjustments"].clone();
    assert_eq!(shown["items"], json!([{"kind": "reader", "description": "Questions read aloud."}]));
    assert_eq!((shown["special_consideration"].clone(), shown["by"].clone()), (Value::Null, json!(p.tp.id)));
    p.appoint().await;
    p.admin.expect(200, "PUT", &path, json!({"adjustments": []})).await;
    assert_eq!(p.view().await["adjustments"]["items"], json!([]));
    // Every panel member sees them in the list too.
    let listed = p.ia.get("/api/v1/assessments").await;
    assert_eq!(listed[0]["adjustments"]["items"], json!([]), "{listed}");
    assert_eq!(
        audited(app, &p.id),
        [
            json!({"count": 2, "kinds": ["extra_time", "rest_breaks"], "special_consideration": true}),
            json!({"count": 1, "kinds": ["reader"], "special_consideration": false}),
            json!({"count": 0, "kinds": [], "special_consideration": false}),
        ]
    );
});

both_backends!(bad_adjustments_are_refused_naming_the_field, |app| async move {
    let p = app.registered().await;
    let path = p.path("/adjustments");
    let long = "k".repeat(61);
    for (bad, code, field) in [
        (
            json!({"adjustments": [{"kind": "extra_time", "description": "ok"}, {"kind": "reader", "description": "  "}]}),
            "missing_value",
            "adjustments[1].description",
        ),
        (json!({"adjustments": [{"kind": "", "description": "ok"}]}), "missing_value", "adjustments[0].kind"),
        (json!({"adjustments": [{"kind": long, "description": "ok"}]}), "too_long", "adjustments[0].kind"),
        (json!({"adjustments": [{"kind": "extra\ntime", "description": "ok"}]}), "invalid_text", "adjustments[0].kind"),
        (json!({"adjustments": [{"kind": "extra_time"}]}), "invalid_body", "adjustments[0]"),
        (json!({"adjustments": [], "special_consideration": "x".repeat(4001)}), "too_long", "special_consideration"),
        (json!({"special_consideration": "no list"}), "invalid_body", "adjustments"),
    ] {
        let e = p.lm.refused(400, "PUT", &path, bad.clone()).await;
        assert_eq!(e.code, code, "{bad}: {e:?}");
        assert!(e.message.contains(field), "{bad}: {e:?}");
    }
    assert_eq!(p.view().await["adjustments"], Value::Null, "nothing saved");
    assert!(audited(app, &p.id).is_empty());
});

both_backends!(adjustments_close_once_the_panel_is_scoring, |app| async move {
    let p = app.panel().await;
    let s = sheet(p.items(), 3);
    p.submit_all(&s, &s, &s).await;
    assert_eq!(p.status().await, "consensus");
    let e = p.lm.refused(409, "PUT", &p.path("/adjustments"), body()).await;
    assert_eq!(e.code, "wrong_state");
    assert!(
        e.message.contains("registered, gateway passed or scheduled")
            || e.message.contains("recording reasonable adjustments"),
        "{e:?}"
    );
    assert_eq!(p.view().await["adjustments"], Value::Null);
});

both_backends!(adjustments_answer_401_then_404_then_403, |app| async move {
    let p = app.registered().await;
    let path = p.path("/adjustments");
    app.client(None).refused(401, "PUT", &path, body()).await;
    let e = p.insider.refused(404, "PUT", &path, body()).await;
    assert_eq!(e.code, "not_found");
    let other = app.registered().await;
    other.lm.refused(404, "PUT", &path, json!({"not": "a body"})).await;
    p.admin.refused(404, "PUT", "/api/v1/assessments/no-such-assessment/adjustments", body()).await;
    p.pass_gateway().await;
    p.appoint().await;
    for who in [&p.ia.client, &p.moderator.client] {
        let e = who.refused(403, "PUT", &path, json!({"adjustments": "bad"})).await;
        assert_eq!(e.code, "forbidden", "403 before 400: {e:?}");
    }
    assert_eq!(p.view().await["adjustments"], Value::Null);
});

both_backends!(the_panel_sees_the_adjustments_where_it_plans_and_scores, |app| async move {
    let p = app.panel().await;
    p.lm.expect(200, "PUT", &p.path("/adjustments"), body()).await;
    let mut ia = Web::signed_in(app, &p.ia.email).await;
    for page in ["", "/viva", "/scores"] {
        let r = ia.get_ok(&format!("/assessments/{}{page}", p.id)).await;
        assert!(r.body.contains("Reasonable adjustments"), "{page}: {}", r.body);
        assert!(r.body.contains("25% extra time for the presentation."), "{page}: {}", r.body);
        assert!(r.body.contains("Bereavement in the month before the viva."), "{page}: {}", r.body);
        assert!(r.body.contains(&p.lm.name), "recorded by, by name: {page}");
    }
});

both_backends!(outcomes_csv_counts_the_adjustments, |app| async move {
    let p = app.registered().await;
    p.lm.expect(200, "PUT", &p.path("/adjustments"), body()).await;
    p.pass_gateway().await;
    p.appoint().await;
    p.declare().await;
    p.decide_unanimous(3).await;
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    let rows = outcomes.rows_where("assessment_id", &p.id);
    assert_eq!(rows.len(), 1, "{outcomes:?}");
    assert_eq!((rows[0]["attempt"].as_str(), rows[0]["adjustments"].as_str()), ("1", "2"), "{:?}", rows[0]);
    assert_eq!(rows[0]["amended"], "false");
});
