//! `epa-panel simulate`: a seeded, realistic history of EPAs for training and demonstration, so
//! that a standardisation lead can see what the reports show when a scorer leans.
//!
//! Two halves: [`generate`] is pure (a seed in, the same people, scores and dates out), and
//! [`write`] drives each generated EPA through the real use cases — register, gateway, panel,
//! declaration, score sheets, consensus, viva record, decision, moderation — exactly as the API
//! handlers call them, then moves its decision and release dates into the past. Everything is
//! written in one transaction, and the outcome emails the moderation queues are removed from
//! the outbox in that same transaction: a simulation never emails anybody.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::db::{format_time, DbConnection};
use crate::domain::assessment::VivaQuestion;
use crate::domain::gateway::CheckAnswer;
use crate::domain::guide::Guide;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::mail::Composer;
use crate::services::assessments::{self as epa, ConsensusItemInput, ScoreItemInput};
use crate::services::people::{self, NewApprentice, NewOrganisation, NewUser};
use crate::services::standards::Guides;
use crate::services::{transaction, Actor};

/// What to simulate (the command line's options).
#[derive(Debug, Clone)]
pub struct Plan {
    pub epas: usize,
    pub months: u32,
    pub assessors: usize,
    pub employers: usize,
    pub providers: usize,
    pub seed: u64,
    pub leans: Vec<PlantedLean>,
}

/// A lean planted on one scorer, named by email or name: added to every score they give.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedLean {
    pub who: String,
    pub lean: f64,
}

impl std::str::FromStr for PlantedLean {
    type Err = String;

    /// `EMAIL_OR_NAME=+0.5`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (who, lean) = s.rsplit_once('=').ok_or_else(|| {
            format!("--lean: {s:?} is not EMAIL_OR_NAME=LEAN, e.g. assessor1@simulated-epa.test=+0.5")
        })?;
        let lean: f64 = lean
            .trim()
            .trim_start_matches('+')
            .parse()
            .map_err(|_| format!("--lean: {lean:?} is not a number of score points such as +0.5 or -0.3"))?;
        if !lean.is_finite() || lean.abs() > 4.0 {
            return Err(format!("--lean: {lean} is not a lean between -4 and +4 score points"));
        }
        let who = who.trim();
        if who.is_empty() {
            return Err("--lean: the person's email or name is missing before '='".into());
        }
        Ok(PlantedLean { who: who.to_string(), lean })
    }
}

/// A simulated person and the lean planted on them (0 for everybody not named).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub lean: f64,
}

/// An employer with its line manager, or a provider with its tutor.
#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub name: String,
    pub person: Person,
}

/// How the panel settles one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// All three gave the same score: nothing to record.
    Unanimous,
    /// The panel agreed on this score (the median of the three).
    Agreed(i32),
    /// No two agree: a deadlock, decided by the independent assessor's own score.
    Deadlock,
}

/// One simulated EPA.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedEpa {
    pub apprentice: Person,
    pub employer: usize,
    pub provider: usize,
    pub assessor: usize,
    /// Per score item in the guide's order: line manager, training provider, independent assessor.
    pub scores: Vec<[i32; 3]>,
    pub decided_at: DateTime<Utc>,
    pub released_at: DateTime<Utc>,
}

/// The whole generated history.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub body: String,
    pub assessors: Vec<Person>,
    pub moderator: Person,
    pub employers: Vec<Organisation>,
    pub providers: Vec<Organisation>,
    pub epas: Vec<SimulatedEpa>,
}

