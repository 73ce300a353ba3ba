//! Score sheets, consensus and the panel's decision: the assessment plan's "all members of the
//! panel will score the apprentice independently and discuss and agree (through consensus) the
//! outcome and the grade. If consensus cannot be reached, the independent assessor … has the
//! final decision".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::guide::{Guide, ItemKey};
use super::permissions::Seat;
use super::{DomainError, ErrorCode};

/// One member's scores, item by item.
pub type Sheet = BTreeMap<ItemKey, ScoreEntry>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreEntry {
    pub score: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// One scored item as a member sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreInput {
    pub key: ItemKey,
    pub score: i64,
    pub comment: Option<String>,
}

/// Checks a batch of scores against the guide: known items, scores on the scale, no item twice.
pub fn check_scores(guide: &Guide, scores: &[ScoreInput], kept: &Kept) -> Result<(), DomainError> {
    let mut seen = BTreeSet::new();
    for (i, s) in scores.iter().enumerate() {
        if let Some(item) = kept.get(&s.key) {
            return Err(DomainError::bad_input(
                ErrorCode::ItemCarriedOver,
                format!(
                    "{} is carried over from the attempt before (agreed at {}), not scored again",
                    s.key, item.agreed_score
                ),
            )
            .at(format!("scores[{i}]")));
        }
        if !guide.is_score_item(&s.key) {
            return Err(DomainError::bad_input(
                ErrorCode::UnknownScoreItem,
                format!(
                    "({}, {}) is not a score item of {} version {}",
                    s.key.component, s.key.criterion, guide.id, guide.version
                ),
            )
            .at(format!("scores[{i}]")));
        }
        if !guide.in_scale(s.score) {
            return Err(DomainError::bad_input(
                ErrorCode::ScoreOutOfScale,
                format!("{} is outside the scale {}-{}", s.score, guide.scale.min, guide.scale.max),
            )
            .at(format!("scores[{i}].score")));
        }
        if !seen.insert(&s.key) {
            return Err(DomainError::bad_input(ErrorCode::DuplicateScoreItem, format!("{} is listed twice", s.key))
                .at(format!("scores[{i}]")));
        }
    }
    Ok(())
}

/// Merges a batch into a sheet (later values replace earlier ones).
pub fn merge_scores(sheet: &mut Sheet, scores: Vec<ScoreInput>) {
    for s in scores {
        let comment = s.comment.filter(|c| !c.trim().is_empty());
        sheet.insert(s.key, ScoreEntry { score: s.score as i32, comment });
    }
}

/// The score items a sheet still lacks, in the guide's order.
pub fn missing_items(guide: &Guide, sheet: &Sheet, kept: &Kept) -> Vec<ItemKey> {
    guide.score_items().into_iter().filter(|k| !sheet.contains_key(k) && !kept.contains_key(k)).collect()
}

/// The submitted sheets of the seats that score, in the guide's seat order, and the seat whose
/// own score decides a deadlock (None for a one-seat panel: its only sheet is the agreed scores).
#[derive(Debug, Clone)]
pub struct PanelSheets<'a> {
    pub sheets: Vec<(Seat, &'a Sheet)>,
    pub tie_breaker: Option<Seat>,
}

impl<'a> PanelSheets<'a> {
    /// The v1 panel: line manager, training provider and independent assessor, who breaks ties.
    pub fn three(line_manager: &'a Sheet, training_provider: &'a Sheet, independent_assessor: &'a Sheet) -> Self {
        PanelSheets {
            sheets: vec![
                (Seat::LineManager, line_manager),
                (Seat::TrainingProvider, training_provider),
                (Seat::IndependentAssessor, independent_assessor),
            ],
            tie_breaker: Some(Seat::IndependentAssessor),
        }
    }

    /// Every seat's score of `key`, in seat order (None when a sheet lacks it).
    fn scores_of(&self, key: &ItemKey) -> Option<Vec<i32>> {
        self.sheets.iter().map(|(_, sheet)| sheet.get(key).map(|e| e.score)).collect()
    }

    /// The seat whose own score decides a deadlock: the tie-breaker, or the only seat.
    fn decider(&self) -> Option<Seat> {
        self.tie_breaker.or_else(|| self.sheets.first().map(|(seat, _)| *seat))
    }

