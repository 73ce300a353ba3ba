//! Reading a guide file: the TOML as written (every value with its position in the file, so a
//! mistake can be pointed at), turned into a [`Guide`] by [`Guide::from_toml`] through the
//! validation rules.

use serde::Deserialize;
use toml::Spanned;

use super::validate::{validate, Locator};
use super::{Guide, GuideError};

// ---- the file as written, with the positions needed to point at a mistake

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGuide {
    pub(super) id: Spanned<String>,
    pub(super) title: Spanned<String>,
    #[serde(default)]
    pub(super) level: Option<Spanned<i64>>,
    pub(super) version: Spanned<String>,
    #[serde(default)]
    pub(super) source: Option<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) scale: Option<Spanned<RawScale>>,
    pub(super) components: Spanned<Vec<Spanned<RawComponent>>>,
    pub(super) grading: Spanned<RawGrading>,
    #[serde(default)]
    pub(super) gateway: Vec<Spanned<RawGatewayCheck>>,
    pub(super) criteria: Spanned<Vec<Spanned<RawCriterion>>>,
    #[serde(default)]
    pub(super) qualifications: Vec<Spanned<RawQualification>>,
    #[serde(default)]
    pub(super) assessors: Option<RawAssessors>,
    #[serde(default)]
    pub(super) panel: Option<Spanned<RawPanel>>,
    #[serde(default)]
    pub(super) kinds: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    pub(super) groups: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    pub(super) notes: Vec<Spanned<RawNote>>,
    #[serde(default)]
    pub(super) evidence_kinds: Vec<Spanned<RawNamed>>,
    #[serde(default)]
    pub(super) outcome: Option<RawOutcome>,
    #[serde(default)]
    pub(super) attempts: Option<RawAttempts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttempts {
    #[serde(default)]
    pub(super) grade_cap: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) window_months: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPanel {
    pub(super) seats: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) tie_breaker: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) viva_required: Option<bool>,
}

/// An `id` + `title` (+ `description`) entry: `[[kinds]]`, `[[groups]]`, `[[evidence_kinds]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNamed {
    pub(super) id: Spanned<String>,
    pub(super) title: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNote {
    pub(super) title: Spanned<String>,
    pub(super) text: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutcome {
    #[serde(default)]
    pub(super) award: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) on_success: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) on_failure: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) contact: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAssessors {
    #[serde(default)]
    pub(super) min_experience_years: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) training_required: Option<bool>,
    #[serde(default)]
    pub(super) standardised_within_months: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQualification {
    pub(super) reference: Spanned<String>,
    pub(super) title: String,
    pub(super) units: Vec<Spanned<RawUnit>>,
    #[serde(default)]
    pub(super) combination: Option<Spanned<RawCombination>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCombination {
    pub(super) min_credits: Spanned<i64>,
    #[serde(default)]
    pub(super) groups: Vec<Spanned<RawUnitGroup>>,
    #[serde(default)]
    pub(super) pathways: Vec<Spanned<RawPathway>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUnitGroup {
    pub(super) title: Spanned<String>,
    pub(super) min_credits: Spanned<i64>,
    pub(super) units: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPathway {
    pub(super) title: Spanned<String>,
    pub(super) units: Vec<Spanned<String>>,
    pub(super) further_credits: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUnit {
    pub(super) id: Spanned<String>,
    pub(super) title: String,
    pub(super) covers: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) credits: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScale {
    pub(super) min: Spanned<i64>,
    pub(super) max: Spanned<i64>,
    #[serde(default)]
    pub(super) descriptors: Vec<Spanned<RawDescriptor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDescriptor {
    pub(super) score: Spanned<i64>,
    pub(super) label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub(super) id: Spanned<String>,
    #[serde(default)]
    pub(super) title: Option<String>,
    pub(super) weight: Spanned<i64>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) interview: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrading {
    pub(super) grades: Vec<Spanned<RawGrade>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrade {
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) min_each: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGatewayCheck {
    pub(super) id: Spanned<String>,
    pub(super) title: Spanned<String>,
    #[serde(default)]
    pub(super) description: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCriterion {
    pub(super) id: Spanned<String>,
    #[serde(default)]
    pub(super) title: Option<Spanned<String>>,
    pub(super) kind: Spanned<String>,
    pub(super) area: Spanned<String>,
    #[serde(default)]
    pub(super) requirement: Option<String>,
    #[serde(default)]
    pub(super) indicators: Vec<String>,
    pub(super) methods: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) level: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) group: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) maps_to: Vec<Spanned<String>>,
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
        if let Some((path, c)) = crate::domain::text::invalid_in_json(&json) {
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
            return Err(GuideError { line: None, field, message: crate::domain::text::problem(c) });
        }
        Ok(guide)
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
