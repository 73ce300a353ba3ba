//! Score items, standards and score sheets, and the JSON bodies made of them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// A (component, criterion) pair each panel member scores.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    pub component: String,
    pub criterion: String,
}

impl Item {
    pub fn new(component: &str, criterion: &str) -> Item {
        Item { component: component.into(), criterion: criterion.into() }
    }
}

/// A standard as the API shows it.
#[derive(Debug, Clone)]
pub struct Standard {
    pub version: String,
    pub items: Vec<Item>,
    pub weights: BTreeMap<String, f64>,
}

impl Standard {
    /// Σ weight/100 × mean agreed score of the component's items, computed here by hand.
    pub fn weighted(&self, agreed: &Sheet) -> f64 {
        self.weights
            .iter()
            .map(|(component, weight)| {
                let scores: Vec<f64> =
                    agreed.iter().filter(|(k, _)| &k.component == component).map(|(_, v)| *v as f64).collect();
                weight / 100.0 * scores.iter().sum::<f64>() / scores.len() as f64
            })
            .sum()
    }
}

/// One member's scores (or the agreed scores), item by item.
pub type Sheet = BTreeMap<Item, i64>;

/// Every item at `score`.
pub fn sheet(items: &[Item], score: i64) -> Sheet {
    items.iter().map(|i| (i.clone(), score)).collect()
}

/// `sheet` with some items changed.
pub fn with(mut sheet: Sheet, changes: &[(&Item, i64)]) -> Sheet {
    for (item, score) in changes {
        sheet.insert((*item).clone(), *score);
    }
    sheet
}

/// The body of `PUT /scores`.
pub fn scores_body(sheet: &Sheet, submit: bool) -> Value {
    let scores: Vec<Value> =
        sheet.iter().map(|(i, s)| json!({"component": i.component, "criterion": i.criterion, "score": s})).collect();
    json!({"scores": scores, "submit": submit})
}

/// One consensus item: `None` records a deadlock.
pub fn agreed(item: &Item, score: Option<i64>, rationale: &str) -> Value {
    json!({"component": item.component, "criterion": item.criterion, "agreed_score": score, "rationale": rationale})
}
