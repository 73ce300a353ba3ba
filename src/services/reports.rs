//! Feeds the standardisation reports: decided and released assessments, filtered, read page by
//! page (keyset on decision time) so memory does not grow with the number of rows.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::NaiveDate;
use tokio::sync::mpsc;

use super::assessments::{agreed_scores, AgreedScore, AgreedScores, SheetScores, StoredDecision};
use super::standards::Guides;
use super::Actor;
use crate::db::assessments::DecidedRow;
use crate::db::assessments::{decided_page, DecidedFilter};
use crate::db::models::Apprentice;
use crate::db::{Db, DbConnection};
use crate::domain::assessment::Status;
use crate::domain::permissions::{may, Action, Seat};
use crate::domain::scoring::Decision;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::reports::*;

pub(crate) const PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Scores,
    Outcomes,
    Assessors,
    Agreement,
    Independence,
    Trends(TrendOptions),
}

/// What the trends report cuts by: `period` (default month) and `by` (default standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendOptions {
    pub period: TrendPeriod,
    pub by: TrendBy,
}

impl Default for TrendOptions {
    fn default() -> Self {
        Self { period: TrendPeriod::Month, by: TrendBy::Standard }
    }
}

impl TrendOptions {
    /// Takes `period` and `by` out of the query string (a bad or repeated one is a 400 naming
    /// it); the rest are the report filters.
    pub fn split(query: &[(String, String)]) -> AppResult<(Self, Vec<(String, String)>)> {
        let mut options = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut rest = Vec::new();
        for (key, value) in query {
            let (words, names): (&str, Vec<&str>) = match key.as_str() {
                "period" => ("The period", TrendPeriod::ALL.iter().map(|p| p.as_str()).collect()),
                "by" => ("The grouping", TrendBy::ALL.iter().map(|b| b.as_str()).collect()),
                _ => {
                    rest.push((key.clone(), value.clone()));
                    continue;
                }
            };
            if seen.contains(&key.as_str()) {
                return Err(AppError::bad_input(
                    ErrorCode::RepeatedFilter,
                    format!("{words} ({key}) is given more than once; give it once."),
                ));
            }
            seen.push(if key == "period" { "period" } else { "by" });
            let bad = || {
                AppError::bad_input(
                    ErrorCode::InvalidChoice,
                    format!("{words} ({key}) must be one of {}; {value:?} is not one.", names.join(", ")),
                )
            };
            if key == "period" {
                options.period = TrendPeriod::from_name(value).ok_or_else(bad)?;
            } else {
                options.by = TrendBy::from_name(value).ok_or_else(bad)?;
            }
        }
        Ok((options, rest))
    }
}

/// The report a query asks for and its filters: the trends report first takes its own options out.
pub fn parse_query(report: Report, query: &[(String, String)]) -> AppResult<(Report, ReportFilter)> {
    match report {
        Report::Trends(_) => {
            let (options, rest) = TrendOptions::split(query)?;
            Ok((Report::Trends(options), ReportFilter::parse(&rest)?))
        }
        _ => Ok((report, ReportFilter::parse(query)?)),
    }
}

/// The filters every report takes.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub standard_id: Option<String>,
    pub employer_id: Option<String>,
    pub training_provider_id: Option<String>,
    pub assessor_id: Option<String>,
}

impl ReportFilter {
    /// The filters, each with how a person calls it (messages name the filter in words).
    pub const NAMES: [(&'static str, &'static str); 6] = [
        ("from", "The start date"),
        ("to", "The end date"),
        ("standard_id", "The standard"),
        ("employer_id", "The employer"),
        ("training_provider_id", "The training provider"),
        ("assessor_id", "The independent assessor"),
    ];

