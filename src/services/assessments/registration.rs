//! Registering an apprentice's EPA: the assessment, its standard's current version and its first
//! two panel seats (line manager and training provider).

use serde::Deserialize;
use serde_json::json;

use crate::db::models::*;
use crate::db::{new_id, now, DbConnection};
use crate::domain::assessment::Status;
use crate::domain::guide::Guide;
use crate::domain::permissions::{Action, Role, Seat};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{record, Done};
use crate::services::standards::Guides;
use crate::services::{Actor, Input};

use super::{forbidden_message, seat_holder, to_json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    pub apprentice_id: String,
    pub standard_id: String,
    pub line_manager_id: String,
    pub training_provider_user_id: String,
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
    record(conn, Some(actor), |conn| {
        if find_apprentice(conn, &input.apprentice_id)?.is_none() {
            return Err(AppError::bad_input(
                ErrorCode::UnknownApprentice,
                format!("no apprentice {:?}", input.apprentice_id),
            )
            .at("apprentice_id"));
        }
        let guide = guides.latest(conn, &input.standard_id)?.ok_or_else(|| {
            AppError::bad_input(ErrorCode::UnknownStandard, format!("no standard {:?}", input.standard_id))
                .at("standard_id")
        })?;
        seat_holder(conn, "line_manager_id", &input.line_manager_id, Seat::LineManager)?;
        seat_holder(conn, "training_provider_user_id", &input.training_provider_user_id, Seat::TrainingProvider)?;
        let row =
            first_attempt_row(&input.apprentice_id, &guide, &input.line_manager_id, &input.training_provider_user_id);
        insert_assessment(conn, &row)?;
        let id = row.id.clone();
        let detail = json!({"apprentice_id": row.apprentice_id, "standard_id": row.standard_id, "standard_version": row.standard_version,
                   "line_manager_id": row.line_manager_id, "training_provider_user_id": row.training_provider_user_id});
        Ok(Done::audited(row, "assessment.registered", detail).about(id))
    })
}

/// A new assessment's row, registered now for `guide`'s current version: a first attempt, its
/// panel seated as the guide says, nothing recorded yet.
pub(super) fn first_attempt_row(
    apprentice_id: &str,
    guide: &Guide,
    line_manager_id: &str,
    training_provider_user_id: &str,
) -> AssessmentRow {
    let at = now();
    AssessmentRow {
        id: new_id(),
        apprentice_id: apprentice_id.to_string(),
        standard_id: guide.id.clone(),
        standard_version: guide.version.clone(),
        status: Status::Registered.as_str().to_string(),
        line_manager_id: line_manager_id.to_string(),
        training_provider_user_id: training_provider_user_id.to_string(),
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
        adjustments_json: None,
        attempt: 1,
        previous_id: None,
        attempt_json: None,
        seating_json: Some(to_json(&guide.seating())),
    }
}
