//! Consensus and decision: the deadlock rule (the independent assessor's own score decides),
//! `decided_by`, the grade from the agreed scores, and the 80/20 weighted score by hand.

use crate::app::*;
use serde_json::{json, Value};

both_backends!(a_deadlock_is_decided_by_the_assessors_own_score, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let project: Vec<Item> = items.iter().filter(|i| i.component == "project").cloned().collect();
    let viva: Vec<Item> = items.iter().filter(|i| i.component == "viva").cloned().collect();
    assert_eq!((project.len(), viva.len()), (15, 10), "the L4 guide's score items");
    let (p0, p1, p2, v0) = (&project[0], &project[1], &project[2], &viva[0]);

    // Project items 4, viva items 5, all unanimous except:
    //   p0: 5 5 4 -> agreed 5 (consensus)
    //   p2: 3 4 4 -> agreed 4 (consensus)
    //   v0: 5 4 3 -> deadlock: the assessor's 3 (independent_assessor)
    // Without the deadlock rule every agreed score would be 4 or 5: a Distinction.
    let base: Sheet = items.iter().map(|i| (i.clone(), if i.component == "project" { 4 } else { 5 })).collect();
    let lm = with(base.clone(), &[(p0, 5), (p2, 3), (v0, 5)]);
    let tp = with(base.clone(), &[(p0, 5), (v0, 4)]);
    let ia = with(base.clone(), &[(p0, 4), (v0, 3)]);
    panel.submit_all(&lm, &tp, &ia).await;

    let c = panel
        .agree(
            vec![
                agreed(p0, Some(5), "report section 3 exceeds the standard"),
                agreed(p1, Some(4), "listed although all agreed"),
                agreed(p2, Some(4), "meets it, with one example beyond"),
                agreed(v0, None, "the panel could not agree"),
            ],
            "One deadlock, decided by the independent assessor.",
        )
        .await;
    // The disagreements (p1 was listed though all agreed), and each listed item as agreed.
    let keys = |list: &Value| -> Vec<Item> {
        let mut keys: Vec<Item> = list
            .as_array()
            .unwrap_or_else(|| panic!("a list: {c}"))
            .iter()
            .map(|i| {
                Item::new(i["component"].as_str().expect("component"), i["criterion"].as_str().expect("criterion"))
            })
            .collect();
        keys.sort();
        keys
    };
    let mut disagreements = vec![p0.clone(), p2.clone(), v0.clone()];
    disagreements.sort();
    assert_eq!(keys(&c["disagreements"]), disagreements, "{c}");
    let agreed = Panel::agreed_of(&c);
    assert_eq!(agreed[p0], (5, "consensus".into()), "{c}");
    assert_eq!(agreed[p1], (4, "unanimous".into()), "{c}");
    assert_eq!(agreed[p2], (4, "consensus".into()), "{c}");
    assert_eq!(agreed[v0], (3, "independent_assessor".into()), "{c}");
    assert!(agreed.iter().all(|(i, _)| [p0, p1, p2, v0].contains(&i) || agreed[i].1 == "unanimous"), "{c}");
    panel.record_viva().await;
    let d = panel.decide().await;
    let by = Panel::agreed_of(&d);
    assert_eq!(by.len(), items.len(), "one item per score item: {d}");
    assert_eq!(by[p0], (5, "consensus".into()));
    assert_eq!(by[p1], (4, "unanimous".into()), "a listed item all three scored alike is unanimous");
    assert_eq!(by[p2], (4, "consensus".into()));
    assert_eq!(by[v0], (3, "independent_assessor".into()), "the deadlock takes the assessor's own score");
    for item in items.iter().filter(|i| ![p0, p1, p2, v0].contains(i)) {
        assert_eq!(by[item], (base[item], "unanimous".into()), "{item:?}");
    }
    assert_eq!(d["grade"], "Pass", "one agreed 3 makes a Pass, not a Distinction: {d}");

    // 0.8 x mean(project) + 0.2 x mean(viva), by hand:
    // project: fourteen 4s and one 5 = 61/15; viva: nine 5s and one 3 = 48/10.
    let hand = 0.8 * (61.0 / 15.0) + 0.2 * (48.0 / 10.0);
    let got = d["weighted_score"].as_f64().expect("weighted_score");
    assert!((got - hand).abs() < 1e-4, "weighted_score {got} != {hand:.4}");
    // (an unweighted mean would be 109/25 = 4.36)
    assert!((got - 4.36).abs() > 0.1);

    let view = panel.view().await;
    assert_eq!(view["status"], "decided");
    assert_eq!(view["grade"], "Pass");
    assert!((view["weighted_score"].as_f64().expect("weighted_score") - hand).abs() < 1e-4, "{view}");
});

