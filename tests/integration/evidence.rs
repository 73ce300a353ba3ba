//! Evidence linked to criteria (`POST`/`GET …/evidence`) and viva questions naming the criteria
//! they probe (`PUT …/viva-record`): who may record (a panel member) and read (anyone who sees
//! the assessment), until when (the decision), what is refused (400 naming the field, nothing
//! saved), the audit entry; and the pages (the evidence form, the score sheet showing beside each
//! item what was recorded against it).

use crate::app::*;
use crate::web::Web;
use serde_json::{json, Value};

fn item(i: &Item) -> Value {
    json!({"component": i.component, "criterion": i.criterion})
}

fn witness(items: &[&Item]) -> Value {
    json!({
        "kind": "witness_testimony",
        "title": "  Witness testimony from the housing manager, 3 Nov  ",
        "description": "Saw the apprentice chair the residents' meeting.",
        "criteria": items.iter().map(|i| item(i)).collect::<Vec<_>>(),
    })
}

async fn evidence_audited(p: &Panel) -> Vec<Value> {
    let trail = p.admin.get(&p.path("/audit")).await;
    let entries = trail.as_array().unwrap_or_else(|| panic!("audit trail: {trail}"));
    entries.iter().filter(|e| e["action"] == "evidence.recorded").map(|e| e["detail"].clone()).collect()
}

both_backends!(a_panel_member_records_evidence_that_everyone_on_the_assessment_reads, |app| async move {
    let p = app.panel().await;
    let items = p.items().to_vec();
    // The L4 guide lists no evidence kinds: the default set.
    let empty = p.lm.get(&p.path("/evidence")).await;
    let kinds: Vec<&str> = empty["kinds"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["observation_record", "witness_testimony", "work_product", "personal_statement"]);
    assert_eq!(empty["evidence"], json!([]));

    let made = p.lm.expect(201, "POST", &p.path("/evidence"), witness(&[&items[0], &items[1]])).await;
    assert_eq!(
        (&made["kind"], &made["kind_title"], &made["title"], &made["by"], &made["assessment_id"]),
        (
            &json!("witness_testimony"),
            &json!("Witness testimony"),
            &json!("Witness testimony from the housing manager, 3 Nov"),
            &json!(p.lm.id),
            &json!(p.id)
        ),
        "{made}"
    );
    assert_eq!(made["criteria"], json!([item(&items[0]), item(&items[1])]));
    assert!(made["at"].as_str().is_some_and(|t| t.len() >= 19), "{made}");
    let second = json!({"kind": "observation_record", "title": "Observed site visit", "criteria": [item(&items[1])]});
    let other = p.ia.expect(201, "POST", &p.path("/evidence"), second).await;
    assert_eq!(other["description"], json!(""), "description is optional");

    // Every member and the staff read the records, oldest first.
    for who in [&p.lm.client, &p.tp.client, &p.ia.client, &p.moderator.client, &p.admin] {
        let seen = who.get(&p.path("/evidence")).await;
        let ids: Vec<&Value> = seen["evidence"].as_array().unwrap().iter().map(|r| &r["id"]).collect();
        assert_eq!(ids, [&made["id"], &other["id"]], "{seen}");
    }
    // One audit entry each, naming the record, its kind and how many criteria.
    assert_eq!(
        evidence_audited(&p).await,
        [
            json!({"evidence_id": made["id"], "kind": "witness_testimony", "criteria": 2}),
            json!({"evidence_id": other["id"], "kind": "observation_record", "criteria": 1})
        ]
    );
});

both_backends!(only_the_panel_records_evidence_and_others_cannot_see_it, |app| async move {
    let p = app.panel().await;
    let body = witness(&[&p.items()[0]]);
    let path = p.path("/evidence");
    let anonymous = app.client(None);
    assert_eq!(anonymous.refused(401, "POST", &path, body.clone()).await.code, "unauthorized");
    assert_eq!(anonymous.refused(401, "GET", &path, Value::Null).await.code, "unauthorized");
    // An assessor not on this panel: the assessment does not exist for them.
    assert_eq!(p.insider.refused(404, "POST", &path, body.clone()).await.code, "not_found");
    assert_eq!(p.insider.refused(404, "GET", &path, Value::Null).await.code, "not_found");
    let missing = "/api/v1/assessments/no-such-assessment/evidence";
    assert_eq!(p.lm.refused(404, "POST", missing, body.clone()).await.code, "not_found");
    // Staff see it but do not record: 403, before the body is looked at.
    for staff in [&p.admin, &p.moderator.client] {
        let e = staff.refused(403, "POST", &path, json!({"nonsense": true})).await;
        assert_eq!(e.code, "forbidden", "{e:?}");
    }
    assert_eq!(p.admin.get(&path).await["evidence"], json!([]), "nothing recorded");
    assert!(evidence_audited(&p).await.is_empty());
});

