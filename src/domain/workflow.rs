//! The assessment's workflow as data: its states ([`Status`]), the steps of the day that act on
//! it ([`Step`], each open in some states), the events that move it ([`Event`]), the one
//! transition function ([`Status::after`], the only place a new status is chosen), and "what may
//! this person do next here" ([`next_steps`], and the one step [`todo`] that the home page
//! groups by). Who may act is asked of [`permissions::may`]; this module adds when.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::assessment::ModerationAction;
use super::permissions::{may, Action, Role, Seat, Seating};
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

    /// Every seat's score sheet is in: the scores can be compared and decided on.
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
    /// A score sheet was saved or submitted; `all_submitted` when that made every seat's in.
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
    /// Whether moderation referred the decision back (until the next decision): then even a
    /// one-seat panel records a consensus, its assessor revising the agreed scores queried.
    pub referred_back: bool,
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

/// Everything the viewer (`role`, `seat` on this panel, seated as `seating` says) may do now,
/// given the status and facts. A one-seat panel has no consensus to record, unless moderation
/// referred its decision back.
pub fn next_steps(status: Status, role: Role, seat: Option<Seat>, seating: &Seating, facts: &Facts) -> Vec<NextStep> {
    let open = |step: Step| status.is_open(step) && may(role, seat, step.action(), seating);
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
        (NextStep::RecordConsensus, open(Step::RecordConsensus) && (!seating.is_single() || facts.referred_back)),
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
    /// The only seat of a one-seat panel records the decision (there is nothing to agree).
    Decide,
    /// A panel member who does not record the consensus can compare the scores.
    SeeConsensus,
    /// A seat that signs off has not yet signed off the decision's agreed scores.
    SignOff,
    Moderate,
    Released,
    /// Nothing for the viewer now.
    Wait,
}

