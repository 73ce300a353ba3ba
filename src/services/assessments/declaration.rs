//! The independent assessor's declaration of no prior involvement and no conflict of interest.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::assessment::{Declaration, Status};
use crate::domain::permissions::Action;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::{audit, check_text, transaction, Actor, Input};

use super::{find_for, parse_stored, to_json, Found};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationInput {
    pub no_prior_involvement: bool,
    pub conflicts: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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
                ErrorCode::DeclarationBlocked,
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

pub(super) fn declaration_holds(row: &AssessmentRow) -> AppResult<bool> {
    let stored: Option<StoredDeclaration> = parse_stored("declaration", &row.declaration_json)?;
    Ok(stored.is_some_and(|d| d.holds && row.independent_assessor_id.as_deref() == Some(d.by.as_str())))
}
