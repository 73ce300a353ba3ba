//! The viva record: the questions asked and the apprentice's responses.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::assessment::{Status, VivaQuestion};
use crate::domain::permissions::Action;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::{audit, check_length, check_text, transaction, Actor, Input};

use super::{find_for, to_json, Found, NOTE_MAX};

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
    actor: &Actor,
    id: &str,
    input: Input<VivaRecordInput>,
) -> AppResult<StoredVivaRecord> {
    transaction(conn, |conn| {
        let Found { mut row, status, .. } = find_for(conn, actor, id, Action::RecordViva)?;
        input.precondition(row.version)?;
        let input = input.body?;
        if input.questions.len() > 500 {
            return Err(AppError::bad_input(ErrorCode::TooMany, "at most 500").at("questions"));
        }
        for (i, q) in input.questions.iter().enumerate() {
            check_text(&format!("questions[{i}].question"), &q.question, 4000)?;
            check_length(&format!("questions[{i}].response"), &q.response, NOTE_MAX)?;
        }
        status.require("recording the viva", &[Status::Scheduled, Status::Consensus])?;
        let record = StoredVivaRecord { questions: input.questions, by: actor.id.clone(), at: now() };
        row.viva_record_json = Some(to_json(&record));
        save_assessment(conn, &mut row)?;
        audit(conn, Some(id), Some(actor), "viva_record.saved", json!({"questions": record.questions.len()}))?;
        Ok(record)
    })
}
