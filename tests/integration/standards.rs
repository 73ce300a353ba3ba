//! Standards (panel guides) through the API: import, versions, conflicts, validation errors that
//! name the line, and an assessment keeping the version it was registered with.

use crate::app::*;
use serde_json::json;

fn items(list: &[(&str, &str)]) -> Vec<Item> {
    list.iter().map(|(c, k)| Item::new(c, k)).collect()
}

both_backends!(guides_are_imported_versioned_and_kept_per_assessment, |app| async move {
    // A new standard: 201.
    let (status, body) = app.import_guide(SMALL_V1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"id": "small-l3", "version": "1"}));
    let listed = app.admin.get("/api/v1/standards").await;
    let small = listed.as_array().expect("a list").iter().find(|s| s["id"] == "small-l3").cloned();
    assert_eq!(
        small.map(|s| (s["title"].clone(), s["level"].clone(), s["version"].clone())),
        Some((json!("Small Standard"), json!(3), json!("1")))
    );
    let std = app.standard("small-l3").await;
    assert_eq!(
        std.items,
        items(&[("project", "S1"), ("viva", "K1"), ("viva", "S1")]),
        "every (component, criterion) the methods name; the portfolio is never scored"
    );
    let shown = app.admin.get("/api/v1/standards/small-l3").await;
    assert_eq!(shown["criteria"].as_array().map(Vec::len), Some(3), "{shown}");

    // The same id, version and content again: accepted, nothing changes.
    let (status, body) = app.import_guide(SMALL_V1).await;
    assert!(status == 200 || status == 201, "{status}");
    assert_eq!(body, json!({"id": "small-l3", "version": "1"}));
    // The same id and version with other content: 409.
    let changed = SMALL_V1.replace("area = \"Law\"", "area = \"Law and regulation\"");
    app.admin.expect_raw(409, "POST", "/api/v1/standards", "application/toml", &changed).await;
    assert_eq!(app.admin.get("/api/v1/standards/small-l3").await, shown, "the stored version is untouched");

    // An assessment registered on version 1 ...
    let early = app.panel_for("small-l3", Names::default()).await;
    // ... then version 2 adds a viva-assessed behaviour.
    let v2 = SMALL_V1
        .replace("version = \"1\"", "version = \"2\"")
        .replace("methods = [\"portfolio\"]", "methods = [\"portfolio\", \"viva\"]");
    let (status, body) = app.import_guide(&v2).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"id": "small-l3", "version": "2"}));
    let latest = app.standard("small-l3").await;
    assert_eq!(latest.version, "2", "GET returns the latest version");
    assert_eq!(latest.items, items(&[("project", "S1"), ("viva", "K1"), ("viva", "S1"), ("viva", "B1")]));
    let listed = app.admin.get("/api/v1/standards").await;
    let versions: Vec<String> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter(|s| s["id"] == "small-l3")
        .map(|s| s["version"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(versions, ["2"], "the list shows each standard once, at its latest version");

    // The early assessment keeps version 1: its score items are v1's.
    let view = early.view().await;
    assert_eq!(view["standard_id"], "small-l3");
    assert_eq!(view["standard_version"], "1", "{view}");
    let b1 = with(Sheet::new(), &[(&Item::new("viva", "B1"), 3)]);
    early.lm.expect(400, "PUT", &early.path("/scores"), scores_body(&b1, false)).await;
    let v1_sheet = sheet(&items(&[("project", "S1"), ("viva", "K1"), ("viva", "S1")]), 4);
    let r = early.save(&early.lm, &v1_sheet, true).await;
    assert_eq!(r["missing"], json!([]), "a complete v1 sheet: {r}");

    // A new assessment gets version 2.
    let late = app.registered_for("small-l3", Names::default()).await;
    assert_eq!(late.view().await["standard_version"], "2");

    // A restart (which reloads panel-guides/) changes none of it.
    app.restart().await;
    assert_eq!(app.standard("small-l3").await.version, "2");
    assert_eq!(early.view().await["standard_version"], "1");
    assert_eq!(late.view().await["standard_version"], "2");
});

both_backends!(an_invalid_guide_is_400_naming_the_line, |app| async move {
    // An unknown method.
    let typo = SMALL_V1.replace("methods = [\"project\", \"viva\"]", "methods = [\"project\", \"viav\"]");
    let line = typo.lines().position(|l| l.contains("viav")).expect("the typo") + 1;
    let r = app.admin.expect_raw(400, "POST", "/api/v1/standards", "application/toml", &typo).await;
    assert!(r.text.contains(&format!("line {line}")), "names line {line}: {}", r.text);
    assert!(r.text.contains("viav") || r.text.contains("methods"), "{}", r.text);

    // A TOML syntax error.
    let broken = SMALL_V1.replace("level = 3", "level = = 3");
    let line = broken.lines().position(|l| l.contains("= = 3")).expect("the error") + 1;
    let r = app.admin.expect_raw(400, "POST", "/api/v1/standards", "application/toml", &broken).await;
    assert!(r.text.contains(&format!("line {line}")), "names line {line}: {}", r.text);

    // Weights that do not add up to 100.
    let weights = SMALL_V1.replace("weight = 30", "weight = 20");
    let r = app.admin.expect_raw(400, "POST", "/api/v1/standards", "application/toml", &weights).await;
    assert!(r.text.contains("weight"), "{}", r.text);
    assert!(r.text.contains("line"), "{}", r.text);

    // A duplicate criterion id.
    let dup =
        format!("{SMALL_V1}[[criteria]]\nid = \"K1\"\nkind = \"knowledge\"\narea = \"Again\"\nmethods = [\"viva\"]\n");
    let r = app.admin.expect_raw(400, "POST", "/api/v1/standards", "application/toml", &dup).await;
    assert!(r.text.contains("K1") || r.text.contains("id"), "{}", r.text);
    assert!(r.text.contains("line"), "{}", r.text);

    // None of them was stored.
    app.admin.expect(404, "GET", "/api/v1/standards/small-l3", serde_json::Value::Null).await;
});

both_backends!(a_guide_with_its_own_scale_bounds_the_scores, |app| async move {
    let four = SMALL_V1
        .replace("id = \"small-l3\"", "id = \"four-point\"")
        .replace("version = \"1\"\n", "version = \"1\"\n[scale]\nmin = 1\nmax = 4\n");
    assert_eq!(app.import_guide(&four).await.0, 201);
    let panel = app.panel_for("four-point", Names::default()).await;
    let s1 = Item::new("project", "S1");
    let e = panel
        .lm
        .refused(400, "PUT", &panel.path("/scores"), scores_body(&with(Sheet::new(), &[(&s1, 5)]), false))
        .await;
    assert!(e.message.contains("score"), "{e:?}");
    panel.save(&panel.lm, &with(Sheet::new(), &[(&s1, 4)]), false).await;
});
