//! Appointing the panel: the independent assessor (when the guide seats one), the viva's time and
//! its mode.

use serde::Deserialize;
use serde_json::json;

use crate::db::models::*;
use crate::db::DbConnection;
use crate::domain::assessment::{Status, VivaMode};
use crate::domain::eligibility::{self, AssessorRules, Day, Warning};
use crate::domain::permissions::{Action, Seat};
use crate::domain::workflow::Event;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change_with, row_version, Change, Done};
use crate::services::standards::Guides;
use crate::services::{Actor, Input};

use super::{find_for, guide_of, parse_time, seat_holder, seating_of};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelInput {
    /// Required when the independent assessor is one of the guide's seats; refused otherwise.
    #[serde(default)]
    pub independent_assessor_id: Option<String>,
    pub viva_at: String,
    pub mode: String,
}

/// Appoints the panel of assessment `id`. Answers the row as saved and the reasons the
/// independent assessor does not meet the assessor register's rules (reported with
/// [`AssessorRules::Warn`]; with [`AssessorRules::Enforce`] they refuse the appointment: 409
/// `assessor_not_eligible`, nothing saved).
pub fn appoint_panel(
    conn: &mut DbConnection,
    guides: &Guides,
    rules: AssessorRules,
    actor: &Actor,
    id: &str,
    input: Input<PanelInput>,
) -> AppResult<(AssessmentRow, Vec<Warning>)> {
    let step = |Change { conn, row, status, body: input, .. }: Change<'_, PanelInput>, ()| {
        let viva_at = parse_time("viva_at", &input.viva_at)?;
        let mode = VivaMode::parse(&input.mode)?;
        let seating = seating_of(row)?;
        let assessor = match (&input.independent_assessor_id, seating.has_assessor()) {
            (Some(ia), true) => Some(seat_holder(conn, "independent_assessor_id", ia, Seat::IndependentAssessor)?),
            (None, true) => {
                return Err(AppError::bad_input(ErrorCode::MissingValue, "the panel needs its independent assessor")
                    .at("independent_assessor_id"))
            }
            (Some(_), false) => {
                return Err(AppError::bad_input(
                    ErrorCode::InvalidChoice,
                    "this standard's panel has no independent assessor (its guide names the seats that score)",
                )
                .at("independent_assessor_id"))
            }
            (None, false) => None,
        };
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
        let Some(assessor) = assessor else {
            // No independent assessor sits on this panel: appointing it is scheduling the day.
            row.viva_at = Some(viva_at.clone());
            row.viva_mode = Some(mode.as_str().to_string());
            row.status = next.as_str().to_string();
            let detail = json!({"independent_assessor_id": null, "viva_at": viva_at, "mode": mode, "reappointment": status == Status::Scheduled, "warnings": []});
            return Ok(Done::saved(Vec::new(), "panel.appointed", detail));
        };
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
        let warnings = assessor_warnings(conn, guides, row, &assessor, &viva_at)?;
        if rules == AssessorRules::Enforce && !warnings.is_empty() {
            let reasons: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
            return Err(AppError::conflict(
                ErrorCode::AssessorNotEligible,
                format!("{} cannot be appointed: {}", assessor.name, reasons.join("; ")),
            )
            .at("independent_assessor_id"));
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
        let detail = json!({"independent_assessor_id": assessor.id, "viva_at": viva_at, "mode": mode, "reappointment": status == Status::Scheduled, "warnings": warnings});
        Ok(Done::saved(warnings, "panel.appointed", detail))
    };
    let (warnings, row) = change_with(conn, actor, id, Action::AppointPanel, input, row_version, step)?;
    Ok((row, warnings))
}

/// Why `assessor` does not meet the assessor register's rules for assessment `row` with its viva
/// at `viva_at` (stored UTC time; the day is its date): the guide's requirements, the approval
/// for the standard, earlier assessments of the same apprentice and standard they sat on, and
/// whether they belong to an organisation (else no conflict check is possible).
pub fn assessor_warnings(
    conn: &mut DbConnection,
    guides: &Guides,
    row: &AssessmentRow,
    assessor: &User,
    viva_at: &str,
) -> AppResult<Vec<Warning>> {
    let guide = guide_of(conn, guides, row)?;
    let viva_on = viva_at
        .get(..10)
        .and_then(Day::parse)
        .ok_or_else(|| anyhow::anyhow!("assessment {}: viva time {viva_at:?} has no date", row.id))?;
    let record = find_assessor_record(conn, &assessor.id)?.map(|r| record_of(&r)).transpose()?;
    let earlier = assessments_sat_on(conn, &assessor.id, &row.apprentice_id, &row.standard_id, &row.id)?;
    Ok(eligibility::warnings(&eligibility::Appointment {
        requirements: guide.assessors.as_ref(),
        standard_id: &row.standard_id,
        viva_on,
        record: record.as_ref(),
        has_organisation: assessor.organisation_id.is_some(),
        earlier_attempts: earlier.len(),
    }))
}

/// The register's stored record as the eligibility rule reads it.
pub fn record_of(r: &AssessorRecordRow) -> AppResult<eligibility::Record> {
    let standards: Vec<String> = serde_json::from_str(&r.standards_json)
        .map_err(|e| anyhow::anyhow!("assessor record of {}: standards unreadable: {e}", r.user_id))?;
    let day = |d: &Option<String>| d.as_deref().and_then(Day::parse);
    Ok(eligibility::Record {
        experience_years: r.experience_years.max(0) as u32,
        standards,
        trained_on: day(&r.trained_on),
        standardised_on: day(&r.standardised_on),
    })
}

/// The warnings for the independent assessor appointed now on assessment `id` (empty when none
/// is), as the panel page shows them.
pub fn panel_warnings(conn: &mut DbConnection, guides: &Guides, actor: &Actor, id: &str) -> AppResult<Vec<Warning>> {
    let found = find_for(conn, actor, id, Action::ViewAssessment)?;
    let (Some(ia), Some(viva_at)) = (found.row.independent_assessor_id.as_deref(), found.row.viva_at.as_deref()) else {
        return Ok(Vec::new());
    };
    let Some(assessor) = find_user(conn, ia)? else { return Ok(Vec::new()) };
    assessor_warnings(conn, guides, &found.row, &assessor, viva_at)
}
