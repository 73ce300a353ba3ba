//! The admin's registration pages over plain HTTP (a cookie-keeping client of our own): signing
//! in, importing a CSV of EPAs (all rows or none), and the 403 page for everyone else; and the
//! assessor's declaration in two steps with plain forms (no script).

use crate::app::*;
use crate::web::*;

fn listed(list: &serde_json::Value) -> usize {
    list.as_array().or_else(|| list["items"].as_array()).map_or(0, Vec::len)
}

both_backends!(the_admin_imports_epas_from_csv_and_others_are_refused, |app| async move {
    let people = app.people(Names::default()).await;
    let before = listed(&app.admin.get("/api/v1/assessments").await);
    set_password(app, "ada@fairepa.test");
    set_password(app, &people.lm.email);
    let mut admin = Web::new(app);
    admin.sign_in("ada@fairepa.test").await;
    for path in ["/admin/people", "/admin/register", "/admin/import"] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "GET {path}: {}", page.body);
    }
    let home = admin.get("/assessments").await;
    assert!(home.body.contains("href=\"/admin/import\""), "the admin's navigation links the import page");

    // People: an organisation, then a user whose API token is shown once and works.
    let r = admin
        .submit("/admin/people", &[("action", "organisation"), ("name", "Page Homes"), ("kind", "employer")])
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/people?done=organisation")), "{}", r.body);
    let r = admin
        .submit(
            "/admin/people",
            &[
                ("action", "user"),
                ("email", "pat@pagehomes.test"),
                ("name", "Pat Page"),
                ("role", "moderator"),
                ("organisation_id", ""),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = r.body.find("<code id=\"new-token\">").expect("the new token is shown") + "<code id=\"new-token\">".len();
    let token = r.body[at..].split('<').next().unwrap_or_default().to_string();
    assert_eq!(app.client(Some(&token)).get("/api/v1/assessments").await.as_array().map(Vec::len), Some(before));
    let r = admin
        .submit("/admin/people", &[("action", "user"), ("email", "not-an-email"), ("name", "X"), ("role", "moderator")])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("href=\"#field-user_email\""), "the refusal names the field: {}", r.body);

    let header = "apprentice_name,apprentice_email,employer_id,training_provider_id,standard_id,line_manager_email,training_provider_email";
    let (e, p, lm, tp) = (&people.employer_id, &people.provider_id, &people.lm.email, &people.tp.email);
    // A bad row: nothing is saved, and the page names the line and the column.
    let bad = format!("{header}\nCsv One,one@northgate.test,{e},{p},{STANDARD},{lm},{tp}\nCsv Two,two@northgate.test,{e},{p},{STANDARD},nobody@northgate.test,{tp}\n");
    let r = admin.submit("/admin/import", &[("csv", &bad)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<td class=\"num\">3</td><td><code>line_manager_email</code>"), "{}", r.body);
    assert_eq!(listed(&app.admin.get("/api/v1/assessments").await), before, "nothing was registered");

    let good = format!("{header}\nCsv One,one@northgate.test,{e},{p},{STANDARD},{lm},{tp}\nCsv Two,two@northgate.test,{e},{p},{STANDARD},{lm},{tp}\n");
    let r = admin.submit("/admin/import", &[("csv", &good)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2 EPAs registered"), "{}", r.body);
    let list = app.admin.get("/api/v1/assessments").await;
    assert_eq!(listed(&list), before + 2, "{list}");
    let ids: Vec<String> = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str().map(str::to_string))
        .collect();
    let linked = ids.iter().filter(|id| r.body.contains(&format!("href=\"/assessments/{id}\""))).count();
    assert_eq!(linked, 2, "the page links both new assessments");

    // One at a time: an EPA registered from the form opens its overview.
    let r = admin
        .submit(
            "/admin/register",
            &[
                ("action", "assessment"),
                ("apprentice_id", &people.apprentice.id),
                ("standard_id", STANDARD),
                ("line_manager_id", &people.lm.id),
                ("training_provider_user_id", &people.tp.id),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.as_deref().is_some_and(|l| l.starts_with("/assessments/")), "{:?}", r.location);
    assert_eq!(listed(&app.admin.get("/api/v1/assessments").await), before + 3);

    // Anyone else gets the 403 page, and cannot post either.
    let mut lm_web = Web::new(app);
    lm_web.sign_in(&people.lm.email).await;
    for path in ["/admin/people", "/admin/register", "/admin/import"] {
        let page = lm_web.get(path).await;
        assert_eq!(page.status, 403, "GET {path} as a line manager: {}", page.body);
    }
    let home = lm_web.get("/assessments").await;
    let csrf = csrf_of(&home.body);
    let r = lm_web.post("/admin/import", &[("csrf", &csrf), ("csv", &good)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(listed(&app.admin.get("/api/v1/assessments").await), before + 3, "nothing more was registered");
});

both_backends!(the_declaration_is_reviewed_before_it_is_saved_without_a_script, |app| async move {
    let panel = app.registered().await;
    panel.pass_gateway().await;
    panel.appoint().await;
    set_password(app, &panel.ia.email);
    let mut ia = Web::new(app);
    ia.sign_in(&panel.ia.email).await;
    let path = format!("/assessments/{}/declaration", panel.id);
    let declaration = async || panel.view().await["panel"]["declaration"].clone();

    // Plain forms: choices missing → 400 naming them; "Continue" shows the summary, saves nothing.
    let r = ia.submit(&path, &[("step", "review")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("prior involvement"), "{}", r.body);
    let fields = [("involvement", "none"), ("conflict", "none"), ("conflict_description", "")];
    let mut review = fields.to_vec();
    review.push(("step", "review"));
    let r = ia.submit(&path, &review).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("You are declaring") && r.body.contains("I have no conflict of interest"), "{}", r.body);
    assert!(declaration().await.is_null(), "the review step saves nothing");
    let mut confirm = fields.to_vec();
    confirm.push(("step", "confirm"));
    let r = ia.submit(&path, &confirm).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(&*format!("{path}?done=declaration"))), "{}", r.body);
    assert_eq!(declaration().await["holds"], serde_json::json!(true));

    // The API's rule stands: a declared conflict is kept until another assessor is appointed;
    // the same assessor's "none" afterwards is refused (409) and changes nothing, on the API and
    // on the page alike.
    let conflict = serde_json::json!({"no_prior_involvement": true, "conflicts": "I mentored the apprentice"});
    panel.ia.expect(200, "PUT", &panel.path("/declaration"), conflict).await;
    let none = serde_json::json!({"no_prior_involvement": true, "conflicts": "none"});
    let e = panel.ia.refused(409, "PUT", &panel.path("/declaration"), none).await;
    assert_eq!(e.code, "declaration_blocked", "{e:?}");
    assert!(e.message.contains("appoint another independent assessor"), "{e:?}");
    let page = ia.get(&path).await;
    assert!(page.body.contains("Scoring is blocked: this declaration does not hold"), "{}", page.body);
    assert!(!page.body.contains("name=\"step\""), "no form to change it: {}", page.body);
    let r = ia.submit(&path, &confirm).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(declaration().await["conflicts"], serde_json::json!("I mentored the apprentice"), "nothing changed");
});

/// What came back for a GET with `Accept-Encoding: gzip`: its encoding and the body unpacked.
async fn get_gzip(web: &Web, path: &str) -> (u16, Option<String>, Option<String>, String) {
    let mut req = web.http.get(format!("{}{path}", web.base)).header("Accept-Encoding", "gzip");
    if let Some(c) = &web.cookie {
        req = req.header("Cookie", c.clone());
    }
    let r = req.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (encoding, content_type) = (header("content-encoding"), header("content-type"));
    let bytes = r.bytes().await.expect("the body");
    let text = if encoding.as_deref() == Some("gzip") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .unwrap_or_else(|e| panic!("GET {path}: not valid gzip: {e}"));
        text
    } else {
        String::from_utf8_lossy(&bytes).to_string()
    };
    (status, encoding, content_type, text)
}

