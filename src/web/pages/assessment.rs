//! One assessment's pages before scoring and around it: the overview, the gateway, the panel
//! appointment (admin), the assessor's declaration, viva preparation and record, and the audit
//! trail. Each POST calls the service the JSON API calls, then redirects back (POST/redirect/GET).

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::view::{component_title, day, kind_label, when, Header, Loaded};
use super::{see_other, Form, FormError, Page, PageError};
use crate::domain::assessment::VivaQuestion;
use crate::domain::permissions::{may, Action, Role, Seat};
use crate::error::{AppError, ErrorCode};
use crate::local_time::{Typed, TypedError, Zone};
use crate::services::assessments::{self, DeclarationInput, GatewayInput, PanelInput, VivaRecordInput};
use crate::services::{people, Input};

/// `?done=…` after a redirect: a fixed message, never text from the URL.
#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    pub done: Option<String>,
}

impl Done {
    pub fn message(&self) -> Option<&'static str> {
        Some(match self.done.as_deref()? {
            "gateway" => "The gateway checks are saved.",
            "panel" => "The panel is appointed.",
            "panel_earlier" => "The panel is appointed. The viva time you typed happens twice that night, as the clocks go back an hour: the earlier of the two is used, as shown above with its time zone.",
            "declaration" => "Your declaration is recorded.",
            "viva" => "The viva record is saved.",
            "draft" => "Your draft is saved.",
            "submitted" => "Your score sheet is submitted. It is final now.",
            "consensus" => "The consensus is saved.",
            "decided" => "The decision is recorded. It now goes to moderation.",
            "confirmed" => "Confirmed. The outcome is released and the emails are on their way.",
            "referred" => "Referred back to the panel.",
            "registered" => "The EPA is registered. Next, the gateway checks.",
            _ => return None,
        })
    }
}

fn path_id(path: &web::Path<String>) -> String {
    path.as_str().to_string()
}

// ---- overview

#[derive(Serialize)]
struct Link {
    href: String,
    label: &'static str,
    hint: &'static str,
}

#[derive(Serialize)]
struct PanelMember {
    role: &'static str,
    name: String,
}

#[derive(Serialize)]
struct OverviewView {
    header: Header,
    notice: Option<&'static str>,
    links: Vec<Link>,
    panel: Vec<PanelMember>,
    gateway_unmet: Vec<String>,
    declaration: Option<String>,
    viva_questions: usize,
    grade: Option<String>,
    weighted_score: Option<String>,
    decided_at: Option<String>,
    released_at: Option<String>,
    emails: Vec<EmailRow>,
}

