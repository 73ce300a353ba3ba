//! The gateway's checks as the guide names them: each answered by id (holds, evidence, who last
//! changed it and when), the v1 fields mapped onto the four checks whose ids the v1 contract
//! knows, and whether the units named of a qualification make it by its rule of combination.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::assessment::GatewayAnswers;
use super::guide::{Combination, GatewayCheck, Guide, Qualification};
use super::{DomainError, ErrorCode};

/// The longest evidence text one check takes.
pub const EVIDENCE_MAX: usize = 2000;

/// The four checks the v1 fields answer (the contract's mapping), with a plain title for a guide
/// that lists no gateway checks of its own. `knowledge_units` belongs to `knowledge`: it holds
/// unless the units named do not make the qualification.
pub const V1_CHECKS: [(&str, &str, &[&str]); 4] = [
    ("portfolio_complete", "Portfolio complete", &["portfolio_complete"]),
    ("knowledge", "Knowledge demonstrated", &["knowledge_route", "knowledge_reference", "knowledge_units"]),
    ("english_maths", "English and mathematics at Level 2", &["english_level2", "maths_level2"]),
    ("ready", "Ready for the assessment", &["employer_ready", "provider_ready"]),
];

impl Guide {
    /// The checks of this guide's gateway, in order: its own, or the four v1 checks when it lists
    /// none (as every guide uploaded under v1).
    pub fn gateway_checks(&self) -> Vec<GatewayCheck> {
        if !self.gateway.is_empty() {
            return self.gateway.clone();
        }
        V1_CHECKS
            .iter()
            .map(|(id, title, _)| GatewayCheck { id: id.to_string(), title: title.to_string(), description: None })
            .collect()
    }

    /// Whether the v1 fields answer this guide's gateway: its check ids are the four v1 ones.
    pub fn gateway_takes_fields(&self) -> bool {
        let ids: BTreeSet<String> = self.gateway_checks().into_iter().map(|c| c.id).collect();
        ids == V1_CHECKS.iter().map(|(id, _, _)| id.to_string()).collect()
    }
}

/// One check's answer in a `{"checks": {…}}` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckAnswer {
    pub holds: bool,
    /// What shows it (absent: the evidence recorded stays; empty: none).
    #[serde(default)]
    pub evidence: Option<String>,
}

/// One check as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckState {
    pub holds: bool,
    #[serde(default)]
    pub evidence: String,
    /// Who last changed it (its `holds` or its evidence) and when; none until a save changed it.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
}

/// Every check's state by id; a check never saved is absent (it does not hold).
pub type CheckStates = BTreeMap<String, CheckState>;

/// Applies `answers` to `states` as `by` at `at`: only the named checks change, and a check whose
/// value is the same keeps who changed it last. Returns the ids changed, in the guide's order.
/// An id that is not one of `checks`, or over-long or unclean evidence, is refused naming it
/// (and nothing is applied).
pub fn answer(
    checks: &[GatewayCheck],
    states: &mut CheckStates,
    answers: &BTreeMap<String, CheckAnswer>,
    by: &str,
    at: &str,
) -> Result<Vec<String>, DomainError> {
    for (id, a) in answers {
        if !checks.iter().any(|c| c.id == *id) {
            let known: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
            return Err(DomainError::bad_input(
                ErrorCode::UnknownGatewayCheck,
                format!("{id:?} is not a gateway check of this standard (its checks: {})", known.join(", ")),
            )
            .at(format!("checks.{id}")));
        }
        let evidence = a.evidence.as_deref().unwrap_or_default();
        if let Some(c) = super::text::invalid_char(evidence) {
            return Err(DomainError::bad_input(ErrorCode::InvalidText, super::text::problem(c))
                .at(format!("checks.{id}.evidence")));
        }
        if evidence.chars().count() > EVIDENCE_MAX {
            return Err(DomainError::bad_input(ErrorCode::TooLong, format!("longer than {EVIDENCE_MAX} characters"))
                .at(format!("checks.{id}.evidence")));
        }
    }
    let mut changed = Vec::new();
    for check in checks {
        let Some(a) = answers.get(&check.id) else { continue };
        let state = states.entry(check.id.clone()).or_default();
        let evidence = a.evidence.as_deref().map_or_else(|| state.evidence.clone(), |e| e.trim().to_string());
        if state.holds != a.holds || state.evidence != evidence {
            *state = CheckState { holds: a.holds, evidence, by: Some(by.to_string()), at: Some(at.to_string()) };
            changed.push(check.id.clone());
        }
    }
    Ok(changed)
}