both_backends!(bad_evidence_is_refused_naming_the_field_and_nothing_is_saved, |app| async move {
    // The long sheet's guide lists the SQA's four evidence kinds: only those.
    assert_eq!(app.import_guide(LONG_SHEET).await.0, 201);
    let p = app.panel_for("long-sheet", Names::default()).await;
    let items = p.items().to_vec();
    let path = p.path("/evidence");
    let listed = p.tp.get(&path).await;
    let kinds: Vec<&str> = listed["kinds"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["observation_record", "witness_testimony", "personal_statement", "questions_and_answers"]);

    let good = json!({"kind": "questions_and_answers", "title": "Q&A", "criteria": [item(&items[0])]});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let long_title = "t".repeat(201);
    let cases = [
        (with("kind", json!("work_product")), "invalid_kind", "kind:"),
        (with("kind", json!("")), "invalid_kind", "kind:"),
        (with("title", json!("   ")), "missing_value", "title:"),
        (with("title", json!("two\nlines")), "invalid_text", "title:"),
        (with("title", json!(long_title)), "too_long", "title:"),
        (with("description", json!("x".repeat(20_001))), "too_long", "description:"),
        (with("criteria", json!([])), "missing_value", "criteria:"),
        (
            with("criteria", json!([{"component": "observation", "criterion": "K999"}])),
            "unknown_score_item",
            "criteria[0]:",
        ),
        (
            with("criteria", json!([item(&items[0]), {"component": "viva", "criterion": items[1].criterion}])),
            "unknown_score_item",
            "criteria[1]:",
        ),
        (with("criteria", json!([item(&items[0]), item(&items[0])])), "duplicate_item", "criteria[1]:"),
        (with("extra", json!(1)), "invalid_body", ""),
    ];
    for (body, code, field) in cases {
        let e = p.lm.refused(400, "POST", &path, body.clone()).await;
        assert_eq!(e.code, code, "{body}: {e:?}");
        assert!(e.message.starts_with(field), "{body}: the message names the field {field}: {}", e.message);
    }
    assert_eq!(p.lm.get(&path).await["evidence"], json!([]), "nothing half-saved");
    assert!(evidence_audited(&p).await.is_empty());
    // The same body, right: recorded, with the guide's own title for its kind.
    let made = p.lm.expect(201, "POST", &path, good).await;
    assert_eq!(made["kind_title"], json!("Record of questions and answers"));
});

both_backends!(evidence_is_recorded_until_the_decision, |app| async move {
    // From registration (the line manager's portfolio evidence, before the gateway)...
    let p = app.registered().await;
    let items = p.items().to_vec();
    p.lm.expect(201, "POST", &p.path("/evidence"), witness(&[&items[0]])).await;
    p.pass_gateway().await;
    p.tp.expect(201, "POST", &p.path("/evidence"), witness(&[&items[2]])).await;
    p.appoint().await;
    p.declare().await;
    let all = sheet(&items, 3);
    p.submit_all(&all, &all, &all).await;
    assert_eq!(p.status().await, "consensus");
    p.ia.expect(201, "POST", &p.path("/evidence"), witness(&[&items[3]])).await;
    p.record_viva().await;
    p.decide().await;
    // ...until the decision: 409 after it, but 400 first for a bad body.
    let e = p.lm.refused(409, "POST", &p.path("/evidence"), witness(&[&items[0]])).await;
    assert_eq!(e.code, "wrong_state");
    assert!(e.message.starts_with("recording evidence is possible only when the assessment is"), "{}", e.message);
    assert!(e.message.ends_with("it is decided"), "{}", e.message);
    let e = p
        .lm
        .refused(400, "POST", &p.path("/evidence"), json!({"kind": "witness_testimony", "title": "", "criteria": []}))
        .await;
    assert_eq!(e.code, "missing_value");
    assert_eq!(p.lm.get(&p.path("/evidence")).await["evidence"].as_array().map(Vec::len), Some(3));
});

