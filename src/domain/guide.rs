//! Panel guides: everything standard-specific (scale, components and weights, grade rules,
//! gateway checks, criteria) read from a TOML file, validated, and asked questions by the rest of
//! the service. No standard is hard-coded in Rust: a new standard is a new guide file.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The method name that is recorded against a criterion but never scored at the EPA.
pub const PORTFOLIO: &str = "portfolio";

/// One (component, criterion) pair that every panel member must score.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemKey {
    pub component: String,
    pub criterion: String,
}

impl ItemKey {
    pub fn new(component: impl Into<String>, criterion: impl Into<String>) -> Self {
        Self { component: component.into(), criterion: criterion.into() }
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.component, self.criterion)
    }
}

/// A validated panel guide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guide {
    pub id: String,
    pub title: String,
    pub level: u32,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub scale: Scale,
    pub components: Vec<Component>,
    pub grading: Grading,
    #[serde(default)]
    pub gateway: Vec<GatewayCheck>,
    pub criteria: Vec<Criterion>,
    /// Regulated qualifications that show the knowledge at the gateway, with what each unit
    /// covers (e.g. the CIH certificate's mapping to the apprenticeship's areas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualifications: Vec<Qualification>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    /// The regulator's number, e.g. "603/1433/3"; a gateway reference naming it selects it.
    pub reference: String,
    pub title: String,
    pub units: Vec<QualificationUnit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualificationUnit {
    pub id: String,
    pub title: String,
    /// The criteria this unit covers (indicative, as the awarding body maps them).
    pub covers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
    #[serde(default)]
    pub descriptors: Vec<Descriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Descriptor {
    pub score: i32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub weight: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grading {
    /// Ascending: the awarded grade is the highest whose `min_each` every agreed score meets.
    pub grades: Vec<Grade>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_each: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayCheck {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    Knowledge,
    Skill,
    Behaviour,
}

impl CriterionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Knowledge => "knowledge",
            Self::Skill => "skill",
            Self::Behaviour => "behaviour",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub kind: CriterionKind,
    pub area: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<String>,
    pub methods: Vec<String>,
    /// A level within the standard, for frameworks that grade statements by level (C&G 9200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// A grouping above the area, e.g. a qualification unit or a NOS section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Ids in another standard that this criterion covers (e.g. a CIH unit's apprenticeship
    /// knowledge areas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps_to: Vec<String>,
}

impl Qualification {
    /// The knowledge criteria none of `units` covers: where the viva should probe. Unknown unit
    /// ids are returned as the error.
    pub fn knowledge_gaps<'g>(&self, guide: &'g Guide, units: &[String]) -> Result<Vec<&'g Criterion>, String> {
        let mut covered: HashSet<&str> = HashSet::new();
        for id in units {
            let unit = self.units.iter().find(|u| u.id == *id).ok_or_else(|| id.clone())?;
            covered.extend(unit.covers.iter().map(String::as_str));
        }
        Ok(guide
            .criteria
            .iter()
            .filter(|c| c.kind == CriterionKind::Knowledge && !covered.contains(c.id.as_str()))
            .collect())
    }
}

/// A guide that failed to parse or validate, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideError {
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for GuideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, field `{}`: {}", self.field, self.message),
            None => write!(f, "field `{}`: {}", self.field, self.message),
        }
    }
}

impl std::error::Error for GuideError {}

