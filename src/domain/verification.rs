//! The external verifier's sample: for one training provider (the SQA's "centre") and a period,
//! the released assessments an external verifier should look at, risk first. The SQA's guidance
//! asks for the work of twelve candidates, or of every candidate where a centre has fewer
//! ([`SAMPLE_SIZE`]).
//!
//! The reasons an assessment is risky, each with its weight in the risk score:
//! - `tie_break` (3): an item's agreed score was decided by the independent assessor's own score
//!   in a deadlock;
//! - `wide_spread` (2): the panel's three scores of an item were [`WIDE_SPREAD`] or more apart;
//! - `boundary` (2): the grade hangs on one item's point — exactly one agreed score sits at the
//!   awarded grade's `min_each`, the others above it (one point less and the grade drops), or
//!   exactly one is one point short of the next grade's `min_each`, the others meeting it (one
//!   point more and the grade rises): see [`at_boundary`];
//! - `first_epas` (1): one of the independent assessor's first [`FIRST_EPAS`] decided
//!   assessments ever.
//!
//! The order is fixed: the risk score (the sum of the weights) highest first, then the number of
//! reasons, then the oldest decision first, then the id.

use std::cmp::Reverse;

use super::guide::Guide;

/// The SQA guidance's sample: the work of twelve candidates, all of them where fewer.
pub const SAMPLE_SIZE: usize = 12;

/// Scores of one item this many points apart or more are a wide spread (moderation's queue
/// flags the same spread).
pub const WIDE_SPREAD: i32 = 2;

/// An independent assessor's first this many decided assessments are sampled as a reason.
pub const FIRST_EPAS: usize = 3;

/// Why an assessment is in the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    TieBreak,
    WideSpread,
    Boundary,
    FirstEpas,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TieBreak => "tie_break",
            Self::WideSpread => "wide_spread",
            Self::Boundary => "boundary",
            Self::FirstEpas => "first_epas",
        }
    }

    /// Its weight in the risk score.
    pub fn weight(self) -> u32 {
        match self {
            Self::TieBreak => 3,
            Self::WideSpread | Self::Boundary => 2,
            Self::FirstEpas => 1,
        }
    }
}

/// One released assessment of the provider and period, as the sample needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    /// When it was decided (RFC 3339, so that text order is time order).
    pub decided_at: String,
    /// Items whose agreed score the independent assessor's score decided in a deadlock.
    pub tie_breaks: usize,
    /// The widest spread between the panel's scores of one item.
    pub widest_spread: i32,
    /// Whether the grade hangs on one point (see [`at_boundary`]).
    pub at_boundary: bool,
    /// Which of its independent assessor's decided assessments this is, counting from 1.
    pub assessors_nth: usize,
}

impl Candidate {
    pub fn reasons(&self) -> Vec<Reason> {
        let mut out = Vec::new();
        if self.tie_breaks > 0 {
            out.push(Reason::TieBreak);
        }
        if self.widest_spread >= WIDE_SPREAD {
            out.push(Reason::WideSpread);
        }
        if self.at_boundary {
            out.push(Reason::Boundary);
        }
        if self.assessors_nth >= 1 && self.assessors_nth <= FIRST_EPAS {
            out.push(Reason::FirstEpas);
        }
        out
    }
}

/// An assessment chosen for the sample, with its risk score and reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub id: String,
    pub risk: u32,
    pub reasons: Vec<Reason>,
}

/// Whether the grade hangs on one item's point: exactly one agreed score sits at the awarded
/// grade's `min_each` with every other above it (that score one point lower and the grade
/// drops), or exactly one agreed score is one point short of the next grade's `min_each` with
/// every other meeting it (that score one point higher and the grade rises).
pub fn at_boundary(guide: &Guide, agreed: &[i32]) -> bool {
    let grades = &guide.grading.grades;
    let awarded = guide.grade_for(agreed.iter().copied());
    let Some(at) = grades.iter().position(|g| g.name == awarded.name) else { return false };
    let on_floor = awarded.min_each.is_some_and(|min| agreed.iter().filter(|s| **s == min).count() == 1);
    let one_short = grades.get(at + 1).and_then(|next| next.min_each).is_some_and(|min| {
        let short: Vec<&i32> = agreed.iter().filter(|s| **s < min).collect();
        short.len() == 1 && *short[0] == min - 1
    });
    on_floor || one_short
}

