//! Reviews and appeals as pages: the list (`/appeals`, admin and moderator), one appeal
//! (`/appeals/{id}`: its grounds and the agreed scores it queries; the admin's appointment of a
//! reviewer; the appointed reviewer's decision; after it, the outcome, the amended scores, the
//! grade before and after and the related assessments), and the words an appeal is shown in.
//! Every form calls the service the JSON API calls (`services::assessments` appeals), which
//! refuses a conflicted reviewer and does the decision in one transaction.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::assessment::panel::AssessorOption;
use super::assessment::Done;
use super::moderation::item_label;
use super::view::{day, when};
use super::{see_other, Form, FormError, Page, PageError};
use crate::domain::appeal::{can_now, AppealStatus, RequestedBy};
use crate::domain::guide::Guide;
use crate::domain::permissions::AppealAction;
use crate::domain::permissions::Role;
use crate::error::{AppError, ErrorCode};
use crate::local_time::Zone;
use crate::services::assessments::{
    self, AmendedItem, AppealDecisionInput, AppealInContext, AppealView, ReviewerInput,
};
use crate::services::{people, Input};

/// An appeal's status as people say it.
pub fn appeal_status_label(status: AppealStatus) -> &'static str {
    match status {
        AppealStatus::Open => "Lodged: no reviewer yet",
        AppealStatus::UnderReview => "Under review",
        AppealStatus::Upheld => "Upheld",
        AppealStatus::NotUpheld => "Not upheld",
    }
}

/// Who asked for the appeal, in words.
pub fn requested_by_label(by: RequestedBy) -> &'static str {
    match by {
        RequestedBy::Apprentice => "The apprentice",
        RequestedBy::Employer => "The employer",
        RequestedBy::TrainingProvider => "The training provider",
    }
}

/// One appeal as a line of a list (the appeals page, the assessment's page).
#[derive(Debug, Serialize)]
pub struct AppealLine {
    pub id: String,
    pub assessment_id: String,
    pub apprentice: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub reviewer: Option<String>,
    pub lodged: String,
    pub grounds: String,
}

pub fn appeal_line(zone: Zone, a: &AppealView, apprentice: &str) -> AppealLine {
    AppealLine {
        id: a.id.clone(),
        assessment_id: a.assessment_id.clone(),
        apprentice: apprentice.to_string(),
        status: a.status.as_str(),
        status_label: appeal_status_label(a.status),
        reviewer: a.reviewer.as_ref().map(|r| r.name.clone()),
        lodged: day(zone, &a.lodged_at),
        grounds: a.grounds.clone(),
    }
}

fn require_staff(page: &Page) -> Result<(), PageError> {
    if page.actor.role.is_staff() {
        Ok(())
    } else {
        Err(page.fail(&AppError::forbidden("only assessment-body staff see the appeals")))
    }
}

#[derive(Debug, Serialize)]
struct ListView {
    appeals: Vec<AppealLine>,
}

/// `GET /appeals`
pub async fn list_page(page: Page) -> Result<HttpResponse, PageError> {
    require_staff(&page)?;
    let (actor, zone) = (page.actor.clone(), page.pages.zone);
    let listed = page.run(move |conn| assessments::list_appeals_in_context(conn, &actor)).await?;
    let appeals = listed.iter().map(|a| appeal_line(zone, &a.appeal, &a.apprentice_name)).collect();
    page.render("pages/appeals.html", "Reviews and appeals", &ListView { appeals })
}

/// A queried item on the appeal's page: its agreed score now and, on the decision form, the
/// reviewer's new score (`score:{component}:{criterion}`; empty: unchanged).
#[derive(Debug, Serialize)]
struct QueriedRow {
    name: String,
    label: String,
    agreed_score: i32,
    new_score: String,
}

#[derive(Debug, Serialize)]
struct ChangeRow {
    label: String,
    from: i32,
    to: i32,
}

#[derive(Debug, Serialize)]
struct DecisionShown {
    outcome_label: &'static str,
    rationale: String,
    changes: Vec<ChangeRow>,
    grade_before: Option<String>,
    weighted_score_before: Option<String>,
    grade_after: Option<String>,
    weighted_score_after: Option<String>,
    decided: String,
    related: Vec<String>,
}