    fn decider_score(&self, key: &ItemKey) -> Option<i32> {
        let decider = self.decider()?;
        self.sheets.iter().find(|(seat, _)| *seat == decider).and_then(|(_, sheet)| sheet.get(key)).map(|e| e.score)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// Every seat scored it the agreed score (on a one-seat panel, the only score).
    Unanimous,
    /// The panel agreed a score that not every member gave.
    Consensus,
    /// The panel could not agree: the independent assessor's own score decides (the v1
    /// tie-breaker).
    IndependentAssessor,
    /// The panel could not agree: the line manager's own score decides (a guide's tie-breaker).
    LineManager,
    /// The panel could not agree: the training provider's own score decides (a guide's tie-breaker).
    TrainingProvider,
    /// An upheld appeal replaced the agreed score (the appeal records the score before).
    Appeal,
    /// Agreed in the attempt before and carried over into this later attempt (its component
    /// was not assessed again).
    CarriedOver,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unanimous => "unanimous",
            Self::Consensus => "consensus",
            Self::IndependentAssessor => "independent_assessor",
            Self::LineManager => "line_manager",
            Self::TrainingProvider => "training_provider",
            Self::Appeal => "appeal",
            Self::CarriedOver => "carried_over",
        }
    }

    /// A deadlock decided by `seat`'s own score.
    pub fn tie_break_by(seat: Seat) -> Self {
        match seat {
            Seat::IndependentAssessor => Self::IndependentAssessor,
            Seat::LineManager => Self::LineManager,
            Seat::TrainingProvider => Self::TrainingProvider,
        }
    }

    /// Whether a deadlock left this item to the tie-breaker's own score.
    pub fn is_tie_break(self) -> bool {
        matches!(self, Self::IndependentAssessor | Self::LineManager | Self::TrainingProvider)
    }
}

/// One item the panel discussed: `agreed_score: None` records a deadlock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsensusItem {
    pub component: String,
    pub criterion: String,
    pub agreed_score: Option<i32>,
    #[serde(default)]
    pub rationale: String,
}

impl ConsensusItem {
    pub fn key(&self) -> ItemKey {
        ItemKey::new(&self.component, &self.criterion)
    }
}

/// The consensus as the independent assessor records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Consensus {
    pub items: Vec<ConsensusItem>,
    #[serde(default)]
    pub notes: String,
}

/// An item's agreed score and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreedItem {
    pub component: String,
    pub criterion: String,
    pub agreed_score: i32,
    pub decided_by: DecidedBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

impl AgreedItem {
    pub fn key(&self) -> ItemKey {
        ItemKey::new(&self.component, &self.criterion)
    }
}

/// The items on which the submitted sheets differ, in the guide's order (none on a one-seat panel).
pub fn disagreements(guide: &Guide, sheets: &PanelSheets<'_>) -> Vec<ItemKey> {
    guide.score_items().into_iter().filter(|k| sheets.scores_of(k).is_some_and(|s| spread(s) > 0)).collect()
}

/// Checks a consensus's shape against the guide, before the panel's sheets are looked at.
pub fn check_consensus_items(guide: &Guide, consensus: &Consensus) -> Result<(), DomainError> {
    let mut seen = BTreeSet::new();
    for (i, item) in consensus.items.iter().enumerate() {
        let key = item.key();
        if !guide.is_score_item(&key) {
            return Err(DomainError::bad_input(ErrorCode::UnknownScoreItem, format!("{key} is not a score item"))
                .at(format!("items[{i}]")));
        }
        if let Some(score) = item.agreed_score {
            if !guide.in_scale(i64::from(score)) {
                return Err(DomainError::bad_input(
                    ErrorCode::ScoreOutOfScale,
                    format!("{score} is outside the scale {}-{}", guide.scale.min, guide.scale.max),
                )
                .at(format!("items[{i}].agreed_score")));
            }
        }
        if !seen.insert(key.clone()) {
            return Err(DomainError::bad_input(ErrorCode::DuplicateItem, format!("{key} is listed twice"))
                .at(format!("items[{i}]")));
        }
    }
    Ok(())
}

