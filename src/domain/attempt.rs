//! Later attempts of one EPA (resits and retakes): when one may follow, which components it
//! assesses again, which agreed scores carry over from the attempt before, the grade cap and the
//! window.
//!
//! The carried-over items are the same kind of thing as the items a partial refer-back keeps
//! agreed ([`Kept`]): agreed already, not on the score sheets, not open in the consensus, part of
//! the grade.

use std::collections::BTreeSet;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::error::{DomainError, ErrorCode};
use super::guide::{Guide, ItemKey};
use super::scoring::{AgreedItem, DecidedBy, Decision, Kept};
use super::workflow::Status;

/// A resit is taken without further learning, a retake after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    Resit,
    Retake,
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resit => "resit",
            Self::Retake => "retake",
        }
    }

    /// Where the later attempt starts: a resit keeps the first attempt's gateway; a retake, after
    /// further learning, has its gateway confirmed again.
    pub fn starts_in(self) -> Status {
        match self {
            Self::Resit => Status::GatewayPassed,
            Self::Retake => Status::Registered,
        }
    }
}

/// Refuses (409 `resit_not_allowed`) a later attempt after one that is not released with the
/// guide's lowest grade, or that has a later attempt already: a resit is never a way from a pass
/// to a higher grade.
pub fn check_may_follow(guide: &Guide, status: Status, grade: Option<&str>, has_next: bool) -> Result<(), DomainError> {
    let refuse = |why: String| Err(DomainError::conflict(ErrorCode::ResitNotAllowed, why));
    let lowest = guide.grading.grades.first().map(|g| g.name.as_str());
    if status != Status::Released {
        return refuse(format!("a later attempt follows only a released outcome; this attempt is {}", status.as_str()));
    }
    if grade != lowest || grade.is_none() {
        return refuse(format!(
            "a later attempt follows only the lowest grade ({}); this attempt was graded {}",
            lowest.unwrap_or("none"),
            grade.unwrap_or("nothing")
        ));
    }
    if has_next {
        return refuse("this attempt has a later attempt already".into());
    }
    Ok(())
}

/// Refuses (409 `resit_window_passed`) a later attempt asked for after the guide's window, unless
/// exceptional circumstances are recorded.
pub fn check_window(
    released_at: DateTime<Utc>,
    window_months: Option<u32>,
    asked_at: DateTime<Utc>,
    exceptional: bool,
) -> Result<(), DomainError> {
    match take_by(released_at, window_months) {
        Some(by) if asked_at > by && !exceptional => Err(DomainError::conflict(
            ErrorCode::ResitWindowPassed,
            format!(
                "a later attempt had to be asked for by {} ({} months after the release), unless exceptional circumstances are recorded",
                by.format("%Y-%m-%d"),
                window_months.unwrap_or_default()
            ),
        )),
        _ => Ok(()),
    }
}

/// The components a later attempt assesses again: those `named` (each a component of the guide,
/// none twice, and every failed one among them, at `components[i]` or `components`), or by
/// default the components that failed ([`failed_components`]) — every component when the grade
/// failed on none in particular.
pub fn components_assessed(
    guide: &Guide,
    decided: &[AgreedItem],
    named: Option<&[String]>,
) -> Result<Vec<String>, DomainError> {
    let failed = failed_components(guide, decided);
    let Some(named) = named else {
        if failed.is_empty() {
            return Ok(guide.components.iter().map(|c| c.id.clone()).collect());
        }
        return Ok(failed);
    };
    if named.is_empty() {
        return Err(DomainError::bad_input(ErrorCode::MissingValue, "name at least one component to assess again")
            .at("components"));
    }
    let mut seen = BTreeSet::new();
    for (i, c) in named.iter().enumerate() {
        if guide.component(c).is_none() {
            return Err(DomainError::bad_input(
                ErrorCode::UnknownScoreItem,
                format!("{c:?} is not a component of {} version {}", guide.id, guide.version),
            )
            .at(format!("components[{i}]")));
        }
        if !seen.insert(c.as_str()) {
            return Err(DomainError::bad_input(ErrorCode::DuplicateItem, format!("{c} is named twice"))
                .at(format!("components[{i}]")));
        }
    }
    if let Some(missing) = failed.iter().find(|f| !named.contains(f)) {
        return Err(DomainError::bad_input(
            ErrorCode::MissingValue,
            format!("{missing} fell below the pass minimum and must be assessed again"),
        )
        .at("components"));
    }
    // in the guide's order
    Ok(guide.components.iter().filter(|c| named.contains(&c.id)).map(|c| c.id.clone()).collect())
}

/// A decision after the guide's cap (`cap`: the grade name, None when there is none or
/// exceptional circumstances lift it): the grade lowered to the cap when the scores give more,
/// marked `grade_capped` with the `uncapped_grade` kept beside it.
pub fn apply_cap(guide: &Guide, mut decision: Decision, cap: Option<&str>) -> Decision {
    let uncapped = decision.uncapped_grade.take().unwrap_or_else(|| decision.grade.clone());
    let (grade, lowered) = capped(guide, &uncapped, cap);
    decision.grade = grade.to_string();
    decision.grade_capped = lowered;
    decision.uncapped_grade = lowered.then_some(uncapped);
    decision
}

