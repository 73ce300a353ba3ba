//! Sealed score sheets: drafts merge, a member sees only their own sheet until all three are
//! submitted (staff see none), the audit trail carries no score before then, and then all open.

use crate::app::*;
use serde_json::{json, Value};

/// The scores of each sheet in a `GET /scores` answer, by user id (None: sealed).
fn sheets_of(answer: &Value) -> Vec<(String, String, bool, Option<Sheet>)> {
    answer["sheets"]
        .as_array()
        .unwrap_or_else(|| panic!("sheets: {answer}"))
        .iter()
        .map(|s| {
            let scores = s["scores"].as_array().map(|list| {
                list.iter()
                    .map(|x| {
                        (
                            Item::new(
                                x["component"].as_str().expect("component"),
                                x["criterion"].as_str().expect("criterion"),
                            ),
                            x["score"].as_i64().expect("score"),
                        )
                    })
                    .collect::<Sheet>()
            });
            (
                s["role"].as_str().expect("role").to_string(),
                s["user_id"].as_str().map_or_else(|| s["user_id"].to_string(), str::to_string),
                s["submitted"].as_bool().expect("submitted"),
                scores,
            )
        })
        .collect()
}

/// Every key anywhere in `v` whose name says it holds a score.
fn score_keys(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if k == "score" || k == "scores" || k == "agreed_score" {
                    found.push(format!("{k}: {x}"));
                }
                score_keys(x, found);
            }
        }
        Value::Array(list) => list.iter().for_each(|x| score_keys(x, found)),
        _ => {}
    }
}

