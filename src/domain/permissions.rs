//! Who may do what. One table: an action is allowed for a role (assessment-body staff) or a seat
//! on the assessment's panel. Whether the assessment is visible at all (404 before 403) is
//! decided first, by [`can_see`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Moderator,
    IndependentAssessor,
    LineManager,
    TrainingProvider,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Self::Admin, Self::Moderator, Self::IndependentAssessor, Self::LineManager, Self::TrainingProvider];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::IndependentAssessor => "independent_assessor",
            Self::LineManager => "line_manager",
            Self::TrainingProvider => "training_provider",
        }
    }

    /// Assessment-body staff see every assessment.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Moderator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
            format!("{s:?} is not a role (one of {})", names.join(", "))
        })
    }
}

/// A seat on one assessment's panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    LineManager,
    TrainingProvider,
    IndependentAssessor,
}

impl Seat {
    pub const ALL: [Seat; 3] = [Self::LineManager, Self::TrainingProvider, Self::IndependentAssessor];

    /// The role a user must hold to take this seat.
    pub fn role(self) -> Role {
        match self {
            Self::LineManager => Role::LineManager,
            Self::TrainingProvider => Role::TrainingProvider,
            Self::IndependentAssessor => Role::IndependentAssessor,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.role().as_str()
    }
}

/// Which seats of a panel score and which one decides: from the assessment's guide
/// (`Guide::seating`), kept on the assessment when it is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seating {
    /// The seats that score, in order (at least one).
    pub seats: Vec<Seat>,
    /// The seat whose own score decides a deadlock; None for a one-seat panel.
    pub tie_breaker: Option<Seat>,
}

impl Default for Seating {
    /// The v1 panel: the three seats, the independent assessor breaking deadlocks.
    fn default() -> Self {
        Seating { seats: Seat::ALL.to_vec(), tie_breaker: Some(Seat::IndependentAssessor) }
    }
}

impl Seating {
    /// Whether `seat` scores on this panel.
    pub fn scores(&self, seat: Seat) -> bool {
        self.seats.contains(&seat)
    }

    /// The seat that records the consensus and the decision: the tie-breaker, or the only seat.
    pub fn decider(&self) -> Seat {
        self.tie_breaker.or_else(|| self.seats.first().copied()).unwrap_or(Seat::IndependentAssessor)
    }

    /// Whether the independent assessor is one of the seats (then the panel is appointed with
    /// one and the assessor declares independence before anyone scores).
    pub fn has_assessor(&self) -> bool {
        self.scores(Seat::IndependentAssessor)
    }

    /// A one-seat panel has nothing to agree: its only sheet is the agreed scores.
    pub fn is_single(&self) -> bool {
        self.seats.len() == 1
    }
}

/// Everything a user can ask of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create organisations, users, apprentices, assessments; import guides.
    Administer,
    ViewAssessment,
    RecordGateway,
    AppointPanel,
    Declare,
    RecordViva,
    /// Record evidence linked to criteria on an assessment (`domain::evidence`).
    RecordEvidence,
    Score,
    RecordConsensus,
    Decide,
    Moderate,
    /// The line manager's or training provider's agreement with the agreed scores, or dissent.
    SignOff,
    /// Record the reasonable adjustments and special consideration of an assessment.
    RecordAdjustments,
    ViewAudit,
    ViewReports,
}

/// Who an action is for: staff roles, and seats on the assessment's own panel.
struct Grant {
    roles: &'static [Role],
    seats: &'static [Seat],
}

const ANY_SEAT: &[Seat] = &Seat::ALL;

/// The one table of permissions.
fn grant(action: Action) -> Grant {
    use Role::*;
    let (roles, seats): (&'static [Role], &'static [Seat]) = match action {
        Action::Administer | Action::AppointPanel => (&[Admin], &[]),
        Action::ViewAssessment | Action::ViewAudit => (&[Admin, Moderator], ANY_SEAT),
        Action::RecordGateway | Action::RecordAdjustments => (&[Admin], &[Seat::LineManager, Seat::TrainingProvider]),
        Action::Declare => (&[], &[Seat::IndependentAssessor]),
        // Narrowed by the panel's seating in `may`: only the seats that score, only the decider.
        Action::RecordConsensus | Action::Decide | Action::RecordViva | Action::Score => (&[], ANY_SEAT),
        Action::RecordEvidence => (&[], ANY_SEAT),
        Action::Moderate => (&[Moderator], &[]),
        // The seat that decides (the independent assessor in v1) does not sign off.
        Action::SignOff => (&[], &[Seat::LineManager, Seat::TrainingProvider]),
        Action::ViewReports => (&[Admin, Moderator], &[]),
    };
    Grant { roles, seats }
}