    /// From the query string; an unknown or repeated parameter or a bad date is a 400 naming it.
    pub fn parse(query: &[(String, String)]) -> AppResult<Self> {
        let mut f = ReportFilter::default();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in query {
            let Some(&(name, words)) = Self::NAMES.iter().find(|(name, _)| name == key) else {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                return Err(AppError::bad_input(
                    ErrorCode::UnknownFilter,
                    format!("{key:?} is not a report filter; the filters are {}.", names.join(", ")),
                ));
            };
            if seen.contains(&name) {
                return Err(AppError::bad_input(
                    ErrorCode::RepeatedFilter,
                    format!("{words} ({name}) is given more than once; give it once."),
                ));
            }
            seen.push(name);
            if let Some(c) = crate::domain::text::invalid_char(value) {
                return Err(AppError::bad_input(
                    ErrorCode::InvalidText,
                    format!("{words} ({name}) {}.", crate::domain::text::problem(c)),
                ));
            }
            let date = |v: &str| {
                parse_date(v).ok_or_else(|| {
                    AppError::bad_input(
                        ErrorCode::InvalidDate,
                        format!("{words} ({name}) must be a date written YYYY-MM-DD, for example 2026-03-31; {v:?} is not one."),
                    )
                })
            };
            let text = Some(value.clone()).filter(|v| !v.is_empty());
            match name {
                "from" => f.from = Some(date(value)?),
                "to" => f.to = Some(date(value)?),
                "standard_id" => f.standard_id = text,
                "employer_id" => f.employer_id = text,
                "training_provider_id" => f.training_provider_id = text,
                _ => f.assessor_id = text,
            }
        }
        if let (Some(from), Some(to)) = (f.from, f.to) {
            if from > to {
                return Err(AppError::bad_input(
                    ErrorCode::InvalidDate,
                    "The start date (from) is after the end date (to).",
                ));
            }
        }
        Ok(f)
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (years 0001 to 9999): chrono alone would take
/// `2026-1-1`, year 0 and signed years.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if !shape || text.starts_with("0000") {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// One decided assessment with what the reports need.
pub struct Decided {
    pub row: DecidedRow,
    pub apprentice: Apprentice,
    /// The stored decision, read when first asked for ([`decision`](Self::decision)): the
    /// scores report reads only its agreed scores, borrowed ([`agreed_scores`]).
    decision: std::cell::OnceCell<StoredDecision>,
    /// The submitted sheets, seats in panel order.
    pub sheets: Vec<SubmittedSheet>,
    pub names: Names,
    /// Whether an upheld appeal changed its grade (`outcomes.csv`'s `amended`).
    pub amended: bool,
}

/// A submitted sheet of a decided assessment, as the reports read it.
pub struct SubmittedSheet {
    /// The seat's name.
    pub seat: &'static str,
    pub user_id: String,
    pub submitted_at: String,
    /// The sheet as stored, read by [`scores`](Self::scores).
    scores_json: String,
}

impl SubmittedSheet {
    /// The sheet's scores, read without copying.
    pub fn scores(&self) -> AppResult<SheetScores<'_>> {
        SheetScores::read(&self.scores_json)
    }
}

/// The names the reports print beside ids (formula-safe).
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub employer: String,
    pub training_provider: String,
    pub independent_assessor: String,
    pub standard_title: String,
}

impl Decided {
    /// The decision as stored (read once).
    pub fn decision(&self) -> AppResult<&Decision> {
        if let Some(stored) = self.decision.get() {
            return Ok(&stored.decision);
        }
        let read: StoredDecision = serde_json::from_str(self.decision_json()).map_err(|e| self.unreadable(e))?;
        Ok(&self.decision.get_or_init(|| read).decision)
    }

    fn decision_json(&self) -> &str {
        self.row.decision_json.as_deref().unwrap_or("null")
    }

    fn unreadable(&self, e: serde_json::Error) -> AppError {
        anyhow::anyhow!("assessment {}: stored decision unreadable: {e}", self.row.id).into()
    }

    fn decided_on(&self) -> String {
        self.row.decided_at.as_deref().map(|d| d[..10].to_string()).unwrap_or_default()
    }

