//! One apprentice's EPA from registration to released outcome: gateway, panel, declaration, viva
//! record, sealed score sheets, consensus, decision and moderation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::standards::Guides;
use super::views::{self, AssessmentView};
use super::{audit, check_length, check_optional, check_text, transaction, Actor, Input};
use crate::db::models::*;
use crate::db::schema::{assessments, moderations, outbox, score_sheets};
use crate::db::{format_time, new_id, now, DbConnection};
use crate::domain::assessment::{
    Declaration, GatewayAnswers, KnowledgeRoute, ModerationAction, Status, VivaMode, VivaQuestion,
};
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{can_see, may, Action, Role, Seat};
use crate::domain::scoring::{self, Consensus, ConsensusItem, Decision, PanelSheets, ScoreInput, Sheet};
use crate::domain::workflow::DeclarationState;
use crate::error::{AppError, AppResult};
use crate::mail::Composer;

const NOTE_MAX: usize = 20_000;

/// An assessment as found for one caller, with the caller's seat on its panel.
pub struct Found {
    pub row: AssessmentRow,
    pub seat: Option<Seat>,
    pub status: Status,
}

pub fn seat_of(row: &AssessmentRow, user_id: &str) -> Option<Seat> {
    super::views::panel_of(row).seat_of(user_id)
}

/// Finds the assessment for `actor` and checks they may do `action`: 404 when it does not exist
/// or is not theirs to see, then 403 when they may see it but not do this.
///
/// For a change (any action but viewing) the assessment's row is locked first, so concurrent
/// changes to one assessment run one after the other: without it, three members submitting at
/// once on PostgreSQL could each see the others' sheets unsubmitted, and none would move the
/// assessment on to consensus. (SQLite has a single writer already.)
pub fn find_for(conn: &mut DbConnection, actor: &Actor, id: &str, action: Action) -> AppResult<Found> {
    if !matches!(action, Action::ViewAssessment | Action::ViewAudit | Action::ViewReports) {
        lock_assessment(conn, id)?;
    }
    let row = find_assessment(conn, id)?.ok_or_else(|| AppError::not_found("assessment"))?;
    let seat = seat_of(&row, &actor.id);
    if !can_see(actor.role, seat) {
        return Err(AppError::not_found("assessment"));
    }
    if !may(actor.role, seat, action) {
        return Err(AppError::forbidden(forbidden_message(action)));
    }
    let status = row.status.parse().map_err(|e: String| anyhow::anyhow!("assessment {id}: {e}"))?;
    Ok(Found { row, seat, status })
}

fn lock_assessment(conn: &mut DbConnection, id: &str) -> AppResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        assessments::table.find(id).select(assessments::id).for_update().load::<String>(pg)?;
    }
    Ok(())
}

fn forbidden_message(action: Action) -> &'static str {
    match action {
        Action::RecordGateway => {
            "only the assessment's line manager, its training provider or an admin may confirm the gateway"
        }
        Action::AppointPanel | Action::Administer => "only an admin of the assessment body may do this",
        Action::Declare => "only the appointed independent assessor declares independence",
        Action::RecordViva | Action::Score => "only the panel's members may do this",
        Action::RecordConsensus | Action::Decide => {
            "only the independent assessor records the consensus and the decision"
        }
        Action::Moderate => "only a moderator who is not on this panel may moderate",
        Action::ViewAssessment | Action::ViewAudit => "you may not see this assessment",
        Action::ViewReports => "only assessment-body staff may run reports",
    }
}

fn guide_of(conn: &mut DbConnection, guides: &Guides, row: &AssessmentRow) -> AppResult<std::sync::Arc<Guide>> {
    guides
        .get(conn, &row.standard_id, &row.standard_version)?
        .ok_or_else(|| anyhow::anyhow!("assessment {} names a missing standard version", row.id).into())
}

pub(super) fn parse_stored<T: serde::de::DeserializeOwned>(what: &str, text: &Option<String>) -> AppResult<Option<T>> {
    text.as_deref()
        .map(|t| serde_json::from_str(t).map_err(|e| anyhow::anyhow!("stored {what} is unreadable: {e}").into()))
        .transpose()
}

#[expect(clippy::expect_used, reason = "our own plain data (no maps with non-string keys) always serialises")]
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serialises")
}

