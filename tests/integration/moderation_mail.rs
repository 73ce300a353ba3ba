//! Moderation and the outcome email: refer back (no email, grade cleared, the last consensus
//! stands), decide again, confirm (released, three emails); and mail without an SMTP server.

use std::time::Duration;

use crate::app::*;
use crate::panel_day::{has_iso_date, has_word};
use serde_json::json;

both_backends!(refer_back_reopens_the_consensus_and_sends_nothing, |app| async move {
    let panel = app.panel().await;
    let items = panel.items().to_vec();
    let x = &items[1];
    let all4 = sheet(&items, 4);
    panel.submit_all(&with(all4.clone(), &[(x, 5)]), &with(all4.clone(), &[(x, 3)]), &all4).await;
    panel.agree(vec![agreed(x, Some(4), "met it, with one example beyond")], "first").await;
    panel.record_viva().await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Distinction", "{d}");
    let path = panel.path("/moderation");

    // refer_back needs a rationale; nothing changes when it is missing.
    for rationale in [json!(""), json!("   ")] {
        let e =
            panel.moderator.refused(400, "POST", &path, json!({"action": "refer_back", "rationale": rationale})).await;
        assert!(e.message.contains("rationale"), "{e:?}");
    }
    let e = panel.moderator.refused(400, "POST", &path, json!({"action": "refer_back"})).await;
    assert!(e.message.contains("rationale"), "{e:?}");
    assert_eq!(panel.status().await, "decided");

    let m = panel.moderate("refer_back", "Explain why criterion two exceeds the standard.").await;
    assert_eq!(m, json!({"status": "consensus", "action": "refer_back"}));
    let view = panel.view().await;
    assert_eq!(view["status"], "consensus", "{view}");
    assert!(view["grade"].is_null() && view["weighted_score"].is_null(), "cleared until the next decision: {view}");
    assert_eq!(view["emails"], json!([]), "{view}");
    panel.moderator.expect(409, "POST", &path, json!({"action": "confirm", "rationale": "too soon"})).await;
    let outcomes = app.admin.csv("/api/v1/reports/outcomes.csv").await;
    assert!(outcomes.rows_where("assessment_id", &panel.id).is_empty(), "referred back: in no report: {outcomes:?}");

    // The last consensus stands until replaced: deciding again gives the same.
    let again = panel.decide().await;
    assert_eq!(again["grade"], "Distinction", "{again}");
    panel.moderate("refer_back", "Now agree that item again, with evidence.").await;
    // A new consensus, a new decision.
    panel.agree(vec![agreed(x, Some(3), "on reflection only meets it")], "revisited after moderation").await;
    let d = panel.decide().await;
    assert_eq!(d["grade"], "Pass", "{d}");
    assert_eq!(Panel::agreed_of(&d)[x], (3, "consensus".into()));
    let view = panel.view().await;
    assert_eq!((view["status"].as_str(), view["grade"].as_str()), (Some("decided"), Some("Pass")), "{view}");

    app.deliver_now().await;
    assert!(app.emails().is_empty(), "no email before confirm: {:#?}", app.emails());
    assert_eq!(panel.view().await["emails"], json!([]));

    panel.moderate("confirm", "Due process followed.").await;
    let view = panel.view().await;
    assert_eq!(view["status"], "released", "{view}");
    // Times are RFC 3339 UTC with a Z (released_at is not in the contract: checked when shown).
    if let Some(released_at) = view["released_at"].as_str() {
        assert!(chrono::DateTime::parse_from_rfc3339(released_at).is_ok() && released_at.ends_with('Z'), "{view}");
    }
    let emails = app.wait_for_emails(3).await;
    assert_eq!(emails.len(), 3, "{emails:#?}");
    for e in &emails {
        assert!(has_word(&e.text, "Pass") && !e.all_text().contains("Distinction"), "the confirmed grade only: {e:#?}");
    }
    let statuses = panel.wait_for_email_status("sent").await;
    assert_eq!(statuses.len(), 3);
    let mut to: Vec<&str> = statuses.iter().map(|e| e["to"].as_str().expect("to")).collect();
    to.sort();
    let mut want = vec![panel.apprentice.email.as_str(), panel.lm.email.as_str(), panel.tp.email.as_str()];
    want.sort();
    assert_eq!(to, want);
    assert!(statuses.iter().all(|e| e["status"] == "sent"), "{statuses:?}");

    // Released is final.
    panel.moderator.expect(409, "POST", &path, json!({"action": "refer_back", "rationale": "late"})).await;
    // The audit trail tells the story.
    let audit = app.admin.get(&panel.path("/audit")).await;
    let actions: Vec<&str> = audit.as_array().expect("audit").iter().filter_map(|e| e["action"].as_str()).collect();
    let moderation: Vec<&&str> = actions.iter().filter(|a| a.contains("moderat")).collect();
    assert_eq!(moderation.len(), 3, "two refer-backs and a confirm: {actions:?}");
    assert!(audit.to_string().contains("Explain why criterion two exceeds the standard."), "the rationale is kept");
});

