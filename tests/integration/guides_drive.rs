//! What the guide's sections drive: every shipped guide runs one assessment through the API to a
//! released outcome; the panel's seats (a one-seat panel scored and decided by its assessor, a
//! two-seat panel decided by its tie-breaker); a guide without a level shows `level: null` end to
//! end, `GET /standards/{id}` shows the panel's seats and tie-breaker and each criterion's title,
//! group and kind as the guide names them, and a guide that says no viva record is required is
//! decided without one.

use crate::app::*;
use epa_panel::domain::guide::Guide;
use epa_panel::domain::permissions::Seat;
use serde_json::json;

/// The small guide without a level, with a declared kind and a titled criterion (the v1 panel).
fn nos_guide() -> String {
    SMALL_V1
        .replace("id = \"small-l3\"", "id = \"nos-small\"")
        .replace("level = 3\n", "")
        .replace("id = \"S1\"\nkind = \"skill\"", "id = \"S1\"\ntitle = \"Talk\"\nkind = \"performance_criterion\"")
        + "\n[[kinds]]\nid = \"performance_criterion\"\ntitle = \"Performance criterion\"\n"
}

/// The member of `panel` holding `seat`.
fn member(panel: &Panel, seat: Seat) -> &Member {
    match seat {
        Seat::LineManager => &panel.lm,
        Seat::TrainingProvider => &panel.tp,
        Seat::IndependentAssessor => &panel.ia,
    }
}

/// Every `*.toml` in `panel-guides/`, parsed.
fn shipped_guides() -> Vec<(String, Guide)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides");
    let mut out: Vec<(String, Guide)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let guide = Guide::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), guide)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

both_backends!(every_shipped_guide_runs_an_assessment_to_a_released_outcome, |app| async move {
    let guides = shipped_guides();
    assert_eq!(guides.len(), 7, "the L4 EPA and the six transcribed seed standards");
    let mut emails_so_far = 0;
    for (name, guide) in guides {
        let names = Names { apprentice: format!("Apprentice {}", guide.id), ..Names::default() };
        let panel = app.registered_for(&guide.id, names).await;
        panel.pass_the_guides_gateway().await;
        // Every shipped guide seats the independent assessor: the panel is appointed and declares.
        assert!(guide.seating().has_assessor(), "{name}");
        panel.appoint().await;
        panel.declare().await;
        assert_eq!(panel.status().await, "scheduled", "{name}");
        // Each seat that scores submits the top of the scale on every item.
        let top = sheet(panel.items(), i64::from(guide.scale.max));
        for seat in guide.seats() {
            panel.save(member(&panel, seat), &top, true).await;
        }
        assert_eq!(panel.status().await, "consensus", "{name}: every seat's sheet is in");
        if guide.viva_required() {
            panel.record_viva().await;
        }
        let decider = member(&panel, guide.seating().decider());
        let d = decider.expect(200, "POST", &panel.path("/decision"), json!({"notes": "Decided."})).await;
        let best = &guide.grading.grades.last().unwrap().name;
        assert_eq!(d["grade"], best.as_str(), "{name}: {d}");
        let agreed = Panel::agreed_of(&d);
        assert_eq!(agreed.len(), panel.items().len(), "{name}");
        assert!(agreed.values().all(|(score, by)| *score == i64::from(guide.scale.max) && by == "unanimous"), "{name}");
        panel.moderate("confirm", "Due process followed.").await;
        assert_eq!(panel.status().await, "released", "{name}");
        // The outcome email goes to the apprentice, the line manager and the provider, and names
        // the guide's award where it has one.
        emails_so_far += 3;
        let emails = app.wait_for_emails(emails_so_far).await;
        let ours: Vec<_> =
            emails.iter().filter(|e| e.all_text().contains(&format!("Apprentice {}", guide.id))).collect();
        assert!(!ours.is_empty(), "{name}: the outcome email names the apprentice");
        if let Some(award) = guide.outcome.as_ref().and_then(|o| o.award.clone()) {
            for e in &ours {
                assert!(e.all_text().contains(&award), "{name}: {award} in {}", e.all_text());
            }
        }
    }
});