/// Parses an RFC 3339 time and returns it in the stored UTC form.
fn parse_time(field: &str, text: &str) -> AppResult<String> {
    DateTime::parse_from_rfc3339(text).map(|t| format_time(t.with_timezone(&Utc))).map_err(|_| {
        AppError::bad_input(
            "invalid_time",
            format!("{field}: {text:?} is not an RFC 3339 time such as 2026-12-01T10:00:00Z"),
        )
    })
}

// ---- registration

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    pub apprentice_id: String,
    pub standard_id: String,
    pub line_manager_id: String,
    pub training_provider_user_id: String,
}

/// Checks that `user_id` names a user who may take `seat`.
fn seat_holder(conn: &mut DbConnection, field: &str, user_id: &str, seat: Seat) -> AppResult<User> {
    let user = find_user(conn, user_id)?
        .filter(|u| u.revoked_at.is_none())
        .ok_or_else(|| AppError::bad_input("unknown_user", format!("{field}: no user {user_id:?}")))?;
    if user.role != seat.role().as_str() {
        return Err(AppError::bad_input(
            "wrong_role",
            format!("{field}: {} is a {}, not a {}", user.name, user.role, seat.role().as_str()),
        ));
    }
    Ok(user)
}

pub fn register(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    input: Input<NewAssessment>,
) -> AppResult<AssessmentRow> {
    if actor.role != Role::Admin {
        return Err(AppError::forbidden(forbidden_message(Action::Administer)));
    }
    let input = input.body?;
    transaction(conn, |conn| {
        if find_apprentice(conn, &input.apprentice_id)?.is_none() {
            return Err(AppError::bad_input(
                "unknown_apprentice",
                format!("apprentice_id: no apprentice {:?}", input.apprentice_id),
            ));
        }
        let guide = guides.latest(conn, &input.standard_id)?.ok_or_else(|| {
            AppError::bad_input("unknown_standard", format!("standard_id: no standard {:?}", input.standard_id))
        })?;
        seat_holder(conn, "line_manager_id", &input.line_manager_id, Seat::LineManager)?;
        seat_holder(conn, "training_provider_user_id", &input.training_provider_user_id, Seat::TrainingProvider)?;
        let at = now();
        let row = AssessmentRow {
            id: new_id(),
            apprentice_id: input.apprentice_id.clone(),
            standard_id: guide.id.clone(),
            standard_version: guide.version.clone(),
            status: Status::Registered.as_str().to_string(),
            line_manager_id: input.line_manager_id.clone(),
            training_provider_user_id: input.training_provider_user_id.clone(),
            independent_assessor_id: None,
            viva_at: None,
            viva_mode: None,
            gateway_json: None,
            declaration_json: None,
            viva_record_json: None,
            consensus_json: None,
            decision_json: None,
            grade: None,
            weighted_score: None,
            decided_at: None,
            released_at: None,
            version: 1,
            created_at: at.clone(),
            updated_at: at,
        };
        diesel::insert_into(assessments::table).values(&row).execute(conn)?;
        audit(
            conn,
            Some(&row.id),
            Some(actor),
            "assessment.registered",
            json!({"apprentice_id": row.apprentice_id, "standard_id": row.standard_id, "standard_version": row.standard_version,
                   "line_manager_id": row.line_manager_id, "training_provider_user_id": row.training_provider_user_id}),
        )?;
        Ok(row)
    })
}

// ---- gateway

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayInput {
    pub portfolio_complete: bool,
    #[serde(default)]
    pub knowledge_route: Option<String>,
    #[serde(default)]
    pub knowledge_reference: Option<String>,
    /// Optional: the units achieved of the qualification the reference names, when the guide
    /// maps that qualification; the knowledge areas they leave uncovered are shown as gaps.
    #[serde(default)]
    pub knowledge_units: Option<Vec<String>>,
    pub english_level2: bool,
    pub maths_level2: bool,
    pub employer_ready: bool,
    pub provider_ready: bool,
}