#[derive(Debug, Serialize)]
pub struct EmailRow {
    pub to: String,
    pub role: &'static str,
    pub status: String,
    pub status_label: &'static str,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

pub fn email_rows(zone: Zone, emails: &[super::view::EmailData]) -> Vec<EmailRow> {
    emails
        .iter()
        .map(|e| EmailRow {
            to: e.to.clone(),
            role: match e.recipient_role.as_str() {
                "apprentice" => "Apprentice",
                other => super::role_label(other),
            },
            status: e.status.clone(),
            status_label: match e.status.as_str() {
                "pending" => "Queued",
                "sent" => "Sent",
                "written" => "Written to the mail folder",
                "failed" => "Failed",
                _ => "Unknown",
            },
            attempts: e.attempts,
            last_error: e.last_error.clone(),
            sent_at: e.sent_at.as_deref().map(|t| when(zone, t)),
        })
        .collect()
}

/// The pages a person may open on this assessment.
fn links(page: &Page, loaded: &Loaded) -> Vec<Link> {
    let (role, seat, id) = (page.actor.role, loaded.seat, &loaded.data.id);
    let can = |action| may(role, seat, action);
    let mut out = vec![Link {
        href: format!("/assessments/{id}/gateway"),
        label: "Gateway",
        hint: "the four checks, who confirmed each and when",
    }];
    if can(Action::AppointPanel) {
        out.push(Link {
            href: format!("/assessments/{id}/panel"),
            label: "Panel",
            hint: "appoint the independent assessor and the viva",
        });
    }
    if seat == Some(Seat::IndependentAssessor) {
        out.push(Link {
            href: format!("/assessments/{id}/declaration"),
            label: "Declaration",
            hint: "no prior involvement, no conflict of interest",
        });
    }
    if seat.is_some() || role.is_staff() {
        out.push(Link {
            href: format!("/assessments/{id}/viva"),
            label: "Viva",
            hint: "preparation and the record of questions and responses",
        });
    }
    if seat.is_some() {
        out.push(Link {
            href: format!("/assessments/{id}/scores"),
            label: "My score sheet",
            hint: "score every item alone",
        });
    }
    if seat.is_some() || role.is_staff() {
        out.push(Link {
            href: format!("/assessments/{id}/consensus"),
            label: "Consensus",
            hint: "the three scores side by side, once all are in",
        });
    }
    // The decision and its moderation only once there can be one (all three sheets are in).
    let status = loaded.data.status.as_str();
    let scored = matches!(status, "consensus" | "decided" | "released");
    if can(Action::Decide) && scored {
        out.push(Link {
            href: format!("/assessments/{id}/decision"),
            label: "Decision",
            hint: "the grade and weighted score before confirming",
        });
    }
    if can(Action::Moderate) && matches!(status, "decided" | "released") {
        out.push(Link {
            href: format!("/assessments/{id}/moderation"),
            label: "Moderation",
            hint: "confirm or refer back",
        });
    }
    out.push(Link {
        href: format!("/assessments/{id}/audit"),
        label: "Audit trail",
        hint: "every change, oldest first",
    });
    out
}

/// `GET /assessments/{id}`
pub async fn overview(page: Page, path: web::Path<String>, done: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    let d = &loaded.data;
    let mut panel = vec![
        PanelMember { role: "Line manager", name: loaded.name(&d.panel.line_manager_id) },
        PanelMember { role: "Training provider", name: loaded.name(&d.panel.training_provider_user_id) },
    ];
    if let Some(ia) = &d.panel.independent_assessor_id {
        panel.push(PanelMember { role: "Independent assessor", name: loaded.name(ia) });
    }
    let view = OverviewView {
        header: loaded.header(),
        notice: done.message(),
        links: links(&page, &loaded),
        panel,
        gateway_unmet: d.gateway.unmet.iter().map(|f| field_label(f).to_string()).collect(),
        declaration: d.panel.declaration.as_ref().map(|decl| {
            if d.declaration_holds() {
                format!("Declared independent by {} on {}", loaded.name(&decl.by), day(loaded.zone, &decl.at))
            } else {
                format!("Declared by {}: does NOT hold ({}): scoring is blocked", loaded.name(&decl.by), decl.conflicts)
            }
        }),
        viva_questions: d.viva_record.as_ref().map_or(0, |v| v.questions.len()),
        grade: d.grade.clone(),
        weighted_score: d.weighted_score.map(|w| format!("{w:.2}")),
        decided_at: d.decided_at.as_deref().map(|t| when(loaded.zone, t)),
        released_at: d.released_at.as_deref().map(|t| when(loaded.zone, t)),
        emails: email_rows(loaded.zone, &d.emails),
    };
    page.render("pages/assessment.html", "End-point assessment", &view)
}

// ---- gateway

/// The contract's gateway fields, grouped under the plan's four checks.
const CHECKS: [(&str, &str, &[&str]); 4] = [
    ("portfolio_complete", "Portfolio reviewed and complete", &["portfolio_complete"]),
    ("knowledge", "Knowledge demonstrated", &["knowledge_route", "knowledge_reference"]),
    ("english_maths", "English and mathematics at Level 2", &["english_level2", "maths_level2"]),
    ("ready", "Ready for the final assessment", &["employer_ready", "provider_ready"]),
];

pub fn field_label(field: &str) -> &'static str {
    match field {
        "portfolio_complete" => "Portfolio reviewed: every criterion complete to the required standard",
        "knowledge_route" => "How the knowledge was demonstrated",
        "knowledge_reference" => "Reference (qualification number or assessment record)",
        "english_level2" => "English at Level 2 achieved",
        "maths_level2" => "Mathematics at Level 2 achieved",
        "employer_ready" => "The employer (line manager) judges the apprentice ready",
        "provider_ready" => "The training provider judges the apprentice ready",
        _ => "Unknown check",
    }
}