/// The checks that do not hold, in the guide's order. The gateway passes when there are none.
pub fn unmet<'c>(checks: &'c [GatewayCheck], states: &CheckStates) -> Vec<&'c str> {
    checks.iter().filter(|c| !states.get(&c.id).is_some_and(|s| s.holds)).map(|c| c.id.as_str()).collect()
}

/// What the v1 fields answer for each of the four v1 checks: a check holds when every field of
/// it holds (`unmet_fields` from [`GatewayAnswers::unmet`]). The evidence stays as recorded.
pub fn answers_of_fields(unmet_fields: &[&str]) -> BTreeMap<String, CheckAnswer> {
    V1_CHECKS
        .iter()
        .map(|(id, _, fields)| {
            (id.to_string(), CheckAnswer { holds: !fields.iter().any(|f| unmet_fields.contains(f)), evidence: None })
        })
        .collect()
}

/// The four checks of a gateway saved before checks were recorded, from its v1 answers: each
/// holds as its fields do, credited to whoever changed one of its fields last (`changed` gives
/// who and when per field).
pub fn states_of_fields(
    answers: &GatewayAnswers,
    certificate: Option<&Certificate>,
    changed: impl Fn(&str) -> Option<(String, String)>,
) -> CheckStates {
    let unmet = answers.unmet(certificate);
    V1_CHECKS
        .iter()
        .filter_map(|(id, _, fields)| {
            let last = fields.iter().filter_map(|f| changed(f)).max_by(|a, b| a.1.cmp(&b.1));
            let holds = !fields.iter().any(|f| unmet.contains(f));
            let (by, at) = last.map_or((None, None), |(by, at)| (Some(by), Some(at)));
            (by.is_some() || holds).then(|| (id.to_string(), CheckState { holds, evidence: String::new(), by, at }))
        })
        .collect()
}

/// Whether the units named make a qualification by its rule of combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Certificate {
    /// The qualification's regulator number.
    pub reference: String,
    pub achieved: bool,
    /// The credits of the units named.
    pub credits: u32,
    /// What the units named miss, one rule per line, in words (empty when achieved).
    pub why: Vec<String>,
    /// The pathways the units named also achieve, by title.
    pub pathways: Vec<String>,
}

