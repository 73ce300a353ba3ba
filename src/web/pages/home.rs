//! "My assessments": each person's assessments (the service decides which they may see), grouped
//! by what they must do next.

use actix_web::HttpResponse;
use serde::Serialize;

use super::view::viva_text;
use super::{Page, PageError};
use crate::domain::permissions::Role;
use crate::domain::workflow::Todo;
use crate::services::assessments;
use crate::services::views::AssessmentView;

/// The next step for the viewer, in the order the groups are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Gateway,
    Panel,
    Declare,
    Score,
    Agree,
    /// The only seat of a one-seat panel records the decision (nothing to agree).
    Decide,
    SignOff,
    Moderate,
    /// An appeal the viewer is appointed to review and decide.
    DecideAppeal,
    Waiting,
    Done,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Self::Gateway,
        Self::Panel,
        Self::Declare,
        Self::Score,
        Self::Agree,
        Self::Decide,
        Self::SignOff,
        Self::Moderate,
        Self::DecideAppeal,
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
            Self::Decide => "Record the decision",
            Self::SignOff => "Sign off the agreed scores",
            Self::Moderate => "Moderate",
            Self::DecideAppeal => "Decide an appeal",
            Self::Waiting => "Waiting for others",
            Self::Done => "Released",
        }
    }
}

/// What the viewer does next on one assessment (the step the service's view says is due), with
/// the page that does it.
pub fn next_step(data: &AssessmentView) -> (Step, &'static str, String) {
    let (step, label, page) = wording(data.todo);
    (step, label, format!("/assessments/{}{page}", data.id))
}