#[derive(Serialize)]
struct GatewayField {
    name: &'static str,
    label: &'static str,
    met: bool,
    /// For a yes/no field, whether it is ticked (as saved, or as just posted).
    checked: bool,
    value: String,
    /// Who last changed it and when, in words: "Confirmed by …" only when it holds.
    confirmed: String,
    error: Option<String>,
}

/// "Confirmed by X on …" for a check that holds; for one that does not, who set it so, or
/// "Not yet confirmed" when no save has changed it.
fn change_text(loaded: &Loaded, field: &str, met: bool) -> String {
    let Some(c) = loaded.data.gateway.confirmations.get(field) else {
        return "Not yet confirmed".into();
    };
    let (who, at) = (loaded.name(&c.by), when(loaded.zone, &c.at));
    match (met, field) {
        (true, _) => format!("Confirmed by {who} on {at}"),
        (false, "knowledge_route" | "knowledge_reference") => format!("Left not given by {who} on {at}"),
        (false, _) => format!("Set to No by {who} on {at}"),
    }
}

#[derive(Serialize)]
struct GatewayCheckView {
    id: &'static str,
    title: String,
    description: Option<String>,
    met: bool,
    fields: Vec<GatewayField>,
}

#[derive(Serialize)]
struct GatewayView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    checks: Vec<GatewayCheckView>,
    unmet: Vec<&'static str>,
    unmet_checks: usize,
    knowledge_route: String,
    knowledge_reference: String,
    /// The units of each qualification the guide maps, to tick those achieved.
    qualifications: Vec<QualificationView>,
    knowledge_gaps: Option<Vec<crate::services::assessments::KnowledgeGap>>,
    can_edit: bool,
    locked_reason: Option<&'static str>,
}

#[derive(Serialize)]
struct QualificationView {
    reference: String,
    title: String,
    units: Vec<UnitView>,
}

#[derive(Serialize)]
struct UnitView {
    id: String,
    title: String,
    checked: bool,
}

fn gateway_view(
    page: &Page,
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> GatewayView {
    let g = &loaded.data.gateway;
    let saved_bool = |f: &str| match f {
        "portfolio_complete" => g.portfolio_complete,
        "english_level2" => g.english_level2,
        "maths_level2" => g.maths_level2,
        "employer_ready" => g.employer_ready,
        "provider_ready" => g.provider_ready,
        _ => None,
    };
    let route =
        posted.map(|f| f.text("knowledge_route")).unwrap_or_else(|| g.knowledge_route.clone().unwrap_or_default());
    let reference = posted
        .map(|f| f.text("knowledge_reference"))
        .unwrap_or_else(|| g.knowledge_reference.clone().unwrap_or_default());
    let checks = CHECKS
        .iter()
        .map(|(id, default_title, fields)| {
            let from_guide = loaded.guide.gateway.iter().find(|c| c.id == *id);
            let fields: Vec<GatewayField> = fields
                .iter()
                .map(|f| {
                    let checked = match posted {
                        Some(form) => form.checked(f),
                        None => saved_bool(f).unwrap_or(false),
                    };
                    let value = match *f {
                        "knowledge_route" => match g.knowledge_route.as_deref() {
                            Some("qualification") => "A regulated qualification".to_string(),
                            Some("assessment") => "An alternative knowledge assessment".to_string(),
                            _ => "Not given".to_string(),
                        },
                        "knowledge_reference" => g
                            .knowledge_reference
                            .clone()
                            .filter(|r| !r.is_empty())
                            .unwrap_or_else(|| "Not given".into()),
                        _ => {
                            if saved_bool(f) == Some(true) {
                                "Yes".into()
                            } else {
                                "No".into()
                            }
                        }
                    };
                    let met = !g.unmet.iter().any(|u| u == f);
                    GatewayField {
                        name: f,
                        label: field_label(f),
                        met,
                        checked,
                        value,
                        confirmed: change_text(loaded, f, met),
                        error: error.as_ref().filter(|e| e.field.as_deref() == Some(f)).map(|e| e.message.clone()),
                    }
                })
                .collect();
            GatewayCheckView {
                id,
                title: from_guide.map(|c| c.title.clone()).unwrap_or_else(|| default_title.to_string()),
                description: from_guide.and_then(|c| c.description.clone()),
                met: fields.iter().all(|f| f.met),
                fields,
            }
        })
        .collect();
    let checks: Vec<GatewayCheckView> = checks;
    let unmet_checks = checks.iter().filter(|c| !c.met).count();
    let permitted = may(page.actor.role, loaded.seat, Action::RecordGateway);
    let open = matches!(loaded.data.status.as_str(), "registered" | "gateway_passed");
    GatewayView {
        header: loaded.header(),
        notice,
        error,
        checks,
        unmet: g.unmet.iter().map(|f| field_label(f)).collect(),
        unmet_checks,
        knowledge_route: route,
        knowledge_reference: reference,
        qualifications: loaded
            .guide
            .qualifications
            .iter()
            .map(|q| QualificationView {
                reference: q.reference.clone(),
                title: q.title.clone(),
                units: q
                    .units
                    .iter()
                    .map(|u| UnitView {
                        id: u.id.clone(),
                        title: u.title.clone(),
                        checked: match posted {
                            Some(f) => f.all("knowledge_units").contains(&u.id),
                            None => g.knowledge_units.contains(&u.id),
                        },
                    })
                    .collect(),
            })
            .collect(),
        knowledge_gaps: g.knowledge_gaps.clone(),
        can_edit: permitted && open,
        locked_reason: match (permitted, open) {
            (false, _) => Some("Only the line manager, the training provider or an admin confirms the gateway."),
            (true, false) => Some("The panel is appointed: the gateway can no longer change."),
            _ => None,
        },
    }
}

/// `GET /assessments/{id}/gateway`
pub async fn gateway_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    let view = gateway_view(&page, &loaded, None, None, done.message());
    page.render("pages/gateway.html", "Gateway", &view)
}

