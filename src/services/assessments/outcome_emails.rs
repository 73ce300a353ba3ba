//! The outcome emails: queued in the outbox when the outcome is released, and put back in the queue
//! after a failure.

use serde_json::json;

use crate::db::models::*;
use crate::db::{new_id, now, DbConnection};
use crate::domain::guide::Guide;
use crate::domain::permissions::Action;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::mail::Composer;
use crate::services::change::{change, Change, Done};
use crate::services::{Actor, Input};

/// Queues one outcome email per recipient (apprentice, line manager, training provider) in the
/// outbox, in the caller's transaction; the mail worker sends them.
pub(super) fn queue_outcome_emails(
    conn: &mut DbConnection,
    composer: &Composer,
    guide: &Guide,
    row: &AssessmentRow,
) -> AppResult<usize> {
    queue_emails(conn, composer, guide, row, None)
}

/// Queues one amended outcome email per recipient (the same three), in the caller's
/// transaction: the grade changed on appeal.
pub(super) fn queue_amended_outcome_emails(
    conn: &mut DbConnection,
    composer: &Composer,
    guide: &Guide,
    row: &AssessmentRow,
    amendment: &crate::mail::Amendment<'_>,
) -> AppResult<usize> {
    queue_emails(conn, composer, guide, row, Some(amendment))
}

fn queue_emails(
    conn: &mut DbConnection,
    composer: &Composer,
    guide: &Guide,
    row: &AssessmentRow,
    amendment: Option<&crate::mail::Amendment<'_>>,
) -> AppResult<usize> {
    let apprentice =
        find_apprentice(conn, &row.apprentice_id)?.ok_or_else(|| anyhow::anyhow!("assessment without apprentice"))?;
    let lm =
        find_user(conn, &row.line_manager_id)?.ok_or_else(|| anyhow::anyhow!("assessment without line manager"))?;
    let tp = find_user(conn, &row.training_provider_user_id)?
        .ok_or_else(|| anyhow::anyhow!("assessment without provider"))?;
    let grade = row.grade.clone().unwrap_or_default();
    let recipients = [
        ("apprentice", apprentice.name.as_str(), apprentice.email.as_str()),
        ("line_manager", lm.name.as_str(), lm.email.as_str()),
        ("training_provider", tp.name.as_str(), tp.email.as_str()),
    ];
    let at = now();
    let body = match composer.configured_body() {
        Some(_) => None,
        None => sole_assessment_body(conn)?,
    };
    let wording = guide.outcome.as_ref();
    for (role, name, email) in recipients {
        let outcome = crate::mail::Outcome {
            recipient_name: name,
            recipient_role: role,
            apprentice_name: &apprentice.name,
            standard_title: &guide.title,
            standard_level: guide.level,
            grade: &grade,
            achieved: guide.grading.grades.first().is_none_or(|lowest| lowest.name != grade),
            released_at: row.released_at.as_deref().unwrap_or(&at),
            assessment_body: body.as_deref(),
            award: wording.and_then(|w| w.award.as_deref()),
            on_success: wording.and_then(|w| w.on_success.as_deref()),
            on_failure: wording.and_then(|w| w.on_failure.as_deref()),
            guide_contact: wording.and_then(|w| w.contact.as_deref()),
        };
        let rendered = match amendment {
            None => composer.render_outcome(&outcome),
            Some(amendment) => composer.render_amended_outcome(&outcome, amendment),
        }
        .map_err(|e| anyhow::anyhow!("outcome email template: {e:#}"))?;
        let id = new_id();
        let message = OutboxRow {
            message_id: composer.message_id(&id),
            id,
            assessment_id: row.id.clone(),
            recipient: email.to_string(),
            recipient_role: role.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at.clone(),
            locked_until: None,
            last_error: None,
            created_at: at.clone(),
            sent_at: None,
        };
        crate::db::outbox::insert_message(conn, &message)?;
    }
    Ok(recipients.len())
}

/// Puts an assessment's failed outcome emails back in the queue (admin), once the mail problem
/// has been put right. Returns how many were re-queued.
pub fn resend_failed_emails(conn: &mut DbConnection, actor: &Actor, id: &str, input: Input<()>) -> AppResult<usize> {
    change(conn, actor, id, Action::Administer, input, |Change { conn, .. }| {
        let n = crate::db::outbox::requeue_failed(conn, id, &now())?;
        if n == 0 {
            return Err(AppError::conflict(
                ErrorCode::NothingToResend,
                "no outcome email of this assessment has failed",
            ));
        }
        Ok(Done::audited(n, "emails.requeued", json!({"emails": n})))
    })
}
