//! The decision: the grade and weighted score that the sheets and the consensus resolve to.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::guide::Guide;
use crate::domain::permissions::Action;
use crate::domain::scoring::{self, Decision};
use crate::domain::workflow::Event;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_text, Actor, Input};

use super::{
    as_panel, attempt_of, graded, guide_of, kept_now, panel_sheets, parse_stored, to_json, viva_record_required,
    StoredConsensus, StoredVivaRecord, NOTE_MAX,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
    let kept = kept_now(conn, row)?;
    let items = scoring::resolve_with(guide, &as_panel(&sheets), &consensus, &kept).map_err(|e| {
        AppError::conflict(
            ErrorCode::ConsensusIncomplete,
            format!("the consensus does not resolve every disagreement yet: {e}"),
        )
        .with_items(e.fault.items)
    })?;
    graded(guide, row, scoring::decide(guide, items))
}

pub fn decide(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<DecisionInput>,
) -> AppResult<Decision> {
    change(conn, actor, id, Action::Decide, input, |Change { conn, row, status, body: input, .. }| {
        check_text("notes", &input.notes, NOTE_MAX)?;
        let next = status.after(Event::Decided)?;
        let guide = guide_of(conn, guides, row)?;
        let viva: Option<StoredVivaRecord> = parse_stored("viva record", &row.viva_record_json)?;
        if viva_record_required(&guide, attempt_of(row)?.as_ref()) && viva.is_none_or(|v| v.questions.is_empty()) {
            return Err(AppError::conflict(
                ErrorCode::VivaRecordRequired,
                "record the viva's questions and responses before the decision",
            ));
        }
        let mut decision = resolve_decision(conn, &guide, row)?;
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
        row.status = next.as_str().to_string();
        let mut detail =
            json!({"grade": decision.grade, "weighted_score": decision.weighted_score, "notes": stored.notes});
        if let Some(uncapped) = &decision.uncapped_grade {
            detail["uncapped_grade"] = json!(uncapped);
        }
        Ok(Done::saved(decision, "decision.recorded", detail))
    })
}

pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
