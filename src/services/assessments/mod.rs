//! One apprentice's EPA from registration to released outcome, one file per step of the day:
//! registration, gateway, panel, declaration, viva record, sealed score sheets, consensus,
//! decision, moderation, the outcome emails, appeals against a released outcome, and reading (view, list, audit trail).
//!
//! This file holds what every step shares: finding the assessment for a caller (404, then 403)
//! with its row locked for a change, the seat a user holds on its panel, and the small helpers
//! for stored JSON and times. Each step's items are re-exported here, so callers name them as
//! `services::assessments::…`.

mod adjustments;
mod appeals;
mod attempts;
mod consensus;
mod decision;
mod declaration;
mod evidence;
mod gateway;
mod moderation;
mod outcome_emails;
mod panel;
mod reading;
mod registration;
mod scores;
mod sign_off;
mod viva;

pub use adjustments::*;
pub use appeals::*;
pub use attempts::*;
pub use consensus::*;
pub use decision::*;
pub use declaration::*;
pub use evidence::*;
pub use gateway::*;
pub use moderation::*;
pub use outcome_emails::*;
pub use panel::*;
pub use reading::*;
pub use registration::*;
pub use scores::*;
pub use sign_off::*;
pub use viva::*;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::models::*;
use crate::db::{format_time, DbConnection};
use crate::domain::assessment::{ModerationAction, Status};
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{can_see, may, Action, Seat};
use crate::domain::scoring::{self, Kept};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::standards::Guides;
use crate::services::Actor;

const NOTE_MAX: usize = 20_000;

/// The items moderation's latest moderation named when it referred the decision back (empty:
/// none named, every item reopened, as in v1; also for a confirmation).
pub fn referred_items(moderation: &ModerationRow) -> AppResult<Vec<ItemKey>> {
    Ok(parse_stored::<Vec<ItemKey>>("refer-back items", &moderation.items_json)?.unwrap_or_default())
}

/// The agreed items the consensus now being worked on does not reopen, from the assessment's
/// latest moderation (read beside it): while the assessment is back in `consensus` after a
/// refer-back that named items, every item it did not name stays agreed as the decision it
/// referred back agreed it ([`scoring::kept_after_refer_back`]); otherwise none.
pub fn kept_of(latest_moderation: Option<&ModerationRow>, status: Status) -> AppResult<Kept> {
    let Some(m) = latest_moderation.filter(|m| m.action == ModerationAction::ReferBack.as_str()) else {
        return Ok(Kept::new());
    };
    if status != Status::Consensus {
        return Ok(Kept::new());
    }
    let named = referred_items(m)?;
    if named.is_empty() {
        return Ok(Kept::new());
    }
    let decided: Option<StoredDecision> = parse_stored("referred-back decision", &Some(m.decision_json.clone()))?;
    Ok(scoring::kept_after_refer_back(decided.as_ref().map_or(&[][..], |d| &d.decision.items), &named))
}

/// The one place a step asks which items stay agreed for the consensus it works on: a later
/// attempt's carried-over items ([`carried_over_of`]), and after a refer-back that named items
/// the others (reads the latest moderation; see [`kept_of`]).
fn kept_now(conn: &mut DbConnection, row: &AssessmentRow) -> AppResult<Kept> {
    let status: Status = row.status.parse().map_err(|e: String| anyhow::anyhow!("assessment {}: {e}", row.id))?;
    let mut kept = carried_over_of(row)?;
    if status == Status::Consensus {
        kept.extend(kept_of(latest_moderation_of(conn, &row.id)?.as_ref(), status)?);
    }
    Ok(kept)
}

/// An assessment as found for one caller, with the caller's seat on its panel.
pub struct Found {
    pub row: AssessmentRow,
    pub seat: Option<Seat>,
    pub status: Status,
}

pub fn seat_of(row: &AssessmentRow, user_id: &str) -> Option<Seat> {
    super::views::panel_of(row).seat_of(user_id)
}

pub use super::views::seating_of;

