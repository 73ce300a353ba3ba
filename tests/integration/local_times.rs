//! Times on the pages are local (EPA_TIMEZONE, by default Europe/London) while the API stays in
//! UTC: the panel form takes a local date and time, and every page shows times in the zone with
//! its abbreviation. Over plain HTTP with a cookie-keeping client of our own.

use crate::app::*;
use crate::web::*;

/// The stored viva time, as the API gives it (UTC).
async fn stored_viva(panel: &Panel) -> chrono::DateTime<chrono::Utc> {
    let view = panel.view().await;
    let at = view["panel"]["viva_at"].as_str().unwrap_or_else(|| panic!("viva_at: {view}")).to_string();
    assert!(at.ends_with('Z'), "the API stays in UTC: {at}");
    chrono::DateTime::parse_from_rfc3339(&at).expect("RFC 3339").with_timezone(&chrono::Utc)
}

fn utc(at: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(at).expect("RFC 3339").with_timezone(&chrono::Utc)
}

both_backends!(a_viva_typed_in_local_time_is_stored_in_utc_and_shown_back_local, |app| async move {
    let panel = app.registered().await;
    panel.pass_gateway().await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let path = format!("/assessments/{}/panel", panel.id);
    let form = admin.get_ok(&path).await;
    assert!(form.body.contains("London time (GMT or BST, as on the day)"), "the form says its zone: {}", form.body);

    // 14:30 on a July day in London is 13:30 UTC (BST), and reads back as 14:30 BST.
    let appoint =
        |viva: &'static str| [("independent_assessor_id", panel.ia.id.as_str()), ("viva_at", viva), ("mode", "video")];
    let r = admin.submit(&path, &appoint("2026-07-14T14:30")).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(&*format!("{path}?done=panel"))), "{}", r.body);
    assert_eq!(stored_viva(&panel).await, utc("2026-07-14T13:30:00Z"));
    let overview = admin.get_ok(&format!("/assessments/{}", panel.id)).await;
    assert!(overview.body.contains("Tue 14 Jul 2026, 14:30 BST, by video"), "{}", overview.body);
    let home = admin.get_ok("/assessments").await;
    assert!(home.body.contains("Tue 14 Jul 2026, 14:30 BST"), "{}", home.body);
    let form = admin.get_ok(&path).await;
    assert!(form.body.contains("value=\"2026-07-14T14:30\""), "the form shows the local time it took: {}", form.body);

    // A time the clocks skip (01:30 on the last Sunday of March) is refused by name; nothing saved.
    let r = admin.submit(&path, &appoint("2027-03-28T01:30")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("href=\"#field-viva_at\""), "the refusal links the field: {}", r.body);
    assert!(
        r.body.contains("The viva date and time does not exist: there is no 01:30 on Sun 28 Mar 2027 in Europe")
            && r.body.contains("the clocks go forward an hour that night"),
        "{}",
        r.body
    );
    assert_eq!(stored_viva(&panel).await, utc("2026-07-14T13:30:00Z"), "nothing was saved");

    // A time that happens twice (01:30 on the last Sunday of October) is the earlier, and the
    // page says so.
    let r = admin.submit(&path, &appoint("2026-10-25T01:30")).await;
    let next = format!("{path}?done=panel_earlier");
    assert_eq!((r.status, r.location.as_deref()), (303, Some(next.as_str())), "{}", r.body);
    assert_eq!(stored_viva(&panel).await, utc("2026-10-25T00:30:00Z"), "01:30 BST, the earlier");
    let page = admin.get_ok(&next).await;
    assert!(page.body.contains("the earlier of the two is used"), "{}", page.body);
    assert!(page.body.contains("Sun 25 Oct 2026, 01:30 BST, by video"), "{}", page.body);

    // Times people read elsewhere are in the zone too: the gateway's confirmations and the audit
    // trail (made today, 1 December or whenever: GMT in winter, BST in summer).
    let abbreviation = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).format("%Z").to_string();
    for page in ["gateway", "audit"] {
        let body = admin.get_ok(&format!("/assessments/{}/{page}", panel.id)).await.body;
        assert!(body.contains(&format!(" {abbreviation}")) && !body.contains(" UTC"), "{page}: {body}");
    }
});
