//! The independent assessor's declaration of no prior involvement and no conflict of interest.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::assessment::Declaration;
use crate::domain::permissions::Action;
use crate::domain::workflow::DeclarationState;
use crate::domain::workflow::Step;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::{check_text, Actor, Input};

use super::{parse_stored, to_json};

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
    change(conn, actor, id, Action::Declare, input, |Change { conn: _, row, status, body: input, .. }| {
        check_text("conflicts", &input.conflicts, 2000)?;
        status.allows(Step::Declare)?;
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
        let detail = json!({"no_prior_involvement": stored.no_prior_involvement, "conflicts": stored.conflicts, "holds": stored.holds});
        Ok(Done::saved(stored, "declaration.recorded", detail))
    })
}

pub(super) fn declaration_holds(row: &AssessmentRow) -> AppResult<bool> {
    Ok(crate::services::views::declaration_state(row)? == DeclarationState::Holds)
}