impl Qualification {
    /// Judges the units named (each a unit of this qualification; repeats count once) by the
    /// rule of combination; None when the guide gives this qualification none.
    pub fn certificate(&self, named: &[String]) -> Option<Certificate> {
        let rule: &Combination = self.combination.as_ref()?;
        let named: BTreeSet<&str> = named.iter().map(String::as_str).collect();
        let credits_in = |ids: &mut dyn Iterator<Item = &str>| -> u32 {
            ids.filter(|id| named.contains(id))
                .filter_map(|id| self.units.iter().find(|u| u.id == id).and_then(|u| u.credits))
                .sum()
        };
        let credits = credits_in(&mut self.units.iter().map(|u| u.id.as_str()));
        let mut why = Vec::new();
        if credits < rule.min_credits {
            why.push(format!(
                "{} needs at least {} credits; the units named carry {credits}",
                self.title, rule.min_credits
            ));
        }
        for group in &rule.groups {
            let got = credits_in(&mut group.units.iter().map(String::as_str));
            if got >= group.min_credits {
                continue;
            }
            let all: u32 = self.units.iter().filter(|u| group.units.contains(&u.id)).filter_map(|u| u.credits).sum();
            if group.min_credits == all {
                // Every unit of the group is required: name the ones missing.
                let missing: Vec<String> = self
                    .units
                    .iter()
                    .filter(|u| group.units.contains(&u.id) && !named.contains(u.id.as_str()))
                    .map(|u| format!("{} ({})", u.title, u.id))
                    .collect();
                why.push(format!("{}: {} must be achieved", group.title, missing.join(", ")));
            } else {
                why.push(format!(
                    "{}: at least {} credits are needed from this group; the units named carry {got}",
                    group.title, group.min_credits
                ));
            }
        }
        let achieved = why.is_empty();
        let pathways = rule
            .pathways
            .iter()
            .filter(|p| {
                achieved
                    && p.units.iter().all(|u| named.contains(u.as_str()))
                    && credits_in(&mut named.iter().copied().filter(|n| !p.units.iter().any(|u| u == n)))
                        >= p.further_credits
            })
            .map(|p| p.title.clone())
            .collect();
        Some(Certificate { reference: self.reference.clone(), achieved, credits, why, pathways })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment::KnowledgeRoute;
    use crate::domain::guide::{Pathway, QualificationUnit, UnitGroup};

    fn check(id: &str) -> GatewayCheck {
        GatewayCheck { id: id.into(), title: format!("The {id} check"), description: None }
    }

    fn yes(evidence: Option<&str>) -> CheckAnswer {
        CheckAnswer { holds: true, evidence: evidence.map(str::to_string) }
    }

    #[test]
    fn only_the_named_checks_change_and_an_unchanged_one_keeps_its_author() {
        let checks = [check("age_group"), check("currency"), check("declaration")];
        let mut states = CheckStates::new();
        let first = BTreeMap::from([("currency".to_string(), yes(Some("CPD log 2026")))]);
        assert_eq!(answer(&checks, &mut states, &first, "lm", "t1").unwrap(), ["currency"]);
        assert_eq!(unmet(&checks, &states), ["age_group", "declaration"]);

        // The same answer again by someone else: nothing changes, the author stays.
        assert!(answer(&checks, &mut states, &first, "tp", "t2").unwrap().is_empty());
        assert_eq!(states["currency"].by.as_deref(), Some("lm"));
        assert_eq!(states["currency"].at.as_deref(), Some("t1"));

        // Evidence absent keeps what is recorded; a change of evidence alone is a change.
        let again = BTreeMap::from([("currency".to_string(), yes(None))]);
        assert!(answer(&checks, &mut states, &again, "tp", "t2").unwrap().is_empty());
        assert_eq!(states["currency"].evidence, "CPD log 2026");
        let reworded = BTreeMap::from([("currency".to_string(), yes(Some("CPD log 2027")))]);
        assert_eq!(answer(&checks, &mut states, &reworded, "tp", "t3").unwrap(), ["currency"]);
        assert_eq!(states["currency"].by.as_deref(), Some("tp"));

        // All hold: nothing unmet; changed ids come in the guide's order.
        let rest = BTreeMap::from([("declaration".to_string(), yes(None)), ("age_group".to_string(), yes(None))]);
        assert_eq!(answer(&checks, &mut states, &rest, "lm", "t4").unwrap(), ["age_group", "declaration"]);
        assert!(unmet(&checks, &states).is_empty());
    }

    #[test]
    fn an_unknown_id_or_long_evidence_is_refused_naming_it_and_nothing_applies() {
        let checks = [check("age_group")];
        let mut states = CheckStates::new();
        let bad = BTreeMap::from([("age_group".to_string(), yes(None)), ("portfolio".to_string(), yes(None))]);
        let e = answer(&checks, &mut states, &bad, "lm", "t").unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("unknown_gateway_check", Some("checks.portfolio")));
        assert!(e.fault.reason.contains("age_group"), "{e:?}");
        assert!(states.is_empty(), "nothing applied");
        let long = BTreeMap::from([("age_group".to_string(), yes(Some(&"x".repeat(EVIDENCE_MAX + 1))))]);
        let e = answer(&checks, &mut states, &long, "lm", "t").unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("too_long", Some("checks.age_group.evidence")));
        let nul = BTreeMap::from([("age_group".to_string(), yes(Some("a\u{0}b")))]);
        assert_eq!(answer(&checks, &mut states, &nul, "lm", "t").unwrap_err().code(), "invalid_text");
        assert!(states.is_empty());
    }

    #[test]
    fn the_v1_fields_answer_the_four_checks_as_the_contract_maps_them() {
        let mut a = GatewayAnswers {
            portfolio_complete: true,
            knowledge_route: Some(KnowledgeRoute::Assessment),
            knowledge_reference: Some("Test 1".into()),
            english_level2: true,
            maths_level2: false,
            employer_ready: true,
            provider_ready: true,
            ..GatewayAnswers::default()
        };
        let holds = |a: &GatewayAnswers| -> Vec<(String, bool)> {
            answers_of_fields(&a.unmet(None)).into_iter().map(|(id, x)| (id, x.holds)).collect()
        };
        let expect =
            |e: &[(&str, bool)]| -> Vec<(String, bool)> { e.iter().map(|(i, h)| (i.to_string(), *h)).collect() };
        assert_eq!(
            holds(&a),
            expect(&[("english_maths", false), ("knowledge", true), ("portfolio_complete", true), ("ready", true)])
        );
        a.maths_level2 = true;
        a.provider_ready = false;
        a.knowledge_reference = None;
        assert_eq!(
            holds(&a),
            expect(&[("english_maths", true), ("knowledge", false), ("portfolio_complete", true), ("ready", false)])
        );
    }

    #[test]
    fn a_guide_without_checks_has_the_v1_four_and_takes_the_fields() {
        let mut guide = crate::domain::guide::tests::small();
        guide.gateway.clear();
        let ids: Vec<String> = guide.gateway_checks().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["portfolio_complete", "knowledge", "english_maths", "ready"]);
        assert!(guide.gateway_takes_fields());
        guide.gateway = vec![check("ready"), check("knowledge"), check("english_maths"), check("portfolio_complete")];
        assert!(guide.gateway_takes_fields(), "the same four ids in another order");
        guide.gateway.push(check("age_group"));
        assert!(!guide.gateway_takes_fields());
        guide.gateway = vec![check("age_group")];
        assert!(!guide.gateway_takes_fields());
    }

    fn unit(id: &str, credits: u32) -> QualificationUnit {
        QualificationUnit { id: id.into(), title: format!("Unit {id}"), covers: vec![], credits: Some(credits) }
    }

    /// The shape of the CIH certificate: 36 credits, one mandatory unit (6), at least 30 credits
    /// of optional units, and a pathway of three units and 24 further credits.
    fn certificate_rule() -> Qualification {
        let optional = ["O1", "O2", "O3", "O4", "O5", "O6", "P1", "P2"];
        let mut units = vec![unit("M", 6)];
        units.extend(optional.iter().map(|id| unit(id, 6)));
        Qualification {
            reference: "603/0000/0".into(),
            title: "Certificate".into(),
            units,
            combination: Some(Combination {
                min_credits: 36,
                groups: vec![
                    UnitGroup { title: "Mandatory unit".into(), min_credits: 6, units: vec!["M".into()] },
                    UnitGroup {
                        title: "Optional units".into(),
                        min_credits: 30,
                        units: optional.iter().map(|s| s.to_string()).collect(),
                    },
                ],
                pathways: vec![Pathway {
                    title: "Planned".into(),
                    units: vec!["M".into(), "P1".into(), "P2".into()],
                    further_credits: 24,
                }],
            }),
        }
    }

    fn named(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_rule_of_combination_says_whether_the_units_make_the_qualification() {
        let q = certificate_rule();
        let c = q.certificate(&named(&["M", "O1", "O2", "O3", "O4", "O5"])).unwrap();
        assert!(c.achieved && c.why.is_empty() && c.credits == 36, "{c:?}");
        assert!(c.pathways.is_empty(), "{c:?}");

        // Two units: too few credits in all and from the optional group.
        let c = q.certificate(&named(&["M", "O1"])).unwrap();
        assert!(!c.achieved, "{c:?}");
        assert_eq!(c.credits, 12);
        assert_eq!(c.why.len(), 2, "{c:?}");
        assert!(c.why[0].contains("36") && c.why[0].contains("12"), "{c:?}");
        assert!(c.why[1].starts_with("Optional units") && c.why[1].contains("30"), "{c:?}");

        // Enough credits, but without the mandatory unit (named, repeats counted once).
        let c = q.certificate(&named(&["O1", "O2", "O3", "O4", "O5", "O6", "O6"])).unwrap();
        assert!(!c.achieved && c.credits == 36, "{c:?}");
        assert_eq!(c.why, ["Mandatory unit: Unit M (M) must be achieved"], "{c:?}");

        // A pathway: its units and 24 further credits.
        let c = q.certificate(&named(&["M", "P1", "P2", "O1", "O2", "O3", "O4"])).unwrap();
        assert!(c.achieved && c.pathways == ["Planned"], "{c:?}");
        let c = q.certificate(&named(&["M", "P1", "P2", "O1", "O2", "O3"])).unwrap();
        assert!(c.achieved && c.pathways.is_empty(), "18 further credits are not 24: {c:?}");

        // A qualification without a rule is not judged.
        let without = Qualification { combination: None, ..certificate_rule() };
        assert!(without.certificate(&named(&["M"])).is_none());
    }

    #[test]
    fn a_certificate_not_achieved_leaves_the_knowledge_check_unmet() {
        let q = certificate_rule();
        let a = GatewayAnswers {
            portfolio_complete: true,
            knowledge_route: Some(KnowledgeRoute::Qualification),
            knowledge_reference: Some("603/0000/0".into()),
            knowledge_units: named(&["M", "O1"]),
            english_level2: true,
            maths_level2: true,
            employer_ready: true,
            provider_ready: true,
        };
        let short = q.certificate(&a.knowledge_units);
        assert_eq!(a.unmet(short.as_ref()), ["knowledge_units"]);
        let holds = answers_of_fields(&a.unmet(short.as_ref()));
        assert!(!holds["knowledge"].holds && holds["ready"].holds);
        let full = q.certificate(&named(&["M", "O1", "O2", "O3", "O4", "O5"]));
        assert!(a.unmet(full.as_ref()).is_empty());
    }
}