both_backends!(viva_questions_name_the_criteria_they_probe, |app| async move {
    let p = app.panel().await;
    let items = p.items().to_vec();
    let viva_items: Vec<&Item> = items.iter().filter(|i| i.component == "viva").collect();
    let path = p.path("/viva-record");
    let q = |criteria: Value| json!({"question": "How did you involve tenants?", "response": "Two panels.", "criteria": criteria});
    let saved =
        p.ia.expect(
            200,
            "PUT",
            &path,
            json!({"questions": [q(json!([item(viva_items[0]), item(viva_items[1])])),
                                                          {"question": "Anything else?", "response": "No."}]}),
        )
        .await;
    assert_eq!(saved["questions"][0]["criteria"], json!([item(viva_items[0]), item(viva_items[1])]));
    assert_eq!(saved["questions"][1]["criteria"], json!([]), "a question naming none: []");
    // Checked against the guide, naming the question; the record saved before stays.
    for (criteria, code, field) in [
        (json!([{"component": "viva", "criterion": "K999"}]), "unknown_score_item", "questions[1].criteria[0]:"),
        (json!([item(viva_items[0]), item(viva_items[0])]), "duplicate_item", "questions[1].criteria[1]:"),
        (json!("K1"), "invalid_body", ""),
    ] {
        let body = json!({"questions": [q(json!([])), q(criteria.clone())]});
        let e = p.ia.refused(400, "PUT", &path, body).await;
        assert_eq!(e.code, code, "{criteria}: {e:?}");
        assert!(e.message.starts_with(field), "{criteria}: {}", e.message);
    }
    let view = p.view().await;
    assert_eq!(view["viva_record"]["questions"][0]["criteria"], json!([item(viva_items[0]), item(viva_items[1])]));
    // A v1 body (no criteria) still works.
    p.record_viva().await;
    assert_eq!(p.view().await["viva_record"]["questions"][0]["criteria"], json!([]));
});

both_backends!(the_pages_record_evidence_and_the_sheet_shows_it_beside_each_item, |app| async move {
    let p = app.panel().await;
    let items = p.items().to_vec();
    let viva_items: Vec<&Item> = items.iter().filter(|i| i.component == "viva").collect();
    let mut lm = Web::signed_in(app, &p.lm.email).await;
    let page = format!("/assessments/{}/evidence", p.id);
    let form = lm.get_ok(&page).await;
    assert!(form.body.contains("No evidence recorded yet") && form.body.contains("Record evidence"), "{}", form.body);
    let value = |i: &Item| format!("{}:{}", i.component, i.criterion);
    let (first, second) = (value(&items[0]), value(&items[1]));

    // No criteria chosen: the form again, the refusal beside the field, nothing saved.
    let refused = lm.submit(&page, &[("kind", "observation_record"), ("title", "Observed visit")]).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("href=\"#field-criteria\""), "the refusal links to the field: {}", refused.body);
    assert!(refused.body.contains("value=\"Observed visit\""), "what was typed is kept");
    assert_eq!(p.lm.get(&p.path("/evidence")).await["evidence"], json!([]));

    let done = lm
        .submit(
            &page,
            &[("kind", "observation_record"), ("title", "Observed visit"), ("criteria", &first), ("criteria", &second)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let listed = p.lm.get(&p.path("/evidence")).await;
    let record = listed["evidence"][0].clone();
    assert_eq!(record["criteria"], json!([item(&items[0]), item(&items[1])]), "{listed}");
    assert!(done
        .location
        .as_deref()
        .is_some_and(|l| l.ends_with(&format!("#evidence-{}", record["id"].as_str().unwrap()))));
    let shown = lm.get_ok(&page).await;
    assert!(shown.body.contains("Observed visit") && shown.body.contains("Recorded by Lena Line"), "{}", shown.body);

    // The viva page: a question naming the criteria it probes.
    let viva = format!("/assessments/{}/viva", p.id);
    let probe = value(viva_items[0]);
    let saved = lm
        .submit(
            &viva,
            &[
                ("new_question", "Which residents did you involve?"),
                ("new_response", "All of them."),
                ("new_criteria", &probe),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(p.view().await["viva_record"]["questions"][0]["criteria"], json!([item(viva_items[0])]));
    let again = lm.get_ok(&viva).await;
    assert!(
        again.body.contains(&format!("value=\"{probe}\" selected")),
        "the question's criteria are chosen on the form"
    );

    // Every member's sheet shows, beside each item, the evidence and the questions naming it.
    let mut tp = Web::signed_in(app, &p.tp.email).await;
    let sheet = tp.get_ok(&format!("/assessments/{}/scores", p.id)).await.body;
    let item_html = |i: &Item| {
        let anchor = format!("id=\"item-{}-{}\"", i.component, i.criterion).replace('.', "_");
        let at = sheet.find(&anchor).unwrap_or_else(|| panic!("{anchor} on the sheet"));
        let end = sheet[at..].find("</textarea>").map_or(sheet.len(), |e| at + e);
        sheet[at..end].to_string()
    };
    for i in [&items[0], &items[1]] {
        assert!(item_html(i).contains("Observation record: <a href="), "{i:?}: {}", item_html(i));
    }
    assert!(!item_html(&items[2]).contains("Observation record"), "only the items the record names");
    assert!(
        item_html(viva_items[0]).contains("Viva question: Which residents did you involve?"),
        "{}",
        item_html(viva_items[0])
    );
    assert!(!item_html(viva_items[1]).contains("Viva question"));
});
