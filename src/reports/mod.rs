//! Standardisation reports as CSV (RFC 4180, UTF-8, header first, ISO dates): row structs and
//! writers. Pure: rows in, bytes out; the services feed them page by page.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

use chrono::{Datelike, NaiveDate};
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

/// The cells of scores.csv that one assessment gives every one of its rows (formula-safe where
/// they are text a person typed).
#[derive(Debug, Clone, Copy)]
pub struct AssessmentCells<'a> {
    pub assessment_id: &'a str,
    pub standard_id: &'a str,
    pub apprentice_id: &'a str,
    pub employer_id: &'a str,
    pub training_provider_id: &'a str,
    pub independent_assessor_id: &'a str,
    pub decided_on: &'a str,
    pub grade: &'a str,
    pub moderation: &'a str,
    pub apprentice_name: &'a str,
    pub employer_name: &'a str,
    pub training_provider_name: &'a str,
    pub independent_assessor_name: &'a str,
    pub standard_title: &'a str,
}

/// Writes scores.csv rows (the columns of [`ScoreRow`], in [`SCORE_COLUMNS`]' order) from
/// pieces encoded once: the assessment's cells once per assessment, each scorer's once, each
/// item's once; a row is then those pieces copied side by side with its three numbers. The
/// pieces are encoded by csv's own core writer, so each cell is quoted exactly as the csv crate
/// quotes it (tested against it on hostile text).
#[derive(Debug, Default)]
pub struct ScoreRowEncoder {
    /// `assessment_id` … `decided_on` and a comma.
    head: Vec<u8>,
    /// `grade` … `standard_title`.
    tail: Vec<u8>,
    /// Each scorer's `scorer_role,scorer_id`, one after another; `scorer_ends[i]` ends the i-th.
    scorers: Vec<u8>,
    scorer_ends: Vec<usize>,
    /// The current item's `component,criterion` and its `decided_by`.
    item: Vec<u8>,
    decided_by: Vec<u8>,
    agreed_score: i32,
}

/// Appends `fields` to `out` as CSV cells separated by commas, without a line end, quoted as
/// the csv crate quotes them (a cell holding a comma, a quote or a line break is quoted, its
/// quotes doubled). Not for a lone empty field: a record of one empty cell is written `""`.
fn push_cells(out: &mut Vec<u8>, fields: &[&str]) {
    let mut writer = csv_core::Writer::new();
    for (i, field) in fields.iter().enumerate() {
        let start = out.len();
        // The most a delimiter (with a closing quote) and a quoted field can take.
        out.resize(start + 2 * field.len() + 4, 0);
        let mut at = start;
        if i > 0 {
            at += writer.delimiter(&mut out[at..]).1;
        }
        at += writer.field(field.as_bytes(), &mut out[at..]).2;
        out.truncate(at);
    }
    let start = out.len();
    out.resize(start + 2, 0);
    let n = writer.finish(&mut out[start..]).1;
    out.truncate(start + n);
}

impl ScoreRowEncoder {
    /// Starts one assessment's rows: its cells and its scorers' (`(scorer_role, scorer_id)`,
    /// referred to by position in [`row`](Self::row)).
    pub fn assessment(&mut self, cells: &AssessmentCells<'_>, scorers: &[(&str, &str)]) {
        let c = cells;
        self.head.clear();
        push_cells(
            &mut self.head,
            &[
                c.assessment_id,
                c.standard_id,
                c.apprentice_id,
                c.employer_id,
                c.training_provider_id,
                c.independent_assessor_id,
                c.decided_on,
            ],
        );
        self.head.push(b',');
        self.tail.clear();
        push_cells(
            &mut self.tail,
            &[
                c.grade,
                c.moderation,
                c.apprentice_name,
                c.employer_name,
                c.training_provider_name,
                c.independent_assessor_name,
                c.standard_title,
            ],
        );
        self.scorers.clear();
        self.scorer_ends.clear();
        for (role, id) in scorers {
            push_cells(&mut self.scorers, &[role, id]);
            self.scorer_ends.push(self.scorers.len());
        }
    }

