//! The rules a guide file must keep (ids, the scale, weights that add up to 100, ascending grades,
//! methods that name components, qualifications that cover real criteria), each mistake located by
//! line and field.

use std::collections::HashSet;

use toml::Spanned;

use super::parse::{RawCombination, RawGuide, RawNamed, RawPanel};
use super::{
    AssessorRequirements, AttemptRules, Combination, Component, Criterion, CriterionGroup, CriterionKind, Descriptor,
    EvidenceKind, GatewayCheck, Grade, Grading, Guide, GuideError, KindOfCriterion, Note, OutcomeWording, PanelRules,
    Pathway, Qualification, QualificationUnit, Scale, UnitGroup, PORTFOLIO,
};
use crate::domain::permissions::Seat;

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

/// An id: 1-100 letters, digits, '-', '_' or '.', and not only dots (no path-like `.`/`..`).
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 100
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !text.chars().all(|c| c == '.')
}

const ID_RULE: &str = "must be 1-100 letters, digits, '-', '_' or '.', and not only dots";

/// The most entries of one kind a guide may have (a hostile file cannot make every page huge).
const MAX_ENTRIES: usize = 2000;
/// The longest text a guide's string may be.
const MAX_TEXT: usize = 20_000;

fn check_count(at: &Locator<'_>, span: std::ops::Range<usize>, field: &str, n: usize) -> Result<(), GuideError> {
    if n > MAX_ENTRIES {
        return at.error(span, field, format!("{n} entries: at most {MAX_ENTRIES}"));
    }
    Ok(())
}

/// A required text: not blank and not longer than [`MAX_TEXT`]; returned trimmed.
fn required_text(at: &Locator<'_>, text: Spanned<String>, field: &str) -> Result<String, GuideError> {
    let span = text.span();
    let value = text.into_inner().trim().to_string();
    if value.is_empty() {
        return at.error(span, field, "must not be empty");
    }
    if value.chars().count() > MAX_TEXT {
        return at.error(span, field, format!("must be at most {MAX_TEXT} characters"));
    }
    Ok(value)
}

fn optional_text(at: &Locator<'_>, text: Option<Spanned<String>>, field: &str) -> Result<Option<String>, GuideError> {
    text.map(|t| required_text(at, t, field)).transpose()
}

fn level_of(at: &Locator<'_>, level: Option<Spanned<i64>>, field: &str) -> Result<Option<u32>, GuideError> {
    match level {
        None => Ok(None),
        Some(l) if (1..=8).contains(l.get_ref()) => Ok(Some(*l.get_ref() as u32)),
        Some(l) => at.error(l.span(), field, "must be a level from 1 to 8"),
    }
}

fn seat_named(name: &str) -> Option<Seat> {
    Seat::ALL.into_iter().find(|s| s.as_str() == name)
}

