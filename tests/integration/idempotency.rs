//! Retries are safe: every `POST` takes an `Idempotency-Key`; the same key replays the first
//! response (same status and body, `Idempotent-Replayed: true`) without a second effect (one
//! row, one audit entry, one set of emails); the same key on a different request is a 400
//! (`idempotency_key_reused`); a client error is replayed as that same error; a replayed new user
//! does not show their token again.

use crate::app::*;
use crate::versions::{admin, rekey, Answer, Raw};
use diesel::prelude::*;
use epa_panel::db::schema::{apprentices, assessments, audit_entries, organisations, standards, users};
use serde_json::{json, Value};

/// Every audit entry so far (the outbox writes none, so only requests add to it).
fn audit_len(app: &TestApp) -> i64 {
    audit_entries::table.count().get_result(&mut app.connect()).expect("count the audit entries")
}

/// Sends `body` twice with one key: the first answer must be `status`, the second its replay.
/// Checks that the first added exactly `entries` audit entries and the replay none.
async fn twice(
    app: &TestApp,
    who: &Raw,
    key: &str,
    (method, path): (&str, &str),
    body: &Value,
    status: u16,
    entries: i64,
) -> (Answer, Answer) {
    let headers = [("Idempotency-Key", key)];
    let before = audit_len(app);
    let first = who.expect(status, method, path, body, &headers).await;
    assert_eq!(first.replayed, None, "{method} {path}: a first answer is not a replay");
    let between = audit_len(app);
    assert_eq!(between - before, entries, "{method} {path}: audit entries added by the first request");
    let again = who.expect(status, method, path, body, &headers).await;
    assert_eq!(again.replayed.as_deref(), Some("true"), "{method} {path}: Idempotent-Replayed on the retry");
    assert_eq!(audit_len(app), between, "{method} {path}: the retry must add no audit entry");
    (first, again)
}

/// `twice` where the replay must be the very same answer.
async fn replayed(
    app: &TestApp,
    who: &Raw,
    key: &str,
    route: (&str, &str),
    body: &Value,
    status: u16,
    entries: i64,
) -> Value {
    let (first, again) = twice(app, who, key, route, body, status, entries).await;
    assert_eq!(again.json, first.json, "{route:?}: the retry replays the first body");
    first.json
}

both_backends!(every_post_replays_its_first_response_once, |app| async move {
    let admin = admin(app, "adam.idem@fairepa.test").await;

    // Organisations.
    let name = "Idempotent Homes";
    let org = json!({"name": name, "kind": "employer"});
    let o = replayed(app, &admin, "org-1", ("POST", "/api/v1/organisations"), &org, 201, 1).await;
    let n: i64 = organisations::table
        .filter(organisations::name.eq(name))
        .count()
        .get_result(&mut app.connect())
        .expect("count");
    assert_eq!(n, 1, "one organisation for two requests with one key");
    let employer_id = id_of(&o);

    // The same key on another body: refused, nothing made.
    let other = json!({"name": "Other Homes", "kind": "employer"});
    let reused = admin.expect(400, "POST", "/api/v1/organisations", &other, &[("Idempotency-Key", "org-1")]).await;
    assert_eq!(reused.code(), "idempotency_key_reused", "{}", reused.text);
    let n: i64 = organisations::table
        .filter(organisations::name.eq("Other Homes"))
        .count()
        .get_result(&mut app.connect())
        .expect("count");
    assert_eq!(n, 0);
    // … and on another path.
    let reused = admin.expect(400, "POST", "/api/v1/apprentices", &org, &[("Idempotency-Key", "org-1")]).await;
    assert_eq!(reused.code(), "idempotency_key_reused", "{}", reused.text);

    // A client error is remembered and replayed as the same error.
    let bad = json!({"name": "Bad Kind", "kind": "castle"});
    let e = replayed(app, &admin, "org-bad", ("POST", "/api/v1/organisations"), &bad, 400, 0).await;
    assert!(e["error"]["code"].is_string(), "{e}");

    // Users: the replay shows the same user, but never the token again.
    let provider = replayed(
        app,
        &admin,
        "org-2",
        ("POST", "/api/v1/organisations"),
        &json!({"name": "Idempotent Training", "kind": "training_provider"}),
        201,
        1,
    )
    .await;
    let provider_id = id_of(&provider);
    let user =
        json!({"email": "ida@idem.test", "name": "Ida Idem", "role": "line_manager", "organisation_id": employer_id});
    let (first, again) = twice(app, &admin, "user-1", ("POST", "/api/v1/users"), &user, 201, 1).await;
    assert!(first.json["token"].as_str().is_some_and(|t| !t.is_empty()), "{}", first.text);
    assert_eq!(again.json["token"], Value::Null, "a replayed new user shows token: null: {}", again.text);
    let mut without_token = first.json.clone();
    without_token["token"] = Value::Null;
    assert_eq!(again.json, without_token, "the replay is the first answer but the token");
    let n: i64 =
        users::table.filter(users::email.eq("ida@idem.test")).count().get_result(&mut app.connect()).expect("count");
    assert_eq!(n, 1);
    // The token the first answer gave works; the user is one user.
    app.client(first.json["token"].as_str()).get("/api/v1/assessments").await;
    // A 409 (email in use) under a new key is replayed as that 409.
    let e = replayed(app, &admin, "user-2", ("POST", "/api/v1/users"), &user, 409, 0).await;
    assert_eq!(e["error"]["code"], "email_in_use", "{e}");

    // Apprentices.
    let apprentice = json!({"name": "Ivy Idem", "email": "ivy@idem.test", "employer_id": employer_id,
                            "training_provider_id": provider_id});
    let a = replayed(app, &admin, "apprentice-1", ("POST", "/api/v1/apprentices"), &apprentice, 201, 1).await;
    let n: i64 = apprentices::table
        .filter(apprentices::email.eq("ivy@idem.test"))
        .count()
        .get_result(&mut app.connect())
        .expect("count");
    assert_eq!(n, 1);

    // Assessments.
    let tp = json!({"email": "ted@idem.test", "name": "Ted Idem", "role": "training_provider", "organisation_id": provider_id});
    let tp = admin.expect(201, "POST", "/api/v1/users", &tp, &[]).await;
    let registration = json!({"apprentice_id": id_of(&a), "standard_id": STANDARD,
                              "line_manager_id": id_of(&first.json), "training_provider_user_id": id_of(&tp.json)});
    let r = replayed(app, &admin, "assessment-1", ("POST", "/api/v1/assessments"), &registration, 201, 1).await;
    assert_eq!(r["status"], "registered", "{r}");
    let n: i64 = assessments::table
        .filter(assessments::apprentice_id.eq(id_of(&a)))
        .count()
        .get_result(&mut app.connect())
        .expect("count");
    assert_eq!(n, 1, "one assessment for two requests with one key");

    // Standards (a TOML body).
    let guide = shipped_guide().replacen(&format!("id = \"{STANDARD}\""), "id = \"idempotent-guide-l4\"", 1);
    assert!(guide.contains("idempotent-guide-l4"));
    let s = replayed(app, &admin, "guide-1", ("POST", "/api/v1/standards"), &Value::String(guide), 201, 1).await;
    assert_eq!(s["id"], "idempotent-guide-l4", "{s}");
    let n: i64 = standards::table
        .filter(standards::id.eq("idempotent-guide-l4"))
        .count()
        .get_result(&mut app.connect())
        .expect("count");
    assert_eq!(n, 1);
});