// ---- the file as written, with the positions needed to point at a mistake

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuide {
    id: Spanned<String>,
    title: Spanned<String>,
    level: Spanned<i64>,
    version: Spanned<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    scale: Option<Spanned<RawScale>>,
    components: Spanned<Vec<Spanned<RawComponent>>>,
    grading: Spanned<RawGrading>,
    #[serde(default)]
    gateway: Vec<Spanned<RawGatewayCheck>>,
    criteria: Spanned<Vec<Spanned<RawCriterion>>>,
    #[serde(default)]
    qualifications: Vec<Spanned<RawQualification>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQualification {
    reference: Spanned<String>,
    title: String,
    units: Vec<Spanned<RawUnit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    id: Spanned<String>,
    title: String,
    covers: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    min: Spanned<i64>,
    max: Spanned<i64>,
    #[serde(default)]
    descriptors: Vec<Spanned<RawDescriptor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDescriptor {
    score: Spanned<i64>,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    id: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    weight: Spanned<i64>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrading {
    grades: Vec<Spanned<RawGrade>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    name: Spanned<String>,
    #[serde(default)]
    min_each: Option<Spanned<i64>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGatewayCheck {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    id: Spanned<String>,
    kind: CriterionKind,
    area: Spanned<String>,
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default)]
    indicators: Vec<String>,
    methods: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    level: Option<u32>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    maps_to: Vec<String>,
}

/// Turns byte spans into line numbers and collects the first mistake.
struct Locator<'a> {
    text: &'a str,
}

impl Locator<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }

    fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<T, GuideError> {
        Err(GuideError { line: Some(self.line_of(span.start)), field: field.into(), message: message.into() })
    }
}

fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Guide {
    /// Parses and validates a guide file. Every mistake names the line and the field at fault.
    pub fn from_toml(text: &str) -> Result<Guide, GuideError> {
        let raw: RawGuide = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| Locator { text }.line_of(s.start));
            GuideError { line, field: field_of_toml_error(e.message()), message: e.message().trim().to_string() }
        })?;
        let guide = validate(raw, &Locator { text })?;
        // TOML escapes (`\u0000`, `\b`, `\f`) can put control characters in a string.
        let json = serde_json::to_value(&guide).unwrap_or_default();
        if let Some((path, c)) = super::text::invalid_in_json(&json) {
            let mut field = String::new();
            let mut in_index = false;
            for ch in path.chars() {
                match ch {
                    '[' => in_index = true,
                    ']' => in_index = false,
                    _ if !in_index => field.push(ch),
                    _ => {}
                }
            }
            return Err(GuideError { line: None, field, message: super::text::problem(c) });
        }
        Ok(guide)
    }

    /// The guide's canonical JSON form (what is stored and compared).
    #[expect(clippy::expect_used, reason = "a guide is plain data (strings, numbers, lists) and always serialises")]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a guide always serialises")
    }

    pub fn from_json(text: &str) -> Result<Guide, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
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

/// Pulls the field name out of serde's "missing field `x`" / "unknown field `x`" messages.
fn field_of_toml_error(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .map(str::to_string)
        .unwrap_or_else(|| "(file)".to_string())
}

