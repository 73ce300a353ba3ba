//! Property tests over the inputs that come from files and requests: the guide parser, score
//! sheets and consensus. Each property must hold for every input proptest can think of; the
//! fuzz targets in tests/fuzz/ run the same code for longer.

use proptest::prelude::*;

use super::assessment::GatewayAnswers;
use super::guide::tests::{small, SMALL};
use super::guide::{Guide, ItemKey};
use super::scoring::{self, Consensus, ConsensusItem, PanelSheets, ScoreEntry, Sheet};

fn sheet_strategy() -> impl Strategy<Value = Vec<i32>> {
    prop::collection::vec(1..=5i32, 4)
}

fn to_sheet(scores: &[i32]) -> Sheet {
    small().score_items().into_iter().zip(scores).map(|(k, s)| (k, ScoreEntry { score: *s, comment: None })).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_guide_parser_never_panics_on_any_text(text in "\\PC{0,400}") {
        let _ = Guide::from_toml(&text);
    }

    #[test]
    fn a_mangled_guide_is_accepted_or_refused_at_a_real_line(drop in 0usize..60, dup in 0usize..60, digit in 0u8..10) {
        let mut lines: Vec<String> = SMALL.lines().map(str::to_string).collect();
        if drop < lines.len() { lines.remove(drop); }
        if dup < lines.len() { let l = lines[dup].clone(); lines.insert(dup, l); }
        let text = lines.join("\n").replacen("= 8", &format!("= {digit}"), 1);
        match Guide::from_toml(&text) {
            Ok(g) => {
                let total: u32 = g.components.iter().map(|c| c.weight).sum();
                prop_assert_eq!(total, 100);
                prop_assert!(!g.score_items().is_empty());
            }
            Err(e) => {
                prop_assert!(!e.field.is_empty());
                if let Some(line) = e.line { prop_assert!(line >= 1 && line <= text.lines().count() + 1, "{}", e); }
            }
        }
    }

    #[test]
    fn resolution_is_total_and_grades_follow_the_lowest_score(
        lm in sheet_strategy(), tp in sheet_strategy(), ia in sheet_strategy(),
        agreed in prop::collection::vec(prop::option::of(1..=5i32), 4),
    ) {
        let g = small();
        let (lm, tp, ia) = (to_sheet(&lm), to_sheet(&tp), to_sheet(&ia));
        let sheets = PanelSheets::three(&lm, &tp, &ia);
        let items: Vec<ConsensusItem> = g.score_items().into_iter().zip(&agreed).map(|(k, a)| ConsensusItem {
            component: k.component, criterion: k.criterion, agreed_score: *a, rationale: String::new(),
        }).collect();
        let all = scoring::resolve(&g, &sheets, &Consensus { items, notes: String::new() }).unwrap();
        prop_assert_eq!(all.len(), g.score_items().len());
        for item in &all {
            let key = ItemKey::new(&item.component, &item.criterion);
            let scores = [lm[&key].score, tp[&key].score, ia[&key].score];
            let unanimous = scores.iter().all(|s| *s == item.agreed_score);
            prop_assert_eq!(unanimous, item.decided_by == scoring::DecidedBy::Unanimous);
            if item.decided_by == scoring::DecidedBy::IndependentAssessor {
                prop_assert_eq!(item.agreed_score, ia[&key].score);
            }
        }
        let d = scoring::decide(&g, all);
        let lowest = d.items.iter().map(|i| i.agreed_score).min().unwrap();
        let expected = if lowest >= 4 { "Distinction" } else if lowest >= 3 { "Pass" } else { "Not achieved" };
        prop_assert_eq!(d.grade.as_str(), expected);
        prop_assert!((1.0..=5.0).contains(&d.weighted_score));
    }

    #[test]
    fn an_empty_consensus_resolves_only_unanimous_sheets(lm in sheet_strategy(), tp in sheet_strategy(), ia in sheet_strategy()) {
        let g = small();
        let (lm, tp, ia) = (to_sheet(&lm), to_sheet(&tp), to_sheet(&ia));
        let sheets = PanelSheets::three(&lm, &tp, &ia);
        let result = scoring::resolve(&g, &sheets, &Consensus::default());
        prop_assert_eq!(result.is_ok(), scoring::disagreements(&g, &sheets).is_empty());
    }

    #[test]
    fn the_gateway_passes_exactly_when_nothing_is_unmet(
        flags in prop::collection::vec(any::<bool>(), 5), route in any::<bool>(), reference in "[ a-z]{0,3}",
    ) {
        let g = GatewayAnswers {
            portfolio_complete: flags[0],
            knowledge_route: route.then_some(super::assessment::KnowledgeRoute::Qualification),
            knowledge_reference: Some(reference),
            knowledge_units: Vec::new(),
            english_level2: flags[1], maths_level2: flags[2], employer_ready: flags[3], provider_ready: flags[4],
        };
        let next = super::workflow::Status::Registered.after(super::workflow::Event::GatewayRecorded { met: g.unmet(None).is_empty() });
        prop_assert_eq!(g.unmet(None).is_empty(), next == Ok(super::workflow::Status::GatewayPassed));
    }
}