both_backends!(decision_moderation_and_resend_happen_once_per_key, |app| async move {
    let mut panel = app.panel().await;
    let ia = rekey(app, &mut panel.people.ia);
    let moderator = rekey(app, &mut panel.people.moderator);
    let admin = admin(app, "adam.idem2@fairepa.test").await;
    let decision = panel.path("/decision");
    let notes = json!({"notes": "Decided on the day."});

    // A decision asked for too early is a 409, and its key keeps answering 409 even once the
    // assessment is ready: the retry replays, it does not run again.
    let early = replayed(app, &ia, "decide-early", ("POST", &decision), &notes, 409, 0).await;
    assert!(early["error"]["code"].is_string(), "{early}");
    let s = sheet(panel.items(), 4);
    panel.submit_all(&s, &s, &s).await;
    panel.record_viva().await;
    let late = ia.expect(409, "POST", &decision, &notes, &[("Idempotency-Key", "decide-early")]).await;
    assert_eq!(late.replayed.as_deref(), Some("true"));
    assert_eq!(late.json, early);
    assert_eq!(panel.status().await, "consensus");

    // The decision, sent twice with one key: one decision, one audit entry.
    let audit_before = panel.admin.get(&panel.path("/audit")).await.as_array().expect("audit").len();
    let d = replayed(app, &ia, "decide-1", ("POST", &decision), &notes, 200, 1).await;
    assert!(d["grade"].is_string(), "{d}");
    assert_eq!(panel.status().await, "decided");
    let audit = panel.admin.get(&panel.path("/audit")).await;
    assert_eq!(audit.as_array().expect("audit").len(), audit_before + 1, "one audit entry: {audit}");
    // The same key on another body: refused.
    let reused =
        ia.expect(400, "POST", &decision, &json!({"notes": "Other notes."}), &[("Idempotency-Key", "decide-1")]).await;
    assert_eq!(reused.code(), "idempotency_key_reused", "{}", reused.text);

    // Moderation, sent twice with one key: one release, three outcome emails, not six.
    let confirm = json!({"action": "confirm", "rationale": "Due process followed."});
    let m = replayed(app, &moderator, "moderate-1", ("POST", &panel.path("/moderation")), &confirm, 200, 1).await;
    assert_eq!(m, json!({"status": "released", "action": "confirm"}));
    assert_eq!(panel.status().await, "released");
    let emails = panel.wait_for_email_status("sent").await;
    assert_eq!(emails.len(), 3, "three outcome emails recorded: {emails:?}");
    let received = app.wait_for_emails(3).await;
    // A pass more: a doubled send would arrive now.
    app.deliver_now().await;
    let received_later = app.emails();
    assert_eq!(received.len(), 3, "three emails received: {:?}", received.iter().map(|e| &e.to).collect::<Vec<_>>());
    assert_eq!(received_later.len(), 3, "no email sent twice");

    // Resend, twice with one key: nothing has failed, so a 409, replayed as that 409, and nothing
    // is queued again.
    let resend = panel.path("/emails/resend");
    let r = replayed(app, &admin, "resend-1", ("POST", &resend), &Value::Null, 409, 0).await;
    assert_eq!(r["error"]["code"], "nothing_to_resend", "{r}");
    app.deliver_now().await;
    assert_eq!(app.emails().len(), 3, "a resend sends nothing when nothing failed");
    assert_eq!(panel.view().await["emails"].as_array().map(Vec::len), Some(3));
});
