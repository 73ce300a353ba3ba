//! The assessment's workflow as data: its states ([`Status`]), the steps of the day that act on
//! it ([`Step`], each open in some states), the events that move it ([`Event`]), the one
//! transition function ([`Status::after`], the only place a new status is chosen), and "what may
//! this person do next here" ([`next_steps`], and the one step [`todo`] that the home page
//! groups by). Who may act is asked of [`permissions::may`]; this module adds when.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::assessment::ModerationAction;
use super::permissions::{may, Action, Role, Seat};
use super::{DomainError, ErrorCode};

/// registered → gateway_passed → scheduled → consensus → decided → released; moderation can
/// send decided back to consensus, and a gateway change can send gateway_passed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Registered,
    GatewayPassed,
    Scheduled,
    Consensus,
    Decided,
    Released,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Self::Registered, Self::GatewayPassed, Self::Scheduled, Self::Consensus, Self::Decided, Self::Released];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::GatewayPassed => "gateway_passed",
            Self::Scheduled => "scheduled",
            Self::Consensus => "consensus",
            Self::Decided => "decided",
            Self::Released => "released",
        }
    }

    /// Refuses (409, `wrong_state`) unless the assessment is in one of `allowed`.
    pub fn require(self, step: &str, allowed: &[Status]) -> Result<(), DomainError> {
        if allowed.contains(&self) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        Err(DomainError::conflict(
            ErrorCode::WrongState,
            format!("{step} is possible only when the assessment is {}; it is {}", names.join(" or "), self.as_str()),
        ))
    }

    /// Refuses (409, `wrong_state`) unless `step` is open in this status.
    pub fn allows(self, step: Step) -> Result<(), DomainError> {
        self.require(step.words(), step.open_in())
    }

    /// Whether `step` is open in this status.
    pub fn is_open(self, step: Step) -> bool {
        step.open_in().contains(&self)
    }

    /// The status `event` leads to, or `wrong_state` when its step is not open now. The only
    /// place a new status is chosen.
    pub fn after(self, event: Event) -> Result<Status, DomainError> {
        self.allows(event.step())?;
        Ok(match event {
            Event::GatewayRecorded { met: true } => Self::GatewayPassed,
            Event::GatewayRecorded { met: false } => Self::Registered,
            Event::PanelAppointed => Self::Scheduled,
            Event::Declared | Event::VivaRecorded | Event::ConsensusRecorded => self,
            Event::SheetSaved { all_submitted: true } => Self::Consensus,
            Event::SheetSaved { all_submitted: false } => self,
            Event::Decided => Self::Decided,
            Event::Moderated(ModerationAction::Confirm) => Self::Released,
            Event::Moderated(ModerationAction::ReferBack) => Self::Consensus,
        })
    }

    /// All three score sheets are in: the scores can be compared and decided on.
    pub fn is_scored(self) -> bool {
        matches!(self, Self::Consensus | Self::Decided | Self::Released)
    }

    /// The panel has recorded its decision (moderated or not).
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Decided | Self::Released)
    }

    /// The outcome is released.
    pub fn is_released(self) -> bool {
        self == Self::Released
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// The steps of the day that change an assessment, each open in some states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    RecordGateway,
    AppointPanel,
    Declare,
    RecordViva,
    /// Recording evidence linked to criteria: until the decision, which is made on it.
    RecordEvidence,
    Score,
    RecordConsensus,
    Decide,
    Moderate,
    SignOff,
    RecordAdjustments,
    /// Lodging an appeal against the released outcome (`services::assessments::appeals`).
    LodgeAppeal,
}