    /// Starts one item's rows within the assessment.
    pub fn item(&mut self, component: &str, criterion: &str, agreed_score: i32, decided_by: &str) {
        self.item.clear();
        push_cells(&mut self.item, &[component, criterion]);
        self.decided_by.clear();
        // Encoded beside a second cell, so an empty value is an empty cell as in a longer row.
        push_cells(&mut self.decided_by, &[decided_by, ""]);
        self.decided_by.pop();
        self.agreed_score = agreed_score;
    }

    /// Writes the row of scorer number `scorer` (its position in
    /// [`assessment`](Self::assessment)) on the current item.
    pub fn row(&self, out: &mut Vec<u8>, scorer: usize, score: i32) {
        let from = if scorer == 0 { 0 } else { self.scorer_ends[scorer - 1] };
        let mut numbers = itoa::Buffer::new();
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.item);
        out.push(b',');
        out.extend_from_slice(&self.scorers[from..self.scorer_ends[scorer]]);
        out.push(b',');
        out.extend_from_slice(numbers.format(score).as_bytes());
        out.push(b',');
        out.extend_from_slice(numbers.format(self.agreed_score).as_bytes());
        out.push(b',');
        out.extend_from_slice(numbers.format(score - self.agreed_score).as_bytes());
        out.push(b',');
        out.extend_from_slice(&self.decided_by);
        out.push(b',');
        out.extend_from_slice(&self.tail);
        out.extend_from_slice(b"\r\n");
    }
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
    /// Which attempt of the apprentice's EPA this is (1: the first). The v1 columns
    /// `attempt,adjustments,amended` come after every earlier column, in that order.
    pub attempt: i64,
    /// How many reasonable adjustments the assessment records.
    pub adjustments: usize,
    /// Whether an upheld appeal changed its grade.
    pub amended: bool,
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
    pub scorer_name: String,
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

/// Writes CSV rows into a buffer, header first; the caller takes it chunk by chunk. Rows come
/// either through serde ([`row`](Self::row)) or already encoded ([`rows`](Self::rows)).
pub struct CsvChunks {
    /// What is written and not yet taken.
    buf: Vec<u8>,
    /// The serde writer, while it holds rows not yet moved into `buf`.
    serde: Option<csv::Writer<Vec<u8>>>,
}

/// The size of the chunks [`CsvChunks::full_chunk`] hands out: big enough that sending one
/// costs little beside writing it, small enough that a few in flight are little memory.
pub const CHUNK: usize = 128 * 1024;

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
        Self { buf: Vec::new(), serde: None }
    }

    /// Writes the header row (also for a report with no rows).
    pub fn header(&mut self, names: &[&str]) -> io::Result<()> {
        self.serde.get_or_insert_with(csv_writer).write_record(names).map_err(io::Error::other)
    }

    pub fn row<T: Serialize>(&mut self, row: &T) -> io::Result<()> {
        self.serde.get_or_insert_with(csv_writer).serialize(row).map_err(io::Error::other)
    }

    /// The buffer, for rows already encoded as CSV (each ending in CRLF).
    pub fn rows(&mut self) -> io::Result<&mut Vec<u8>> {
        if let Some(writer) = self.serde.take() {
            let written = writer.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
            if self.buf.is_empty() {
                self.buf = written;
            } else {
                self.buf.extend_from_slice(&written);
            }
        }
        Ok(&mut self.buf)
    }

    /// Takes what has been written so far.
    pub fn take(&mut self) -> io::Result<Vec<u8>> {
        self.rows()?;
        Ok(std::mem::take(&mut self.buf))
    }

    /// Takes what has been written once it is at least a [`CHUNK`] (the next buffer is
    /// allocated at its size, so writing does not grow it again).
    pub fn full_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        // (Rows still in the serde writer's own buffer, under 8 KiB, wait for the next chunk.)
        let pending = self.serde.as_ref().map_or(0, |writer| writer.get_ref().len());
        if self.buf.len() + pending < CHUNK {
            return Ok(None);
        }
        self.rows()?;
        Ok(Some(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + CHUNK / 2))))
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
    "attempt",
    "adjustments",
    "amended",
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