/// Who last confirmed (or changed) a gateway check, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confirmation {
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGateway {
    pub answers: GatewayAnswers,
    pub confirmations: BTreeMap<String, Confirmation>,
    /// The knowledge criteria the named qualification's achieved units do not cover (where the
    /// viva should probe); None when that cannot be told (no mapped qualification or no units).
    #[serde(default)]
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnowledgeGap {
    pub criterion: String,
    pub area: String,
}

#[derive(Debug, Serialize)]
pub struct GatewayOutcome {
    pub status: Status,
    pub unmet: Vec<&'static str>,
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
}

/// Checks the achieved units against the qualification the reference names, and works out the
/// knowledge they leave uncovered.
fn knowledge_gaps(guide: &Guide, answers: &GatewayAnswers) -> AppResult<Option<Vec<KnowledgeGap>>> {
    if answers.knowledge_units.is_empty() {
        return Ok(None);
    }
    if answers.knowledge_route != Some(KnowledgeRoute::Qualification) {
        return Err(AppError::bad_input(
            "knowledge_units_without_qualification",
            "knowledge_units: units are given only when the knowledge was shown by a regulated qualification",
        ));
    }
    let reference = answers.knowledge_reference.as_deref().unwrap_or_default();
    let Some(qualification) = guide.qualification_named_in(reference) else {
        let known: Vec<&str> = guide.qualifications.iter().map(|q| q.reference.as_str()).collect();
        return Err(AppError::bad_input(
            "unknown_qualification",
            format!(
                "knowledge_units: the knowledge_reference names no qualification this standard maps (it knows: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ),
        ));
    };
    let gaps = qualification.knowledge_gaps(guide, &answers.knowledge_units).map_err(|unit| {
        AppError::bad_input(
            "unknown_unit",
            format!("knowledge_units: {unit:?} is not a unit of {}", qualification.title),
        )
    })?;
    Ok(Some(gaps.into_iter().map(|c| KnowledgeGap { criterion: c.id.clone(), area: c.area.clone() }).collect()))
}

pub fn record_gateway(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<GatewayInput>,
) -> AppResult<GatewayOutcome> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::RecordGateway)?;
        input.precondition(row.version)?;
        let input = input.body?;
        let knowledge_route = input.knowledge_route.as_deref().map(KnowledgeRoute::parse).transpose()?;
        check_optional("knowledge_reference", input.knowledge_reference.as_deref(), 500)?;
        let answers = GatewayAnswers {
            portfolio_complete: input.portfolio_complete,
            knowledge_route,
            knowledge_reference: input.knowledge_reference.map(|r| r.trim().to_string()),
            knowledge_units: input.knowledge_units.unwrap_or_default(),
            english_level2: input.english_level2,
            maths_level2: input.maths_level2,
            employer_ready: input.employer_ready,
            provider_ready: input.provider_ready,
        };
        if answers.knowledge_units.len() > 100 {
            return Err(AppError::bad_input("too_many", "knowledge_units: at most 100"));
        }
        let guide = guide_of(conn, guides, &row)?;
        let gaps = knowledge_gaps(&guide, &answers)?;
        status.require("confirming the gateway", &[Status::Registered, Status::GatewayPassed])?;
        let before: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
        let changed = answers.changed_from(before.as_ref().map(|b| &b.answers));
        let mut confirmations = before.map(|b| b.confirmations).unwrap_or_default();
        let at = now();
        for field in &changed {
            confirmations.insert(field.to_string(), Confirmation { by: actor.id.clone(), at: at.clone() });
        }
        let unmet = answers.unmet();
        let next = answers.status();
        let detail =
            json!({"answers": answers, "changed": changed, "unmet": unmet, "status": next, "knowledge_gaps": gaps});
        row.gateway_json = Some(to_json(&StoredGateway { answers, confirmations, knowledge_gaps: gaps.clone() }));
        row.status = next.as_str().to_string();
        save_assessment(conn, &mut row)?;
        audit(conn, Some(id), Some(actor), "gateway.recorded", detail)?;
        Ok(GatewayOutcome { status: next, unmet, knowledge_gaps: gaps })
    })
}

// ---- panel, declaration, viva record

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelInput {
    pub independent_assessor_id: String,
    pub viva_at: String,
    pub mode: String,
}