    fn moderation(&self) -> &'static str {
        if self.row.status == Status::Released.as_str() {
            "confirmed"
        } else {
            "pending"
        }
    }

    /// Each submitted sheet's scores, read once, in panel order (as [`sheets`](Self::sheets)).
    pub fn read_sheets(&self) -> AppResult<Vec<SheetScores<'_>>> {
        self.sheets.iter().map(SubmittedSheet::scores).collect()
    }

    /// The decision's agreed scores, read borrowed (all the score rows need of it).
    fn agreed_scores(&self) -> AppResult<AgreedScores<'_>> {
        agreed_scores(self.decision_json()).map_err(|e| self.unreadable(e))
    }

    /// Calls `f` with each score of the submitted sheets: item by item in the decision's order,
    /// sheets in panel order, as (the item's position in the decision, the item, the sheet's
    /// position in [`sheets`](Self::sheets), score).
    fn each_score<'a>(
        &'a self,
        agreed: &AgreedScores<'a>,
        mut f: impl FnMut(usize, &AgreedScore<'a>, usize, i32),
    ) -> AppResult<()> {
        let mut sheets = self.read_sheets()?;
        for (n, item) in agreed.items.iter().enumerate() {
            for (i, sheet) in sheets.iter_mut().enumerate() {
                if let Some(score) = sheet.score_of(&item.component, &item.criterion) {
                    f(n, item, i, score);
                }
            }
        }
        Ok(())
    }

    pub fn score_rows(&self) -> AppResult<Vec<ScoreRow>> {
        let mut out = Vec::new();
        let decided_on = self.decided_on();
        let agreed = self.agreed_scores()?;
        let grade = safe_text(&agreed.grade);
        self.each_score(&agreed, |_, item, i, score| {
            let sheet = &self.sheets[i];
            out.push(ScoreRow {
                assessment_id: self.row.id.clone(),
                standard_id: self.row.standard_id.clone(),
                apprentice_id: self.row.apprentice_id.clone(),
                employer_id: self.apprentice.employer_id.clone(),
                training_provider_id: self.apprentice.training_provider_id.clone(),
                independent_assessor_id: self.row.independent_assessor_id.clone().unwrap_or_default(),
                decided_on: decided_on.clone(),
                component: item.component.to_string(),
                criterion: item.criterion.to_string(),
                scorer_role: sheet.seat.to_string(),
                scorer_id: sheet.user_id.clone(),
                score,
                agreed_score: item.agreed_score,
                difference: score - item.agreed_score,
                decided_by: item.decided_by.as_str().to_string(),
                grade: grade.clone(),
                moderation: self.moderation().to_string(),
                apprentice_name: safe_text(&self.apprentice.name),
                employer_name: self.names.employer.clone(),
                training_provider_name: self.names.training_provider.clone(),
                independent_assessor_name: self.names.independent_assessor.clone(),
                standard_title: self.names.standard_title.clone(),
            });
        })?;
        Ok(out)
    }

    /// Writes this assessment's score rows into `csv`, the rows [`score_rows`](Self::score_rows)
    /// gives, through `encoder`: its cells encoded once per assessment, once per item, nothing
    /// per row but the scores.
    pub fn write_score_rows(&self, encoder: &mut ScoreRowEncoder, csv: &mut CsvChunks) -> AppResult<()> {
        let decided_on = self.decided_on();
        let agreed = self.agreed_scores()?;
        let grade = safe_text(&agreed.grade);
        let apprentice_name = safe_text(&self.apprentice.name);
        let scorers: Vec<(&str, &str)> = self.sheets.iter().map(|s| (s.seat, s.user_id.as_str())).collect();
        encoder.assessment(
            &AssessmentCells {
                assessment_id: &self.row.id,
                standard_id: &self.row.standard_id,
                apprentice_id: &self.row.apprentice_id,
                employer_id: &self.apprentice.employer_id,
                training_provider_id: &self.apprentice.training_provider_id,
                independent_assessor_id: self.row.independent_assessor_id.as_deref().unwrap_or_default(),
                decided_on: &decided_on,
                grade: &grade,
                moderation: self.moderation(),
                apprentice_name: &apprentice_name,
                employer_name: &self.names.employer,
                training_provider_name: &self.names.training_provider,
                independent_assessor_name: &self.names.independent_assessor,
                standard_title: &self.names.standard_title,
            },
            &scorers,
        );
        let out = csv.rows().map_err(anyhow::Error::from)?;
        let mut encoded = None;
        self.each_score(&agreed, |n, item, scorer, score| {
            if encoded != Some(n) {
                encoder.item(&item.component, &item.criterion, item.agreed_score, item.decided_by.as_str());
                encoded = Some(n);
            }
            encoder.row(out, scorer, score);
        })
    }

    pub fn outcome_row(&self) -> AppResult<OutcomeRow> {
        let decision = self.decision()?;
        let items = &decision.items;
        let count = |by: crate::domain::scoring::DecidedBy| items.iter().filter(|i| i.decided_by == by).count();
        Ok(OutcomeRow {
            assessment_id: self.row.id.clone(),
            standard_id: self.row.standard_id.clone(),
            apprentice_id: self.row.apprentice_id.clone(),
            employer_id: self.apprentice.employer_id.clone(),
            training_provider_id: self.apprentice.training_provider_id.clone(),
            independent_assessor_id: self.row.independent_assessor_id.clone().unwrap_or_default(),
            decided_on: self.decided_on(),
            grade: safe_text(&decision.grade),
            weighted_score: Number(decision.weighted_score),
            items: items.len(),
            unanimous_items: count(crate::domain::scoring::DecidedBy::Unanimous),
            tie_breaks: decision.tie_breaks(),
            moderation: self.moderation().to_string(),
            released_at: self.row.released_at.clone().unwrap_or_default(),
            apprentice_name: safe_text(&self.apprentice.name),
            employer_name: self.names.employer.clone(),
            training_provider_name: self.names.training_provider.clone(),
            independent_assessor_name: self.names.independent_assessor.clone(),
            standard_title: self.names.standard_title.clone(),
            attempt: i64::from(self.row.attempt),
            adjustments: crate::services::assessments::adjustments_count(&self.row.adjustments_json),
            amended: self.amended,
        })
    }
}

