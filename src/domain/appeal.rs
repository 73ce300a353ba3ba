//! Reviews and appeals against a released outcome: an appeal's states, who asked for it, who may
//! review it (an independent assessor with no part in the assessment and no tie to the
//! apprentice's employer or provider), and how an upheld decision amends the agreed scores — the
//! grade and weighted score then come from [`scoring::decide`], the one place a grade is chosen.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::guide::{Guide, ItemKey};
use super::permissions::{may_appeal, AppealAction, Role};
use super::scoring::{self, DecidedBy, Decision};
use super::{DomainError, ErrorCode};

/// Where an appeal is: `open` (lodged), `under_review` (a reviewer appointed), then decided once,
/// `upheld` or `not_upheld`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    Open,
    UnderReview,
    Upheld,
    NotUpheld,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 4] = [Self::Open, Self::UnderReview, Self::Upheld, Self::NotUpheld];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::UnderReview => "under_review",
            Self::Upheld => "upheld",
            Self::NotUpheld => "not_upheld",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_decided(self) -> bool {
        matches!(self, Self::Upheld | Self::NotUpheld)
    }

    /// Whether the appeal's state lets `action` happen now: the same answer
    /// [`after_appointment`](Self::after_appointment) and [`after_decision`](Self::after_decision)
    /// give, for pages that offer only what would be taken.
    pub fn allows(self, action: AppealAction) -> bool {
        match action {
            AppealAction::View | AppealAction::List => true,
            AppealAction::AppointReviewer => self.after_appointment().is_ok(),
            AppealAction::Decide => self.after_decision(AppealOutcome::Upheld).is_ok(),
        }
    }

    /// The status a reviewer's appointment leads to: 409 once decided (a decided appeal keeps its
    /// reviewer); appointing again while under review replaces the reviewer.
    pub fn after_appointment(self) -> Result<Self, DomainError> {
        match self {
            Self::Open | Self::UnderReview => Ok(Self::UnderReview),
            decided => Err(DomainError::conflict(
                ErrorCode::WrongState,
                format!("the appeal is already decided ({}); its reviewer stays as it was", decided.as_str()),
            )),
        }
    }

    /// The status a decision leads to: only under review, and only once.
    pub fn after_decision(self, outcome: AppealOutcome) -> Result<Self, DomainError> {
        match self {
            Self::UnderReview => Ok(match outcome {
                AppealOutcome::Upheld => Self::Upheld,
                AppealOutcome::NotUpheld => Self::NotUpheld,
            }),
            Self::Open => Err(DomainError::conflict(ErrorCode::WrongState, "the appeal has no reviewer yet")),
            decided => Err(DomainError::conflict(
                ErrorCode::WrongState,
                format!("the appeal is already decided ({}); it is decided once", decided.as_str()),
            )),
        }
    }
}

/// May a user with `role` (the appointed reviewer or not) do `action` on an appeal in `status`
/// now: allowed to, and the appeal's state lets it happen.
pub fn can_now(role: Role, is_reviewer: bool, status: AppealStatus, action: AppealAction) -> bool {
    may_appeal(role, is_reviewer, action) && status.allows(action)
}

/// Who asked the assessment body for the appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestedBy {
    Apprentice,
    Employer,
    TrainingProvider,
}

impl RequestedBy {
    pub const ALL: [RequestedBy; 3] = [Self::Apprentice, Self::Employer, Self::TrainingProvider];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apprentice => "apprentice",
            Self::Employer => "employer",
            Self::TrainingProvider => "training_provider",
        }
    }

    /// 400 naming `requested_by` when it is not one of the three.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| {
            DomainError::bad_input(
                ErrorCode::InvalidChoice,
                format!("{text:?} is not one of apprentice, employer, training_provider"),
            )
            .at("requested_by")
        })
    }
}

/// The reviewer's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    Upheld,
    NotUpheld,
}

impl AppealOutcome {
    /// 400 naming `outcome` when it is not `upheld` or `not_upheld`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "upheld" => Ok(Self::Upheld),
            "not_upheld" => Ok(Self::NotUpheld),
            other => Err(DomainError::bad_input(
                ErrorCode::InvalidChoice,
                format!("{other:?} is not one of upheld, not_upheld"),
            )
            .at("outcome")),
        }
    }
}

/// Checks the items an appeal names: each a score item of the guide, none twice (400 naming
/// `items[i]`).
pub fn check_items(guide: &Guide, items: &[ItemKey]) -> Result<(), DomainError> {
    let mut seen = BTreeSet::new();
    for (i, key) in items.iter().enumerate() {
        if !guide.is_score_item(key) {
            return Err(DomainError::bad_input(
                ErrorCode::UnknownScoreItem,
                format!("{key} is not a score item of {} version {}", guide.id, guide.version),
            )
            .at(format!("items[{i}]")));
        }
        if !seen.insert(key) {
            return Err(DomainError::bad_input(ErrorCode::DuplicateItem, format!("{key} is listed twice"))
                .at(format!("items[{i}]")));
        }
    }
    Ok(())
}

