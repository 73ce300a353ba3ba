//! Any JSON as three sheets and a consensus against the L4 guide: resolution must never panic,
//! and a resolved decision must cover every score item.
#![no_main]

#[path = "../../../src/domain/mod.rs"]
#[allow(dead_code)]
mod domain;

use domain::guide::{Guide, ItemKey};
use domain::scoring::{Consensus, PanelSheets, ScoreEntry, Sheet};
use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
struct Case {
    sheets: [Vec<(String, String, i32)>; 3],
    consensus: Consensus,
}

fuzz_target!(|data: &[u8]| {
    static GUIDE: std::sync::OnceLock<Guide> = std::sync::OnceLock::new();
    let guide = GUIDE.get_or_init(|| {
        Guide::from_toml(include_str!("../../../panel-guides/senior-housing-property-management-l4.toml")).unwrap()
    });
    let Ok(case) = serde_json::from_slice::<Case>(data) else { return };
    let sheet = |list: &[(String, String, i32)]| -> Sheet {
        list.iter().map(|(c, k, s)| (ItemKey::new(c, k), ScoreEntry { score: *s, comment: None })).collect()
    };
    let [a, b, c] = &case.sheets;
    let (lm, tp, ia) = (sheet(a), sheet(b), sheet(c));
    let sheets = PanelSheets::three(&lm, &tp, &ia);
    if let Ok(items) = domain::scoring::resolve(guide, &sheets, &case.consensus) {
        assert_eq!(items.len(), guide.score_items().len());
        let _ = domain::scoring::decide(guide, items);
    }
});