/// The seat `user_id` holds on a decided assessment's panel.
fn seat_on(row: &DecidedRow, user_id: &str) -> Option<Seat> {
    crate::domain::workflow::Panel {
        line_manager: &row.line_manager_id,
        training_provider: &row.training_provider_user_id,
        independent_assessor: row.independent_assessor_id.as_deref(),
    }
    .seat_of(user_id)
}

/// One page of decided assessments after `after` = (decided_at, id).
pub fn page(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    after: Option<&(String, String)>,
) -> AppResult<Vec<Decided>> {
    let decided = DecidedFilter {
        decided_from: filter.from.map(|from| from.format("%Y-%m-%d").to_string()),
        // The day after `to`; after 9999-12-31 there is no bound (year 10000 would print as
        // "+10000-01-01", which sorts before every decision time).
        decided_before: filter
            .to
            .and_then(|d| d.succ_opt())
            .filter(|d| chrono::Datelike::year(d) <= 9999)
            .map(|to| to.format("%Y-%m-%d").to_string()),
        standard_id: filter.standard_id.clone(),
        employer_id: filter.employer_id.clone(),
        training_provider_id: filter.training_provider_id.clone(),
        assessor_id: filter.assessor_id.clone(),
    };
    let rows = decided_page(conn, &decided, after, PAGE)?;
    let ids: Vec<String> = rows.iter().map(|(r, _)| r.id.clone()).collect();
    let lookup = page_names(conn, &rows)?;
    let amended: std::collections::HashSet<String> = crate::db::appeals::appeals_of(conn, &ids)?
        .into_iter()
        .filter(crate::services::assessments::amends)
        .map(|a| a.assessment_id)
        .collect();
    let mut sheets_by: HashMap<String, Vec<crate::db::models::ScoreSheetRow>> = HashMap::new();
    for sheet in crate::db::sheets::submitted_sheets_of(conn, &ids)? {
        sheets_by.entry(sheet.assessment_id.clone()).or_default().push(sheet);
    }
    rows.into_iter()
        .map(|(row, apprentice)| {
            let mut sheets: Vec<SubmittedSheet> = sheets_by
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| {
                    let seat = seat_on(&row, &s.user_id)?.as_str();
                    let submitted_at = s.submitted_at.unwrap_or_default();
                    Some(SubmittedSheet { seat, user_id: s.user_id, submitted_at, scores_json: s.scores_json })
                })
                .collect();
            sheets.sort_by_key(|s| Seat::ALL.iter().position(|seat| seat.as_str() == s.seat));
            let name = |map: &HashMap<String, String>, id: &str| safe_text(map.get(id).map_or("", String::as_str));
            let names = Names {
                employer: name(&lookup.organisations, &apprentice.employer_id),
                training_provider: name(&lookup.organisations, &apprentice.training_provider_id),
                independent_assessor: name(&lookup.users, row.independent_assessor_id.as_deref().unwrap_or_default()),
                standard_title: name(&lookup.standards, &format!("{}\n{}", row.standard_id, row.standard_version)),
            };
            let amended = amended.contains(&row.id);
            Ok(Decided { row, apprentice, decision: Default::default(), sheets, names, amended })
        })
        .collect()
}

