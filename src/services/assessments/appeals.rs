//! Reviews and appeals against a released outcome: the admin lodges the appeal on the apprentice's,
//! employer's or provider's behalf, appoints an independent assessor with no part in the
//! assessment to review it, and that reviewer decides it once: upheld (the agreed scores named
//! are replaced, the grade is chosen again by the domain's one decision function, the earlier
//! grade is kept, and one amended outcome email per recipient is queued when the grade changed)
//! or not upheld (recorded, nothing else changes). Each step is audited on the assessment's trail.
//!
//! What the appeal is about and who may review it are the domain's (`domain::appeal`); the
//! assessment body's appeals policy (deadlines, hearings, further appeal) stays outside.

use std::collections::HashMap;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::appeals::{
    all_appeals, appeals_of, find_appeal, insert_appeal, released_decided_by, save_appeal, AppealRow,
};
use crate::db::models::*;
use crate::db::{format_time, new_id, now, DbConnection};
use crate::domain::appeal::{self, AppealOutcome, AppealStatus, Candidate, Involved, RequestedBy, ScoreChange};
use crate::domain::guide::ItemKey;
use crate::domain::permissions::{can_see_appeal, may_appeal, Action, AppealAction, Role};
use crate::domain::workflow::Step;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::mail::{Amendment, Composer};
use crate::services::change::{change, record, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_text, Actor, Input};

use super::{graded, guide_of, parse_stored, queue_amended_outcome_emails, round4, to_json, StoredDecision, NOTE_MAX};