/// The lowest score a component's agreed scores must each reach for the guide's first grade
/// above the lowest (the pass); None when the guide has a single grade.
pub fn pass_minimum(guide: &Guide) -> Option<i32> {
    guide.grading.grades.iter().find_map(|g| g.min_each)
}

/// The components, in the guide's order, in which an agreed score of `decided` fell below the
/// pass minimum: what a later attempt assesses again unless it names its own.
pub fn failed_components(guide: &Guide, decided: &[AgreedItem]) -> Vec<String> {
    let Some(min) = pass_minimum(guide) else { return Vec::new() };
    guide
        .components
        .iter()
        .filter(|c| decided.iter().any(|i| i.component == c.id && i.agreed_score < min))
        .map(|c| c.id.clone())
        .collect()
}

/// The agreed scores of `decided` that carry over into a later attempt assessing `assessed`:
/// every item of a component not assessed again, agreed as it was.
pub fn carried_over(decided: &[AgreedItem], assessed: &[String]) -> Kept {
    decided
        .iter()
        .filter(|i| !assessed.contains(&i.component))
        .map(|i| (i.key(), AgreedItem { decided_by: DecidedBy::CarriedOver, ..i.clone() }))
        .collect()
}

/// The score items a later attempt's sheets hold: the guide's items less those carried over.
pub fn items_assessed(guide: &Guide, kept: &Kept) -> Vec<ItemKey> {
    guide.score_items().into_iter().filter(|k| !kept.contains_key(k)).collect()
}

/// The cap that applies to a later attempt: the guide's `grade_cap`, unless exceptional
/// circumstances are recorded, which lift it.
pub fn cap_applying(grade_cap: Option<&str>, exceptional: bool) -> Option<&str> {
    grade_cap.filter(|_| !exceptional)
}

/// A grade after a cap: `grade` itself when there is no cap or `grade` is not above it; else the
/// cap. Returns the grade awarded and whether the cap lowered it.
fn capped<'a>(guide: &Guide, grade: &'a str, cap: Option<&'a str>) -> (&'a str, bool) {
    let rank = |name: &str| guide.grading.grades.iter().position(|g| g.name == name);
    match cap {
        Some(cap) if rank(grade) > rank(cap) && rank(cap).is_some() => (cap, true),
        _ => (grade, false),
    }
}

/// Whether the decision needs the viva record: the guide requires a viva (`viva_required`) and,
/// for a later attempt (`assessed` Some), one of `viva_components` is assessed again. A first
/// attempt (`assessed` None) needs it whenever the guide requires a viva.
pub fn viva_record_required(viva_required: bool, viva_components: &[&str], assessed: Option<&[String]>) -> bool {
    viva_required && assessed.is_none_or(|a| a.iter().any(|c| viva_components.contains(&c.as_str())))
}