/// Pages (and the streamed CSV reports) come back gzip'd to a browser that asks; the favicon
/// is there for browsers that ask for `/favicon.ico`, and every page links it.
#[actix_web::test]
async fn pages_are_compressed_and_the_favicon_is_served() {
    let Some(app) = TestApp::builder(Backend::Sqlite).start().await else { return };
    set_password(&app, "ada@fairepa.test");
    let mut admin = Web::new(&app);
    let (status, encoding, _, text) = get_gzip(&admin, "/").await;
    assert_eq!((status, encoding.as_deref()), (200, Some("gzip")), "the sign-in page is compressed");
    assert!(text.contains("Sign in") && text.contains("rel=\"icon\""), "the page links its icon: {text}");
    let plain = admin.get("/").await;
    assert!(plain.body.contains("Sign in"), "without Accept-Encoding the page is plain: {}", plain.body);

    admin.sign_in("ada@fairepa.test").await;
    let (status, encoding, content_type, csv) = get_gzip(&admin, "/reports/outcomes.csv").await;
    assert_eq!((status, encoding.as_deref()), (200, Some("gzip")), "{csv}");
    assert!(content_type.is_some_and(|t| t.starts_with("text/csv")), "still a CSV");
    assert!(csv.lines().next().is_some_and(|h| h.contains(',')), "the streamed CSV arrives whole: {csv}");

    let icon = admin.get("/favicon.ico").await;
    assert_eq!(icon.status, 200, "{}", icon.body);
    assert!(icon.body.starts_with("<svg"), "{}", icon.body);
    app.shutdown().await;
}