/// The independence rows of one page: each submitted sheet with its first save and its
/// submission's audit entry (one query over the page's score-sheet audit entries).
fn independence_rows(conn: &mut DbConnection, page: &[Decided]) -> AppResult<Vec<IndependenceRow>> {
    let ids: Vec<String> = page.iter().map(|d| d.row.id.clone()).collect();
    let entries = crate::db::audit::entries_of(conn, &ids, &["score_sheet.saved", "score_sheet.submitted"])?;
    // (assessment, user) → (first save, submission's seq).
    let mut seen: HashMap<(String, String), (String, Option<i64>)> = HashMap::new();
    for e in entries {
        let (Some(assessment), Some(actor)) = (e.assessment_id, e.actor_id) else { continue };
        let entry = seen.entry((assessment, actor)).or_insert_with(|| (e.at, None));
        if e.action == "score_sheet.submitted" {
            entry.1 = Some(e.seq);
        }
    }
    let scorers: Vec<String> = page.iter().flat_map(|d| d.sheets.iter().map(|s| s.user_id.clone())).collect();
    let scorer_names = names(conn, scorers)?;
    let mut out = Vec::new();
    for decided in page {
        let revealed_at = decided.sheets.iter().map(|s| s.submitted_at.clone()).max().unwrap_or_default();
        for SubmittedSheet { seat, user_id: user, submitted_at, .. } in &decided.sheets {
            let found = seen.get(&(decided.row.id.clone(), user.clone()));
            out.push(IndependenceRow {
                assessment_id: decided.row.id.clone(),
                seat: seat.to_string(),
                scorer_id: user.clone(),
                // The audit entry is written just after the sheet in the same transaction, so a
                // sheet submitted at its first save has an entry a few microseconds later.
                first_saved_at: found.map_or(submitted_at, |(at, _)| at.min(submitted_at)).clone(),
                submitted_at: submitted_at.clone(),
                revealed_at: revealed_at.clone(),
                audit_seq: found.and_then(|(_, seq)| *seq),
                scorer_name: safe_text(scorer_names.get(user).map_or("", String::as_str)),
            });
        }
    }
    Ok(out)
}

/// The names of one page's organisations, independent assessors and standards (three queries a
/// page, whatever its length).
struct PageNames {
    organisations: HashMap<String, String>,
    users: HashMap<String, String>,
    /// Keyed by "standard id\nversion".
    standards: HashMap<String, String>,
}

fn page_names(conn: &mut DbConnection, rows: &[(DecidedRow, Apprentice)]) -> AppResult<PageNames> {
    let org_ids: Vec<String> =
        rows.iter().flat_map(|(_, a)| [a.employer_id.clone(), a.training_provider_id.clone()]).collect();
    let organisations = crate::db::people::organisation_names(conn, &org_ids)?;
    let user_ids: Vec<String> = rows.iter().filter_map(|(r, _)| r.independent_assessor_id.clone()).collect();
    let standard_ids: Vec<String> = rows.iter().map(|(r, _)| r.standard_id.clone()).collect();
    let standards = crate::db::standards::standard_titles(conn, &standard_ids)?;
    Ok(PageNames {
        organisations,
        users: names(conn, user_ids)?,
        standards: standards.into_iter().map(|((id, version), title)| (format!("{id}\n{version}"), title)).collect(),
    })
}

/// (standard id, version) → its grades in the guide's order.
type GradeOrders = Vec<((String, String), Vec<String>)>;

/// The grade orders of the page's standard versions not yet `known`.
fn grade_orders_of(
    conn: &mut DbConnection,
    guides: &Guides,
    page: &[Decided],
    known: &[(String, String)],
) -> AppResult<GradeOrders> {
    let mut out: GradeOrders = Vec::new();
    for d in page {
        let key = (d.row.standard_id.clone(), d.row.standard_version.clone());
        if known.contains(&key) || out.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let grades = guides
            .get(conn, &key.0, &key.1)?
            .map(|g| g.grading.grades.iter().map(|g| g.name.clone()).collect())
            .unwrap_or_default();
        out.push((key, grades));
    }
    Ok(out)
}

