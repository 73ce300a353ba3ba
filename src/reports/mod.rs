//! Standardisation reports as CSV (RFC 4180, UTF-8, header first, ISO dates): row structs and
//! writers. Pure: rows in, bytes out; the services feed them page by page.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use serde::Serialize;

/// One panel member's score on one item, beside the agreed score.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub assessment_id: String,
    pub standard_id: String,
    pub apprentice_id: String,
    pub employer_id: String,
    pub training_provider_id: String,
    pub independent_assessor_id: String,
    pub decided_on: String,
    pub component: String,
    pub criterion: String,
    pub scorer_role: String,
    pub scorer_id: String,
    pub score: i32,
    pub agreed_score: i32,
    pub difference: i32,
    pub decided_by: String,
    pub grade: String,
    pub moderation: String,
}

/// One assessment's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeRow {
    pub assessment_id: String,
    pub standard_id: String,
    pub apprentice_id: String,
    pub employer_id: String,
    pub training_provider_id: String,
    pub independent_assessor_id: String,
    pub decided_on: String,
    pub grade: String,
    pub weighted_score: Number,
    pub items: usize,
    pub unanimous_items: usize,
    pub tie_breaks: usize,
    pub moderation: String,
    pub released_at: String,
}

/// One scorer's agreement with the agreed scores.
#[derive(Debug, Clone, Serialize)]
pub struct AssessorRow {
    pub scorer_id: String,
    pub name: String,
    pub role: String,
    pub assessments: usize,
    pub items_scored: usize,
    pub mean_difference: Number,
    pub exact_agreement: Number,
    pub adjacent_agreement: Number,
    pub tie_breaks_decided: usize,
}

/// A number written with `.` and at most 4 decimals, trailing zeros dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_number(self.0))
    }
}