impl History {
    /// Every scorer: assessors, then line managers, then tutors.
    pub fn scorers(&self) -> impl Iterator<Item = &Person> {
        self.assessors
            .iter()
            .chain(self.employers.iter().map(|o| &o.person))
            .chain(self.providers.iter().map(|o| &o.person))
    }
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Harun", "Isla", "Jonah", "Kemi", "Liam", "Maya", "Niall",
    "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Umar", "Vera", "Wes", "Yara", "Zoe", "Aled", "Bea", "Cal",
];
const LAST: &[&str] = &[
    "Hart", "Okafor", "Singh", "Walsh", "Nowak", "Reid", "Khan", "Evans", "Morgan", "Patel", "Byrne", "Adeyemi",
    "Clarke", "Doyle", "Ellis", "Foster", "Gill", "Hughes", "Iqbal", "Jones", "Kaur", "Lloyd", "Mensah", "Price",
];
const TOWNS: &[&str] = &[
    "Northgate",
    "Riverside",
    "Ashford",
    "Brookvale",
    "Castleton",
    "Dunmore",
    "Eastwick",
    "Fernhill",
    "Greenholm",
    "Highbury",
    "Ivybridge",
    "Kingsmere",
    "Longford",
    "Millbrook",
    "Newhaven",
    "Oakridge",
];
const DOMAIN: &str = "simulated-epa.test";

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A person's name not used yet in this history.
fn fresh_name(rng: &mut StdRng, used: &mut std::collections::BTreeSet<String>) -> String {
    loop {
        let name = format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
        // Past the number of distinct pairs, number them.
        let name = if used.len() >= FIRST.len() * LAST.len() / 2 { format!("{name} {}", used.len() + 1) } else { name };
        if used.insert(name.clone()) {
            return name;
        }
    }
}

/// How the panel settles an item with these three scores (line manager, provider, assessor).
pub fn settle(scores: [i32; 3]) -> Settled {
    let [a, b, c] = scores;
    if a == b && b == c {
        Settled::Unanimous
    } else if a != b && b != c && a != c {
        Settled::Deadlock
    } else {
        let mut s = scores;
        s.sort_unstable();
        Settled::Agreed(s[1])
    }
}

