//! Reviews and appeals on the assessment's page: the appeals lodged against its outcome (staff
//! see them) and, for the admin once the outcome is released, the form that lodges one on the
//! apprentice's, employer's or provider's behalf (grounds, the criteria queried, who asked).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, overview_view, path_id};
use crate::domain::permissions::{may, Action};
use crate::domain::workflow::Step;
use crate::error::AppError;
use crate::services::assessments::{self, AppealItem, LodgeAppealInput};
use crate::services::Input;
use crate::web::pages::appeals::{appeal_line, AppealLine};
use crate::web::pages::moderation::{queried_items, query_options, QueryOption};
use crate::web::pages::view::Loaded;
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

/// The appeals shown on the assessment's page, and the admin's form to lodge one.
#[derive(Debug, Serialize, Default)]
pub struct AppealsShown {
    pub lines: Vec<AppealLine>,
    pub lodge: Option<LodgeForm>,
}

/// The lodging form as shown (or as posted, with its error).
#[derive(Debug, Serialize)]
pub struct LodgeForm {
    pub grounds: String,
    pub requested_by: String,
    pub items: Vec<QueryOption>,
    pub error: Option<FormError>,
}

/// The appeals of `loaded` for this viewer (none for panel members) and, when they may lodge
/// one now, the form (as posted, with the refusal, when it was refused).
pub async fn appeals_shown(
    page: &Page,
    loaded: &Loaded,
    posted: Option<(&Form, &AppError)>,
) -> Result<AppealsShown, PageError> {
    let (actor, id) = (page.actor.clone(), loaded.data.id.clone());
    let appeals = page.run(move |conn| assessments::appeals_of_assessment(conn, &actor, &id)).await?;
    let apprentice = loaded.data.apprentice_name();
    let lines = appeals.iter().rev().map(|a| appeal_line(loaded.zone, a, &apprentice)).collect();
    let may_lodge = may(page.actor.role, loaded.seat, Action::Administer, &loaded.data.seating)
        && loaded.data.status.is_open(Step::LodgeAppeal);
    let lodge = may_lodge.then(|| LodgeForm {
        grounds: posted.map(|(f, _)| f.text("grounds")).unwrap_or_default(),
        requested_by: posted.map(|(f, _)| f.text("requested_by")).unwrap_or_else(|| "apprentice".into()),
        items: query_options(&loaded.guide, &posted.map(|(f, _)| queried_items(f)).unwrap_or_default()),
        error: posted.map(|(_, e)| FormError::from_app(e)),
    });
    Ok(AppealsShown { lines, lodge })
}

/// `POST /assessments/{id}/appeals`
pub async fn lodge_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let input = LodgeAppealInput {
        grounds: form.text("grounds"),
        items: queried_items(&form)
            .into_iter()
            .map(|k| AppealItem { component: k.component, criterion: k.criterion })
            .collect(),
        requested_by: Some(form.text("requested_by")),
    };
    let (actor, target, if_match, guides) =
        (page.actor.clone(), id.clone(), form.if_match(), page.state.guides.clone());
    let result = page
        .attempt(move |conn| assessments::lodge_appeal(conn, &guides, &actor, &target, Input::new(Ok(input), if_match)))
        .await?;
    match result {
        Ok(appeal) => Ok(see_other(&format!("/appeals/{}?done=appeal", appeal.id))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let mut view = overview_view(&page, &loaded, None, None);
            view.appeals = appeals_shown(&page, &loaded, Some((&form, &e))).await?;
            page.render_status(e_status(&e), "pages/assessment.html", "End-point assessment", &view)
        }
    }
}
