//! A resit or retake on the assessment's page: for the admin, once an attempt is released with the
//! guide's lowest grade and has no later attempt, the form that opens the next attempt (resit or
//! retake, the components assessed again, exceptional circumstances and why).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, overview_view, path_id};
use crate::domain::attempt::{self, AttemptKind};
use crate::domain::permissions::{may, Action};
use crate::error::AppError;
use crate::services::assessments::{self, LaterAttemptInput};
use crate::services::Input;
use crate::web::pages::view::{component_title, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

/// The form as shown (or as posted, with its refusal).
#[derive(Debug, Serialize)]
pub struct LaterAttemptForm {
    pub kind: String,
    pub components: Vec<ComponentChoice>,
    pub exceptional_circumstances: bool,
    pub reason: String,
    /// The guide's cap and window, said beside the form.
    pub cap: Option<String>,
    pub window_months: Option<u32>,
    pub error: Option<FormError>,
}

#[derive(Debug, Serialize)]
pub struct ComponentChoice {
    pub id: String,
    pub title: String,
    pub checked: bool,
}

/// The form, when the viewer may open a later attempt of `loaded` now (the same rule the service
/// applies, [`attempt::check_may_follow`]); as posted, with the refusal, when it was refused.
pub fn later_attempt_form(
    page: &Page,
    loaded: &Loaded,
    posted: Option<(&Form, &AppError)>,
) -> Option<LaterAttemptForm> {
    let d = &loaded.data;
    if !may(page.actor.role, loaded.seat, Action::Administer, &d.seating) {
        return None;
    }
    let guide = &loaded.guide;
    attempt::check_may_follow(guide, d.status, d.grade.as_deref(), d.next_id.is_some()).ok()?;
    let decided = d.decision.as_ref().map(|s| s.decision.items.as_slice()).unwrap_or_default();
    let by_default = attempt::components_assessed(guide, decided, None).unwrap_or_default();
    let chosen: Vec<String> = match posted {
        Some((f, _)) => f.all("component"),
        None => by_default,
    };
    let rules = guide.attempts.clone().unwrap_or_default();
    Some(LaterAttemptForm {
        kind: posted.map(|(f, _)| f.text("kind")).unwrap_or_else(|| "resit".into()),
        components: guide
            .components
            .iter()
            .map(|c| ComponentChoice {
                id: c.id.clone(),
                title: component_title(guide, &c.id),
                checked: chosen.contains(&c.id),
            })
            .collect(),
        exceptional_circumstances: posted.is_some_and(|(f, _)| f.has("exceptional_circumstances")),
        reason: posted.map(|(f, _)| f.text("reason")).unwrap_or_default(),
        cap: rules.grade_cap,
        window_months: rules.window_months,
        error: posted.map(|(_, e)| FormError::from_app(e)),
    })
}

/// `POST /assessments/{id}/resits`
pub async fn later_attempt_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let kind = match form.text("kind").as_str() {
        "retake" => AttemptKind::Retake,
        _ => AttemptKind::Resit,
    };
    let reason = Some(form.text("reason")).filter(|r| !r.trim().is_empty());
    let input = LaterAttemptInput {
        kind,
        components: Some(form.all("component")),
        exceptional_circumstances: form.has("exceptional_circumstances"),
        reason,
    };
    let (actor, target, guides) = (page.actor.clone(), id.clone(), page.state.guides.clone());
    let result = page
        .attempt(move |conn| assessments::open_later_attempt(conn, &guides, &actor, &target, Input::from(input)))
        .await?;
    match result {
        Ok(opened) => Ok(see_other(&format!("/assessments/{}?done=later_attempt", opened.id))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let mut view = overview_view(&page, &loaded, None, None);
            view.later_attempt = later_attempt_form(&page, &loaded, Some((&form, &e)));
            page.render_status(e_status(&e), "pages/assessment.html", "End-point assessment", &view)
        }
    }
}
