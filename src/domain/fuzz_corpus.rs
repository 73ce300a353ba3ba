//! Replays the fuzz corpus (tests/fuzz/corpus/, including every crash the fuzzers found) through
//! the same code the fuzz targets run, so a fixed crash stays fixed without nightly.

use std::path::Path;

use super::guide::{Guide, ItemKey};
use super::scoring::{self, Consensus, PanelSheets, ScoreEntry, Sheet};

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus").join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn guide_corpus_never_panics() {
    let files = corpus("guide_toml");
    assert!(!files.is_empty());
    for (name, data) in files {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        if let Ok(guide) = Guide::from_toml(text) {
            assert_eq!(guide.components.iter().map(|c| c.weight).sum::<u32>(), 100, "{name}");
            assert_eq!(Guide::from_json(&guide.to_json()).unwrap(), guide, "{name}");
        }
    }
}

#[derive(serde::Deserialize)]
struct Case {
    sheets: [Vec<(String, String, i32)>; 3],
    consensus: Consensus,
}

#[test]
fn consensus_corpus_never_panics() {
    let guide =
        Guide::from_toml(include_str!("../../panel-guides/senior-housing-property-management-l4.toml")).unwrap();
    let files = corpus("consensus_json");
    assert!(!files.is_empty());
    for (name, data) in files {
        let Ok(case) = serde_json::from_slice::<Case>(&data) else { continue };
        let sheet = |list: &[(String, String, i32)]| -> Sheet {
            list.iter().map(|(c, k, s)| (ItemKey::new(c, k), ScoreEntry { score: *s, comment: None })).collect()
        };
        let [a, b, c] = &case.sheets;
        let (lm, tp, ia) = (sheet(a), sheet(b), sheet(c));
        let sheets = PanelSheets::three(&lm, &tp, &ia);
        if let Ok(items) = scoring::resolve(&guide, &sheets, &case.consensus) {
            assert_eq!(items.len(), guide.score_items().len(), "{name}");
        }
    }
}
