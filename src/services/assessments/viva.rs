//! The viva record: the questions asked and the apprentice's responses, each question naming
//! the items (component, criterion) it probes, if any.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{now, DbConnection};
use crate::domain::assessment::VivaQuestion;
use crate::domain::evidence::check_criteria;
use crate::domain::permissions::Action;
use crate::domain::workflow::Step;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_length, check_text, Actor, Input};

use super::{guide_of, to_json, NOTE_MAX};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VivaRecordInput {
    pub questions: Vec<VivaQuestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredVivaRecord {
    pub questions: Vec<VivaQuestion>,
    pub by: String,
    pub at: String,
}

pub fn record_viva(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<VivaRecordInput>,
) -> AppResult<StoredVivaRecord> {
    change(conn, actor, id, Action::RecordViva, input, |Change { conn, row, status, body: input, .. }| {
        if input.questions.len() > 500 {
            return Err(AppError::bad_input(ErrorCode::TooMany, "at most 500").at("questions"));
        }
        let guide = guide_of(conn, guides, row)?;
        for (i, q) in input.questions.iter().enumerate() {
            check_text(&format!("questions[{i}].question"), &q.question, 4000)?;
            check_length(&format!("questions[{i}].response"), &q.response, NOTE_MAX)?;
            check_criteria(&guide, &format!("questions[{i}].criteria"), &q.criteria, false)?;
        }
        status.allows(Step::RecordViva)?;
        let record = StoredVivaRecord { questions: input.questions, by: actor.id.clone(), at: now() };
        row.viva_record_json = Some(to_json(&record));
        let probing = record.questions.iter().filter(|q| !q.criteria.is_empty()).count();
        let detail = json!({"questions": record.questions.len(), "naming_criteria": probing});
        Ok(Done::saved(record, "viva_record.saved", detail))
    })
}