/// Adds one decided assessment to the trends: its group, grade, weighted score, tie-breaks and
/// the member whose lean the group averages.
fn add_trend(
    trends: &mut TrendTally,
    by: TrendBy,
    decided: &Decided,
    score_rows: &[ScoreRow],
    grade_orders: &HashMap<(String, String), Vec<String>>,
) -> anyhow::Result<()> {
    let (row, apprentice, names) = (&decided.row, &decided.apprentice, &decided.names);
    let decision = decided.decision()?;
    let decided_at = row.decided_at.as_deref().unwrap_or_default();
    let date = decision_date(decided_at)
        .ok_or_else(|| anyhow::anyhow!("assessment {}: decision time {decided_at:?} unreadable", row.id))?;
    let assessor = row.independent_assessor_id.as_deref().unwrap_or_default();
    let (group_id, group_name, lean_of) = match by {
        TrendBy::Standard => (row.standard_id.as_str(), names.standard_title.as_str(), None),
        TrendBy::Employer => {
            (apprentice.employer_id.as_str(), names.employer.as_str(), Some(row.line_manager_id.as_str()))
        }
        TrendBy::TrainingProvider => (
            apprentice.training_provider_id.as_str(),
            names.training_provider.as_str(),
            Some(row.training_provider_user_id.as_str()),
        ),
        TrendBy::Assessor => (assessor, names.independent_assessor.as_str(), Some(assessor)),
    };
    let no_grades = Vec::new();
    trends.add(&TrendAssessment {
        date,
        group_id,
        group_name,
        grade: &decision.grade,
        guide_grades: grade_orders.get(&(row.standard_id.clone(), row.standard_version.clone())).unwrap_or(&no_grades),
        weighted_score: decision.weighted_score,
        tie_breaks: decision.tie_breaks(),
        lean_of,
        score_rows,
    });
    Ok(())
}

/// Refuses anyone but assessment-body staff.
pub fn authorise(actor: &Actor) -> AppResult<()> {
    if may(actor.role, None, Action::ViewReports, &Default::default()) {
        Ok(())
    } else {
        Err(AppError::forbidden("only assessment-body staff may run reports"))
    }
}

fn names(conn: &mut DbConnection, ids: Vec<String>) -> AppResult<HashMap<String, String>> {
    Ok(crate::db::people::user_names(conn, &ids)?)
}

/// A CSV report's byte stream, fed by [`export`].
pub type Chunks = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Blocking: exports a report on one reader connection (on SQLite one of the read-only readers,
/// so the writer is never held and saves go on beside the export) in one read-only snapshot.
/// `start` runs first in that snapshot (authentication, permission, the query: 401, 403, 400)
/// and its answer goes to `ready` before any byte is written; then the CSV is written into `tx`
/// chunk by chunk, page by page. Stops early if the receiver goes away.
pub fn export(
    db: &Db,
    start: impl FnOnce(&mut DbConnection) -> AppResult<(Report, ReportFilter)>,
    ready: tokio::sync::oneshot::Sender<AppResult<()>>,
    tx: Chunks,
) {
    let mut ready = Some(ready);
    let result = db.with(Db::reader, |conn| {
        crate::db::transaction(conn, |conn| -> AppResult<()> {
            crate::db::read_only_snapshot(conn)?;
            let started = start(conn);
            let (report, filter) = match started {
                Ok(v) => {
                    let _ = ready.take().map(|r| r.send(Ok(())));
                    v
                }
                Err(e) => {
                    let _ = ready.take().map(|r| r.send(Err(e)));
                    return Ok(());
                }
            };
            write_report(conn, report, filter, &tx)
        })
    });
    match (result, ready.take()) {
        (Err(e), Some(ready)) => {
            let _ = ready.send(Err(e));
        }
        (Err(e), None) => {
            tracing::error!(error = %e, "report failed part-way");
            let _ = tx.blocking_send(Err(std::io::Error::other("the report failed part-way; see the server log")));
        }
        (Ok(()), _) => {}
    }
}

/// Starts [`export`] on a blocking thread for a report already checked (the pages).
pub fn stream(db: Db, report: Report, filter: ReportFilter, tx: Chunks) {
    let (ready, _) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || export(&db, |_| Ok((report, filter)), ready, tx));
}

/// Sends what is written; false when the client went away.
fn send(tx: &Chunks, csv: &mut CsvChunks) -> AppResult<bool> {
    let chunk = csv.take().map_err(anyhow::Error::from)?;
    Ok(chunk.is_empty() || tx.blocking_send(Ok(Bytes::from(chunk))).is_ok())
}

/// Sends a chunk once a [`CHUNK`] is written; false when the client went away.
fn send_full(tx: &Chunks, csv: &mut CsvChunks) -> AppResult<bool> {
    Ok(match csv.full_chunk().map_err(anyhow::Error::from)? {
        Some(chunk) => tx.blocking_send(Ok(Bytes::from(chunk))).is_ok(),
        None => true,
    })
}

