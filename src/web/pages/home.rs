//! "My assessments": each person's assessments (the service decides which they may see), grouped
//! by what they must do next.

use actix_web::HttpResponse;
use serde::Serialize;

use super::view::{viva_text, AssessmentData};
use super::{Page, PageError};
use crate::domain::permissions::{may, Action, Role, Seat};
use crate::services::{assessments, Actor};

/// The next step for the viewer, in the order the groups are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Gateway,
    Panel,
    Declare,
    Score,
    Agree,
    Moderate,
    Waiting,
    Done,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Self::Gateway,
        Self::Panel,
        Self::Declare,
        Self::Score,
        Self::Agree,
        Self::Moderate,
        Self::Waiting,
        Self::Done,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Self::Gateway => "Confirm the gateway",
            Self::Panel => "Appoint the panel",
            Self::Declare => "Declare your independence",
            Self::Score => "Score",
            Self::Agree => "Agree the scores",
            Self::Moderate => "Moderate",
            Self::Waiting => "Waiting for others",
            Self::Done => "Released",
        }
    }
}

/// What the viewer does next on one assessment, with the page that does it. `own_submitted` is
/// whether the viewer's own score sheet is submitted (None when they have no sheet to fill).
pub fn next_step(actor: &Actor, data: &AssessmentData, own_submitted: Option<bool>) -> (Step, &'static str, String) {
    let seat = data.seat_of(&actor.id);
    let id = &data.id;
    let status = data.status.as_str();
    let can = |action| may(actor.role, seat, action);
    match status {
        "registered" if can(Action::RecordGateway) => {
            (Step::Gateway, "Confirm the gateway", format!("/assessments/{id}/gateway"))
        }
        "gateway_passed" if can(Action::AppointPanel) => {
            (Step::Panel, "Appoint the panel", format!("/assessments/{id}/panel"))
        }
        "scheduled" if seat == Some(Seat::IndependentAssessor) && data.declaration_blocks() => {
            (Step::Waiting, "Scoring is blocked: see why", format!("/assessments/{id}/declaration"))
        }
        "scheduled" if seat == Some(Seat::IndependentAssessor) && !data.declaration_holds() => {
            (Step::Declare, "Declare", format!("/assessments/{id}/declaration"))
        }
        "scheduled" if seat.is_some() && own_submitted == Some(false) => {
            if data.declaration_holds() {
                (Step::Score, "Open my score sheet", format!("/assessments/{id}/scores"))
            } else if data.declaration_blocks() {
                (Step::Waiting, "Scoring is blocked: another assessor is needed", format!("/assessments/{id}"))
            } else {
                (Step::Waiting, "Waiting for the assessor's declaration", format!("/assessments/{id}"))
            }
        }
        "scheduled" if seat.is_some() => {
            (Step::Waiting, "Waiting for the other sheets", format!("/assessments/{id}/scores"))
        }
        "consensus" if can(Action::RecordConsensus) => {
            (Step::Agree, "Open the consensus console", format!("/assessments/{id}/consensus"))
        }
        "consensus" if seat.is_some() => {
            (Step::Agree, "See the scores side by side", format!("/assessments/{id}/consensus"))
        }
        "decided" if can(Action::Moderate) => (Step::Moderate, "Moderate", format!("/assessments/{id}/moderation")),
        "released" => (Step::Done, "See the outcome", format!("/assessments/{id}")),
        _ => (Step::Waiting, "Open", format!("/assessments/{id}")),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub apprentice: String,
    pub standard: String,
    pub status_label: String,
    pub viva: Option<String>,
    pub action: &'static str,
    pub href: String,
    pub grade: Option<String>,
    /// Moderation's reason for referring the decision back, until the next decision.
    pub referred_back: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub step: Step,
    pub heading: &'static str,
    pub rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
pub struct HomeView {
    pub groups: Vec<Group>,
    pub total: usize,
    pub is_admin: bool,
}

/// Sorts rows into groups in [`Step::ALL`] order, leaving out empty groups.
pub fn group(rows: Vec<(Step, Row)>) -> Vec<Group> {
    Step::ALL
        .into_iter()
        .filter_map(|step| {
            let rows: Vec<Row> = rows.iter().filter(|(s, _)| *s == step).map(|(_, r)| r.clone()).collect();
            (!rows.is_empty()).then(|| Group { step, heading: step.heading(), rows })
        })
        .collect()
}

/// `GET /assessments`
pub async fn my_assessments(page: Page) -> Result<HttpResponse, PageError> {
    let actor = page.actor.clone();
    let guides = page.state.guides.clone();
    let zone = page.pages.zone;
    let rows = page
        .run(move |conn| {
            let mut rows = Vec::new();
            let loaded = assessments::list_loaded(conn, &actor, None, &assessments::Page::default())?;
            let scheduled: Vec<_> = loaded.iter().map(|l| &l.row).filter(|r| r.status == "scheduled").collect();
            let sheets_of = assessments::sheets_views_of(conn, &actor, &scheduled)?;
            for l in &loaded {
                let data = AssessmentData::from_value(assessments::view_from(l)?)?;
                let seated = data.seat_of(&actor.id).is_some();
                let own_submitted = if seated && data.status == "scheduled" {
                    let own = sheets_of.get(&data.id).and_then(|v| v.sheets.iter().find(|s| s.user_id == actor.id));
                    Some(own.is_some_and(|s| s.submitted))
                } else {
                    None
                };
                let (step, action, href) = next_step(&actor, &data, own_submitted);
                let standard = guides
                    .get(conn, &data.standard_id, &data.standard_version)?
                    .map(|g| format!("{} (level {})", g.title, g.level))
                    .unwrap_or_else(|| data.standard_id.clone());
                rows.push((
                    step,
                    Row {
                        id: data.id.clone(),
                        apprentice: data.apprentice_name(),
                        standard,
                        status_label: data.status_label().to_string(),
                        viva: viva_text(zone, data.panel.viva_at.as_deref(), data.panel.mode.as_deref()),
                        action,
                        href,
                        grade: data.grade.clone(),
                        referred_back: data.referred_back.as_ref().map(|r| r.rationale.clone()),
                    },
                ));
            }
            Ok(rows)
        })
        .await?;
    let total = rows.len();
    let view = HomeView { groups: group(rows), total, is_admin: page.actor.role == Role::Admin };
    page.render("pages/home.html", "My assessments", &view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permissions::Role;

    fn actor(id: &str, role: Role) -> Actor {
        Actor { id: id.into(), name: id.into(), role, organisation_id: None }
    }

    fn data(status: &str, declared: bool) -> AssessmentData {
        let declaration = declared.then(
            || serde_json::json!({"no_prior_involvement": true, "conflicts": "none", "holds": true, "by": "ia", "at": "t"}),
        );
        AssessmentData::from_value(serde_json::json!({
            "id": "a", "status": status, "standard_id": "s", "standard_version": "1", "apprentice_id": "p",
            "panel": {"line_manager_id": "lm", "training_provider_user_id": "tp", "independent_assessor_id": "ia",
                      "declaration": declaration},
            "gateway": {}, "emails": [], "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn each_person_sees_their_own_next_step() {
        let lm = actor("lm", Role::LineManager);
        let ia = actor("ia", Role::IndependentAssessor);
        let admin = actor("ad", Role::Admin);
        let moderator = actor("mo", Role::Moderator);
        assert_eq!(next_step(&lm, &data("registered", false), None).0, Step::Gateway);
        assert_eq!(next_step(&ia, &data("registered", false), None).0, Step::Waiting);
        assert_eq!(next_step(&admin, &data("gateway_passed", false), None).0, Step::Panel);
        assert_eq!(next_step(&ia, &data("scheduled", false), Some(false)).0, Step::Declare);
        assert_eq!(next_step(&lm, &data("scheduled", false), Some(false)).0, Step::Waiting);
        assert_eq!(next_step(&lm, &data("scheduled", true), Some(false)).0, Step::Score);
        assert_eq!(next_step(&lm, &data("scheduled", true), Some(true)).0, Step::Waiting);
        assert_eq!(next_step(&ia, &data("consensus", true), None).0, Step::Agree);
        assert_eq!(next_step(&moderator, &data("decided", true), None).0, Step::Moderate);
        assert_eq!(next_step(&admin, &data("decided", true), None).0, Step::Waiting);
        assert_eq!(next_step(&lm, &data("released", true), None).0, Step::Done);
    }

    #[test]
    fn a_declaration_that_does_not_hold_is_not_asked_for_again() {
        let mut blocked = data("scheduled", true);
        if let Some(d) = blocked.panel.declaration.as_mut() {
            d.holds = false;
        }
        let (step, action, href) = next_step(&actor("ia", Role::IndependentAssessor), &blocked, Some(false));
        assert_eq!((step, action), (Step::Waiting, "Scoring is blocked: see why"));
        assert!(href.ends_with("/declaration"), "{href}");
        let (step, action, _) = next_step(&actor("lm", Role::LineManager), &blocked, Some(false));
        assert_eq!((step, action), (Step::Waiting, "Scoring is blocked: another assessor is needed"));
    }

    #[test]
    fn groups_follow_the_order_of_the_day() {
        let row = |id: &str| Row {
            id: id.into(),
            apprentice: String::new(),
            standard: String::new(),
            status_label: String::new(),
            viva: None,
            action: "",
            href: String::new(),
            grade: None,
            referred_back: None,
        };
        let groups = group(vec![(Step::Moderate, row("m")), (Step::Gateway, row("g")), (Step::Moderate, row("n"))]);
        let steps: Vec<Step> = groups.iter().map(|g| g.step).collect();
        assert_eq!(steps, vec![Step::Gateway, Step::Moderate]);
        assert_eq!(groups[1].rows.len(), 2);
    }
}
