//! When a page cannot be shown as asked: the error pages ([`PageError`], 403/404 and the rest), the
//! CSRF refusal, and a service's refusal shown on the form beside its field ([`FormError`]), in
//! words people use.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::state::html_response;
use super::{Layout, PagesState};
use crate::error::AppError;

impl PagesState {
    /// The error page for a service's refusal: 404 and 403 have pages of their own.
    pub fn error_page(&self, layout: Option<Layout>, e: &AppError) -> PageError {
        let status = e.status_code();
        let template = match status {
            StatusCode::NOT_FOUND => "errors/404.html",
            StatusCode::FORBIDDEN => "errors/403.html",
            _ => "errors/error.html",
        };
        // Logs internal errors and hides their detail, as the API does.
        let message = crate::web::error::public_message(e);
        let layout = layout.unwrap_or_else(|| Layout::signed_out(error_title(status)));
        let view = ErrorView { status: status.as_u16(), title: error_title(status), message };
        match self.render_html(template, &layout, &view) {
            Ok(html) => PageError::Html { status, html },
            Err(e) => e,
        }
    }
}

pub(super) fn error_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That did not work",
        403 => "Not allowed",
        404 => "Page not found",
        409 => "Not possible now",
        412 => "Changed by someone else",
        _ => "Something went wrong",
    }
}

#[derive(Serialize)]
struct ErrorView {
    status: u16,
    title: &'static str,
    message: String,
}

/// A page that could not be shown as asked: an error page, or a redirect (to sign in).
#[derive(Debug)]
pub enum PageError {
    Html { status: StatusCode, html: String },
    Redirect(String),
}

impl PageError {
    pub fn redirect(to: impl Into<String>) -> Self {
        Self::Redirect(to.into())
    }

    /// A bare page when the templates cannot help (the state is missing, a template failed).
    pub fn plain(status: u16, message: &str) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head><body><main><h1>{}</h1><p>{}</p><p><a href=\"/\">Start again</a></p></main></body></html>",
            error_title(status),
            error_title(status),
            tera::escape_html(message)
        );
        Self::Html { status, html }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Html { status, .. } => write!(f, "page error {status}"),
            Self::Redirect(to) => write!(f, "redirect to {to}"),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Html { status, .. } => *status,
            Self::Redirect(_) => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Html { status, html } => html_response(*status, html.clone()),
            Self::Redirect(to) => see_other(to),
        }
    }
}

/// 303 See Other: after a POST, the browser GETs the next page.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", to.to_string())).finish()
}

/// The 403 page for a form without the right token.
pub fn csrf_refused(pages: &PagesState, layout: Option<Layout>) -> PageError {
    pages.error_page(
        layout,
        &AppError::forbidden(
            "this form was not sent from this session's own page (or the page is too old). Go back, reload the page and send it again.",
        ),
    )
}

/// Refusals a person can put right on the same form.
pub fn is_form_error(e: &AppError) -> bool {
    matches!(e, AppError::BadInput { .. } | AppError::Conflict { .. } | AppError::PreconditionFailed(_))
}

/// A refusal shown on a form: the field it names and the message.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FormError {
    pub field: Option<String>,
    pub message: String,
    /// Someone else changed the assessment after the form was loaded (412).
    pub stale: bool,
}

impl FormError {
    /// The field a refusal names, and its message without the field's name in front (the page
    /// shows the message beside the field).
    pub fn from_app(e: &AppError) -> Self {
        if let AppError::PreconditionFailed(_) = e {
            return Self {
                field: None,
                message: "Someone else changed this assessment after you opened the page. The page now shows the latest version with what you entered: check it and send it again.".into(),
                stale: true,
            };
        }
        match e.fault() {
            Some(fault) => match fault.form_field() {
                Some(field) => {
                    Self { message: in_words(field, fault.reason.trim()), field: Some(field.to_string()), stale: false }
                }
                None => Self { field: None, message: capitalise(&api_words(&fault.reason)), stale: false },
            },
            None => Self { field: None, message: capitalise(&api_words(&e.to_string())), stale: false },
        }
    }

    pub fn status(e: &AppError) -> StatusCode {
        e.status_code()
    }
}