fn write_report(conn: &mut DbConnection, report: Report, filter: ReportFilter, tx: &Chunks) -> AppResult<()> {
    let io = |e: std::io::Error| AppError::from(anyhow::Error::from(e));
    let mut csv = CsvChunks::new();
    let mut encoder = ScoreRowEncoder::default();
    csv.header(match report {
        Report::Scores => SCORE_COLUMNS,
        Report::Outcomes => OUTCOME_COLUMNS,
        Report::Assessors => ASSESSOR_COLUMNS,
        Report::Agreement => AGREEMENT_COLUMNS,
        Report::Independence => INDEPENDENCE_COLUMNS,
        Report::Trends(_) => TREND_COLUMNS,
    })
    .map_err(io)?;
    let mut tally = AssessorTally::default();
    let mut trends = match report {
        Report::Trends(o) => Some((TrendTally::new(o.period, o.by), o.by)),
        _ => None,
    };
    // The grades of each standard version, in the guide's order (one lookup each).
    let guides = Guides::new();
    let mut grade_orders: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = page(conn, &filter, after.as_ref())?;
        if report == Report::Independence {
            for row in &independence_rows(conn, &page)? {
                csv.row(row).map_err(io)?;
                if !send_full(tx, &mut csv)? {
                    return Ok(()); // the client went away
                }
            }
        }
        if matches!(report, Report::Trends(_)) {
            let known: Vec<(String, String)> = grade_orders.keys().cloned().collect();
            let grades = grade_orders_of(conn, &guides, &page, &known)?;
            grade_orders.extend(grades);
        }
        let Some(last) = page.last() else { break };
        after = Some((last.row.decided_at.clone().unwrap_or_default(), last.row.id.clone()));
        for decided in &page {
            match report {
                Report::Scores => decided.write_score_rows(&mut encoder, &mut csv)?,
                Report::Outcomes => csv.row(&decided.outcome_row()?).map_err(io)?,
                Report::Assessors | Report::Agreement => tally.add_assessment(&decided.score_rows()?),
                Report::Independence => {}
                Report::Trends(_) => {
                    if let Some((trends, by)) = trends.as_mut() {
                        add_trend(trends, *by, decided, &decided.score_rows()?, &grade_orders)?;
                    }
                }
            }
            if !send_full(tx, &mut csv)? {
                return Ok(()); // the client went away
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    if report == Report::Assessors {
        let ids: Vec<String> = tally.scorer_ids().cloned().collect();
        let names = names(conn, ids)?;
        for row in tally.rows(|id| names.get(id).cloned().unwrap_or_default()) {
            csv.row(&row).map_err(io)?;
        }
    }
    if report == Report::Agreement {
        for row in tally.agreement_rows() {
            csv.row(&row).map_err(io)?;
        }
    }
    if let Some((trends, _)) = &trends {
        for row in trends.rows() {
            csv.row(&row).map_err(io)?;
        }
    }
    send(tx, &mut csv)?;
    Ok(())
}

/// What the standardisation page shows: the same figures as `assessors.csv`, `agreement.csv`
/// and `trends.csv` (by standard) for one filter, and the assessments each flagged scorer scored.
#[derive(Debug, Default)]
pub struct StandardisationView {
    /// Decided assessments the filter selects.
    pub decided: usize,
    pub assessors: Vec<AssessorRow>,
    pub agreement: Vec<AgreementRow>,
    pub trends: Vec<TrendRow>,
    /// Scorer id → (assessment id, apprentice name) of each assessment they scored, for the
    /// scorers flagged `lenient` or `severe` only, in decision order.
    pub flagged_assessments: HashMap<String, Vec<(String, String)>>,
}

/// Reads every decided assessment the filter selects, page by page as the CSV reports do, into
/// the same tallies: each scorer's lean, the agreement per score item, and the trends per
/// `period` and standard.
pub async fn standardisation(db: &Db, filter: ReportFilter, period: TrendPeriod) -> AppResult<StandardisationView> {
    db.read(move |conn| {
        crate::db::transaction(conn, |conn| {
            crate::db::read_only_snapshot(conn)?;
            standardisation_in(conn, &filter, period)
        })
    })
    .await
}

fn standardisation_in(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    period: TrendPeriod,
) -> AppResult<StandardisationView> {
    let mut tally = AssessorTally::default();
    let mut trends = TrendTally::new(period, TrendBy::Standard);
    let guides = Guides::new();
    let mut grade_orders: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut scored: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut decided = 0;
    let mut after: Option<(String, String)> = None;
    loop {
        let known: Vec<(String, String)> = grade_orders.keys().cloned().collect();
        let page = page(conn, filter, after.as_ref())?;
        let grades = grade_orders_of(conn, &guides, &page, &known)?;
        grade_orders.extend(grades);
        let Some(last) = page.last() else { break };
        after = Some((last.row.decided_at.clone().unwrap_or_default(), last.row.id.clone()));
        for d in &page {
            decided += 1;
            let score_rows = d.score_rows()?;
            tally.add_assessment(&score_rows);
            add_trend(&mut trends, TrendBy::Standard, d, &score_rows, &grade_orders)?;
            for sheet in &d.sheets {
                scored.entry(sheet.user_id.clone()).or_default().push((d.row.id.clone(), d.apprentice.name.clone()));
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let ids: Vec<String> = tally.scorer_ids().cloned().collect();
    let names = names(conn, ids)?;
    let assessors = tally.rows(|id| names.get(id).cloned().unwrap_or_default());
    let flagged_assessments = assessors
        .iter()
        .filter(|r| r.flag == "lenient" || r.flag == "severe")
        .filter_map(|r| scored.remove(&r.scorer_id).map(|list| (r.scorer_id.clone(), list)))
        .collect();
    Ok(StandardisationView {
        decided,
        assessors,
        agreement: if decided == 0 { Vec::new() } else { tally.agreement_rows() },
        trends: trends.rows(),
        flagged_assessments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> AppResult<ReportFilter> {
        let pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ReportFilter::parse(&pairs)
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        let f = parse(&[("from", "2026-01-01"), ("to", "2026-12-31")]).unwrap();
        assert_eq!(f.from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(f.to, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert!(parse(&[("from", "0001-01-01"), ("to", "9999-12-31")]).is_ok());
        for bad in [
            "2026-1-1",
            "2026-01-1",
            "0000-01-01",
            "-2026-01-01",
            "+2026-01-01",
            "12026-01-01",
            "2026-13-01",
            "2026-02-30",
            " 2026-01-01",
            "2026-01-01 ",
            "2026/01/01",
            "２026-01-01",
            "",
        ] {
            let e = parse(&[("from", bad)]).unwrap_err();
            assert_eq!(e.code(), "invalid_date", "{bad:?}: {e}");
            assert!(
                e.to_string().starts_with("The start date (from) must be a date written YYYY-MM-DD"),
                "{bad:?}: {e}"
            );
            let e = parse(&[("to", bad)]).unwrap_err();
            assert!(e.to_string().starts_with("The end date (to) must be a date written YYYY-MM-DD"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn each_filter_is_given_once() {
        for key in ["from", "to", "standard_id", "employer_id", "training_provider_id", "assessor_id"] {
            let value = if matches!(key, "from" | "to") { "2026-01-01" } else { "x" };
            let e = parse(&[(key, value), (key, value)]).unwrap_err();
            assert_eq!(e.code(), "repeated_filter", "{key}: {e}");
            assert!(e.to_string().contains(&format!("({key})")), "{key}: {e}");
            assert!(e.to_string().contains("more than once"), "{key}: {e}");
        }
        let e = parse(&[("assessor_id", "a"), ("from", "2026-01-01"), ("assessor_id", "b")]).unwrap_err();
        assert_eq!(e.to_string(), "The independent assessor (assessor_id) is given more than once; give it once.");
    }

    #[test]
    fn filter_messages_are_in_words() {
        let e = parse(&[("from", "2026-02-01"), ("to", "2026-01-31")]).unwrap_err();
        assert_eq!(e.to_string(), "The start date (from) is after the end date (to).");
        let e = parse(&[("colour", "red")]).unwrap_err();
        assert_eq!(e.code(), "unknown_filter");
        assert!(e.to_string().contains("\"colour\""), "{e}");
        let e = parse(&[("standard_id", "x\u{0}")]).unwrap_err();
        assert_eq!(e.code(), "invalid_text");
        assert!(e.to_string().starts_with("The standard (standard_id) contains a control character (U+0000)"), "{e}");
    }
}