#[derive(Debug, Serialize)]
struct AppealPageView {
    notice: Option<&'static str>,
    error: Option<FormError>,
    /// Which form the error belongs to: `reviewer` or `decision`.
    error_form: &'static str,
    line: AppealLine,
    apprentice_id: String,
    requested_by: &'static str,
    lodged_by: String,
    lodged_at: String,
    reviewer_appointed: Option<String>,
    queried: Vec<QueriedRow>,
    /// The items named by the appeal (false: it names none, so every item is shown).
    names_items: bool,
    scale: Vec<String>,
    is_staff: bool,
    can_appoint: bool,
    assessors: Vec<AssessorOption>,
    can_decide: bool,
    outcome: String,
    rationale: String,
    decision: Option<DecisionShown>,
}

/// The field a queried item's new score is posted in.
fn score_field(component: &str, criterion: &str) -> String {
    format!("score:{component}:{criterion}")
}

fn score_text(w: Option<f64>) -> Option<String> {
    w.map(|w| format!("{w:.2}"))
}

async fn appeal_view(
    page: &Page,
    id: &str,
    posted: Option<&Form>,
    error: Option<(&AppError, &'static str)>,
    notice: Option<&'static str>,
) -> Result<AppealPageView, PageError> {
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.to_string());
    let (found, guide, names, assessors): (AppealInContext, Option<std::sync::Arc<Guide>>, _, _) = page
        .run(move |conn| {
            let found = assessments::appeal_in_context(conn, &actor, &target)?;
            let guide = guides.get(conn, &found.standard_id, &found.standard_version)?;
            let names = people::names_of(conn, std::slice::from_ref(&found.appeal.lodged_by))?;
            let is_reviewer = found.appeal.reviewer.as_ref().is_some_and(|r| r.id == actor.id);
            let may_appoint = can_now(actor.role, is_reviewer, found.appeal.status, AppealAction::AppointReviewer);
            let assessors =
                if may_appoint { people::list_users(conn, &actor, Role::IndependentAssessor)? } else { Vec::new() };
            Ok((found, guide, names, assessors))
        })
        .await?;
    let role = page.actor.role;
    let zone = page.pages.zone;
    let a = &found.appeal;
    let label = |component: &str, criterion: &str| match &guide {
        Some(g) => item_label(g, component, criterion),
        None => format!("{criterion} ({component})"),
    };
    let chosen = posted.map(|f| f.text("reviewer_id")).or_else(|| a.reviewer.as_ref().map(|r| r.id.clone()));
    let is_reviewer = a.reviewer.as_ref().is_some_and(|r| r.id == page.actor.id);
    let can_appoint = can_now(role, is_reviewer, a.status, AppealAction::AppointReviewer);
    Ok(AppealPageView {
        notice,
        error: error.map(|(e, _)| FormError::from_app(e)),
        error_form: error.map_or("", |(_, form)| form),
        line: appeal_line(zone, a, &found.apprentice_name),
        apprentice_id: found.apprentice_id.clone(),
        requested_by: requested_by_label(a.requested_by),
        lodged_by: names.get(&a.lodged_by).cloned().unwrap_or_default(),
        lodged_at: when(zone, &a.lodged_at),
        reviewer_appointed: a
            .reviewer
            .as_ref()
            .map(|r| format!("{}, appointed {}", r.name, when(zone, &r.appointed_at))),
        queried: found
            .queried
            .iter()
            .map(|q| {
                let name = score_field(&q.component, &q.criterion);
                QueriedRow {
                    label: label(&q.component, &q.criterion),
                    agreed_score: q.agreed_score,
                    new_score: posted.map(|f| f.text(&name)).unwrap_or_default(),
                    name,
                }
            })
            .collect(),
        names_items: !a.items.is_empty(),
        scale: guide.as_ref().map(|g| (g.scale.min..=g.scale.max).map(|s| s.to_string()).collect()).unwrap_or_default(),
        is_staff: role.is_staff(),
        can_appoint,
        assessors: AssessorOption::list(assessors, chosen.as_deref()),
        can_decide: can_now(role, is_reviewer, a.status, AppealAction::Decide),
        outcome: posted.map(|f| f.text("outcome")).unwrap_or_default(),
        rationale: posted.map(|f| f.text("rationale")).unwrap_or_default(),
        decision: a.decision.as_ref().map(|d| DecisionShown {
            outcome_label: if d.outcome == AppealStatus::Upheld.as_str() { "Upheld" } else { "Not upheld" },
            rationale: d.rationale.clone(),
            changes: d
                .changes
                .iter()
                .map(|c| ChangeRow { label: label(&c.component, &c.criterion), from: c.from, to: c.to })
                .collect(),
            grade_before: d.grade_before.clone(),
            weighted_score_before: score_text(d.weighted_score_before),
            grade_after: d.grade_after.clone(),
            weighted_score_after: score_text(d.weighted_score_after),
            decided: when(zone, &d.decided_at),
            related: a.related.clone(),
        }),
    })
}

