//! The guide's tests, and the small guide other domain tests use.

use super::*;

/// A small guide in the contract's shape, for tests across the domain.
pub(crate) const SMALL: &str = r#"
id = "small"
title = "Small standard"
level = 4
version = "1"
[[components]]
id = "project"
weight = 80
[[components]]
id = "viva"
weight = 20
[[grading.grades]]
name = "Not achieved"
[[grading.grades]]
name = "Pass"
min_each = 3
[[grading.grades]]
name = "Distinction"
min_each = 4
[[criteria]]
id = "K1"
kind = "knowledge"
area = "Legislation"
methods = ["portfolio", "viva"]
[[criteria]]
id = "S1"
kind = "skill"
area = "Communication"
methods = ["project", "portfolio"]
[[criteria]]
id = "B1"
kind = "behaviour"
area = "Adaptability"
methods = ["project", "viva"]
[[criteria]]
id = "S2"
kind = "skill"
area = "Finance"
methods = ["portfolio"]
"#;

pub(crate) fn small() -> Guide {
    Guide::from_toml(SMALL).expect("the small guide is valid")
}

fn error_of(text: &str) -> GuideError {
    Guide::from_toml(text).expect_err("should be rejected")
}

#[test]
fn score_items_follow_methods_component_by_component() {
    let items: Vec<String> = small().score_items().iter().map(ToString::to_string).collect();
    assert_eq!(items, ["project/S1", "project/B1", "viva/K1", "viva/B1"]);
}

#[test]
fn default_scale_is_one_to_five() {
    let g = small();
    assert_eq!((g.scale.min, g.scale.max), (1, 5));
    assert!(g.in_scale(1) && g.in_scale(5) && !g.in_scale(0) && !g.in_scale(6));
}

#[test]
fn json_round_trip_keeps_the_guide() {
    let g = small();
    assert_eq!(Guide::from_json(&g.to_json()).unwrap(), g);
}

#[test]
fn weights_must_add_up_to_100() {
    let e = error_of(&SMALL.replace("weight = 20", "weight = 25"));
    assert_eq!(e.field, "components.weight");
    assert!(e.message.contains("105"), "{e}");
    assert!(e.line.is_some());
}