/// `POST /assessments/{id}/gateway`
pub async fn gateway_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let optional = |name: &str| Some(form.text(name)).filter(|v| !v.is_empty());
    let input = GatewayInput {
        portfolio_complete: form.checked("portfolio_complete"),
        knowledge_route: optional("knowledge_route"),
        knowledge_reference: optional("knowledge_reference"),
        knowledge_units: Some(form.all("knowledge_units")),
        english_level2: form.checked("english_level2"),
        maths_level2: form.checked("maths_level2"),
        employer_ready: form.checked("employer_ready"),
        provider_ready: form.checked("provider_ready"),
    };
    let (actor, target, if_match, guides) =
        (page.actor.clone(), id.clone(), form.if_match(), page.state.guides.clone());
    let result = page
        .attempt(move |conn| {
            assessments::record_gateway(conn, &guides, &actor, &target, Input::new(Ok(input), if_match))
        })
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/gateway?done=gateway"))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = gateway_view(&page, &loaded, Some(&form), Some(FormError::from_app(&e)), None);
            page.render_status(e_status(&e), "pages/gateway.html", "Gateway", &view)
        }
    }
}

fn e_status(e: &AppError) -> StatusCode {
    FormError::status(e)
}

// ---- panel appointment (admin)

#[derive(Serialize)]
struct AssessorOption {
    id: String,
    label: String,
    selected: bool,
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
        assessors: assessors
            .into_iter()
            .map(|u| AssessorOption {
                selected: chosen.as_deref() == Some(u.id.as_str()),
                label: match &u.organisation {
                    Some(org) => format!("{} ({org})", u.name),
                    None => u.name.clone(),
                },
                id: u.id,
            })
            .collect(),
        viva_at,
        viva_zone: loaded.zone.describe(),
        mode: posted.map(|f| f.text("mode")).or_else(|| p.mode.clone()).unwrap_or_default(),
        can_edit: matches!(loaded.data.status.as_str(), "gateway_passed" | "scheduled"),
    }
}