pub(super) fn validate(raw: RawGuide, at: &Locator<'_>) -> Result<Guide, GuideError> {
    if !is_id(raw.id.get_ref()) {
        return at.error(raw.id.span(), "id", ID_RULE);
    }
    if raw.title.get_ref().trim().is_empty() {
        return at.error(raw.title.span(), "title", "must not be empty");
    }
    let level = level_of(at, raw.level, "level")?;
    if !is_id(raw.version.get_ref()) {
        return at.error(raw.version.span(), "version", ID_RULE);
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

    check_count(at, raw.components.span(), "components", raw.components.get_ref().len())?;
    check_count(at, raw.criteria.span(), "criteria", raw.criteria.get_ref().len())?;
    let components_span = raw.components.span();
    let mut components = Vec::new();
    let mut total_weight = 0i64;
    for c in raw.components.into_inner() {
        let c = c.into_inner();
        let id = c.id.get_ref();
        if !is_id(id) {
            return at.error(c.id.span(), "components.id", ID_RULE);
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
            interview: c.interview,
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
    if let Some(first) = raw.gateway.first() {
        check_count(at, first.span(), "gateway", raw.gateway.len())?;
    }
    for g in raw.gateway {
        let g = g.into_inner();
        if !is_id(g.id.get_ref()) {
            return at.error(g.id.span(), "gateway.id", ID_RULE);
        }
        if gateway.iter().any(|k| k.id == *g.id.get_ref()) {
            return at.error(g.id.span(), "gateway.id", format!("`{}` is used twice", g.id.get_ref()));
        }
        let title = required_text(at, g.title, "gateway.title")?;
        let description = optional_text(at, g.description, "gateway.description")?;
        gateway.push(GatewayCheck { id: g.id.into_inner(), title, description });
    }

    let kinds = named_entries(at, raw.kinds, "kinds")?;
    if let Some(k) = kinds.iter().find(|k| CriterionKind::BUILT_IN.contains(&k.0.as_str())) {
        return at.error(k.3.clone(), "kinds.id", format!("`{}` is built in: it needs no declaration", k.0));
    }
    let kinds: Vec<KindOfCriterion> =
        kinds.into_iter().map(|(id, title, _, _)| KindOfCriterion { id, title }).collect();
    let groups: Vec<CriterionGroup> = named_entries(at, raw.groups, "groups")?
        .into_iter()
        .map(|(id, title, description, _)| CriterionGroup { id, title, description })
        .collect();
    let evidence_kinds: Vec<EvidenceKind> = named_entries(at, raw.evidence_kinds, "evidence_kinds")?
        .into_iter()
        .map(|(id, title, description, _)| EvidenceKind { id, title, description })
        .collect();

    let criteria_span = raw.criteria.span();
    let mut criteria: Vec<Criterion> = Vec::new();
    for c in raw.criteria.into_inner() {
        let c = c.into_inner();
        let id = c.id.get_ref();
        if !is_id(id) {
            return at.error(c.id.span(), "criteria.id", ID_RULE);
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
        let kind = c.kind.get_ref().as_str();
        if !CriterionKind::BUILT_IN.contains(&kind) && !kinds.iter().any(|k| k.id == kind) {
            return at.error(
                c.kind.span(),
                "criteria.kind",
                format!(
                    "criterion `{id}`: `{kind}` is neither knowledge, skill, behaviour nor a kind declared in [[kinds]]"
                ),
            );
        }
        let group = match c.group {
            Some(g) if !groups.is_empty() && !groups.iter().any(|k| k.id == *g.get_ref()) => {
                return at.error(
                    g.span(),
                    "criteria.group",
                    format!("criterion `{id}`: `{}` is not a group declared in [[groups]]", g.get_ref()),
                )
            }
            g => optional_text(at, g, "criteria.group")?,
        };
        let mut maps_to: Vec<String> = Vec::new();
        for m in c.maps_to {
            if !is_id(m.get_ref()) {
                return at.error(m.span(), "criteria.maps_to", format!("criterion `{id}`: {ID_RULE}"));
            }
            if maps_to.contains(m.get_ref()) {
                return at.error(
                    m.span(),
                    "criteria.maps_to",
                    format!("criterion `{id}`: `{}` is listed twice", m.get_ref()),
                );
            }
            maps_to.push(m.into_inner());
        }
        criteria.push(Criterion {
            id: id.clone(),
            title: optional_text(at, c.title, "criteria.title")?,
            kind: CriterionKind::new(kind),
            area: c.area.into_inner(),
            requirement: c.requirement,
            indicators: c.indicators,
            methods,
            level: level_of(at, c.level, "criteria.level")?,
            group,
            maps_to,
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
            let credits = match u.credits {
                None => None,
                Some(c) if (1..=MAX_CREDITS).contains(c.get_ref()) => Some(*c.get_ref() as u32),
                Some(c) => {
                    return at.error(
                        c.span(),
                        "qualifications.units.credits",
                        format!("unit `{id}`: credits must be a whole number from 1 to {MAX_CREDITS}"),
                    )
                }
            };
            units.push(QualificationUnit { id, title: u.title, covers, credits });
        }
        let combination = q.combination.map(|c| combination(at, &units, c)).transpose()?;
        qualifications.push(Qualification { reference, title: q.title, units, combination });
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
    let panel = match raw.panel {
        None => None,
        Some(p) => Some(panel_rules(at, p)?),
    };
    let mut notes = Vec::new();
    for n in raw.notes {
        let n = n.into_inner();
        notes.push(Note {
            title: required_text(at, n.title, "notes.title")?,
            text: required_text(at, n.text, "notes.text")?,
        });
    }
    let outcome = match raw.outcome {
        None => None,
        Some(o) => Some(OutcomeWording {
            award: optional_text(at, o.award, "outcome.award")?,
            on_success: optional_text(at, o.on_success, "outcome.on_success")?,
            on_failure: optional_text(at, o.on_failure, "outcome.on_failure")?,
            contact: optional_text(at, o.contact, "outcome.contact")?,
        }),
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
        level,
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
        panel,
        kinds,
        groups,
        notes,
        evidence_kinds,
        outcome,
        attempts,
    })
}

/// `[panel]`: seats are panel roles, at least one and none twice; more than one seat needs a
/// tie-breaker among them, and one seat has none.
/// The most credits a unit, a group or a qualification may ask for.
const MAX_CREDITS: i64 = 9999;

/// A credit count of a rule of combination: 0 to [`MAX_CREDITS`].
fn credits_of(at: &Locator<'_>, value: Spanned<i64>, field: &str) -> Result<u32, GuideError> {
    match *value.get_ref() {
        n @ 0..=MAX_CREDITS => Ok(n as u32),
        _ => at.error(value.span(), field, format!("must be a whole number from 0 to {MAX_CREDITS}")),
    }
}

/// Unit ids of a group or pathway: each a unit of the qualification, none twice.
fn unit_ids(
    at: &Locator<'_>,
    units: &[QualificationUnit],
    ids: Vec<Spanned<String>>,
    field: &str,
) -> Result<Vec<String>, GuideError> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let name = id.get_ref().trim().to_string();
        if !units.iter().any(|u| u.id == name) {
            return at.error(id.span(), field, format!("`{name}` is not a unit of this qualification"));
        }
        if out.contains(&name) {
            return at.error(id.span(), field, format!("`{name}` is listed twice"));
        }
        out.push(name);
    }
    Ok(out)
}

/// A qualification's rule of combination: every unit has credits, groups and pathways name its
/// units, and no group asks for more credits than its units carry.
fn combination(
    at: &Locator<'_>,
    units: &[QualificationUnit],
    raw: Spanned<RawCombination>,
) -> Result<Combination, GuideError> {
    let span = raw.span();
    let raw = raw.into_inner();
    if units.iter().any(|u| u.credits.is_none()) {
        let unit = units.iter().find(|u| u.credits.is_none()).map(|u| u.id.as_str()).unwrap_or_default();
        return at.error(
            span,
            "qualifications.units.credits",
            format!("unit `{unit}` has no credits: with a rule of combination every unit needs its credit value"),
        );
    }
    let credits_of_units =
        |ids: &[String]| -> u32 { units.iter().filter(|u| ids.contains(&u.id)).filter_map(|u| u.credits).sum() };
    let min_span = raw.min_credits.span();
    let min_credits = credits_of(at, raw.min_credits, "qualifications.combination.min_credits")?;
    let all: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
    if min_credits > credits_of_units(&all) {
        return at.error(
            min_span,
            "qualifications.combination.min_credits",
            format!("{min_credits} credits are more than all the units carry ({})", credits_of_units(&all)),
        );
    }
    check_count(at, span.clone(), "qualifications.combination.groups", raw.groups.len())?;
    let mut groups: Vec<UnitGroup> = Vec::new();
    for g in raw.groups {
        let g = g.into_inner();
        let title = required_text(at, g.title, "qualifications.combination.groups.title")?;
        let min_span = g.min_credits.span();
        let min_credits = credits_of(at, g.min_credits, "qualifications.combination.groups.min_credits")?;
        let ids = unit_ids(at, units, g.units, "qualifications.combination.groups.units")?;
        if let Some(unit) = ids.iter().find(|id| groups.iter().any(|k| k.units.contains(id))) {
            return at.error(
                min_span,
                "qualifications.combination.groups.units",
                format!("group `{title}`: unit `{unit}` is already in another group"),
            );
        }
        if min_credits > credits_of_units(&ids) {
            return at.error(
                min_span,
                "qualifications.combination.groups.min_credits",
                format!(
                    "group `{title}`: {min_credits} credits are more than its units carry ({})",
                    credits_of_units(&ids)
                ),
            );
        }
        groups.push(UnitGroup { title, min_credits, units: ids });
    }
    check_count(at, span, "qualifications.combination.pathways", raw.pathways.len())?;
    let mut pathways: Vec<Pathway> = Vec::new();
    for p in raw.pathways {
        let p = p.into_inner();
        let title = required_text(at, p.title, "qualifications.combination.pathways.title")?;
        let ids = unit_ids(at, units, p.units, "qualifications.combination.pathways.units")?;
        let further_credits = credits_of(at, p.further_credits, "qualifications.combination.pathways.further_credits")?;
        pathways.push(Pathway { title, units: ids, further_credits });
    }
    Ok(Combination { min_credits, groups, pathways })
}

fn panel_rules(at: &Locator<'_>, panel: Spanned<RawPanel>) -> Result<PanelRules, GuideError> {
    let span = panel.span();
    let panel = panel.into_inner();
    let seats_span = panel.seats.span();
    let mut seats: Vec<Seat> = Vec::new();
    for s in panel.seats.into_inner() {
        let Some(seat) = seat_named(s.get_ref()) else {
            return at.error(
                s.span(),
                "panel.seats",
                format!(
                    "`{}` is not a panel role (line_manager, training_provider, independent_assessor)",
                    s.get_ref()
                ),
            );
        };
        if seats.contains(&seat) {
            return at.error(s.span(), "panel.seats", format!("`{}` is listed twice", s.get_ref()));
        }
        seats.push(seat);
    }
    if seats.is_empty() {
        return at.error(seats_span, "panel.seats", "at least one seat is needed");
    }
    let tie_breaker = match panel.tie_breaker {
        None if seats.len() > 1 => {
            return at.error(span, "panel.tie_breaker", "a panel of more than one seat needs a tie-breaker")
        }
        None => None,
        Some(t) if seats.len() == 1 => {
            return at.error(t.span(), "panel.tie_breaker", "a one-seat panel has no tie-breaker")
        }
        Some(t) => match seat_named(t.get_ref()).filter(|s| seats.contains(s)) {
            Some(seat) => Some(seat),
            None => {
                return at.error(t.span(), "panel.tie_breaker", format!("`{}` is not one of the seats", t.get_ref()))
            }
        },
    };
    Ok(PanelRules { seats, tie_breaker, viva_required: panel.viva_required })
}

/// `[[kinds]]`, `[[groups]]`, `[[evidence_kinds]]`: ids unique and well formed, titles given.
#[expect(clippy::type_complexity, reason = "a private helper's (id, title, description, span)")]
fn named_entries(
    at: &Locator<'_>,
    entries: Vec<Spanned<RawNamed>>,
    field: &str,
) -> Result<Vec<(String, String, Option<String>, std::ops::Range<usize>)>, GuideError> {
    if let Some(first) = entries.first() {
        check_count(at, first.span(), field, entries.len())?;
    }
    let mut out: Vec<(String, String, Option<String>, std::ops::Range<usize>)> = Vec::new();
    for e in entries {
        let e = e.into_inner();
        let id = e.id.get_ref();
        if !is_id(id) {
            return at.error(e.id.span(), format!("{field}.id"), ID_RULE);
        }
        if out.iter().any(|k| k.0 == *id) {
            return at.error(e.id.span(), format!("{field}.id"), format!("`{id}` is used twice"));
        }
        let (id, span) = (id.clone(), e.id.span());
        let title = required_text(at, e.title, &format!("{field}.title"))?;
        let description = optional_text(at, e.description, &format!("{field}.description"))?;
        out.push((id, title, description, span));
    }
    Ok(out)
}