/// May a user with `role`, holding `seat` on this assessment's panel (if any), do `action`, on a
/// panel seated as `seating` says? Only the seats that score score and record the viva; only the
/// decider (the tie-breaker, or the only seat) records the consensus and the decision, and does
/// not sign off; the declaration is the independent assessor's, on a panel they sit on.
pub fn may(role: Role, seat: Option<Seat>, action: Action, seating: &Seating) -> bool {
    let g = grant(action);
    // A moderator never moderates a panel they sit on (they cannot: seats need panel roles, but
    // the rule is the plan's, so it is stated here too).
    if action == Action::Moderate && seat.is_some() {
        return false;
    }
    let panel_allows = match action {
        Action::Score | Action::RecordViva => seat.is_some_and(|s| seating.scores(s)),
        Action::Declare => seating.has_assessor(),
        Action::RecordConsensus | Action::Decide => seat == Some(seating.decider()),
        Action::SignOff => seat != Some(seating.decider()),
        _ => true,
    };
    panel_allows && (g.roles.contains(&role) || seat.is_some_and(|s| g.seats.contains(&s)))
}

/// What can be asked of an appeal (lodging one is [`Action::Administer`] on its assessment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealAction {
    View,
    /// `GET /appeals`: every appeal.
    List,
    AppointReviewer,
    Decide,
}

/// Does the appeal exist for this user? Staff see every appeal; its appointed reviewer sees it;
/// nobody else learns of it.
pub fn can_see_appeal(role: Role, is_reviewer: bool) -> bool {
    role.is_staff() || is_reviewer
}

/// May a user with `role` (the appeal's appointed reviewer or not) do `action` on an appeal?
/// Only the appointed reviewer decides it; only an admin appoints the reviewer.
pub fn may_appeal(role: Role, is_reviewer: bool, action: AppealAction) -> bool {
    match action {
        AppealAction::View => can_see_appeal(role, is_reviewer),
        AppealAction::List => role.is_staff(),
        AppealAction::AppointReviewer => role == Role::Admin,
        AppealAction::Decide => is_reviewer,
    }
}