/// `SMALL_V1` with a `[panel]` section (and its own id).
fn seated_guide(id: &str, panel: &str) -> String {
    SMALL_V1.replace("id = \"small-l3\"", &format!("id = \"{id}\"")) + "\n" + panel
}

both_backends!(a_one_seat_panel_is_scored_and_decided_by_its_one_assessor, |app| async move {
    app.import_guide(&seated_guide("one-seat", "[panel]\nseats = [\"independent_assessor\"]\nviva_required = false\n"))
        .await;
    let panel = app.panel_for("one-seat", Names::default()).await;
    // The line manager and the provider do not score and have nothing to do until the decision.
    let s = sheet(panel.items(), 4);
    for who in [&panel.lm, &panel.tp] {
        let e = who.refused(403, "PUT", &panel.path("/scores"), scores_body(&s, false)).await;
        assert!(e.message.contains("score"), "{}", e.message);
        let v = who.get(&panel.path("")).await;
        assert_eq!(v["next_steps"], json!([]), "{v}");
    }
    assert_eq!(panel.ia.get(&panel.path("")).await["next_steps"], json!(["declare", "record_viva", "score_sheet"]));
    // The one sheet moves it to consensus; nothing to agree: every item is agreed as scored.
    let s = with(s, &[(&panel.items()[0], 2)]);
    panel.save(&panel.ia, &s, true).await;
    assert_eq!(panel.status().await, "consensus");
    let sheets = panel.admin.get(&panel.path("/scores")).await;
    let roles: Vec<&str> = sheets["sheets"].as_array().unwrap().iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["independent_assessor"]);
    assert!(sheets["sheets"][0]["scores"].is_array(), "not sealed once the only sheet is in: {sheets}");
    assert_eq!(panel.ia.get(&panel.path("")).await["next_steps"], json!(["record_viva", "decide"]));
    panel.lm.refused(403, "POST", &panel.path("/decision"), json!({"notes": "x"})).await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Not achieved", "{d}");
    let agreed = Panel::agreed_of(&d);
    assert_eq!(agreed[&panel.items()[0]], (2, "unanimous".to_string()));
    assert!(agreed.values().all(|(_, by)| by == "unanimous"));
    // The line manager and provider sign off what the assessor decided; the assessor does not.
    for who in [&panel.lm, &panel.tp] {
        who.expect(200, "PUT", &panel.path("/sign-off"), json!({"agree": true})).await;
    }
    panel.ia.refused(403, "PUT", &panel.path("/sign-off"), json!({"agree": true})).await;
    panel.moderate("confirm", "Due process followed.").await;
    assert_eq!(panel.status().await, "released");
    assert_eq!(app.wait_for_emails(3).await.len(), 3, "the line manager and provider are still told");
});

both_backends!(a_one_seat_decision_referred_back_is_revised_by_its_assessor, |app| async move {
    app.import_guide(&seated_guide("one-seat", "[panel]\nseats = [\"independent_assessor\"]\nviva_required = false\n"))
        .await;
    let panel = app.panel_for("one-seat", Names::default()).await;
    let queried = panel.items()[0].clone();
    panel.save(&panel.ia, &sheet(panel.items(), 3), true).await;
    panel.decide().await;
    let item = json!({"component": queried.component, "criterion": queried.criterion});
    let body = json!({"action": "refer_back", "rationale": "Is this really a 3?", "items": [item]});
    panel.moderator.expect(200, "POST", &panel.path("/moderation"), body).await;
    // Referred back, the one assessor revises the queried score in a consensus, then decides.
    let steps = panel.ia.get(&panel.path("")).await["next_steps"].clone();
    assert_eq!(steps, json!(["record_viva", "record_consensus", "decide"]));
    panel.agree(vec![agreed(&queried, Some(4), "The evidence is stronger than first scored.")], "Revised.").await;
    let d = panel.decide().await;
    let agreed = Panel::agreed_of(&d);
    assert_eq!(agreed[&queried], (4, "consensus".to_string()));
    assert!(agreed.iter().filter(|(k, _)| **k != queried).all(|(_, (s, by))| *s == 3 && by == "unanimous"));
});

