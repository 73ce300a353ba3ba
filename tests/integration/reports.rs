//! The standardisation reports, computed by hand for a small standard and three decided
//! assessments (plus one still in consensus, which no report may show), and their filters.

use std::collections::BTreeSet;

use crate::app::*;
use serde_json::Value;

/// The guide the reports are computed for (kept here under its old name too).
pub use crate::app::REPORT_GUIDE;

const SCORE_COLUMNS: &str = "assessment_id,standard_id,apprentice_id,employer_id,training_provider_id,independent_assessor_id,decided_on,component,criterion,scorer_role,scorer_id,score,agreed_score,difference,decided_by,grade,moderation,apprentice_name,employer_name,training_provider_name,independent_assessor_name,standard_title";
const OUTCOME_COLUMNS: &str = "assessment_id,standard_id,apprentice_id,employer_id,training_provider_id,independent_assessor_id,decided_on,grade,weighted_score,items,unanimous_items,tie_breaks,moderation,released_at,apprentice_name,employer_name,training_provider_name,independent_assessor_name,standard_title,attempt,adjustments,amended";
const ASSESSOR_COLUMNS: &str = "scorer_id,name,role,assessments,items_scored,mean_difference,exact_agreement,adjacent_agreement,tie_breaks_decided,epas,lean,lean_low,lean_high,flag,tie_break_direction";
const INDEPENDENCE_COLUMNS: &str =
    "assessment_id,seat,scorer_id,first_saved_at,submitted_at,revealed_at,audit_seq,scorer_name";
const TREND_COLUMNS: &str = "period,by,id,name,assessments,grade_counts,mean_weighted_score,tie_breaks,mean_lean";
const AGREEMENT_COLUMNS: &str =
    "component,criterion,assessments,alpha_ordinal,exact_pairwise,adjacent_pairwise,kappa_lm_tp,kappa_lm_ia,kappa_tp_ia";

/// The scores of one assessment, item by item in the guide's order: [line manager, provider,
/// assessor], and the consensus (item index, agreed score; None = deadlock).
struct Day {
    scores: [[i64; 3]; 5],
    consensus: Vec<(usize, Option<i64>)>,
}

/// Takes a scheduled panel through scoring, consensus and decision.
async fn decide(panel: &Panel, day: &Day) -> Value {
    let items = panel.items();
    let seat = |n: usize| -> Sheet { items.iter().zip(day.scores.iter()).map(|(i, s)| (i.clone(), s[n])).collect() };
    panel.submit_all(&seat(0), &seat(1), &seat(2)).await;
    let consensus = day.consensus.iter().map(|(n, s)| agreed(&items[*n], *s, "agreed on the day")).collect();
    panel.agree(consensus, "notes").await;
    panel.record_viva().await;
    panel.decide().await
}

/// The value a number cell must show: rounded to 4 decimals. Also checks the cell has at most 4.
fn number(cell: &str) -> f64 {
    let decimals = cell.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(decimals <= 4, "{cell:?} has more than 4 decimals");
    assert!(!cell.contains(','), "{cell:?}: numbers use '.'");
    cell.parse().unwrap_or_else(|e| panic!("{cell:?} is not a number: {e}"))
}

fn assert_number(cell: &str, want: f64, what: &str) {
    let want = (want * 10_000.0).round() / 10_000.0;
    assert!((number(cell) - want).abs() < 1e-9, "{what}: {cell:?}, want {want}");
}

/// A name as the CSVs print it: formula-safe.
fn safe_name(name: &str) -> String {
    if name.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{name}")
    } else {
        name.to_string()
    }
}

/// No cell a spreadsheet would run as a formula.
fn assert_no_formula(csv: &Csv) {
    for row in &csv.rows {
        for (column, cell) in row {
            assert!(!cell.starts_with(['=', '+', '@']), "{column} = {cell:?} would run as a formula");
        }
    }
}

