//! One assessment's pages before scoring and around it, a file per step of the day: the
//! overview (here), the gateway, the panel appointment (admin), the assessor's declaration, viva
//! preparation and record, the sign-off of the agreed scores, and the audit trail. Each POST calls the service the JSON API calls,
//! then redirects back (POST/redirect/GET).

mod appeal;
mod audit;
mod declaration;
mod evidence;
mod gateway;
pub(crate) mod panel;
mod resit;
mod sign_off;
mod viva;

pub use appeal::lodge_save as appeal_lodge_save;
pub use audit::{audit_page, detail_rows};
pub use declaration::{declaration_page, declaration_save};
pub use evidence::{evidence_page, evidence_save};
pub use gateway::{field_label, gateway_page, gateway_save};
pub use panel::{panel_page, panel_save, viva_time};
pub use resit::later_attempt_save;
pub use sign_off::{sign_off_lines, sign_off_save, SignOffLine};
pub use viva::{posted_questions, viva_page, viva_save};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::view::{day, when, Header, Loaded};
use super::{FormError, Page, PageError};
use crate::domain::permissions::{may, Action, Seat};
use crate::domain::workflow::NextStep;
use crate::error::AppError;
use crate::local_time::Zone;

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
            "evidence" => "The evidence is recorded.",
            "draft" => "Your draft is saved.",
            "submitted" => "Your score sheet is submitted. It is final now.",
            "consensus" => "The consensus is saved.",
            "decided" => "The decision is recorded. It now goes to moderation.",
            "confirmed" => "Confirmed. The outcome is released and the emails are on their way.",
            "referred" => "Referred back to the panel.",
            "sign_off" => "Your sign-off is recorded.",
            "registered" => "The EPA is registered. Next, the gateway checks.",
            "appeal" => "The review or appeal is lodged. Next, appoint its reviewer on the appeal's page.",
            "reviewer" => "The reviewer is appointed. The appeal is theirs to decide now.",
            "appeal_decided" => "The decision on the appeal is recorded.",
            "later_attempt" => "The later attempt is opened. Only the components assessed again are scored; the others carry over.",
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
    /// Whether this seat scores on the standard's panel (the guide names the seats).
    scores: bool,
}

#[derive(Serialize)]
struct OverviewView {
    header: Header,
    notice: Option<&'static str>,
    links: Vec<Link>,
    panel: Vec<PanelMember>,
    /// The independent assessor is one of the seats and not appointed yet.
    assessor_awaited: bool,
    gateway_unmet: Vec<String>,
    declaration: Option<String>,
    viva_questions: usize,
    grade: Option<String>,
    weighted_score: Option<String>,
    decided_at: Option<String>,
    released_at: Option<String>,
    emails: Vec<EmailRow>,
    sign_offs: Vec<SignOffLine>,
    /// The viewer's sign-off form, when they may sign off now.
    sign_off: Option<sign_off::SignOffForm>,
    /// The appeals against the outcome (staff) and the admin's form to lodge one.
    appeals: appeal::AppealsShown,
    /// The admin's form to open a resit or retake, when one may follow now.
    later_attempt: Option<resit::LaterAttemptForm>,
    /// The guide's notes for the panel (scope, values, …).
    guide_notes: Vec<crate::domain::guide::Note>,
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

pub fn email_rows(zone: Zone, emails: &[crate::services::views::EmailView]) -> Vec<EmailRow> {
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
    let seating = &loaded.data.seating;
    let can = |action| may(role, seat, action, seating);
    let scorer = seat.is_some_and(|s| seating.scores(s));
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
    if seat == Some(Seat::IndependentAssessor) && seating.has_assessor() {
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
        out.push(Link {
            href: format!("/assessments/{id}/evidence"),
            label: "Evidence",
            hint: "evidence records and the criteria each supports",
        });
    }
    if scorer {
        out.push(Link {
            href: format!("/assessments/{id}/scores"),
            label: "My score sheet",
            hint: "score every item alone",
        });
    }
    // A one-seat panel has nothing to agree: its only sheet is the agreed scores (until a
    // refer-back, which its assessor answers in a consensus).
    if (scorer || role.is_staff()) && (!seating.is_single() || loaded.data.referred_back.is_some()) {
        out.push(Link {
            href: format!("/assessments/{id}/consensus"),
            label: "Consensus",
            hint: "the panel's scores side by side, once all are in",
        });
    }
    // The decision and its moderation only once there can be one (every sheet is in).
    let status = loaded.data.status;
    if can(Action::Decide) && status.is_scored() {
        out.push(Link {
            href: format!("/assessments/{id}/decision"),
            label: "Decision",
            hint: "the grade and weighted score before confirming",
        });
    }
    if can(Action::Moderate) && status.is_decided() {
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
    let mut view = overview_view(&page, &loaded, done.message(), None);
    view.appeals = appeal::appeals_shown(&page, &loaded, None).await?;
    page.render("pages/assessment.html", "End-point assessment", &view)
}

/// The overview of `loaded`, with the sign-off form as posted (if it was).
fn overview_view(
    page: &Page,
    loaded: &Loaded,
    notice: Option<&'static str>,
    posted: Option<sign_off::SignOffForm>,
) -> OverviewView {
    let d = &loaded.data;
    let scores = |seat: Seat| d.seating.scores(seat);
    let mut panel = vec![
        PanelMember {
            role: "Line manager",
            name: loaded.name(&d.panel.line_manager_id),
            scores: scores(Seat::LineManager),
        },
        PanelMember {
            role: "Training provider",
            name: loaded.name(&d.panel.training_provider_user_id),
            scores: scores(Seat::TrainingProvider),
        },
    ];
    if let Some(ia) = &d.panel.independent_assessor_id {
        panel.push(PanelMember {
            role: "Independent assessor",
            name: loaded.name(ia),
            scores: scores(Seat::IndependentAssessor),
        });
    }
    let assessor_awaited = d.seating.has_assessor() && d.panel.independent_assessor_id.is_none();
    OverviewView {
        header: loaded.header(),
        notice,
        links: links(page, loaded),
        panel,
        assessor_awaited,
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
        sign_offs: if d.status.is_decided() { sign_off_lines(loaded) } else { vec![] },
        sign_off: loaded.may(NextStep::SignOff).then(|| posted.unwrap_or_default()),
        appeals: appeal::AppealsShown::default(),
        later_attempt: resit::later_attempt_form(page, loaded, None),
        guide_notes: loaded.guide.notes.clone(),
    }
}

/// The status of a page refused by the service.
fn e_status(e: &AppError) -> StatusCode {
    FormError::status(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_messages_are_fixed_texts() {
        assert!(Done { done: Some("panel".into()) }.message().is_some());
        assert!(Done { done: Some("<script>".into()) }.message().is_none());
    }
}
