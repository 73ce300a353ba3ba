//! The declaration page: the independent assessor declares no prior involvement and no
//! conflict of interest, reviewing it before it is recorded.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, path_id, Done};
use crate::domain::permissions::Seat;
use crate::domain::workflow::{DeclarationState, NextStep};
use crate::error::{AppError, ErrorCode};
use crate::services::assessments::{self, DeclarationInput};
use crate::services::Input;
use crate::web::pages::view::{when, Header, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

#[derive(Serialize)]
struct DeclarationView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    current: Option<CurrentDeclaration>,
    is_assessor: bool,
    can_edit: bool,
    /// The choices as posted ("none" / "some", or "" when not chosen yet): nothing is pre-chosen.
    involvement: String,
    conflict: String,
    conflict_description: String,
    /// The confirmation step: what the assessor is about to declare, before anything is saved.
    review: Option<DeclarationReview>,
}

#[derive(Serialize)]
struct CurrentDeclaration {
    holds: bool,
    no_prior_involvement: bool,
    conflicts: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct DeclarationReview {
    lines: Vec<String>,
    holds: bool,
}

/// The declaration a person chose on the page, in the service's terms. Each choice must be made
/// explicitly, and a conflict must be described (and not as "none").
fn declaration_input(form: &Form) -> Result<DeclarationInput, AppError> {
    let no_prior_involvement = match form.text("involvement").as_str() {
        "none" => true,
        "some" => false,
        _ => {
            return Err(AppError::bad_input(
                ErrorCode::ChoiceRequired,
                "say whether you have had any prior involvement with the apprentice or their employer",
            )
            .at("involvement"))
        }
    };
    let conflicts = match form.text("conflict").as_str() {
        "none" => "none".to_string(),
        "some" => {
            let described = form.text("conflict_description");
            if described.is_empty() || described.eq_ignore_ascii_case("none") {
                return Err(AppError::bad_input(
                    ErrorCode::DescriptionRequired,
                    "describe the conflict of interest (or choose \"I have no conflict of interest\")",
                )
                .at("conflict_description"));
            }
            described
        }
        _ => {
            return Err(AppError::bad_input(ErrorCode::ChoiceRequired, "say whether you have a conflict of interest")
                .at("conflict"))
        }
    };
    Ok(DeclarationInput { no_prior_involvement, conflicts })
}

fn declaration_review(input: &DeclarationInput) -> DeclarationReview {
    let mut lines = vec![if input.no_prior_involvement {
        "I have had no prior involvement with the apprentice or with their employer.".to_string()
    } else {
        "I have had prior involvement with the apprentice or with their employer.".to_string()
    }];
    lines.push(if input.conflicts == "none" {
        "I have no conflict of interest.".to_string()
    } else {
        format!("I have a conflict of interest: {}", input.conflicts)
    });
    let holds = crate::domain::assessment::Declaration {
        no_prior_involvement: input.no_prior_involvement,
        conflicts: input.conflicts.clone(),
    }
    .holds();
    DeclarationReview { lines, holds }
}

fn declaration_view(
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> DeclarationView {
    let d = &loaded.data;
    let current = d.panel.declaration.as_ref().map(|decl| CurrentDeclaration {
        holds: d.declaration_holds(),
        no_prior_involvement: decl.no_prior_involvement,
        conflicts: decl.conflicts.clone(),
        by: loaded.name(&decl.by),
        at: when(loaded.zone, &decl.at),
    });
    // A declaration that does not hold stands until another assessor is appointed.
    let blocked = d.declaration_state() == DeclarationState::Blocks;
    let error = error.map(|mut e| {
        if e.field.as_deref() == Some("conflicts") {
            e.field = Some("conflict_description".into());
        }
        e
    });
    DeclarationView {
        header: loaded.header(),
        // "recorded" is good news only for a declaration that holds; one that does not is shown
        // as the problem it is.
        notice: notice.filter(|_| !blocked),
        error,
        is_assessor: loaded.seat == Some(Seat::IndependentAssessor),
        can_edit: loaded.may(NextStep::Declare),
        involvement: posted.map(|f| f.text("involvement")).unwrap_or_default(),
        conflict: posted.map(|f| f.text("conflict")).unwrap_or_default(),
        conflict_description: posted.map(|f| f.text("conflict_description")).unwrap_or_default(),
        review: None,
        current,
    }
}

/// `GET /assessments/{id}/declaration`
pub async fn declaration_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    let view = declaration_view(&loaded, None, None, done.message());
    page.render("pages/declaration.html", "Declaration", &view)
}

/// `POST /assessments/{id}/declaration`: "Continue" shows what is about to be declared (nothing
/// saved yet), "Change" goes back to the choices, "Confirm" records it. Plain forms, no script.
pub async fn declaration_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let step = form.text("step");
    let input = match declaration_input(&form) {
        Ok(input) if step != "change" => input,
        Ok(_) => {
            let loaded = page.load(&id).await?;
            let view = declaration_view(&loaded, Some(&form), None, None);
            return page.render("pages/declaration.html", "Declaration", &view);
        }
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = declaration_view(&loaded, Some(&form), Some(FormError::from_app(&e)), None);
            return page.render_status(e_status(&e), "pages/declaration.html", "Declaration", &view);
        }
    };
    if step != "confirm" {
        let loaded = page.load(&id).await?;
        let mut view = declaration_view(&loaded, Some(&form), None, None);
        view.review = view.can_edit.then(|| declaration_review(&input));
        return page.render("pages/declaration.html", "Declaration", &view);
    }
    let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
    let result =
        page.attempt(move |conn| assessments::declare(conn, &actor, &target, Input::new(Ok(input), if_match))).await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/declaration?done=declaration"))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = declaration_view(&loaded, Some(&form), Some(FormError::from_app(&e)), None);
            page.render_status(e_status(&e), "pages/declaration.html", "Declaration", &view)
        }
    }
}