/// An item of the guide an appeal names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealItem {
    pub component: String,
    pub criterion: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LodgeAppealInput {
    pub grounds: String,
    #[serde(default)]
    pub items: Vec<AppealItem>,
    /// `apprentice` (when left out), `employer` or `training_provider`.
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewerInput {
    pub reviewer_id: String,
}

/// An agreed score an upheld decision replaces.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendedItem {
    pub component: String,
    pub criterion: String,
    pub agreed_score: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionInput {
    /// `upheld` or `not_upheld`.
    pub outcome: String,
    /// When upheld: the agreed scores it replaces (none when not upheld).
    #[serde(default)]
    pub items: Vec<AmendedItem>,
    pub rationale: String,
}

/// An appeal as `GET /appeals/{appeal_id}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: String,
    pub assessment_id: String,
    pub status: AppealStatus,
    pub grounds: String,
    pub items: Vec<AppealItem>,
    pub requested_by: RequestedBy,
    pub lodged_by: String,
    pub lodged_at: String,
    pub reviewer: Option<ReviewerView>,
    pub decision: Option<AppealDecisionView>,
    /// Once decided: the other released assessments the assessment's independent assessor
    /// decided in the 12 months before the decision (`[]` before).
    pub related: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewerView {
    pub id: String,
    pub name: String,
    pub appointed_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealDecisionView {
    /// `upheld` or `not_upheld`.
    pub outcome: String,
    pub rationale: String,
    /// The agreed scores it replaced (`[]` when none changed).
    pub changes: Vec<ScoreChange>,
    /// Whether it amended the outcome (changed agreed scores).
    pub amended: bool,
    pub grade_before: Option<String>,
    pub weighted_score_before: Option<f64>,
    pub grade_after: Option<String>,
    pub weighted_score_after: Option<f64>,
    pub decided_by: Option<String>,
    pub decided_at: String,
}

/// One outcome an assessment has had, oldest first (shown once an appeal amended it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GradeChange {
    pub grade: String,
    pub weighted_score: Option<f64>,
    /// When it became the outcome.
    pub at: String,
    /// `decision` (the panel's, as moderated) or `appeal_upheld`.
    pub reason: String,
    /// The appeal that set it, for `appeal_upheld`.
    pub appeal_id: Option<String>,
}

/// Whether `appeal` amended its assessment: upheld, it replaced agreed scores and chose the
/// grade again (`GET …/{id}`'s `amended`, `outcomes.csv`'s `amended`).
pub fn amends(appeal: &AppealRow) -> bool {
    appeal.grade_after.is_some()
}

/// The outcomes assessment `row` has had, oldest first, the last being the current one: empty
/// while no appeal has amended it.
pub fn grade_history(row: &AssessmentRow, appeals: &[AppealRow]) -> Vec<GradeChange> {
    let mut amending: Vec<&AppealRow> =
        appeals.iter().filter(|a| a.assessment_id == row.id && a.grade_after.is_some()).collect();
    amending.sort_by(|a, b| a.decided_at.cmp(&b.decided_at));
    let Some(first) = amending.first() else { return Vec::new() };
    let mut history = vec![GradeChange {
        grade: first.grade_before.clone().unwrap_or_default(),
        weighted_score: first.weighted_score_before,
        at: row.decided_at.clone().unwrap_or_default(),
        reason: "decision".into(),
        appeal_id: None,
    }];
    history.extend(amending.iter().map(|a| GradeChange {
        grade: a.grade_after.clone().unwrap_or_default(),
        weighted_score: a.weighted_score_after,
        at: a.decided_at.clone().unwrap_or_default(),
        reason: "appeal_upheld".into(),
        appeal_id: Some(a.id.clone()),
    }));
    history
}

fn stored_status(row: &AppealRow) -> AppResult<AppealStatus> {
    AppealStatus::parse(&row.status).ok_or_else(|| anyhow::anyhow!("appeal {}: status {:?}", row.id, row.status).into())
}

fn view_of(row: &AppealRow, names: &HashMap<String, String>) -> AppResult<AppealView> {
    let status = stored_status(row)?;
    let items: Vec<AppealItem> = parse_stored("appeal items", &Some(row.items_json.clone()))?.unwrap_or_default();
    let requested_by = RequestedBy::parse(&row.requested_by).map_err(|e| anyhow::anyhow!("appeal {}: {e}", row.id))?;
    let reviewer = match (&row.reviewer_id, &row.reviewer_appointed_at) {
        (Some(id), Some(at)) => Some(ReviewerView {
            id: id.clone(),
            name: names.get(id).cloned().unwrap_or_default(),
            appointed_at: at.clone(),
        }),
        _ => None,
    };
    let decision = match (status.is_decided(), &row.decided_at) {
        (true, Some(at)) => Some(AppealDecisionView {
            outcome: status.as_str().to_string(),
            rationale: row.rationale.clone().unwrap_or_default(),
            changes: parse_stored("appeal changes", &row.changes_json)?.unwrap_or_default(),
            amended: row.grade_after.is_some(),
            grade_before: row.grade_before.clone(),
            weighted_score_before: row.weighted_score_before,
            grade_after: row.grade_after.clone(),
            weighted_score_after: row.weighted_score_after,
            decided_by: row.reviewer_id.clone(),
            decided_at: at.clone(),
        }),
        _ => None,
    };
    Ok(AppealView {
        id: row.id.clone(),
        assessment_id: row.assessment_id.clone(),
        status,
        grounds: row.grounds.clone(),
        items,
        requested_by,
        lodged_by: row.lodged_by.clone(),
        lodged_at: row.lodged_at.clone(),
        reviewer,
        decision,
        related: parse_stored("related", &row.related_json)?.unwrap_or_default(),
    })
}

fn views_of(conn: &mut DbConnection, rows: &[AppealRow]) -> AppResult<Vec<AppealView>> {
    let ids: Vec<String> = rows.iter().filter_map(|r| r.reviewer_id.clone()).collect();
    let names = crate::services::people::names_of(conn, &ids)?;
    rows.iter().map(|r| view_of(r, &names)).collect()
}

fn one_view(conn: &mut DbConnection, row: &AppealRow) -> AppResult<AppealView> {
    let mut views = views_of(conn, std::slice::from_ref(row))?;
    views.pop().ok_or_else(|| anyhow::anyhow!("an appeal without its view").into())
}

fn forbidden_message(action: AppealAction) -> &'static str {
    match action {
        AppealAction::View | AppealAction::List => "only assessment-body staff see the appeals",
        AppealAction::AppointReviewer => "only an admin of the assessment body appoints an appeal's reviewer",
        AppealAction::Decide => "only the appeal's appointed reviewer decides it",
    }
}

