//! Reading an assessment: its view, the list a caller may see, and its audit trail.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::db::models::*;
use crate::db::schema::assessments;
use crate::db::DbConnection;
use crate::domain::assessment::{GatewayAnswers, ModerationAction, Status};
use crate::domain::permissions::Action;
use crate::error::AppResult;
use crate::services::Actor;

use super::{
    find_for, parse_stored, StoredConsensus, StoredDecision, StoredDeclaration, StoredGateway, StoredVivaRecord,
};

#[derive(Debug, Serialize)]
pub struct EmailView {
    pub to: String,
    pub recipient_role: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

/// The assessment as the contract's `GET /assessments/{id}` shows it.
/// The assessment's view and its version (for the `ETag`).
pub fn view(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<(i64, Value)> {
    let found = find_for(conn, actor, id, Action::ViewAssessment)?;
    Ok((found.row.version, view_of(conn, &found.row)?))
}

pub fn view_of(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<Value> {
    let apprentice = find_apprentice(conn, &row.apprentice_id)?;
    let gateway: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
    let declaration: Option<StoredDeclaration> = parse_stored("declaration", &row.declaration_json)?;
    let viva: Option<StoredVivaRecord> = parse_stored("viva record", &row.viva_record_json)?;
    let consensus: Option<StoredConsensus> = parse_stored("consensus", &row.consensus_json)?;
    let decision: Option<StoredDecision> = parse_stored("decision", &row.decision_json)?;
    let emails: Vec<EmailView> = outbox_of(conn, &row.id)?
        .into_iter()
        .map(|m| EmailView {
            to: m.recipient,
            recipient_role: m.recipient_role,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            sent_at: m.sent_at,
        })
        .collect();
    let gateway_view = match &gateway {
        Some(g) => json!({
            "portfolio_complete": g.answers.portfolio_complete,
            "knowledge_route": g.answers.knowledge_route,
            "knowledge_reference": g.answers.knowledge_reference,
            "english_level2": g.answers.english_level2,
            "maths_level2": g.answers.maths_level2,
            "employer_ready": g.answers.employer_ready,
            "provider_ready": g.answers.provider_ready,
            "knowledge_units": g.answers.knowledge_units,
            "knowledge_gaps": g.knowledge_gaps,
            "unmet": g.answers.unmet(),
            "confirmations": g.confirmations,
            "changes": gateway_changes(g),
        }),
        None => json!({"unmet": GatewayAnswers::FIELDS}),
    };
    Ok(json!({
        "id": row.id,
        "status": row.status,
        "standard_id": row.standard_id,
        "standard_version": row.standard_version,
        "apprentice_id": row.apprentice_id,
        "apprentice": apprentice.map(|a| json!({"id": a.id, "name": a.name, "employer_id": a.employer_id, "training_provider_id": a.training_provider_id})),
        "panel": {
            "line_manager_id": row.line_manager_id,
            "training_provider_user_id": row.training_provider_user_id,
            "independent_assessor_id": row.independent_assessor_id,
            "viva_at": row.viva_at,
            "mode": row.viva_mode,
            "declaration": declaration,
        },
        "gateway": gateway_view,
        "viva_record": viva,
        "consensus": consensus,
        "decision": decision,
        "referred_back": referred_back(conn, row)?,
        "grade": row.grade,
        "weighted_score": row.weighted_score,
        "decided_at": row.decided_at,
        "released_at": row.released_at,
        "emails": emails,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }))
}

/// Moderation's refer-back the panel is answering: `{at, by, rationale}` from the refer-back
/// until the next decision (the assessment is back in `consensus`), else null.
fn referred_back(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<Value> {
    if row.status != Status::Consensus.as_str() {
        return Ok(Value::Null);
    }
    Ok(match latest_moderation_of(conn, &row.id)? {
        Some(m) if m.action == ModerationAction::ReferBack.as_str() => {
            json!({"at": m.at, "by": m.moderator_id, "rationale": m.rationale})
        }
        _ => Value::Null,
    })
}

/// Per gateway field, who last changed it and when (only fields some save changed), and
/// whether it holds now: a change to No is not a confirmation.
fn gateway_changes(g: &StoredGateway) -> BTreeMap<&'static str, Value> {
    let unmet = g.answers.unmet();
    GatewayAnswers::FIELDS
        .into_iter()
        .filter_map(|f| {
            let c = g.confirmations.get(f)?;
            Some((f, json!({"changed_by": c.by, "changed_at": c.at, "holds": !unmet.contains(&f)})))
        })
        .collect()
}

/// The assessments `actor` may see, newest first.
pub fn list(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<Value>> {
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
    rows.iter().map(|r| view_of(conn, r)).collect()
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
