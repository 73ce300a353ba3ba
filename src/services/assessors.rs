//! The assessor register (admin): each independent assessor's experience, the standards they are
//! approved for, when they were trained and last standardised; a user as the API shows it with
//! their record; and who is due for standardisation.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::change::{record, Done};
use super::standards::Guides;
use super::Actor;
use super::Input;
use crate::db::models::*;
use crate::db::{now, DbConnection};
use crate::domain::eligibility::Day;
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult, ErrorCode};

pub const EXPERIENCE_MAX: u32 = 80;
pub const STANDARDS_MAX: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessorRecordInput {
    /// Years of relevant professional experience (0-80).
    pub experience_years: u32,
    /// The ids of the standards the assessor is approved for; each must exist.
    pub standards: Vec<String>,
    /// When the assessor was trained for the assessment (`YYYY-MM-DD`); null: not yet.
    #[serde(default)]
    pub trained_on: Option<String>,
    /// When the assessor last attended standardisation (`YYYY-MM-DD`); null: never.
    #[serde(default)]
    pub standardised_on: Option<String>,
}

/// An assessor's record as `GET /users/{id}` and `PUT …/assessor-record` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessorRecordView {
    pub experience_years: u32,
    pub standards: Vec<String>,
    pub trained_on: Option<String>,
    pub standardised_on: Option<String>,
    /// Who saved it (user id) and when.
    pub updated_by: String,
    pub updated_at: String,
}

impl AssessorRecordView {
    fn of(r: &AssessorRecordRow) -> AppResult<Self> {
        let standards = serde_json::from_str(&r.standards_json)
            .map_err(|e| anyhow::anyhow!("assessor record of {}: standards unreadable: {e}", r.user_id))?;
        Ok(AssessorRecordView {
            experience_years: r.experience_years.max(0) as u32,
            standards,
            trained_on: r.trained_on.clone(),
            standardised_on: r.standardised_on.clone(),
            updated_by: r.updated_by.clone(),
            updated_at: r.updated_at.clone(),
        })
    }
}

/// `GET /users/{id}`: a user, with their assessor record when they are an independent assessor
/// (null when none is recorded, and for every other role).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub disabled: bool,
    pub assessor_record: Option<AssessorRecordView>,
}

/// The user `id` as an admin sees it: 404 when there is none, then 403 for anyone but an admin.
pub fn show_user(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<UserView> {
    let user = find_user(conn, id)?.ok_or_else(|| AppError::not_found("user"))?;
    require_admin(actor)?;
    let assessor_record = find_assessor_record(conn, &user.id)?.as_ref().map(AssessorRecordView::of).transpose()?;
    Ok(UserView {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        organisation_id: user.organisation_id,
        disabled: user.disabled_at.is_some(),
        assessor_record,
    })
}

fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden("only an admin of the assessment body keeps the assessor register"))
    }
}

fn date(field: &str, text: &Option<String>) -> AppResult<Option<String>> {
    match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Day::parse(t).map(|d| Some(d.to_string())).ok_or_else(|| {
            AppError::bad_input(ErrorCode::InvalidDate, format!("{t:?} is not a date YYYY-MM-DD such as 2026-03-01"))
                .at(field)
        }),
    }
}

/// Saves the assessor record of user `id`, replacing the one before: 404 no such user, 403 not an
/// admin, 400 naming the field (`experience_years`, `standards[1]` that names no standard, a date
/// that is not `YYYY-MM-DD`) or `id` when the user is not an independent assessor.
pub fn save_assessor_record(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<AssessorRecordInput>,
) -> AppResult<AssessorRecordView> {
    record(conn, Some(actor), |conn| {
        let user = find_user(conn, id)?.ok_or_else(|| AppError::not_found("user"))?;
        require_admin(actor)?;
        let input = input.body?;
        if user.role != Role::IndependentAssessor.as_str() {
            return Err(AppError::bad_input(
                ErrorCode::WrongRole,
                format!("{} is a {}; only independent assessors are on the assessor register", user.name, user.role),
            )
            .at("id"));
        }
        if input.experience_years > EXPERIENCE_MAX {
            return Err(AppError::bad_input(ErrorCode::InvalidBody, format!("must be 0-{EXPERIENCE_MAX} years"))
                .at("experience_years"));
        }
        if input.standards.len() > STANDARDS_MAX {
            return Err(AppError::bad_input(ErrorCode::TooMany, format!("at most {STANDARDS_MAX}")).at("standards"));
        }
        let mut standards: Vec<String> = Vec::new();
        for (i, s) in input.standards.iter().enumerate() {
            let field = format!("standards[{i}]");
            let s = s.trim();
            if standards.iter().any(|k| k == s) {
                return Err(AppError::bad_input(ErrorCode::DuplicateItem, format!("{s:?} is listed twice")).at(field));
            }
            if s.is_empty() || guides.latest(conn, s)?.is_none() {
                return Err(AppError::bad_input(ErrorCode::UnknownStandard, format!("no standard {s:?}")).at(field));
            }
            standards.push(s.to_string());
        }
        let trained_on = date("trained_on", &input.trained_on)?;
        let standardised_on = date("standardised_on", &input.standardised_on)?;
        let row = AssessorRecordRow {
            user_id: user.id.clone(),
            experience_years: input.experience_years as i32,
            standards_json: serde_json::to_string(&standards).map_err(anyhow::Error::from)?,
            trained_on,
            standardised_on,
            updated_by: actor.id.clone(),
            updated_at: now(),
        };
        replace_assessor_record(conn, &row)?;
        let view = AssessorRecordView::of(&row)?;
        let detail = json!({"user_id": user.id, "experience_years": view.experience_years, "standards": view.standards,
                            "trained_on": view.trained_on, "standardised_on": view.standardised_on});
        Ok(Done::audited(view, "assessor_record.saved", detail))
    })
}

