//! The server-rendered web interface (Tera): what panel members, moderators and admins use in a
//! browser. Every page calls the same service functions as the JSON API, with the signed-in
//! person as the `Actor`, so the rules live in one place. A handler parses the form, calls the
//! service inside `Db::run`, and renders a typed view or redirects (POST/redirect/GET).
//!
//! Security: encrypted session cookies ([`session`]), a CSRF token on every form, checked on every
//! POST, sign-in throttling and Argon2id passwords (`services::people`), a Content-Security-Policy
//! without `unsafe-inline` on every page (scripts and styles are files under `/static/`), and
//! Tera's autoescaping (templates are `.html`).

pub mod admin;
pub mod assessment;
pub mod auth;
pub mod charts;
pub mod consensus;
pub mod home;
pub mod moderation;
pub mod reports;
pub mod scores;
pub mod session;
pub mod standardisation;
pub mod view;

use std::sync::{Arc, OnceLock};

use actix_web::cookie::Key;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use crate::db::DbConnection;
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult};
use crate::local_time::Zone;
use crate::services::people;

pub use session::{Form, Page, Visitor};

/// The policy on every page: only this origin's files, no inline script or style, no framing,
/// forms post only here.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub use crate::config::WebConfig;

/// Largest form accepted (a score sheet with a comment on every item).
const FORM_LIMIT: usize = 1024 * 1024;

/// What the pages share: the templates, the cookie key and the time zone.
pub struct PagesState {
    pub tera: Arc<Tera>,
    pub key: Key,
    pub cookie_secure: bool,
    /// The zone times are shown and typed in (`EPA_TIMEZONE`).
    pub zone: Zone,
    /// Whether the sign-in throttle takes the visitor's address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

impl PagesState {
    /// Takes the session key from the config, or from the database (generating it once).
    pub fn prepare(conn: &mut DbConnection, tera: Arc<Tera>, config: &WebConfig) -> anyhow::Result<Self> {
        use base64::Engine;
        let secret = match &config.session_key {
            Some(k) => k.clone(),
            None => people::shared_setting(conn, "session_key", || {
                base64::engine::general_purpose::STANDARD.encode(Key::generate().master())
            })
            .map_err(|e| anyhow::anyhow!("session key: {e}"))?,
        };
        Ok(Self {
            tera,
            key: Key::derive_from(secret.as_bytes()),
            cookie_secure: config.cookie_secure,
            zone: Zone::default(),
            trust_forwarded_for: config.trust_forwarded_for,
        })
    }

    /// The same pages, showing and taking times in `zone`.
    pub fn in_zone(self, zone: Zone) -> Self {
        Self { zone, ..self }
    }

    /// Renders a page: the view's fields, plus `layout` for the frame around it.
    pub fn render<T: Serialize>(&self, status: StatusCode, template: &str, layout: &Layout, view: &T) -> HttpResponse {
        match self.render_html(template, layout, view) {
            Ok(html) => html_response(status, html),
            Err(e) => e.error_response(),
        }
    }

    fn render_html<T: Serialize>(&self, template: &str, layout: &Layout, view: &T) -> Result<String, PageError> {
        Context::from_serialize(view)
            .and_then(|mut ctx| {
                ctx.insert("layout", layout);
                self.tera.render(template, &ctx)
            })
            .map_err(|e| {
                tracing::error!(error = format!("{e:?}"), template, "page template failed");
                PageError::plain(500, "this page could not be shown; the problem has been logged")
            })
    }

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

fn error_title(status: StatusCode) -> &'static str {
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

fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_CSP))
        .body(html)
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

/// The frame around every page: title, who is signed in, navigation, the CSRF token for the
/// sign-out form, and the versioned URLs of the style sheet and script.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub title: String,
    pub user: Option<UserChrome>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub css: String,
    pub js: String,
    pub icon: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserChrome {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Layout {
    pub fn signed_out(title: &str) -> Self {
        Self {
            title: title.to_string(),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            css: static_url("app.css"),
            js: static_url("autosave.js"),
            icon: static_url("favicon.svg"),
        }
    }
}

/// A role as people say it.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "moderator" => "Moderator",
        "independent_assessor" => "Independent assessor",
        "line_manager" => "Line manager",
        "training_provider" => "Training provider",
        _ => "User",
    }
}

