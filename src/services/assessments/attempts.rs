//! Later attempts of one EPA: a resit (no further learning) or a retake (after it) opened on a
//! released attempt that did not pass, as a new assessment linked to it both ways. Only the
//! components assessed again are scored; the agreed scores of the others carry over; the guide's
//! grade cap and window apply unless exceptional circumstances are recorded, by whom and why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::attempt::{self, AttemptKind};
use crate::domain::guide::Guide;
use crate::domain::permissions::Action;
use crate::domain::scoring::{AgreedItem, Decision, Kept};
use crate::domain::workflow::Status;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{record, Done};
use crate::services::standards::Guides;
use crate::services::{check_optional, Actor, Input};

use super::registration::first_attempt_row;
use super::{find_for, guide_of, parse_stored, to_json, StoredDecision, NOTE_MAX};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaterAttemptInput {
    pub kind: AttemptKind,
    /// The components to assess again (default: those in which an agreed score fell below the
    /// pass minimum).
    #[serde(default)]
    pub components: Option<Vec<String>>,
    #[serde(default)]
    pub exceptional_circumstances: bool,
    /// Why exceptional circumstances apply (required when they do).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a later attempt was opened with, kept on it (`assessments.attempt_json`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredAttempt {
    pub kind: AttemptKind,
    /// The components assessed again, in the guide's order.
    pub components: Vec<String>,
    /// The agreed scores of the attempt before that carry over (`decided_by: carried_over`).
    pub carried_over: Vec<AgreedItem>,
    pub exceptional_circumstances: bool,
    pub reason: Option<String>,
    /// The guide's cap when the attempt was opened (null: none).
    pub grade_cap: Option<String>,
    /// Who opened the attempt (and so recorded any exceptional circumstances), and when.
    pub by: String,
    pub at: String,
}

impl StoredAttempt {
    /// The carried-over items, as the consensus and the decision take them.
    pub fn kept(&self) -> Kept {
        self.carried_over.iter().map(|i| (i.key(), i.clone())).collect()
    }

    /// The cap that applies ([`attempt::cap_applying`]).
    pub fn cap(&self) -> Option<&str> {
        attempt::cap_applying(self.grade_cap.as_deref(), self.exceptional_circumstances)
    }
}

/// `POST …/resits`' answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LaterAttemptOpened {
    pub id: String,
    pub status: Status,
    pub attempt: i32,
    pub previous_id: String,
}

/// The later attempt record of an assessment (None for a first attempt).
pub fn attempt_of(row: &AssessmentRow) -> AppResult<Option<StoredAttempt>> {
    parse_stored("attempt", &row.attempt_json)
}

/// The items of `row` carried over from the attempt before (empty for a first attempt).
pub fn carried_over_of(row: &AssessmentRow) -> AppResult<Kept> {
    Ok(attempt_of(row)?.map(|a| a.kept()).unwrap_or_default())
}

/// The one place a decision's grade is given: the agreed scores' grade, lowered to the guide's
/// cap for a later attempt that has one (see [`attempt::apply_cap`]).
pub fn graded(guide: &Guide, row: &AssessmentRow, decision: Decision) -> AppResult<Decision> {
    let stored = attempt_of(row)?;
    Ok(attempt::apply_cap(guide, decision, stored.as_ref().and_then(StoredAttempt::cap)))
}

/// Whether the decision needs the viva record: the guide requires one and, for a later attempt
/// (`later`), the viva's component is assessed again.
pub fn viva_record_required(guide: &Guide, later: Option<&StoredAttempt>) -> bool {
    let viva: Vec<&str> = guide.viva_component().map(|c| c.id.as_str()).into_iter().collect();
    attempt::viva_record_required(guide.viva_required(), &viva, later.map(|a| a.components.as_slice()))
}