/// The group, the link's words and the page (below the assessment's own) for the step due.
fn wording(todo: Todo) -> (Step, &'static str, &'static str) {
    match todo {
        Todo::RecordGateway => (Step::Gateway, "Confirm the gateway", "/gateway"),
        Todo::AppointPanel => (Step::Panel, "Appoint the panel", "/panel"),
        Todo::DeclarationBlocks => (Step::Waiting, "Scoring is blocked: see why", "/declaration"),
        Todo::Declare => (Step::Declare, "Declare", "/declaration"),
        Todo::ScoreSheet => (Step::Score, "Open my score sheet", "/scores"),
        Todo::AwaitDeclaration { blocked: true } => {
            (Step::Waiting, "Scoring is blocked: another assessor is needed", "")
        }
        Todo::AwaitDeclaration { blocked: false } => (Step::Waiting, "Waiting for the assessor's declaration", ""),
        Todo::AwaitSheets => (Step::Waiting, "Waiting for the other sheets", "/scores"),
        Todo::RecordConsensus => (Step::Agree, "Open the consensus console", "/consensus"),
        Todo::SeeConsensus => (Step::Agree, "See the scores side by side", "/consensus"),
        Todo::Decide => (Step::Decide, "Record the decision", "/decision"),
        Todo::SignOff => (Step::SignOff, "Sign off the agreed scores", "#sign-off"),
        Todo::Moderate => (Step::Moderate, "Moderate", "/moderation"),
        Todo::Released => (Step::Done, "See the outcome", ""),
        Todo::Wait => (Step::Waiting, "Open", ""),
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
    /// The items the refer-back queries ("criterion (component)"); empty: every item.
    pub referred_items: Vec<String>,
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
            for data in assessments::list(conn, &guides, &actor)? {
                let (step, action, href) = next_step(&data);
                let standard = guides
                    .get(conn, &data.standard_id, &data.standard_version)?
                    .map(|g| g.title_with_level())
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
                        referred_items: data
                            .referred_back
                            .as_ref()
                            .map(|r| r.items.iter().map(|k| format!("{} ({})", k.criterion, k.component)).collect())
                            .unwrap_or_default(),
                    },
                ));
            }
            // The appeals this person is appointed to decide (not on their panels, so not above).
            for a in assessments::appeals_to_decide(conn, &actor)? {
                rows.push((
                    Step::DecideAppeal,
                    Row {
                        id: a.appeal.assessment_id.clone(),
                        apprentice: a.apprentice_name.clone(),
                        standard: "Review or appeal".into(),
                        status_label: crate::web::pages::appeals::appeal_status_label(a.appeal.status).to_string(),
                        viva: None,
                        action: "Decide the appeal",
                        href: format!("/appeals/{}", a.appeal.id),
                        grade: None,
                        referred_back: None,
                        referred_items: Vec::new(),
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
    use crate::domain::permissions::{Seat, Seating};
    use crate::domain::workflow::{self, DeclarationState, Facts, Status};

    const IA: Option<Seat> = Some(Seat::IndependentAssessor);
    const LM: Option<Seat> = Some(Seat::LineManager);

    /// The group and words for what `role` in `seat` is due to do, the declaration made (and
    /// holding) or not.
    fn step_of(status: Status, role: Role, seat: Option<Seat>, declared: bool, own: Option<bool>) -> Step {
        words_of(status, role, seat, if declared { DeclarationState::Holds } else { DeclarationState::Missing }, own).0
    }

    fn words_of(
        status: Status,
        role: Role,
        seat: Option<Seat>,
        declaration: DeclarationState,
        own: Option<bool>,
    ) -> (Step, &'static str, &'static str) {
        let facts = Facts { declaration, own_sheet_submitted: own, ..Facts::default() };
        wording(workflow::todo(status, role, seat, &Seating::default(), &facts))
    }

    #[test]
    fn a_one_seat_panel_has_its_assessor_score_then_decide_and_the_others_wait() {
        use Status::*;
        let one = Seating { seats: vec![Seat::IndependentAssessor], tie_breaker: None };
        let holds =
            Facts { declaration: DeclarationState::Holds, own_sheet_submitted: Some(false), ..Facts::default() };
        let at = |status, role, seat, facts: &Facts| wording(workflow::todo(status, role, seat, &one, facts));
        assert_eq!(at(Scheduled, Role::IndependentAssessor, IA, &holds).0, Step::Score);
        let none = Facts { own_sheet_submitted: None, ..holds };
        assert_eq!(at(Scheduled, Role::LineManager, LM, &none).0, Step::Waiting);
        let (step, action, page) = at(Consensus, Role::IndependentAssessor, IA, &none);
        assert_eq!((step, action, page), (Step::Decide, "Record the decision", "/decision"));
        assert_eq!(at(Consensus, Role::LineManager, LM, &none).0, Step::Waiting);
        assert_eq!(at(Decided, Role::LineManager, LM, &none).0, Step::SignOff);
    }

    #[test]
    fn each_person_sees_their_own_next_step() {
        use Status::*;
        let (lm, ia, admin, moderator) = (Role::LineManager, Role::IndependentAssessor, Role::Admin, Role::Moderator);
        assert_eq!(step_of(Registered, lm, LM, false, None), Step::Gateway);
        assert_eq!(step_of(Registered, ia, IA, false, None), Step::Waiting);
        assert_eq!(step_of(GatewayPassed, admin, None, false, None), Step::Panel);
        assert_eq!(step_of(Scheduled, ia, IA, false, Some(false)), Step::Declare);
        assert_eq!(step_of(Scheduled, lm, LM, false, Some(false)), Step::Waiting);
        assert_eq!(step_of(Scheduled, lm, LM, true, Some(false)), Step::Score);
        assert_eq!(step_of(Scheduled, lm, LM, true, Some(true)), Step::Waiting);
        assert_eq!(step_of(Consensus, ia, IA, true, None), Step::Agree);
        assert_eq!(step_of(Decided, moderator, None, true, None), Step::Moderate);
        assert_eq!(step_of(Decided, admin, None, true, None), Step::Waiting);
        assert_eq!(step_of(Released, lm, LM, true, None), Step::SignOff);
        assert_eq!(step_of(Released, ia, IA, true, None), Step::Done);
    }

    #[test]
    fn a_declaration_that_does_not_hold_is_not_asked_for_again() {
        let blocked = DeclarationState::Blocks;
        let (step, action, page) = words_of(Status::Scheduled, Role::IndependentAssessor, IA, blocked, Some(false));
        assert_eq!((step, action), (Step::Waiting, "Scoring is blocked: see why"));
        assert!(page.ends_with("/declaration"), "{page}");
        let (step, action, _) = words_of(Status::Scheduled, Role::LineManager, LM, blocked, Some(false));
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
            referred_items: Vec::new(),
        };
        let groups = group(vec![(Step::Moderate, row("m")), (Step::Gateway, row("g")), (Step::Moderate, row("n"))]);
        let steps: Vec<Step> = groups.iter().map(|g| g.step).collect();
        assert_eq!(steps, vec![Step::Gateway, Step::Moderate]);
        assert_eq!(groups[1].rows.len(), 2);
    }
}