impl Page {
    pub fn layout(&self, title: &str) -> Layout {
        let role = self.actor.role;
        let mut nav = vec![NavItem { href: "/assessments", label: "My assessments", current: false }];
        if role == Role::Moderator {
            nav.push(NavItem { href: "/moderation", label: "Moderation", current: false });
        }
        if role == Role::Admin {
            nav.push(NavItem { href: "/admin/register", label: "Register", current: false });
            nav.push(NavItem { href: "/admin/import", label: "Import", current: false });
            nav.push(NavItem { href: "/admin/people", label: "People", current: false });
        }
        if role.is_staff() {
            nav.push(NavItem { href: "/reports", label: "Reports", current: false });
            nav.push(NavItem { href: "/reports/standardisation", label: "Standardisation", current: false });
        }
        let path = self.here.split('?').next().unwrap_or_default();
        for item in &mut nav {
            item.current = path == item.href;
        }
        Layout {
            title: title.to_string(),
            user: Some(UserChrome { name: self.actor.name.clone(), role: role_label(role.as_str()).to_string() }),
            csrf: self.csrf.clone(),
            nav,
            css: static_url("app.css"),
            js: static_url("autosave.js"),
            icon: static_url("favicon.svg"),
        }
    }

    /// Renders `template` with `view` (200).
    pub fn render<T: Serialize>(&self, template: &str, title: &str, view: &T) -> Result<HttpResponse, PageError> {
        Ok(self.pages.render(StatusCode::OK, template, &self.layout(title), view))
    }

    /// Renders a form again with a status that says why (400/409/412).
    pub fn render_status<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: &str,
        view: &T,
    ) -> Result<HttpResponse, PageError> {
        Ok(self.pages.render(status, template, &self.layout(title), view))
    }

    /// The error page for `e`, in this person's frame.
    pub fn fail(&self, e: &AppError) -> PageError {
        self.pages.error_page(Some(self.layout(error_title(e.status_code()))), e)
    }

    /// Runs service code on the database; any error becomes its error page.
    pub async fn run<T, F>(&self, f: F) -> Result<T, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        self.state.db.run(f).await.map_err(|e| self.fail(&e))
    }

    /// Runs service code and hands back its refusal, for forms that show it beside the field.
    pub async fn attempt<T, F>(&self, f: F) -> Result<AppResult<T>, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        match self.state.db.run(f).await {
            Ok(v) => Ok(Ok(v)),
            Err(e) if is_form_error(&e) => Ok(Err(e)),
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// Refuses a POST without this session's CSRF token (403 page).
    pub fn check_csrf(&self, form: &Form) -> Result<(), PageError> {
        form.check_csrf(&self.csrf).map_err(|_| csrf_refused(&self.pages, Some(self.layout("Form expired"))))
    }
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

// ---- static files: embedded, served under a content hash with a long cache life

const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../../templates/static/app.css")),
    ("autosave.js", "text/javascript; charset=utf-8", include_str!("../../../templates/static/autosave.js")),
    ("favicon.svg", "image/svg+xml", include_str!("../../../templates/static/favicon.svg")),
];

fn hashed_names() -> &'static Vec<(String, usize)> {
    static NAMES: OnceLock<Vec<(String, usize)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        STATIC_FILES
            .iter()
            .enumerate()
            .map(|(i, (name, _, body))| {
                let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
                let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
                (format!("{stem}.{hash}.{ext}"), i)
            })
            .collect()
    })
}

/// The versioned URL of a static file (`/static/app.3f2a9c1b0d4e.css`).
pub fn static_url(name: &str) -> String {
    let i = STATIC_FILES.iter().position(|(n, _, _)| *n == name).unwrap_or(0);
    let hashed = hashed_names().iter().find(|(_, j)| *j == i).map(|(h, _)| h.clone()).unwrap_or_default();
    format!("/static/{hashed}")
}

async fn static_file(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("name").unwrap_or_default();
    match hashed_names().iter().find(|(h, _)| h == name) {
        Some((_, i)) => {
            let (_, content_type, body) = STATIC_FILES[*i];
            HttpResponse::Ok()
                .content_type(content_type)
                .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
                .body(body)
        }
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such file"),
    }
}

