//! Under attack: what a hostile caller tries against the sign-in form, the JSON bodies, the
//! report filters and the text fields, and that revoking or disabling someone ends their access.
//! The pages are driven over plain HTTP by a cookie-keeping client that can choose its source
//! address (anything in 127/8 is loopback on Linux), so two "machines" can sign in side by side.

use std::process::{Command, Output};

use diesel::{QueryDsl, RunQueryDsl};
use serde_json::{json, Value};

use crate::app::*;
use crate::web::*;

impl Web {
    /// Loads the sign-in form and posts it with its CSRF token and `fields`.
    async fn try_sign_in(&mut self, fields: &[(&str, &str)]) -> Page {
        let page = self.get("/").await;
        assert_eq!(page.status, 200, "GET /: {}", page.body);
        let csrf = csrf_of(&page.body);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let req = self.http.post(format!("{}/sign-in", self.base)).form(&all);
        self.send(req).await
    }

    async fn sign_in_as(&mut self, email: &str, password: &str) -> Page {
        self.try_sign_in(&[("email", email), ("password", password)]).await
    }
}

/// Runs `epa-panel user …` against the app's database, as an operator would.
fn cli(app: &TestApp, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_epa-panel"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("EPA_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .current_dir(dir.path())
        .env("EPA_DATABASE_URL", app.database_url())
        .args(args)
        .output()
        .expect("run epa-panel");
    assert!(
        out.status.success(),
        "epa-panel {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ---------------------------------------------------------------- 9: open redirect

both_backends!(sign_in_sends_next_only_to_a_page_of_this_site, |app| async move {
    set_password(app, "ada@fairepa.test");
    let mut web = Web::from(app, "127.0.0.1");
    for next in [
        "/\t/evil.test",
        "/\r/evil.test",
        "/\n/evil.test",
        "/\r\nSet-Cookie: x=1",
        "/ /evil.test",
        "/\u{0}/evil.test",
        "//evil.test",
        "/\\evil.test",
        "/%2F/evil.test",
        "/%5Cevil.test",
        "/%09/evil.test",
        "https://evil.test/",
    ] {
        let r = web.try_sign_in(&[("email", "ada@fairepa.test"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(r.status, 303, "next={next:?}: {} {}", r.status, r.body);
        assert_eq!(r.location.as_deref(), Some("/assessments"), "next={next:?}");
        // Signed in already, the form's address sends on the same way.
        let r = web.get(&format!("/?next={}", urlencode(next))).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/assessments")), "GET /?next={next:?}");
        web.cookie = None;
    }
    let r = web.sign_in_as("ada@fairepa.test", PASSWORD).await;
    assert_eq!(r.location.as_deref(), Some("/assessments"));
    web.cookie = None;
    let r = web
        .try_sign_in(&[("email", "ada@fairepa.test"), ("password", PASSWORD), ("next", "/reports?from=2026-01-01")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/reports?from=2026-01-01"), "a page of this site is followed");
});

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

// ---------------------------------------------------------------- 11: trailing data

both_backends!(data_after_a_json_body_is_refused, |app| async move {
    use epa_panel::db::schema::organisations;
    let count = |app: &TestApp| -> i64 { organisations::table.count().get_result(&mut app.connect()).expect("count") };
    let before = count(app);
    for body in [
        r#"{"name": "Northgate", "kind": "employer"}{"name": "Other", "kind": "employer"}"#,
        r#"{"name": "Northgate", "kind": "employer"} x"#,
        r#"{"name": "Northgate", "kind": "employer"}]"#,
    ] {
        let r = app.admin.expect_raw(400, "POST", "/api/v1/organisations", "application/json", body).await;
        let v: Value = serde_json::from_str(&r.text).expect("a JSON error");
        assert_eq!(v["error"]["code"], "invalid_body", "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap_or_default().starts_with("body:"), "{v}");
    }
    assert_eq!(count(app), before, "nothing was saved");
    let body = "{\"name\": \"Northgate\", \"kind\": \"employer\"}\r\n\t ";
    app.admin.expect_raw(201, "POST", "/api/v1/organisations", "application/json", body).await;
    assert_eq!(count(app), before + 1, "trailing whitespace is fine");
});

// ---------------------------------------------------------------- 12: report filters

both_backends!(report_filters_are_exact_and_named_in_words, |app| async move {
    let refused = |query: &'static str| {
        let admin = app.admin.clone();
        async move { admin.refused(400, "GET", &format!("/api/v1/reports/scores.csv?{query}"), Value::Null).await }
    };
    for query in ["from=2026-1-1", "from=0000-01-01", "from=-2026-01-01", "from=%2B2026-01-01", "from=2026-01-01%20"] {
        let e = refused(query).await;
        assert_eq!(e.code, "invalid_date", "{query}: {e:?}");
        assert!(e.message.starts_with("The start date (from) must be a date written YYYY-MM-DD"), "{query}: {e:?}");
    }
    let e = refused("to=2026-01-31&to=2026-02-28").await;
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("repeated_filter", "The end date (to) is given more than once; give it once.")
    );
    let e = refused("assessor_id=a&assessor_id=b").await;
    assert_eq!(e.code, "repeated_filter");
    assert!(e.message.contains("(assessor_id)"), "{e:?}");
    let e = refused("from=2026-02-01&to=2026-01-31").await;
    assert_eq!(e.message, "The start date (from) is after the end date (to).");
    let r = app.admin.send("GET", "/api/v1/reports/outcomes.csv?from=0001-01-01&to=9999-12-31", None).await;
    assert_eq!(r.status, 200, "{r:?}");
});

// ---------------------------------------------------------------- 13: sign-in throttle

both_backends!(an_attacker_cannot_lock_a_panel_member_out, |app| async move {
    let people = app.people(Names::default()).await;
    let victim_email = people.lm.email.clone();
    set_password(app, &victim_email);
    let mut attacker = Web::from(app, "127.0.0.2");
    for _ in 0..5 {
        let r = attacker.sign_in_as(&victim_email, "a wrong guess").await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // The attacker's address is throttled for that email, even with the right password.
    let r = attacker.sign_in_as(&victim_email, PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed sign-ins"), "{}", r.body);
    // The victim, on another machine, signs in with their password.
    let mut victim = Web::from(app, "127.0.0.3");
    let r = victim.sign_in_as(&victim_email, PASSWORD).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/assessments")), "{}", r.body);
    assert_eq!(victim.get("/assessments").await.status, 200);
    // Their success does not lift the attacker's throttle.
    let r = attacker.sign_in_as(&victim_email, PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
});

// ---------------------------------------------------------------- 14: revoke and disable

both_backends!(revoking_or_disabling_a_user_ends_their_browser_sessions, |app| async move {
    let people = app.people(Names::default()).await;
    let (lm, tp) = (people.lm.clone(), people.tp.clone());
    set_password(app, &lm.email);
    set_password(app, &tp.email);

    // Revoke: the token and the browser session stop working; signing in again is still possible.
    let mut web = Web::from(app, "127.0.0.1");
    assert_eq!(web.sign_in_as(&lm.email, PASSWORD).await.status, 303);
    assert_eq!(web.get("/assessments").await.status, 200);
    cli(app, &["user", "revoke", "--email", &lm.email]);
    let r = web.get("/assessments").await;
    assert_eq!(r.status, 303, "a revoked user's session has ended: {}", r.body);
    assert!(r.location.unwrap_or_default().starts_with("/?next="));
    lm.refused(401, "GET", "/api/v1/assessments", Value::Null).await;
    assert_eq!(web.sign_in_as(&lm.email, PASSWORD).await.status, 303, "revoke leaves the password");

    // Disable: the session ends, sign-in and the token are refused, until enabled again.
    let mut web = Web::from(app, "127.0.0.1");
    assert_eq!(web.sign_in_as(&tp.email, PASSWORD).await.status, 303);
    assert_eq!(web.get("/assessments").await.status, 200);
    tp.expect(200, "GET", "/api/v1/assessments", Value::Null).await;
    cli(app, &["user", "disable", "--email", &tp.email]);
    assert_eq!(web.get("/assessments").await.status, 303, "a disabled user's session has ended");
    tp.refused(401, "GET", "/api/v1/assessments", Value::Null).await;
    let r = Web::from(app, "127.0.0.4").sign_in_as(&tp.email, PASSWORD).await;
    assert_eq!(r.status, 401, "a disabled user cannot sign in: {}", r.body);
    cli(app, &["user", "enable", "--email", &tp.email]);
    tp.expect(200, "GET", "/api/v1/assessments", Value::Null).await;
    assert_eq!(Web::from(app, "127.0.0.4").sign_in_as(&tp.email, PASSWORD).await.status, 303);
});

// ---------------------------------------------------------------- 10: NUL and other control characters

both_backends!(control_characters_are_refused_wherever_text_comes_in, |app| async move {
    use epa_panel::db::schema::users;
    let count = |app: &TestApp| -> i64 { users::table.count().get_result(&mut app.connect()).expect("count") };
    let before = count(app);

    // JSON: 400 naming the field, nothing saved, the same on both backends.
    let body = json!({"email": "nul@fairepa.test", "name": "Nu\u{0}ll", "role": "moderator"});
    let e = app.admin.refused(400, "POST", "/api/v1/users", body).await;
    assert_eq!(e.code, "invalid_text", "{e:?}");
    assert!(e.message.starts_with("name: contains a control character (U+0000)"), "{e:?}");
    let body = json!({"email": "nul\u{1b}@fairepa.test", "name": "Nu", "role": "moderator"});
    let e = app.admin.refused(400, "POST", "/api/v1/users", body).await;
    assert!(e.message.starts_with("email: contains a control character (U+001B)"), "{e:?}");
    let body = json!({"email": "nl@fairepa.test", "name": "Nu\nll", "role": "moderator"});
    let e = app.admin.refused(400, "POST", "/api/v1/users", body).await;
    assert!(e.message.starts_with("name: must be one line"), "a name is one line: {e:?}");
    assert_eq!(count(app), before, "nothing was saved");
    // Report filters and addresses.
    let e = app.admin.refused(400, "GET", "/api/v1/reports/scores.csv?standard_id=x%00", Value::Null).await;
    assert_eq!(e.code, "invalid_text", "{e:?}");
    assert!(e.message.contains("standard_id") && e.message.contains("control character (U+0000)"), "{e:?}");
    for path in ["/api/v1/assessments/%00", "/api/v1/standards/%00", "/api/v1/assessments?after=%00"] {
        let e = app.admin.refused(400, "GET", path, Value::Null).await;
        assert_eq!(e.code, "invalid_text", "GET {path}: {e:?}");
    }

    // The sign-in form: a page that says which field, not a 500.
    set_password(app, "ada@fairepa.test");
    let mut web = Web::from(app, "127.0.0.1");
    let r = web.try_sign_in(&[("email", "ada\u{0}@fairepa.test"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("The field &quot;email&quot; contains a control character (U+0000)"), "{}", r.body);

    // The CSV import names the line and the column; nothing is registered.
    assert_eq!(web.sign_in_as("ada@fairepa.test", PASSWORD).await.status, 303);
    let page = web.get("/admin/import").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let columns = epa_panel::services::import::COLUMNS;
    let row = |name: &str| -> String {
        let cells: Vec<String> =
            columns.iter().map(|c| if *c == "apprentice_name" { name.to_string() } else { format!("{c}-x") }).collect();
        cells.join(",")
    };
    let csv = format!("{}\n{}\n{}\n", columns.join(","), row("Amy One"), row("Bo\u{0}b Two"));
    let req = web.http.post(format!("{}/admin/import", web.base)).form(&[("csrf", csrf.as_str()), ("csv", &csv)]);
    let r = web.send(req).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(
            "<td class=\"num\">3</td><td><code>apprentice_name</code></td><td>contains a control character (U+0000)"
        ),
        "{}",
        r.body
    );
    assert_eq!(count(app), before);
});