impl Step {
    /// The states in which the step is possible.
    pub fn open_in(self) -> &'static [Status] {
        use Status::*;
        match self {
            Self::RecordGateway => &[Registered, GatewayPassed],
            Self::AppointPanel => &[GatewayPassed, Scheduled],
            Self::Declare | Self::Score => &[Scheduled],
            Self::RecordViva => &[Scheduled, Consensus],
            Self::RecordEvidence => &[Registered, GatewayPassed, Scheduled, Consensus],
            Self::RecordConsensus | Self::Decide => &[Consensus],
            Self::Moderate => &[Decided],
            Self::SignOff => &[Decided, Released],
            Self::RecordAdjustments => &[Registered, GatewayPassed, Scheduled],
            Self::LodgeAppeal => &[Released],
        }
    }

    /// The step as the `wrong_state` refusal names it.
    pub fn words(self) -> &'static str {
        match self {
            Self::RecordGateway => "confirming the gateway",
            Self::AppointPanel => "appointing the panel",
            Self::Declare => "declaring independence",
            Self::RecordViva => "recording the viva",
            Self::RecordEvidence => "recording evidence",
            Self::Score => "scoring",
            Self::RecordConsensus => "recording the consensus",
            Self::Decide => "recording the decision",
            Self::Moderate => "moderation",
            Self::SignOff => "signing off the agreed scores",
            Self::RecordAdjustments => "recording reasonable adjustments",
            Self::LodgeAppeal => "lodging an appeal",
        }
    }

    /// The permission the step needs.
    pub fn action(self) -> Action {
        match self {
            Self::RecordGateway => Action::RecordGateway,
            Self::AppointPanel => Action::AppointPanel,
            Self::Declare => Action::Declare,
            Self::RecordViva => Action::RecordViva,
            Self::RecordEvidence => Action::RecordEvidence,
            Self::Score => Action::Score,
            Self::RecordConsensus => Action::RecordConsensus,
            Self::Decide => Action::Decide,
            Self::Moderate => Action::Moderate,
            Self::SignOff => Action::SignOff,
            Self::RecordAdjustments => Action::RecordAdjustments,
            Self::LodgeAppeal => Action::Administer,
        }
    }
}

/// What happened to an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The gateway was saved; `met` when every check holds.
    GatewayRecorded {
        met: bool,
    },
    PanelAppointed,
    Declared,
    VivaRecorded,
    /// A score sheet was saved or submitted; `all_submitted` when that made all three in.
    SheetSaved {
        all_submitted: bool,
    },
    ConsensusRecorded,
    Decided,
    Moderated(ModerationAction),
}

impl Event {
    /// The step that causes the event.
    pub fn step(self) -> Step {
        match self {
            Self::GatewayRecorded { .. } => Step::RecordGateway,
            Self::PanelAppointed => Step::AppointPanel,
            Self::Declared => Step::Declare,
            Self::VivaRecorded => Step::RecordViva,
            Self::SheetSaved { .. } => Step::Score,
            Self::ConsensusRecorded => Step::RecordConsensus,
            Self::Decided => Step::Decide,
            Self::Moderated(_) => Step::Moderate,
        }
    }
}

/// Where the appointed assessor's declaration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationState {
    /// Not made yet.
    #[default]
    Missing,
    /// No prior involvement and no conflict: scoring may start.
    Holds,
    /// Prior involvement or a conflict: scoring is blocked until another assessor is appointed.
    Blocks,
}

impl DeclarationState {
    /// The state of a declaration (`holds`, made `by`) for the assessor now appointed: one made
    /// by an assessor no longer appointed counts as none.
    pub fn of(declaration: Option<(bool, &str)>, assessor: Option<&str>) -> Self {
        match declaration {
            Some((holds, by)) if assessor == Some(by) => {
                if holds {
                    Self::Holds
                } else {
                    Self::Blocks
                }
            }
            _ => Self::Missing,
        }
    }
}

/// Who sits on one assessment's panel (user ids).
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    pub line_manager: &'a str,
    pub training_provider: &'a str,
    pub independent_assessor: Option<&'a str>,
}

impl Panel<'_> {
    /// The seat `user_id` holds on this panel.
    pub fn seat_of(&self, user_id: &str) -> Option<Seat> {
        if self.line_manager == user_id {
            Some(Seat::LineManager)
        } else if self.training_provider == user_id {
            Some(Seat::TrainingProvider)
        } else if self.independent_assessor == Some(user_id) {
            Some(Seat::IndependentAssessor)
        } else {
            None
        }
    }
}

/// What the workflow needs to know beyond the status, role and seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    pub declaration: DeclarationState,
    /// Whether the viewer's own score sheet is submitted (None when they have none).
    pub own_sheet_submitted: Option<bool>,
    /// Whether any member has submitted their score sheet (the panel can no longer change).
    pub any_sheet_submitted: bool,
    /// Whether the viewer's seat has signed off the agreed scores (after the decision).
    pub own_sign_off: bool,
}

