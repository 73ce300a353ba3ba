//! No lost updates: an assessment and each score sheet carry a version; `GET` shows it as an
//! `ETag`, and a change sent with a stale `If-Match` gets 412 (`stale_version`) and changes
//! nothing. Two tabs editing one sheet cannot overwrite each other. And three members submitting
//! at the same moment still move the assessment on to `consensus`.

use crate::app::*;
use serde_json::{json, Value};

/// A caller whose token the test holds, for requests with headers the `Client` does not send
/// (`If-Match`, `Idempotency-Key`).
#[derive(Clone)]
pub struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// A raw answer with the headers these tests look at.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub replayed: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }
}

impl Raw {
    pub fn new(app: &TestApp, token: &str) -> Raw {
        let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().expect("an HTTP client");
        Raw { http, base: app.base_url(), token: token.to_string() }
    }

    /// Sends `body` (JSON unless it is a string, sent as TOML; `Null`: none) with `headers`.
    pub async fn call(&self, method: &str, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).expect("a method"), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        match body {
            Value::Null => {}
            Value::String(toml) => request = request.header("Content-Type", "application/toml").body(toml.clone()),
            other => request = request.header("Content-Type", "application/json").body(other.to_string()),
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (status, etag, replayed) = (response.status().as_u16(), header("etag"), header("idempotent-replayed"));
        let text = response.text().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, etag, replayed, text, json }
    }

    /// `call` expecting `status`.
    pub async fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        let a = self.call(method, path, body, headers).await;
        assert_eq!(
            a.status, status,
            "{method} {path} {headers:?} with {body}: expected {status}, got {} {}",
            a.status, a.text
        );
        a
    }
}

/// Gives `who` a fresh token (the CLI's `user token`), so the test can send raw requests as them;
/// `who.client` is switched to the new token too.
pub fn rekey(app: &TestApp, who: &mut Member) -> Raw {
    let mut conn = app.connect();
    let (_, token) =
        epa_panel::services::people::reissue_token(&mut conn, &who.email).expect("reissue a token for the test");
    who.client = app.client(Some(&token));
    Raw::new(app, &token)
}

/// A second admin, created through the API, whose token the test holds.
pub async fn admin(app: &TestApp, email: &str) -> Raw {
    let u = app
        .admin
        .expect(201, "POST", "/api/v1/users", json!({"email": email, "name": "Adam Admin", "role": "admin"}))
        .await;
    Raw::new(app, u["token"].as_str().expect("a token"))
}

/// The assessment as the admin sees it, and its audit trail's length.
async fn snapshot(panel: &Panel) -> (Value, usize) {
    let view = panel.view().await;
    let audit = panel.admin.get(&panel.path("/audit")).await;
    (view, audit.as_array().expect("an audit list").len())
}

/// `GET /assessments/{id}`'s `ETag`, checked against the version in the body.
async fn etag(admin: &Raw, panel: &Panel) -> String {
    let a = admin.expect(200, "GET", &panel.path(""), &Value::Null, &[]).await;
    let tag = a.etag.clone().unwrap_or_else(|| panic!("GET {} has no ETag", panel.path("")));
    assert_eq!(tag, format!("\"{}\"", a.json["version"]), "the ETag is the version: {}", a.text);
    tag
}

/// A change sent with `stale` gets 412 and changes nothing; sent with the current tag it is 200.
/// Returns the 200 answer.
async fn guarded(admin: &Raw, panel: &Panel, who: &Raw, method: &str, sub: &str, body: Value, stale: &str) -> Answer {
    let current = etag(admin, panel).await;
    assert_ne!(current, stale);
    let before = snapshot(panel).await;
    let refused = who.expect(412, method, &panel.path(sub), &body, &[("If-Match", stale)]).await;
    assert_eq!(refused.code(), "stale_version", "{method} {sub}: {}", refused.text);
    assert_eq!(snapshot(panel).await, before, "{method} {sub} with a stale If-Match changed something");
    assert_eq!(etag(admin, panel).await, current);
    let done = who.expect(200, method, &panel.path(sub), &body, &[("If-Match", &current)]).await;
    assert_ne!(etag(admin, panel).await, current, "{method} {sub}: a change moves the version on");
    done
}

