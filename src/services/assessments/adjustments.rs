//! Reasonable adjustments and special consideration: what the panel must allow for (extra time,
//! a reader, breaks…) and any special consideration, recorded before the assessment by an admin,
//! the line manager or the training provider. Each call replaces the record; it can change until
//! the panel is scoring (`registered`, `gateway_passed`, `scheduled`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{now, DbConnection};
use crate::domain::permissions::Action;
use crate::domain::workflow::Step;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::{check_length, check_one_line, check_text, Actor, Input};

use super::to_json;

/// Longest `kind` (a short name such as `extra_time`).
pub const KIND_MAX: usize = 60;
pub const DESCRIPTION_MAX: usize = 2000;
pub const SPECIAL_CONSIDERATION_MAX: usize = 4000;
pub const ADJUSTMENTS_MAX: usize = 30;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// A short name of the adjustment, e.g. `extra_time`, `reader`, `rest_breaks`.
    pub kind: String,
    /// What the panel must do.
    pub description: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentsInput {
    pub adjustments: Vec<Adjustment>,
    /// Special consideration (text); left out or empty: none.
    #[serde(default)]
    pub special_consideration: Option<String>,
}

/// The record as stored and as `GET /assessments/{id}` shows it (`adjustments`, null until one
/// is recorded).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredAdjustments {
    pub items: Vec<Adjustment>,
    pub special_consideration: Option<String>,
    /// Who recorded it (user id) and when.
    pub by: String,
    pub at: String,
}

/// Records the adjustments of assessment `id`, replacing the record before: 400 naming the
/// field (`adjustments[1].description`), 409 once the panel is scoring.
pub fn record_adjustments(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    input: Input<AdjustmentsInput>,
) -> AppResult<StoredAdjustments> {
    change(conn, actor, id, Action::RecordAdjustments, input, |Change { row, status, body: input, .. }| {
        if input.adjustments.len() > ADJUSTMENTS_MAX {
            return Err(AppError::bad_input(ErrorCode::TooMany, format!("at most {ADJUSTMENTS_MAX}")).at("adjustments"));
        }
        let mut items = Vec::with_capacity(input.adjustments.len());
        for (i, a) in input.adjustments.iter().enumerate() {
            let field = format!("adjustments[{i}].kind");
            check_text(&field, &a.kind, KIND_MAX)?;
            check_one_line(&field, &a.kind)?;
            check_text(&format!("adjustments[{i}].description"), &a.description, DESCRIPTION_MAX)?;
            items.push(Adjustment { kind: a.kind.trim().to_string(), description: a.description.trim().to_string() });
        }
        let special = input.special_consideration.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = special {
            check_length("special_consideration", s, SPECIAL_CONSIDERATION_MAX)?;
        }
        status.allows(Step::RecordAdjustments)?;
        let stored = StoredAdjustments {
            items,
            special_consideration: special.map(str::to_string),
            by: actor.id.clone(),
            at: now(),
        };
        row.adjustments_json = Some(to_json(&stored));
        // The descriptions may say why (health, disability): the trail records what kinds, not why.
        let kinds: Vec<&str> = stored.items.iter().map(|a| a.kind.as_str()).collect();
        let detail = json!({"count": stored.items.len(), "kinds": kinds, "special_consideration": stored.special_consideration.is_some()});
        Ok(Done::saved(stored, "adjustments.recorded", detail))
    })
}

/// How many adjustments the stored record lists (0 when none is recorded).
pub fn adjustments_count(adjustments_json: &Option<String>) -> usize {
    adjustments_json
        .as_deref()
        .and_then(|t| serde_json::from_str::<StoredAdjustments>(t).ok())
        .map_or(0, |a| a.items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_the_items_of_the_record() {
        assert_eq!(adjustments_count(&None), 0);
        let stored = StoredAdjustments {
            items: vec![Adjustment { kind: "extra_time".into(), description: "More time.".into() }; 2],
            special_consideration: None,
            by: "u".into(),
            at: "t".into(),
        };
        assert_eq!(adjustments_count(&Some(to_json(&stored))), 2);
    }
}