/// What the viewer is expected to do next: the first step due in this status. A line manager or
/// training provider who does not score waits until the decision (and then signs off).
pub fn todo(status: Status, role: Role, seat: Option<Seat>, seating: &Seating, facts: &Facts) -> Todo {
    let can = |action| may(role, seat, action, seating);
    let assessor = seat == Some(Seat::IndependentAssessor) && seating.has_assessor();
    let scorer = seat.is_some_and(|s| seating.scores(s));
    match status {
        Status::Registered if can(Action::RecordGateway) => Todo::RecordGateway,
        Status::GatewayPassed if can(Action::AppointPanel) => Todo::AppointPanel,
        Status::Scheduled if assessor && facts.declaration == DeclarationState::Blocks => Todo::DeclarationBlocks,
        Status::Scheduled if assessor && facts.declaration != DeclarationState::Holds => Todo::Declare,
        Status::Scheduled if scorer && facts.own_sheet_submitted == Some(false) => match facts.declaration {
            DeclarationState::Holds => Todo::ScoreSheet,
            DeclarationState::Blocks => Todo::AwaitDeclaration { blocked: true },
            DeclarationState::Missing => Todo::AwaitDeclaration { blocked: false },
        },
        Status::Scheduled if scorer => Todo::AwaitSheets,
        Status::Consensus if can(Action::Decide) && seating.is_single() && !facts.referred_back => Todo::Decide,
        Status::Consensus if can(Action::RecordConsensus) => Todo::RecordConsensus,
        Status::Consensus if scorer => Todo::SeeConsensus,
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
    static V1: std::sync::LazyLock<Seating> = std::sync::LazyLock::new(Seating::default);

    #[test]
    fn a_one_seat_panel_scores_alone_and_decides_without_a_consensus() {
        const TP: Option<Seat> = Some(Seat::TrainingProvider);
        let one = Seating { seats: vec![Seat::IndependentAssessor], tie_breaker: None };
        let holds = facts(DeclarationState::Holds, Some(false));
        assert_eq!(
            next_steps(Status::Scheduled, Role::IndependentAssessor, IA, &one, &holds),
            [NextStep::Declare, NextStep::RecordViva, NextStep::ScoreSheet]
        );
        assert_eq!(todo(Status::Scheduled, Role::IndependentAssessor, IA, &one, &holds), Todo::ScoreSheet);
        // The line manager and provider do not score: nothing for them until the decision.
        assert!(next_steps(Status::Scheduled, Role::LineManager, LM, &one, &holds).is_empty());
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &one, &holds), Todo::Wait);
        assert_eq!(todo(Status::Consensus, Role::TrainingProvider, TP, &one, &Facts::default()), Todo::Wait);
        assert_eq!(
            next_steps(Status::Consensus, Role::IndependentAssessor, IA, &one, &Facts::default()),
            [NextStep::RecordViva, NextStep::Decide]
        );
        assert_eq!(todo(Status::Consensus, Role::IndependentAssessor, IA, &one, &Facts::default()), Todo::Decide);
        assert_eq!(todo(Status::Decided, Role::LineManager, LM, &one, &Facts::default()), Todo::SignOff);
        // Referred back: the assessor revises the queried scores in a consensus, then decides.
        let referred = Facts { referred_back: true, ..Facts::default() };
        assert_eq!(
            next_steps(Status::Consensus, Role::IndependentAssessor, IA, &one, &referred),
            [NextStep::RecordViva, NextStep::RecordConsensus, NextStep::Decide]
        );
        assert_eq!(todo(Status::Consensus, Role::IndependentAssessor, IA, &one, &referred), Todo::RecordConsensus);
        // A two-seat panel whose line manager breaks deadlocks: the line manager agrees and decides.
        let two =
            Seating { seats: vec![Seat::LineManager, Seat::TrainingProvider], tie_breaker: Some(Seat::LineManager) };
        assert_eq!(todo(Status::Consensus, Role::LineManager, LM, &two, &Facts::default()), Todo::RecordConsensus);
        assert_eq!(todo(Status::Consensus, Role::TrainingProvider, TP, &two, &Facts::default()), Todo::SeeConsensus);
        assert_eq!(todo(Status::Decided, Role::LineManager, LM, &two, &Facts::default()), Todo::Wait);
        assert_eq!(todo(Status::Decided, Role::TrainingProvider, TP, &two, &Facts::default()), Todo::SignOff);
    }

    fn facts(declaration: DeclarationState, own: Option<bool>) -> Facts {
        Facts { declaration, own_sheet_submitted: own, ..Facts::default() }
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
            next_steps(Status::GatewayPassed, Role::Admin, None, &V1, &Facts::default()),
            [NextStep::RecordGateway, NextStep::AppointPanel]
        );
        assert_eq!(
            next_steps(Status::Scheduled, Role::IndependentAssessor, IA, &V1, &holds),
            [NextStep::Declare, NextStep::RecordViva, NextStep::ScoreSheet]
        );
        let blocked = facts(DeclarationState::Blocks, Some(false));
        assert_eq!(next_steps(Status::Scheduled, Role::IndependentAssessor, IA, &V1, &blocked), [NextStep::RecordViva]);
        let submitted = facts(DeclarationState::Holds, Some(true));
        assert_eq!(next_steps(Status::Scheduled, Role::LineManager, LM, &V1, &submitted), [NextStep::RecordViva]);
        let started = Facts { any_sheet_submitted: true, ..Facts::default() };
        assert!(next_steps(Status::Scheduled, Role::Admin, None, &V1, &started).is_empty());
        assert_eq!(next_steps(Status::Decided, Role::Moderator, None, &V1, &Facts::default()), [NextStep::Moderate]);
        assert!(next_steps(Status::Decided, Role::Moderator, IA, &V1, &Facts::default()).is_empty());
        assert_eq!(next_steps(Status::Decided, Role::LineManager, LM, &V1, &Facts::default()), [NextStep::SignOff]);
        assert_eq!(next_steps(Status::Released, Role::LineManager, LM, &V1, &Facts::default()), [NextStep::SignOff]);
        assert!(next_steps(Status::Decided, Role::IndependentAssessor, IA, &V1, &Facts::default()).is_empty());
        assert_eq!(
            next_steps(Status::Consensus, Role::LineManager, LM, &V1, &Facts::default()),
            [NextStep::RecordViva]
        );
        assert_eq!(
            next_steps(Status::Consensus, Role::IndependentAssessor, IA, &V1, &Facts::default()),
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
        assert_eq!(todo(Status::Registered, Role::LineManager, LM, &V1, &none), Todo::RecordGateway);
        assert_eq!(todo(Status::GatewayPassed, Role::LineManager, LM, &V1, &none), Todo::Wait);
        assert_eq!(todo(Status::GatewayPassed, Role::Admin, None, &V1, &none), Todo::AppointPanel);
        let missing = facts(DeclarationState::Missing, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::IndependentAssessor, IA, &V1, &missing), Todo::Declare);
        assert_eq!(
            todo(Status::Scheduled, Role::LineManager, LM, &V1, &missing),
            Todo::AwaitDeclaration { blocked: false }
        );
        let blocks = facts(DeclarationState::Blocks, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::IndependentAssessor, IA, &V1, &blocks), Todo::DeclarationBlocks);
        assert_eq!(
            todo(Status::Scheduled, Role::LineManager, LM, &V1, &blocks),
            Todo::AwaitDeclaration { blocked: true }
        );
        let holds = facts(DeclarationState::Holds, Some(false));
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &V1, &holds), Todo::ScoreSheet);
        let done = facts(DeclarationState::Holds, Some(true));
        assert_eq!(todo(Status::Scheduled, Role::LineManager, LM, &V1, &done), Todo::AwaitSheets);
        assert_eq!(todo(Status::Consensus, Role::IndependentAssessor, IA, &V1, &none), Todo::RecordConsensus);
        assert_eq!(todo(Status::Consensus, Role::LineManager, LM, &V1, &none), Todo::SeeConsensus);
        assert_eq!(todo(Status::Decided, Role::Moderator, None, &V1, &none), Todo::Moderate);
        assert_eq!(todo(Status::Released, Role::IndependentAssessor, IA, &V1, &none), Todo::Released);
    }

    #[test]
    fn the_seats_that_sign_off_are_due_to_until_they_have() {
        const TP: Option<Seat> = Some(Seat::TrainingProvider);
        let none = Facts::default();
        let signed = Facts { own_sign_off: true, ..Facts::default() };
        for status in [Status::Decided, Status::Released] {
            assert_eq!(todo(status, Role::LineManager, LM, &V1, &none), Todo::SignOff, "{status}");
            assert_eq!(todo(status, Role::TrainingProvider, TP, &V1, &none), Todo::SignOff, "{status}");
            // The independent assessor breaks deadlocks and does not sign off.
            assert_ne!(todo(status, Role::IndependentAssessor, IA, &V1, &none), Todo::SignOff, "{status}");
        }
        assert_eq!(todo(Status::Decided, Role::LineManager, LM, &V1, &signed), Todo::Wait);
        assert_eq!(todo(Status::Released, Role::LineManager, LM, &V1, &signed), Todo::Released);
        assert_eq!(todo(Status::Decided, Role::Moderator, None, &V1, &none), Todo::Moderate);
        // Not before the decision.
        assert_eq!(todo(Status::Consensus, Role::LineManager, LM, &V1, &none), Todo::SeeConsensus);
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