both_backends!(reports_match_a_hand_computation, |app| async move {
    let (status, _) = app.import_guide(REPORT_GUIDE).await;
    assert_eq!(status, 201);
    let std = app.standard("reporting-l4").await;
    let order: Vec<(&str, &str)> = std.items.iter().map(|i| (i.component.as_str(), i.criterion.as_str())).collect();
    assert_eq!(order, [("project", "S1"), ("project", "B1"), ("project", "S3"), ("viva", "K1"), ("viva", "B1")]);

    // A: released. p/S1 4 4 4 unanimous; p/B1 5 4 4 -> 4; p/S3 4 5 5 -> 5; v/K1 3 2 4 deadlock -> 4;
    // v/B1 3 3 3 unanimous. Agreed 4 4 5 | 4 3: Pass, 0.8 x 13/3 + 0.2 x 7/2 = 4.1667.
    let names =
        Names { line_manager: "=Lena Formula".into(), apprentice: "=HYPERLINK(\"x\")".into(), ..Names::default() };
    let a = app.panel_for("reporting-l4", names).await;
    let day_a = Day {
        scores: [[4, 4, 4], [5, 4, 4], [4, 5, 5], [3, 2, 4], [3, 3, 3]],
        consensus: vec![(1, Some(4)), (2, Some(5)), (3, None)],
    };
    let d = decide(&a, &day_a).await;
    assert_eq!(d["grade"], "Pass", "{d}");
    a.moderate("confirm", "Due process followed.").await;

    // B: decided, moderation pending. p/S1 5 5 4 -> 5; p/B1 2 3 3 -> 3; p/S3 3 3 3; v/K1 4 4 4;
    // v/B1 5 3 2 deadlock -> 2. Agreed 5 3 3 | 4 2: Not achieved, 0.8 x 11/3 + 0.2 x 3 = 3.5333.
    // B's people have names that need quoting and UTF-8.
    let names =
        Names { training_provider: "Tutor, \"Tom\"".into(), assessor: "Zoë Ödegaard".into(), ..Names::default() };
    let b = app.panel_for("reporting-l4", names).await;
    let day_b = Day {
        scores: [[5, 5, 4], [2, 3, 3], [3, 3, 3], [4, 4, 4], [5, 3, 2]],
        consensus: vec![(0, Some(5)), (1, Some(3)), (4, None)],
    };
    let d = decide(&b, &day_b).await;
    assert_eq!(d["grade"], "Not achieved", "{d}");

    // C: A's people again, another apprentice; decided, pending. All 3 but p/S1 4 3 3 -> 3.
    let mut people = a.people.clone();
    people.apprentice = app.apprentice("Cat Second", &a.employer_id, &a.provider_id).await;
    let c = people.register(app, "reporting-l4").await;
    c.pass_gateway().await;
    c.appoint().await;
    c.declare().await;
    let day_c = Day { scores: [[4, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]], consensus: vec![(0, Some(3))] };
    let d = decide(&c, &day_c).await;
    assert_eq!(d["grade"], "Pass", "{d}");

    // D: sheets in, still in consensus: in no report.
    let dd = app.panel_for("reporting-l4", Names::default()).await;
    let all4 = sheet(dd.items(), 4);
    dd.submit_all(&all4, &with(all4.clone(), &[(&dd.items()[0], 2)]), &all4).await;

    let today = chrono::Utc::now().date_naive();
    let today_s = today.format("%Y-%m-%d").to_string();

    // ---- scores.csv: one row per score, 15 per decided assessment.
    let response = a.moderator.send("GET", "/api/v1/reports/scores.csv", None).await;
    assert!(
        response.text.trim_start_matches('\u{feff}').starts_with(&format!("{SCORE_COLUMNS}\r\n")),
        "RFC 4180 header + CRLF: {:?}",
        &response.text[..response.text.len().min(300)]
    );
    let scores = app.admin.csv("/api/v1/reports/scores.csv").await;
    assert_eq!(scores.header.join(","), SCORE_COLUMNS);
    assert_eq!(scores.rows.len(), 45, "three decided assessments x 5 items x 3 scorers");
    assert!(scores.rows_where("assessment_id", &dd.id).is_empty(), "an undecided assessment is in no report");
    assert_no_formula(&scores);
    let decided_by = |day: &Day, n: usize| -> &'static str {
        match day.consensus.iter().find(|(i, _)| *i == n) {
            Some((_, None)) => "independent_assessor",
            Some((_, Some(s))) if day.scores[n].iter().all(|x| x == s) => "unanimous",
            Some(_) => "consensus",
            None => "unanimous",
        }
    };
    let agreed_of = |day: &Day, n: usize| -> i64 {
        match day.consensus.iter().find(|(i, _)| *i == n) {
            Some((_, Some(s))) => *s,
            Some((_, None)) => day.scores[n][2],
            None => day.scores[n][0],
        }
    };
    // Names beside ids: the organisations are named "Northgate Homes n" / "Riverside Training n"
    // by the test's builder; A and C share them, B has its own.
    let org_names = |panel: &Panel| -> (String, String) {
        let r = scores.rows_where("assessment_id", &panel.id)[0];
        assert!(r["employer_name"].starts_with("Northgate Homes "), "{r:?}");
        assert!(r["training_provider_name"].starts_with("Riverside Training "), "{r:?}");
        (r["employer_name"].clone(), r["training_provider_name"].clone())
    };
    assert_eq!(org_names(&a), org_names(&c));
    assert_ne!(org_names(&a), org_names(&b));
    for (panel, day, grade, moderation, apprentice_name, assessor_name) in [
        (&a, &day_a, "Pass", "confirmed", "'=HYPERLINK(\"x\")", "Iris Independent"),
        (&b, &day_b, "Not achieved", "pending", "Amy Apprentice", "Zoë Ödegaard"),
        (&c, &day_c, "Pass", "pending", "Cat Second", "Iris Independent"),
    ] {
        let (employer_name, provider_name) = org_names(panel);
        let mut want = BTreeSet::new();
        for (n, item) in panel.items().iter().enumerate() {
            for (seat, (role, member)) in
                [("line_manager", &panel.lm), ("training_provider", &panel.tp), ("independent_assessor", &panel.ia)]
                    .into_iter()
                    .enumerate()
            {
                let score = day.scores[n][seat];
                let agreed = agreed_of(day, n);
                want.insert(vec![
                    panel.id.clone(),
                    "reporting-l4".into(),
                    panel.apprentice.id.clone(),
                    panel.employer_id.clone(),
                    panel.provider_id.clone(),
                    panel.ia.id.clone(),
                    today_s.clone(),
                    item.component.clone(),
                    item.criterion.clone(),
                    role.into(),
                    member.id.clone(),
                    score.to_string(),
                    agreed.to_string(),
                    (score - agreed).to_string(),
                    decided_by(day, n).into(),
                    grade.into(),
                    moderation.into(),
                    apprentice_name.into(),
                    employer_name.clone(),
                    provider_name.clone(),
                    assessor_name.into(),
                    "Reporting Standard".into(),
                ]);
            }
        }
        let got: BTreeSet<Vec<String>> = scores
            .rows_where("assessment_id", &panel.id)
            .iter()
            .map(|r| scores.header.iter().map(|h| r[h].clone()).collect())
            .collect();
        assert_eq!(got, want, "scores.csv rows of assessment {}", panel.id);
    }

    // ---- outcomes.csv: one row per decided assessment.
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    assert_eq!(outcomes.header.join(","), OUTCOME_COLUMNS);
    assert_eq!(outcomes.rows.len(), 3, "{outcomes:?}");
    assert_no_formula(&outcomes);
    let released_at = a.view().await["released_at"].as_str().unwrap_or_default().to_string();
    for (panel, grade, weighted, unanimous, tie_breaks, moderation) in [
        (&a, "Pass", 0.8 * 13.0 / 3.0 + 0.2 * 3.5, "2", "1", "confirmed"),
        (&b, "Not achieved", 0.8 * 11.0 / 3.0 + 0.2 * 3.0, "2", "1", "pending"),
        (&c, "Pass", 3.0, "4", "0", "pending"),
    ] {
        let rows = outcomes.rows_where("assessment_id", &panel.id);
        assert_eq!(rows.len(), 1, "{}: {outcomes:?}", panel.id);
        let r = rows[0];
        assert_eq!(r["standard_id"], "reporting-l4");
        assert_eq!(r["apprentice_id"], panel.apprentice.id);
        assert_eq!(r["employer_id"], panel.employer_id);
        assert_eq!(r["training_provider_id"], panel.provider_id);
        assert_eq!(r["independent_assessor_id"], panel.ia.id);
        assert_eq!(r["decided_on"], today_s);
        assert_eq!(r["grade"], grade);
        assert_number(&r["weighted_score"], weighted, "weighted_score");
        assert_eq!(r["items"], "5");
        assert_eq!(r["unanimous_items"], unanimous, "{r:?}");
        assert_eq!(r["tie_breaks"], tie_breaks, "{r:?}");
        assert_eq!(r["moderation"], moderation, "{r:?}");
        assert_eq!(r["attempt"], "1", "every assessment is a first attempt: {r:?}");
        assert_eq!(r["adjustments"], "0", "none recorded: {r:?}");
        assert_eq!(r["amended"], "false", "no appeal: {r:?}");
        let score_row = scores.rows_where("assessment_id", &panel.id)[0];
        for column in [
            "apprentice_name",
            "employer_name",
            "training_provider_name",
            "independent_assessor_name",
            "standard_title",
        ] {
            assert_eq!(r[column], score_row[column], "{column} the same in both reports: {r:?}");
        }
        if moderation == "confirmed" {
            assert!(!r["released_at"].is_empty() && r["released_at"].ends_with('Z'), "{r:?}");
            assert!(r["released_at"].starts_with(&today_s), "{r:?}");
            assert!(released_at.is_empty() || released_at == r["released_at"], "{released_at} vs {r:?}");
        } else {
            assert_eq!(r["released_at"], "", "{r:?}");
        }
    }
    assert_eq!(outcomes.rows_where("assessment_id", &a.id)[0]["weighted_score"], "4.1667");

    // ---- assessors.csv: one row per scorer.
    // A's line manager over A and C: differences 0 +1 -1 -1 0 and +1 0 0 0 0: mean 0, exact 6/10,
    // adjacent 10/10. A's provider: 0 0 0 -2 0 and 0s: mean -0.2, exact 0.9, adjacent 0.9.
    // A's assessor: all 0, one deadlock decided. B's line manager: 0 -1 0 0 +3: mean 0.4,
    // exact 0.6, adjacent 0.8; B's provider: 0 0 0 0 +1: 0.2, 0.8, 1; B's assessor: -1 0 0 0 0:
    // -0.2, 0.8, 1, one deadlock decided.
    let assessors = app.admin.csv("/api/v1/reports/assessors.csv").await;
    assert_eq!(assessors.header.join(","), ASSESSOR_COLUMNS);
    assert_no_formula(&assessors);
    let want = vec![
        (&a.lm, "'=Lena Formula", "line_manager", "2", "10", 0.0, 0.6, 1.0, "0"),
        (&a.tp, "Tom Tutor", "training_provider", "2", "10", -0.2, 0.9, 0.9, "0"),
        (&a.ia, "Iris Independent", "independent_assessor", "2", "10", 0.0, 1.0, 1.0, "1"),
        (&b.lm, "Lena Line", "line_manager", "1", "5", 0.4, 0.6, 0.8, "0"),
        (&b.tp, "Tutor, \"Tom\"", "training_provider", "1", "5", 0.2, 0.8, 1.0, "0"),
        (&b.ia, "Zoë Ödegaard", "independent_assessor", "1", "5", -0.2, 0.8, 1.0, "1"),
    ];
    assert_eq!(assessors.rows.len(), want.len(), "one row per scorer, none for D's panel: {assessors:?}");
    for (member, name, role, n, items, mean, exact, adjacent, tie_breaks) in want {
        let rows = assessors.rows_where("scorer_id", &member.id);
        assert_eq!(rows.len(), 1, "{}: {assessors:?}", member.name);
        let r = rows[0];
        assert_eq!(r["name"], name, "the name column is neutralised: {r:?}");
        assert_eq!(r["role"], role, "{r:?}");
        assert_eq!(r["assessments"], n, "{r:?}");
        assert_eq!(r["items_scored"], items, "{r:?}");
        assert_number(&r["mean_difference"], mean, &format!("{} mean_difference", member.name));
        assert_number(&r["exact_agreement"], exact, &format!("{} exact_agreement", member.name));
        assert_number(&r["adjacent_agreement"], adjacent, &format!("{} adjacent_agreement", member.name));
        assert_eq!(r["tie_breaks_decided"], tie_breaks, "{r:?}");
    }

    // Leans: A's panel sat on A and C, B's on B only, so each panel is its own group, centred on
    // its median member. Every cell is complete, so a lean is the mean of (own score − the
    // cell's mean), less the median's. A and C: line manager +2/30 (0 +2/3 −2/3 0 0 | +2/3 0…),
    // provider −4/30, assessor +2/30 → 0, −0.2, 0. B: +4/15, +1/15, −5/15 → +0.2, 0, −0.4.
    // Fewer than five assessments: all too_few; an interval needs two assessments.
    for (member, epas, lean, interval) in [
        (&a.lm, "2", 0.0, true),
        (&a.tp, "2", -0.2, true),
        (&a.ia, "2", 0.0, true),
        (&b.lm, "1", 0.2, false),
        (&b.tp, "1", 0.0, false),
        (&b.ia, "1", -0.4, false),
    ] {
        let r = assessors.rows_where("scorer_id", &member.id)[0];
        assert_eq!(r["epas"], epas, "{r:?}");
        assert_number(&r["lean"], lean, &format!("{} lean", member.name));
        assert_eq!(r["flag"], "too_few", "{r:?}");
        if interval {
            assert!(number(&r["lean_low"]) <= lean + 1e-4 && lean - 1e-4 <= number(&r["lean_high"]), "{r:?}");
        } else {
            assert_eq!((r["lean_low"].as_str(), r["lean_high"].as_str()), ("", ""), "{r:?}");
        }
    }

    // Tie-breaks with their direction: A's assessor decided v/K1 with 4 against 3 and 2 (+1.5);
    // B's assessor decided v/B1 with 2 against 5 and 3 (−2). Nobody else broke a tie.
    for (member, direction) in [(&a.ia, "1.5"), (&b.ia, "-2"), (&a.lm, ""), (&b.tp, "")] {
        let r = assessors.rows_where("scorer_id", &member.id)[0];
        assert_eq!(r["tie_break_direction"], direction, "{r:?}");
    }

    // ---- agreement.csv: one row per score item in the guide's order, then `all`.
    let agreement = app.admin.csv("/api/v1/reports/agreement.csv").await;
    assert_eq!(agreement.header.join(","), AGREEMENT_COLUMNS);
    let keys: Vec<(String, String)> =
        agreement.rows.iter().map(|r| (r["component"].clone(), r["criterion"].clone())).collect();
    let mut want_keys: Vec<(String, String)> = order.iter().map(|(c, k)| (c.to_string(), k.to_string())).collect();
    want_keys.push(("all".into(), "all".into()));
    assert_eq!(keys, want_keys);
    // viva/B1 scored [3,3,3], [5,3,2], [3,3,3]. Coincidences: o33 = 6, and ½ each for 5–3, 5–2,
    // 3–2 both ways; marginals n2 = 1, n3 = 7, n5 = 1, n = 9. Ordinal δ²: 2–3 16, 3–5 16, 2–5 64.
    // alpha = 1 − 8 · 96 / 576 = −1/3. Pairs equal 6 of 9, within one 7 of 9. Kappa (quadratic):
    // lm–tp observed 4, expected 4 → 0; lm–ia 9 against 19/3 → −8/19; tp–ia 1 against 1 → 0.
    let b1 = agreement.rows.iter().find(|r| r["component"] == "viva" && r["criterion"] == "B1").expect("viva B1");
    assert_eq!(b1["assessments"], "3");
    assert_number(&b1["alpha_ordinal"], -1.0 / 3.0, "alpha viva/B1");
    assert_number(&b1["exact_pairwise"], 6.0 / 9.0, "exact viva/B1");
    assert_number(&b1["adjacent_pairwise"], 7.0 / 9.0, "adjacent viva/B1");
    assert_number(&b1["kappa_lm_tp"], 0.0, "kappa lm–tp");
    assert_number(&b1["kappa_lm_ia"], -8.0 / 19.0, "kappa lm–ia");
    assert_number(&b1["kappa_tp_ia"], 0.0, "kappa tp–ia");
    // Over everything: each of the 15 cells gives three pairs of seats.
    let (mut pairs, mut exact, mut adjacent) = (0, 0, 0);
    for day in [&day_a, &day_b, &day_c] {
        for cell in &day.scores {
            for (x, y) in [(0, 1), (0, 2), (1, 2)] {
                pairs += 1;
                exact += i32::from(cell[x] == cell[y]);
                adjacent += i32::from((cell[x] - cell[y]).abs() <= 1);
            }
        }
    }
    let all = agreement.rows.last().expect("the all row");
    assert_eq!(all["assessments"], "3");
    assert_number(&all["exact_pairwise"], f64::from(exact) / f64::from(pairs), "exact overall");
    assert_number(&all["adjacent_pairwise"], f64::from(adjacent) / f64::from(pairs), "adjacent overall");
    let alpha = number(&all["alpha_ordinal"]);
    assert!((-1.0..=1.0).contains(&alpha), "{all:?}");

    // ---- independence.csv: one row per submitted sheet of a decided assessment; the audit trail
    // says when each sheet was submitted and by which entry.
    let independence = app.admin.csv("/api/v1/reports/independence.csv").await;
    assert_eq!(independence.header.join(","), INDEPENDENCE_COLUMNS);
    assert_eq!(independence.rows.len(), 9, "three decided assessments x three sheets: {independence:?}");
    for panel in [&a, &b, &c] {
        let trail = panel.ia.get(&panel.path("/audit")).await;
        let submissions: Vec<&Value> =
            trail.as_array().expect("a trail").iter().filter(|e| e["action"] == "score_sheet.submitted").collect();
        assert_eq!(submissions.len(), 3, "{trail}");
        let last_at = submissions.iter().map(|e| e["at"].as_str().unwrap_or_default()).max().unwrap_or_default();
        let rows = independence.rows_where("assessment_id", &panel.id);
        assert_eq!(rows.len(), 3);
        for (seat, member) in
            [("line_manager", &panel.lm), ("training_provider", &panel.tp), ("independent_assessor", &panel.ia)]
        {
            let r = rows.iter().find(|r| r["seat"] == seat).unwrap_or_else(|| panic!("{seat}: {rows:?}"));
            assert_eq!(r["scorer_id"], member.id);
            assert_eq!(r["scorer_name"], safe_name(&member.name), "{r:?}");
            let entry = submissions.iter().find(|e| e["actor_id"] == member.id.as_str()).expect("their submission");
            assert_eq!(r["audit_seq"], entry["seq"].to_string(), "{r:?} vs {entry}");
            // The sheet's time, taken a moment before its audit entry in the same transaction.
            let entry_at = entry["at"].as_str().unwrap_or_default();
            assert!(!r["submitted_at"].is_empty() && r["submitted_at"].as_str() <= entry_at, "{r:?}");
            let last_submitted = rows.iter().map(|r| r["submitted_at"].as_str()).max().unwrap_or_default();
            assert_eq!(r["revealed_at"], last_submitted, "revealed when the last sheet came in: {r:?}");
            assert!(r["revealed_at"].as_str() <= last_at, "{r:?}");
            assert!(r["first_saved_at"] <= r["submitted_at"] && r["submitted_at"] <= r["revealed_at"], "{r:?}");
        }
    }
    assert!(independence.rows_where("assessment_id", &dd.id).is_empty(), "an undecided assessment is in no report");

    // ---- filters.
    let ids = |csv: &Csv| -> BTreeSet<String> { csv.rows.iter().map(|r| r["assessment_id"].clone()).collect() };
    let set = |list: &[&Panel]| -> BTreeSet<String> { list.iter().map(|p| p.id.clone()).collect() };
    let tomorrow = today.succ_opt().expect("a tomorrow").format("%Y-%m-%d").to_string();
    let yesterday = today.pred_opt().expect("a yesterday").format("%Y-%m-%d").to_string();
    let cases: Vec<(String, Vec<&Panel>)> = vec![
        (format!("from={today_s}"), vec![&a, &b, &c]),
        (format!("to={today_s}"), vec![&a, &b, &c]),
        (format!("from={today_s}&to={today_s}"), vec![&a, &b, &c]),
        (format!("from={yesterday}&to={today_s}"), vec![&a, &b, &c]),
        (format!("from={tomorrow}"), vec![]),
        (format!("to={yesterday}"), vec![]),
        (format!("employer_id={}", a.employer_id), vec![&a, &c]),
        (format!("employer_id={}", b.employer_id), vec![&b]),
        (format!("training_provider_id={}", b.provider_id), vec![&b]),
        (format!("assessor_id={}", a.ia.id), vec![&a, &c]),
        (format!("assessor_id={}", b.ia.id), vec![&b]),
        (format!("assessor_id={}", dd.ia.id), vec![]),
        ("standard_id=reporting-l4".to_string(), vec![&a, &b, &c]),
        (format!("standard_id={STANDARD}"), vec![]),
        (format!("employer_id={}&assessor_id={}", a.employer_id, b.ia.id), vec![]),
        (format!("from={today_s}&employer_id={}&standard_id=reporting-l4", b.employer_id), vec![&b]),
    ];
    for (query, want) in cases {
        let s = app.admin.csv(&format!("/api/v1/reports/scores.csv?{query}")).await;
        assert_eq!(s.header.join(","), SCORE_COLUMNS, "{query}: the header even with no rows");
        assert_eq!(ids(&s), set(&want), "scores.csv?{query}");
        assert_eq!(s.rows.len(), 15 * want.len(), "scores.csv?{query}");
        let o = a.moderator.csv(&format!("/api/v1/reports/outcomes.csv?{query}")).await;
        assert_eq!(o.header.join(","), OUTCOME_COLUMNS, "{query}");
        assert_eq!(ids(&o), set(&want), "outcomes.csv?{query}");
        assert_eq!(o.rows.len(), want.len(), "outcomes.csv?{query}");
        let s_ = app.admin.csv(&format!("/api/v1/reports/assessors.csv?{query}")).await;
        assert_eq!(s_.header.join(","), ASSESSOR_COLUMNS, "{query}");
        let scorers: BTreeSet<String> = s_.rows.iter().map(|r| r["scorer_id"].clone()).collect();
        let want_scorers: BTreeSet<String> =
            want.iter().flat_map(|p| [p.lm.id.clone(), p.tp.id.clone(), p.ia.id.clone()]).collect();
        assert_eq!(scorers, want_scorers, "assessors.csv?{query}");
    }
    // Filtered to A's employer, A's line manager still counts both A and C.
    let only_a = app.admin.csv(&format!("/api/v1/reports/assessors.csv?employer_id={}", a.employer_id)).await;
    let lm = only_a.rows_where("scorer_id", &a.lm.id);
    assert_eq!(lm.len(), 1);
    assert_eq!(lm[0]["assessments"], "2");

    // Bad filters: 400 naming the parameter.
    let e = app.admin.refused(400, "GET", "/api/v1/reports/scores.csv?from=yesterday", Value::Null).await;
    assert!(e.message.contains("from"), "{e:?}");
    let e = app.admin.refused(400, "GET", "/api/v1/reports/outcomes.csv?from=2026-13-01", Value::Null).await;
    assert!(e.message.contains("from"), "{e:?}");
    let e = app.admin.refused(400, "GET", "/api/v1/reports/assessors.csv?to=01/02/2026", Value::Null).await;
    assert!(e.message.contains("to"), "{e:?}");
    // ---- trends.csv: the decisions moved to 10 February (A), 3 April (C) and 20 May (B) 2026.
    {
        use diesel::connection::SimpleConnection;
        let mut conn = app.connect();
        for (panel, at) in [(&a, "2026-02-10T10:00:00Z"), (&c, "2026-04-03T09:30:00Z"), (&b, "2026-05-20T16:45:00Z")] {
            conn.batch_execute(&format!("UPDATE assessments SET decided_at = '{at}' WHERE id = '{}'", panel.id))
                .expect("moving a decision date");
        }
    }
    let (w_a, w_b, w_c) = (0.8 * 13.0 / 3.0 + 0.2 * 3.5, 0.8 * 11.0 / 3.0 + 0.2 * 3.0, 3.0);
    let (org_a, org_b) = (org_names(&a), org_names(&b));
    // (period, by, id, name, assessments, grade_counts, mean_weighted_score, tie_breaks, mean_lean)
    type Want<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, f64, &'a str, &'a str);
    async fn check(admin: &Client, query: &str, mut want: Vec<Want<'_>>) {
        let got = admin.csv(&format!("/api/v1/reports/trends.csv{query}")).await;
        assert_eq!(got.header.join(","), TREND_COLUMNS, "{query}");
        assert_no_formula(&got);
        // Rows come ordered by period, then name, then id.
        want.sort_by(|x, y| (x.0, x.3, x.2).cmp(&(y.0, y.3, y.2)));
        assert_eq!(got.rows.len(), want.len(), "{query}: {got:?}");
        for (r, w) in got.rows.iter().zip(&want) {
            let cells = (
                r["period"].as_str(),
                r["by"].as_str(),
                r["id"].as_str(),
                r["name"].as_str(),
                r["assessments"].as_str(),
                r["grade_counts"].as_str(),
            );
            assert_eq!(cells, (w.0, w.1, w.2, w.3, w.4, w.5), "{query}: {r:?}");
            assert_number(&r["mean_weighted_score"], w.6, &format!("{query}: mean_weighted_score of {r:?}"));
            assert_eq!(r["tie_breaks"], w.7, "{query}: {r:?}");
            if w.8.is_empty() {
                assert_eq!(r["mean_lean"], "", "{query}: {r:?}");
            } else {
                assert_number(&r["mean_lean"], w.8.parse().unwrap(), &format!("{query}: mean_lean of {r:?}"));
            }
        }
    }
    let std_title = "Reporting Standard";
    let (pass, fail) = ("Not achieved=0;Pass=1;Distinction=0", "Not achieved=1;Pass=0;Distinction=0");
    // Defaults: by month and standard; a standard has no lean. A broke one tie (v/K1), B one
    // (v/B1), C none.
    let by_month = vec![
        ("2026-02", "standard", "reporting-l4", std_title, "1", pass, w_a, "1", ""),
        ("2026-04", "standard", "reporting-l4", std_title, "1", pass, w_c, "0", ""),
        ("2026-05", "standard", "reporting-l4", std_title, "1", fail, w_b, "1", ""),
    ];
    check(&app.admin, "", by_month.clone()).await;
    check(&app.admin, "?period=month&by=standard", by_month).await;
    // By quarter and assessor, leans estimated within each quarter. Q1 holds A alone: against
    // the cell means the line manager is 0, the provider −1/5, the assessor +1/5; centred on the
    // median (0) Iris leans +0.2. Q2 holds C (A's people) and B (their own), two unlinked groups.
    // C: line manager +2/15, provider −1/15, assessor −1/15, median −1/15 → Iris 0. B: +4/15,
    // +1/15, −5/15, median +1/15 → Zoë −0.4.
    check(
        &app.admin,
        "?period=quarter&by=assessor",
        vec![
            ("2026-Q1", "assessor", &a.ia.id, "Iris Independent", "1", pass, w_a, "1", "0.2"),
            ("2026-Q2", "assessor", &a.ia.id, "Iris Independent", "1", pass, w_c, "0", "0"),
            ("2026-Q2", "assessor", &b.ia.id, "Zoë Ödegaard", "1", fail, w_b, "1", "-0.4"),
        ],
    )
    .await;
    // By month and employer: each assessment's line manager's lean in that month — A's 0 in
    // February (A alone), +0.2 in April (C alone: +2/15 less the median's −1/15); B's +0.2.
    check(
        &app.admin,
        "?by=employer",
        vec![
            ("2026-02", "employer", &a.employer_id, &org_a.0, "1", pass, w_a, "1", "0"),
            ("2026-04", "employer", &a.employer_id, &org_a.0, "1", pass, w_c, "0", "0.2"),
            ("2026-05", "employer", &b.employer_id, &org_b.0, "1", fail, w_b, "1", "0.2"),
        ],
    )
    .await;
    // By year: the leans of the whole year, as assessors.csv has them (A's line manager 0 and
    // provider −0.2; B's line manager +0.2 and provider 0); A and C share their organisations.
    check(
        &app.admin,
        "?period=year&by=employer",
        vec![
            (
                "2026",
                "employer",
                &a.employer_id,
                &org_a.0,
                "2",
                "Not achieved=0;Pass=2;Distinction=0",
                (w_a + w_c) / 2.0,
                "1",
                "0",
            ),
            ("2026", "employer", &b.employer_id, &org_b.0, "1", fail, w_b, "1", "0.2"),
        ],
    )
    .await;
    check(
        &app.admin,
        "?by=training_provider&period=year",
        vec![
            (
                "2026",
                "training_provider",
                &a.provider_id,
                &org_a.1,
                "2",
                "Not achieved=0;Pass=2;Distinction=0",
                (w_a + w_c) / 2.0,
                "1",
                "-0.2",
            ),
            ("2026", "training_provider", &b.provider_id, &org_b.1, "1", fail, w_b, "1", "0"),
        ],
    )
    .await;
    // With the report filters: from 1 April, Q2 only (B and C).
    check(
        &app.admin,
        "?period=quarter&from=2026-04-01&to=2026-06-30",
        vec![(
            "2026-Q2",
            "standard",
            "reporting-l4",
            std_title,
            "2",
            "Not achieved=1;Pass=1;Distinction=0",
            (w_b + w_c) / 2.0,
            "1",
            "",
        )],
    )
    .await;
    check(&app.admin, "?period=year&from=2026-06-01", vec![]).await;
    // A bad or repeated choice: 400 naming it in words.
    let e = app.admin.refused(400, "GET", "/api/v1/reports/trends.csv?period=week", Value::Null).await;
    assert_eq!(e.message, "The period (period) must be one of month, quarter, year; \"week\" is not one.", "{e:?}");
    let e = app.admin.refused(400, "GET", "/api/v1/reports/trends.csv?by=apprentice", Value::Null).await;
    assert!(
        e.message.starts_with("The grouping (by) must be one of standard, employer, training_provider, assessor"),
        "{e:?}"
    );
    let e = app
        .admin
        .refused(400, "GET", "/api/v1/reports/trends.csv?by=standard&period=year&by=assessor", Value::Null)
        .await;
    assert_eq!(e.message, "The grouping (by) is given more than once; give it once.", "{e:?}");
    let e = app.admin.refused(400, "GET", "/api/v1/reports/trends.csv?period=year&period=year", Value::Null).await;
    assert!(e.message.contains("(period) is given more than once"), "{e:?}");
    let e = app.admin.refused(400, "GET", "/api/v1/reports/trends.csv?from=2026-2-1", Value::Null).await;
    assert!(e.message.contains("(from)"), "{e:?}");
});

