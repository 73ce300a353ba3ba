//! The OpenAPI description (`GET /api/v1/openapi.json`) held against the real answers of a whole
//! panel day: every call the day makes is a described operation, every status it answers is a
//! described response, and every JSON body fits the described schema (a small walk over the
//! generated components: `$ref`, types, required properties, items, enums).

use crate::app::*;
use serde_json::{json, Value};

/// The description, as the server serves it.
struct Described {
    doc: Value,
}

impl Described {
    async fn fetch(app: &TestApp) -> Described {
        let doc = app.client(None).expect(200, "GET", "/api/v1/openapi.json", Value::Null).await;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
        Described { doc }
    }

    /// The operation for `method` on `path` (ids in the path match `{…}` in the description).
    fn operation(&self, method: &str, path: &str) -> &Value {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let (_, item) = self.doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .find(|(template, _)| {
                let parts: Vec<&str> = template.split('/').collect();
                parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
            })
            .unwrap_or_else(|| panic!("{path} is not described"));
        let op = &item[method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is not described");
        op
    }

    /// The described response for `status` (or the default one), checked against `body`.
    fn check(&self, method: &str, path: &str, status: u16, body: &Value) {
        let responses = &self.operation(method, path)["responses"];
        let response = match &responses[status.to_string()] {
            Value::Null => &responses["default"],
            r => r,
        };
        assert!(response.is_object(), "{method} {path}: {status} is not described: {responses}");
        if let Some(schema) = response["content"]["application/json"].get("schema") {
            fits(&self.doc, schema, body, "body").unwrap_or_else(|e| panic!("{method} {path} {status}: {e}\n{body}"));
        }
    }

    /// Whether the described response for `status` names a schema for its JSON body.
    fn has_schema(&self, method: &str, path: &str, status: u16) -> bool {
        self.operation(method, path)["responses"][status.to_string()]["content"]["application/json"]
            .get("schema")
            .is_some()
    }
}

/// Whether `value` fits `schema`; the error names where it does not.
fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.strip_prefix("#/components/schemas/").ok_or(format!("{at}: odd $ref {reference}"))?;
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return Err(format!("{at}: {reference} is not in the components"));
        }
        return fits(doc, target, value, at);
    }
    for (key, all) in [("allOf", true), ("oneOf", false), ("anyOf", false)] {
        if let Some(list) = schema[key].as_array() {
            let results: Vec<Result<(), String>> = list.iter().map(|s| fits(doc, s, value, at)).collect();
            let ok = if all { results.iter().all(Result::is_ok) } else { results.iter().any(Result::is_ok) };
            if !ok {
                return Err(format!("{at}: fits no {key} alternative: {results:?}"));
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| is(t)) {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{at}: `{name}` is required but missing"));
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(v) = object.get(name) {
                fits(doc, property, v, &format!("{at}.{name}"))?;
            }
        }
    }
    if let (Some(list), Some(items)) = (value.as_array(), schema.get("items")) {
        for (i, v) in list.iter().enumerate() {
            fits(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Sends one call, expects `status`, and holds the answer against the description.
async fn call(d: &Described, client: &Client, status: u16, method: &str, path: &str, body: Value) -> Value {
    let answer = client.expect(status, method, path, body).await;
    d.check(method, path, status, &answer);
    answer
}

#[test]
fn the_schema_walk_refuses_what_does_not_fit() {
    let doc = json!({"components": {"schemas": {
        "Item": {"type": "object", "required": ["component", "score"],
                 "properties": {"component": {"type": "string"}, "score": {"type": "integer"},
                                "comment": {"type": ["string", "null"]}}},
        "Sheet": {"type": "object", "required": ["items"],
                  "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                                 "kind": {"type": "string", "enum": ["draft", "final"]}}}}}});
    let sheet = json!({"$ref": "#/components/schemas/Sheet"});
    let good = json!({"items": [{"component": "viva", "score": 4, "comment": null}], "kind": "final"});
    assert_eq!(fits(&doc, &sheet, &good, "body"), Ok(()));
    let missing = json!({"items": [{"component": "viva"}]});
    assert!(fits(&doc, &sheet, &missing, "body").unwrap_err().contains("body.items[0]: `score`"));
    let wrong = json!({"items": [{"component": "viva", "score": "4"}]});
    assert!(fits(&doc, &sheet, &wrong, "body").unwrap_err().contains("body.items[0].score"));
    let kind = json!({"items": [], "kind": "sealed"});
    assert!(fits(&doc, &sheet, &kind, "body").unwrap_err().contains("body.kind"));
    assert!(fits(&doc, &json!({"$ref": "#/components/schemas/Nothing"}), &good, "body").is_err());
}

both_backends!(a_whole_panel_day_fits_the_description, |app| async move {
    let d = Described::fetch(app).await;
    let anon = app.client(None);
    call(&d, &anon, 401, "GET", "/api/v1/assessments", Value::Null).await;

    call(&d, &app.admin, 200, "GET", "/api/v1/standards", Value::Null).await;
    call(&d, &app.admin, 200, "GET", &format!("/api/v1/standards/{STANDARD}"), Value::Null).await;
    call(&d, &app.admin, 404, "GET", "/api/v1/standards/no-such-standard", Value::Null).await;

    // People and the registration, each answer held against its schema.
    let org =
        call(&d, &app.admin, 201, "POST", "/api/v1/organisations", json!({"name": "Firm", "kind": "employer"})).await;
    let user = json!({"email": "someone@example.org", "name": "Someone", "role": "moderator"});
    let made = call(&d, &app.admin, 201, "POST", "/api/v1/users", user).await;
    assert!(made["organisation_id"].is_null() && made["token"].is_string(), "{made}");
    let provider = json!({"name": "College", "kind": "training_provider"});
    let provider = call(&d, &app.admin, 201, "POST", "/api/v1/organisations", provider).await;
    let apprentice = json!({"name": "A. Learner", "email": "learner@example.org", "employer_id": id_of(&org),
                            "training_provider_id": id_of(&provider)});
    call(&d, &app.admin, 201, "POST", "/api/v1/apprentices", apprentice).await;
    let people = app.people(Names::default()).await;
    let new = json!({"apprentice_id": people.apprentice.id, "standard_id": STANDARD,
                     "line_manager_id": people.lm.id, "training_provider_user_id": people.tp.id});
    let a = call(&d, &app.admin, 201, "POST", "/api/v1/assessments", new).await;
    let panel = Panel { id: id_of(&a), standard: app.standard(STANDARD).await, people };
    // Before the gateway: no answers saved, no panel appointed.
    call(&d, &panel.lm, 200, "GET", &panel.path(""), Value::Null).await;

    // Gateway and panel.
    let mut gate = gateway_met();
    gate["english_level2"] = json!(false);
    let g = call(&d, &panel.lm, 200, "PUT", &panel.path("/gateway"), gate.clone()).await;
    assert_eq!(g["unmet"], json!(["english_level2"]), "{g}");
    gate["english_level2"] = json!(true);
    call(&d, &panel.tp, 200, "PUT", &panel.path("/gateway"), gate).await;
    call(&d, &panel.admin, 409, "PUT", &panel.path("/panel"), panel.panel_body(&panel.insider)).await;
    call(&d, &panel.admin, 200, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
    call(
        &d,
        &panel.ia,
        200,
        "PUT",
        &panel.path("/declaration"),
        json!({"no_prior_involvement": true, "conflicts": "none"}),
    )
    .await;

    // Score sheets: a draft, a refusal, three submissions, the sealed and the opened sheets.
    let items = panel.items().to_vec();
    let (first, second) = (&items[0], &items[1]);
    let all4 = sheet(&items, 4);
    let draft =
        call(&d, &panel.lm, 200, "PUT", &panel.path("/scores"), scores_body(&with(Sheet::new(), &[(first, 5)]), false))
            .await;
    assert_eq!(draft["submitted"], false, "{draft}");
    call(&d, &panel.lm, 400, "PUT", &panel.path("/scores"), scores_body(&with(Sheet::new(), &[(first, 9)]), false))
        .await;
    call(
        &d,
        &panel.lm,
        200,
        "PUT",
        &panel.path("/scores"),
        scores_body(&with(all4.clone(), &[(first, 5), (second, 3)]), true),
    )
    .await;
    let sealed = call(&d, &panel.tp, 200, "GET", &panel.path("/scores"), Value::Null).await;
    assert!(sealed["sheets"].as_array().is_some_and(|s| s.iter().any(|s| s["scores"].is_null())), "{sealed}");
    call(&d, &panel.tp, 200, "PUT", &panel.path("/scores"), scores_body(&with(all4.clone(), &[(second, 2)]), true))
        .await;
    call(
        &d,
        &panel.ia,
        200,
        "PUT",
        &panel.path("/scores"),
        scores_body(&with(all4.clone(), &[(first, 3), (second, 3)]), true),
    )
    .await;
    let open = call(&d, &panel.lm, 200, "GET", &panel.path("/scores"), Value::Null).await;
    assert!(
        open["sheets"].as_array().is_some_and(|s| s.len() == 3 && s.iter().all(|s| s["scores"].is_array())),
        "{open}"
    );

    // Consensus, the viva record, the decision; moderation refers back, then confirms.
    let deal = json!({"items": [agreed(first, Some(4), "evidence in section 3"), agreed(second, None, "no agreement")],
                      "notes": "Agreed on the day."});
    call(&d, &panel.lm, 403, "PUT", &panel.path("/consensus"), deal.clone()).await;
    call(&d, &panel.ia, 200, "PUT", &panel.path("/consensus"), deal.clone()).await;
    call(&d, &panel.ia, 409, "POST", &panel.path("/decision"), json!({"notes": "no viva record yet"})).await;
    let viva = json!({"questions": [{"question": "How did you involve tenants?", "response": "Two resident panels."}]});
    call(&d, &panel.ia, 200, "PUT", &panel.path("/viva-record"), viva).await;
    let decided = call(&d, &panel.ia, 200, "POST", &panel.path("/decision"), json!({"notes": "Decided."})).await;
    assert_eq!(decided["grade"], "Pass", "{decided}");
    let back = json!({"action": "refer_back", "rationale": "Record why the first item exceeds the standard."});
    call(&d, &panel.moderator, 200, "POST", &panel.path("/moderation"), back).await;
    call(&d, &panel.ia, 200, "PUT", &panel.path("/consensus"), deal).await;
    call(&d, &panel.ia, 200, "POST", &panel.path("/decision"), json!({"notes": "Decided again."})).await;
    let confirm = json!({"action": "confirm", "rationale": "Due process followed."});
    let released = call(&d, &panel.moderator, 200, "POST", &panel.path("/moderation"), confirm).await;
    assert_eq!(released["status"], "released", "{released}");

    // Reading it back.
    call(&d, &panel.admin, 200, "GET", &panel.path(""), Value::Null).await;
    call(&d, &panel.lm, 200, "GET", "/api/v1/assessments", Value::Null).await;
    let audit = call(&d, &panel.moderator, 200, "GET", &panel.path("/audit"), Value::Null).await;
    assert!(audit.as_array().is_some_and(|a| a.len() > 10), "{audit}");
    for report in ["scores", "outcomes", "assessors"] {
        let path = format!("/api/v1/reports/{report}.csv");
        let described = &d.operation("GET", &path)["responses"]["200"]["content"];
        assert!(described.get("text/csv").is_some(), "{path}: {described}");
        let answer = panel.moderator.send("GET", &path, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert!(answer.content_type.starts_with("text/csv"), "{path}: {}", answer.content_type);
    }

    // The typed answers the day relies on are described with their schemas, not only by words.
    assert!(d.has_schema("GET", &format!("/api/v1/standards/{STANDARD}"), 200));
    for path in ["/api/v1/standards", "/api/v1/assessments"] {
        assert!(d.has_schema("GET", path, 200), "GET {path} has no schema");
    }
    for path in ["/api/v1/organisations", "/api/v1/users", "/api/v1/apprentices", "/api/v1/assessments"] {
        assert!(d.has_schema("POST", path, 201), "POST {path} has no schema");
    }
    assert!(d.has_schema("GET", &panel.path(""), 200), "GET an assessment has no schema");
    assert!(d.has_schema("PUT", &panel.path("/panel"), 200), "PUT /panel has no schema");
    assert!(d.has_schema("POST", &panel.path("/emails/resend"), 200), "POST /emails/resend has no schema");
    assert!(d.has_schema("POST", "/api/v1/standards", 201) && d.has_schema("POST", "/api/v1/standards", 200));
    for (method, sub) in [
        ("PUT", "/gateway"),
        ("PUT", "/declaration"),
        ("PUT", "/viva-record"),
        ("PUT", "/scores"),
        ("GET", "/scores"),
        ("PUT", "/consensus"),
        ("POST", "/decision"),
        ("POST", "/moderation"),
        ("GET", "/audit"),
    ] {
        assert!(d.has_schema(method, &panel.path(sub), 200), "{method} {sub} has no schema");
    }
});