/// Whether any member has submitted their score sheet (the panel can no longer change).
async fn scoring_started(page: &Page, loaded: &Loaded) -> Result<bool, PageError> {
    if loaded.data.status != "scheduled" {
        return Ok(false);
    }
    let (actor, id) = (page.actor.clone(), loaded.data.id.clone());
    let sheets = page.run(move |conn| assessments::view_sheets(conn, &actor, &id)).await?;
    Ok(sheets.sheets.iter().any(|s| s.submitted_at.is_some()))
}

/// The panel page's view, with the appointment offered only while it can still change.
async fn panel_view_now(
    page: &Page,
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> Result<PanelView, PageError> {
    let mut view = panel_view(loaded, assessors(page).await?, posted, error, notice);
    view.can_edit = view.can_edit && !scoring_started(page, loaded).await?;
    Ok(view)
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
        independent_assessor_id: form.text("independent_assessor_id"),
        viva_at: crate::db::format_time(typed.utc),
        mode: form.text("mode"),
    };
    let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
    let result = page
        .attempt(move |conn| assessments::appoint_panel(conn, &actor, &target, Input::new(Ok(input), if_match)))
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

// ---- declaration (the independent assessor)

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
    let blocked = current.as_ref().is_some_and(|c| !c.holds);
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
        can_edit: loaded.seat == Some(Seat::IndependentAssessor) && d.status == "scheduled" && !blocked,
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

// ---- viva preparation and record

#[derive(Serialize)]
struct PrepCriterion {
    id: String,
    area: String,
    requirement: Option<String>,
    indicators: Vec<String>,
    also_in: Vec<String>,
}

#[derive(Serialize)]
struct PrepGroup {
    kind: &'static str,
    heading: &'static str,
    criteria: Vec<PrepCriterion>,
}

#[derive(Serialize)]
struct QuestionRow {
    n: usize,
    question: String,
    response: String,
}

#[derive(Serialize)]
struct VivaView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    component: String,
    knowledge_route: Option<String>,
    /// Knowledge areas the qualification's achieved units do not cover (from the gateway).
    knowledge_gaps: Vec<crate::services::assessments::KnowledgeGap>,
    groups: Vec<PrepGroup>,
    questions: Vec<QuestionRow>,
    recorded_by: Option<String>,
    can_record: bool,
    new_question: String,
    new_response: String,
}

/// The component the viva is: the one named like it, else the last one.
pub fn viva_component(guide: &crate::domain::guide::Guide) -> Option<&crate::domain::guide::Component> {
    let looks_like = |c: &&crate::domain::guide::Component| {
        let text = format!("{} {}", c.id, c.title.clone().unwrap_or_default()).to_lowercase();
        text.contains("viva") || text.contains("interview")
    };
    guide.components.iter().find(looks_like).or_else(|| guide.components.last())
}