/// Finds the appeal for `actor` and checks they may do `action`: 404 when it does not exist or
/// is not theirs to see, then 403. For a change, its assessment's row is locked first (as every
/// change to an assessment does), and the appeal read again under the lock.
fn find_appeal_for(conn: &mut DbConnection, actor: &Actor, id: &str, action: AppealAction) -> AppResult<AppealRow> {
    let mut appeal = find_appeal(conn, id)?.ok_or_else(|| AppError::not_found("appeal"))?;
    let is_reviewer = appeal.reviewer_id.as_deref() == Some(actor.id.as_str());
    if !can_see_appeal(actor.role, is_reviewer) {
        return Err(AppError::not_found("appeal"));
    }
    if !may_appeal(actor.role, is_reviewer, action) {
        return Err(AppError::forbidden(forbidden_message(action)));
    }
    if !matches!(action, AppealAction::View | AppealAction::List) {
        lock_assessment(conn, &appeal.assessment_id)?;
        appeal = find_appeal(conn, id)?.ok_or_else(|| AppError::not_found("appeal"))?;
    }
    Ok(appeal)
}

fn assessment_of(conn: &mut DbConnection, appeal: &AppealRow) -> AppResult<AssessmentRow> {
    find_assessment(conn, &appeal.assessment_id)?
        .ok_or_else(|| anyhow::anyhow!("appeal {} names a missing assessment", appeal.id).into())
}

/// Lodges an appeal against assessment `id`'s released outcome (admin): 400 naming `grounds`,
/// `requested_by` or `items[i]`, then 409 `wrong_state` unless the outcome is released.
pub fn lodge_appeal(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<LodgeAppealInput>,
) -> AppResult<AppealView> {
    change(conn, actor, id, Action::Administer, input, |Change { conn, row, status, body: input, .. }| {
        check_text("grounds", &input.grounds, NOTE_MAX)?;
        let requested_by = match input.requested_by.as_deref().map(str::trim) {
            None | Some("") => RequestedBy::Apprentice,
            Some(r) => RequestedBy::parse(r)?,
        };
        let guide = guide_of(conn, guides, row)?;
        let keys: Vec<ItemKey> = input.items.iter().map(|i| ItemKey::new(&i.component, &i.criterion)).collect();
        appeal::check_items(&guide, &keys)?;
        status.allows(Step::LodgeAppeal)?;
        let stored = AppealRow {
            id: new_id(),
            assessment_id: row.id.clone(),
            status: AppealStatus::Open.as_str().to_string(),
            grounds: input.grounds.trim().to_string(),
            items_json: to_json(&input.items),
            requested_by: requested_by.as_str().to_string(),
            lodged_by: actor.id.clone(),
            lodged_at: now(),
            reviewer_id: None,
            reviewer_appointed_at: None,
            rationale: None,
            changes_json: None,
            related_json: None,
            decided_at: None,
            grade_before: None,
            weighted_score_before: None,
            grade_after: None,
            weighted_score_after: None,
        };
        insert_appeal(conn, &stored)?;
        let detail = json!({"appeal_id": stored.id, "grounds": stored.grounds, "items": input.items,
                            "requested_by": stored.requested_by});
        Ok(Done::audited(view_of(&stored, &HashMap::new())?, "appeal.lodged", detail))
    })
}