/// The last day a later attempt may be requested: `window_months` after the previous attempt's
/// release; None when the guide sets no window.
pub fn take_by(released_at: DateTime<Utc>, window_months: Option<u32>) -> Option<DateTime<Utc>> {
    window_months.and_then(|m| released_at.checked_add_months(Months::new(m)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::guide::tests::small;
    use crate::domain::scoring::DecidedBy;

    fn agreed(guide: &Guide, score: impl Fn(&ItemKey) -> i32) -> Vec<AgreedItem> {
        guide
            .score_items()
            .into_iter()
            .map(|k| AgreedItem {
                agreed_score: score(&k),
                component: k.component,
                criterion: k.criterion,
                decided_by: DecidedBy::Unanimous,
                rationale: None,
            })
            .collect()
    }

    #[test]
    fn only_the_components_below_the_pass_minimum_are_assessed_again() {
        let g = small();
        let min = pass_minimum(&g).unwrap();
        let decided = agreed(&g, |k| if k.component == "viva" { min - 1 } else { min });
        assert_eq!(failed_components(&g, &decided), vec!["viva".to_string()]);
        assert_eq!(failed_components(&g, &agreed(&g, |_| min)), Vec::<String>::new());
    }

    #[test]
    fn the_other_components_carry_over_and_leave_the_sheets() {
        let g = small();
        let decided = agreed(&g, |_| 2);
        let kept = carried_over(&decided, &["viva".to_string()]);
        assert!(!kept.is_empty() && kept.keys().all(|k| k.component != "viva"), "{kept:?}");
        let on_sheets = items_assessed(&g, &kept);
        assert!(!on_sheets.is_empty() && on_sheets.iter().all(|k| k.component == "viva"), "{on_sheets:?}");
        assert_eq!(kept.len() + on_sheets.len(), g.score_items().len());
    }

    #[test]
    fn the_cap_lowers_only_a_higher_grade_and_exceptional_circumstances_lift_it() {
        let g = small();
        let (lowest, top) = (g.grading.grades[0].name.as_str(), g.grading.grades.last().unwrap().name.as_str());
        assert_eq!(capped(&g, top, Some(lowest)), (lowest, true));
        assert_eq!(capped(&g, top, cap_applying(Some(lowest), true)), (top, false));
        assert_eq!(capped(&g, lowest, Some(top)), (lowest, false));
        assert_eq!(capped(&g, top, None), (top, false));
        assert_eq!(capped(&g, top, Some("No such grade")), (top, false));
        assert_eq!(cap_applying(Some(lowest), false), Some(lowest));
    }

    #[test]
    fn the_viva_record_is_needed_only_when_a_viva_component_is_assessed_again() {
        let viva = ["viva"];
        assert!(viva_record_required(true, &viva, None));
        assert!(!viva_record_required(false, &viva, None));
        assert!(viva_record_required(true, &viva, Some(&["viva".to_string()])));
        assert!(!viva_record_required(true, &viva, Some(&["project".to_string()])));
    }

    #[test]
    fn the_window_runs_from_the_release() {
        let released: DateTime<Utc> = "2026-01-31T10:00:00Z".parse().unwrap();
        assert_eq!(take_by(released, Some(6)), Some("2026-07-31T10:00:00Z".parse().unwrap()));
        assert_eq!(take_by(released, Some(1)), Some("2026-02-28T10:00:00Z".parse().unwrap()));
        assert_eq!(take_by(released, None), None);
    }
    #[test]
    fn a_later_attempt_follows_only_a_released_lowest_grade_once() {
        let g = small();
        let (lowest, top) = (g.grading.grades[0].name.clone(), g.grading.grades.last().unwrap().name.clone());
        assert!(check_may_follow(&g, Status::Released, Some(&lowest), false).is_ok());
        for (status, grade, has_next) in [
            (Status::Decided, Some(lowest.as_str()), false),
            (Status::Released, Some(top.as_str()), false),
            (Status::Released, None, false),
            (Status::Released, Some(lowest.as_str()), true),
        ] {
            let e = check_may_follow(&g, status, grade, has_next).unwrap_err();
            assert_eq!(e.code(), "resit_not_allowed", "{status:?} {grade:?} {has_next}");
        }
    }

    #[test]
    fn the_window_refuses_late_requests_unless_exceptional() {
        let released: DateTime<Utc> = "2026-01-31T10:00:00Z".parse().unwrap();
        let late: DateTime<Utc> = "2026-08-01T10:00:00Z".parse().unwrap();
        assert_eq!(check_window(released, Some(6), late, false).unwrap_err().code(), "resit_window_passed");
        assert!(check_window(released, Some(6), late, true).is_ok());
        assert!(check_window(released, Some(7), late, false).is_ok());
        assert!(check_window(released, None, late, false).is_ok());
    }

    #[test]
    fn the_components_named_must_be_the_guides_and_include_every_failed_one() {
        let g = small();
        let min = pass_minimum(&g).unwrap();
        let decided = agreed(&g, |k| if k.component == "viva" { min - 1 } else { min });
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(components_assessed(&g, &decided, None).unwrap(), s(&["viva"]));
        assert_eq!(components_assessed(&g, &decided, Some(&s(&["viva", "project"]))).unwrap(), s(&["project", "viva"]));
        let e = components_assessed(&g, &decided, Some(&s(&["project"]))).unwrap_err();
        assert_eq!(e.fault.field.as_deref(), Some("components"));
        let e = components_assessed(&g, &decided, Some(&s(&["viva", "essay"]))).unwrap_err();
        assert_eq!(e.fault.field.as_deref(), Some("components[1]"));
        let e = components_assessed(&g, &decided, Some(&s(&["viva", "viva"]))).unwrap_err();
        assert_eq!(e.code(), "duplicate_item");
        assert!(components_assessed(&g, &decided, Some(&[])).is_err());
        // Failed on no component in particular: every component again.
        let all = agreed(&g, |_| min);
        assert_eq!(components_assessed(&g, &all, None).unwrap().len(), g.components.len());
    }

    #[test]
    fn carried_over_items_are_marked_as_such() {
        let g = small();
        let kept = carried_over(&agreed(&g, |_| 3), &["viva".to_string()]);
        assert!(kept.values().all(|i| i.decided_by == DecidedBy::CarriedOver));
    }

    #[test]
    fn the_cap_keeps_the_uncapped_grade_beside_it() {
        let g = small();
        let top = g.grading.grades.last().unwrap().name.clone();
        let lowest = g.grading.grades[0].name.clone();
        let d = Decision {
            grade: top.clone(),
            weighted_score: 4.0,
            items: vec![],
            grade_capped: false,
            uncapped_grade: None,
        };
        let capped = apply_cap(&g, d.clone(), Some(&lowest));
        assert_eq!((capped.grade.as_str(), capped.grade_capped), (lowest.as_str(), true));
        assert_eq!(capped.uncapped_grade.as_deref(), Some(top.as_str()));
        // Applying it again (an appeal's regrade) gives the same.
        assert_eq!(apply_cap(&g, capped.clone(), Some(&lowest)), capped);
        assert_eq!(apply_cap(&g, d.clone(), None), d);
    }
}