pub const INDEPENDENCE_COLUMNS: &[&str] = &[
    "assessment_id",
    "seat",
    "scorer_id",
    "first_saved_at",
    "submitted_at",
    "revealed_at",
    "audit_seq",
    "scorer_name",
];

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

/// One assessment's score rows as the statistics take them: the scores of each item, seats by
/// their position in the panel; `number` gives each (component, criterion) its item number.
fn item_cells(rows: &[ScoreRow], mut number: impl FnMut((String, String)) -> usize) -> Vec<ItemRatings<'_>> {
    let mut cells: Vec<ItemRatings<'_>> = Vec::new();
    for row in rows {
        let Some(seat) = Seat::ALL.iter().position(|s| s.as_str() == row.scorer_role) else { continue };
        let item = number((row.component.clone(), row.criterion.clone()));
        let rating = Rating { seat, scorer: &row.scorer_id, score: i64::from(row.score) };
        match cells.iter_mut().find(|c| c.item == item) {
            Some(cell) => cell.ratings.push(rating),
            None => cells.push(ItemRatings { item, ratings: vec![rating] }),
        }
    }
    cells
}

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
        // A deadlock is decided by the tie-breaker's own score, named by its seat.
        t.tie_breaks += usize::from(row.scorer_role == row.decided_by);
    }

    /// Adds one assessment's score rows: to each scorer's tally and to the statistics.
    pub fn add_assessment(&mut self, rows: &[ScoreRow]) {
        rows.iter().for_each(|r| self.add(r));
        let cells = item_cells(rows, |key| match self.item_number.get(&key) {
            Some(&n) => n,
            None => {
                let n = self.items.len();
                self.items.push(key.clone());
                self.item_number.insert(key, n);
                n
            }
        });
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

/// How the trends report cuts time: by the decision date (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendPeriod {
    Month,
    Quarter,
    Year,
}

impl TrendPeriod {
    pub const ALL: [Self; 3] = [Self::Month, Self::Quarter, Self::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The period a decision date falls in: `2026-07`, `2026-Q3` or `2026`.
    pub fn key(self, date: NaiveDate) -> String {
        match self {
            Self::Month => date.format("%Y-%m").to_string(),
            Self::Quarter => format!("{}-Q{}", date.format("%Y"), date.month0() / 3 + 1),
            Self::Year => date.format("%Y").to_string(),
        }
    }
}

/// What the trends report groups the assessments of a period by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendBy {
    Standard,
    Employer,
    TrainingProvider,
    Assessor,
}

impl TrendBy {
    pub const ALL: [Self; 4] = [Self::Standard, Self::Employer, Self::TrainingProvider, Self::Assessor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Employer => "employer",
            Self::TrainingProvider => "training_provider",
            Self::Assessor => "assessor",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }
}

/// The date (UTC) of a stored decision time (RFC 3339); a time without an offset is read as UTC.
pub fn decision_date(decided_at: &str) -> Option<NaiveDate> {
    match chrono::DateTime::parse_from_rfc3339(decided_at) {
        Ok(at) => Some(at.with_timezone(&chrono::Utc).date_naive()),
        Err(_) => decided_at.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
    }
}

/// One group of one period in the trends report.
#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub period: String,
    pub by: String,
    pub id: String,
    pub name: String,
    pub assessments: usize,
    /// `Grade=n;Grade=n` in the guide's order, zeros included.
    pub grade_counts: String,
    pub mean_weighted_score: Option<Number>,
    /// Items decided by the independent assessor's own score.
    pub tie_breaks: usize,
    pub mean_lean: Option<Number>,
}

pub const TREND_COLUMNS: &[&str] =
    &["period", "by", "id", "name", "assessments", "grade_counts", "mean_weighted_score", "tie_breaks", "mean_lean"];

