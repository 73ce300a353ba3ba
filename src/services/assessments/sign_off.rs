//! Sign-off of the agreed scores: after the decision, the assessment's line manager and training
//! provider each record that they agree with the agreed scores, or their dissent with its text.
//! Each call replaces that seat's sign-off. The seat that made the decision (the tie-breaker, or
//! a one-seat panel's only seat: the independent assessor in v1) does not sign off its own
//! decision. A line manager or provider whose seat did not score still signs off: for them it
//! records whether the employer (or provider) accepts the decided outcome, which moderation reads
//! beside the decision (`Action::SignOff` in `domain::permissions`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::permissions::{Action, Seat};
use crate::domain::workflow::Step;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::{check_length, check_text, Actor, Input};

const DISSENT_MAX: usize = 2000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffInput {
    pub agree: bool,
    /// Required when `agree` is false; left out (or empty) when `agree` is true.
    #[serde(default)]
    pub dissent: Option<String>,
}

/// One seat's sign-off as `GET /assessments/{id}` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignOff {
    pub seat: String,
    pub agree: bool,
    pub dissent: Option<String>,
    pub at: String,
}

impl From<&SignOffRow> for SignOff {
    fn from(r: &SignOffRow) -> Self {
        SignOff { seat: r.seat.clone(), agree: r.agree, dissent: r.dissent.clone(), at: r.at.clone() }
    }
}

/// Records `actor`'s seat's sign-off on assessment `id`: 400 naming `dissent` when it is
/// missing on a dissent or given with an agreement, 409 before the decision.
pub fn sign_off(conn: &mut DbConnection, actor: &Actor, id: &str, input: Input<SignOffInput>) -> AppResult<SignOff> {
    change(conn, actor, id, Action::SignOff, input, |Change { conn, row, status, seat, body: input }| {
        let dissent = input.dissent.as_deref().map(str::trim).filter(|d| !d.is_empty());
        match (input.agree, dissent) {
            (false, _) => check_text("dissent", input.dissent.as_deref().unwrap_or(""), DISSENT_MAX)?,
            (true, Some(_)) => {
                return Err(AppError::bad_input(
                    ErrorCode::InvalidChoice,
                    "a dissent goes with \"agree\": false; leave dissent out when you agree with the agreed scores",
                )
                .at("dissent"))
            }
            (true, None) => {}
        }
        if let Some(d) = dissent {
            check_length("dissent", d, DISSENT_MAX)?;
        }
        status.allows(Step::SignOff)?;
        let seat: Seat = seat.ok_or_else(|| anyhow::anyhow!("sign-off on {id} without a seat"))?;
        let stored = SignOffRow {
            assessment_id: row.id.clone(),
            seat: seat.as_str().to_string(),
            user_id: actor.id.clone(),
            agree: input.agree,
            dissent: dissent.map(str::to_string),
            at: now(),
        };
        replace_sign_off(conn, &stored)?;
        let detail = json!({"seat": stored.seat, "agree": stored.agree, "dissent": stored.dissent});
        Ok(Done::audited(SignOff::from(&stored), "sign_off.recorded", detail))
    })
}