both_backends!(empty_reports_still_have_their_header, |app| async move {
    // Nothing decided yet: a scheduled panel does not count.
    let _panel = app.panel().await;
    for (report, header) in [
        ("scores", SCORE_COLUMNS),
        ("outcomes", OUTCOME_COLUMNS),
        ("assessors", ASSESSOR_COLUMNS),
        ("independence", INDEPENDENCE_COLUMNS),
        ("trends", TREND_COLUMNS),
    ] {
        let r = app.admin.send("GET", &format!("/api/v1/reports/{report}.csv"), None).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.content_type.starts_with("text/csv"), "{report}: {r:?}");
        let csv = Csv::parse(&r.text);
        assert_eq!(csv.header.join(","), header, "{report}");
        assert!(csv.rows.is_empty(), "{report}: {r:?}");
    }
    // Agreement has its overall row, every figure empty (undefined), never NaN.
    let agreement = app.admin.csv("/api/v1/reports/agreement.csv").await;
    assert_eq!(agreement.header.join(","), AGREEMENT_COLUMNS);
    assert_eq!(agreement.rows.len(), 1, "{agreement:?}");
    let all = &agreement.rows[0];
    assert_eq!(
        (all["component"].as_str(), all["criterion"].as_str(), all["assessments"].as_str()),
        ("all", "all", "0")
    );
    for column in ["alpha_ordinal", "exact_pairwise", "adjacent_pairwise", "kappa_lm_tp", "kappa_lm_ia", "kappa_tp_ia"]
    {
        assert_eq!(all[column], "", "{column}: {all:?}");
    }
});