/// Appoints (or, while under review, replaces) the appeal's reviewer (admin): 400 naming
/// `reviewer_id` for no such user, 409 `reviewer_conflicted` / `reviewer_not_assessor` (see
/// [`appeal::check_reviewer`]), 409 `wrong_state` once decided.
pub fn appoint_reviewer(
    conn: &mut DbConnection,
    actor: &Actor,
    appeal_id: &str,
    input: Input<ReviewerInput>,
) -> AppResult<AppealView> {
    record(conn, Some(actor), |conn| {
        let mut appeal = find_appeal_for(conn, actor, appeal_id, AppealAction::AppointReviewer)?;
        let input = input.body?;
        let reviewer_id = input.reviewer_id.trim();
        let reviewer =
            find_user(conn, reviewer_id)?.filter(|u| u.revoked_at.is_none() && u.disabled_at.is_none()).ok_or_else(
                || AppError::bad_input(ErrorCode::UnknownUser, format!("no user {reviewer_id:?}")).at("reviewer_id"),
            )?;
        let row = assessment_of(conn, &appeal)?;
        let apprentice = find_apprentice(conn, &row.apprentice_id)?
            .ok_or_else(|| anyhow::anyhow!("assessment {} without its apprentice", row.id))?;
        let mut panel = vec![row.line_manager_id.as_str(), row.training_provider_user_id.as_str()];
        panel.extend(row.independent_assessor_id.as_deref());
        let moderators = crate::db::assessments::moderators_of(conn, &row.id)?;
        let moderators: Vec<&str> = moderators.iter().map(String::as_str).collect();
        let role: Role = reviewer.role.parse().map_err(|e: String| anyhow::anyhow!("user {}: {e}", reviewer.id))?;
        appeal::check_reviewer(
            Candidate { user_id: &reviewer.id, role, organisation_id: reviewer.organisation_id.as_deref() },
            Involved {
                panel: &panel,
                moderators: &moderators,
                employer_id: &apprentice.employer_id,
                provider_id: &apprentice.training_provider_id,
            },
        )
        .map_err(|e| prefix_name(e, &reviewer.name))?;
        let next = stored_status(&appeal)?.after_appointment()?;
        let previous = appeal.reviewer_id.replace(reviewer.id.clone());
        appeal.reviewer_appointed_at = Some(now());
        appeal.status = next.as_str().to_string();
        save_appeal(conn, &appeal)?;
        let detail = json!({"appeal_id": appeal.id, "reviewer_id": reviewer.id, "replaces": previous});
        let view = one_view(conn, &appeal)?;
        Ok(Done::audited(view, "appeal.reviewer_appointed", detail).about(appeal.assessment_id.clone()))
    })
}

/// The reviewer's refusal speaks of them by name: "Ivan Insider works for …".
fn prefix_name(e: crate::domain::DomainError, name: &str) -> AppError {
    let mut e = e;
    e.fault.reason = format!("{name} {}", e.fault.reason);
    e.into()
}

