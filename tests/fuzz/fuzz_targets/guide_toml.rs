//! Any text as a panel guide: parsing and validation must never panic, and an accepted guide
//! must satisfy the invariants the rest of the service relies on.
#![no_main]

#[path = "../../../src/domain/mod.rs"]
#[allow(dead_code)]
mod domain;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(guide) = domain::guide::Guide::from_toml(text) {
        assert_eq!(guide.components.iter().map(|c| c.weight).sum::<u32>(), 100);
        assert!(!guide.score_items().is_empty());
        assert_eq!(domain::guide::Guide::from_json(&guide.to_json()).unwrap(), guide);
    }
});