pub fn appoint_panel(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    input: Input<PanelInput>,
) -> AppResult<AssessmentRow> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::AppointPanel)?;
        input.precondition(row.version)?;
        let input = input.body?;
        let viva_at = parse_time("viva_at", &input.viva_at)?;
        let mode = VivaMode::parse(&input.mode)?;
        let assessor =
            seat_holder(conn, "independent_assessor_id", &input.independent_assessor_id, Seat::IndependentAssessor)?;
        status.require("appointing the panel", &[Status::GatewayPassed, Status::Scheduled])?;
        if status == Status::Scheduled {
            let submitted = score_sheets_of(conn, id)?.iter().any(|s| s.submitted_at.is_some());
            if submitted {
                return Err(AppError::conflict(
                    "sheets_submitted",
                    "the panel cannot be changed once a score sheet has been submitted",
                ));
            }
        }
        let apprentice = find_apprentice(conn, &row.apprentice_id)?
            .ok_or_else(|| anyhow::anyhow!("assessment {id} has no apprentice"))?;
        if let Some(org) = assessor.organisation_id.as_deref() {
            if org == apprentice.employer_id || org == apprentice.training_provider_id {
                return Err(AppError::conflict(
                    "conflict_of_interest",
                    format!("independent_assessor_id: {} works for the apprentice's employer or training provider and cannot be independent", assessor.name),
                ));
            }
        }
        let changed_assessor = row.independent_assessor_id.as_deref() != Some(assessor.id.as_str());
        if changed_assessor {
            // A new assessor makes a new declaration.
            row.declaration_json = None;
        }
        row.independent_assessor_id = Some(assessor.id.clone());
        row.viva_at = Some(viva_at.clone());
        row.viva_mode = Some(mode.as_str().to_string());
        row.status = Status::Scheduled.as_str().to_string();
        save_assessment(conn, &mut row)?;
        audit(
            conn,
            Some(id),
            Some(actor),
            "panel.appointed",
            json!({"independent_assessor_id": assessor.id, "viva_at": viva_at, "mode": mode, "reappointment": status == Status::Scheduled}),
        )?;
        Ok(row)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationInput {
    pub no_prior_involvement: bool,
    pub conflicts: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDeclaration {
    pub no_prior_involvement: bool,
    pub conflicts: String,
    pub holds: bool,
    pub by: String,
    pub at: String,
}

pub fn declare(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    input: Input<DeclarationInput>,
) -> AppResult<StoredDeclaration> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::Declare)?;
        input.precondition(row.version)?;
        let input = input.body?;
        check_text("conflicts", &input.conflicts, 2000)?;
        status.require("declaring independence", &[Status::Scheduled])?;
        let before: Option<StoredDeclaration> = parse_stored("declaration", &row.declaration_json)?;
        if before.is_some_and(|d| !d.holds && d.by == actor.id) {
            // A declared conflict stands: only another assessor's appointment lifts it.
            return Err(AppError::conflict(
                "declaration_blocked",
                "you have declared prior involvement or a conflict of interest on this EPA; the assessment body must appoint another independent assessor",
            ));
        }
        let declaration = Declaration {
            no_prior_involvement: input.no_prior_involvement,
            conflicts: input.conflicts.trim().to_string(),
        };
        let stored = StoredDeclaration {
            holds: declaration.holds(),
            no_prior_involvement: declaration.no_prior_involvement,
            conflicts: declaration.conflicts,
            by: actor.id.clone(),
            at: now(),
        };
        row.declaration_json = Some(to_json(&stored));
        save_assessment(conn, &mut row)?;
        audit(
            conn,
            Some(id),
            Some(actor),
            "declaration.recorded",
            json!({"no_prior_involvement": stored.no_prior_involvement, "conflicts": stored.conflicts, "holds": stored.holds}),
        )?;
        Ok(stored)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VivaRecordInput {
    pub questions: Vec<VivaQuestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredVivaRecord {
    pub questions: Vec<VivaQuestion>,
    pub by: String,
    pub at: String,
}

pub fn record_viva(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    input: Input<VivaRecordInput>,
) -> AppResult<StoredVivaRecord> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::RecordViva)?;
        input.precondition(row.version)?;
        let input = input.body?;
        if input.questions.len() > 500 {
            return Err(AppError::bad_input("too_many", "questions: at most 500"));
        }
        for (i, q) in input.questions.iter().enumerate() {
            check_text(&format!("questions[{i}].question"), &q.question, 4000)?;
            check_length(&format!("questions[{i}].response"), &q.response, NOTE_MAX)?;
        }
        status.require("recording the viva", &[Status::Scheduled, Status::Consensus])?;
        let record = StoredVivaRecord { questions: input.questions, by: actor.id.clone(), at: now() };
        row.viva_record_json = Some(to_json(&record));
        save_assessment(conn, &mut row)?;
        audit(conn, Some(id), Some(actor), "viva_record.saved", json!({"questions": record.questions.len()}))?;
        Ok(record)
    })
}