/// Items agreed earlier that the consensus now being worked on does not reopen: they stay agreed
/// as they were (and a consensus item naming one is refused). Empty: every item is open.
pub type Kept = BTreeMap<ItemKey, AgreedItem>;

/// Checks the items a refer-back names (`items[i]` at fault): each a score item of the guide,
/// none twice. Returns them as keys, in the order named.
pub fn check_refer_back_items(guide: &Guide, items: &[ItemKey]) -> Result<Vec<ItemKey>, DomainError> {
    let mut seen = BTreeSet::new();
    for (i, key) in items.iter().enumerate() {
        if !guide.is_score_item(key) {
            return Err(DomainError::bad_input(
                ErrorCode::UnknownScoreItem,
                format!("{key} is not a score item of {} version {}", guide.id, guide.version),
            )
            .at(format!("items[{i}]"))
            .with_items(vec![key.to_string()]));
        }
        if !seen.insert(key) {
            return Err(DomainError::bad_input(ErrorCode::DuplicateItem, format!("{key} is listed twice"))
                .at(format!("items[{i}]"))
                .with_items(vec![key.to_string()]));
        }
    }
    Ok(items.to_vec())
}

/// The rule of a refer-back that names what it queries: after moderation refers `decided` back
/// naming `named` items, those are open in the next consensus and every other item stays agreed
/// as `decided` agreed it. A refer-back naming no items reopens everything (nothing is kept).
pub fn kept_after_refer_back(decided: &[AgreedItem], named: &[ItemKey]) -> Kept {
    if named.is_empty() {
        return Kept::new();
    }
    decided.iter().filter(|i| !named.contains(&i.key())).map(|i| (i.key(), i.clone())).collect()
}

/// Refuses (400 `item_not_open`, or `item_carried_over` for a later attempt's carried-over item,
/// naming `items[i]` and the item) a consensus item that names an item kept agreed.
pub fn check_consensus_open(consensus: &Consensus, kept: &Kept) -> Result<(), DomainError> {
    for (i, item) in consensus.items.iter().enumerate() {
        let key = item.key();
        if let Some(item) = kept.get(&key) {
            let (code, why) = match item.decided_by {
                DecidedBy::CarriedOver => (ErrorCode::ItemCarriedOver, "is carried over from the attempt before"),
                _ => (ErrorCode::ItemNotOpen, "was not referred back"),
            };
            return Err(DomainError::bad_input(code, format!("{key} {why}: it stays agreed at {}", item.agreed_score))
                .at(format!("items[{i}]"))
                .with_items(vec![key.to_string()]));
        }
    }
    Ok(())
}

/// Resolves every score item from the sheets and the consensus. Items every seat scored alike may
/// be left out (on a one-seat panel, every item: it is agreed as scored); every other disagreement must be listed, else `unresolved_items` names them.
pub fn resolve(guide: &Guide, sheets: &PanelSheets<'_>, consensus: &Consensus) -> Result<Vec<AgreedItem>, DomainError> {
    resolve_with(guide, sheets, consensus, &Kept::new())
}