/// `/favicon.ico`, asked for by browsers whatever the page says: the same small SVG icon.
async fn favicon() -> HttpResponse {
    let (_, content_type, body) = STATIC_FILES[2];
    HttpResponse::Ok().content_type(content_type).insert_header(("Cache-Control", "public, max-age=86400")).body(body)
}

/// The pages' routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(FORM_LIMIT))
        .route("/", web::get().to(auth::sign_in_page))
        .route("/sign-in", web::post().to(auth::sign_in))
        .route("/sign-out", web::post().to(auth::sign_out))
        .route("/static/{name}", web::get().to(static_file))
        .route("/favicon.ico", web::get().to(favicon))
        .route("/assessments", web::get().to(home::my_assessments))
        .route("/assessments/{id}", web::get().to(assessment::overview))
        .route("/assessments/{id}/gateway", web::get().to(assessment::gateway_page))
        .route("/assessments/{id}/gateway", web::post().to(assessment::gateway_save))
        .route("/assessments/{id}/panel", web::get().to(assessment::panel_page))
        .route("/assessments/{id}/panel", web::post().to(assessment::panel_save))
        .route("/assessments/{id}/declaration", web::get().to(assessment::declaration_page))
        .route("/assessments/{id}/declaration", web::post().to(assessment::declaration_save))
        .route("/assessments/{id}/viva", web::get().to(assessment::viva_page))
        .route("/assessments/{id}/viva", web::post().to(assessment::viva_save))
        .route("/assessments/{id}/audit", web::get().to(assessment::audit_page))
        .route("/assessments/{id}/scores", web::get().to(scores::sheet_page))
        .route("/assessments/{id}/scores", web::post().to(scores::sheet_save))
        .route("/assessments/{id}/scores/review", web::get().to(scores::review_page))
        .route("/assessments/{id}/scores/submit", web::post().to(scores::submit))
        .route("/assessments/{id}/consensus", web::get().to(consensus::console_page))
        .route("/assessments/{id}/consensus", web::post().to(consensus::console_save))
        .route("/assessments/{id}/decision", web::get().to(consensus::decision_page))
        .route("/assessments/{id}/decision", web::post().to(consensus::decision_save))
        .route("/assessments/{id}/moderation", web::get().to(moderation::moderate_page))
        .route("/assessments/{id}/moderation", web::post().to(moderation::moderate_save))
        .route("/moderation", web::get().to(moderation::queue_page))
        .route("/admin/people", web::get().to(admin::people_page))
        .route("/admin/people", web::post().to(admin::people_save))
        .route("/admin/register", web::get().to(admin::register_page))
        .route("/admin/register", web::post().to(admin::register_save))
        .route("/admin/import", web::get().to(admin::import_page))
        .route("/admin/import", web::post().to(admin::import_save))
        .route("/reports", web::get().to(reports::reports_page))
        .route("/reports/standardisation", web::get().to(standardisation::standardisation_page))
        .route("/reports/{name}", web::get().to(reports::download));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_urls_carry_a_content_hash() {
        let url = static_url("app.css");
        assert!(url.starts_with("/static/app.") && url.ends_with(".css") && url.len() > "/static/app..css".len());
        assert_ne!(static_url("autosave.js"), url);
    }

    #[test]
    fn web_config_reads_the_environment() {
        let cfg = |pairs: &[(&str, &str)]| {
            let map: std::collections::HashMap<String, String> =
                pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            WebConfig::from_lookup(|k| map.get(k).cloned())
        };
        let c = cfg(&[]).unwrap();
        assert!(!c.cookie_secure && c.session_key.is_none());
        assert!(cfg(&[("EPA_COOKIE_SECURE", "true")]).unwrap().cookie_secure);
        assert!(cfg(&[("EPA_COOKIE_SECURE", "maybe")]).is_err());
        assert!(!c.trust_forwarded_for && cfg(&[("EPA_TRUST_FORWARDED_FOR", "true")]).unwrap().trust_forwarded_for);
        assert!(cfg(&[("EPA_SESSION_KEY", "short")]).unwrap_err().to_string().contains("32"));
        let c = cfg(&[("EPA_SESSION_KEY", &"k".repeat(40))]).unwrap();
        assert!(!format!("{c:?}").contains("kkkk"), "the key is not shown");
    }

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