fn viva_view(
    page: &Page,
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> VivaView {
    let guide = &loaded.guide;
    let component = viva_component(guide);
    let cid = component.map(|c| c.id.clone()).unwrap_or_default();
    let mut groups: BTreeMap<u8, PrepGroup> = BTreeMap::new();
    for c in guide.criteria.iter().filter(|c| c.methods.contains(&cid)) {
        let kind = c.kind.as_str();
        let order = match kind {
            "knowledge" => 0,
            "skill" => 1,
            _ => 2,
        };
        let group =
            groups.entry(order).or_insert_with(|| PrepGroup { kind, heading: kind_label(kind), criteria: vec![] });
        group.criteria.push(PrepCriterion {
            id: c.id.clone(),
            area: c.area.clone(),
            requirement: c.requirement.clone(),
            indicators: c.indicators.clone(),
            also_in: c
                .methods
                .iter()
                .filter(|m| **m != cid && guide.component(m).is_some())
                .map(|m| component_title(guide, m))
                .collect(),
        });
    }
    let d = &loaded.data;
    // After a refusal the rows are shown as posted, unless someone else saved the record
    // meanwhile (412): then theirs is shown, with this person's new question kept below it.
    let stale = error.as_ref().is_some_and(|e| e.stale);
    let questions: Vec<QuestionRow> = match posted.filter(|_| !stale) {
        Some(form) => posted_questions(form)
            .into_iter()
            .enumerate()
            .map(|(i, q)| QuestionRow { n: i + 1, question: q.question, response: q.response })
            .collect(),
        None => d
            .viva_record
            .as_ref()
            .map(|v| {
                v.questions
                    .iter()
                    .enumerate()
                    .map(|(i, q)| QuestionRow { n: i + 1, question: q.question.clone(), response: q.response.clone() })
                    .collect()
            })
            .unwrap_or_default(),
    };
    VivaView {
        header: loaded.header(),
        notice,
        error,
        component: component.map(|c| component_title(guide, &c.id)).unwrap_or_default(),
        knowledge_gaps: d.gateway.knowledge_gaps.clone().unwrap_or_default(),
        knowledge_route: match d.gateway.knowledge_route.as_deref() {
            Some("qualification") => Some(format!(
                "Knowledge was shown by a regulated qualification ({}): probe the areas it does not cover.",
                d.gateway.knowledge_reference.clone().unwrap_or_default()
            )),
            Some("assessment") => Some(format!(
                "Knowledge was shown by an alternative assessment ({}).",
                d.gateway.knowledge_reference.clone().unwrap_or_default()
            )),
            _ => None,
        },
        groups: groups.into_values().collect(),
        questions,
        recorded_by: d.viva_record.as_ref().map(|v| format!("{}, {}", loaded.name(&v.by), when(loaded.zone, &v.at))),
        can_record: may(page.actor.role, loaded.seat, Action::RecordViva)
            && matches!(d.status.as_str(), "scheduled" | "consensus"),
        new_question: posted.map(|f| f.text("new_question")).unwrap_or_default(),
        new_response: posted.map(|f| f.text("new_response")).unwrap_or_default(),
    }
}

/// The record as posted: the existing rows (`question_N`/`response_N`; a row whose question is
/// emptied is removed) and then the new one.
pub fn posted_questions(form: &Form) -> Vec<VivaQuestion> {
    let mut out = Vec::new();
    for n in 1..=500 {
        let Some(question) = form.get(&format!("question_{n}")) else { break };
        let response = form.text(&format!("response_{n}"));
        if !question.trim().is_empty() {
            out.push(VivaQuestion { question: question.trim().to_string(), response });
        }
    }
    let new_q = form.text("new_question");
    if !new_q.is_empty() {
        out.push(VivaQuestion { question: new_q, response: form.text("new_response") });
    }
    out
}

/// `GET /assessments/{id}/viva`
pub async fn viva_page(page: Page, path: web::Path<String>, done: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    let view = viva_view(&page, &loaded, None, None, done.message());
    page.render("pages/viva.html", "Viva", &view)
}

/// `POST /assessments/{id}/viva`: saves the whole record (the rows shown plus the new one).
pub async fn viva_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let input = VivaRecordInput { questions: posted_questions(&form) };
    let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
    let result = page
        .attempt(move |conn| assessments::record_viva(conn, &actor, &target, Input::new(Ok(input), if_match)))
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/viva?done=viva#new-question"))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = viva_view(&page, &loaded, Some(&form), Some(FormError::from_app(&e)), None);
            page.render_status(e_status(&e), "pages/viva.html", "Viva", &view)
        }
    }
}

// ---- audit trail

#[derive(Serialize)]
struct AuditRow {
    /// 1..n on this assessment's page (`seq` numbers the whole trail, across assessments).
    number: usize,
    seq: i64,
    at: String,
    who: String,
    action: String,
    detail: Vec<(String, String)>,
}

#[derive(Serialize)]
struct AuditPageView {
    header: Header,
    entries: Vec<AuditRow>,
}

