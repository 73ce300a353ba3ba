//! The rules a guide file must keep (ids, the scale, weights that add up to 100, ascending grades,
//! methods that name components, qualifications that cover real criteria), each mistake located by
//! line and field.

use std::collections::HashSet;

use super::parse::RawGuide;
use super::{
    AssessorRequirements, AttemptRules, Component, Criterion, Descriptor, GatewayCheck, Grade, Grading, Guide,
    GuideError, Qualification, QualificationUnit, Scale, PORTFOLIO,
};

/// Turns byte spans into line numbers and collects the first mistake.
pub(super) struct Locator<'a> {
    pub(super) text: &'a str,
}

impl Locator<'_> {
    pub(super) fn line_of(&self, offset: usize) -> usize {
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

pub(super) fn validate(raw: RawGuide, at: &Locator<'_>) -> Result<Guide, GuideError> {
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

    let assessors = match raw.assessors {
        None => None,
        Some(a) => {
            let min_experience_years = match a.min_experience_years {
                None => 0,
                Some(y) if (0..=60).contains(y.get_ref()) => *y.get_ref() as u32,
                Some(y) => return at.error(y.span(), "assessors.min_experience_years", "must be 0-60 years"),
            };
            let standardised_within_months = match a.standardised_within_months {
                None => None,
                Some(m) if (1..=120).contains(m.get_ref()) => Some(*m.get_ref() as u32),
                Some(m) => return at.error(m.span(), "assessors.standardised_within_months", "must be 1-120 months"),
            };
            Some(AssessorRequirements {
                min_experience_years,
                training_required: a.training_required.unwrap_or(false),
                standardised_within_months,
            })
        }
    };
    let attempts = match raw.attempts {
        None => None,
        Some(a) => {
            let grade_cap = match a.grade_cap {
                None => None,
                Some(c) if grades.iter().any(|g| g.name == c.get_ref().trim()) => Some(c.get_ref().trim().to_string()),
                Some(c) => {
                    return at.error(
                        c.span(),
                        "attempts.grade_cap",
                        format!("`{}` is not a grade of this guide", c.get_ref()),
                    )
                }
            };
            let window_months = match a.window_months {
                None => None,
                Some(m) if (1..=60).contains(m.get_ref()) => Some(*m.get_ref() as u32),
                Some(m) => return at.error(m.span(), "attempts.window_months", "must be 1-60 months"),
            };
            Some(AttemptRules { grade_cap, window_months })
        }
    };
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
        assessors,
        attempts,
    })
}
