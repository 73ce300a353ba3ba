//! What the guide's new sections drive (the parts built so far): a guide without a level shows
//! `level: null` end to end, `GET /standards/{id}` shows the panel's seats and tie-breaker and each
//! criterion's title, group and kind as the guide names them, and a guide that says no viva
//! record is required is decided without one.

use crate::app::*;
use serde_json::json;

/// The small guide without a level, with a declared kind and a titled criterion (the v1 panel).
fn nos_guide() -> String {
    SMALL_V1
        .replace("id = \"small-l3\"", "id = \"nos-small\"")
        .replace("level = 3\n", "")
        .replace("id = \"S1\"\nkind = \"skill\"", "id = \"S1\"\ntitle = \"Talk\"\nkind = \"performance_criterion\"")
        + "\n[[kinds]]\nid = \"performance_criterion\"\ntitle = \"Performance criterion\"\n"
}

both_backends!(a_guide_whose_panel_is_not_the_three_v1_seats_is_refused_for_now, |app| async move {
    // The workflow runs the three v1 seats only: other panels parse, but are not imported yet.
    for panel in [
        "[panel]\nseats = [\"independent_assessor\"]\n",
        "[panel]\nseats = [\"line_manager\", \"independent_assessor\"]\ntie_breaker = \"independent_assessor\"\n",
        "[panel]\nseats = [\"line_manager\", \"training_provider\", \"independent_assessor\"]\ntie_breaker = \"line_manager\"\n",
    ] {
        let text = nos_guide().replace("id = \"nos-small\"", "id = \"one-seat\"") + panel;
        let r = app.admin.expect_raw(400, "POST", "/api/v1/standards", "application/toml", &text).await;
        assert!(r.text.contains("panel.seats") && r.text.contains("not run by this service yet"), "{panel}: {}", r.text);
    }
    let listed = app.admin.get("/api/v1/standards").await;
    assert!(!listed.to_string().contains("one-seat"), "nothing stored: {listed}");
});

both_backends!(a_guide_without_a_level_is_null_end_to_end, |app| async move {
    let (status, body) = app.import_guide(&nos_guide()).await;
    assert_eq!(status, 201, "{body}");
    let listed = app.admin.get("/api/v1/standards").await;
    let nos = listed.as_array().expect("a list").iter().find(|s| s["id"] == "nos-small").cloned().expect("listed");
    assert_eq!(nos["level"], json!(null), "{nos}");

    let shown = app.admin.get("/api/v1/standards/nos-small").await;
    assert_eq!(shown["level"], json!(null));
    assert_eq!(shown["seats"], json!(["line_manager", "training_provider", "independent_assessor"]));
    assert_eq!(shown["tie_breaker"], json!("independent_assessor"));
    let s1 = shown["criteria"].as_array().and_then(|c| c.iter().find(|c| c["id"] == "S1")).cloned().expect("S1");
    assert_eq!(
        (s1["title"].clone(), s1["kind"].clone(), s1["group"].clone()),
        (json!("Talk"), json!("performance_criterion"), json!(null))
    );
    let k1 = shown["criteria"].as_array().and_then(|c| c.iter().find(|c| c["id"] == "K1")).cloned().expect("K1");
    assert_eq!(k1["title"], json!(null), "a criterion without a title shows null");

    // The v1 guide keeps the three seats, the independent assessor breaking ties.
    let v1 = app.admin.get(&format!("/api/v1/standards/{STANDARD}")).await;
    assert_eq!(v1["seats"], json!(["line_manager", "training_provider", "independent_assessor"]));
    assert_eq!(v1["tie_breaker"], json!("independent_assessor"));
    assert_eq!(v1["viva_required"], json!(true));
    assert_eq!(v1["level"], json!(4));

    // An assessment on it is registered and its pages show the title without a level.
    let panel = app.registered_for("nos-small", Names::default()).await;
    assert_eq!(panel.status().await, "registered");
    let page = app.admin.send("GET", &format!("/assessments/{}", panel.id), None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains("(level )"), "no empty level on the page");
});

both_backends!(a_guide_that_needs_no_viva_record_is_decided_without_one, |app| async move {
    let guide = SMALL_V1.replace("id = \"small-l3\"", "id = \"no-viva\"")
        + "\n[panel]\nseats = [\"line_manager\", \"training_provider\", \"independent_assessor\"]\ntie_breaker = \"independent_assessor\"\nviva_required = false\n";
    app.import_guide(&guide).await;
    assert_eq!(app.admin.get("/api/v1/standards/no-viva").await["viva_required"], json!(false));
    let panel = app.panel_for("no-viva", Names::default()).await;
    let s = sheet(panel.items(), 3);
    panel.submit_all(&s, &s, &s).await;
    panel.decide().await;
    assert_eq!(panel.status().await, "decided");
});

both_backends!(a_v1_guide_still_needs_the_viva_record, |app| async move {
    let panel = app.panel().await;
    let s = sheet(panel.items(), 3);
    panel.submit_all(&s, &s, &s).await;
    let e = panel.ia.refused(409, "POST", &panel.path("/decision"), json!({"notes": "Decided."})).await;
    assert_eq!(e.code, "viva_record_required");
});

both_backends!(the_outcome_email_takes_its_wording_from_the_guide, |app| async move {
    let guide = SMALL_V1.replace("id = \"small-l3\"", "id = \"worded\"").replace("level = 3\n", "")
        + "\n[outcome]\naward = \"Licentiateship (LCGI)\"\non_success = \"Use the letters LCGI after your name.\"\n";
    app.import_guide(&guide).await;
    let panel = app.panel_for("worded", Names::default()).await;
    panel.release_unanimous(3).await;
    let emails = app.wait_for_emails(3).await;
    for e in &emails {
        let text = e.all_text();
        assert!(text.contains("Licentiateship (LCGI) to be issued"), "{text}");
        assert!(text.contains("Use the letters LCGI after your name."), "{text}");
        assert!(!text.to_lowercase().contains("apprenticeship"), "no apprenticeship wording: {text}");
        assert!(!text.contains("(Level"), "no level: {text}");
    }
});