/// `GET /assessments/{id}/audit`
pub async fn audit_page(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let id = path_id(&path);
    let loaded = page.load(&id).await?;
    let actor = page.actor.clone();
    let (entries, names) = page
        .run(move |conn| {
            let entries = assessments::audit_trail(conn, &actor, &id)?;
            let mut ids: Vec<String> = entries.iter().filter_map(|e| e.actor_id.clone()).collect();
            for e in &entries {
                if let serde_json::Value::Object(map) = &e.detail {
                    ids.extend(
                        map.iter()
                            .filter(|(k, _)| k.ends_with("_id"))
                            .filter_map(|(_, v)| v.as_str().map(str::to_string)),
                    );
                }
            }
            let names = people::display_names_of(conn, &ids)?;
            Ok((entries, names))
        })
        .await?;
    let entries = entries
        .into_iter()
        .enumerate()
        .map(|(n, e)| AuditRow {
            number: n + 1,
            seq: e.seq,
            at: when(loaded.zone, &e.at),
            who: e.actor_id.as_ref().and_then(|a| names.get(a).cloned()).unwrap_or_else(|| "the system".into()),
            action: e.action.replace(['.', '_'], " "),
            detail: detail_rows(loaded.zone, e.detail, &names),
        })
        .collect();
    let view = AuditPageView { header: loaded.header(), entries };
    page.render("pages/audit.html", "Audit trail", &view)
}

/// An audit entry's detail as lines a person reads: ids of people become their names, yes/no
/// for true/false, lists joined.
pub fn detail_rows(zone: Zone, detail: serde_json::Value, names: &HashMap<String, String>) -> Vec<(String, String)> {
    match detail {
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| {
                let named = k.ends_with("_id") && v.as_str().is_some_and(|id| names.contains_key(id));
                let label = if named { k.trim_end_matches("_id").to_string() } else { k.clone() };
                (label.replace('_', " "), words(zone, &k, &v, names))
            })
            .collect(),
        serde_json::Value::Null => vec![],
        other => vec![("detail".into(), words(zone, "", &other, names))],
    }
}

fn words(zone: Zone, key: &str, value: &serde_json::Value, names: &HashMap<String, String>) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) if key.ends_with("_id") => names.get(s).cloned().unwrap_or_else(|| s.clone()),
        Value::String(s) if is_time(s) => when(zone, s),
        Value::String(s) => s.replace('_', " "),
        Value::Bool(b) => (if *b { "yes" } else { "no" }).to_string(),
        Value::Null => "none".to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Array(items) => items.iter().map(|v| words(zone, "", v, names)).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}: {}", k.replace('_', " "), words(zone, k, v, names)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A stored time (`2026-12-01T10:00:00.000000Z`), shown to a person to the minute.
fn is_time(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_times_read_to_the_minute() {
        let rows = detail_rows(
            Zone::default(),
            serde_json::json!({"viva_at": "2026-12-01T10:00:00.000000Z", "mode": "in_person"}),
            &HashMap::new(),
        );
        assert_eq!(rows[1], ("viva at".to_string(), when(Zone::default(), "2026-12-01T10:00:00.000000Z")));
        assert!(!rows[1].1.contains(".000000") && rows[1].1.contains("10:00"), "{rows:?}");
        assert_eq!(rows[0].1, "in person");
    }

    #[test]
    fn audit_details_read_as_words() {
        let names: HashMap<String, String> = [("u1".to_string(), "Iris".to_string())].into_iter().collect();
        let rows = detail_rows(
            Zone::default(),
            serde_json::json!({"independent_assessor_id": "u1", "holds": true, "unmet": [], "changed": ["english_level2"],
                               "answers": {"maths_level2": false}}),
            &names,
        );
        let get = |k: &str| rows.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str()).unwrap_or_default().to_string();
        assert_eq!(get("independent assessor"), "Iris");
        assert_eq!(get("holds"), "yes");
        assert_eq!(get("unmet"), "none");
        assert_eq!(get("changed"), "english level2");
        assert_eq!(get("answers"), "maths level2: no");
    }

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_viva_record_is_the_rows_shown_plus_the_new_one() {
        let f = form(&[
            ("question_1", "Why?"),
            ("response_1", "Because."),
            ("question_2", "  "),
            ("response_2", "dropped"),
            ("question_3", "How?"),
            ("new_question", "And then?"),
            ("new_response", "It worked."),
        ]);
        let q = posted_questions(&f);
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].question, "Why?");
        assert_eq!(q[1].response, "");
        assert_eq!(q[2].response, "It worked.");
        assert!(posted_questions(&form(&[])).is_empty());
    }

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

    #[test]
    fn done_messages_are_fixed_texts() {
        assert!(Done { done: Some("panel".into()) }.message().is_some());
        assert!(Done { done: Some("<script>".into()) }.message().is_none());
    }
}