/// `GET /appeals/{id}`
pub async fn appeal_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let view = appeal_view(&page, path.as_str(), None, None, done.message()).await?;
    page.render("pages/appeal.html", "Review or appeal", &view)
}

async fn refused(
    page: &Page,
    id: &str,
    form: &Form,
    e: &AppError,
    which: &'static str,
) -> Result<HttpResponse, PageError> {
    let view = appeal_view(page, id, Some(form), Some((e, which)), None).await?;
    page.render_status(FormError::status(e), "pages/appeal.html", "Review or appeal", &view)
}

/// `POST /appeals/{id}/reviewer`
pub async fn reviewer_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let input = ReviewerInput { reviewer_id: form.text("reviewer_id") };
    let result = if input.reviewer_id.trim().is_empty() {
        Err(AppError::bad_input(ErrorCode::ChoiceRequired, "choose the independent assessor who reviews the appeal")
            .at("reviewer_id"))
    } else {
        let (actor, target) = (page.actor.clone(), id.clone());
        page.attempt(move |conn| assessments::appoint_reviewer(conn, &actor, &target, Input::new(Ok(input), None)))
            .await?
            .map(|_| ())
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/appeals/{id}?done=reviewer"))),
        Err(e) => refused(&page, &id, &form, &e, "reviewer").await,
    }
}

/// The new agreed scores a decision form gives: each queried item whose score is chosen.
fn amended_items(form: &Form, queried: &[(String, String)]) -> Result<Vec<AmendedItem>, AppError> {
    let mut items = Vec::new();
    for (component, criterion) in queried {
        let text = form.text(&score_field(component, criterion));
        if text.trim().is_empty() {
            continue;
        }
        let agreed_score = text.trim().parse::<i64>().map_err(|_| {
            AppError::bad_input(ErrorCode::InvalidChoice, format!("{text:?} is not a score"))
                .at(format!("items[{}].agreed_score", items.len()))
        })?;
        items.push(AmendedItem { component: component.clone(), criterion: criterion.clone(), agreed_score });
    }
    Ok(items)
}

/// `POST /appeals/{id}/decision`
pub async fn decision_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let (actor, target) = (page.actor.clone(), id.clone());
    let found = page.run(move |conn| assessments::appeal_in_context(conn, &actor, &target)).await?;
    let queried: Vec<(String, String)> =
        found.queried.iter().map(|q| (q.component.clone(), q.criterion.clone())).collect();
    let outcome = form.text("outcome");
    // Scores chosen beside a "not upheld" are not the decision's: only an upheld one amends.
    let items = match outcome.as_str() {
        "" => Err(AppError::bad_input(ErrorCode::ChoiceRequired, "choose upheld or not upheld").at("outcome")),
        "upheld" => amended_items(&form, &queried),
        _ => Ok(Vec::new()),
    };
    let result = match items {
        Ok(items) => {
            let input = AppealDecisionInput { outcome, items, rationale: form.text("rationale") };
            let (actor, target) = (page.actor.clone(), id.clone());
            let (guides, composer) = (page.state.guides.clone(), page.state.composer.clone());
            page.attempt(move |conn| {
                assessments::decide_appeal(conn, &guides, &composer, &actor, &target, Input::new(Ok(input), None))
            })
            .await?
            .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            page.state.mail_queued.notify_one();
            Ok(see_other(&format!("/appeals/{id}?done=appeal_decided")))
        }
        Err(e) => refused(&page, &id, &form, &e, "decision").await,
    }
}