both_backends!(every_disagreement_must_be_resolved, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let (a, b) = (&items[0], &items[items.len() - 1]);
    let all4 = sheet(&items, 4);
    panel.submit_all(&with(all4.clone(), &[(a, 5), (b, 2)]), &all4, &with(all4.clone(), &[(b, 3)])).await;
    let path = panel.path("/consensus");

    // Leaving a disagreement out: 400 unresolved_items naming it.
    let e = panel.ia.refused(400, "PUT", &path, json!({"items": [agreed(a, Some(4), "agreed")], "notes": ""})).await;
    assert_eq!(e.code, "unresolved_items", "{e:?}");
    assert!(e.message.contains(&b.criterion), "names {b:?}: {e:?}");
    assert!(!e.message.contains(&format!("{}/{}", a.component, a.criterion)), "does not name the resolved one: {e:?}");
    let e = panel.ia.refused(400, "PUT", &path, json!({"items": [], "notes": ""})).await;
    assert_eq!(e.code, "unresolved_items", "{e:?}");
    assert!(e.message.contains(&a.criterion) && e.message.contains(&b.criterion), "{e:?}");

    // Bad items are 400 too.
    let e = panel
        .ia
        .refused(400, "PUT", &path, json!({"items": [agreed(a, Some(6), "x"), agreed(b, None, "x")], "notes": ""}))
        .await;
    assert!(e.message.contains("agreed_score"), "{e:?}");
    panel
        .ia
        .expect(400, "PUT", &path, json!({"items": [agreed(&Item::new("viva", "K2"), Some(3), "x")], "notes": ""}))
        .await;
    panel
        .ia
        .expect(
            400,
            "PUT",
            &path,
            json!({"items": [agreed(a, Some(4), "x"), agreed(a, Some(4), "y"), agreed(b, None, "z")], "notes": ""}),
        )
        .await;
    // No consensus stood: the decision is refused.
    panel.record_viva().await;
    panel.ia.expect(409, "POST", &panel.path("/decision"), json!({"notes": "n"})).await;

    // Each call replaces the last.
    panel.agree(vec![agreed(a, Some(5), "first try"), agreed(b, None, "deadlock")], "first").await;
    panel.agree(vec![agreed(a, Some(4), "second try"), agreed(b, Some(2), "agreed after all")], "second").await;
    let d = panel.decide().await;
    let by = Panel::agreed_of(&d);
    assert_eq!(by[a], (4, "consensus".into()), "{d}");
    assert_eq!(by[b], (2, "consensus".into()), "{d}");
    assert_eq!(d["grade"], "Not achieved", "an agreed 2 is not achieved: {d}");
});

both_backends!(no_disagreement_needs_no_consensus_call, |app| async move {
    let panel = app.panel().await;
    let all5 = sheet(panel.items(), 5);
    panel.submit_all(&all5, &all5, &all5).await;
    panel.record_viva().await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Distinction", "{d}");
    assert!((d["weighted_score"].as_f64().expect("weighted_score") - 5.0).abs() < 1e-9, "{d}");
    let by = Panel::agreed_of(&d);
    assert!(by.values().all(|(s, how)| *s == 5 && how == "unanimous"), "{d}");

    // And a panel all at 3 is a Pass with 3.0.
    let other = app.panel().await;
    let all3 = sheet(other.items(), 3);
    other.submit_all(&all3, &all3, &all3).await;
    other.record_viva().await;
    let d = other.decide().await;
    assert_eq!(d["grade"], "Pass", "{d}");
    assert_eq!(d["weighted_score"].as_f64(), Some(3.0), "{d}");
});
