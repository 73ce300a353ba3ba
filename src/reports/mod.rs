//! Standardisation reports as CSV (RFC 4180, UTF-8, header first, ISO dates): row structs and
//! writers. Pure: rows in, bytes out; the services feed them page by page.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

use serde::Serialize;

use crate::domain::permissions::Seat;
use crate::domain::statistics::{ItemRatings, Lean, Rating, Standardisation};

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
    pub apprentice_name: String,
    pub employer_name: String,
    pub training_provider_name: String,
    pub independent_assessor_name: String,
    pub standard_title: String,
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
    pub apprentice_name: String,
    pub employer_name: String,
    pub training_provider_name: String,
    pub independent_assessor_name: String,
    pub standard_title: String,
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
    /// Assessments scored.
    pub epas: usize,
    /// Lean against the other members of the same panels, with its 95 % interval (empty when it
    /// cannot be estimated).
    pub lean: Option<Number>,
    pub lean_low: Option<Number>,
    pub lean_high: Option<Number>,
    /// `lenient`, `severe`, `too_few` or empty.
    pub flag: String,
    /// Over the deadlocks this scorer decided, the mean of (their deciding score − the mean of the
    /// other members' scores): above 0, their casting scores sat higher than the panel's.
    pub tie_break_direction: Option<Number>,
}

/// One submitted score sheet, and when it could first have seen the others.
#[derive(Debug, Clone, Serialize)]
pub struct IndependenceRow {
    pub assessment_id: String,
    pub seat: String,
    pub scorer_id: String,
    /// The first save of the sheet (draft or submission).
    pub first_saved_at: String,
    pub submitted_at: String,
    /// When the last sheet was submitted and the sheets became visible to each other.
    pub revealed_at: String,
    /// The audit entry of the submission.
    pub audit_seq: Option<i64>,
}

/// How far the seats agree on one score item (or on all: `component` and `criterion` = `all`).
#[derive(Debug, Clone, Serialize)]
pub struct AgreementRow {
    pub component: String,
    pub criterion: String,
    pub assessments: usize,
    pub alpha_ordinal: Option<Number>,
    pub exact_pairwise: Option<Number>,
    pub adjacent_pairwise: Option<Number>,
    pub kappa_lm_tp: Option<Number>,
    pub kappa_lm_ia: Option<Number>,
    pub kappa_tp_ia: Option<Number>,
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
    "apprentice_name",
    "employer_name",
    "training_provider_name",
    "independent_assessor_name",
    "standard_title",
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
    "apprentice_name",
    "employer_name",
    "training_provider_name",
    "independent_assessor_name",
    "standard_title",
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
    "epas",
    "lean",
    "lean_low",
    "lean_high",
    "flag",
    "tie_break_direction",
];

pub const INDEPENDENCE_COLUMNS: &[&str] =
    &["assessment_id", "seat", "scorer_id", "first_saved_at", "submitted_at", "revealed_at", "audit_seq"];

pub const AGREEMENT_COLUMNS: &[&str] = &[
    "component",
    "criterion",
    "assessments",
    "alpha_ordinal",
    "exact_pairwise",
    "adjacent_pairwise",
    "kappa_lm_tp",
    "kappa_lm_ia",
    "kappa_tp_ia",
];

/// Accumulates each scorer's figures across the score rows, and the standardisation statistics
/// (leans, agreement) assessment by assessment; memory grows with scorers and assessments, not
/// with score rows.
#[derive(Debug)]
pub struct AssessorTally {
    by_scorer: BTreeMap<String, Tally>,
    standardisation: Standardisation,
    /// Score items (component, criterion) in the order first met, and their numbers.
    items: Vec<(String, String)>,
    item_number: HashMap<(String, String), usize>,
}

impl Default for AssessorTally {
    fn default() -> Self {
        Self {
            by_scorer: BTreeMap::new(),
            standardisation: Standardisation::new(Seat::ALL.len()),
            items: Vec::new(),
            item_number: HashMap::new(),
        }
    }
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
    /// Σ over decided deadlocks of (own score − mean of the others' scores), and how many.
    tie_break_distance: f64,
    tie_breaks_measured: usize,
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