fn declaration_holds(row: &AssessmentRow) -> AppResult<bool> {
    Ok(super::views::declaration_state(row)? == DeclarationState::Holds)
}

// ---- score sheets

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreItemInput {
    pub component: String,
    pub criterion: String,
    pub score: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresInput {
    pub scores: Vec<ScoreItemInput>,
    #[serde(default)]
    pub submit: bool,
}

#[derive(Debug, Serialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The seated members' user ids, seat by seat.
fn seated(row: &AssessmentRow) -> Vec<(Seat, String)> {
    let mut out = vec![
        (Seat::LineManager, row.line_manager_id.clone()),
        (Seat::TrainingProvider, row.training_provider_user_id.clone()),
    ];
    if let Some(ia) = &row.independent_assessor_id {
        out.push((Seat::IndependentAssessor, ia.clone()));
    }
    out
}

pub fn save_scores(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<ScoresInput>,
) -> AppResult<SheetState> {
    transaction(conn, |conn| {
        let Found { mut row, status, seat } = find_for(conn, actor, id, Action::Score)?;
        let sheets = score_sheets_of(conn, id)?;
        let existing = sheets.iter().find(|s| s.user_id == actor.id);
        input.precondition(existing.map_or(0, |s| s.version))?;
        let input = input.body?;
        let guide = guide_of(conn, guides, &row)?;
        if input.scores.len() > 10_000 {
            return Err(AppError::bad_input("too_many", "scores: too many items"));
        }
        let scores: Vec<ScoreInput> = input
            .scores
            .into_iter()
            .map(|s| ScoreInput { key: ItemKey::new(s.component, s.criterion), score: s.score, comment: s.comment })
            .collect();
        for (i, s) in scores.iter().enumerate() {
            check_optional(&format!("scores[{i}].comment"), s.comment.as_deref(), 4000)?;
        }
        scoring::check_scores(&guide, &scores)?;
        status.require("scoring", &[Status::Scheduled])?;
        if !declaration_holds(&row)? {
            return Err(AppError::conflict(
                "declaration_required",
                "scores can be saved only once the independent assessor has declared no prior involvement and no conflict of interest",
            ));
        }
        let seat = seat.ok_or_else(|| anyhow::anyhow!("a scorer without a seat"))?;
        if existing.is_some_and(|s| s.submitted_at.is_some()) {
            return Err(AppError::conflict("sheet_submitted", "your score sheet is submitted and final"));
        }
        let mut sheet = existing.map(read_sheet).transpose()?.unwrap_or_default();
        let saved = scores.len();
        scoring::merge_scores(&mut sheet, scores);
        let missing = scoring::missing_items(&guide, &sheet);
        if input.submit && !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(AppError::bad_input(
                "incomplete_sheet",
                format!("scores: {} item(s) still to score before submitting: {}", missing.len(), names.join(", ")),
            ));
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
        if input.submit {
            let all_submitted = seated(&row).iter().all(|(_, user)| {
                *user == actor.id || sheets.iter().any(|s| s.user_id == *user && s.submitted_at.is_some())
            });
            if all_submitted && row.independent_assessor_id.is_some() {
                row.status = Status::Consensus.as_str().to_string();
                save_assessment(conn, &mut row)?;
                detail["status"] = json!(Status::Consensus);
            }
        }
        audit(
            conn,
            Some(id),
            Some(actor),
            if input.submit { "score_sheet.submitted" } else { "score_sheet.saved" },
            detail,
        )?;
        Ok(SheetState { submitted: input.submit, missing, version: new_row.version })
    })
}

#[derive(Debug, Serialize)]
pub struct SheetView {
    pub role: &'static str,
    pub user_id: String,
    pub submitted: bool,
    pub submitted_at: Option<String>,
    pub scores: Option<Vec<StoredScore>>,
}

#[derive(Debug, Serialize)]
pub struct SheetsView {
    pub all_submitted: bool,
    /// The version of the caller's own sheet (0 before the first save): its `ETag`.
    pub own_version: i64,
    pub sheets: Vec<SheetView>,
}

/// The panel's sheets as `actor` may see them: sealed (scores null) until all three are
/// submitted, except the caller's own.
pub fn view_sheets(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<SheetsView> {
    let Found { row, .. } = find_for(conn, actor, id, Action::ViewAssessment)?;
    let rows = score_sheets_of(conn, id)?;
    let seats = seated(&row);
    let submitted = |user: &str| rows.iter().any(|s| s.user_id == user && s.submitted_at.is_some());
    let all_submitted = seats.len() == 3 && seats.iter().all(|(_, u)| submitted(u));
    let mut sheets = Vec::new();
    for (seat, user) in seats {
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

/// The three submitted sheets of an assessment in `consensus` or later.
fn panel_sheets(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<[Sheet; 3]> {
    let rows = score_sheets_of(conn, &row.id)?;
    let sheet_of = |user: &str| -> AppResult<Sheet> {
        rows.iter().find(|s| s.user_id == user && s.submitted_at.is_some()).map(read_sheet).transpose()?.ok_or_else(
            || AppError::conflict("sheets_incomplete", "not every panel member has submitted a score sheet"),
        )
    };
    let ia = row.independent_assessor_id.as_deref().unwrap_or_default();
    Ok([sheet_of(&row.line_manager_id)?, sheet_of(&row.training_provider_user_id)?, sheet_of(ia)?])
}

fn as_panel(sheets: &[Sheet; 3]) -> PanelSheets<'_> {
    PanelSheets { line_manager: &sheets[0], training_provider: &sheets[1], independent_assessor: &sheets[2] }
}

// ---- consensus and decision

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusInput {
    pub items: Vec<ConsensusItemInput>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusItemInput {
    pub component: String,
    pub criterion: String,
    pub agreed_score: Option<i32>,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredConsensus {
    #[serde(flatten)]
    pub consensus: Consensus,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct ConsensusOutcome {
    pub items: Vec<scoring::AgreedItem>,
    pub disagreements: Vec<ItemKey>,
}

pub fn record_consensus(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<ConsensusInput>,
) -> AppResult<ConsensusOutcome> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::RecordConsensus)?;
        input.precondition(row.version)?;
        let input = input.body?;
        check_length("notes", &input.notes, NOTE_MAX)?;
        for (i, item) in input.items.iter().enumerate() {
            check_length(&format!("items[{i}].rationale"), &item.rationale, 4000)?;
        }
        let consensus = Consensus {
            items: input
                .items
                .into_iter()
                .map(|i| ConsensusItem {
                    component: i.component,
                    criterion: i.criterion,
                    agreed_score: i.agreed_score,
                    rationale: i.rationale.trim().to_string(),
                })
                .collect(),
            notes: input.notes.trim().to_string(),
        };
        let guide = guide_of(conn, guides, &row)?;
        scoring::check_consensus_items(&guide, &consensus)?;
        status.require("recording the consensus", &[Status::Consensus])?;
        let sheets = panel_sheets(conn, &row)?;
        let items = scoring::resolve(&guide, &as_panel(&sheets), &consensus)?;
        let disagreements = scoring::disagreements(&guide, &as_panel(&sheets));
        let detail = json!({"items": consensus.items, "notes": consensus.notes});
        row.consensus_json = Some(to_json(&StoredConsensus { consensus, by: actor.id.clone(), at: now() }));
        save_assessment(conn, &mut row)?;
        audit(conn, Some(id), Some(actor), "consensus.recorded", detail)?;
        Ok(ConsensusOutcome { items, disagreements })
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDecision {
    #[serde(flatten)]
    pub decision: Decision,
    pub notes: String,
    pub by: String,
    pub at: String,
}

/// What the panel would decide now (for the decision page's preview and for `decide`).
pub fn resolve_decision(conn: &mut DbConnection, guide: &Guide, row: &AssessmentRow) -> AppResult<Decision> {
    let sheets = panel_sheets(conn, row)?;
    let stored: Option<StoredConsensus> = parse_stored("consensus", &row.consensus_json)?;
    let consensus = stored.map(|s| s.consensus).unwrap_or_default();
    let items = scoring::resolve(guide, &as_panel(&sheets), &consensus).map_err(|e| {
        AppError::conflict(
            "consensus_incomplete",
            format!("the consensus does not resolve every disagreement yet: {}", e.message),
        )
    })?;
    Ok(scoring::decide(guide, items))
}

pub fn decide(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<DecisionInput>,
) -> AppResult<Decision> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::Decide)?;
        input.precondition(row.version)?;
        let input = input.body?;
        check_text("notes", &input.notes, NOTE_MAX)?;
        status.require("recording the decision", &[Status::Consensus])?;
        let viva: Option<StoredVivaRecord> = parse_stored("viva record", &row.viva_record_json)?;
        if viva.is_none_or(|v| v.questions.is_empty()) {
            return Err(AppError::conflict(
                "viva_record_required",
                "record the viva's questions and responses before the decision",
            ));
        }
        let guide = guide_of(conn, guides, &row)?;
        let mut decision = resolve_decision(conn, &guide, &row)?;
        decision.weighted_score = round4(decision.weighted_score);
        let at = now();
        let stored = StoredDecision {
            decision: decision.clone(),
            notes: input.notes.trim().to_string(),
            by: actor.id.clone(),
            at: at.clone(),
        };
        row.decision_json = Some(to_json(&stored));
        row.grade = Some(decision.grade.clone());
        row.weighted_score = Some(decision.weighted_score);
        row.decided_at = Some(at);
        row.status = Status::Decided.as_str().to_string();
        save_assessment(conn, &mut row)?;
        audit(
            conn,
            Some(id),
            Some(actor),
            "decision.recorded",
            json!({"grade": decision.grade, "weighted_score": decision.weighted_score, "notes": stored.notes}),
        )?;
        Ok(decision)
    })
}

pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

// ---- moderation and release

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    pub action: String,
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Serialize)]
pub struct ModerationOutcome {
    pub status: Status,
    pub action: ModerationAction,
}