/// A form field as people call it ("the viva date and time"), for messages that name it.
pub fn field_words(field: &str) -> String {
    let words = match field {
        "name" => "the name",
        "email" => "the email address",
        "password" => "the web password",
        "role" => "the role",
        "kind" => "the kind of organisation",
        "organisation_id" => "the organisation",
        "apprentice_id" => "the apprentice",
        "employer_id" => "the employer",
        "training_provider_id" => "the training provider",
        "standard_id" => "the standard",
        "line_manager_id" => "the line manager",
        "training_provider_user_id" => "the training provider's member of the panel",
        "independent_assessor_id" => "the independent assessor",
        "viva_at" => "the viva date and time",
        "mode" => "how the viva is held",
        "conflicts" => "the conflicts of interest",
        "knowledge_reference" => "the qualification or assessment taken",
        "knowledge_units" => "the units achieved",
        "questions" => "the viva record",
        "scores" => "the scores",
        "items" => "the agreed scores",
        "notes" => "the notes",
        "rationale" => "the reasons",
        "action" => "your moderation choice",
        "grounds" => "the grounds",
        "requested_by" => "who asked for it",
        "reviewer_id" => "the reviewer",
        "outcome" => "the outcome",
        "body" | "version" => "the form",
        other => return format!("the {}", other.trim_end_matches("_id").replace('_', " ")),
    };
    words.to_string()
}

/// The API's names for things, where a service's message mentions them, as people say them.
fn api_words(text: &str) -> String {
    let mut text = text.to_string();
    for (name, said) in [
        ("the knowledge_reference", "the qualification or assessment taken"),
        ("knowledge_reference", "the qualification or assessment taken"),
        ("agreed_score", "an agreed score"),
        ("gateway_passed", "past the gateway"),
        ("in_person", "in person"),
        ("refer_back", "refer back"),
    ] {
        text = text.replace(name, said);
    }
    text
}

/// A service's refusal of `field` as a sentence that names the field in words and says what to
/// do (the services' own wording is for the API, where the field's name leads).
pub fn in_words(field: &str, rest: &str) -> String {
    let words = field_words(field);
    let rest = api_words(rest);
    let rest = rest.as_str();
    if rest == "must not be empty" {
        return format!("Enter {words}: it must not be empty.");
    }
    if let Some(n) = rest.strip_prefix("longer than ") {
        return format!("Shorten {words}: it is longer than {n}.");
    }
    if rest.contains("is not an RFC 3339 time") {
        return if rest.starts_with("\"\"") {
            format!("Enter {words}: it must not be empty.")
        } else {
            format!("Enter {words} as a date and a time of day, for example 1 December 2026 at 10:00.")
        };
    }
    if rest.contains("is not an email address") {
        return format!("Enter {words} in full, like name@example.org: {rest}.");
    }
    format!("{}: {rest}", capitalise(&words))
}

/// The text with its first letter in capitals.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_name_the_field() {
        use crate::error::ErrorCode;
        let e = AppError::bad_input(ErrorCode::ConflictOfInterest, "Ivy works for the employer")
            .at("independent_assessor_id");
        let f = FormError::from_app(&e);
        assert_eq!(f.field.as_deref(), Some("independent_assessor_id"));
        assert_eq!(f.message, "The independent assessor: Ivy works for the employer");
        let e = AppError::bad_input(ErrorCode::ScoreOutOfScale, "9 is outside the scale").at("items[2].agreed_score");
        assert_eq!(FormError::from_app(&e).field.as_deref(), Some("items"));
        let e = AppError::conflict(
            ErrorCode::SheetsSubmitted,
            "the panel cannot be changed once a score sheet has been submitted",
        );
        assert_eq!(FormError::from_app(&e).field, None);
        assert!(FormError::from_app(&e).message.starts_with("The panel"));
        let e = AppError::conflict(
            ErrorCode::WrongState,
            "appointing the panel is possible only when the assessment is gateway_passed or scheduled; it is consensus",
        );
        assert!(FormError::from_app(&e).message.contains("is past the gateway or scheduled"));
        let e = AppError::bad_input(ErrorCode::MissingValue, "must not be empty").at("notes");
        assert_eq!(FormError::from_app(&e).message, "Enter the notes: it must not be empty.");
        let e =
            AppError::bad_input(ErrorCode::InvalidTime, "\"\" is not an RFC 3339 time such as 2026-12-01T10:00:00Z")
                .at("viva_at");
        let f = FormError::from_app(&e);
        assert_eq!(f.message, "Enter the viva date and time: it must not be empty.");
        assert!(!f.message.contains("RFC") && f.field.as_deref() == Some("viva_at"));
        let e = AppError::bad_input(ErrorCode::TooLong, "longer than 4000 characters").at("rationale");
        assert_eq!(FormError::from_app(&e).message, "Shorten the reasons: it is longer than 4000 characters.");
        let e = AppError::bad_input(ErrorCode::UnknownQualification, "the knowledge_reference names no qualification")
            .at("knowledge_units");
        assert_eq!(
            FormError::from_app(&e).message,
            "The units achieved: the qualification or assessment taken names no qualification"
        );
        let e = AppError::PreconditionFailed("If-Match: \"2\" is not the current version".into());
        assert!(FormError::from_app(&e).stale && !FormError::from_app(&e).message.contains("If-Match"));
    }
}