/// The appointed reviewer decides the appeal, once: 400 naming `outcome`, `rationale` or
/// `items[i]`, 409 `wrong_state` when already decided. Upheld, the items replace those agreed
/// scores and the grade and weighted score are chosen again; when the grade changed, one amended
/// outcome email per recipient is queued in the same transaction.
pub fn decide_appeal(
    conn: &mut DbConnection,
    guides: &Guides,
    composer: &Composer,
    actor: &Actor,
    appeal_id: &str,
    input: Input<AppealDecisionInput>,
) -> AppResult<AppealView> {
    record(conn, Some(actor), |conn| {
        let mut appeal = find_appeal_for(conn, actor, appeal_id, AppealAction::Decide)?;
        let input = input.body?;
        let outcome = AppealOutcome::parse(input.outcome.trim())?;
        check_text("rationale", &input.rationale, NOTE_MAX)?;
        if outcome == AppealOutcome::NotUpheld && !input.items.is_empty() {
            return Err(AppError::bad_input(
                ErrorCode::InvalidChoice,
                "an appeal that is not upheld changes no agreed score; leave items out",
            )
            .at("items"));
        }
        let mut row = assessment_of(conn, &appeal)?;
        let guide = guide_of(conn, guides, &row)?;
        let mut stored: StoredDecision = parse_stored("decision", &row.decision_json)?
            .ok_or_else(|| anyhow::anyhow!("released assessment {} without its decision", row.id))?;
        let items: Vec<(ItemKey, i64)> =
            input.items.iter().map(|i| (ItemKey::new(&i.component, &i.criterion), i.agreed_score)).collect();
        let (amended, changes) = appeal::amend(&guide, &stored.decision, &items)?;
        let next = stored_status(&appeal)?.after_decision(outcome)?;
        let at = now();
        let related = related_to(conn, &row, &at)?;
        let mut queued = 0;
        if !changes.is_empty() {
            let (grade_before, score_before) = (row.grade.clone(), row.weighted_score);
            let mut decision = graded(&guide, &row, amended)?;
            decision.weighted_score = round4(decision.weighted_score);
            row.grade = Some(decision.grade.clone());
            row.weighted_score = Some(decision.weighted_score);
            stored.decision = decision;
            row.decision_json = Some(to_json(&stored));
            save_assessment(conn, &mut row)?;
            appeal.grade_after = row.grade.clone();
            appeal.weighted_score_after = row.weighted_score;
            if grade_before != row.grade {
                let previous = grade_before.clone().unwrap_or_default();
                let amendment =
                    Amendment { previous_grade: &previous, reviewed_at: &at, scores_changed: changes.len() };
                queued = queue_amended_outcome_emails(conn, composer, &guide, &row, &amendment)?;
            }
            appeal.grade_before = grade_before;
            appeal.weighted_score_before = score_before;
        }
        appeal.status = next.as_str().to_string();
        appeal.rationale = Some(input.rationale.trim().to_string());
        appeal.changes_json = Some(to_json(&changes));
        appeal.related_json = Some(to_json(&related));
        appeal.decided_at = Some(at);
        save_appeal(conn, &appeal)?;
        let detail = json!({"appeal_id": appeal.id, "outcome": next.as_str(), "rationale": appeal.rationale,
                            "changes": changes, "grade_before": appeal.grade_before, "grade_after": appeal.grade_after,
                            "emails_queued": queued, "related": related});
        let view = one_view(conn, &appeal)?;
        Ok(Done::audited(view, "appeal.decided", detail).about(appeal.assessment_id.clone()))
    })
}

/// The other released assessments that `row`'s independent assessor decided in the 12 months
/// before `at`.
fn related_to(conn: &mut DbConnection, row: &AssessmentRow, at: &str) -> AppResult<Vec<String>> {
    let Some(assessor) = row.independent_assessor_id.as_deref() else { return Ok(Vec::new()) };
    let until: DateTime<Utc> =
        DateTime::parse_from_rfc3339(at).map_err(|e| anyhow::anyhow!("time {at:?}: {e}"))?.with_timezone(&Utc);
    let from = until.checked_sub_months(Months::new(12)).unwrap_or(DateTime::<Utc>::MIN_UTC);
    Ok(released_decided_by(conn, assessor, &format_time(from), at, &row.id)?)
}