pub fn moderate(
    conn: &mut DbConnection,
    guides: &Guides,
    composer: &Composer,
    actor: &Actor,
    id: &str,
    input: Input<ModerationInput>,
) -> AppResult<ModerationOutcome> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::Moderate)?;
        input.precondition(row.version)?;
        let input = input.body?;
        let action = ModerationAction::parse(&input.action)?;
        if action == ModerationAction::ReferBack {
            check_text("rationale", &input.rationale, NOTE_MAX)?;
        } else {
            check_length("rationale", &input.rationale, NOTE_MAX)?;
        }
        status.require("moderation", &[Status::Decided])?;
        let at = now();
        let moderation = ModerationRow {
            id: new_id(),
            assessment_id: id.to_string(),
            moderator_id: actor.id.clone(),
            action: action.as_str().to_string(),
            rationale: input.rationale.trim().to_string(),
            decision_json: row.decision_json.clone().unwrap_or_else(|| "null".into()),
            at: at.clone(),
        };
        diesel::insert_into(moderations::table).values(&moderation).execute(conn)?;
        let next = action.next_status();
        let mut detail = json!({"action": action, "rationale": moderation.rationale, "grade": row.grade});
        match action {
            ModerationAction::Confirm => {
                row.released_at = Some(at);
                let guide = guide_of(conn, guides, &row)?;
                let queued = queue_outcome_emails(conn, composer, &guide, &row)?;
                detail["emails_queued"] = json!(queued);
            }
            ModerationAction::ReferBack => {
                row.decision_json = None;
                row.grade = None;
                row.weighted_score = None;
                row.decided_at = None;
            }
        }
        row.status = next.as_str().to_string();
        save_assessment(conn, &mut row)?;
        audit(conn, Some(id), Some(actor), &format!("moderation.{}", action.as_str()), detail)?;
        Ok(ModerationOutcome { status: next, action })
    })
}

