//! The panel guides (TOML) the scenarios import, one file each in `tests/guides/`, and the guide
//! the panel-guides folder ships. A scenario that needs a variant changes one of these in place
//! (e.g. `SMALL_V1.replace(…)`), so that what it changes is visible beside the test.

use std::path::Path;

use super::STANDARD;

/// `small-l3` version 1: two components (project 70, viva 30), Pass at 3 in each item; K1 (viva),
/// S1 (project and viva) and B1 (portfolio only, never scored).
pub const SMALL_V1: &str = include_str!("../../guides/small-l3.toml");

/// `reporting-l4`: three project items (S1, B1, S3) and two viva items (K1, B1); project 80,
/// viva 20; Pass at 3, Distinction at 4 in each item.
pub const REPORT_GUIDE: &str = include_str!("../../guides/reporting-l4.toml");

/// The guide of `STANDARD` as the panel-guides folder ships it.
pub fn shipped_guide() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides").join(format!("{STANDARD}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `long-sheet`: the NOS's 135 statements in its 16 sections (`[[groups]]`), one component
/// (`observation`), the three v1 seats, the 1-5 scale, the SQA's four evidence kinds.
pub const LONG_SHEET: &str = include_str!("../../guides/long-sheet.toml");