    /// Adds one assessment's score rows: to each scorer's tally and to the statistics.
    pub fn add_assessment(&mut self, rows: &[ScoreRow]) {
        rows.iter().for_each(|r| self.add(r));
        let mut cells: Vec<ItemRatings<'_>> = Vec::new();
        for row in rows {
            let Some(seat) = Seat::ALL.iter().position(|s| s.as_str() == row.scorer_role) else { continue };
            let key = (row.component.clone(), row.criterion.clone());
            let item = match self.item_number.get(&key) {
                Some(&n) => n,
                None => {
                    let n = self.items.len();
                    self.items.push(key.clone());
                    self.item_number.insert(key, n);
                    n
                }
            };
            let rating = Rating { seat, scorer: &row.scorer_id, score: i64::from(row.score) };
            match cells.iter_mut().find(|c| c.item == item) {
                Some(cell) => cell.ratings.push(rating),
                None => cells.push(ItemRatings { item, ratings: vec![rating] }),
            }
        }
        // Where a deadlock was decided by a member's own score: how far it sat from the others'.
        for row in rows.iter().filter(|r| r.decided_by == r.scorer_role) {
            let others: Vec<i32> = rows
                .iter()
                .filter(|o| {
                    o.component == row.component && o.criterion == row.criterion && o.scorer_id != row.scorer_id
                })
                .map(|o| o.score)
                .collect();
            if others.is_empty() {
                continue;
            }
            let mean = f64::from(others.iter().sum::<i32>()) / others.len() as f64;
            let t = self.by_scorer.entry(row.scorer_id.clone()).or_default();
            t.tie_break_distance += f64::from(row.score) - mean;
            t.tie_breaks_measured += 1;
        }
        self.standardisation.add_assessment(&cells);
    }

    /// One row per score item, in the order first met, then the `all` row.
    pub fn agreement_rows(&self) -> Vec<AgreementRow> {
        let agreement = self.standardisation.agreement();
        let row = |component: &str, criterion: &str, f: &crate::domain::statistics::AgreementFigures| AgreementRow {
            component: safe_text(component),
            criterion: safe_text(criterion),
            assessments: f.assessments,
            alpha_ordinal: f.alpha_ordinal.map(Number),
            exact_pairwise: f.exact_pairwise.map(Number),
            adjacent_pairwise: f.adjacent_pairwise.map(Number),
            kappa_lm_tp: f.kappa.first().copied().flatten().map(Number),
            kappa_lm_ia: f.kappa.get(1).copied().flatten().map(Number),
            kappa_tp_ia: f.kappa.get(2).copied().flatten().map(Number),
        };
        let mut out: Vec<AgreementRow> = self
            .items
            .iter()
            .zip(&agreement.items)
            .map(|((component, criterion), f)| row(component, criterion, f))
            .collect();
        out.push(row("all", "all", &agreement.all));
        out
    }

    pub fn scorer_ids(&self) -> impl Iterator<Item = &String> {
        self.by_scorer.keys()
    }

    /// The rows, with names looked up by the caller.
    pub fn rows(&self, name_of: impl Fn(&str) -> String) -> Vec<AssessorRow> {
        let leans: HashMap<String, Lean> =
            self.standardisation.leans().into_iter().map(|l| (l.scorer.clone(), l)).collect();
        self.by_scorer
            .iter()
            .map(|(id, t)| {
                let n = t.items.max(1) as f64;
                let lean = leans.get(id);
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
                    epas: t.assessments.len(),
                    lean: lean.and_then(|l| l.lean).map(Number),
                    lean_low: lean.and_then(|l| l.low).map(Number),
                    lean_high: lean.and_then(|l| l.high).map(Number),
                    flag: lean.and_then(|l| l.flag).map(|f| f.as_str().to_string()).unwrap_or_default(),
                    tie_break_direction: (t.tie_breaks_measured > 0)
                        .then(|| Number(t.tie_break_distance / t.tie_breaks_measured as f64)),
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
            apprentice_name: "Amy".into(),
            employer_name: "Employer".into(),
            training_provider_name: "Provider".into(),
            independent_assessor_name: "Iris".into(),
            standard_title: "Standard".into(),
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