both_backends!(sheets_stay_sealed_until_the_third_is_submitted, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    // Three different sheets, so a leak shows which one leaked.
    let lm: Sheet = items.iter().enumerate().map(|(i, it)| (it.clone(), (i % 5) as i64 + 1)).collect();
    let tp: Sheet = items.iter().enumerate().map(|(i, it)| (it.clone(), ((i + 2) % 5) as i64 + 1)).collect();
    let ia: Sheet = items.iter().enumerate().map(|(i, it)| (it.clone(), ((i + 4) % 5) as i64 + 1)).collect();
    let secret = "LM-PRIVATE-COMMENT";
    let mut draft = scores_body(&with(Sheet::new(), &[(&items[0], 2)]), false);
    draft["scores"][0]["comment"] = json!(secret);
    panel.lm.expect(200, "PUT", &panel.path("/scores"), draft).await;
    panel.save(&panel.tp, &tp, true).await;
    panel.save(&panel.ia, &with(Sheet::new(), &[(&items[3], 5)]), false).await;

    let seats = [("line_manager", &panel.lm), ("training_provider", &panel.tp), ("independent_assessor", &panel.ia)];
    // `own`: the caller's id and the sheet they saved, which they alone see.
    let check_sealed = |who: &str, answer: &Value, own: Option<(&str, &Sheet)>| {
        let sheets = sheets_of(answer);
        assert_eq!(sheets.len(), 3, "{who}: one sheet per seat: {answer}");
        for (role, member) in &seats {
            let s = sheets.iter().find(|s| &s.0 == role).unwrap_or_else(|| panic!("{who}: no {role} sheet: {answer}"));
            assert_eq!(s.1, member.id, "{who}: the {role} sheet is {}'s", member.name);
            if let Some((_, sheet)) = own.filter(|(id, _)| *id == member.id) {
                assert_eq!(s.3.as_ref(), Some(sheet), "{who} sees their own sheet: {answer}");
            } else {
                assert!(s.3.is_none(), "{who} must not see the {role}'s scores before all three are in: {answer}");
            }
        }
        let by_role = |r: &str| sheets.iter().find(|s| s.0 == r).map(|s| s.2);
        assert_eq!(by_role("training_provider"), Some(true), "{answer}");
        assert!(
            !answer.to_string().contains(secret) || own.map(|o| o.0) == Some(panel.lm.id.as_str()),
            "{who}: {answer}"
        );
    };

    // Two drafts and one submitted sheet.
    let lm_draft = with(Sheet::new(), &[(&items[0], 2)]);
    let ia_draft = with(Sheet::new(), &[(&items[3], 5)]);
    for ((_, member), saved) in seats.iter().zip([&lm_draft, &tp, &ia_draft]) {
        let answer = member.get(&panel.path("/scores")).await;
        check_sealed(&member.name, &answer, Some((&member.id, saved)));
    }
    let own = sheets_of(&panel.lm.get(&panel.path("/scores")).await);
    assert_eq!(
        own.iter().find(|s| s.0 == "line_manager").and_then(|s| s.3.clone()),
        Some(with(Sheet::new(), &[(&items[0], 2)]))
    );
    check_sealed("admin", &app.admin.get(&panel.path("/scores")).await, None);
    check_sealed("moderator", &panel.moderator.get(&panel.path("/scores")).await, None);

    // Two submitted: still sealed.
    panel.save(&panel.lm, &lm, true).await;
    for ((_, member), saved) in seats.iter().zip([&lm, &tp, &ia_draft]) {
        check_sealed(&member.name, &member.get(&panel.path("/scores")).await, Some((&member.id, saved)));
    }
    check_sealed("admin", &app.admin.get(&panel.path("/scores")).await, None);
    check_sealed("moderator", &panel.moderator.get(&panel.path("/scores")).await, None);

    // No score value in the audit trail before the third sheet.
    let audit = app.admin.get(&panel.path("/audit")).await;
    let mut found = Vec::new();
    score_keys(&audit, &mut found);
    assert!(found.is_empty(), "the audit trail shows scores before all sheets are in: {found:?}");
    assert!(!audit.to_string().contains(secret), "nor comments: {audit}");
    let member_audit = panel.tp.get(&panel.path("/audit")).await;
    let mut found = Vec::new();
    score_keys(&member_audit, &mut found);
    assert!(found.is_empty(), "{found:?}");

    // The third: every sheet opens, to members and staff alike, with exactly what was submitted.
    panel.save(&panel.ia, &ia, true).await;
    assert_eq!(panel.status().await, "consensus");
    for who in [&panel.lm.client, &panel.tp.client, &panel.ia.client, &app.admin, &panel.moderator.client] {
        let answer = who.get(&panel.path("/scores")).await;
        let sheets = sheets_of(&answer);
        let get = |r: &str| sheets.iter().find(|s| s.0 == r).and_then(|s| s.3.clone());
        assert_eq!(get("line_manager"), Some(lm.clone()), "{answer}");
        assert_eq!(get("training_provider"), Some(tp.clone()), "{answer}");
        assert_eq!(get("independent_assessor"), Some(ia.clone()), "{answer}");
        assert!(sheets.iter().all(|s| s.2), "all submitted: {answer}");
    }
});

both_backends!(drafts_merge_into_one_sheet, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let half = items.len() / 2;
    let first: Sheet = items[..half].iter().map(|i| (i.clone(), 2)).collect();
    let rest: Sheet = items[half..].iter().map(|i| (i.clone(), 4)).collect();
    let r = panel.save(&panel.lm, &first, false).await;
    assert_eq!(r["missing"].as_array().map(Vec::len), Some(items.len() - half), "{r}");
    let missing: Vec<Item> = r["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|m| Item::new(m["component"].as_str().expect("component"), m["criterion"].as_str().expect("criterion")))
        .collect();
    assert_eq!(missing, items[half..].to_vec(), "missing names the rest, in the guide's order");
    let r = panel.save(&panel.lm, &rest, false).await;
    assert_eq!(r["missing"], json!([]), "{r}");
    // A later value replaces an earlier one; submitting needs no items once the sheet is whole.
    panel.save(&panel.lm, &with(Sheet::new(), &[(&items[0], 5)]), false).await;
    let r = panel.lm.expect(200, "PUT", &panel.path("/scores"), json!({"scores": [], "submit": true})).await;
    assert_eq!(r["submitted"], true, "{r}");
    let answer = panel.lm.get(&panel.path("/scores")).await;
    let mine = sheets_of(&answer).into_iter().find(|s| s.0 == "line_manager").and_then(|s| s.3).expect("own sheet");
    let mut want = first.clone();
    want.extend(rest);
    want.insert(items[0].clone(), 5);
    assert_eq!(mine, want);
});
