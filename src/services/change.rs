//! One frame for a change to an assessment. [`change`] does, in one transaction and in the
//! contract's order, what every change shares: lock the assessment's row and find it (404 when
//! it is not the caller's to see), check the caller may do this (403), check `If-Match` (412),
//! take the parsed body (400); then it runs the use case's own step (its body checks, the state
//! it needs, the domain rule), saves the row and writes the audit entry.
//!
//! [`record`] is the same frame for a change that creates an assessment or changes something
//! else that is audited (organisations, users, apprentices): one transaction, the step, its
//! audit entry.
//!
//! A step cannot skip its audit entry: it answers with a [`Done`], and a `Done` is made only
//! with an audit action and its detail, which the frame writes.

use serde_json::Value;

use super::assessments::{find_for, Found};
use super::{audit, transaction, Actor, Input};
use crate::db::models::{save_assessment, AssessmentRow};
use crate::db::DbConnection;
use crate::domain::assessment::Status;
use crate::domain::permissions::{Action, Seat};
use crate::error::AppResult;

/// What a step is given: the connection (in the frame's transaction), the assessment's row to
/// change, its status, the caller's seat on its panel, and the parsed body.
pub struct Change<'a, B> {
    pub conn: &'a mut DbConnection,
    pub row: &'a mut AssessmentRow,
    pub status: Status,
    pub seat: Option<Seat>,
    pub body: B,
}

/// A step's answer: its result and the audit entry the frame writes for it.
#[must_use]
pub struct Done<R> {
    result: R,
    action: String,
    detail: Value,
    save: bool,
    assessment_id: Option<String>,
}

impl<R> Done<R> {
    /// The step changed the assessment's row: the frame saves it (a new version), then writes
    /// the audit entry. `detail` must never carry a panel member's scores.
    pub fn saved(result: R, action: impl Into<String>, detail: Value) -> Self {
        Done { result, action: action.into(), detail, save: true, assessment_id: None }
    }

    /// The step left the assessment's row as it was (it changed other tables): the frame
    /// writes only the audit entry.
    pub fn audited(result: R, action: impl Into<String>, detail: Value) -> Self {
        Done { result, action: action.into(), detail, save: false, assessment_id: None }
    }

    /// For [`record`]: the entry is about this assessment (one the step created).
    pub fn about(self, assessment_id: impl Into<String>) -> Self {
        Done { assessment_id: Some(assessment_id.into()), ..self }
    }
}

/// The assessment's own version, which `If-Match` names for most changes.
pub fn row_version(_: &mut DbConnection, found: &Found) -> AppResult<(i64, ())> {
    Ok((found.row.version, ()))
}

/// Changes assessment `id` for `actor` doing `action`: the frame around `step`, with `If-Match`
/// checked against the assessment's version.
pub fn change<B, R>(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: Action,
    input: Input<B>,
    step: impl FnOnce(Change<'_, B>) -> AppResult<Done<R>>,
) -> AppResult<R> {
    change_with(conn, actor, id, action, input, row_version, |s, ()| step(s)).map(|(result, _)| result)
}

/// [`change`] for a change whose `If-Match` names another version than the assessment's (a
/// score sheet's): `version` reads it, with whatever it loaded for the step. Returns the step's
/// result and the assessment's row as saved.
pub fn change_with<B, P, R>(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: Action,
    input: Input<B>,
    version: impl FnOnce(&mut DbConnection, &Found) -> AppResult<(i64, P)>,
    step: impl FnOnce(Change<'_, B>, P) -> AppResult<Done<R>>,
) -> AppResult<(R, AssessmentRow)> {
    transaction(conn, |conn| {
        let found = find_for(conn, actor, id, action)?;
        let (current, loaded) = version(conn, &found)?;
        input.precondition(current)?;
        let body = input.body?;
        let Found { mut row, seat, status } = found;
        let done = step(Change { conn, row: &mut row, status, seat, body }, loaded)?;
        if done.save {
            save_assessment(conn, &mut row)?;
        }
        audit(conn, Some(id), Some(actor), &done.action, done.detail)?;
        Ok((done.result, row))
    })
}

/// Runs `step` in one transaction and writes the audit entry it answers with: the frame for a
/// change that is not to an existing assessment. `actor` is None for the CLI.
pub fn record<R>(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    step: impl FnOnce(&mut DbConnection) -> AppResult<Done<R>>,
) -> AppResult<R> {
    transaction(conn, |conn| {
        let done = step(conn)?;
        audit(conn, done.assessment_id.as_deref(), actor, &done.action, done.detail)?;
        Ok(done.result)
    })
}
