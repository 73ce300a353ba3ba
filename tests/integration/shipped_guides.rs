//! The guides shipped in `panel-guides/` (every one loaded at start: the L4 EPA and the seed
//! standards the script transcribes): each loads through the real parser and validator, holds
//! what its seed document holds (counts read from the seeds by hand, not from the script's
//! output), the transcribed ones are exactly what `panel-guides/transcribe/transcribe.py` writes,
//! and the service loads every one at start. `guides_drive.rs` runs an assessment on each.

use std::path::Path;
use std::process::Command;

use epa_panel::domain::guide::Guide;

fn guides_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides"))
}

/// A shipped guide by file name.
fn load(name: &str) -> Guide {
    let path = guides_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Guide::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn count(guide: &Guide, kind: &str) -> usize {
    guide.criteria.iter().filter(|c| c.kind.as_str() == kind).count()
}

fn in_group(guide: &Guide, group: &str) -> usize {
    guide.criteria.iter().filter(|c| c.group.as_deref() == Some(group)).count()
}

/// Every shipped guide's file name, sorted.
fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(guides_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_shipped_guide_loads() {
    let mut seen: Vec<(String, usize)> = shipped()
        .iter()
        .map(|name| {
            let guide = load(name);
            (guide.id.clone(), guide.seats().len())
        })
        .collect();
    seen.sort();
    // The L4 EPA (three seats), C&G 9200 at four levels, the NOS, the SVQ (one-seat panels).
    assert_eq!(seen.len(), 7, "{seen:?}");
    let three: Vec<&str> = seen.iter().filter(|(_, n)| *n == 3).map(|(id, _)| id.as_str()).collect();
    assert_eq!(three, ["senior-housing-property-management-l4"]);
    assert!(seen.iter().all(|(_, n)| *n == 3 || *n == 1), "{seen:?}");
}

#[test]
fn the_cg_9200_guides_hold_each_levels_six_standards_and_every_statement() {
    // Handbook section 5: statements per standard 1-6, per level.
    let levels: [(u32, &str, [usize; 6], &str); 4] = [
        (4, "cg-9200-l4.toml", [5, 4, 5, 5, 3, 5], "LCGI"),
        (5, "cg-9200-l5.toml", [4, 4, 5, 3, 3, 3], "AfCGI"),
        (6, "cg-9200-l6.toml", [3, 3, 4, 3, 3, 5], "GCGI"),
        (7, "cg-9200-l7.toml", [3, 3, 4, 3, 4, 4], "MCGI"),
    ];
    for (level, file, per_standard, letters) in levels {
        let g = load(file);
        assert_eq!(g.level, Some(level), "{file}");
        assert_eq!(g.groups.len(), 6, "{file}");
        for (i, n) in per_standard.iter().enumerate() {
            assert_eq!(in_group(&g, &format!("standard-{}", i + 1)), *n, "{file} standard {}", i + 1);
        }
        assert_eq!(count(&g, "standard_statement"), per_standard.iter().sum::<usize>(), "{file}");
        assert!(g.criteria.iter().all(|c| !c.indicators.is_empty()), "{file}: every statement has guidance");
        assert_eq!(g.seats().len(), 1, "{file}");
        assert!(!g.viva_required(), "{file}");
        assert_eq!((g.scale.min, g.scale.max), (0, 1), "{file}");
        let award = g.outcome.as_ref().and_then(|o| o.award.clone()).unwrap();
        assert!(award.contains(&format!("({letters})")), "{file}: {award}");
        assert!(g.evidence_kinds.iter().any(|k| k.id == "reflective_account"), "{file}");
        assert!(g.evidence_kinds.iter().any(|k| k.id == "expert_witness_testimony"), "{file}");
    }
    // Handbook section 5, Level 4 Standard 1, statement 1.1, word for word.
    let l4 = load("cg-9200-l4.toml");
    let s = l4.criteria.iter().find(|c| c.id == "4.1.1").unwrap();
    assert_eq!(s.requirement.as_deref(), Some("Apply professional standards to own working practice"));
}

#[test]
fn the_nos_holds_p1_to_p28_and_k1_to_k107_in_their_sections() {
    let g = load("nos-lead-manage-involvement-of-key-people.toml");
    assert_eq!(g.level, None);
    assert_eq!(count(&g, "performance_criterion"), 28);
    assert_eq!(count(&g, "knowledge_statement"), 107);
    // Three performance sections (P1-P11, P12-P19, P20-P28) and thirteen knowledge sections.
    assert_eq!(g.groups.len(), 16);
    assert_eq!([in_group(&g, "section-1"), in_group(&g, "section-2"), in_group(&g, "section-3")], [11, 8, 9]);
    assert_eq!(g.groups[3].title, "Rights");
    assert_eq!(in_group(&g, "section-4"), 8);
    for n in 1..=28 {
        assert!(g.criteria.iter().any(|c| c.id == format!("P{n}")), "P{n}");
    }
    for n in 1..=107 {
        assert!(g.criteria.iter().any(|c| c.id == format!("K{n}")), "K{n}");
    }
    let notes: Vec<&str> = g.notes.iter().map(|n| n.title.as_str()).collect();
    assert!(notes.contains(&"Values"), "{notes:?}");
    assert!(notes.iter().any(|t| t.starts_with("Scope/range related to performance criteria")), "{notes:?}");
    assert!(notes.iter().any(|t| t.starts_with("Scope/range relating to knowledge")), "{notes:?}");
    assert_eq!(g.seats().len(), 1);
}

#[test]
fn the_svq_holds_its_mandatory_units_and_the_sqa_recording_forms() {
    let g = load("svq-housing-l4.toml");
    let units: Vec<&str> = g.groups.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(units, ["H4-01", "H4-02", "H3-03"]);
    // PCs 8 + 9 + 11; behaviours 8 + 11 (H3 03 has none); knowledge 12 + 37 + 17.
    assert_eq!(count(&g, "performance_criterion"), 28);
    assert_eq!(count(&g, "behaviour"), 19);
    assert_eq!(count(&g, "knowledge_item"), 66);
    assert_eq!([in_group(&g, "H4-01"), in_group(&g, "H4-02"), in_group(&g, "H3-03")], [28, 57, 28]);
    let forms: Vec<&str> = g.evidence_kinds.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(
        forms,
        ["personal_statement", "observation_record", "witness_testimony", "record_of_questions_and_answers"]
    );
    assert_eq!(g.seats().len(), 1);
    assert!(!g.viva_required());
}

#[test]
fn the_transcription_script_writes_exactly_the_committed_guides() {
    let seeds = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/seeds"));
    if !seeds.is_dir() {
        eprintln!("skipped: the seeds are not at {}", seeds.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/panel-guides/transcribe/transcribe.py"))
        .arg(seeds)
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("python3 runs");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let mut written = 0;
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let fresh = std::fs::read_to_string(&path).unwrap();
        let committed = std::fs::read_to_string(guides_dir().join(&name)).unwrap();
        assert!(fresh == committed, "{:?} differs from the script's output: run the script", name);
        written += 1;
    }
    assert_eq!(written, 6);
}

/// Through the API: every shipped guide is loaded at start, showing its panel's seats.
mod through_the_api {
    use super::*;

    both_backends!(every_shipped_guide_is_loaded_at_start_with_its_panel, |app| async move {
        let listed = app.admin.get("/api/v1/standards").await;
        let names = shipped();
        assert_eq!(names.len(), 7);
        for name in names {
            let guide = load(&name);
            assert!(listed.to_string().contains(&format!("\"{}\"", guide.id)), "{name}: {listed}");
            let shown = app.admin.get(&format!("/api/v1/standards/{}", guide.id)).await;
            assert_eq!(shown["version"], guide.version.as_str(), "{name}");
            let seats: Vec<&str> = guide.seats().iter().map(|s| s.as_str()).collect();
            assert_eq!(shown["seats"], serde_json::json!(seats), "{name}");
            assert_eq!(shown["tie_breaker"], serde_json::json!(guide.tie_breaker().map(|s| s.as_str())), "{name}");
        }
    });
}