/// Every appeal, newest first (admin, moderator).
pub fn list_appeals(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<AppealView>> {
    if !may_appeal(actor.role, false, AppealAction::List) {
        return Err(AppError::forbidden(forbidden_message(AppealAction::List)));
    }
    let rows = all_appeals(conn)?;
    views_of(conn, &rows)
}

/// One appeal (admin, moderator, its appointed reviewer).
pub fn view_appeal(conn: &mut DbConnection, actor: &Actor, appeal_id: &str) -> AppResult<AppealView> {
    let row = find_appeal_for(conn, actor, appeal_id, AppealAction::View)?;
    one_view(conn, &row)
}

/// The appeals of assessment `id` as its page and view show them (staff only; others see none).
pub fn appeals_of_assessment(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<Vec<AppealView>> {
    if !actor.role.is_staff() {
        return Ok(Vec::new());
    }
    let rows = appeals_of(conn, &[id.to_string()])?;
    views_of(conn, &rows)
}

/// An agreed score an appeal queries, as it stands now (the appeal's page shows it beside the
/// reviewer's new score).
#[derive(Debug, Clone, Serialize)]
pub struct QueriedScore {
    pub component: String,
    pub criterion: String,
    pub agreed_score: i32,
}

/// An appeal with what its pages show around it: whose assessment it is and, on its own page,
/// the agreed scores it queries.
#[derive(Debug, Clone, Serialize)]
pub struct AppealInContext {
    pub appeal: AppealView,
    pub apprentice_id: String,
    pub apprentice_name: String,
    /// The agreed scores of the items queried (every item when the appeal names none); empty
    /// in lists.
    pub queried: Vec<QueriedScore>,
    /// The assessment's guide (standard id and version), for the items' words.
    pub standard_id: String,
    pub standard_version: String,
}

fn in_context(conn: &mut DbConnection, views: Vec<AppealView>) -> AppResult<Vec<AppealInContext>> {
    let ids: Vec<String> = views.iter().map(|v| v.assessment_id.clone()).collect();
    let apprentices: HashMap<String, (String, String)> = crate::db::appeals::apprentices_of(conn, &ids)?
        .into_iter()
        .map(|(assessment, id, name)| (assessment, (id, name)))
        .collect();
    Ok(views
        .into_iter()
        .map(|appeal| {
            let (apprentice_id, apprentice_name) = apprentices.get(&appeal.assessment_id).cloned().unwrap_or_default();
            AppealInContext {
                appeal,
                apprentice_id,
                apprentice_name,
                queried: Vec::new(),
                standard_id: String::new(),
                standard_version: String::new(),
            }
        })
        .collect())
}

/// Every appeal with its apprentice, newest first (admin, moderator): `GET /appeals` as a page.
pub fn list_appeals_in_context(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<AppealInContext>> {
    let views = list_appeals(conn, actor)?;
    in_context(conn, views)
}

/// The appeals `actor` is appointed to review and has not decided yet, oldest first (their
/// home page lists them).
pub fn appeals_to_decide(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<AppealInContext>> {
    let rows = crate::db::appeals::under_review_by(conn, &actor.id)?;
    let views = views_of(conn, &rows)?;
    in_context(conn, views)
}

/// One appeal as its page shows it (admin, moderator, its appointed reviewer; else 404): with
/// the agreed scores it queries, read from the assessment's decision.
pub fn appeal_in_context(conn: &mut DbConnection, actor: &Actor, appeal_id: &str) -> AppResult<AppealInContext> {
    let row = find_appeal_for(conn, actor, appeal_id, AppealAction::View)?;
    let assessment = assessment_of(conn, &row)?;
    let view = one_view(conn, &row)?;
    let stored: Option<StoredDecision> = parse_stored("decision", &assessment.decision_json)?;
    let agreed = stored.map(|s| s.decision.items).unwrap_or_default();
    let queried = agreed
        .iter()
        .filter(|i| {
            view.items.is_empty() || view.items.iter().any(|q| q.component == i.component && q.criterion == i.criterion)
        })
        .map(|i| QueriedScore {
            component: i.component.clone(),
            criterion: i.criterion.clone(),
            agreed_score: i.agreed_score,
        })
        .collect();
    let mut out = in_context(conn, vec![view])?.pop().ok_or_else(|| anyhow::anyhow!("an appeal without its view"))?;
    out.queried = queried;
    out.standard_id = assessment.standard_id;
    out.standard_version = assessment.standard_version;
    Ok(out)
}
