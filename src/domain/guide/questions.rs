//! What the rest of the service asks a guide: its score items, its scale and descriptors, the
//! grade and weighted score of agreed scores, the qualification a gateway names and the
//! knowledge it leaves to the viva, and the guide's stored JSON form.

use std::collections::{BTreeMap, HashSet};

use crate::domain::permissions::{Seat, Seating};

use super::{Component, Criterion, CriterionKind, Grade, Guide, ItemKey, Qualification};

impl Qualification {
    /// The knowledge criteria none of `units` covers: where the viva should probe. Unknown unit
    /// ids are returned as the error.
    pub fn knowledge_gaps<'g>(&self, guide: &'g Guide, units: &[String]) -> Result<Vec<&'g Criterion>, String> {
        let mut covered: HashSet<&str> = HashSet::new();
        for id in units {
            let unit = self.units.iter().find(|u| u.id == *id).ok_or_else(|| id.clone())?;
            covered.extend(unit.covers.iter().map(String::as_str));
        }
        Ok(guide.criteria.iter().filter(|c| c.kind.is_knowledge() && !covered.contains(c.id.as_str())).collect())
    }
}

impl Guide {
    /// The guide's canonical JSON form (what is stored and compared).
    #[expect(clippy::expect_used, reason = "a guide is plain data (strings, numbers, lists) and always serialises")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a guide always serialises")
    }

    pub fn from_json(text: &str) -> Result<Guide, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The panel roles that score, in order: the guide's `[panel] seats`, else the three v1 seats.
    pub fn seats(&self) -> Vec<Seat> {
        match &self.panel {
            Some(p) => p.seats.clone(),
            None => Seat::ALL.to_vec(),
        }
    }

    /// The seat whose own score decides a deadlock (and who makes the consensus and decision when
    /// there is more than one seat); `None` for a one-seat panel, whose only seat decides.
    pub fn tie_breaker(&self) -> Option<Seat> {
        match &self.panel {
            Some(p) => p.tie_breaker,
            None => Some(Seat::IndependentAssessor),
        }
    }

    /// Who scores and who decides on this guide's panels.
    pub fn seating(&self) -> Seating {
        Seating { seats: self.seats(), tie_breaker: self.tie_breaker() }
    }

    /// The component scored in the viva / interview: the one marked `interview = true`; for a
    /// guide that marks none, the one whose id or title names a viva or interview, else the last.
    pub fn viva_component(&self) -> Option<&Component> {
        if self.components.iter().any(|c| c.interview.is_some()) {
            return self.components.iter().find(|c| c.interview == Some(true));
        }
        self.named_viva_component().or_else(|| self.components.last())
    }

    fn named_viva_component(&self) -> Option<&Component> {
        self.components.iter().find(|c| {
            let text = format!("{} {}", c.id, c.title.clone().unwrap_or_default()).to_lowercase();
            text.contains("viva") || text.contains("interview")
        })
    }

    /// Whether a viva record is required before the decision: `[panel] viva_required`, else
    /// whether a component is marked `interview = true`, else (a v1 guide, which marks none)
    /// whether a component's id or title names a viva or interview.
    pub fn viva_required(&self) -> bool {
        if let Some(required) = self.panel.as_ref().and_then(|p| p.viva_required) {
            return required;
        }
        if self.components.iter().any(|c| c.interview.is_some()) {
            return self.components.iter().any(|c| c.interview == Some(true));
        }
        self.named_viva_component().is_some()
    }

    /// "Title (level 4)", or the title alone for a guide without a level.
    pub fn title_with_level(&self) -> String {
        match self.level {
            Some(level) => format!("{} (level {level})", self.title),
            None => self.title.clone(),
        }
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }

    /// A criterion kind as a heading names it: the title the guide declares in `[[kinds]]`, or
    /// the built-in kind's name ("Knowledge", "Skill", "Behaviour").
    pub fn kind_title(&self, kind: &CriterionKind) -> String {
        if let Some(k) = self.kinds.iter().find(|k| k.id == kind.as_str()) {
            return k.title.clone();
        }
        let mut chars = kind.as_str().chars();
        chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    /// Every (component, criterion) pair a panel member must score, component by component in
    /// the guide's order, criteria in the guide's order within each.
    pub fn score_items(&self) -> Vec<ItemKey> {
        self.components
            .iter()
            .flat_map(|component| {
                self.criteria
                    .iter()
                    .filter(|c| c.methods.contains(&component.id))
                    .map(|c| ItemKey::new(&component.id, &c.id))
            })
            .collect()
    }

    pub fn is_score_item(&self, key: &ItemKey) -> bool {
        self.component(&key.component).is_some()
            && self.criterion(&key.criterion).is_some_and(|c| c.methods.contains(&key.component))
    }

    /// The qualification a gateway's knowledge reference names (by its regulator's number).
    pub fn qualification_named_in(&self, reference: &str) -> Option<&Qualification> {
        self.qualifications.iter().find(|q| reference.contains(q.reference.as_str()))
    }

    pub fn in_scale(&self, score: i64) -> bool {
        (i64::from(self.scale.min)..=i64::from(self.scale.max)).contains(&score)
    }

    pub fn descriptor(&self, score: i32) -> Option<&str> {
        self.scale.descriptors.iter().find(|d| d.score == score).map(|d| d.label.as_str())
    }

    /// The highest grade whose `min_each` every agreed score meets.
    pub fn grade_for(&self, agreed: impl IntoIterator<Item = i32> + Clone) -> &Grade {
        let lowest = agreed.clone().into_iter().min();
        self.grading
            .grades
            .iter()
            .rev()
            .find(|g| match (g.min_each, lowest) {
                (None, _) => true,
                (Some(min), Some(lowest)) => lowest >= min,
                (Some(_), None) => false,
            })
            .unwrap_or(&self.grading.grades[0])
    }

    /// Σ over components of weight/100 × the mean agreed score of that component's items.
    /// Components without agreed items contribute nothing (validation prevents weighted ones).
    pub fn weighted_score(&self, agreed: &BTreeMap<ItemKey, i32>) -> f64 {
        self.components
            .iter()
            .map(|component| {
                let scores: Vec<i32> =
                    agreed.iter().filter(|(k, _)| k.component == component.id).map(|(_, v)| *v).collect();
                if scores.is_empty() {
                    return 0.0;
                }
                let mean = f64::from(scores.iter().sum::<i32>()) / scores.len() as f64;
                f64::from(component.weight) / 100.0 * mean
            })
            .sum()
    }
}