both_backends!(refusals_on_the_pages_name_the_field_in_words, |app| async move {
    let panel = app.registered().await;
    panel.pass_gateway().await;
    set_password(app, "ada@fairepa.test");
    let mut admin = Web::new(app);
    admin.sign_in("ada@fairepa.test").await;

    let people = admin.get("/admin/people").await;
    assert!(people.body.contains("At least 10 characters"), "the password hint says how long: {}", people.body);
    assert!(!people.body.contains("the length the service asks for"), "{}", people.body);
    let r = admin
        .submit(
            "/admin/people",
            &[("action", "user"), ("email", "nameless@fairepa.test"), ("name", " "), ("role", "moderator")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Enter the name: it must not be empty."), "the field in words: {}", r.body);
    assert!(!r.body.contains(">Must not be empty<"), "{}", r.body);

    // An appointment without the viva's time: said in words, not as RFC 3339.
    let path = format!("/assessments/{}/panel", panel.id);
    let r =
        admin.submit(&path, &[("independent_assessor_id", &panel.ia.id), ("viva_at", ""), ("mode", "in_person")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Give the viva&#x27;s date and time."), "{}", r.body);
    assert!(!r.body.contains("RFC 3339") && !r.body.contains("&quot;&quot;"), "{}", r.body);
    assert_eq!(panel.status().await, "gateway_passed", "nothing was saved");
});

both_backends!(the_import_takes_organisations_by_name, |app| async move {
    let people = app.people(Names::default()).await;
    set_password(app, "ada@fairepa.test");
    let mut admin = Web::new(app);
    admin.sign_in("ada@fairepa.test").await;
    let page = admin.get("/admin/import").await;
    assert!(page.body.contains("apprentice_name,apprentice_email,employer,training_provider,"), "{}", page.body);
    let named = "apprentice_name,apprentice_email,employer,training_provider,standard_id,line_manager_email,training_provider_email";
    let (lm, tp) = (&people.lm.email, &people.tp.email);
    // The organisations by name, as the People page lists them (in capitals, to show case does not matter).
    let name_of = |id: &str| {
        use diesel::prelude::*;
        use epa_panel::db::schema::organisations;
        organisations::table.find(id).select(organisations::name).first::<String>(&mut app.connect()).expect("a name")
    };
    let (employer, provider) = (name_of(&people.employer_id).to_uppercase(), name_of(&people.provider_id));
    // An unknown name: the line and the column are named, nothing is saved.
    let bad = format!("{named}\nBy Name,byname@northgate.test,{employer},{provider},{STANDARD},{lm},{tp}\nNo Such,nosuch@northgate.test,Nowhere Homes,{provider},{STANDARD},{lm},{tp}\n");
    let r = admin.submit("/admin/import", &[("csv", &bad)]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("<td class=\"num\">3</td><td><code>employer</code>"), "{}", r.body);
    assert!(r.body.contains("no employer is called"), "{}", r.body);
    let good = format!("{named}\nBy Name,byname@northgate.test,{employer},{provider},{STANDARD},{lm},{tp}\n");
    let r = admin.submit("/admin/import", &[("csv", &good)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("1 EPA registered"), "{}", r.body);
});