/// One decided assessment as the trends report sees it.
#[derive(Debug, Clone)]
pub struct TrendAssessment<'a> {
    pub date: NaiveDate,
    /// The group's id and name (the name already formula-safe or not: it is neutralised here).
    pub group_id: &'a str,
    pub group_name: &'a str,
    pub grade: &'a str,
    /// The grades of the assessment's standard, in the guide's order.
    pub guide_grades: &'a [String],
    pub weighted_score: f64,
    pub tie_breaks: usize,
    /// The scorer whose lean the group's `mean_lean` averages (none: no lean for the group).
    pub lean_of: Option<&'a str>,
    pub score_rows: &'a [ScoreRow],
}

/// The grade counts of a group in the order their guides list them: the first standard's
/// grades, then any other standard's grades not yet listed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GradeCounts(Vec<(String, usize)>);

impl GradeCounts {
    /// Counts one assessment of a standard whose guide lists `guide_grades`.
    pub fn add(&mut self, guide_grades: &[String], grade: &str) {
        for g in guide_grades.iter().chain(std::iter::once(&grade.to_string())) {
            if !self.0.iter().any(|(name, _)| name == g) {
                self.0.push((g.clone(), 0));
            }
        }
        if let Some((_, n)) = self.0.iter_mut().find(|(name, _)| name == grade) {
            *n += 1;
        }
    }

    /// `Grade=n;Grade=n`.
    pub fn text(&self) -> String {
        self.0.iter().map(|(g, n)| format!("{g}={n}")).collect::<Vec<_>>().join(";")
    }
}

/// One group of one period, as it accumulates.
#[derive(Debug, Default)]
struct TrendGroup {
    name: String,
    assessments: usize,
    grades: GradeCounts,
    weighted_sum: f64,
    tie_breaks: usize,
    /// Whose lean the group averages, with how many of its assessments each one scored.
    lean_of: BTreeMap<String, usize>,
}

/// Accumulates the trends report: memory grows with periods × groups (and with what one
/// estimator per period needs), not with score rows.
#[derive(Debug)]
pub struct TrendTally {
    period: TrendPeriod,
    by: TrendBy,
    groups: BTreeMap<(String, String), TrendGroup>,
    periods: BTreeMap<String, Standardisation>,
    item_number: HashMap<(String, String), usize>,
}

impl TrendTally {
    pub fn new(period: TrendPeriod, by: TrendBy) -> Self {
        Self { period, by, groups: BTreeMap::new(), periods: BTreeMap::new(), item_number: HashMap::new() }
    }

    pub fn add(&mut self, a: &TrendAssessment<'_>) {
        let key = self.period.key(a.date);
        let g = self.groups.entry((key.clone(), a.group_id.to_string())).or_default();
        if g.assessments == 0 {
            g.name = safe_text(a.group_name);
        }
        g.assessments += 1;
        g.grades.add(a.guide_grades, a.grade);
        g.weighted_sum += a.weighted_score;
        g.tie_breaks += a.tie_breaks;
        if let Some(scorer) = a.lean_of {
            *g.lean_of.entry(scorer.to_string()).or_default() += 1;
        }
        let numbers = &mut self.item_number;
        let cells = item_cells(a.score_rows, |item| {
            let next = numbers.len();
            *numbers.entry(item).or_insert(next)
        });
        self.periods.entry(key).or_insert_with(|| Standardisation::new(Seat::ALL.len())).add_assessment(&cells);
    }