/// Something the viewer may do now on this assessment, in the order of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    RecordGateway,
    AppointPanel,
    Declare,
    RecordViva,
    ScoreSheet,
    RecordConsensus,
    Decide,
    Moderate,
    SignOff,
}

/// Everything the viewer (`role`, `seat` on this panel) may do now, given the status and facts.
pub fn next_steps(status: Status, role: Role, seat: Option<Seat>, facts: &Facts) -> Vec<NextStep> {
    let open = |step: Step| status.is_open(step) && may(role, seat, step.action());
    let candidates = [
        (NextStep::RecordGateway, open(Step::RecordGateway)),
        (NextStep::AppointPanel, open(Step::AppointPanel) && !facts.any_sheet_submitted),
        (NextStep::Declare, open(Step::Declare) && facts.declaration != DeclarationState::Blocks),
        (NextStep::RecordViva, open(Step::RecordViva)),
        (
            NextStep::ScoreSheet,
            open(Step::Score)
                && facts.declaration == DeclarationState::Holds
                && facts.own_sheet_submitted != Some(true),
        ),
        (NextStep::RecordConsensus, open(Step::RecordConsensus)),
        (NextStep::Decide, open(Step::Decide)),
        (NextStep::Moderate, open(Step::Moderate)),
        (NextStep::SignOff, open(Step::SignOff)),
    ];
    candidates.into_iter().filter(|(_, yes)| *yes).map(|(step, _)| step).collect()
}

/// The one thing the viewer is expected to do next (or wait for): what the home page groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Todo {
    RecordGateway,
    AppointPanel,
    /// The assessor's own declaration does not hold: nothing to do but see why.
    DeclarationBlocks,
    Declare,
    ScoreSheet,
    /// A panel member's sheet waits on the assessor's declaration (`blocked`: it does not hold).
    AwaitDeclaration {
        blocked: bool,
    },
    /// The viewer's sheet is in; the others are not.
    AwaitSheets,
    RecordConsensus,
    /// A panel member who does not record the consensus can compare the scores.
    SeeConsensus,
    /// A seat that signs off has not yet signed off the decision's agreed scores.
    SignOff,
    Moderate,
    Released,
    /// Nothing for the viewer now.
    Wait,
}

