//! Panel guides: everything standard-specific (scale, components and weights, grade rules,
//! gateway checks, criteria) read from a TOML file, validated, and asked questions by the rest of
//! the service. No standard is hard-coded in Rust: a new standard is a new guide file.
//!
//! The rooms: `model` (the types), `parse` (the TOML file as written, turned into a guide),
//! `validate` (the rules a file must keep, each mistake located by line and field) and `questions`
//! (what the rest of the service asks a guide: score items, grades, weighted scores).

mod model;
mod parse;
mod questions;
#[cfg(test)]
pub(crate) mod tests;
mod validate;

pub use model::{
    AssessorRequirements, AttemptRules, Combination, Component, Criterion, CriterionGroup, CriterionKind, Descriptor,
    EvidenceKind, GatewayCheck, Grade, Grading, Guide, GuideError, ItemKey, KindOfCriterion, Note, OutcomeWording,
    PanelRules, Pathway, Qualification, QualificationUnit, Scale, UnitGroup, PORTFOLIO,
};