/// The sample: at most [`SAMPLE_SIZE`] of `candidates` (all where fewer), in the order above.
pub fn choose(candidates: &[Candidate]) -> Vec<Chosen> {
    let mut ranked: Vec<(&Candidate, Vec<Reason>)> = candidates.iter().map(|c| (c, c.reasons())).collect();
    ranked.sort_by_key(|(c, reasons)| {
        let risk: u32 = reasons.iter().map(|r| r.weight()).sum();
        (Reverse(risk), Reverse(reasons.len()), c.decided_at.clone(), c.id.clone())
    });
    ranked
        .into_iter()
        .take(SAMPLE_SIZE)
        .map(|(c, reasons)| Chosen { id: c.id.clone(), risk: reasons.iter().map(|r| r.weight()).sum(), reasons })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::guide::tests::small;

    fn plain(id: &str, at: &str) -> Candidate {
        Candidate {
            id: id.into(),
            decided_at: at.into(),
            tie_breaks: 0,
            widest_spread: 0,
            at_boundary: false,
            assessors_nth: 10,
        }
    }

    fn ids(chosen: &[Chosen]) -> Vec<&str> {
        chosen.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn each_reason_is_named_and_weighed() {
        let c = Candidate { tie_breaks: 1, ..plain("t", "1") };
        assert_eq!((c.reasons(), choose(&[c])[0].risk), (vec![Reason::TieBreak], 3));
        let c = Candidate { widest_spread: WIDE_SPREAD, ..plain("w", "1") };
        assert_eq!(c.reasons(), vec![Reason::WideSpread]);
        assert!(Candidate { widest_spread: WIDE_SPREAD - 1, ..plain("w", "1") }.reasons().is_empty());
        let c = Candidate { at_boundary: true, ..plain("b", "1") };
        assert_eq!(c.reasons(), vec![Reason::Boundary]);
        assert_eq!(Candidate { assessors_nth: FIRST_EPAS, ..plain("f", "1") }.reasons(), vec![Reason::FirstEpas]);
        assert!(Candidate { assessors_nth: FIRST_EPAS + 1, ..plain("f", "1") }.reasons().is_empty());
        let words: Vec<&str> =
            [Reason::TieBreak, Reason::WideSpread, Reason::Boundary, Reason::FirstEpas].map(Reason::as_str).to_vec();
        assert_eq!(words, ["tie_break", "wide_spread", "boundary", "first_epas"]);
    }

    #[test]
    fn risk_first_then_reasons_then_oldest_then_id() {
        let rows = vec![
            plain("plain-old", "2026-01-01"),
            Candidate { tie_breaks: 2, ..plain("tie-new", "2026-03-01") },
            Candidate { tie_breaks: 1, ..plain("tie-old", "2026-02-01") },
            // 2 + 1 = 3 like a tie-break alone, but two reasons: first among the threes.
            Candidate { widest_spread: 3, assessors_nth: 1, ..plain("two-reasons", "2026-04-01") },
            Candidate { at_boundary: true, ..plain("b", "2026-02-01") },
            Candidate { at_boundary: true, ..plain("a", "2026-02-01") },
        ];
        let chosen = choose(&rows);
        assert_eq!(ids(&chosen), ["two-reasons", "tie-old", "tie-new", "a", "b", "plain-old"]);
        assert_eq!(chosen[0].reasons, vec![Reason::WideSpread, Reason::FirstEpas]);
        assert_eq!(choose(&rows), chosen, "the same rows, the same sample");
    }

    #[test]
    fn twelve_at_most_and_all_where_fewer() {
        let many: Vec<Candidate> =
            (0..20).map(|i| plain(&format!("a{i:02}"), &format!("2026-01-{:02}", i + 1))).collect();
        let chosen = choose(&many);
        assert_eq!(chosen.len(), SAMPLE_SIZE);
        assert_eq!(chosen[0].id, "a00", "oldest first among equals");
        let mut risky = many.clone();
        risky[19].tie_breaks = 1;
        assert_eq!(choose(&risky)[0].id, "a19", "the risky one comes first however new");
        assert_eq!(choose(&many[..5]).len(), 5);
        assert!(choose(&[]).is_empty());
    }

    #[test]
    fn a_grade_at_a_boundary_hangs_on_one_items_point() {
        let guide = small();
        // The small guide: Pass needs 3 on each item, Distinction 4.
        assert_eq!(guide.grade_for([3, 3, 3]).name, "Pass");
        assert_eq!(guide.grade_for([4, 4, 4]).name, "Distinction");
        assert!(at_boundary(&guide, &[3, 4, 4]), "one 3 holds the pass, and one point more is a distinction");
        assert!(at_boundary(&guide, &[2, 3, 3]), "one point short of a pass on one item");
        assert!(!at_boundary(&guide, &[3, 3, 4]), "two items hold the pass: not one point");
        assert!(!at_boundary(&guide, &[1, 3, 3]), "two points short");
        assert!(!at_boundary(&guide, &[2, 2, 3]), "two items short");
        assert!(!at_boundary(&guide, &[4, 4, 4]), "every item on the distinction's floor: no single point");
    }
}