/// The seeded history: the same plan, items, scale and end time give the same history.
pub fn generate(plan: &Plan, items: usize, scale: (i32, i32), end: DateTime<Utc>) -> Result<History, String> {
    for (field, n, max) in [
        ("--epas", plan.epas, 100_000),
        ("--assessors", plan.assessors, 500),
        ("--employers", plan.employers, 500),
        ("--providers", plan.providers, 500),
    ] {
        if n == 0 || n > max {
            return Err(format!("{field}: {n} is not between 1 and {max}"));
        }
    }
    if plan.months == 0 || plan.months > 120 {
        return Err(format!("--months: {} is not between 1 and 120", plan.months));
    }
    if items == 0 {
        return Err("--standard: the standard has no score items".into());
    }
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut used = std::collections::BTreeSet::new();
    let mut person = |rng: &mut StdRng, email: String| Person { name: fresh_name(rng, &mut used), email, lean: 0.0 };
    let mut assessors: Vec<Person> =
        (1..=plan.assessors).map(|i| person(&mut rng, format!("assessor{i}@{DOMAIN}"))).collect();
    let moderator = person(&mut rng, format!("moderator@{DOMAIN}"));
    let town = |i: usize| {
        let t = TOWNS[(i - 1) % TOWNS.len()];
        if i > TOWNS.len() {
            format!("{t} {}", i.div_ceil(TOWNS.len()))
        } else {
            t.to_string()
        }
    };
    let mut employers: Vec<Organisation> = (1..=plan.employers)
        .map(|i| Organisation {
            name: format!("{} Homes", town(i)),
            person: person(&mut rng, format!("manager{i}@employer{i}.{DOMAIN}")),
        })
        .collect();
    let mut providers: Vec<Organisation> = (1..=plan.providers)
        .map(|i| Organisation {
            name: format!("{} Training", town(plan.providers + 1 - i + plan.employers)),
            person: person(&mut rng, format!("tutor{i}@provider{i}.{DOMAIN}")),
        })
        .collect();
    for planted in &plan.leans {
        let matches =
            |p: &Person| p.email.eq_ignore_ascii_case(&planted.who) || p.name.eq_ignore_ascii_case(&planted.who);
        if matches(&moderator) {
            return Err(format!("--lean: {} is the moderator, who gives no scores", planted.who));
        }
        let scorer = assessors
            .iter_mut()
            .chain(employers.iter_mut().map(|o| &mut o.person))
            .chain(providers.iter_mut().map(|o| &mut o.person))
            .find(|p| matches(p))
            .ok_or_else(|| {
                format!(
                    "--lean: nobody simulated is called or has the email {:?} (scorers are e.g. assessor1@{DOMAIN}, manager1@employer1.{DOMAIN}, tutor1@provider1.{DOMAIN})",
                    planted.who
                )
            })?;
        scorer.lean = planted.lean;
    }
    let difficulty: Vec<f64> = (0..items).map(|_| 0.3 * normal(&mut rng)).collect();
    let span = Duration::seconds((f64::from(plan.months) * 30.44 * 86_400.0) as i64);
    let start = end - span;
    let mut epas = Vec::with_capacity(plan.epas);
    for i in 0..plan.epas {
        let employer = rng.random_range(0..plan.employers);
        let provider = rng.random_range(0..plan.providers);
        let assessor = rng.random_range(0..plan.assessors);
        let level = 3.6 + 0.5 * normal(&mut rng);
        let leans = [employers[employer].person.lean, providers[provider].person.lean, assessors[assessor].lean];
        let scores = difficulty
            .iter()
            .map(|d| {
                leans.map(|lean| {
                    let s = (level + d + lean + 0.6 * normal(&mut rng)).round() as i32;
                    s.clamp(scale.0, scale.1)
                })
            })
            .collect();
        // Spread in order over the months: each EPA somewhere in its own slice of the span.
        let at = (i as f64 + rng.random::<f64>()) / plan.epas as f64;
        let decided_at = start + Duration::seconds((span.num_seconds() as f64 * at) as i64);
        let released_at = (decided_at + Duration::hours(rng.random_range(20..120))).min(end);
        let name = fresh_name(&mut rng, &mut used);
        let email = format!("apprentice{}@employer{}.{DOMAIN}", i + 1, employer + 1);
        epas.push(SimulatedEpa {
            apprentice: Person { name, email, lean: 0.0 },
            employer,
            provider,
            assessor,
            scores,
            decided_at,
            released_at,
        });
    }
    Ok(History { body: "Simulated EPA Ltd".into(), assessors, moderator, employers, providers, epas })
}

/// What [`write`] wrote.
#[derive(Debug, Serialize)]
pub struct Written {
    pub standard_id: String,
    pub epas: usize,
    pub assessors: usize,
    pub employers: usize,
    pub providers: usize,
    pub tie_breaks: usize,
    pub first_decided_on: String,
    pub last_decided_on: String,
    /// Outcome emails queued by the moderation and removed again, unsent.
    pub emails_withheld: usize,
    /// The scorers with a planted lean.
    pub planted: Vec<Person>,
}

/// Refuses a database that already holds assessments: a simulation never mixes into real data.
pub fn check_empty(conn: &mut DbConnection) -> AppResult<()> {
    let n = crate::db::assessments::count_assessments(conn)?;
    if n > 0 {
        return Err(AppError::conflict(
            ErrorCode::DatabaseNotEmpty,
            format!("the database already holds {n} assessment(s); simulate writes only into a database without assessments (e.g. EPA_DATABASE_URL=sqlite://simulated.db)"),
        ));
    }
    Ok(())
}