/// Opens a resit or retake of the released attempt `id` (admin): 409 `resit_not_allowed` unless
/// it is released with the guide's lowest grade and has no later attempt, 409
/// `resit_window_passed` after the guide's window (unless exceptional circumstances are
/// recorded), 400 naming `reason` or `components[i]`. The attempt before is left as it was.
pub fn open_later_attempt(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<LaterAttemptInput>,
) -> AppResult<LaterAttemptOpened> {
    record(conn, Some(actor), |conn| {
        let found = find_for(conn, actor, id, Action::Administer)?;
        let input = input.body?;
        let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        check_optional("reason", reason, NOTE_MAX)?;
        if input.exceptional_circumstances && reason.is_none() {
            return Err(AppError::bad_input(
                ErrorCode::MissingValue,
                "say why exceptional circumstances apply (reason)",
            )
            .at("reason"));
        }
        let previous = found.row;
        let guide = guide_of(conn, guides, &previous)?;
        let has_next = crate::db::assessments::later_attempts_of(conn, std::slice::from_ref(&previous.id))?
            .contains_key(&previous.id);
        attempt::check_may_follow(&guide, found.status, previous.grade.as_deref(), has_next)?;
        let released_at = previous
            .released_at
            .as_deref()
            .map(|at| DateTime::parse_from_rfc3339(at).map(|t| t.with_timezone(&Utc)))
            .transpose()
            .map_err(|e| anyhow::anyhow!("assessment {}: release time: {e}", previous.id))?
            .ok_or_else(|| anyhow::anyhow!("released assessment {} has no release time", previous.id))?;
        let rules = guide.attempts.clone().unwrap_or_default();
        attempt::check_window(released_at, rules.window_months, Utc::now(), input.exceptional_circumstances)?;
        let decided: Option<StoredDecision> = parse_stored("decision", &previous.decision_json)?;
        let decided = decided.map(|d| d.decision.items).unwrap_or_default();
        let components = attempt::components_assessed(&guide, &decided, input.components.as_deref())?;
        let carried_over: Vec<AgreedItem> = attempt::carried_over(&decided, &components).into_values().collect();
        let at = now();
        let stored = StoredAttempt {
            kind: input.kind,
            components,
            carried_over,
            exceptional_circumstances: input.exceptional_circumstances,
            reason: reason.map(str::to_string),
            grade_cap: rules.grade_cap.clone(),
            by: actor.id.clone(),
            at: at.clone(),
        };
        let status = input.kind.starts_in();
        // The same apprentice, line manager, training provider, standard version and panel seats;
        // a new independent assessor is appointed.
        let row = AssessmentRow {
            standard_version: previous.standard_version.clone(),
            status: status.as_str().to_string(),
            // A resit stands on the first attempt's gateway; a retake confirms it again.
            gateway_json: match input.kind {
                AttemptKind::Resit => previous.gateway_json.clone(),
                AttemptKind::Retake => None,
            },
            // The adjustments stand until replaced (they can be, before the EPA).
            adjustments_json: previous.adjustments_json.clone(),
            seating_json: previous.seating_json.clone(),
            attempt: previous.attempt + 1,
            previous_id: Some(previous.id.clone()),
            attempt_json: Some(to_json(&stored)),
            ..first_attempt_row(
                &previous.apprentice_id,
                &guide,
                &previous.line_manager_id,
                &previous.training_provider_user_id,
            )
        };
        insert_assessment(conn, &row)?;
        let detail = json!({
            "previous_id": previous.id,
            "attempt": row.attempt,
            "kind": stored.kind.as_str(),
            "components": stored.components,
            "carried_over": stored.carried_over.len(),
            "exceptional_circumstances": stored.exceptional_circumstances,
            "grade_cap": stored.cap(),
        });
        let opened =
            LaterAttemptOpened { id: row.id.clone(), status, attempt: row.attempt, previous_id: previous.id.clone() };
        Ok(Done::audited(opened, "attempt.opened", detail).about(row.id))
    })
}