/// One agreed score an upheld decision replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreChange {
    pub component: String,
    pub criterion: String,
    pub from: i32,
    pub to: i32,
}

/// The decision an upheld appeal leads to: `items` (key, new agreed score) replace those agreed
/// scores of `current` (each a score item of the guide, on its scale, none twice: else 400 naming
/// `items[i]`), and the grade and weighted score are chosen again by [`scoring::decide`]. Returns
/// it with the scores that changed (an item given its present score changes nothing).
pub fn amend(
    guide: &Guide,
    current: &Decision,
    items: &[(ItemKey, i64)],
) -> Result<(Decision, Vec<ScoreChange>), DomainError> {
    let keys: Vec<ItemKey> = items.iter().map(|(k, _)| k.clone()).collect();
    check_items(guide, &keys)?;
    for (i, (_, score)) in items.iter().enumerate() {
        if !guide.in_scale(*score) {
            return Err(DomainError::bad_input(
                ErrorCode::ScoreOutOfScale,
                format!("{score} is outside the scale {}-{}", guide.scale.min, guide.scale.max),
            )
            .at(format!("items[{i}].agreed_score")));
        }
    }
    let new: BTreeMap<&ItemKey, i32> = items.iter().map(|(k, s)| (k, *s as i32)).collect();
    let mut changes = Vec::new();
    let amended = current
        .items
        .iter()
        .cloned()
        .map(|mut item| {
            if let Some(&to) = new.get(&item.key()) {
                if to != item.agreed_score {
                    changes.push(ScoreChange {
                        component: item.component.clone(),
                        criterion: item.criterion.clone(),
                        from: item.agreed_score,
                        to,
                    });
                    item.agreed_score = to;
                    item.decided_by = DecidedBy::Appeal;
                }
            }
            item
        })
        .collect();
    Ok((scoring::decide(guide, amended), changes))
}

/// Who the appointed reviewer would be, as the conflict check sees them.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub organisation_id: Option<&'a str>,
}

/// Who had a part in the assessment, and the apprentice's organisations.
#[derive(Debug, Clone, Copy)]
pub struct Involved<'a> {
    /// The panel's members (line manager, training provider, independent assessor).
    pub panel: &'a [&'a str],
    pub moderators: &'a [&'a str],
    pub employer_id: &'a str,
    pub provider_id: &'a str,
}