/// Writes `history` through the real use cases, in one transaction; `progress` is called after
/// each EPA.
pub fn write(
    conn: &mut DbConnection,
    guides: &Guides,
    composer: &Composer,
    guide: &Guide,
    history: &History,
    mut progress: impl FnMut(),
) -> AppResult<Written> {
    let items = guide.score_items();
    transaction(conn, |conn| {
        check_empty(conn)?;
        let user = |conn: &mut DbConnection, admin: Option<&Actor>, p: &Person, role: &str, org: Option<&str>| {
            let input = NewUser {
                email: p.email.clone(),
                name: p.name.clone(),
                role: role.into(),
                organisation_id: org.map(str::to_string),
            };
            let (user, _token) = people::create_user(conn, admin, input.into())?;
            Actor::from_user(&user)
        };
        let admin = user(
            conn,
            None,
            &Person { name: "Simulation Admin".into(), email: format!("admin@{DOMAIN}"), lean: 0.0 },
            "admin",
            None,
        )?;
        let org = |conn: &mut DbConnection, name: &str, kind: &str| {
            people::create_organisation(conn, &admin, NewOrganisation { name: name.into(), kind: kind.into() }.into())
        };
        let body = org(conn, &history.body, "assessment_body")?;
        let mut assessors = Vec::new();
        for p in &history.assessors {
            assessors.push(user(conn, Some(&admin), p, "independent_assessor", Some(&body.id))?);
        }
        let moderator = user(conn, Some(&admin), &history.moderator, "moderator", Some(&body.id))?;
        let mut employers = Vec::new();
        for o in &history.employers {
            let e = org(conn, &o.name, "employer")?;
            let lm = user(conn, Some(&admin), &o.person, "line_manager", Some(&e.id))?;
            employers.push((e.id, lm));
        }
        let mut providers = Vec::new();
        for o in &history.providers {
            let p = org(conn, &o.name, "training_provider")?;
            let tp = user(conn, Some(&admin), &o.person, "training_provider", Some(&p.id))?;
            providers.push((p.id, tp));
        }
        let mut tie_breaks = 0;
        let mut emails_withheld = 0;
        for sim in &history.epas {
            let (employer_id, lm) = &employers[sim.employer];
            let (provider_id, tp) = &providers[sim.provider];
            let ia = &assessors[sim.assessor];
            let apprentice = people::create_apprentice(
                conn,
                &admin,
                NewApprentice {
                    name: sim.apprentice.name.clone(),
                    email: sim.apprentice.email.clone(),
                    employer_id: employer_id.clone(),
                    training_provider_id: provider_id.clone(),
                }
                .into(),
            )?;
            let row = epa::register(
                conn,
                guides,
                &admin,
                epa::NewAssessment {
                    apprentice_id: apprentice.id,
                    standard_id: guide.id.clone(),
                    line_manager_id: lm.id.clone(),
                    training_provider_user_id: tp.id.clone(),
                }
                .into(),
            )?;
            let id = row.id.as_str();
            // The gateway as the guide asks it: the v1 fields, or every one of its own checks.
            let gateway = match guide.gateway_takes_fields() {
                true => epa::GatewayBody::Fields(epa::GatewayInput {
                    portfolio_complete: true,
                    knowledge_route: Some("assessment".into()),
                    knowledge_reference: Some("Knowledge test passed (simulated)".into()),
                    knowledge_units: None,
                    english_level2: true,
                    maths_level2: true,
                    employer_ready: true,
                    provider_ready: true,
                }),
                false => epa::GatewayBody::Checks(epa::GatewayChecksInput {
                    checks: guide
                        .gateway_checks()
                        .into_iter()
                        .map(|c| {
                            let answer = CheckAnswer { holds: true, evidence: Some("Confirmed (simulated)".into()) };
                            (c.id, answer)
                        })
                        .collect(),
                }),
            };
            epa::record_gateway(conn, guides, lm, id, gateway.into())?;
            let viva_at = sim.decided_at - Duration::hours(2);
            epa::appoint_panel(
                conn,
                guides,
                crate::domain::eligibility::AssessorRules::Warn,
                &admin,
                id,
                epa::PanelInput {
                    independent_assessor_id: Some(ia.id.clone()),
                    viva_at: format_time(viva_at),
                    mode: "in_person".into(),
                }
                .into(),
            )?;
            epa::declare(
                conn,
                ia,
                id,
                epa::DeclarationInput { no_prior_involvement: true, conflicts: "none".into() }.into(),
            )?;
            for (seat, actor) in [lm, tp, ia].into_iter().enumerate() {
                let scores = items
                    .iter()
                    .zip(&sim.scores)
                    .map(|(key, s)| ScoreItemInput {
                        component: key.component.clone(),
                        criterion: key.criterion.clone(),
                        score: i64::from(s[seat]),
                        comment: None,
                    })
                    .collect();
                epa::save_scores(conn, guides, actor, id, epa::ScoresInput { scores, submit: true }.into())?;
            }
            epa::record_viva(
                conn,
                guides,
                ia,
                id,
                epa::VivaRecordInput {
                    questions: vec![VivaQuestion {
                        question: "Talk us through a piece of work from your portfolio (simulated).".into(),
                        response: "A simulated answer.".into(),
                        criteria: vec![],
                    }],
                }
                .into(),
            )?;
            let mut disputed = Vec::new();
            for (key, s) in items.iter().zip(&sim.scores) {
                let (agreed_score, rationale) = match settle(*s) {
                    Settled::Unanimous => continue,
                    Settled::Agreed(score) => (Some(score), "Agreed in discussion (simulated)."),
                    Settled::Deadlock => {
                        tie_breaks += 1;
                        (None, "No agreement: the independent assessor decides (simulated).")
                    }
                };
                disputed.push(ConsensusItemInput {
                    component: key.component.clone(),
                    criterion: key.criterion.clone(),
                    agreed_score,
                    rationale: rationale.into(),
                });
            }
            if !disputed.is_empty() {
                epa::record_consensus(
                    conn,
                    guides,
                    ia,
                    id,
                    epa::ConsensusInput { items: disputed, notes: String::new() }.into(),
                )?;
            }
            epa::decide(conn, guides, ia, id, epa::DecisionInput { notes: "Simulated decision.".into() }.into())?;
            epa::moderate(
                conn,
                guides,
                composer,
                &moderator,
                id,
                epa::ModerationInput { action: "confirm".into(), rationale: String::new(), items: Vec::new() }.into(),
            )?;
            emails_withheld += crate::db::outbox::delete_messages_of(conn, id)?;
            // The decision and release move into the simulated past; the audit trail keeps the
            // times the steps were really taken.
            crate::db::assessments::set_decided_and_released_at(
                conn,
                id,
                &format_time(sim.decided_at),
                &format_time(sim.released_at),
            )?;
            progress();
        }
        let day = |t: Option<&DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
        Ok(Written {
            standard_id: guide.id.clone(),
            epas: history.epas.len(),
            assessors: history.assessors.len(),
            employers: history.employers.len(),
            providers: history.providers.len(),
            tie_breaks,
            first_decided_on: day(history.epas.first().map(|e| &e.decided_at)),
            last_decided_on: day(history.epas.last().map(|e| &e.decided_at)),
            emails_withheld,
            planted: history.scorers().filter(|p| p.lean != 0.0).cloned().collect(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(leans: Vec<PlantedLean>) -> Plan {
        Plan { epas: 200, months: 12, assessors: 8, employers: 10, providers: 4, seed: 7, leans }
    }

    fn end() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let a = generate(&plan(vec![]), 20, (1, 5), end()).unwrap();
        let b = generate(&plan(vec![]), 20, (1, 5), end()).unwrap();
        assert_eq!(a, b);
        let mut other = plan(vec![]);
        other.seed = 8;
        let c = generate(&other, 20, (1, 5), end()).unwrap();
        assert_ne!(a.epas, c.epas);
    }

    #[test]
    fn a_planted_lean_shows_in_the_raw_scores() {
        let lean = "assessor3@simulated-epa.test=+0.8".parse().unwrap();
        let h = generate(&plan(vec![lean]), 20, (1, 5), end()).unwrap();
        assert_eq!(h.assessors[2].lean, 0.8);
        // The assessor's scores against the line manager's and tutor's on the same items.
        let (mut planted, mut n_planted, mut others, mut n_others) = (0.0, 0, 0.0, 0);
        for e in &h.epas {
            for s in &e.scores {
                let d = f64::from(s[2]) - f64::from(s[0] + s[1]) / 2.0;
                if e.assessor == 2 {
                    planted += d;
                    n_planted += 1;
                } else {
                    others += d;
                    n_others += 1;
                }
            }
        }
        let (planted, others) = (planted / f64::from(n_planted), others / f64::from(n_others));
        assert!(planted > 0.5 && planted < 0.9, "planted lean in the raw scores: {planted}");
        assert!(others.abs() < 0.1, "the unbiased assessors: {others}");
    }

    #[test]
    fn a_lean_may_name_a_person_by_name_and_an_unknown_one_is_refused() {
        let h = generate(&plan(vec![]), 5, (1, 5), end()).unwrap();
        let tutor = h.providers[1].person.name.to_uppercase();
        let named = generate(&plan(vec![PlantedLean { who: tutor, lean: -0.5 }]), 5, (1, 5), end()).unwrap();
        assert_eq!(named.providers[1].person.lean, -0.5);
        let e = generate(&plan(vec![PlantedLean { who: "nobody@x.test".into(), lean: 0.5 }]), 5, (1, 5), end())
            .unwrap_err();
        assert!(e.starts_with("--lean:") && e.contains("nobody@x.test"), "{e}");
        let e = generate(&plan(vec![PlantedLean { who: h.moderator.email, lean: 0.5 }]), 5, (1, 5), end()).unwrap_err();
        assert!(e.contains("moderator"), "{e}");
    }

    #[test]
    fn dates_are_in_order_over_the_months_and_scores_on_the_scale() {
        let h = generate(&plan(vec![]), 20, (1, 5), end()).unwrap();
        assert!(h.epas.windows(2).all(|w| w[0].decided_at <= w[1].decided_at));
        let first = h.epas[0].decided_at;
        let last = h.epas[199].decided_at;
        assert!(first < end() - Duration::days(330) && last > end() - Duration::days(10), "{first} … {last}");
        assert!(h.epas.iter().all(|e| e.released_at >= e.decided_at && e.released_at <= end()));
        assert!(h.epas.iter().flat_map(|e| e.scores.iter().flatten()).all(|s| (1..=5).contains(s)));
        let names: std::collections::BTreeSet<_> =
            h.scorers().chain(h.epas.iter().map(|e| &e.apprentice)).map(|p| p.name.clone()).collect();
        assert_eq!(names.len(), 8 + 10 + 4 + 200, "every name is different");
    }

    #[test]
    fn the_panel_settles_on_the_median_or_deadlocks() {
        assert_eq!(settle([3, 3, 3]), Settled::Unanimous);
        assert_eq!(settle([3, 4, 4]), Settled::Agreed(4));
        assert_eq!(settle([2, 2, 5]), Settled::Agreed(2));
        assert_eq!(settle([2, 3, 4]), Settled::Deadlock);
    }

    #[test]
    fn a_lean_is_parsed_with_its_sign_and_bad_ones_name_the_option() {
        assert_eq!("Ada Hart=+0.5".parse(), Ok(PlantedLean { who: "Ada Hart".into(), lean: 0.5 }));
        assert_eq!("x@y.test=-0.25".parse(), Ok(PlantedLean { who: "x@y.test".into(), lean: -0.25 }));
        for bad in ["nobody", "=0.5", "a=lots", "a=9"] {
            let e = bad.parse::<PlantedLean>().unwrap_err();
            assert!(e.starts_with("--lean:"), "{bad}: {e}");
        }
    }
}