/// [`resolve`], with the items in `kept` taken as agreed before (whatever the sheets or the
/// consensus say of them) and only the others resolved from the sheets and the consensus.
pub fn resolve_with(
    guide: &Guide,
    sheets: &PanelSheets<'_>,
    consensus: &Consensus,
    kept: &Kept,
) -> Result<Vec<AgreedItem>, DomainError> {
    check_consensus_items(guide, consensus)?;
    let listed: BTreeMap<ItemKey, &ConsensusItem> = consensus.items.iter().map(|i| (i.key(), i)).collect();
    let mut agreed = Vec::new();
    let mut unresolved = Vec::new();
    for key in guide.score_items() {
        if let Some(item) = kept.get(&key) {
            agreed.push(item.clone());
            continue;
        }
        let (Some(scores), Some(decider), Some(decider_score)) =
            (sheets.scores_of(&key).filter(|s| !s.is_empty()), sheets.decider(), sheets.decider_score(&key))
        else {
            return Err(DomainError::conflict(
                ErrorCode::SheetsIncomplete,
                format!("{key} has not been scored by every member of the panel"),
            ));
        };
        let all_same = spread(scores.iter().copied()) == 0;
        let (score, decided_by, rationale) = match listed.get(&key) {
            None if all_same => (scores[0], DecidedBy::Unanimous, None),
            None => {
                unresolved.push(key);
                continue;
            }
            Some(item) => {
                let (score, how) = match item.agreed_score {
                    Some(score) => (score, DecidedBy::Consensus),
                    None => (decider_score, DecidedBy::tie_break_by(decider)),
                };
                let how = if scores.iter().all(|s| *s == score) { DecidedBy::Unanimous } else { how };
                (score, how, Some(item.rationale.clone()).filter(|r| !r.is_empty()))
            }
        };
        agreed.push(AgreedItem {
            component: key.component,
            criterion: key.criterion,
            agreed_score: score,
            decided_by,
            rationale,
        });
    }
    if !unresolved.is_empty() {
        let names: Vec<String> = unresolved.iter().map(ToString::to_string).collect();
        return Err(DomainError::bad_input(
            ErrorCode::UnresolvedItems,
            format!(
                "these disagreements are not resolved: {} (give an agreed_score, or null where the panel cannot agree)",
                names.join(", ")
            ),
        )
        .at("items")
        .with_items(names));
    }
    Ok(agreed)
}

/// The panel's decision: the grade from the agreed scores, and the weighted score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub grade: String,
    pub weighted_score: f64,
    pub items: Vec<AgreedItem>,
    /// A later attempt's grade lowered to the guide's cap (only present when it was).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grade_capped: bool,
    /// What the agreed scores alone give, when the cap lowered the grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncapped_grade: Option<String>,
}

impl Decision {
    /// How many agreed scores a deadlock left to the tie-breaker's own score.
    pub fn tie_breaks(&self) -> usize {
        self.items.iter().filter(|i| i.decided_by.is_tie_break()).count()
    }
}

