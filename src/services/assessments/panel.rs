//! Appointing the panel: the independent assessor, the viva's time and its mode.

use serde::Deserialize;
use serde_json::json;

use crate::db::models::*;
use crate::db::DbConnection;
use crate::domain::assessment::{Status, VivaMode};
use crate::domain::permissions::{Action, Seat};
use crate::domain::workflow::Event;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change_with, row_version, Change, Done};
use crate::services::{Actor, Input};

use super::{parse_time, seat_holder};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    let step = |Change { conn, row, status, body: input, .. }: Change<'_, PanelInput>, ()| {
        let viva_at = parse_time("viva_at", &input.viva_at)?;
        let mode = VivaMode::parse(&input.mode)?;
        let assessor =
            seat_holder(conn, "independent_assessor_id", &input.independent_assessor_id, Seat::IndependentAssessor)?;
        let next = status.after(Event::PanelAppointed)?;
        if status == Status::Scheduled {
            let submitted = score_sheets_of(conn, id)?.iter().any(|s| s.submitted_at.is_some());
            if submitted {
                return Err(AppError::conflict(
                    ErrorCode::SheetsSubmitted,
                    "the panel cannot be changed once a score sheet has been submitted",
                ));
            }
        }
        let apprentice = find_apprentice(conn, &row.apprentice_id)?
            .ok_or_else(|| anyhow::anyhow!("assessment {id} has no apprentice"))?;
        if let Some(org) = assessor.organisation_id.as_deref() {
            if org == apprentice.employer_id || org == apprentice.training_provider_id {
                return Err(AppError::conflict(
                    ErrorCode::ConflictOfInterest,
                    format!(
                        "{} works for the apprentice's employer or training provider and cannot be independent",
                        assessor.name
                    ),
                )
                .at("independent_assessor_id"));
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
        row.status = next.as_str().to_string();
        let detail = json!({"independent_assessor_id": assessor.id, "viva_at": viva_at, "mode": mode, "reappointment": status == Status::Scheduled});
        Ok(Done::saved((), "panel.appointed", detail))
    };
    let ((), row) = change_with(conn, actor, id, Action::AppointPanel, input, row_version, step)?;
    Ok(row)
}