    /// The rows, ordered by period, then name, then id.
    pub fn rows(&self) -> Vec<TrendRow> {
        let leans: HashMap<&str, HashMap<String, f64>> = self
            .periods
            .iter()
            .map(|(period, s)| {
                let leans = s.leans().into_iter().filter_map(|l| l.lean.map(|x| (l.scorer, x))).collect();
                (period.as_str(), leans)
            })
            .collect();
        let mut rows: Vec<TrendRow> = self
            .groups
            .iter()
            .map(|((period, id), g)| {
                let of_period = leans.get(period.as_str());
                let (sum, n) = g
                    .lean_of
                    .iter()
                    .filter_map(|(scorer, n)| of_period.and_then(|l| l.get(scorer)).map(|x| (x * *n as f64, *n)))
                    .fold((0.0, 0usize), |(s, c), (x, n)| (s + x, c + n));
                TrendRow {
                    period: period.clone(),
                    by: self.by.as_str().to_string(),
                    id: id.clone(),
                    name: g.name.clone(),
                    assessments: g.assessments,
                    grade_counts: safe_text(&g.grades.text()),
                    mean_weighted_score: (g.assessments > 0).then(|| Number(g.weighted_sum / g.assessments as f64)),
                    tie_breaks: g.tie_breaks,
                    mean_lean: (n > 0).then(|| Number(sum / n as f64)),
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.period, &a.name, &a.id).cmp(&(&b.period, &b.name, &b.id)));
        rows
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

    /// The rows of `row`'s assessment as the encoder writes them, beside the csv crate's own
    /// serialisation of the same rows.
    fn encoded_and_serialised(rows: &[ScoreRow]) -> (Vec<u8>, Vec<u8>) {
        let a = &rows[0];
        let mut encoder = ScoreRowEncoder::default();
        let scorers: Vec<(&str, &str)> = rows.iter().map(|r| (r.scorer_role.as_str(), r.scorer_id.as_str())).collect();
        encoder.assessment(
            &AssessmentCells {
                assessment_id: &a.assessment_id,
                standard_id: &a.standard_id,
                apprentice_id: &a.apprentice_id,
                employer_id: &a.employer_id,
                training_provider_id: &a.training_provider_id,
                independent_assessor_id: &a.independent_assessor_id,
                decided_on: &a.decided_on,
                grade: &a.grade,
                moderation: &a.moderation,
                apprentice_name: &a.apprentice_name,
                employer_name: &a.employer_name,
                training_provider_name: &a.training_provider_name,
                independent_assessor_name: &a.independent_assessor_name,
                standard_title: &a.standard_title,
            },
            &scorers,
        );
        let mut encoded = CsvChunks::new();
        encoded.header(SCORE_COLUMNS).unwrap();
        let mut serialised = CsvChunks::new();
        serialised.header(SCORE_COLUMNS).unwrap();
        for (i, r) in rows.iter().enumerate() {
            encoder.item(&r.component, &r.criterion, r.agreed_score, &r.decided_by);
            encoder.row(encoded.rows().unwrap(), i, r.score);
            serialised.row(r).unwrap();
        }
        (encoded.take().unwrap(), serialised.take().unwrap())
    }

    #[test]
    fn encoded_score_rows_are_the_csv_crates_byte_for_byte() {
        let hostile =
            ["", "plain", "a,b", "say \"hi\"", "\"", "line\nbreak", "cr\rlf\r\n", " lead", "'=1", "é—ü", ",", "\"\""];
        // Each hostile text once in the assessment's cells, with every hostile text in the rows'.
        for whole in hostile {
            let rows: Vec<ScoreRow> = hostile
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let mut r = score(&format!("scorer{text}"), text, "A", i as i32 - 3, 2, text);
                    r.assessment_id = format!("{whole}-id");
                    (r.component, r.criterion) = (text.to_string(), format!("{text}{text}"));
                    (r.grade, r.standard_title, r.employer_name) =
                        (whole.to_string(), whole.to_string(), String::new());
                    r
                })
                .collect();
            let (encoded, serialised) = encoded_and_serialised(&rows);
            assert_eq!(String::from_utf8_lossy(&encoded), String::from_utf8_lossy(&serialised));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_quoted_as_the_csv_crate_quotes_it(
            cells in proptest::collection::vec("[a-z,\"\r\n =é]{0,6}", 16),
            score in -9i32..99,
        ) {
            let r = score_of(&cells, score);
            let (encoded, serialised) = encoded_and_serialised(std::slice::from_ref(&r));
            proptest::prop_assert_eq!(encoded, serialised);
        }
    }

    fn score_of(c: &[String], s: i32) -> ScoreRow {
        ScoreRow {
            assessment_id: c[0].clone(),
            standard_id: c[1].clone(),
            apprentice_id: c[2].clone(),
            employer_id: c[3].clone(),
            training_provider_id: c[4].clone(),
            independent_assessor_id: c[5].clone(),
            decided_on: c[6].clone(),
            component: c[7].clone(),
            criterion: c[8].clone(),
            scorer_role: c[9].clone(),
            scorer_id: c[10].clone(),
            score: s,
            agreed_score: 3,
            difference: s - 3,
            decided_by: c[11].clone(),
            grade: c[12].clone(),
            moderation: c[13].clone(),
            apprentice_name: c[14].clone(),
            employer_name: c[15].clone(),
            training_provider_name: c[0].clone(),
            independent_assessor_name: c[1].clone(),
            standard_title: c[2].clone(),
        }
    }

    #[test]
    fn chunks_are_handed_out_once_full_and_nothing_is_lost() {
        let mut w = CsvChunks::new();
        w.header(&["a", "b"]).unwrap();
        let mut taken = Vec::new();
        for i in 0..20_000 {
            if i % 2 == 0 {
                w.row(&(i, "x,y")).unwrap();
            } else {
                w.rows().unwrap().extend_from_slice(format!("{i},z\r\n").as_bytes());
            }
            if let Some(chunk) = w.full_chunk().unwrap() {
                assert!(chunk.len() >= CHUNK, "a chunk of {} bytes", chunk.len());
                taken.extend(chunk);
            }
        }
        taken.extend(w.take().unwrap());
        let mut want = String::from("a,b\r\n");
        for i in 0..20_000 {
            want.push_str(&if i % 2 == 0 { format!("{i},\"x,y\"\r\n") } else { format!("{i},z\r\n") });
        }
        assert_eq!(String::from_utf8(taken).unwrap(), want);
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_are_months_quarters_and_years() {
        use TrendPeriod::*;
        for (month, quarter) in
            [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2), (7, 3), (8, 3), (9, 3), (10, 4), (11, 4), (12, 4)]
        {
            assert_eq!(Quarter.key(day(2026, month, 15)), format!("2026-Q{quarter}"), "month {month}");
        }
        assert_eq!(Quarter.key(day(2026, 3, 31)), "2026-Q1");
        assert_eq!(Quarter.key(day(2026, 4, 1)), "2026-Q2");
        let last = day(2026, 12, 31);
        assert_eq!(
            (Month.key(last), Quarter.key(last), Year.key(last)),
            ("2026-12".into(), "2026-Q4".into(), "2026".into())
        );
        assert_eq!(Month.key(day(2026, 7, 1)), "2026-07");
        assert_eq!(TrendPeriod::from_name("quarter"), Some(Quarter));
        assert_eq!(TrendPeriod::from_name("week"), None);
        assert_eq!(TrendBy::from_name("training_provider"), Some(TrendBy::TrainingProvider));
        assert_eq!(TrendBy::from_name("Standard"), None);
    }

    #[test]
    fn decision_dates_are_utc() {
        assert_eq!(decision_date("2026-12-31T23:30:00Z"), Some(day(2026, 12, 31)));
        assert_eq!(decision_date("2027-01-01T00:30:00+01:00"), Some(day(2026, 12, 31)));
        assert_eq!(decision_date("2026-02-10T10:00:00.123456Z"), Some(day(2026, 2, 10)));
        assert_eq!(decision_date("2026-02-10 10:00:00"), Some(day(2026, 2, 10)));
        assert_eq!(decision_date("soon"), None);
    }

    #[test]
    fn grade_counts_follow_the_guides_with_zeros() {
        let first: Vec<String> = ["Fail", "Pass", "Merit"].map(String::from).into();
        let second: Vec<String> = ["Fail", "Pass", "Distinction"].map(String::from).into();
        let mut g = GradeCounts::default();
        g.add(&first, "Pass");
        assert_eq!(g.text(), "Fail=0;Pass=1;Merit=0");
        g.add(&second, "Distinction");
        g.add(&first, "Pass");
        assert_eq!(g.text(), "Fail=0;Pass=2;Merit=0;Distinction=1");
        g.add(&first, "Unlisted");
        assert_eq!(g.text(), "Fail=0;Pass=2;Merit=0;Distinction=1;Unlisted=1");
        assert_eq!(GradeCounts::default().text(), "");
    }

    #[test]
    fn trends_group_count_and_average_by_hand() {
        let grades: Vec<String> = ["Not achieved", "Pass"].map(String::from).into();
        // Three scorers on one item; lena is each assessment's line manager.
        let rows = |id: &str, lm: i32, tp: i32, ia: i32| -> Vec<ScoreRow> {
            [("lena", "line_manager", lm), ("tom", "training_provider", tp), ("iris", "independent_assessor", ia)]
                .into_iter()
                .map(|(who, role, s)| score(who, role, id, s, 3, "consensus"))
                .collect()
        };
        let (a, b, c) = (rows("A", 5, 3, 4), rows("B", 3, 3, 3), rows("C", 4, 2, 3));
        let mut t = TrendTally::new(TrendPeriod::Quarter, TrendBy::Employer);
        let add = |t: &mut TrendTally, date, employer, name, grade, w, ties, rows: &[ScoreRow]| {
            t.add(&TrendAssessment {
                date,
                group_id: employer,
                group_name: name,
                grade,
                guide_grades: &grades,
                weighted_score: w,
                tie_breaks: ties,
                lean_of: Some("lena"),
                score_rows: rows,
            })
        };
        add(&mut t, day(2026, 2, 1), "e2", "=Acme", "Pass", 4.0, 1, &a);
        add(&mut t, day(2026, 3, 31), "e2", "Acme", "Not achieved", 2.5, 0, &b);
        add(&mut t, day(2026, 4, 1), "e1", "Zed", "Pass", 3.0, 2, &c);
        let rows = t.rows();
        let mut w = CsvChunks::new();
        w.header(TREND_COLUMNS).unwrap();
        rows.iter().for_each(|r| w.row(r).unwrap());
        // Q1: A (5 3 4, mean 4: lena +1, tom −1, iris 0) and B (all 3: 0, 0, 0) → lena +1/2,
        // tom −1/2, iris 0; centred on the median (iris) → lena 0.5. Q2: C (4 2 3: +1 −1 0) → 1.
        assert_eq!(
            String::from_utf8(w.take().unwrap()).unwrap(),
            "period,by,id,name,assessments,grade_counts,mean_weighted_score,tie_breaks,mean_lean\r\n\
             2026-Q1,employer,e2,'=Acme,2,Not achieved=1;Pass=1,3.25,1,0.5\r\n\
             2026-Q2,employer,e1,Zed,1,Not achieved=0;Pass=1,3,2,1\r\n"
        );
        assert!(rows.iter().all(|r| r.by == "employer"));

        // By standard: no lean. Ordered by period, then name, then id.
        let mut t = TrendTally::new(TrendPeriod::Year, TrendBy::Standard);
        for (id, name) in [("s2", "Beta"), ("s3", "Alpha"), ("s1", "Beta")] {
            t.add(&TrendAssessment {
                date: day(2026, 5, 5),
                group_id: id,
                group_name: name,
                grade: "Pass",
                guide_grades: &grades,
                weighted_score: 3.0,
                tie_breaks: 0,
                lean_of: None,
                score_rows: &a,
            });
        }
        let rows = t.rows();
        let order: Vec<(&str, &str, Option<Number>)> =
            rows.iter().map(|r| (r.id.as_str(), r.period.as_str(), r.mean_lean)).collect();
        assert_eq!(order, [("s3", "2026", None), ("s1", "2026", None), ("s2", "2026", None)]);
    }
}
