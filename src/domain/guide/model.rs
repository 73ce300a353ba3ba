//! What a validated guide is: its scale, components and weights, grades, gateway checks,
//! criteria and qualifications, the (component, criterion) pairs that are scored, and the error
//! a guide file that fails gets.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::permissions::Seat;

/// The method name that is recorded against a criterion but never scored at the EPA.
pub const PORTFOLIO: &str = "portfolio";

/// One (component, criterion) pair that every panel member must score.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Guide {
    pub id: String,
    pub title: String,
    /// The standard's level; absent for a framework without one (a NOS).
    #[serde(default)]
    pub level: Option<u32>,
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
    /// What an independent assessor needs to sit on this standard's panels (`[assessors]`);
    /// absent: only an approval for the standard and no earlier attempt of the apprentice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessors: Option<AssessorRequirements>,
    /// Who scores, who breaks a deadlock, whether a viva record is required (`[panel]`);
    /// absent: the three v1 seats with the independent assessor breaking ties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<PanelRules>,
    /// Criterion kinds declared beyond the built-in knowledge, skill and behaviour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<KindOfCriterion>,
    /// Headings above the criteria (a unit, a NOS section, a C&G standard).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<CriterionGroup>,
    /// Reference text for the panel (scope, values, eligibility).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    /// The kinds of evidence record a panel member may attach to criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_kinds: Vec<EvidenceKind>,
    /// The outcome email's wording; absent: neutral wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeWording>,
    /// How later attempts (resits and retakes) are graded and when they must be taken
    /// (`[attempts]`); absent: no cap and no window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<AttemptRules>,
}

/// The guide's `[attempts]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttemptRules {
    /// The highest grade a later attempt may be awarded (a grade name of this guide), unless
    /// exceptional circumstances are recorded; absent: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_cap: Option<String>,
    /// Months after the previous attempt's release within which a later attempt must be
    /// requested; absent: no window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_months: Option<u32>,
}

/// The guide's `[panel]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PanelRules {
    /// The panel roles that score, in order (at least one, no repeats).
    #[schema(value_type = Vec<String>)]
    pub seats: Vec<Seat>,
    /// The seat whose own score decides a deadlock; none for a one-seat panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub tie_breaker: Option<Seat>,
    /// Whether a viva record is required before the decision; absent: from the components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viva_required: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KindOfCriterion {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CriterionGroup {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Note {
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceKind {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The guide's `[outcome]` section: what the outcome email says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutcomeWording {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// The guide's `[assessors]` section: what the assessment plan asks of an independent assessor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssessorRequirements {
    /// Years of relevant professional experience (the L4 plan: five).
    pub min_experience_years: u32,
    /// Trained (with sample scoring) before the first EPA.
    pub training_required: bool,
    /// Standardised within this many months before the viva; absent: no window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardised_within_months: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Qualification {
    /// The regulator's number, e.g. "603/1433/3"; a gateway reference naming it selects it.
    pub reference: String,
    pub title: String,
    pub units: Vec<QualificationUnit>,
    /// The rule of combination: which units, and how many credits, make the qualification;
    /// absent: the guide does not say (the units named are not judged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combination: Option<Combination>,
}

/// A qualification's rule of combination (`[qualifications.combination]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Combination {
    /// Credits the qualification needs in all.
    pub min_credits: u32,
    /// Groups of units (mandatory, optional) with the credits each needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<UnitGroup>,
    /// Named pathways: units that must all be achieved, and credits from the other units.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pathways: Vec<Pathway>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitGroup {
    pub title: String,
    /// Credits that must be achieved from this group's units.
    pub min_credits: u32,
    /// The group's units, by id.
    pub units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pathway {
    pub title: String,
    /// Units the pathway requires, by id.
    pub units: Vec<String>,
    /// Credits needed from units other than these.
    pub further_credits: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QualificationUnit {
    pub id: String,
    pub title: String,
    /// The criteria this unit covers (indicative, as the awarding body maps them).
    pub covers: Vec<String>,
    /// The unit's credit value (required when the qualification has a rule of combination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
    #[serde(default)]
    pub descriptors: Vec<Descriptor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Descriptor {
    pub score: i32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Component {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub weight: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The component is scored in the viva / interview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interview: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grading {
    /// Ascending: the awarded grade is the highest whose `min_each` every agreed score meets.
    pub grades: Vec<Grade>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grade {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_each: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayCheck {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A criterion's kind as the guide names it: a built-in (knowledge, skill, behaviour) or one the
/// guide declares in `[[kinds]]` (performance criterion, standard statement, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct CriterionKind(pub String);

impl CriterionKind {
    pub const KNOWLEDGE: &'static str = "knowledge";
    pub const SKILL: &'static str = "skill";
    pub const BEHAVIOUR: &'static str = "behaviour";
    /// The kinds every guide may use without declaring them.
    pub const BUILT_IN: [&'static str; 3] = [Self::KNOWLEDGE, Self::SKILL, Self::BEHAVIOUR];

    pub fn new(kind: impl Into<String>) -> Self {
        Self(kind.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_knowledge(&self) -> bool {
        self.0 == Self::KNOWLEDGE
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    pub id: String,
    /// A short title (null when the guide gives none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