/// Queues one outcome email per recipient (apprentice, line manager, training provider) in the
/// outbox, in the caller's transaction; the mail worker sends them.
fn queue_outcome_emails(
    conn: &mut DbConnection,
    composer: &Composer,
    guide: &Guide,
    row: &AssessmentRow,
) -> AppResult<usize> {
    let apprentice =
        find_apprentice(conn, &row.apprentice_id)?.ok_or_else(|| anyhow::anyhow!("assessment without apprentice"))?;
    let lm =
        find_user(conn, &row.line_manager_id)?.ok_or_else(|| anyhow::anyhow!("assessment without line manager"))?;
    let tp = find_user(conn, &row.training_provider_user_id)?
        .ok_or_else(|| anyhow::anyhow!("assessment without provider"))?;
    let grade = row.grade.clone().unwrap_or_default();
    let recipients = [
        ("apprentice", apprentice.name.as_str(), apprentice.email.as_str()),
        ("line_manager", lm.name.as_str(), lm.email.as_str()),
        ("training_provider", tp.name.as_str(), tp.email.as_str()),
    ];
    let at = now();
    let body = match composer.configured_body() {
        Some(_) => None,
        None => sole_assessment_body(conn)?,
    };
    for (role, name, email) in recipients {
        let outcome = crate::mail::Outcome {
            recipient_name: name,
            recipient_role: role,
            apprentice_name: &apprentice.name,
            standard_title: &guide.title,
            standard_level: guide.level,
            grade: &grade,
            achieved: guide.grading.grades.first().is_none_or(|lowest| lowest.name != grade),
            released_at: row.released_at.as_deref().unwrap_or(&at),
            assessment_body: body.as_deref(),
        };
        let rendered =
            composer.render_outcome(&outcome).map_err(|e| anyhow::anyhow!("outcome email template: {e:#}"))?;
        let id = new_id();
        let message = OutboxRow {
            message_id: composer.message_id(&id),
            id,
            assessment_id: row.id.clone(),
            recipient: email.to_string(),
            recipient_role: role.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at.clone(),
            locked_until: None,
            last_error: None,
            created_at: at.clone(),
            sent_at: None,
        };
        diesel::insert_into(outbox::table).values(&message).execute(conn)?;
    }
    Ok(recipients.len())
}