#[test]
fn unknown_method_names_the_line_and_field() {
    let text = SMALL.replace(r#"methods = ["project", "viva"]"#, r#"methods = ["project", "viav"]"#);
    let e = error_of(&text);
    assert_eq!(e.field, "criteria.methods");
    let line = text.lines().position(|l| l.contains("viav")).unwrap() + 1;
    assert_eq!(e.line, Some(line), "{e}");
}

#[test]
fn control_characters_in_a_guide_are_refused() {
    let e = error_of(&SMALL.replace(r#"area = "Finance""#, r#"area = "Fin\u0000ance""#));
    assert_eq!(e.field, "criteria.area", "{e}");
    assert!(e.message.contains("U+0000"), "{e}");
    let e = error_of(&SMALL.replace(r#"title = "Small standard""#, r#"title = "Small\bstandard""#));
    assert_eq!(e.field, "title", "{e}");
}

#[test]
fn duplicate_criterion_ids_are_refused() {
    let e = error_of(&SMALL.replace(r#"id = "B1""#, r#"id = "K1""#));
    assert_eq!(e.field, "criteria.id");
    assert!(e.message.contains("twice"));
}

#[test]
fn duplicate_component_ids_are_refused() {
    let e = error_of(&SMALL.replace(r#"id = "viva""#, r#"id = "project""#));
    assert_eq!(e.field, "components.id");
}

#[test]
fn grades_must_ascend() {
    let e = error_of(&SMALL.replace("min_each = 4", "min_each = 2"));
    assert_eq!(e.field, "grading.grades.min_each");
}

#[test]
fn only_the_lowest_grade_may_lack_min_each() {
    let e = error_of(&SMALL.replace("min_each = 3\n", ""));
    assert_eq!(e.field, "grading.grades.min_each");
}

#[test]
fn unknown_fields_and_syntax_errors_give_a_line() {
    let e = error_of(&SMALL.replace("weight = 80", "wieght = 80"));
    assert_eq!(e.field, "wieght");
    assert!(e.line.is_some(), "{e}");
    let e = error_of("id = \"x\"\ntitle = ");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn missing_fields_are_named() {
    let e = error_of(&SMALL.replace("area = \"Finance\"\n", ""));
    assert_eq!(e.field, "area", "{e}");
}

#[test]
fn portfolio_is_not_a_component() {
    let e = error_of(&SMALL.replace(r#"id = "viva""#, r#"id = "portfolio""#));
    assert_eq!(e.field, "components.id");
}

#[test]
fn a_weighted_component_needs_a_criterion() {
    let text = SMALL
        .replace(r#"methods = ["portfolio", "viva"]"#, r#"methods = ["portfolio"]"#)
        .replace(r#"methods = ["project", "viva"]"#, r#"methods = ["project"]"#);
    let e = error_of(&text);
    assert_eq!(e.field, "components");
    assert!(e.message.contains("viva"));
}

#[test]
fn custom_scale_is_honoured_and_checked() {
    let text = SMALL
        .replace("[[components]]\nid = \"project\"", "[scale]\nmin = 0\nmax = 10\n[[components]]\nid = \"project\"");
    let g = Guide::from_toml(&text).unwrap();
    assert!(g.in_scale(0) && g.in_scale(10) && !g.in_scale(11));
    let e = error_of(
        &SMALL
            .replace("[[components]]\nid = \"project\"", "[scale]\nmin = 5\nmax = 1\n[[components]]\nid = \"project\""),
    );
    assert_eq!(e.field, "scale.max");
}

#[test]
fn other_frameworks_fit_the_format() {
    // NOS-style performance and knowledge statements, with levels, groups and a mapping.
    let text = r#"
id = "nos-involvement"
title = "Lead and manage the involvement of key people"
level = 5
version = "2024.1"
[[components]]
id = "observation"
weight = 100
[[grading.grades]]
name = "Not yet competent"
[[grading.grades]]
name = "Competent"
min_each = 3
[[criteria]]
id = "P1"
kind = "skill"
area = "Performance"
group = "Plan involvement"
level = 5
methods = ["observation"]
maps_to = ["S3"]
[[criteria]]
id = "K107"
kind = "knowledge"
area = "Knowledge"
methods = ["portfolio", "observation"]
"#;
    let g = Guide::from_toml(text).unwrap();
    assert_eq!(g.criteria[0].maps_to, ["S3"]);
    assert_eq!(g.score_items().len(), 2);
}

#[test]
fn qualification_units_show_the_knowledge_gaps() {
    let text = format!(
            "{SMALL}\n[[qualifications]]\nreference = \"603/1433/3\"\ntitle = \"CIH L4\"\n[[qualifications.units]]\nid = \"F/507/9169\"\ntitle = \"Practice\"\ncovers = [\"B1\"]\n[[qualifications.units]]\nid = \"H/504/4186\"\ntitle = \"Law\"\ncovers = [\"K1\"]\n"
        );
    let g = Guide::from_toml(&text).unwrap();
    let q = g.qualification_named_in("CIH Level 4 Certificate 603/1433/3").expect("named by its number");
    let gaps = |units: &[&str]| -> Vec<String> {
        let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
        q.knowledge_gaps(&g, &units).unwrap().iter().map(|c| c.id.clone()).collect()
    };
    assert_eq!(gaps(&["F/507/9169"]), ["K1"]);
    assert!(gaps(&["F/507/9169", "H/504/4186"]).is_empty());
    assert_eq!(q.knowledge_gaps(&g, &["X/1".to_string()]).unwrap_err(), "X/1");
    assert!(g.qualification_named_in("an in-house test").is_none());
    let e = error_of(&text.replace("covers = [\"K1\"]", "covers = [\"K9\"]"));
    assert_eq!(e.field, "qualifications.units.covers");
}

#[test]
fn the_shipped_guides_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            Guide::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 1, "no guide found in {}", dir.display());
}

#[test]
fn the_attempts_section_is_optional_and_its_cap_names_a_grade() {
    assert_eq!(small().attempts, None);
    let g = Guide::from_toml(&format!("{SMALL}\n[attempts]\ngrade_cap = \"Pass\"\nwindow_months = 6\n")).unwrap();
    let rules = g.attempts.clone().unwrap();
    assert_eq!((rules.grade_cap.as_deref(), rules.window_months), (Some("Pass"), Some(6)));
    let back: Guide = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
    assert_eq!(back, g);
    let e = error_of(&format!("{SMALL}\n[attempts]\ngrade_cap = \"Merit\"\n"));
    assert_eq!(e.field, "attempts.grade_cap", "{e}");
    assert!(e.line.is_some() && e.message.contains("Merit"), "{e}");
    let e = error_of(&format!("{SMALL}\n[attempts]\nwindow_months = 0\n"));
    assert_eq!(e.field, "attempts.window_months", "{e}");
    let e = error_of(&format!("{SMALL}\n[attempts]\nretries = 2\n"));
    assert!(e.line.is_some(), "{e}");
}