/// Finds the assessment for `actor` and checks they may do `action`: 404 when it does not exist
/// or is not theirs to see, then 403 when they may see it but not do this.
///
/// For a change (any action but viewing) the assessment's row is locked first, so concurrent
/// changes to one assessment run one after the other: without it, three members submitting at
/// once on PostgreSQL could each see the others' sheets unsubmitted, and none would move the
/// assessment on to consensus. (SQLite has a single writer already.)
pub fn find_for(conn: &mut DbConnection, actor: &Actor, id: &str, action: Action) -> AppResult<Found> {
    if !matches!(action, Action::ViewAssessment | Action::ViewAudit | Action::ViewReports) {
        lock_assessment(conn, id)?;
    }
    let row = find_assessment(conn, id)?.ok_or_else(|| AppError::not_found("assessment"))?;
    let seat = seat_of(&row, &actor.id);
    if !can_see(actor.role, seat) {
        return Err(AppError::not_found("assessment"));
    }
    if !may(actor.role, seat, action, &seating_of(&row)?) {
        return Err(AppError::forbidden(forbidden_message(action)));
    }
    let status = row.status.parse().map_err(|e: String| anyhow::anyhow!("assessment {id}: {e}"))?;
    Ok(Found { row, seat, status })
}

fn forbidden_message(action: Action) -> &'static str {
    match action {
        Action::RecordGateway => {
            "only the assessment's line manager, its training provider or an admin may confirm the gateway"
        }
        Action::RecordAdjustments => {
            "only the assessment's line manager, its training provider or an admin may record reasonable adjustments"
        }
        Action::AppointPanel | Action::Administer => "only an admin of the assessment body may do this",
        Action::Declare => "only the appointed independent assessor declares independence",
        Action::RecordViva | Action::Score => "only the panel's members who score may do this",
        Action::RecordEvidence => "only the panel's members may do this",
        Action::RecordConsensus | Action::Decide => {
            "only the panel's tie-breaker (the independent assessor unless the guide names another seat), or the only seat of a one-seat panel, records the consensus and the decision"
        }
        Action::Moderate => "only a moderator who is not on this panel may moderate",
        Action::SignOff => {
            "only the assessment's line manager and training provider sign off the agreed scores, unless their seat made the decision; the independent assessor does not"
        }
        Action::ViewAssessment | Action::ViewAudit => "you may not see this assessment",
        Action::ViewReports => "only assessment-body staff may run reports",
    }
}

fn guide_of(conn: &mut DbConnection, guides: &Guides, row: &AssessmentRow) -> AppResult<std::sync::Arc<Guide>> {
    guides
        .get(conn, &row.standard_id, &row.standard_version)?
        .ok_or_else(|| anyhow::anyhow!("assessment {} names a missing standard version", row.id).into())
}

pub(in crate::services) fn parse_stored<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &Option<String>,
) -> AppResult<Option<T>> {
    text.as_deref()
        .map(|t| serde_json::from_str(t).map_err(|e| anyhow::anyhow!("stored {what} is unreadable: {e}").into()))
        .transpose()
}

#[expect(clippy::expect_used, reason = "our own plain data (no maps with non-string keys) always serialises")]
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data always serialises")
}

/// Parses an RFC 3339 time and returns it in the stored UTC form.
fn parse_time(field: &str, text: &str) -> AppResult<String> {
    DateTime::parse_from_rfc3339(text).map(|t| format_time(t.with_timezone(&Utc))).map_err(|_| {
        AppError::bad_input(
            ErrorCode::InvalidTime,
            format!("{text:?} is not an RFC 3339 time such as 2026-12-01T10:00:00Z"),
        )
        .at(field)
    })
}

/// Checks that `user_id` names a user who may take `seat`.
fn seat_holder(conn: &mut DbConnection, field: &str, user_id: &str, seat: Seat) -> AppResult<User> {
    let user = find_user(conn, user_id)?
        .filter(|u| u.revoked_at.is_none())
        .ok_or_else(|| AppError::bad_input(ErrorCode::UnknownUser, format!("no user {user_id:?}")).at(field))?;
    if user.role != seat.role().as_str() {
        return Err(AppError::bad_input(
            ErrorCode::WrongRole,
            format!("{} is a {}, not a {}", user.name, user.role, seat.role().as_str()),
        )
        .at(field));
    }
    Ok(user)
}