/// Puts an assessment's failed outcome emails back in the queue (admin), once the mail problem
/// has been put right. Returns how many were re-queued.
pub fn resend_failed_emails(conn: &mut DbConnection, actor: &Actor, id: &str, input: Input<()>) -> AppResult<usize> {
    transaction(conn, |conn| {
        let Found { row, .. } = find_for(conn, actor, id, Action::Administer)?;
        input.precondition(row.version)?;
        let failed = outbox::table.filter(outbox::assessment_id.eq(id)).filter(outbox::status.eq("failed"));
        let n = diesel::update(failed)
            .set((
                outbox::status.eq("pending"),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now()),
                outbox::locked_until.eq(None::<String>),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AppError::conflict("nothing_to_resend", "no outcome email of this assessment has failed"));
        }
        audit(conn, Some(id), Some(actor), "emails.requeued", json!({"emails": n}))?;
        Ok(n)
    })
}

// ---- reading

/// The assessment as the contract's `GET /assessments/{id}` shows it to `actor`, with its
/// version (for the `ETag`).
pub fn view(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<(i64, AssessmentView)> {
    let found = find_for(conn, actor, id, Action::ViewAssessment)?;
    Ok((found.row.version, views::assessment(conn, actor, &found.row)?))
}

/// The assessments `actor` may see, newest first.
pub fn list(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<AssessmentView>> {
    let mut query = assessments::table.into_boxed();
    if !actor.role.is_staff() {
        query = query.filter(
            assessments::line_manager_id
                .eq(actor.id.clone())
                .or(assessments::training_provider_user_id.eq(actor.id.clone()))
                .or(assessments::independent_assessor_id.eq(actor.id.clone())),
        );
    }
    let rows: Vec<AssessmentRow> =
        query.order(assessments::created_at.desc()).select(AssessmentRow::as_select()).load(conn)?;
    rows.iter().map(|r| views::assessment(conn, actor, r)).collect()
}

#[derive(Debug, Serialize)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: Value,
}

pub fn audit_trail(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<Vec<AuditView>> {
    find_for(conn, actor, id, Action::ViewAudit)?;
    Ok(audit_of(conn, id)?
        .into_iter()
        .map(|e| AuditView {
            seq: e.seq,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        })
        .collect())
}

/// The sheets of one assessment for reports: (seat, user id, sheet).
pub fn submitted_sheets(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<(String, ScoreSheetRow, Sheet)>> {
    let rows: Vec<ScoreSheetRow> = score_sheets::table
        .filter(score_sheets::assessment_id.eq_any(ids))
        .filter(score_sheets::submitted_at.is_not_null())
        .select(ScoreSheetRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let sheet = read_sheet(&r)?;
            Ok((r.assessment_id.clone(), r, sheet))
        })
        .collect()
}