both_backends!(without_smtp_outcomes_are_written_as_eml_files, |b| b.mail_to_files(), |app| async move {
    assert!(app.smtp.is_none());
    let panel = app.panel().await;
    let d = panel.release_unanimous(4).await;
    assert_eq!(d["grade"], "Distinction", "{d}");
    let statuses = panel.wait_for_email_status("written").await;
    assert_eq!(statuses.len(), 3, "{statuses:?}");
    assert!(statuses.iter().all(|e| e["status"] == "written"), "{statuses:?}");
    assert_eq!(app.eml_files().len(), 3, "three .eml files in {}", app.mail_dir.display());
    let emails = app.emails();
    let mut to: Vec<String> = emails.iter().flat_map(|e| e.to.clone()).collect();
    to.sort();
    let mut want = vec![panel.apprentice.email.clone(), panel.lm.email.clone(), panel.tp.email.clone()];
    want.sort();
    assert_eq!(to, want);
    for e in &emails {
        assert!(has_word(&e.subject, "Distinction") && e.text.contains(STANDARD_TITLE), "{e:#?}");
        assert!(e.html.contains("<strong>Distinction</strong>"), "plain and HTML alternatives: {e:#?}");
    }
});

both_backends!(a_failing_smtp_server_never_undoes_the_confirm, |app| async move {
    let smtp = app.smtp.clone().expect("an SMTP sink");
    smtp.refuse(true);
    let panel = app.panel().await;
    panel.release_unanimous(3).await;
    assert_eq!(panel.status().await, "released", "the confirm stands");
    app.deliver_now().await;
    let emails = panel.view().await["emails"].as_array().cloned().unwrap_or_default();
    assert_eq!(emails.len(), 3, "{emails:?}");
    assert!(
        emails.iter().all(|e| e["status"] == "pending"),
        "refused for now: still pending, to be retried: {emails:?}"
    );
    assert!(app.emails().is_empty());

    // The server recovers: the retry delivers.
    smtp.refuse(false);
    let statuses = panel.wait_for_email_status_within("sent", Duration::from_secs(30)).await;
    assert!(statuses.iter().all(|e| e["status"] == "sent"), "{statuses:?}");
    assert_eq!(app.wait_for_emails(3).await.len(), 3);
    assert_eq!(panel.status().await, "released");
});

both_backends!(
    the_outcome_email_names_the_configured_body_and_its_contact,
    |b| b.with_config(|c| {
        c.assessment_body = Some("Fair EPA Ltd".into());
        c.assessment_body_contact = Some("results@fairepa.test".into());
    }),
    |app| async move {
        let panel = app.panel().await;
        let d = panel.release_unanimous(2).await;
        assert_eq!(d["grade"], "Not achieved", "{d}");
        let emails = app.wait_for_emails(3).await;
        assert_eq!(emails.len(), 3, "{emails:#?}");
        let apprentice = &panel.apprentice.name;
        for e in &emails {
            for text in [&e.text, &e.html] {
                assert!(text.contains("confirmed by Fair EPA Ltd"), "the configured name: {text}");
                assert!(text.contains("contact Fair EPA Ltd at results@fairepa.test"), "the contact: {text}");
                assert!(text.contains("Fair EPA Ltd's appeals policy"), "{text}");
                assert!(!text.contains("20 working days"), "not a promise the service can keep: {text}");
                assert!(!has_iso_date(text), "{text}");
            }
            if e.to == [panel.apprentice.email.clone()] {
                assert!(e.text.contains("You may appeal") && e.text.contains("Your training provider"), "{e:#?}");
            } else {
                assert!(e.text.contains(&format!("{apprentice} may appeal")), "{e:#?}");
                assert!(!has_word(&e.text.to_lowercase(), "you"), "{e:#?}");
            }
            if e.to == [panel.tp.email.clone()] {
                assert!(e.text.contains(&format!("As {apprentice}'s training provider")), "{e:#?}");
            }
        }
    }
);

both_backends!(with_several_assessment_bodies_the_email_names_none_and_invents_no_contact, |app| async move {
    // Two panels' people: two organisations of kind assessment_body, and none configured.
    app.people(Names::default()).await;
    let panel = app.panel().await;
    panel.release_unanimous(4).await;
    let emails = app.wait_for_emails(3).await;
    assert_eq!(emails.len(), 3, "{emails:#?}");
    for e in &emails {
        for text in [&e.text, &e.html] {
            assert!(text.contains("confirmed by the assessment body"), "{text}");
            assert!(text.contains("contact the assessment body that conducted it") && !text.contains('@'), "{text}");
            assert!(!text.contains("Fair EPA"), "neither body is named: {text}");
        }
    }
});

both_backends!(a_refer_backs_reason_reaches_the_panel_until_the_next_decision, |app| async move {
    let panel = app.panel().await;
    let all4 = sheet(panel.items(), 4);
    panel.submit_all(&all4, &all4, &all4).await;
    panel.record_viva().await;
    panel.decide().await;
    assert!(panel.view().await["referred_back"].is_null(), "nothing referred back yet");

    let reason = "Say why the viva items all scored alike.";
    panel.moderate("refer_back", reason).await;
    // Every member of the panel reads the reason, who gave it and when; the status stays `consensus`.
    for member in [&panel.lm, &panel.tp, &panel.ia] {
        let view = member.get(&panel.path("")).await;
        assert_eq!(view["status"], "consensus", "{view}");
        let r = &view["referred_back"];
        assert_eq!(r["rationale"], json!(reason), "{view}");
        assert_eq!(r["by"], json!(panel.moderator.id), "{view}");
        assert!(r["at"].as_str().is_some_and(|at| at.starts_with("20")), "{view}");
    }

    // The next decision ends it; a second refer-back shows its own reason.
    panel.decide().await;
    assert!(panel.view().await["referred_back"].is_null(), "decided again: no longer referred back");
    panel.moderate("refer_back", "Now record the viva's second question too.").await;
    assert_eq!(panel.view().await["referred_back"]["rationale"], json!("Now record the viva's second question too."));
    panel.decide().await;
    panel.moderate("confirm", "Due process followed.").await;
    assert!(panel.view().await["referred_back"].is_null(), "released: nothing referred back");
});