/// One independent assessor on the due-for-standardisation page.
#[derive(Debug, Clone, Serialize)]
pub struct StandardisationDue {
    pub user_id: String,
    pub name: String,
    pub organisation: Option<String>,
    pub standardised_on: Option<String>,
    /// When the standardisation runs out (the shortest window of the guides of the standards
    /// they are approved for).
    pub due_on: Option<String>,
    /// `no_record`, `never` (no standardisation recorded), `overdue` or `due` (within the horizon).
    pub state: &'static str,
}

/// The independent assessors who have no record, were never standardised, are overdue, or fall
/// due by `horizon` (inclusive), as of `today`; overdue and due are ordered by due date.
pub fn standardisation_due(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    today: Day,
    horizon: Day,
) -> AppResult<Vec<StandardisationDue>> {
    require_admin(actor)?;
    let assessors = users_of_role(conn, Role::IndependentAssessor.as_str())?;
    let ids: Vec<String> = assessors.iter().map(|(u, _)| u.id.clone()).collect();
    let records = assessor_records_of(conn, &ids)?;
    let mut windows: std::collections::HashMap<String, Option<u32>> = std::collections::HashMap::new();
    let mut due = Vec::new();
    for (user, organisation) in assessors {
        if user.disabled_at.is_some() {
            continue;
        }
        let entry = |standardised_on: Option<String>, due_on: Option<Day>, state| StandardisationDue {
            user_id: user.id.clone(),
            name: user.name.clone(),
            organisation: organisation.clone(),
            standardised_on,
            due_on: due_on.map(|d| d.to_string()),
            state,
        };
        let Some(r) = records.iter().find(|r| r.user_id == user.id) else {
            due.push(entry(None, None, "no_record"));
            continue;
        };
        let standards: Vec<String> = serde_json::from_str(&r.standards_json).unwrap_or_default();
        let mut window: Option<u32> = None;
        for s in &standards {
            if !windows.contains_key(s) {
                let w = guides.latest(conn, s)?.and_then(|g| g.assessors.as_ref()?.standardised_within_months);
                windows.insert(s.clone(), w);
            }
            if let Some(w) = windows.get(s).copied().flatten() {
                window = Some(window.map_or(w, |m| m.min(w)));
            }
        }
        let Some(months) = window else { continue };
        match r.standardised_on.as_deref().and_then(Day::parse) {
            None => due.push(entry(None, None, "never")),
            Some(s) => {
                let due_on = s.add_months(months);
                if due_on < today {
                    due.push(entry(Some(s.to_string()), Some(due_on), "overdue"));
                } else if due_on <= horizon {
                    due.push(entry(Some(s.to_string()), Some(due_on), "due"));
                }
            }
        }
    }
    due.sort_by(|a, b| (a.due_on.is_none(), &a.due_on, &a.name).cmp(&(b.due_on.is_none(), &b.due_on, &b.name)));
    Ok(due)
}

/// The assessor records of the users among `ids` (admin), by user id: one query for a page.
pub fn records_of(
    conn: &mut DbConnection,
    actor: &Actor,
    ids: &[String],
) -> AppResult<std::collections::HashMap<String, AssessorRecordView>> {
    require_admin(actor)?;
    assessor_records_of(conn, ids)?.iter().map(|r| Ok((r.user_id.clone(), AssessorRecordView::of(r)?))).collect()
}