pub fn format_number(x: f64) -> String {
    let text = format!("{:.4}", x);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Neutralises a text cell a spreadsheet would run as a formula (OWASP CSV injection): a cell
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
pub fn safe_text(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// Writes CSV rows into a growing buffer, header first; the caller drains it chunk by chunk.
pub struct CsvChunks {
    writer: csv::Writer<Vec<u8>>,
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().has_headers(false).terminator(csv::Terminator::CRLF).from_writer(Vec::new())
}

impl Default for CsvChunks {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvChunks {
    pub fn new() -> Self {
        Self { writer: csv_writer() }
    }

    /// Writes the header row (also for a report with no rows).
    pub fn header(&mut self, names: &[&str]) -> io::Result<()> {
        self.writer.write_record(names).map_err(io::Error::other)
    }

    pub fn row<T: Serialize>(&mut self, row: &T) -> io::Result<()> {
        self.writer.serialize(row).map_err(io::Error::other)
    }

    /// Takes what has been written so far.
    pub fn take(&mut self) -> io::Result<Vec<u8>> {
        let full = std::mem::replace(&mut self.writer, csv_writer());
        full.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

pub const SCORE_COLUMNS: &[&str] = &[
    "assessment_id",
    "standard_id",
    "apprentice_id",
    "employer_id",
    "training_provider_id",
    "independent_assessor_id",
    "decided_on",
    "component",
    "criterion",
    "scorer_role",
    "scorer_id",
    "score",
    "agreed_score",
    "difference",
    "decided_by",
    "grade",
    "moderation",
];

pub const OUTCOME_COLUMNS: &[&str] = &[
    "assessment_id",
    "standard_id",
    "apprentice_id",
    "employer_id",
    "training_provider_id",
    "independent_assessor_id",
    "decided_on",
    "grade",
    "weighted_score",
    "items",
    "unanimous_items",
    "tie_breaks",
    "moderation",
    "released_at",
];

pub const ASSESSOR_COLUMNS: &[&str] = &[
    "scorer_id",
    "name",
    "role",
    "assessments",
    "items_scored",
    "mean_difference",
    "exact_agreement",
    "adjacent_agreement",
    "tie_breaks_decided",
];

/// Accumulates each scorer's figures across the score rows; memory grows with scorers, not rows.
#[derive(Debug, Default)]
pub struct AssessorTally {
    by_scorer: BTreeMap<String, Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    role: String,
    assessments: BTreeSet<String>,
    items: usize,
    difference_sum: i64,
    exact: usize,
    adjacent: usize,
    tie_breaks: usize,
}

impl AssessorTally {
    pub fn add(&mut self, row: &ScoreRow) {
        let t = self.by_scorer.entry(row.scorer_id.clone()).or_default();
        t.role.clone_from(&row.scorer_role);
        t.assessments.insert(row.assessment_id.clone());
        t.items += 1;
        t.difference_sum += i64::from(row.difference);
        t.exact += usize::from(row.difference == 0);
        t.adjacent += usize::from(row.difference.abs() <= 1);
        t.tie_breaks +=
            usize::from(row.scorer_role == "independent_assessor" && row.decided_by == "independent_assessor");
    }

    pub fn scorer_ids(&self) -> impl Iterator<Item = &String> {
        self.by_scorer.keys()
    }

    /// The rows, with names looked up by the caller.
    pub fn rows(&self, name_of: impl Fn(&str) -> String) -> Vec<AssessorRow> {
        self.by_scorer
            .iter()
            .map(|(id, t)| {
                let n = t.items.max(1) as f64;
                AssessorRow {
                    scorer_id: id.clone(),
                    name: safe_text(&name_of(id)),
                    role: t.role.clone(),
                    assessments: t.assessments.len(),
                    items_scored: t.items,
                    mean_difference: Number(t.difference_sum as f64 / n),
                    exact_agreement: Number(t.exact as f64 / n),
                    adjacent_agreement: Number(t.adjacent as f64 / n),
                    tie_breaks_decided: t.tie_breaks,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(scorer: &str, role: &str, assessment: &str, score: i32, agreed: i32, decided_by: &str) -> ScoreRow {
        ScoreRow {
            assessment_id: assessment.into(),
            standard_id: "s".into(),
            apprentice_id: "a".into(),
            employer_id: "e".into(),
            training_provider_id: "t".into(),
            independent_assessor_id: "ia".into(),
            decided_on: "2026-11-23".into(),
            component: "project".into(),
            criterion: "K1".into(),
            scorer_role: role.into(),
            scorer_id: scorer.into(),
            score,
            agreed_score: agreed,
            difference: score - agreed,
            decided_by: decided_by.into(),
            grade: "Pass".into(),
            moderation: "pending".into(),
        }
    }

    #[test]
    fn numbers_have_at_most_four_decimals() {
        assert_eq!(format_number(3.96), "3.96");
        assert_eq!(format_number(1.0 / 3.0), "0.3333");
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(-0.00001), "0");
        assert_eq!(format_number(-0.25), "-0.25");
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(safe_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for lead in ["+", "-", "@", "\t", "\r"] {
            assert!(safe_text(&format!("{lead}1")).starts_with('\''));
        }
        assert_eq!(safe_text("Amy"), "Amy");
    }

    #[test]
    fn csv_is_rfc4180_with_header_and_quotes() {
        let mut w = CsvChunks::new();
        w.header(&["a", "b"]).unwrap();
        #[derive(Serialize)]
        struct R {
            a: String,
            b: Number,
        }
        w.row(&R { a: "Smith, \"Jo\"".into(), b: Number(0.5) }).unwrap();
        let text = String::from_utf8(w.take().unwrap()).unwrap();
        assert_eq!(text, "a,b\r\n\"Smith, \"\"Jo\"\"\",0.5\r\n");
        assert!(w.take().unwrap().is_empty(), "taken output is not repeated");
    }

    #[test]
    fn assessor_figures_are_hand_checked() {
        // Lena: +1, 0, -2 over two assessments; Iris broke one tie.
        let mut t = AssessorTally::default();
        t.add(&score("lena", "line_manager", "A", 5, 4, "consensus"));
        t.add(&score("lena", "line_manager", "A", 3, 3, "independent_assessor"));
        t.add(&score("lena", "line_manager", "B", 2, 4, "consensus"));
        t.add(&score("iris", "independent_assessor", "A", 3, 3, "independent_assessor"));
        let rows = t.rows(|id| if id == "lena" { "=Lena".into() } else { "Iris".into() });
        let lena = rows.iter().find(|r| r.scorer_id == "lena").unwrap();
        assert_eq!((lena.assessments, lena.items_scored), (2, 3));
        assert_eq!(format_number(lena.mean_difference.0), "-0.3333");
        assert_eq!(format_number(lena.exact_agreement.0), "0.3333");
        assert_eq!(format_number(lena.adjacent_agreement.0), "0.6667");
        assert_eq!(lena.tie_breaks_decided, 0);
        assert_eq!(lena.name, "'=Lena");
        let iris = rows.iter().find(|r| r.scorer_id == "iris").unwrap();
        assert_eq!(iris.tie_breaks_decided, 1);
    }
}
