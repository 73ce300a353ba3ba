//! Later attempts of one EPA (resits and retakes): which components an attempt assesses again,
//! which agreed scores carry over from the attempt before, the grade cap and the window.
//!
//! Plain rules for the attempts work to call (not wired to a route yet): the carried-over items
//! are the same kind of thing as the items a partial refer-back keeps agreed ([`Kept`]): agreed
//! already, not on the score sheets, not open in the consensus, part of the grade.

use chrono::{DateTime, Months, Utc};

use super::guide::{Guide, ItemKey};
use super::scoring::{AgreedItem, Kept};

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
    decided.iter().filter(|i| !assessed.contains(&i.component)).map(|i| (i.key(), i.clone())).collect()
}

/// The score items a later attempt's sheets hold: the guide's items less those carried over.
pub fn items_assessed(guide: &Guide, kept: &Kept) -> Vec<ItemKey> {
    guide.score_items().into_iter().filter(|k| !kept.contains_key(k)).collect()
}

/// A grade after the guide's cap: `grade` itself when there is no cap, exceptional
/// circumstances lift it, or `grade` is not above it; else the cap. Returns the grade awarded
/// and whether the cap lowered it.
pub fn capped<'a>(guide: &Guide, grade: &'a str, cap: Option<&'a str>, exceptional: bool) -> (&'a str, bool) {
    let rank = |name: &str| guide.grading.grades.iter().position(|g| g.name == name);
    match cap {
        Some(cap) if !exceptional && rank(grade) > rank(cap) && rank(cap).is_some() => (cap, true),
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
        assert_eq!(capped(&g, top, Some(lowest), false), (lowest, true));
        assert_eq!(capped(&g, top, Some(lowest), true), (top, false));
        assert_eq!(capped(&g, lowest, Some(top), false), (lowest, false));
        assert_eq!(capped(&g, top, None, false), (top, false));
        assert_eq!(capped(&g, top, Some("No such grade"), false), (top, false));
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
}
