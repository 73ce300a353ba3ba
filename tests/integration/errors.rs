//! The error codes clients see: every code of `ErrorCode` is documented, in the README's error
//! table or in the contract.

use epa_panel::error::ErrorCode;

#[test]
fn every_error_code_is_documented() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let contract = std::fs::read_to_string(format!("{root}/../shared/spec/API.md")).unwrap_or_default();
    let missing: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| {
            let quoted = format!("`{c}`");
            !readme.contains(&quoted) && !contract.contains(&quoted)
        })
        .collect();
    assert!(missing.is_empty(), "not in README.md's error table nor in API.md: {missing:?}");
}
