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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredDecision {
    #[serde(flatten)]
    pub decision: Decision,
    pub notes: String,
    pub by: String,
    pub at: String,
}

/// Read as stored, the decision's fields beside the rest, each read once: serde's `flatten`
/// would buffer the whole object first (every list entry parses one).
impl<'de> Deserialize<'de> for StoredDecision {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            grade: String,
            weighted_score: f64,
            items: Vec<scoring::AgreedItem>,
            #[serde(default)]
            grade_capped: bool,
            #[serde(default)]
            uncapped_grade: Option<String>,
            notes: String,
            by: String,
            at: String,
        }
        let f = Fields::deserialize(d)?;
        Ok(StoredDecision {
            decision: Decision {
                grade: f.grade,
                weighted_score: f.weighted_score,
                items: f.items,
                grade_capped: f.grade_capped,
                uncapped_grade: f.uncapped_grade,
            },
            notes: f.notes,
            by: f.by,
            at: f.at,
        })
    }
}

/// A stored decision as the scores report reads it: the grade and each item's agreed score,
/// text borrowed from the stored JSON (copied only where the JSON escapes a character), the rest
/// skipped.
#[derive(Debug, Deserialize)]
pub struct AgreedScores<'a> {
    #[serde(borrow)]
    pub grade: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub items: Vec<AgreedScore<'a>>,
}

/// One item of [`AgreedScores`].
#[derive(Debug, Deserialize)]
pub struct AgreedScore<'a> {
    #[serde(borrow)]
    pub component: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    pub criterion: std::borrow::Cow<'a, str>,
    pub agreed_score: i32,
    pub decided_by: scoring::DecidedBy,
}

/// Reads a stored decision's [`AgreedScores`] (the same JSON [`StoredDecision`] reads).
pub fn agreed_scores(decision_json: &str) -> serde_json::Result<AgreedScores<'_>> {
    serde_json::from_str(decision_json)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_decision_reads_back_to_the_same_json_byte_for_byte() {
        for stored in [
            r#"{"grade":"pass","weighted_score":2.5,"items":[{"component":"viva","criterion":"K1","agreed_score":2,"decided_by":"unanimous"},{"component":"viva","criterion":"K2","agreed_score":3,"decided_by":"consensus","rationale":"agreed"}],"notes":"","by":"u1","at":"2026-01-01T00:00:00Z"}"#,
            r#"{"grade":"pass","weighted_score":3.0,"items":[],"grade_capped":true,"uncapped_grade":"distinction","notes":"capped","by":"u1","at":"2026-01-01T00:00:00Z"}"#,
        ] {
            let read: StoredDecision = serde_json::from_str(stored).unwrap();
            assert_eq!(serde_json::to_string(&read).unwrap(), stored);
            // The scores report's borrowed reading finds the same grade and items.
            let agreed = agreed_scores(stored).unwrap();
            assert_eq!(agreed.grade, read.decision.grade);
            let items: Vec<(&str, &str, i32, scoring::DecidedBy)> =
                agreed.items.iter().map(|i| (&*i.component, &*i.criterion, i.agreed_score, i.decided_by)).collect();
            let want: Vec<(&str, &str, i32, scoring::DecidedBy)> = read
                .decision
                .items
                .iter()
                .map(|i| (i.component.as_str(), i.criterion.as_str(), i.agreed_score, i.decided_by))
                .collect();
            assert_eq!(items, want);
        }
        // Missing required fields are still refused; unknown ones ignored, as before.
        assert!(serde_json::from_str::<StoredDecision>(r#"{"grade":"pass","items":[],"notes":"","by":"u","at":"t"}"#)
            .is_err());
        let extra = r#"{"grade":"pass","weighted_score":1,"items":[],"notes":"","by":"u","at":"t","other":1}"#;
        assert_eq!(serde_json::from_str::<StoredDecision>(extra).unwrap().decision.weighted_score, 1.0);
    }
}
