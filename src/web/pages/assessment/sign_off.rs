//! Sign-off of the agreed scores on the assessment page: the line manager's or training
//! provider's form (agree, or dissent with its text), and the words each seat's sign-off is
//! shown in (the moderation page shows them too).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, overview_view, path_id};
use crate::domain::permissions::Seat;
use crate::error::{AppError, ErrorCode};
use crate::services::assessments::{self, SignOffInput};
use crate::services::Input;
use crate::web::pages::view::Loaded;
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

/// One non-tie-breaking seat's sign-off, in words.
#[derive(Debug, Serialize)]
pub struct SignOffLine {
    pub seat: &'static str,
    pub text: String,
}

/// The line manager's and the training provider's sign-offs: "Agrees with the agreed scores",
/// "Dissents: …" or "Not yet signed off".
pub fn sign_off_lines(loaded: &Loaded) -> Vec<SignOffLine> {
    [(Seat::LineManager, "Line manager"), (Seat::TrainingProvider, "Training provider")]
        .into_iter()
        .map(|(seat, label)| {
            let text = match loaded.data.sign_off.iter().find(|s| s.seat == seat.as_str()) {
                Some(s) if s.agree => "Agrees with the agreed scores".to_string(),
                Some(s) => format!("Dissents: {}", s.dissent.as_deref().unwrap_or_default()),
                None => "Not yet signed off".to_string(),
            };
            SignOffLine { seat: label, text }
        })
        .collect()
}

/// The form as shown (or as posted, with its error).
#[derive(Debug, Serialize, Default)]
pub struct SignOffForm {
    pub agree: String,
    pub dissent: String,
    pub error: Option<FormError>,
}

fn sign_off_input(form: &Form) -> Result<SignOffInput, AppError> {
    let agree = match form.text("agree").as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return Err(AppError::bad_input(
                ErrorCode::ChoiceRequired,
                "choose whether you agree with the agreed scores or dissent",
            )
            .at("agree"))
        }
    };
    Ok(SignOffInput { agree, dissent: Some(form.text("dissent")) })
}

/// `POST /assessments/{id}/sign-off`
pub async fn sign_off_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let result = match sign_off_input(&form) {
        Ok(input) => {
            let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
            page.attempt(move |conn| assessments::sign_off(conn, &actor, &target, Input::new(Ok(input), if_match)))
                .await?
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/assessments/{id}?done=sign_off"))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let posted = SignOffForm {
                agree: form.text("agree"),
                dissent: form.text("dissent"),
                error: Some(FormError::from_app(&e)),
            };
            let mut view = overview_view(&page, &loaded, None, Some(posted));
            view.appeals = super::appeal::appeals_shown(&page, &loaded, None).await?;
            page.render_status(e_status(&e), "pages/assessment.html", "End-point assessment", &view)
        }
    }
}
