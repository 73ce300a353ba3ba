//! Reading an assessment: its view (built by `services::views`), the list a caller may see, and
//! its audit trail.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::models::*;
use crate::db::schema::assessments;
use crate::db::DbConnection;
use crate::domain::permissions::Action;
use crate::error::AppResult;
use crate::services::views::{self, AssessmentView};
use crate::services::Actor;

use super::find_for;

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

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
