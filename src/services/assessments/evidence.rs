//! Evidence linked to criteria: a panel member records a piece of evidence on an assessment (of
//! one of the guide's evidence kinds, or the default set when it lists none), naming the items it
//! supports; anyone who may see the assessment reads its records. The rules are the domain's
//! (`domain::evidence`); a record is added in one transaction with its audit entry, and never
//! changed afterwards.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::evidence::{evidence_of, insert_evidence, EvidenceRow};
use crate::db::{new_id, now, DbConnection};
use crate::domain::evidence;
use crate::domain::guide::{EvidenceKind, Guide, ItemKey};
use crate::domain::permissions::Action;
use crate::domain::workflow::Step;
use crate::error::AppResult;
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_length, check_one_line, check_text, Actor, Input};

use super::{find_for, guide_of, parse_stored, to_json, NOTE_MAX};

/// The longest title an evidence record may have.
pub const EVIDENCE_TITLE_MAX: usize = 200;

/// `POST /assessments/{id}/evidence`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    /// An evidence kind id of the assessment's guide (`GET …/evidence` lists them).
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The items the evidence supports (at least one).
    pub criteria: Vec<ItemKey>,
}

/// One evidence record.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceRecord {
    pub id: String,
    pub assessment_id: String,
    pub kind: String,
    /// The kind as the guide names it.
    pub kind_title: String,
    pub title: String,
    pub description: String,
    pub criteria: Vec<ItemKey>,
    /// Who recorded it (a user id) and when.
    pub by: String,
    pub at: String,
}

/// `GET /assessments/{id}/evidence`: the kinds one may record, and the records, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub kinds: Vec<EvidenceKind>,
    pub evidence: Vec<EvidenceRecord>,
}

fn record_of(guide: &Guide, row: EvidenceRow) -> AppResult<EvidenceRecord> {
    let criteria: Vec<ItemKey> = parse_stored("evidence criteria", &Some(row.criteria_json))?.unwrap_or_default();
    let kind_title =
        evidence::kinds(guide).into_iter().find(|k| k.id == row.kind).map_or(row.kind.clone(), |k| k.title);
    Ok(EvidenceRecord {
        id: row.id,
        assessment_id: row.assessment_id,
        kind: row.kind,
        kind_title,
        title: row.title,
        description: row.description,
        criteria,
        by: row.recorded_by,
        at: row.recorded_at,
    })
}

/// Records a piece of evidence on assessment `id` (a panel member, until the decision).
pub fn record_evidence(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<EvidenceInput>,
) -> AppResult<EvidenceRecord> {
    change(conn, actor, id, Action::RecordEvidence, input, |Change { conn, row, status, body, .. }| {
        let guide = guide_of(conn, guides, row)?;
        let kind = evidence::kind_named(&guide, "kind", body.kind.trim())?;
        check_text("title", &body.title, EVIDENCE_TITLE_MAX)?;
        check_one_line("title", &body.title)?;
        check_length("description", &body.description, NOTE_MAX)?;
        evidence::check_criteria(&guide, "criteria", &body.criteria, true)?;
        status.allows(Step::RecordEvidence)?;
        let stored = EvidenceRow {
            id: new_id(),
            assessment_id: row.id.clone(),
            kind: kind.id,
            title: body.title.trim().to_string(),
            description: body.description.trim().to_string(),
            criteria_json: to_json(&body.criteria),
            recorded_by: actor.id.clone(),
            recorded_at: now(),
        };
        insert_evidence(conn, &stored)?;
        let detail = json!({"evidence_id": stored.id, "kind": stored.kind, "criteria": body.criteria.len()});
        Ok(Done::audited(record_of(&guide, stored)?, "evidence.recorded", detail))
    })
}

/// The evidence kinds of assessment `id`'s guide and its evidence records (anyone who may see it).
pub fn view_evidence(conn: &mut DbConnection, guides: &Guides, actor: &Actor, id: &str) -> AppResult<EvidenceView> {
    let found = find_for(conn, actor, id, Action::ViewAssessment)?;
    let guide = guide_of(conn, guides, &found.row)?;
    let evidence =
        evidence_of(conn, &found.row.id)?.into_iter().map(|row| record_of(&guide, row)).collect::<AppResult<_>>()?;
    Ok(EvidenceView { kinds: evidence::kinds(&guide), evidence })
}
