//! The guide's tests, and the small guide other domain tests use.

use super::*;
use crate::domain::permissions::Seat;

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

/// A qualification of two 6-credit units with a rule of combination (written after `SMALL`).
fn with_rule(rule: &str) -> String {
    format!(
        "{SMALL}\n[[qualifications]]\nreference = \"603/1433/3\"\ntitle = \"CIH L4\"\n{rule}\n[[qualifications.units]]\nid = \"M1\"\ntitle = \"Practice\"\ncovers = [\"B1\"]\ncredits = 6\n[[qualifications.units]]\nid = \"O1\"\ntitle = \"Law\"\ncovers = [\"K1\"]\ncredits = 6\n"
    )
}

#[test]
fn a_rule_of_combination_is_read_and_checked_against_the_units() {
    let rule = "[qualifications.combination]\nmin_credits = 12\n[[qualifications.combination.groups]]\ntitle = \"Mandatory\"\nmin_credits = 6\nunits = [\"M1\"]\n[[qualifications.combination.pathways]]\ntitle = \"Law\"\nunits = [\"O1\"]\nfurther_credits = 6\n";
    let g = Guide::from_toml(&with_rule(rule)).unwrap();
    let c = g.qualifications[0].combination.as_ref().expect("a rule");
    assert_eq!((c.min_credits, c.groups[0].units.clone(), c.pathways[0].further_credits), (12, vec!["M1".into()], 6));
    assert_eq!(g.qualifications[0].units[0].credits, Some(6));

    // Each mistake names its field and line.
    for (bad, field) in [
        (rule.replace("units = [\"M1\"]", "units = [\"X9\"]"), "qualifications.combination.groups.units"),
        (rule.replace("units = [\"M1\"]", "units = [\"M1\", \"M1\"]"), "qualifications.combination.groups.units"),
        (rule.replace("min_credits = 6\n", "min_credits = 7\n"), "qualifications.combination.groups.min_credits"),
        (rule.replace("min_credits = 12", "min_credits = 13"), "qualifications.combination.min_credits"),
        (rule.replace("min_credits = 12", "min_credits = -1"), "qualifications.combination.min_credits"),
        (rule.replace("units = [\"O1\"]", "units = [\"Z\"]"), "qualifications.combination.pathways.units"),
        (rule.replace("title = \"Mandatory\"", "title = \"  \""), "qualifications.combination.groups.title"),
        (rule.replace("further_credits = 6", "further_credits = 6\nspare = 1"), "spare"),
    ] {
        let e = error_of(&with_rule(&bad));
        assert_eq!(e.field, field, "{bad}: {e}");
        assert!(e.line.is_some(), "{e}");
    }
    // With a rule every unit needs its credits; credits are 1-9999.
    let e = error_of(&with_rule(rule).replace("[\"B1\"]\ncredits = 6\n", "[\"B1\"]\n"));
    assert_eq!(e.field, "qualifications.units.credits", "{e}");
    let e = error_of(&with_rule(rule).replace("[\"B1\"]\ncredits = 6\n", "[\"B1\"]\ncredits = 0\n"));
    assert_eq!(e.field, "qualifications.units.credits", "{e}");
    // Two groups cannot share a unit.
    let twice =
        format!("{rule}[[qualifications.combination.groups]]\ntitle = \"Again\"\nmin_credits = 0\nunits = [\"M1\"]\n");
    assert_eq!(error_of(&with_rule(&twice)).field, "qualifications.combination.groups.units");
    // Without a rule, credits are optional and nothing is judged.
    let g = Guide::from_toml(&with_rule("")).unwrap();
    assert!(g.qualifications[0].combination.is_none());
    assert!(g.qualifications[0].certificate(&["M1".to_string()]).is_none());
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

/// The small guide with the format's additions, for the tests below.
fn with_additions(extra_top: &str, criterion_extra: &str) -> String {
    let text =
        SMALL.replace("id = \"S2\"\nkind = \"skill\"", &format!("id = \"S2\"\n{criterion_extra}\nkind = \"skill\""));
    format!("{text}\n{extra_top}\n")
}

#[test]
fn level_is_optional() {
    let g = Guide::from_toml(&SMALL.replace("level = 4\n", "")).unwrap();
    assert_eq!(g.level, None);
    assert_eq!(g.title_with_level(), "Small standard");
    assert_eq!(small().title_with_level(), "Small standard (level 4)");
    let e = error_of(&SMALL.replace("level = 4", "level = 9"));
    assert_eq!(e.field, "level");
}

#[test]
fn a_v1_guide_has_three_seats_and_requires_the_viva() {
    let g = small();
    assert_eq!(g.seats(), Seat::ALL.to_vec());
    assert_eq!(g.tie_breaker(), Some(Seat::IndependentAssessor));
    assert!(g.viva_required());
    assert_eq!(g.viva_component().map(|c| c.id.as_str()), Some("viva"));
}

#[test]
fn the_panel_section_is_read_and_checked() {
    let one = "[panel]\nseats = [\"independent_assessor\"]\nviva_required = false";
    let g = Guide::from_toml(&format!("{SMALL}\n{one}\n")).unwrap();
    assert_eq!(g.seats(), [Seat::IndependentAssessor]);
    assert_eq!(g.tie_breaker(), None);
    assert!(!g.viva_required());

    let two = "[panel]\nseats = [\"line_manager\", \"independent_assessor\"]\ntie_breaker = \"independent_assessor\"";
    let g = Guide::from_toml(&format!("{SMALL}\n{two}\n")).unwrap();
    assert_eq!(g.tie_breaker(), Some(Seat::IndependentAssessor));

    let bad = |panel: &str| error_of(&format!("{SMALL}\n[panel]\n{panel}\n"));
    assert_eq!(bad("seats = []").field, "panel.seats");
    assert_eq!(bad("seats = [\"moderator\"]").field, "panel.seats");
    assert_eq!(bad("seats = [\"line_manager\", \"line_manager\"]").field, "panel.seats");
    let e = bad("seats = [\"line_manager\", \"independent_assessor\"]");
    assert_eq!(e.field, "panel.tie_breaker");
    let e = bad("seats = [\"line_manager\", \"independent_assessor\"]\ntie_breaker = \"training_provider\"");
    assert_eq!(e.field, "panel.tie_breaker");
    assert!(e.line.is_some(), "{e}");
    let e = bad("seats = [\"independent_assessor\"]\ntie_breaker = \"independent_assessor\"");
    assert_eq!(e.field, "panel.tie_breaker");
}

#[test]
fn interview_marks_the_viva_component() {
    let text = SMALL.replace("id = \"project\"\nweight = 80", "id = \"project\"\nweight = 80\ninterview = true");
    let g = Guide::from_toml(&text).unwrap();
    assert_eq!(g.viva_component().map(|c| c.id.as_str()), Some("project"));
    assert!(g.viva_required());
    let text = SMALL.replace("id = \"viva\"\nweight = 20", "id = \"viva\"\nweight = 20\ninterview = false");
    let g = Guide::from_toml(&text).unwrap();
    assert!(!g.viva_required(), "a guide that marks no interview component needs no viva record");
    assert!(g.viva_component().is_none());
}

#[test]
fn a_component_may_be_called_portfolio() {
    let text = SMALL
        .replace(r#"id = "project""#, r#"id = "portfolio""#)
        .replace(r#"methods = ["project", "portfolio"]"#, r#"methods = ["portfolio"]"#)
        .replace(r#"methods = ["project", "viva"]"#, r#"methods = ["portfolio", "viva"]"#);
    let g = Guide::from_toml(&text).unwrap();
    assert!(g.score_items().iter().any(|i| i.component == "portfolio" && i.criterion == "S2"));
}

#[test]
fn declared_kinds_groups_notes_evidence_and_outcome_are_read() {
    let top = r#"[[kinds]]
id = "performance_criterion"
title = "Performance criterion"
[[groups]]
id = "unit-1"
title = "Unit 1"
[[notes]]
title = "Scope"
text = "Who this is for."
[[evidence_kinds]]
id = "observation_record"
title = "Observation record"
[outcome]
award = "Licentiateship"
on_success = "The certificate follows."
on_failure = "You may re-submit."
contact = "the centre""#;
    let crit = "title = \"Plan\"\ngroup = \"unit-1\"";
    let text = with_additions(top, crit).replace(
        "id = \"S2\"\ntitle = \"Plan\"\ngroup = \"unit-1\"\nkind = \"skill\"",
        "id = \"S2\"\ntitle = \"Plan\"\ngroup = \"unit-1\"\nkind = \"performance_criterion\"",
    );
    let g = Guide::from_toml(&text).unwrap();
    let s2 = g.criterion("S2").unwrap();
    assert_eq!(s2.kind.as_str(), "performance_criterion");
    assert_eq!(s2.title.as_deref(), Some("Plan"));
    assert_eq!(s2.group.as_deref(), Some("unit-1"));
    assert_eq!(g.kinds[0].title, "Performance criterion");
    assert_eq!(g.notes[0].title, "Scope");
    assert_eq!(g.evidence_kinds[0].id, "observation_record");
    assert_eq!(g.outcome.as_ref().and_then(|o| o.award.as_deref()), Some("Licentiateship"));
    assert_eq!(Guide::from_json(&g.to_json()).unwrap(), g);

    let e = error_of(&text.replace("kind = \"performance_criterion\"", "kind = \"statement\""));
    assert_eq!(e.field, "criteria.kind");
    assert!(e.line.is_some());
    let e = error_of(&text.replace("group = \"unit-1\"\nkind", "group = \"unit-2\"\nkind"));
    assert_eq!(e.field, "criteria.group");
    let e = error_of(&text.replace("id = \"performance_criterion\"", "id = \"skill\""));
    assert_eq!(e.field, "kinds.id");
    let e = error_of(&text.replace("text = \"Who this is for.\"", "text = \" \""));
    assert_eq!(e.field, "notes.text");
    let e = error_of(&text.replace("award = \"Licentiateship\"", "award = \"\""));
    assert_eq!(e.field, "outcome.award");
}

#[test]
fn hostile_ids_and_levels_are_refused() {
    assert_eq!(error_of(&SMALL.replace(r#"id = "K1""#, r#"id = "..""#)).field, "criteria.id");
    assert_eq!(error_of(&SMALL.replace(r#"id = "K1""#, r#"id = "a/b""#)).field, "criteria.id");
    assert_eq!(error_of(&with_additions("", "level = 0")).field, "criteria.level");
    assert_eq!(error_of(&with_additions("", "maps_to = [\"../x\"]")).field, "criteria.maps_to");
    assert_eq!(error_of(&with_additions("", "maps_to = [\"K1\", \"K1\"]")).field, "criteria.maps_to");
    // Gateway checks: counted, their titles given and bounded.
    let checks: String = (0..=2000).map(|i| format!("\n[[gateway]]\nid = \"c{i}\"\ntitle = \"Check {i}\"\n")).collect();
    assert_eq!(error_of(&format!("{SMALL}{checks}")).field, "gateway");
    assert_eq!(error_of(&format!("{SMALL}\n[[gateway]]\nid = \"c\"\ntitle = \" \"\n")).field, "gateway.title");
    let long = "x".repeat(20_001);
    let e = error_of(&format!("{SMALL}\n[[gateway]]\nid = \"c\"\ntitle = \"C\"\ndescription = \"{long}\"\n"));
    assert_eq!(e.field, "gateway.description");
}

/// No standard's own words in the code or the shared templates: the L4 standard's name, its
/// field, its professional body and the phrase its plan uses for itself belong in its guide.
/// (The part of a Rust file after `#[cfg(test)]` is its tests, which may name it.)
#[test]
fn no_standard_is_written_in_the_code_or_templates() {
    const OWN_WORDS: [&str; 5] = [
        "Senior Housing",
        "Property Management",
        "apprenticeship standard",
        "Chartered Institute of Housing",
        "Certified Practitioner",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut stack = vec![root.join("src"), root.join("templates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let is_rust = path.extension().is_some_and(|e| e == "rs");
            if is_rust
                && (path.ends_with("tests.rs") || path.ends_with("fuzz_corpus.rs") || path.ends_with("proptests.rs"))
            {
                continue;
            }
            let code = if is_rust { text.split("#[cfg(test)]").next().unwrap_or_default() } else { &text };
            for word in OWN_WORDS {
                if code.contains(word) {
                    found.push(format!("{}: {word}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "a standard's own words outside its guide: {found:#?}");
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

#[test]
fn the_seating_is_the_guide_panel() {
    use crate::domain::permissions::Seating;
    assert_eq!(small().seating(), Seating::default());
    let one = Guide::from_toml(&format!("{SMALL}\n[panel]\nseats = [\"independent_assessor\"]\n")).unwrap();
    assert_eq!(one.seating(), Seating { seats: vec![Seat::IndependentAssessor], tie_breaker: None });
    let two = "[panel]\nseats = [\"line_manager\", \"training_provider\"]\ntie_breaker = \"training_provider\"";
    let g = Guide::from_toml(&format!("{SMALL}\n{two}\n")).unwrap();
    assert_eq!(g.seating().decider(), Seat::TrainingProvider);
    assert!(!g.seating().has_assessor());
}