both_backends!(a_stale_if_match_is_412_and_changes_nothing, |app| async move {
    let mut panel = app.registered().await;
    let admin = admin(app, "adam.versions@fairepa.test").await;
    let lm = rekey(app, &mut panel.people.lm);
    let ia = rekey(app, &mut panel.people.ia);
    let moderator = rekey(app, &mut panel.people.moderator);
    let declaration = json!({"no_prior_involvement": true, "conflicts": "none"});
    let viva = json!({"questions": [{"question": "What went wrong?", "response": "The first survey."}]});

    // Each step is refused with the tag from before the previous step, then done with the current.
    let mut stale = "\"0\"".to_string();
    let mut step = |tag: String| std::mem::replace(&mut stale, tag);
    let t = etag(&admin, &panel).await;
    let g = guarded(&admin, &panel, &lm, "PUT", "/gateway", gateway_met(), &step(t.clone())).await;
    assert_eq!(g.json["status"], "gateway_passed", "{}", g.text);
    let t2 = etag(&admin, &panel).await;
    let p = guarded(&admin, &panel, &admin, "PUT", "/panel", panel.panel_body(&panel.ia), &step(t2.clone())).await;
    assert_eq!(p.json["status"], "scheduled", "{}", p.text);
    let t3 = etag(&admin, &panel).await;
    guarded(&admin, &panel, &ia, "PUT", "/declaration", declaration, &step(t3.clone())).await;
    let t4 = etag(&admin, &panel).await;
    guarded(&admin, &panel, &ia, "PUT", "/viva-record", viva, &step(t4.clone())).await;

    // Scores (the sheets have versions of their own), then consensus, decision and moderation.
    let items = panel.items().to_vec();
    let s = sheet(&items, 3);
    panel.submit_all(&s, &s, &with(s.clone(), &[(&items[0], 4)])).await;
    let t5 = etag(&admin, &panel).await;
    let consensus = json!({"items": [agreed(&items[0], Some(3), "The evidence supports a 3.")], "notes": "Agreed."});
    guarded(&admin, &panel, &ia, "PUT", "/consensus", consensus, &step(t5.clone())).await;
    let t6 = etag(&admin, &panel).await;
    let d = guarded(&admin, &panel, &ia, "POST", "/decision", json!({"notes": "Decided."}), &step(t6.clone())).await;
    assert!(d.json["grade"].is_string(), "{}", d.text);
    let t7 = etag(&admin, &panel).await;
    let confirm = json!({"action": "confirm", "rationale": "Due process."});
    guarded(&admin, &panel, &moderator, "POST", "/moderation", confirm, &step(t7)).await;
    assert_eq!(panel.status().await, "released");
});

both_backends!(two_tabs_of_one_sheet_cannot_overwrite_each_other, |app| async move {
    let mut panel = app.panel().await;
    let lm = rekey(app, &mut panel.people.lm);
    let items = panel.items().to_vec();
    let sheets = panel.path("/scores");

    // Both tabs load the sheet: nothing saved yet.
    let tab_a = lm.expect(200, "GET", &sheets, &Value::Null, &[]).await.etag.expect("GET /scores has an ETag");
    let tab_b = lm.expect(200, "GET", &sheets, &Value::Null, &[]).await.etag.expect("GET /scores has an ETag");
    assert_eq!(tab_a, tab_b);

    let a_values = with(Sheet::new(), &[(&items[0], 4), (&items[1], 2)]);
    let b_values = with(Sheet::new(), &[(&items[0], 1), (&items[1], 5)]);
    let saved = lm.expect(200, "PUT", &sheets, &scores_body(&a_values, false), &[("If-Match", &tab_a)]).await;
    let new_tag = saved.etag.clone().expect("PUT /scores answers with the sheet's new ETag");
    assert_ne!(new_tag, tab_a);
    let audit_before = panel.admin.get(&panel.path("/audit")).await;

    let refused = lm.expect(412, "PUT", &sheets, &scores_body(&b_values, false), &[("If-Match", &tab_b)]).await;
    assert_eq!(refused.code(), "stale_version", "{}", refused.text);
    // The sheet holds tab A's values, and nothing was recorded.
    let mine = panel.lm.get(&sheets).await;
    let own = mine["sheets"]
        .as_array()
        .expect("sheets")
        .iter()
        .find(|s| id_of(&json!({"id": s["user_id"]})) == panel.lm.id)
        .cloned()
        .unwrap_or_else(|| panic!("the line manager's sheet: {mine}"));
    let held: Sheet = own["scores"]
        .as_array()
        .unwrap_or_else(|| panic!("own scores: {own}"))
        .iter()
        .map(|x| {
            (
                Item::new(x["component"].as_str().expect("component"), x["criterion"].as_str().expect("criterion")),
                x["score"].as_i64().expect("score"),
            )
        })
        .collect();
    assert_eq!(held, a_values, "after tab B's stale save the sheet must hold tab A's values");
    assert_eq!(panel.admin.get(&panel.path("/audit")).await, audit_before);
    let current = lm.expect(200, "GET", &sheets, &Value::Null, &[]).await.etag.expect("an ETag");
    assert_eq!(current, new_tag);

    // Tab B reloads and saves on top of A's version: accepted.
    lm.expect(200, "PUT", &sheets, &scores_body(&b_values, false), &[("If-Match", &current)]).await;
});

both_backends!(three_members_submitting_at_once_reach_consensus, |app| async move {
    for round in 1..=5 {
        let panel = app.panel().await;
        let s = sheet(panel.items(), 3);
        let body = scores_body(&s, true);
        let path = panel.path("/scores");
        let (a, b, c) = tokio::join!(
            panel.lm.send("PUT", &path, Some(("application/json", body.to_string().into_bytes()))),
            panel.tp.send("PUT", &path, Some(("application/json", body.to_string().into_bytes()))),
            panel.ia.send("PUT", &path, Some(("application/json", body.to_string().into_bytes()))),
        );
        for (who, r) in [("line manager", a), ("training provider", b), ("independent assessor", c)] {
            assert_eq!(r.status, 200, "round {round}: the {who}'s submission: {} {}", r.status, r.text);
        }
        let view = panel.view().await;
        assert_eq!(view["status"], "consensus", "round {round}: three sheets submitted at once: {view}");
    }
});
