//! The panel page (admin): appoint the independent assessor and the viva's time and mode, while
//! no score sheet is submitted.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, path_id, Done};
use crate::domain::eligibility::Warning;
use crate::domain::permissions::Role;
use crate::domain::workflow::NextStep;
use crate::error::AppError;
use crate::local_time::{Typed, TypedError, Zone};
use crate::services::assessments::{self, PanelInput};
use crate::services::{people, Input};
use crate::web::pages::view::{Header, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

/// An independent assessor in a select (the panel's appointment, an appeal's reviewer): the
/// name with the organisation they work for, so a conflict can be seen before choosing.
#[derive(Debug, Serialize)]
pub(crate) struct AssessorOption {
    id: String,
    label: String,
    selected: bool,
}

impl AssessorOption {
    /// The options for `assessors`, with `chosen` selected.
    pub(crate) fn list(assessors: Vec<people::UserSummary>, chosen: Option<&str>) -> Vec<AssessorOption> {
        assessors
            .into_iter()
            .map(|u| AssessorOption {
                selected: chosen == Some(u.id.as_str()),
                label: match &u.organisation {
                    Some(org) => format!("{} ({org})", u.name),
                    None => u.name.clone(),
                },
                id: u.id,
            })
            .collect()
    }
}

#[derive(Serialize)]
struct PanelView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    line_manager: String,
    training_provider: String,
    assessors: Vec<AssessorOption>,
    viva_at: String,
    /// The zone the viva time is typed in, in words.
    viva_zone: String,
    mode: String,
    can_edit: bool,
    /// Whether the standard's panel seats an independent assessor (else only the viva's time
    /// and mode are set).
    with_assessor: bool,
    /// Why the appointed independent assessor does not meet the assessor register's rules.
    warnings: Vec<Warning>,
}

