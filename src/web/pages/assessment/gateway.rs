//! The gateway page: the guide's checks by their titles, who last changed each and when, and the
//! form that saves them (the line manager, the training provider or an admin). A guide whose
//! checks are the four v1 ones is answered through the v1 fields (with the knowledge route, the
//! reference and the qualification's units); any other by its checks, each with its evidence.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, path_id, Done};
use std::collections::BTreeMap;

use crate::domain::assessment::KnowledgeRoute;
use crate::domain::gateway::{Certificate, CheckAnswer, EVIDENCE_MAX, V1_CHECKS};
use crate::domain::permissions::{may, Action};
use crate::domain::workflow::NextStep;
use crate::services::assessments::{self, GatewayBody, GatewayChecksInput, GatewayInput};
use crate::services::Input;
use crate::web::pages::view::{when, Header, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

pub fn field_label(field: &str) -> &'static str {
    match field {
        "portfolio_complete" => "Portfolio reviewed: every criterion complete to the required standard",
        "knowledge_route" => "How the knowledge was demonstrated",
        "knowledge_reference" => "Reference (qualification number or assessment record)",
        "english_level2" => "English at Level 2 achieved",
        "maths_level2" => "Mathematics at Level 2 achieved",
        "employer_ready" => "The employer (line manager) judges the apprentice ready",
        "provider_ready" => "The training provider judges the apprentice ready",
        "knowledge_units" => "Units achieved that make the qualification",
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
    let Some(c) = loaded.data.gateway.saved.as_ref().and_then(|s| s.confirmations.get(field)) else {
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
    id: String,
    title: String,
    description: Option<String>,
    met: bool,
    /// The v1 fields that answer it (none for a guide's own check).
    fields: Vec<GatewayField>,
    /// Whether it is ticked in the form (as saved, or as just posted).
    checked: bool,
    /// Its evidence (as saved, or as just posted).
    evidence: String,
    /// Who last changed it and when, in words.
    changed: String,
    error: Option<String>,
}

/// "Confirmed by X on …" for a check that holds, "Set to No by X on …" for one that does not,
/// "Not yet confirmed" when no save has changed it.
fn check_change_text(loaded: &Loaded, check: &assessments::CheckView) -> String {
    let (Some(by), Some(at)) = (check.by.as_deref(), check.at.as_deref()) else {
        return "Not yet confirmed".into();
    };
    let (who, at) = (loaded.name(by), when(loaded.zone, at));
    match check.holds {
        true => format!("Confirmed by {who} on {at}"),
        false => format!("Set to No by {who} on {at}"),
    }
}

#[derive(Serialize)]
struct GatewayView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    checks: Vec<GatewayCheckView>,
    /// The guide's own checks are answered (else the v1 fields).
    by_checks: bool,
    evidence_max: usize,
    unmet: Vec<String>,
    unmet_checks: usize,
    certificate: Option<Certificate>,
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
    let saved = g.saved.as_ref();
    let saved_bool = |f: &str| {
        let s = saved?;
        match f {
            "portfolio_complete" => Some(s.portfolio_complete),
            "english_level2" => Some(s.english_level2),
            "maths_level2" => Some(s.maths_level2),
            "employer_ready" => Some(s.employer_ready),
            "provider_ready" => Some(s.provider_ready),
            _ => None,
        }
    };
    let saved_route = saved.and_then(|s| s.knowledge_route);
    let saved_reference = saved.and_then(|s| s.knowledge_reference.clone());
    let route = posted
        .map(|f| f.text("knowledge_route"))
        .unwrap_or_else(|| saved_route.map(|r| r.as_str().to_string()).unwrap_or_default());
    let reference =
        posted.map(|f| f.text("knowledge_reference")).unwrap_or_else(|| saved_reference.clone().unwrap_or_default());
    let by_checks = !loaded.guide.gateway_takes_fields();
    let checks = g
        .checks
        .iter()
        .map(|check| {
            let from_guide = loaded.guide.gateway.iter().find(|c| c.id == check.id);
            let v1_fields: &[&str] = match by_checks {
                true => &[],
                false => V1_CHECKS.iter().find(|(id, _, _)| *id == check.id).map_or(&[], |(_, _, fields)| fields),
            };
            let fields: Vec<GatewayField> = v1_fields
                .iter()
                .filter(|f| **f != "knowledge_units")
                .map(|f| {
                    let checked = match posted {
                        Some(form) => form.checked(f),
                        None => saved_bool(f).unwrap_or(false),
                    };
                    let value = match *f {
                        "knowledge_route" => match saved_route {
                            Some(KnowledgeRoute::Qualification) => "A regulated qualification".to_string(),
                            Some(KnowledgeRoute::Assessment) => "An alternative knowledge assessment".to_string(),
                            None => "Not given".to_string(),
                        },
                        "knowledge_reference" => {
                            saved_reference.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "Not given".into())
                        }
                        _ => {
                            if saved_bool(f) == Some(true) {
                                "Yes".into()
                            } else {
                                "No".into()
                            }
                        }
                    };
                    let met = !g.unmet.iter().any(|u| u.as_str() == *f);
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
            let evidence_field = format!("evidence.{}", check.id);
            GatewayCheckView {
                id: check.id.clone(),
                title: check.title.clone(),
                description: from_guide.and_then(|c| c.description.clone()),
                met: check.holds,
                fields,
                checked: posted.map_or(check.holds, |f| f.checked(&format!("holds.{}", check.id))),
                evidence: posted.map_or_else(|| check.evidence.clone(), |f| f.text(&evidence_field)),
                changed: check_change_text(loaded, check),
                error: error
                    .as_ref()
                    .filter(|e| e.field.as_deref() == Some(&evidence_field))
                    .map(|e| e.message.clone()),
            }
        })
        .collect();
    let checks: Vec<GatewayCheckView> = checks;
    let unmet_checks = checks.iter().filter(|c| !c.met).count();
    let permitted = may(page.actor.role, loaded.seat, Action::RecordGateway, &loaded.data.seating);
    let can_edit = loaded.may(NextStep::RecordGateway);
    GatewayView {
        header: loaded.header(),
        notice,
        error,
        unmet: g
            .unmet
            .iter()
            .map(|u| match g.checks.iter().find(|c| c.id == *u) {
                Some(c) => c.title.clone(),
                None => field_label(u).to_string(),
            })
            .collect(),
        checks,
        by_checks,
        evidence_max: EVIDENCE_MAX,
        unmet_checks,
        certificate: saved.and_then(|s| s.certificate.clone()),
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
                            None => saved.is_some_and(|s| s.knowledge_units.contains(&u.id)),
                        },
                    })
                    .collect(),
            })
            .collect(),
        knowledge_gaps: saved.and_then(|s| s.knowledge_gaps.clone()),
        can_edit,
        locked_reason: match (permitted, can_edit) {
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

/// The guide's own checks as the form posts them: each `check` id, ticked `holds.<id>`, and
/// `evidence.<id>`.
fn checks_of_form(form: &Form) -> GatewayChecksInput {
    let checks: BTreeMap<String, CheckAnswer> = form
        .all("check")
        .into_iter()
        .map(|id| {
            let answer = CheckAnswer {
                holds: form.checked(&format!("holds.{id}")),
                evidence: Some(form.text(&format!("evidence.{id}"))),
            };
            (id, answer)
        })
        .collect();
    GatewayChecksInput { checks }
}

/// The form's error for a refusal: one naming a check's evidence (`checks.<id>.evidence`) is
/// shown beside that evidence box.
fn form_error(e: &crate::error::AppError) -> FormError {
    let field = e.fault().and_then(|f| f.field.as_deref()).unwrap_or_default();
    match field.strip_prefix("checks.").and_then(|rest| rest.strip_suffix(".evidence")) {
        Some(id) => FormError {
            field: Some(format!("evidence.{id}")),
            message: format!(
                "Shorten or correct the evidence: {}.",
                e.fault().map(|f| f.reason.trim().to_string()).unwrap_or_default()
            ),
            stale: false,
        },
        None => FormError::from_app(e),
    }
}

/// `POST /assessments/{id}/gateway`
pub async fn gateway_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let optional = |name: &str| Some(form.text(name)).filter(|v| !v.is_empty());
    let input = match form.has("check") {
        true => GatewayBody::Checks(checks_of_form(&form)),
        false => GatewayBody::Fields(GatewayInput {
            portfolio_complete: form.checked("portfolio_complete"),
            knowledge_route: optional("knowledge_route"),
            knowledge_reference: optional("knowledge_reference"),
            knowledge_units: Some(form.all("knowledge_units")),
            english_level2: form.checked("english_level2"),
            maths_level2: form.checked("maths_level2"),
            employer_ready: form.checked("employer_ready"),
            provider_ready: form.checked("provider_ready"),
        }),
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
            let view = gateway_view(&page, &loaded, Some(&form), Some(form_error(&e)), None);
            page.render_status(e_status(&e), "pages/gateway.html", "Gateway", &view)
        }
    }
}