/// How far apart the panel's scores of one item are (0 for one score or none).
pub fn spread(scores: impl IntoIterator<Item = i32>) -> i32 {
    let (lo, hi) = scores.into_iter().fold((i32::MAX, i32::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
    if lo > hi {
        0
    } else {
        hi - lo
    }
}

pub fn decide(guide: &Guide, items: Vec<AgreedItem>) -> Decision {
    let agreed: BTreeMap<ItemKey, i32> = items.iter().map(|i| (i.key(), i.agreed_score)).collect();
    let grade = guide.grade_for(agreed.values().copied()).name.clone();
    let weighted_score = guide.weighted_score(&agreed);
    Decision { grade, weighted_score, items, grade_capped: false, uncapped_grade: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_tie_breaks_are_counted_once_here() {
        assert_eq!(spread([3, 5, 4]), 2);
        assert_eq!(spread([4]), 0);
        assert_eq!(spread(Vec::<i32>::new()), 0);
        let agreed = |decided_by| AgreedItem {
            component: "project".into(),
            criterion: "S1".into(),
            agreed_score: 3,
            decided_by,
            rationale: None,
        };
        let d = Decision {
            grade: "Pass".into(),
            weighted_score: 3.0,
            items: vec![
                agreed(DecidedBy::IndependentAssessor),
                agreed(DecidedBy::Unanimous),
                agreed(DecidedBy::IndependentAssessor),
            ],
            grade_capped: false,
            uncapped_grade: None,
        };
        assert_eq!(d.tie_breaks(), 2);
    }
    use crate::domain::guide::tests::small;

    fn sheet(guide: &Guide, score: i32) -> Sheet {
        guide.score_items().into_iter().map(|k| (k, ScoreEntry { score, comment: None })).collect()
    }

    fn set(sheet: &mut Sheet, component: &str, criterion: &str, score: i32) {
        sheet.insert(ItemKey::new(component, criterion), ScoreEntry { score, comment: None });
    }

    fn item(component: &str, criterion: &str, agreed: Option<i32>) -> ConsensusItem {
        ConsensusItem {
            component: component.into(),
            criterion: criterion.into(),
            agreed_score: agreed,
            rationale: "why".into(),
        }
    }

    fn decide_all(
        guide: &Guide,
        lm: &Sheet,
        tp: &Sheet,
        ia: &Sheet,
        consensus: &Consensus,
    ) -> Result<Decision, DomainError> {
        let sheets = PanelSheets::three(lm, tp, ia);
        resolve(guide, &sheets, consensus).map(|items| decide(guide, items))
    }

    fn unanimous(guide: &Guide, scores: &[(&str, &str, i32)], rest: i32) -> Decision {
        let mut s = sheet(guide, rest);
        for (c, k, v) in scores {
            set(&mut s, c, k, *v);
        }
        decide_all(guide, &s, &s, &s, &Consensus::default()).unwrap()
    }

    #[test]
    fn all_threes_is_a_pass() {
        let g = small();
        let d = unanimous(&g, &[], 3);
        assert_eq!(d.grade, "Pass");
        assert!((d.weighted_score - 3.0).abs() < 1e-9);
        assert!(d.items.iter().all(|i| i.decided_by == DecidedBy::Unanimous));
    }

    #[test]
    fn one_two_is_not_achieved() {
        let g = small();
        assert_eq!(unanimous(&g, &[("viva", "K1", 2)], 5).grade, "Not achieved");
    }

    #[test]
    fn all_fours_is_a_distinction() {
        assert_eq!(unanimous(&small(), &[], 4).grade, "Distinction");
    }

    #[test]
    fn fives_and_one_three_is_a_pass() {
        let d = unanimous(&small(), &[("project", "B1", 3)], 5);
        assert_eq!(d.grade, "Pass");
    }

    #[test]
    fn all_ones_is_not_achieved_and_all_fives_distinction() {
        assert_eq!(unanimous(&small(), &[], 1).grade, "Not achieved");
        assert_eq!(unanimous(&small(), &[], 5).grade, "Distinction");
    }

    #[test]
    fn weighted_score_is_80_20_of_component_means() {
        // project items S1, B1 = 5 and 3 (mean 4); viva items K1, B1 = 2 and 4 (mean 3)
        let d =
            unanimous(&small(), &[("project", "S1", 5), ("project", "B1", 3), ("viva", "K1", 2), ("viva", "B1", 4)], 0);
        assert!((d.weighted_score - (0.8 * 4.0 + 0.2 * 3.0)).abs() < 1e-9, "{}", d.weighted_score);
    }

    #[test]
    fn a_deadlock_decided_by_the_assessor_turns_a_distinction_into_a_pass() {
        let g = small();
        let lm = sheet(&g, 4);
        let tp = sheet(&g, 4);
        let mut ia = sheet(&g, 4);
        set(&mut ia, "viva", "K1", 3);
        let consensus = Consensus { items: vec![item("viva", "K1", None)], notes: String::new() };
        let d = decide_all(&g, &lm, &tp, &ia, &consensus).unwrap();
        assert_eq!(d.grade, "Pass");
        let k1 = d.items.iter().find(|i| i.criterion == "K1").unwrap();
        assert_eq!((k1.agreed_score, k1.decided_by), (3, DecidedBy::IndependentAssessor));
    }

    #[test]
    fn an_agreed_score_is_consensus_unless_all_three_gave_it() {
        let g = small();
        let mut lm = sheet(&g, 4);
        set(&mut lm, "project", "S1", 5);
        let tp = sheet(&g, 4);
        let ia = sheet(&g, 4);
        let consensus = Consensus {
            items: vec![item("project", "S1", Some(4)), item("viva", "K1", Some(4))],
            notes: String::new(),
        };
        let d = decide_all(&g, &lm, &tp, &ia, &consensus).unwrap();
        let by = |c: &str, k: &str| d.items.iter().find(|i| i.component == c && i.criterion == k).unwrap().decided_by;
        assert_eq!(by("project", "S1"), DecidedBy::Consensus);
        assert_eq!(by("viva", "K1"), DecidedBy::Unanimous);
    }

    #[test]
    fn an_unlisted_disagreement_is_named() {
        let g = small();
        let mut lm = sheet(&g, 4);
        set(&mut lm, "project", "S1", 5);
        set(&mut lm, "viva", "B1", 2);
        let other = sheet(&g, 4);
        let consensus = Consensus { items: vec![item("project", "S1", Some(4))], notes: String::new() };
        let e = decide_all(&g, &lm, &other, &other, &consensus).unwrap_err();
        assert_eq!(e.code(), "unresolved_items");
        assert!(e.to_string().contains("viva/B1") && !e.to_string().contains("project/S1"), "{e}");
        assert_eq!(e.fault.items, vec!["viva/B1".to_string()], "the items are data too");
        assert_eq!(e.fault.field.as_deref(), Some("items"));
    }

    #[test]
    fn a_partial_refer_back_keeps_the_items_it_does_not_name() {
        let g = small();
        let mut lm = sheet(&g, 4);
        set(&mut lm, "project", "S1", 2);
        set(&mut lm, "viva", "K1", 5);
        let other = sheet(&g, 4);
        let sheets = PanelSheets::three(&lm, &other, &other);
        // The first decision: S1 agreed at 3, K1 at 5.
        let first =
            Consensus { items: vec![item("project", "S1", Some(3)), item("viva", "K1", Some(5))], notes: "".into() };
        let decided = resolve(&g, &sheets, &first).unwrap();
        // Moderation queries S1 only: K1 stays agreed at 5, S1 is open.
        let kept = kept_after_refer_back(&decided, &[ItemKey::new("project", "S1")]);
        assert_eq!(kept.keys().cloned().collect::<Vec<_>>().len(), g.score_items().len() - 1);
        assert!(!kept.contains_key(&ItemKey::new("project", "S1")));
        assert_eq!(kept[&ItemKey::new("viva", "K1")].agreed_score, 5);
        // A consensus that names K1 again is refused, naming it.
        let again =
            Consensus { items: vec![item("project", "S1", Some(4)), item("viva", "K1", Some(4))], notes: "".into() };
        let e = check_consensus_open(&again, &kept).unwrap_err();
        assert_eq!(e.code(), "item_not_open");
        assert_eq!(e.fault.field.as_deref(), Some("items[1]"));
        assert_eq!(e.fault.items, vec!["viva/K1".to_string()]);
        // The reconsidered S1 and the kept K1 make the new decision, even with no K1 listed.
        let second = Consensus { items: vec![item("project", "S1", Some(4))], notes: "".into() };
        check_consensus_open(&second, &kept).unwrap();
        let items = resolve_with(&g, &sheets, &second, &kept).unwrap();
        let score =
            |c: &str, k: &str| items.iter().find(|i| i.component == c && i.criterion == k).unwrap().agreed_score;
        assert_eq!((score("project", "S1"), score("viva", "K1")), (4, 5));
        // Without the kept items, K1 is an unresolved disagreement again.
        assert_eq!(resolve(&g, &sheets, &second).unwrap_err().code(), "unresolved_items");
    }

    #[test]
    fn a_refer_back_naming_nothing_reopens_everything() {
        let g = small();
        let decided = unanimous(&g, &[], 4).items;
        assert!(kept_after_refer_back(&decided, &[]).is_empty());
        let c = Consensus { items: vec![item("viva", "K1", Some(3))], notes: "".into() };
        check_consensus_open(&c, &Kept::new()).unwrap();
    }

    #[test]
    fn refer_back_items_are_checked() {
        let g = small();
        let k = ItemKey::new;
        assert_eq!(check_refer_back_items(&g, &[k("viva", "K1"), k("project", "S1")]).unwrap().len(), 2);
        let e = check_refer_back_items(&g, &[k("viva", "K1"), k("project", "K1")]).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("unknown_score_item", Some("items[1]")));
        assert!(e.to_string().contains("project/K1"), "{e}");
        let e = check_refer_back_items(&g, &[k("viva", "K1"), k("viva", "K1")]).unwrap_err();
        assert_eq!(e.code(), "duplicate_item");
    }

    #[test]
    fn consensus_items_are_checked() {
        let g = small();
        let bad = |items| check_consensus_items(&g, &Consensus { items, notes: String::new() }).unwrap_err().code();
        assert_eq!(bad(vec![item("project", "K1", Some(3))]), "unknown_score_item");
        assert_eq!(bad(vec![item("viva", "K1", Some(6))]), "score_out_of_scale");
        assert_eq!(bad(vec![item("viva", "K1", Some(3)), item("viva", "K1", None)]), "duplicate_item");
    }

    #[test]
    fn scores_are_checked_and_merged() {
        let g = small();
        let input = |c: &str, k: &str, s: i64| ScoreInput { key: ItemKey::new(c, k), score: s, comment: None };
        assert_eq!(check_scores(&g, &[input("viva", "S1", 3)], &Kept::new()).unwrap_err().code(), "unknown_score_item");
        assert_eq!(check_scores(&g, &[input("viva", "K1", 0)], &Kept::new()).unwrap_err().code(), "score_out_of_scale");
        assert_eq!(
            check_scores(&g, &[input("viva", "K1", 3), input("viva", "K1", 4)], &Kept::new()).unwrap_err().code(),
            "duplicate_score_item"
        );
        let mut s = Sheet::new();
        merge_scores(&mut s, vec![input("viva", "K1", 3)]);
        merge_scores(&mut s, vec![input("viva", "K1", 4), input("project", "S1", 2)]);
        assert_eq!(s[&ItemKey::new("viva", "K1")].score, 4);
        assert_eq!(missing_items(&g, &s, &Kept::new()).len(), 2);

        // A later attempt's carried-over items are neither scored again nor missing.
        let kept: Kept = [ItemKey::new("viva", "B1")]
            .into_iter()
            .map(|k| {
                let item = AgreedItem {
                    component: k.component.clone(),
                    criterion: k.criterion.clone(),
                    agreed_score: 3,
                    decided_by: DecidedBy::CarriedOver,
                    rationale: None,
                };
                (k, item)
            })
            .collect();
        let e = check_scores(&g, &[input("project", "S1", 3), input("viva", "B1", 3)], &kept).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("item_carried_over", Some("scores[1]")));
        assert_eq!(missing_items(&g, &s, &kept).len(), 1);
    }

    #[test]
    fn a_one_seat_sheet_is_agreed_as_scored() {
        let g = small();
        let mut only = sheet(&g, 4);
        set(&mut only, "viva", "K1", 2);
        let sheets = PanelSheets { sheets: vec![(Seat::IndependentAssessor, &only)], tie_breaker: None };
        assert!(disagreements(&g, &sheets).is_empty());
        let d = resolve(&g, &sheets, &Consensus::default()).map(|items| decide(&g, items)).unwrap();
        assert!(d.items.iter().all(|i| i.decided_by == DecidedBy::Unanimous));
        assert_eq!(d.grade, "Not achieved");
        assert_eq!(d.items.iter().find(|i| i.criterion == "K1").unwrap().agreed_score, 2);
    }

    #[test]
    fn a_guide_tie_breaker_decides_a_deadlock_with_its_own_score() {
        let g = small();
        let lm = sheet(&g, 4);
        let mut tp = sheet(&g, 4);
        set(&mut tp, "viva", "K1", 2);
        let sheets = PanelSheets {
            sheets: vec![(Seat::LineManager, &lm), (Seat::TrainingProvider, &tp)],
            tie_breaker: Some(Seat::TrainingProvider),
        };
        assert_eq!(disagreements(&g, &sheets), [ItemKey::new("viva", "K1")]);
        let consensus = Consensus { items: vec![item("viva", "K1", None)], notes: String::new() };
        let d = resolve(&g, &sheets, &consensus).map(|items| decide(&g, items)).unwrap();
        let k1 = d.items.iter().find(|i| i.criterion == "K1").unwrap();
        assert_eq!((k1.agreed_score, k1.decided_by), (2, DecidedBy::TrainingProvider));
        assert_eq!(d.tie_breaks(), 1);
        assert_eq!(k1.decided_by.as_str(), "training_provider");
    }

    #[test]
    fn disagreements_are_listed_in_guide_order() {
        let g = small();
        let mut lm = sheet(&g, 3);
        set(&mut lm, "viva", "B1", 4);
        set(&mut lm, "project", "S1", 2);
        let other = sheet(&g, 3);
        let d = disagreements(&g, &PanelSheets::three(&lm, &other, &other));
        assert_eq!(d, [ItemKey::new("project", "S1"), ItemKey::new("viva", "B1")]);
    }
}