/// Refuses a reviewer who is conflicted (409 `reviewer_conflicted`, saying why) — sat on the
/// panel, moderated it, works for the apprentice's employer or provider, or has no organisation
/// (then the tie cannot be ruled out) — and then anyone who is not an independent assessor (409
/// `reviewer_not_assessor`). The conflict is named first: it is the reason that would still hold.
pub fn check_reviewer(candidate: Candidate<'_>, involved: Involved<'_>) -> Result<(), DomainError> {
    let conflicted =
        |why: &str| DomainError::conflict(ErrorCode::ReviewerConflicted, why.to_string()).at("reviewer_id");
    if involved.panel.contains(&candidate.user_id) {
        return Err(conflicted("sat on this assessment's panel; the review must be independent of it"));
    }
    if involved.moderators.contains(&candidate.user_id) {
        return Err(conflicted("moderated this assessment; the review must be independent of it"));
    }
    match candidate.organisation_id {
        None => {
            return Err(conflicted(
                "belongs to no organisation, so a tie to the apprentice's employer or provider cannot be ruled out",
            ))
        }
        Some(org) if org == involved.employer_id => {
            return Err(conflicted("works for the apprentice's employer"));
        }
        Some(org) if org == involved.provider_id => {
            return Err(conflicted("works for the apprentice's training provider"));
        }
        Some(_) => {}
    }
    if candidate.role != Role::IndependentAssessor {
        return Err(DomainError::conflict(
            ErrorCode::ReviewerNotAssessor,
            format!("is a {}; an appeal is reviewed by an independent assessor", candidate.role.as_str()),
        )
        .at("reviewer_id"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::guide::tests::small;

    fn decision(guide: &Guide, score: i32) -> Decision {
        let items = guide
            .score_items()
            .into_iter()
            .map(|k| scoring::AgreedItem {
                component: k.component,
                criterion: k.criterion,
                agreed_score: score,
                decided_by: DecidedBy::Unanimous,
                rationale: None,
            })
            .collect();
        scoring::decide(guide, items)
    }

    #[test]
    fn an_upheld_decision_replaces_scores_and_grades_again() {
        let guide = small();
        let before = decision(&guide, 3);
        assert_eq!(before.grade, "Pass");
        let all: Vec<(ItemKey, i64)> = guide.score_items().into_iter().map(|k| (k, 4)).collect();
        let (after, changes) = amend(&guide, &before, &all).unwrap();
        assert_eq!(after.grade, "Distinction");
        assert_eq!(after, scoring::decide(&guide, after.items.clone()), "graded by the one decision function");
        assert_eq!(changes.len(), guide.score_items().len());
        assert!(after.items.iter().all(|i| i.decided_by == DecidedBy::Appeal));
        // One item given its own score changes nothing.
        let key = guide.score_items()[0].clone();
        let (same, changes) = amend(&guide, &before, &[(key, 3)]).unwrap();
        assert_eq!((same.grade.as_str(), changes.len()), ("Pass", 0));
        assert_eq!(same.items, before.items);
    }

    #[test]
    fn amendments_name_the_item_at_fault() {
        let guide = small();
        let before = decision(&guide, 3);
        let key = guide.score_items()[0].clone();
        let e = amend(&guide, &before, &[(key.clone(), 4), (ItemKey::new("project", "K9"), 4)]).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("unknown_score_item", Some("items[1]")));
        let e = amend(&guide, &before, &[(key.clone(), 9)]).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("score_out_of_scale", Some("items[0].agreed_score")));
        let e = amend(&guide, &before, &[(key.clone(), 4), (key, 2)]).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("duplicate_item", Some("items[1]")));
    }

    #[test]
    fn a_reviewer_must_be_independent_of_the_assessment() {
        let involved =
            Involved { panel: &["lm", "tp", "ia"], moderators: &["mod"], employer_id: "emp", provider_id: "prov" };
        let ok = Candidate { user_id: "other", role: Role::IndependentAssessor, organisation_id: Some("body") };
        assert!(check_reviewer(ok, involved).is_ok());
        let cases = [
            (Candidate { user_id: "ia", ..ok }, "sat on this assessment's panel"),
            (Candidate { user_id: "mod", role: Role::Moderator, ..ok }, "moderated this assessment"),
            (Candidate { organisation_id: Some("emp"), ..ok }, "employer"),
            (Candidate { organisation_id: Some("prov"), ..ok }, "training provider"),
            (Candidate { organisation_id: None, ..ok }, "cannot be ruled out"),
        ];
        for (candidate, why) in cases {
            let e = check_reviewer(candidate, involved).unwrap_err();
            assert_eq!(e.code(), "reviewer_conflicted", "{candidate:?}");
            assert!(e.to_string().contains(why), "{e}");
        }
        let e = check_reviewer(Candidate { role: Role::Moderator, ..ok }, involved).unwrap_err();
        assert_eq!(e.code(), "reviewer_not_assessor");
    }

    #[test]
    fn an_appeal_is_decided_once_after_a_reviewer() {
        use AppealStatus::*;
        assert_eq!(Open.after_appointment().unwrap(), UnderReview);
        assert_eq!(UnderReview.after_appointment().unwrap(), UnderReview);
        assert!(Upheld.after_appointment().is_err());
        assert!(Open.after_decision(AppealOutcome::Upheld).is_err());
        assert_eq!(UnderReview.after_decision(AppealOutcome::NotUpheld).unwrap(), NotUpheld);
        assert_eq!(Upheld.after_decision(AppealOutcome::Upheld).unwrap_err().code(), "wrong_state");
        assert_eq!(RequestedBy::parse("employer").unwrap(), RequestedBy::Employer);
        assert_eq!(RequestedBy::parse("friend").unwrap_err().fault.field.as_deref(), Some("requested_by"));
        assert!(AppealOutcome::parse("maybe").is_err());
        // What a page offers is what the service would take.
        use AppealAction::{AppointReviewer, Decide};
        assert!(
            can_now(Role::Admin, false, Open, AppointReviewer)
                && can_now(Role::Admin, false, UnderReview, AppointReviewer)
        );
        assert!(
            !can_now(Role::Admin, false, Upheld, AppointReviewer)
                && !can_now(Role::Moderator, false, Open, AppointReviewer)
        );
        assert!(can_now(Role::IndependentAssessor, true, UnderReview, Decide));
        assert!(
            !can_now(Role::IndependentAssessor, true, NotUpheld, Decide)
                && !can_now(Role::Admin, false, UnderReview, Decide)
        );
        for s in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(s.as_str()), Some(s));
        }
    }
}