fn panel_view(
    loaded: &Loaded,
    assessors: Vec<people::UserSummary>,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> PanelView {
    let p = &loaded.data.panel;
    let chosen = posted.map(|f| f.text("independent_assessor_id")).or_else(|| p.independent_assessor_id.clone());
    let viva_at = posted
        .map(|f| f.text("viva_at"))
        .unwrap_or_else(|| p.viva_at.as_deref().map(|t| loaded.zone.input_value(t)).unwrap_or_default());
    PanelView {
        header: loaded.header(),
        notice,
        error,
        line_manager: loaded.name(&p.line_manager_id),
        training_provider: loaded.name(&p.training_provider_user_id),
        assessors: AssessorOption::list(assessors, chosen.as_deref()),
        viva_at,
        viva_zone: loaded.zone.describe(),
        mode: posted.map(|f| f.text("mode")).or_else(|| p.mode.clone()).unwrap_or_default(),
        // Only while no score sheet is submitted (the service's next steps say so).
        can_edit: loaded.may(NextStep::AppointPanel),
        with_assessor: loaded.data.seating.has_assessor(),
        warnings: Vec::new(),
    }
}

/// The panel page's view, with the appointment offered only while it can still change.
async fn panel_view_now(
    page: &Page,
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> Result<PanelView, PageError> {
    let (actor, guides, id) = (page.actor.clone(), page.state.guides.clone(), loaded.data.id.clone());
    let warnings = page.run(move |conn| assessments::panel_warnings(conn, &guides, &actor, &id)).await?;
    Ok(PanelView { warnings, ..panel_view(loaded, assessors(page).await?, posted, error, notice) })
}

async fn assessors(page: &Page) -> Result<Vec<people::UserSummary>, PageError> {
    let actor = page.actor.clone();
    page.run(move |conn| people::list_users(conn, &actor, Role::IndependentAssessor)).await
}

fn require_admin(page: &Page) -> Result<(), PageError> {
    if page.actor.role == Role::Admin {
        Ok(())
    } else {
        Err(page.fail(&AppError::forbidden("only an admin of the assessment body appoints the panel")))
    }
}

/// `GET /assessments/{id}/panel`
pub async fn panel_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    require_admin(&page)?;
    let view = panel_view_now(&page, &loaded, None, None, done.message()).await?;
    page.render("pages/panel.html", "Appoint the panel", &view)
}

/// A `datetime-local` value, typed in the configured zone, as the UTC time the service takes. A
/// time the clocks skip is refused, naming the field; one that happens twice is the earlier.
pub fn viva_time(zone: Zone, value: &str) -> Result<Typed, FormError> {
    let refuse = |message: String| FormError { field: Some("viva_at".into()), message, stale: false };
    zone.read_typed(value).map_err(|e| match e {
        TypedError::Empty => refuse("Give the viva's date and time.".into()),
        TypedError::Malformed => refuse(format!(
            "The viva date and time \"{}\" is not a date and time: give one such as 2026-07-14 14:30.",
            value.trim()
        )),
        TypedError::Skipped(t) => refuse(format!(
            "The viva date and time does not exist: there is no {} on {} in {}, as the clocks go forward an hour that night. Choose another time.",
            t.format("%H:%M"),
            t.format("%a %-d %b %Y"),
            zone.name()
        )),
    })
}

/// `POST /assessments/{id}/panel`
pub async fn panel_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let typed = match viva_time(page.pages.zone, &form.text("viva_at")) {
        Ok(typed) => typed,
        Err(error) => {
            let loaded = page.load(&id).await?;
            require_admin(&page)?;
            let view = panel_view(&loaded, assessors(&page).await?, Some(&form), Some(error), None);
            return page.render_status(StatusCode::BAD_REQUEST, "pages/panel.html", "Appoint the panel", &view);
        }
    };
    let input = PanelInput {
        independent_assessor_id: Some(form.text("independent_assessor_id")).filter(|ia| !ia.trim().is_empty()),
        viva_at: crate::db::format_time(typed.utc),
        mode: form.text("mode"),
    };
    let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
    let (guides, rules) = (page.state.guides.clone(), page.state.assessor_rules);
    let result = page
        .attempt(move |conn| {
            assessments::appoint_panel(conn, &guides, rules, &actor, &target, Input::new(Ok(input), if_match))
        })
        .await?;
    match result {
        Ok(_) => {
            let done = if typed.ambiguous { "panel_earlier" } else { "panel" };
            Ok(see_other(&format!("/assessments/{id}/panel?done={done}")))
        }
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = panel_view_now(&page, &loaded, Some(&form), Some(FormError::from_app(&e)), None).await?;
            page.render_status(e_status(&e), "pages/panel.html", "Appoint the panel", &view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viva_times_are_typed_in_the_zone() {
        let z = Zone::default();
        let utc = |v: &str| viva_time(z, v).map(|t| (crate::db::format_time(t.utc), t.ambiguous));
        assert_eq!(utc("2026-12-01T10:00").unwrap(), ("2026-12-01T10:00:00.000000Z".into(), false));
        assert_eq!(utc("2026-07-14T14:30").unwrap(), ("2026-07-14T13:30:00.000000Z".into(), false));
        assert_eq!(utc("2026-10-25T01:30").unwrap(), ("2026-10-25T00:30:00.000000Z".into(), true));
        for (typed, words) in [
            ("", "Give the viva's date and time"),
            ("tomorrow", "The viva date and time \"tomorrow\" is not a date and time"),
            (
                "2026-03-29T01:30",
                "The viva date and time does not exist: there is no 01:30 on Sun 29 Mar 2026 in Europe/London",
            ),
        ] {
            let e = viva_time(z, typed).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("viva_at"), "{e:?}");
            assert!(e.message.contains(words), "{e:?}");
        }
        assert!(Done { done: Some("panel_earlier".into()) }.message().is_some_and(|m| m.contains("earlier")));
    }
}