both_backends!(a_two_seat_panel_without_an_assessor_is_decided_by_its_tie_breaker, |app| async move {
    let text = seated_guide(
        "two-seat",
        "[panel]\nseats = [\"line_manager\", \"training_provider\"]\ntie_breaker = \"line_manager\"\nviva_required = false\n",
    );
    app.import_guide(&text).await;
    let panel = app.registered_for("two-seat", Names::default()).await;
    panel.pass_the_guides_gateway().await;
    // No independent assessor sits on this panel: naming one is refused, scheduling is enough.
    let e = panel.admin.refused(400, "PUT", &panel.path("/panel"), panel.panel_body(&panel.ia)).await;
    assert!(e.message.starts_with("independent_assessor_id"), "{}", e.message);
    let body = json!({"viva_at": "2026-12-01T10:00:00Z", "mode": "video"});
    let p = panel.admin.expect(200, "PUT", &panel.path("/panel"), body).await;
    assert_eq!(p["status"], "scheduled", "{p}");
    panel
        .ia
        .refused(404, "PUT", &panel.path("/declaration"), json!({"no_prior_involvement": true, "conflicts": "none"}))
        .await;
    // Both score without a declaration; they disagree on one item.
    let lm = sheet(panel.items(), 4);
    let tp = with(lm.clone(), &[(&panel.items()[0], 2)]);
    panel.save(&panel.lm, &lm, true).await;
    assert_eq!(panel.status().await, "scheduled");
    panel.save(&panel.tp, &tp, true).await;
    assert_eq!(panel.status().await, "consensus");
    // The tie-breaker records the consensus and the decision; the other seat may not.
    let items = vec![agreed(&panel.items()[0], None, "We could not agree.")];
    panel.tp.refused(403, "PUT", &panel.path("/consensus"), json!({"items": items, "notes": ""})).await;
    panel.lm.expect(200, "PUT", &panel.path("/consensus"), json!({"items": items, "notes": "Deadlock."})).await;
    let d = panel.lm.expect(200, "POST", &panel.path("/decision"), json!({"notes": "Decided."})).await;
    let agreed = Panel::agreed_of(&d);
    assert_eq!(agreed[&panel.items()[0]], (4, "line_manager".to_string()), "the tie-breaker's own score");
    // The deciding seat does not sign off; the other does.
    panel.lm.refused(403, "PUT", &panel.path("/sign-off"), json!({"agree": true})).await;
    panel.tp.expect(200, "PUT", &panel.path("/sign-off"), json!({"agree": false, "dissent": "Too generous."})).await;
    panel.moderate("confirm", "Due process followed.").await;
    assert_eq!(panel.status().await, "released");
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

/// `text` as a page shows it (tera escapes `&`, `'`, `/`, quotes and angle brackets).
fn as_shown(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

both_backends!(every_shipped_guide_shows_its_pages_and_a_one_seat_guide_runs_to_release_on_them, |app| async move {
    for (name, guide) in shipped_guides() {
        let names = Names { apprentice: format!("Apprentice {}", guide.id), ..Names::default() };
        let panel = app.registered_for(&guide.id, names).await;
        let mut lm = crate::web::Web::signed_in(app, &panel.lm.email).await;
        // The gateway page names the guide's own checks.
        let gateway = lm.get_ok(&format!("/assessments/{}/gateway", panel.id)).await.body;
        for check in &guide.gateway {
            assert!(
                gateway.contains(&as_shown(&check.title)),
                "{name}: the check {:?} on the gateway page",
                check.title
            );
        }
        // Before the day is scheduled, the header speaks of a viva only where the guide has one.
        assert_eq!(gateway.contains("<dt>Viva</dt>"), guide.viva_required(), "{name}");
        panel.pass_the_guides_gateway().await;
        panel.appoint().await;
        panel.declare().await;
        let mut ia = crate::web::Web::signed_in(app, &panel.ia.email).await;
        // The overview and the viva page carry the guide's notes for the panel (scope, values).
        for page in ["", "/viva"] {
            let body = ia.get_ok(&format!("/assessments/{}{page}", panel.id)).await.body;
            for note in &guide.notes {
                assert!(body.contains(&as_shown(&note.title)), "{name}: the note {:?} on {page:?}", note.title);
            }
        }
        // The score sheet is in the guide's sections, every item on it.
        let sheet_page = ia.get_ok(&format!("/assessments/{}/scores", panel.id)).await.body;
        for group in &guide.groups {
            assert!(sheet_page.contains(&as_shown(&group.title)), "{name}: the section {:?}", group.title);
        }
        for item in panel.items() {
            let field = format!("s:{}:{}", item.component, item.criterion);
            assert!(sheet_page.contains(&as_shown(&field)), "{name}: {field} on the sheet");
        }
        // The evidence page offers the guide's evidence kinds.
        let evidence = ia.get_ok(&format!("/assessments/{}/evidence", panel.id)).await.body;
        for kind in &guide.evidence_kinds {
            assert!(evidence.contains(&as_shown(&kind.title)), "{name}: the evidence kind {:?}", kind.title);
        }
        if guide.seats() != [Seat::IndependentAssessor] {
            continue;
        }
        // A one-seat guide runs on to its released outcome through the pages: the assessor scores
        // every item and submits, decides, and a moderator confirms.
        let csrf = crate::web::hidden(&sheet_page, "csrf");
        let top = guide.scale.max.to_string();
        let mut fields: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
        for item in panel.items() {
            fields.push((format!("s:{}:{}", item.component, item.criterion), top.clone()));
        }
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let saved = ia.post(&format!("/assessments/{}/scores", panel.id), &borrowed).await;
        assert_eq!(saved.status, 303, "{name}: {}", saved.body);
        let submitted = ia.post(&format!("/assessments/{}/scores/submit", panel.id), &[("csrf", &csrf)]).await;
        assert_eq!(submitted.status, 303, "{name}: {}", submitted.body);
        assert_eq!(panel.status().await, "consensus", "{name}");
        let decision = ia.get_ok(&format!("/assessments/{}/decision", panel.id)).await.body;
        let best = &guide.grading.grades.last().unwrap().name;
        assert!(decision.contains(&format!("Grade: <strong>{}</strong>", as_shown(best))), "{name}: {decision}");
        let version = crate::web::hidden(&decision, "version");
        let fields = [("csrf", csrf.as_str()), ("version", version.as_str()), ("notes", "Every item is met.")];
        let decided = ia.post(&format!("/assessments/{}/decision", panel.id), &fields).await;
        assert_eq!(decided.status, 303, "{name}: {}", decided.body);
        let mut moderator = crate::web::Web::signed_in(app, &panel.moderator.email).await;
        let form = moderator.get_ok(&format!("/assessments/{}/moderation", panel.id)).await.body;
        let (csrf, version) = (crate::web::hidden(&form, "csrf"), crate::web::hidden(&form, "version"));
        let fields = [
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("action", "confirm"),
            ("rationale", "Due process."),
        ];
        let confirmed = moderator.post(&format!("/assessments/{}/moderation", panel.id), &fields).await;
        assert_eq!(confirmed.status, 303, "{name}: {}", confirmed.body);
        assert_eq!(panel.status().await, "released", "{name}");
        assert_eq!(panel.view().await["grade"], best.as_str(), "{name}");
    }
});
