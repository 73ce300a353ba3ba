//! Reading an assessment: its view, the list a caller may see, and its audit trail.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::db::assessments::Visible;
pub use crate::db::assessments::{ListRow, Page};
use crate::db::models::*;
use crate::db::DbConnection;
use crate::domain::assessment::{GatewayAnswers, ModerationAction, Status};
use crate::domain::permissions::Action;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::Actor;

use super::{
    find_for, parse_stored, StoredConsensus, StoredDecision, StoredDeclaration, StoredGateway, StoredVivaRecord,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// The view of one assessment, reading what it shows beside the row.
pub fn view_of(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<Value> {
    let loaded = ListRow {
        row: row.clone(),
        apprentice: find_apprentice(conn, &row.apprentice_id)?,
        emails: outbox_of(conn, &row.id)?,
        // Only an assessment back in consensus shows its refer-back.
        latest_moderation: match row.status == Status::Consensus.as_str() {
            true => latest_moderation_of(conn, &row.id)?,
            false => None,
        },
    };
    view_from(&loaded)
}

/// The view of one assessment from its row and what the view shows beside it (the list builds
/// every view of a page from rows it read at once).
pub fn view_from(loaded: &ListRow) -> AppResult<Value> {
    let ListRow { row, apprentice, emails, latest_moderation } = loaded;
    let gateway: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
    let declaration: Option<StoredDeclaration> = parse_stored("declaration", &row.declaration_json)?;
    let viva: Option<StoredVivaRecord> = parse_stored("viva record", &row.viva_record_json)?;
    let consensus: Option<StoredConsensus> = parse_stored("consensus", &row.consensus_json)?;
    let decision: Option<StoredDecision> = parse_stored("decision", &row.decision_json)?;
    let emails: Vec<EmailView> = emails
        .iter()
        .map(|m| EmailView {
            to: m.recipient.clone(),
            recipient_role: m.recipient_role.clone(),
            status: m.status.clone(),
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            sent_at: m.sent_at.clone(),
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
        "apprentice": apprentice.as_ref().map(|a| json!({"id": a.id, "name": a.name, "employer_id": a.employer_id, "training_provider_id": a.training_provider_id})),
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
        "referred_back": referred_back(row, latest_moderation.as_ref()),
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
fn referred_back(row: &AssessmentRow, latest_moderation: Option<&ModerationRow>) -> Value {
    if row.status != Status::Consensus.as_str() {
        return Value::Null;
    }
    match latest_moderation {
        Some(m) if m.action == ModerationAction::ReferBack.as_str() => {
            json!({"at": m.at, "by": m.moderator_id, "rationale": m.rationale})
        }
        _ => Value::Null,
    }
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

/// Most assessments one page of `GET /assessments` holds.
pub const LIST_LIMIT_MAX: i64 = 500;

/// The assessments `actor` may see, newest first (the whole list).
pub fn list(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<Value>> {
    list_page(conn, actor, None, &Page::default())
}

/// One page of the assessments `actor` may see whose status is one of `statuses` (None: any),
/// newest first, in a number of queries that does not grow with the page (see
/// [`crate::db::assessments::list_page`]). 400 naming `limit` outside 1–500, naming `after`
/// when it is not an assessment of this list.
pub fn list_page(
    conn: &mut DbConnection,
    actor: &Actor,
    statuses: Option<&[&str]>,
    page: &Page,
) -> AppResult<Vec<Value>> {
    if let Some(limit) = page.limit {
        if !(1..=LIST_LIMIT_MAX).contains(&limit) {
            return Err(AppError::bad_input(
                ErrorCode::InvalidQuery,
                format!("{limit} is not between 1 and {LIST_LIMIT_MAX}"),
            )
            .at("limit"));
        }
    }
    list_loaded(conn, actor, statuses, page)?.iter().map(view_from).collect()
}

/// The rows of [`list_page`], each with what its view shows beside it (for pages that show
/// more of each, e.g. its sheets; [`view_from`] makes its view).
pub fn list_loaded(
    conn: &mut DbConnection,
    actor: &Actor,
    statuses: Option<&[&str]>,
    page: &Page,
) -> AppResult<Vec<ListRow>> {
    let visible = if actor.role.is_staff() { Visible::All } else { Visible::SeatedOn(&actor.id) };
    crate::db::assessments::list_page(conn, visible, statuses, page)?.ok_or_else(|| {
        AppError::bad_input(
            ErrorCode::InvalidQuery,
            format!("{:?} is not an assessment of this list", page.after.as_deref().unwrap_or_default()),
        )
        .at("after")
    })
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