/// What the viewer is expected to do next: the first step due in this status.
pub fn todo(status: Status, role: Role, seat: Option<Seat>, facts: &Facts) -> Todo {
    let can = |action| may(role, seat, action);
    let assessor = seat == Some(Seat::IndependentAssessor);
    match status {
        Status::Registered if can(Action::RecordGateway) => Todo::RecordGateway,
        Status::GatewayPassed if can(Action::AppointPanel) => Todo::AppointPanel,
        Status::Scheduled if assessor && facts.declaration == DeclarationState::Blocks => Todo::DeclarationBlocks,
        Status::Scheduled if assessor && facts.declaration != DeclarationState::Holds => Todo::Declare,
        Status::Scheduled if seat.is_some() && facts.own_sheet_submitted == Some(false) => match facts.declaration {
            DeclarationState::Holds => Todo::ScoreSheet,
            DeclarationState::Blocks => Todo::AwaitDeclaration { blocked: true },
            DeclarationState::Missing => Todo::AwaitDeclaration { blocked: false },
        },
        Status::Scheduled if seat.is_some() => Todo::AwaitSheets,
        Status::Consensus if can(Action::RecordConsensus) => Todo::RecordConsensus,
        Status::Consensus if seat.is_some() => Todo::SeeConsensus,
        Status::Decided | Status::Released if can(Action::SignOff) && !facts.own_sign_off => Todo::SignOff,
        Status::Decided if can(Action::Moderate) => Todo::Moderate,
        Status::Released => Todo::Released,
        _ => Todo::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IA: Option<Seat> = Some(Seat::IndependentAssessor);
    const LM: Option<Seat> = Some(Seat::LineManager);

    fn facts(declaration: DeclarationState, own: Option<bool>) -> Facts {
        Facts { declaration, own_sheet_submitted: own, any_sheet_submitted: false, own_sign_off: false }
    }

    #[test]
    fn status_guard_names_the_allowed_states() {
        assert!(Status::Scheduled.require("scoring", &[Status::Scheduled]).is_ok());
        let e = Status::Registered.require("scoring", &[Status::Scheduled]).unwrap_err();
        assert_eq!(e.code(), "wrong_state");
        assert!(e.to_string().contains("scheduled") && e.to_string().contains("registered"));
        let e = Status::Decided.allows(Step::RecordViva).unwrap_err();
        assert_eq!(
            e.to_string(),
            "recording the viva is possible only when the assessment is scheduled or consensus; it is decided"
        );
    }

    #[test]
    fn status_round_trips_through_text() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        }
        assert!("closed".parse::<Status>().is_err());
    }

    #[test]
    fn the_day_runs_from_registered_to_released() {
        let day = [
            Event::GatewayRecorded { met: false },
            Event::GatewayRecorded { met: true },
            Event::PanelAppointed,
            Event::Declared,
            Event::SheetSaved { all_submitted: false },
            Event::SheetSaved { all_submitted: true },
            Event::VivaRecorded,
            Event::ConsensusRecorded,
            Event::Decided,
            Event::Moderated(ModerationAction::ReferBack),
            Event::Decided,
            Event::Moderated(ModerationAction::Confirm),
        ];
        let mut status = Status::Registered;
        let mut seen = vec![];
        for event in day {
            status = status.after(event).unwrap();
            seen.push(status.as_str());
        }
        assert_eq!(
            seen,
            [
                "registered",
                "gateway_passed",
                "scheduled",
                "scheduled",
                "scheduled",
                "consensus",
                "consensus",
                "consensus",
                "decided",
                "consensus",
                "decided",
                "released"
            ]
        );
    }

    #[test]
    fn a_gateway_change_can_send_gateway_passed_back() {
        assert_eq!(Status::GatewayPassed.after(Event::GatewayRecorded { met: false }).unwrap(), Status::Registered);
        let e = Status::Scheduled.after(Event::GatewayRecorded { met: true }).unwrap_err();
        assert_eq!(e.code(), "wrong_state");
        assert!(e.to_string().starts_with("confirming the gateway is possible only when"), "{e}");
    }

    #[test]
    fn nothing_moves_a_released_assessment() {
        for event in [Event::Decided, Event::Moderated(ModerationAction::Confirm), Event::PanelAppointed] {
            assert!(Status::Released.after(event).is_err(), "{event:?}");
        }
    }

    #[test]
    fn next_steps_ask_permissions_and_state() {
        let holds = facts(DeclarationState::Holds, Some(false));
        assert_eq!(
            next_steps(Status::GatewayPassed, Role::Admin, None, &Facts::default()),
            [NextStep::RecordGateway, NextStep::AppointPanel]
        );
        assert_eq!(
            next_steps(Status::Scheduled, Role::IndependentAssessor, IA, &holds),
            [NextStep::Declare, NextStep::RecordViva, NextStep::ScoreSheet]
        );
        let blocked = facts(DeclarationState::Blocks, Some(false));
        assert_eq!(next_steps(Status::Scheduled, Role::IndependentAssessor, IA, &blocked), [NextStep::RecordViva]);
        let submitted = facts(DeclarationState::Holds, Some(true));
        assert_eq!(next_steps(Status::Scheduled, Role::LineManager, LM, &submitted), [NextStep::RecordViva]);
        let started = Facts { any_sheet_submitted: true, ..Facts::default() };
        assert!(next_steps(Status::Scheduled, Role::Admin, None, &started).is_empty());
        assert_eq!(next_steps(Status::Decided, Role::Moderator, None, &Facts::default()), [NextStep::Moderate]);
        assert!(next_steps(Status::Decided, Role::Moderator, IA, &Facts::default()).is_empty());
        assert_eq!(next_steps(Status::Decided, Role::LineManager, LM, &Facts::default()), [NextStep::SignOff]);
        assert_eq!(next_steps(Status::Released, Role::LineManager, LM, &Facts::default()), [NextStep::SignOff]);
        assert!(next_steps(Status::Decided, Role::IndependentAssessor, IA, &Facts::default()).is_empty());
        assert_eq!(next_steps(Status::Consensus, Role::LineManager, LM, &Facts::default()), [NextStep::RecordViva]);
        assert_eq!(
            next_steps(Status::Consensus, Role::IndependentAssessor, IA, &Facts::default()),
            [NextStep::RecordViva, NextStep::RecordConsensus, NextStep::Decide]
        );
    }

    #[test]
    fn seats_and_declarations_are_of_the_panel_now() {
        let panel = Panel { line_manager: "lm", training_provider: "tp", independent_assessor: Some("ia") };
        assert_eq!(panel.seat_of("tp"), Some(Seat::TrainingProvider));
        assert_eq!(panel.seat_of("ia"), Some(Seat::IndependentAssessor));
        assert_eq!(panel.seat_of("someone"), None);
        assert_eq!(DeclarationState::of(Some((true, "ia")), Some("ia")), DeclarationState::Holds);
        assert_eq!(DeclarationState::of(Some((false, "ia")), Some("ia")), DeclarationState::Blocks);
        assert_eq!(DeclarationState::of(Some((true, "old")), Some("ia")), DeclarationState::Missing);
        assert_eq!(DeclarationState::of(None, Some("ia")), DeclarationState::Missing);
    }

    #[test]
    fn todo_is_the_step_due() {
        let none = Facts::default();
        assert_eq!(todo(Status::Registered, Role::LineManager, LM, &none), Todo::RecordGateway);
        assert_eq!(todo(Status::GatewayPassed, Role::LineManager, LM, &none), Todo::Wait);
        assert_eq!(todo(Status::GatewayPassed, Role::Admin, None, &none), Todo::AppointPanel);
        let missing = facts(DeclarationState::Missing, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::IndependentAssessor, IA, &missing), Todo::Declare);
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &missing), Todo::AwaitDeclaration { blocked: false });
        let blocks = facts(DeclarationState::Blocks, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::IndependentAssessor, IA, &blocks), Todo::DeclarationBlocks);
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &blocks), Todo::AwaitDeclaration { blocked: true });
        let holds = facts(DeclarationState::Holds, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &holds), Todo::ScoreSheet);
        let done = facts(DeclarationState::Holds, Some(true));
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &done), Todo::AwaitSheets);
        assert_eq!(todo(Status::Consensus, Role::IndependentAssessor, IA, &none), Todo::RecordConsensus);
        assert_eq!(todo(Status::Consensus, Role::LineManager, LM, &none), Todo::SeeConsensus);
        assert_eq!(todo(Status::Decided, Role::Moderator, None, &none), Todo::Moderate);
        assert_eq!(todo(Status::Released, Role::IndependentAssessor, IA, &none), Todo::Released);
    }

    #[test]
    fn the_seats_that_sign_off_are_due_to_until_they_have() {
        const TP: Option<Seat> = Some(Seat::TrainingProvider);
        let none = Facts::default();
        let signed = Facts { own_sign_off: true, ..Facts::default() };
        for status in [Status::Decided, Status::Released] {
            assert_eq!(todo(status, Role::LineManager, LM, &none), Todo::SignOff, "{status}");
            assert_eq!(todo(status, Role::TrainingProvider, TP, &none), Todo::SignOff, "{status}");
            // The independent assessor breaks deadlocks and does not sign off.
            assert_ne!(todo(status, Role::IndependentAssessor, IA, &none), Todo::SignOff, "{status}");
        }
        assert_eq!(todo(Status::Decided, Role::LineManager, LM, &signed), Todo::Wait);
        assert_eq!(todo(Status::Released, Role::LineManager, LM, &signed), Todo::Released);
        assert_eq!(todo(Status::Decided, Role::Moderator, None, &none), Todo::Moderate);
        // Not before the decision.
        assert_eq!(todo(Status::Consensus, Role::LineManager, LM, &none), Todo::SeeConsensus);
    }

    #[test]
    fn adjustments_are_recorded_until_the_panel_scores() {
        for s in Status::ALL {
            let open = matches!(s, Status::Registered | Status::GatewayPassed | Status::Scheduled);
            assert_eq!(s.allows(Step::RecordAdjustments).is_ok(), open, "{s:?}");
        }
        let e = Status::Consensus.allows(Step::RecordAdjustments).unwrap_err();
        assert!(e.to_string().contains("recording reasonable adjustments"), "{e}");
    }
}
