//! Score sheets: the sheet of each seat that scores (the guide's seats), saved and submitted,
//! sealed from the others until every one is in; and the submitted sheets as consensus, decision and reports read them.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{Action, Seat, Seating};
use crate::domain::scoring::{self, PanelSheets, ScoreInput, Sheet};
use crate::domain::workflow::{Event, Step};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change_with, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_optional, Actor, Input};

use super::{carried_over_of, declaration_holds, find_for, guide_of, seating_of, to_json, Found};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreItemInput {
    pub component: String,
    pub criterion: String,
    pub score: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoresInput {
    pub scores: Vec<ScoreItemInput>,
    #[serde(default)]
    pub submit: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SheetState {
    pub submitted: bool,
    pub missing: Vec<ItemKey>,
    pub version: i64,
}

fn read_sheet(row: &ScoreSheetRow) -> AppResult<Sheet> {
    let items: Vec<(ItemKey, scoring::ScoreEntry)> = serde_json::from_str::<Vec<StoredScore>>(&row.scores_json)
        .map_err(|e| anyhow::anyhow!("stored score sheet is unreadable: {e}"))?
        .into_iter()
        .map(|s| (ItemKey::new(s.component, s.criterion), scoring::ScoreEntry { score: s.score, comment: s.comment }))
        .collect();
    Ok(items.into_iter().collect())
}

/// A score as stored and as shown: flat, in the contract's shape.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredScore {
    pub component: String,
    pub criterion: String,
    pub score: i32,
    pub comment: Option<String>,
}

fn write_sheet(guide: &Guide, sheet: &Sheet) -> String {
    // in the guide's order, so a sheet reads like the form
    let list: Vec<StoredScore> = guide
        .score_items()
        .into_iter()
        .filter_map(|k| {
            sheet.get(&k).map(|e| StoredScore {
                component: k.component.clone(),
                criterion: k.criterion.clone(),
                score: e.score,
                comment: e.comment.clone(),
            })
        })
        .collect();
    to_json(&list)
}

/// The user holding each seat that scores, in the guide's seat order (None: the independent
/// assessor's seat before the panel is appointed).
fn seated(seating: &Seating, row: &AssessmentRow) -> Vec<(Seat, Option<String>)> {
    seating
        .seats
        .iter()
        .map(|seat| {
            let user = match seat {
                Seat::LineManager => Some(row.line_manager_id.clone()),
                Seat::TrainingProvider => Some(row.training_provider_user_id.clone()),
                Seat::IndependentAssessor => row.independent_assessor_id.clone(),
            };
            (*seat, user)
        })
        .collect()
}

pub fn save_scores(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<ScoresInput>,
) -> AppResult<SheetState> {
    // If-Match names the version of the caller's own sheet.
    let own_sheet = |conn: &mut DbConnection, _: &Found| -> AppResult<(i64, Vec<ScoreSheetRow>)> {
        let sheets = score_sheets_of(conn, id)?;
        let version = sheets.iter().find(|s| s.user_id == actor.id).map_or(0, |s| s.version);
        Ok((version, sheets))
    };
    let step = |Change { conn, row, status, seat, body: input }: Change<'_, ScoresInput>,
                sheets: Vec<ScoreSheetRow>| {
        let existing = sheets.iter().find(|s| s.user_id == actor.id);
        let guide = guide_of(conn, guides, row)?;
        if input.scores.len() > 10_000 {
            return Err(AppError::bad_input(ErrorCode::TooMany, "too many items").at("scores"));
        }
        let scores: Vec<ScoreInput> = input
            .scores
            .into_iter()
            .map(|s| ScoreInput { key: ItemKey::new(s.component, s.criterion), score: s.score, comment: s.comment })
            .collect();
        for (i, s) in scores.iter().enumerate() {
            check_optional(&format!("scores[{i}].comment"), s.comment.as_deref(), 4000)?;
        }
        let carried_over = carried_over_of(row)?;
        scoring::check_scores(&guide, &scores, &carried_over)?;
        status.allows(Step::Score)?;
        if !declaration_holds(row)? {
            return Err(AppError::conflict(
                ErrorCode::DeclarationRequired,
                "scores can be saved only once the independent assessor has declared no prior involvement and no conflict of interest",
            ));
        }
        let seat = seat.ok_or_else(|| anyhow::anyhow!("a scorer without a seat"))?;
        if existing.is_some_and(|s| s.submitted_at.is_some()) {
            return Err(AppError::conflict(ErrorCode::SheetSubmitted, "your score sheet is submitted and final"));
        }
        let mut sheet = existing.map(read_sheet).transpose()?.unwrap_or_default();
        let saved = scores.len();
        scoring::merge_scores(&mut sheet, scores);
        let missing = scoring::missing_items(&guide, &sheet, &carried_over);
        if input.submit && !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(AppError::bad_input(
                ErrorCode::IncompleteSheet,
                format!("{} item(s) still to score before submitting: {}", missing.len(), names.join(", ")),
            )
            .at("scores")
            .with_items(names));
        }
        let at = now();
        let new_row = ScoreSheetRow {
            assessment_id: id.to_string(),
            user_id: actor.id.clone(),
            seat: seat.as_str().to_string(),
            scores_json: write_sheet(&guide, &sheet),
            submitted_at: input.submit.then(|| at.clone()),
            version: existing.map_or(1, |s| s.version + 1),
            updated_at: at,
        };
        put_score_sheet(conn, &new_row)?;
        let mut detail =
            json!({"seat": seat.as_str(), "items_saved": saved, "submitted": input.submit, "missing": missing.len()});
        let mut moved_on = false;
        if input.submit {
            let all_submitted = seated(&seating_of(row)?, row).iter().all(|(_, user)| {
                user.as_ref().is_some_and(|user| {
                    *user == actor.id || sheets.iter().any(|s| s.user_id == *user && s.submitted_at.is_some())
                })
            });
            if all_submitted {
                let next = status.after(Event::SheetSaved { all_submitted: true })?;
                row.status = next.as_str().to_string();
                moved_on = true;
                detail["status"] = json!(next);
            }
        }
        let action = if input.submit { "score_sheet.submitted" } else { "score_sheet.saved" };
        let state = SheetState { submitted: input.submit, missing, version: new_row.version };
        Ok(if moved_on { Done::saved(state, action, detail) } else { Done::audited(state, action, detail) })
    };
    change_with(conn, actor, id, Action::Score, input, own_sheet, step).map(|(state, _)| state)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SheetView {
    pub role: &'static str,
    pub user_id: String,
    pub submitted: bool,
    pub submitted_at: Option<String>,
    pub scores: Option<Vec<StoredScore>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SheetsView {
    pub all_submitted: bool,
    /// The version of the caller's own sheet (0 before the first save): its `ETag`.
    pub own_version: i64,
    pub sheets: Vec<SheetView>,
}

/// The sheets of the seats that score as `actor` may see them: sealed (scores null) until every
/// one is submitted, except the caller's own.
pub fn view_sheets(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<SheetsView> {
    let Found { row, .. } = find_for(conn, actor, id, Action::ViewAssessment)?;
    let rows = score_sheets_of(conn, id)?;
    sheets_view(actor, &row, &rows)
}

/// The sheets view of an assessment a list already read with its sheets: reads nothing.
pub fn sheets_view_of(actor: &Actor, loaded: &crate::db::assessments::ListRow<ScoreSheetRow>) -> AppResult<SheetsView> {
    sheets_view(actor, &loaded.row, &loaded.sheets)
}

fn sheets_view(actor: &Actor, row: &AssessmentRow, rows: &[ScoreSheetRow]) -> AppResult<SheetsView> {
    let seats = seated(&seating_of(row)?, row);
    let submitted = |user: &str| rows.iter().any(|s| s.user_id == user && s.submitted_at.is_some());
    let all_submitted = seats.iter().all(|(_, u)| u.as_deref().is_some_and(submitted));
    let mut sheets = Vec::new();
    for (seat, user) in seats.into_iter().filter_map(|(seat, user)| Some((seat, user?))) {
        let sheet = rows.iter().find(|s| s.user_id == user);
        let open = all_submitted || user == actor.id;
        let scores = match (sheet, open) {
            (Some(s), true) => {
                Some(serde_json::from_str(&s.scores_json).map_err(|e| anyhow::anyhow!("stored sheet: {e}"))?)
            }
            _ => None,
        };
        sheets.push(SheetView {
            role: seat.as_str(),
            user_id: user,
            submitted: sheet.is_some_and(|s| s.submitted_at.is_some()),
            submitted_at: sheet.and_then(|s| s.submitted_at.clone()),
            scores,
        });
    }
    let own_version = rows.iter().find(|s| s.user_id == actor.id).map_or(0, |s| s.version);
    Ok(SheetsView { all_submitted, own_version, sheets })
}

/// The submitted sheets of the seats that score, with the panel's seating, of an assessment in
/// `consensus` or later.
pub(super) fn panel_sheets(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<(Seating, Vec<(Seat, Sheet)>)> {
    let rows = score_sheets_of(conn, &row.id)?;
    let seating = seating_of(row)?;
    let incomplete =
        || AppError::conflict(ErrorCode::SheetsIncomplete, "not every panel member has submitted a score sheet");
    let mut sheets = Vec::new();
    for (seat, user) in seated(&seating, row) {
        let user = user.ok_or_else(incomplete)?;
        let sheet = rows.iter().find(|s| s.user_id == user && s.submitted_at.is_some()).ok_or_else(incomplete)?;
        sheets.push((seat, read_sheet(sheet)?));
    }
    Ok((seating, sheets))
}

pub(super) fn as_panel(panel: &(Seating, Vec<(Seat, Sheet)>)) -> PanelSheets<'_> {
    PanelSheets {
        sheets: panel.1.iter().map(|(seat, sheet)| (*seat, sheet)).collect(),
        tie_breaker: panel.0.tie_breaker,
    }
}

/// One score of a stored sheet as the reports read it: its text borrowed from the stored JSON
/// (copied only where the JSON escapes a character), its comment skipped.
#[derive(Debug, Deserialize)]
struct SheetScore<'a> {
    #[serde(borrow)]
    component: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    criterion: std::borrow::Cow<'a, str>,
    score: i32,
}

/// A stored sheet's scores as the reports read them (as `read_sheet` does, without building the
/// sheet), looked up item by item in the guide's order.
#[derive(Debug)]
pub struct SheetScores<'a> {
    /// In the order stored: the guide's.
    scores: Vec<SheetScore<'a>>,
    /// Where the next lookup looks first: just past the last score found.
    next: usize,
}

impl<'a> SheetScores<'a> {
    pub fn read(scores_json: &'a str) -> AppResult<Self> {
        let scores =
            serde_json::from_str(scores_json).map_err(|e| anyhow::anyhow!("stored score sheet is unreadable: {e}"))?;
        Ok(SheetScores { scores, next: 0 })
    }

    /// The score this sheet gives `(component, criterion)`, if it scores it. Asked in the guide's
    /// order (as a decision lists its items), each lookup finds its score at the first place
    /// it looks.
    pub fn score_of(&mut self, component: &str, criterion: &str) -> Option<i32> {
        let is = |s: &SheetScore<'_>| s.component == component && s.criterion == criterion;
        let at = match self.scores.get(self.next) {
            Some(s) if is(s) => self.next,
            _ => self.scores.iter().position(is)?,
        };
        self.next = at + 1;
        Some(self.scores[at].score)
    }
}