/// Does the assessment exist for this user? Panel members learn only of their own panels.
pub fn can_see(role: Role, seat: Option<Seat>) -> bool {
    role.is_staff() || seat.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may(role: Role, seat: Option<Seat>, action: Action) -> bool {
        super::may(role, seat, action, &Seating::default())
    }

    #[test]
    fn the_guide_seating_says_who_scores_and_who_decides() {
        use Seat::*;
        let one = Seating { seats: vec![IndependentAssessor], tie_breaker: None };
        assert!(one.is_single() && one.has_assessor());
        assert_eq!(one.decider(), IndependentAssessor);
        for action in [Action::Score, Action::RecordViva, Action::Decide, Action::Declare] {
            assert!(super::may(Role::IndependentAssessor, Some(IndependentAssessor), action, &one), "{action:?}");
            assert!(!super::may(Role::LineManager, Some(LineManager), action, &one), "{action:?}");
        }
        // The line manager and provider still see it and sign off; they do not score.
        assert!(super::may(Role::LineManager, Some(LineManager), Action::ViewAssessment, &one));
        assert!(super::may(Role::TrainingProvider, Some(TrainingProvider), Action::SignOff, &one));
        assert!(!super::may(Role::IndependentAssessor, Some(IndependentAssessor), Action::SignOff, &one));
        // Two seats, the line manager breaking deadlocks: no declaration, the line manager decides.
        let two = Seating { seats: vec![LineManager, TrainingProvider], tie_breaker: Some(LineManager) };
        assert!(!two.has_assessor());
        assert!(super::may(Role::LineManager, Some(LineManager), Action::Decide, &two));
        assert!(!super::may(Role::TrainingProvider, Some(TrainingProvider), Action::Decide, &two));
        assert!(super::may(Role::TrainingProvider, Some(TrainingProvider), Action::Score, &two));
        assert!(!super::may(Role::LineManager, Some(LineManager), Action::SignOff, &two));
        assert!(super::may(Role::TrainingProvider, Some(TrainingProvider), Action::SignOff, &two));
        assert!(!super::may(Role::IndependentAssessor, Some(IndependentAssessor), Action::Declare, &two));
        assert_eq!(Seating::default().decider(), IndependentAssessor);
    }

    #[test]
    fn staff_see_everything_panel_members_only_their_own() {
        assert!(can_see(Role::Admin, None));
        assert!(can_see(Role::Moderator, None));
        assert!(!can_see(Role::LineManager, None));
        assert!(can_see(Role::LineManager, Some(Seat::LineManager)));
    }

    #[test]
    fn only_the_independent_assessor_agrees_and_decides() {
        for action in [Action::RecordConsensus, Action::Decide, Action::Declare] {
            assert!(may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), action));
            assert!(!may(Role::LineManager, Some(Seat::LineManager), action));
            assert!(!may(Role::TrainingProvider, Some(Seat::TrainingProvider), action));
            assert!(!may(Role::Admin, None, action));
            assert!(!may(Role::IndependentAssessor, None, action), "an assessor not on this panel");
        }
    }

    #[test]
    fn every_seat_scores_and_records_the_viva_staff_do_not() {
        for seat in Seat::ALL {
            assert!(may(seat.role(), Some(seat), Action::Score));
            assert!(may(seat.role(), Some(seat), Action::RecordViva));
            assert!(may(seat.role(), Some(seat), Action::RecordEvidence));
        }
        assert!(!may(Role::Admin, None, Action::Score));
        assert!(!may(Role::Admin, None, Action::RecordEvidence));
        assert!(!may(Role::Moderator, None, Action::RecordEvidence));
        assert!(!may(Role::Moderator, None, Action::Score));
    }

    #[test]
    fn gateway_is_for_the_line_manager_provider_and_admin() {
        assert!(may(Role::LineManager, Some(Seat::LineManager), Action::RecordGateway));
        assert!(may(Role::TrainingProvider, Some(Seat::TrainingProvider), Action::RecordGateway));
        assert!(may(Role::Admin, None, Action::RecordGateway));
        assert!(!may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), Action::RecordGateway));
        assert!(!may(Role::Moderator, None, Action::RecordGateway));
    }

    #[test]
    fn only_a_moderator_off_the_panel_moderates() {
        assert!(may(Role::Moderator, None, Action::Moderate));
        assert!(!may(Role::Moderator, Some(Seat::IndependentAssessor), Action::Moderate));
        assert!(!may(Role::Admin, None, Action::Moderate));
        assert!(!may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), Action::Moderate));
    }

    #[test]
    fn adjustments_are_recorded_by_an_admin_the_line_manager_or_the_provider() {
        assert!(may(Role::Admin, None, Action::RecordAdjustments));
        assert!(may(Role::LineManager, Some(Seat::LineManager), Action::RecordAdjustments));
        assert!(may(Role::TrainingProvider, Some(Seat::TrainingProvider), Action::RecordAdjustments));
        assert!(!may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), Action::RecordAdjustments));
        assert!(!may(Role::Moderator, None, Action::RecordAdjustments));
        assert!(!may(Role::LineManager, None, Action::RecordAdjustments), "a line manager not on this panel");
    }

    #[test]
    fn only_the_line_manager_and_provider_sign_off() {
        assert!(may(Role::LineManager, Some(Seat::LineManager), Action::SignOff));
        assert!(may(Role::TrainingProvider, Some(Seat::TrainingProvider), Action::SignOff));
        assert!(!may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), Action::SignOff));
        assert!(!may(Role::LineManager, None, Action::SignOff), "a line manager not on this panel");
        assert!(!may(Role::Admin, None, Action::SignOff));
        assert!(!may(Role::Moderator, None, Action::SignOff));
    }

    #[test]
    fn reports_and_administration_are_for_staff() {
        assert!(may(Role::Moderator, None, Action::ViewReports));
        assert!(!may(Role::Moderator, None, Action::Administer));
        assert!(!may(Role::IndependentAssessor, Some(Seat::IndependentAssessor), Action::ViewReports));
    }

    #[test]
    fn appeals_are_for_staff_and_decided_by_their_reviewer_only() {
        assert!(can_see_appeal(Role::Moderator, false));
        assert!(can_see_appeal(Role::IndependentAssessor, true));
        assert!(!can_see_appeal(Role::IndependentAssessor, false));
        assert!(!can_see_appeal(Role::LineManager, false));
        assert!(may_appeal(Role::Admin, false, AppealAction::AppointReviewer));
        assert!(!may_appeal(Role::Moderator, false, AppealAction::AppointReviewer));
        assert!(may_appeal(Role::IndependentAssessor, true, AppealAction::Decide));
        assert!(!may_appeal(Role::Admin, false, AppealAction::Decide));
        assert!(!may_appeal(Role::IndependentAssessor, true, AppealAction::List));
        assert!(may_appeal(Role::Moderator, false, AppealAction::List));
    }

    #[test]
    fn roles_parse() {
        assert_eq!("line_manager".parse::<Role>().unwrap(), Role::LineManager);
        assert!("assessor".parse::<Role>().unwrap_err().contains("independent_assessor"));
    }
}