fn validate(raw: RawGuide, at: &Locator<'_>) -> Result<Guide, GuideError> {
    if !is_id(raw.id.get_ref()) {
        return at.error(raw.id.span(), "id", "must be 1-100 letters, digits, '-', '_' or '.'");
    }
    if raw.title.get_ref().trim().is_empty() {
        return at.error(raw.title.span(), "title", "must not be empty");
    }
    if !(1..=8).contains(raw.level.get_ref()) {
        return at.error(raw.level.span(), "level", "must be a level from 1 to 8");
    }
    if !is_id(raw.version.get_ref()) {
        return at.error(raw.version.span(), "version", "must be 1-100 letters, digits, '-', '_' or '.'");
    }

    let scale = match raw.scale {
        None => Scale { min: 1, max: 5, descriptors: Vec::new() },
        Some(s) => {
            let span = s.span();
            let s = s.into_inner();
            let (min, max) = (*s.min.get_ref(), *s.max.get_ref());
            if !(-1000..=1000).contains(&min) || !(-1000..=1000).contains(&max) {
                return at.error(span, "scale", "min and max must lie between -1000 and 1000");
            }
            if min >= max {
                return at.error(s.max.span(), "scale.max", format!("must be greater than scale.min ({min})"));
            }
            let mut seen = HashSet::new();
            let mut descriptors = Vec::new();
            for d in s.descriptors {
                let d = d.into_inner();
                let score = *d.score.get_ref();
                if score < min || score > max {
                    return at.error(
                        d.score.span(),
                        "scale.descriptors.score",
                        format!("{score} is outside the scale {min}-{max}"),
                    );
                }
                if !seen.insert(score) {
                    return at.error(d.score.span(), "scale.descriptors.score", format!("{score} is described twice"));
                }
                descriptors.push(Descriptor { score: score as i32, label: d.label });
            }
            descriptors.sort_by_key(|d| d.score);
            Scale { min: min as i32, max: max as i32, descriptors }
        }
    };

    let components_span = raw.components.span();
    let mut components = Vec::new();
    let mut total_weight = 0i64;
    for c in raw.components.into_inner() {
        let c = c.into_inner();
        let id = c.id.get_ref();
        if !is_id(id) {
            return at.error(c.id.span(), "components.id", "must be 1-100 letters, digits, '-', '_' or '.'");
        }
        if id == PORTFOLIO {
            return at.error(
                c.id.span(),
                "components.id",
                "`portfolio` is recorded, never scored: it cannot be a component",
            );
        }
        if components.iter().any(|k: &Component| k.id == *id) {
            return at.error(c.id.span(), "components.id", format!("`{id}` is used twice"));
        }
        let weight = *c.weight.get_ref();
        if !(0..=100).contains(&weight) {
            return at.error(c.weight.span(), "components.weight", format!("{weight} must be from 0 to 100"));
        }
        total_weight += weight;
        components.push(Component {
            id: id.clone(),
            title: c.title,
            weight: weight as u32,
            description: c.description,
        });
    }
    if components.is_empty() {
        return at.error(components_span, "components", "at least one component is needed");
    }
    if total_weight != 100 {
        return at.error(components_span, "components.weight", format!("weights add up to {total_weight}, not 100"));
    }

    let grading_span = raw.grading.span();
    let mut grades: Vec<Grade> = Vec::new();
    for g in raw.grading.into_inner().grades {
        let g = g.into_inner();
        let name = g.name.get_ref().trim();
        if name.is_empty() {
            return at.error(g.name.span(), "grading.grades.name", "must not be empty");
        }
        if grades.iter().any(|k| k.name == name) {
            return at.error(g.name.span(), "grading.grades.name", format!("`{name}` is used twice"));
        }
        let min_each = match g.min_each {
            None if grades.is_empty() => None,
            None => {
                return at.error(
                    g.name.span(),
                    "grading.grades.min_each",
                    format!("grade `{name}` needs min_each: only the lowest grade may go without"),
                )
            }
            Some(m) => {
                let value = *m.get_ref();
                if value < i64::from(scale.min) || value > i64::from(scale.max) {
                    return at.error(
                        m.span(),
                        "grading.grades.min_each",
                        format!("{value} is outside the scale {}-{}", scale.min, scale.max),
                    );
                }
                let below = grades.last().and_then(|p| p.min_each).unwrap_or(i32::MIN);
                if !grades.is_empty() && value as i32 <= below {
                    return at.error(
                        m.span(),
                        "grading.grades.min_each",
                        "grades must be listed in ascending order of min_each",
                    );
                }
                Some(value as i32)
            }
        };
        grades.push(Grade { name: name.to_string(), min_each, description: g.description });
    }
    if grades.is_empty() {
        return at.error(grading_span, "grading.grades", "at least one grade is needed");
    }

    let mut gateway: Vec<GatewayCheck> = Vec::new();
    for g in raw.gateway {
        let g = g.into_inner();
        if !is_id(g.id.get_ref()) {
            return at.error(g.id.span(), "gateway.id", "must be 1-100 letters, digits, '-', '_' or '.'");
        }
        if gateway.iter().any(|k| k.id == *g.id.get_ref()) {
            return at.error(g.id.span(), "gateway.id", format!("`{}` is used twice", g.id.get_ref()));
        }
        gateway.push(GatewayCheck { id: g.id.into_inner(), title: g.title, description: g.description });
    }

    let criteria_span = raw.criteria.span();
    let mut criteria: Vec<Criterion> = Vec::new();
    for c in raw.criteria.into_inner() {
        let c = c.into_inner();
        let id = c.id.get_ref();
        if !is_id(id) {
            return at.error(c.id.span(), "criteria.id", "must be 1-100 letters, digits, '-', '_' or '.'");
        }
        if criteria.iter().any(|k| k.id == *id) {
            return at.error(c.id.span(), "criteria.id", format!("`{id}` is used twice"));
        }
        if c.area.get_ref().trim().is_empty() {
            return at.error(c.area.span(), "criteria.area", format!("criterion `{id}` needs an area"));
        }
        let methods_span = c.methods.span();
        let mut methods: Vec<String> = Vec::new();
        for m in c.methods.into_inner() {
            let name = m.get_ref();
            if name != PORTFOLIO && !components.iter().any(|k| k.id == *name) {
                return at.error(
                    m.span(),
                    "criteria.methods",
                    format!("criterion `{id}`: `{name}` is neither a component nor `{PORTFOLIO}`"),
                );
            }
            if methods.contains(name) {
                return at.error(m.span(), "criteria.methods", format!("criterion `{id}`: `{name}` is listed twice"));
            }
            methods.push(name.clone());
        }
        if methods.is_empty() {
            return at.error(methods_span, "criteria.methods", format!("criterion `{id}` needs at least one method"));
        }
        criteria.push(Criterion {
            id: id.clone(),
            kind: c.kind,
            area: c.area.into_inner(),
            requirement: c.requirement,
            indicators: c.indicators,
            methods,
            level: c.level,
            group: c.group,
            maps_to: c.maps_to,
        });
    }
    if criteria.is_empty() {
        return at.error(criteria_span, "criteria", "at least one criterion is needed");
    }
    for component in &components {
        if component.weight > 0 && !criteria.iter().any(|c| c.methods.contains(&component.id)) {
            return at.error(
                components_span.clone(),
                "components",
                format!(
                    "component `{}` has weight {} but no criterion is assessed by it",
                    component.id, component.weight
                ),
            );
        }
    }

    let mut qualifications: Vec<Qualification> = Vec::new();
    for q in raw.qualifications {
        let q = q.into_inner();
        let reference = q.reference.get_ref().trim().to_string();
        if reference.is_empty() || reference.len() > 100 {
            return at.error(q.reference.span(), "qualifications.reference", "must be 1-100 characters");
        }
        if qualifications.iter().any(|k| k.reference == reference) {
            return at.error(q.reference.span(), "qualifications.reference", format!("`{reference}` is listed twice"));
        }
        let mut units: Vec<QualificationUnit> = Vec::new();
        for u in q.units {
            let u = u.into_inner();
            let id = u.id.get_ref().trim().to_string();
            if id.is_empty() || units.iter().any(|k| k.id == id) {
                return at.error(
                    u.id.span(),
                    "qualifications.units.id",
                    format!("unit `{id}` is empty or listed twice"),
                );
            }
            let mut covers = Vec::new();
            for c in u.covers {
                if !criteria.iter().any(|k| k.id == *c.get_ref()) {
                    return at.error(
                        c.span(),
                        "qualifications.units.covers",
                        format!("unit `{id}`: `{}` is not a criterion of this guide", c.get_ref()),
                    );
                }
                covers.push(c.into_inner());
            }
            units.push(QualificationUnit { id, title: u.title, covers });
        }
        qualifications.push(Qualification { reference, title: q.title, units });
    }

    Ok(Guide {
        id: raw.id.into_inner(),
        title: raw.title.into_inner().trim().to_string(),
        level: *raw.level.get_ref() as u32,
        version: raw.version.into_inner(),
        source: raw.source,
        description: raw.description,
        scale,
        components,
        grading: Grading { grades },
        gateway,
        criteria,
        qualifications,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small guide in the contract's shape, for tests across the domain.
    pub(crate) const SMALL: &str = r#"
id = "small"
title = "Small standard"
level = 4
version = "1"
[[components]]
id = "project"
weight = 80
[[components]]
id = "viva"
weight = 20
[[grading.grades]]
name = "Not achieved"
[[grading.grades]]
name = "Pass"
min_each = 3
[[grading.grades]]
name = "Distinction"
min_each = 4
[[criteria]]
id = "K1"
kind = "knowledge"
area = "Legislation"
methods = ["portfolio", "viva"]
[[criteria]]
id = "S1"
kind = "skill"
area = "Communication"
methods = ["project", "portfolio"]
[[criteria]]
id = "B1"
kind = "behaviour"
area = "Adaptability"
methods = ["project", "viva"]
[[criteria]]
id = "S2"
kind = "skill"
area = "Finance"
methods = ["portfolio"]
"#;

    pub(crate) fn small() -> Guide {
        Guide::from_toml(SMALL).expect("the small guide is valid")
    }

    fn error_of(text: &str) -> GuideError {
        Guide::from_toml(text).expect_err("should be rejected")
    }

    #[test]
    fn score_items_follow_methods_component_by_component() {
        let items: Vec<String> = small().score_items().iter().map(ToString::to_string).collect();
        assert_eq!(items, ["project/S1", "project/B1", "viva/K1", "viva/B1"]);
    }

    #[test]
    fn default_scale_is_one_to_five() {
        let g = small();
        assert_eq!((g.scale.min, g.scale.max), (1, 5));
        assert!(g.in_scale(1) && g.in_scale(5) && !g.in_scale(0) && !g.in_scale(6));
    }

    #[test]
    fn json_round_trip_keeps_the_guide() {
        let g = small();
        assert_eq!(Guide::from_json(&g.to_json()).unwrap(), g);
    }

    #[test]
    fn weights_must_add_up_to_100() {
        let e = error_of(&SMALL.replace("weight = 20", "weight = 25"));
        assert_eq!(e.field, "components.weight");
        assert!(e.message.contains("105"), "{e}");
        assert!(e.line.is_some());
    }

    #[test]
    fn unknown_method_names_the_line_and_field() {
        let text = SMALL.replace(r#"methods = ["project", "viva"]"#, r#"methods = ["project", "viav"]"#);
        let e = error_of(&text);
        assert_eq!(e.field, "criteria.methods");
        let line = text.lines().position(|l| l.contains("viav")).unwrap() + 1;
        assert_eq!(e.line, Some(line), "{e}");
    }

    #[test]
    fn control_characters_in_a_guide_are_refused() {
        let e = error_of(&SMALL.replace(r#"area = "Finance""#, r#"area = "Fin\u0000ance""#));
        assert_eq!(e.field, "criteria.area", "{e}");
        assert!(e.message.contains("U+0000"), "{e}");
        let e = error_of(&SMALL.replace(r#"title = "Small standard""#, r#"title = "Small\bstandard""#));
        assert_eq!(e.field, "title", "{e}");
    }

    #[test]
    fn duplicate_criterion_ids_are_refused() {
        let e = error_of(&SMALL.replace(r#"id = "B1""#, r#"id = "K1""#));
        assert_eq!(e.field, "criteria.id");
        assert!(e.message.contains("twice"));
    }

    #[test]
    fn duplicate_component_ids_are_refused() {
        let e = error_of(&SMALL.replace(r#"id = "viva""#, r#"id = "project""#));
        assert_eq!(e.field, "components.id");
    }

    #[test]
    fn grades_must_ascend() {
        let e = error_of(&SMALL.replace("min_each = 4", "min_each = 2"));
        assert_eq!(e.field, "grading.grades.min_each");
    }

    #[test]
    fn only_the_lowest_grade_may_lack_min_each() {
        let e = error_of(&SMALL.replace("min_each = 3\n", ""));
        assert_eq!(e.field, "grading.grades.min_each");
    }

    #[test]
    fn unknown_fields_and_syntax_errors_give_a_line() {
        let e = error_of(&SMALL.replace("weight = 80", "wieght = 80"));
        assert_eq!(e.field, "wieght");
        assert!(e.line.is_some(), "{e}");
        let e = error_of("id = \"x\"\ntitle = ");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn missing_fields_are_named() {
        let e = error_of(&SMALL.replace("area = \"Finance\"\n", ""));
        assert_eq!(e.field, "area", "{e}");
    }

    #[test]
    fn portfolio_is_not_a_component() {
        let e = error_of(&SMALL.replace(r#"id = "viva""#, r#"id = "portfolio""#));
        assert_eq!(e.field, "components.id");
    }

    #[test]
    fn a_weighted_component_needs_a_criterion() {
        let text = SMALL
            .replace(r#"methods = ["portfolio", "viva"]"#, r#"methods = ["portfolio"]"#)
            .replace(r#"methods = ["project", "viva"]"#, r#"methods = ["project"]"#);
        let e = error_of(&text);
        assert_eq!(e.field, "components");
        assert!(e.message.contains("viva"));
    }

    #[test]
    fn custom_scale_is_honoured_and_checked() {
        let text = SMALL.replace(
            "[[components]]\nid = \"project\"",
            "[scale]\nmin = 0\nmax = 10\n[[components]]\nid = \"project\"",
        );
        let g = Guide::from_toml(&text).unwrap();
        assert!(g.in_scale(0) && g.in_scale(10) && !g.in_scale(11));
        let e = error_of(&SMALL.replace(
            "[[components]]\nid = \"project\"",
            "[scale]\nmin = 5\nmax = 1\n[[components]]\nid = \"project\"",
        ));
        assert_eq!(e.field, "scale.max");
    }

    #[test]
    fn other_frameworks_fit_the_format() {
        // NOS-style performance and knowledge statements, with levels, groups and a mapping.
        let text = r#"
id = "nos-involvement"
title = "Lead and manage the involvement of key people"
level = 5
version = "2024.1"
[[components]]
id = "observation"
weight = 100
[[grading.grades]]
name = "Not yet competent"
[[grading.grades]]
name = "Competent"
min_each = 3
[[criteria]]
id = "P1"
kind = "skill"
area = "Performance"
group = "Plan involvement"
level = 5
methods = ["observation"]
maps_to = ["S3"]
[[criteria]]
id = "K107"
kind = "knowledge"
area = "Knowledge"
methods = ["portfolio", "observation"]
"#;
        let g = Guide::from_toml(text).unwrap();
        assert_eq!(g.criteria[0].maps_to, ["S3"]);
        assert_eq!(g.score_items().len(), 2);
    }

    #[test]
    fn qualification_units_show_the_knowledge_gaps() {
        let text = format!(
            "{SMALL}\n[[qualifications]]\nreference = \"603/1433/3\"\ntitle = \"CIH L4\"\n[[qualifications.units]]\nid = \"F/507/9169\"\ntitle = \"Practice\"\ncovers = [\"B1\"]\n[[qualifications.units]]\nid = \"H/504/4186\"\ntitle = \"Law\"\ncovers = [\"K1\"]\n"
        );
        let g = Guide::from_toml(&text).unwrap();
        let q = g.qualification_named_in("CIH Level 4 Certificate 603/1433/3").expect("named by its number");
        let gaps = |units: &[&str]| -> Vec<String> {
            let units: Vec<String> = units.iter().map(|u| u.to_string()).collect();
            q.knowledge_gaps(&g, &units).unwrap().iter().map(|c| c.id.clone()).collect()
        };
        assert_eq!(gaps(&["F/507/9169"]), ["K1"]);
        assert!(gaps(&["F/507/9169", "H/504/4186"]).is_empty());
        assert_eq!(q.knowledge_gaps(&g, &["X/1".to_string()]).unwrap_err(), "X/1");
        assert!(g.qualification_named_in("an in-house test").is_none());
        let e = error_of(&text.replace("covers = [\"K1\"]", "covers = [\"K9\"]"));
        assert_eq!(e.field, "qualifications.units.covers");
    }

    #[test]
    fn the_shipped_guides_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                Guide::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen >= 1, "no guide found in {}", dir.display());
    }
}
