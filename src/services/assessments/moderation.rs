//! Moderation: a moderator off the panel confirms the decision (the outcome is released) or
//! refers it back to the panel.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{new_id, now, DbConnection};
use crate::domain::assessment::{ModerationAction, Status};
use crate::domain::guide::ItemKey;
use crate::domain::permissions::Action;
use crate::domain::scoring;
use crate::domain::workflow::{Event, Step};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::mail::Composer;
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_length, check_text, Actor, Input};

use super::{guide_of, queue_outcome_emails, to_json, NOTE_MAX};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationInput {
    pub action: String,
    #[serde(default)]
    pub rationale: String,
    /// With `refer_back`: the items moderation queries; only those are open in the next
    /// consensus, the others stay agreed. Left out (or empty): every item reopens.
    #[serde(default)]
    pub items: Vec<ItemKey>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModerationOutcome {
    #[schema(value_type = String)]
    pub status: Status,
    #[schema(value_type = String)]
    pub action: ModerationAction,
}

pub fn moderate(
    conn: &mut DbConnection,
    guides: &Guides,
    composer: &Composer,
    actor: &Actor,
    id: &str,
    input: Input<ModerationInput>,
) -> AppResult<ModerationOutcome> {
    change(conn, actor, id, Action::Moderate, input, |Change { conn, row, status, body: input, .. }| {
        let action = ModerationAction::parse(&input.action)?;
        if action == ModerationAction::ReferBack {
            check_text("rationale", &input.rationale, NOTE_MAX)?;
        } else {
            check_length("rationale", &input.rationale, NOTE_MAX)?;
            if !input.items.is_empty() {
                return Err(AppError::bad_input(
                    ErrorCode::InvalidChoice,
                    "only a refer-back names items; a confirmation confirms the whole decision",
                )
                .at("items"));
            }
        }
        let guide = guide_of(conn, guides, row)?;
        let named = scoring::check_refer_back_items(&guide, &input.items)?;
        status.allows(Step::Moderate)?;
        let at = now();
        let moderation = ModerationRow {
            id: new_id(),
            assessment_id: id.to_string(),
            moderator_id: actor.id.clone(),
            action: action.as_str().to_string(),
            rationale: input.rationale.trim().to_string(),
            decision_json: row.decision_json.clone().unwrap_or_else(|| "null".into()),
            at: at.clone(),
            items_json: (!named.is_empty()).then(|| to_json(&named)),
        };
        insert_moderation(conn, &moderation)?;
        let next = status.after(Event::Moderated(action))?;
        let mut detail = json!({"action": action, "rationale": moderation.rationale, "grade": row.grade});
        if !named.is_empty() {
            detail["items"] = json!(named);
        }
        match action {
            ModerationAction::Confirm => {
                row.released_at = Some(at);
                let queued = queue_outcome_emails(conn, composer, &guide, row)?;
                detail["emails_queued"] = json!(queued);
            }
            ModerationAction::ReferBack => {
                row.decision_json = None;
                row.grade = None;
                row.weighted_score = None;
                row.decided_at = None;
            }
        }
        row.status = next.as_str().to_string();
        Ok(Done::saved(ModerationOutcome { status: next, action }, format!("moderation.{}", action.as_str()), detail))
    })
}
