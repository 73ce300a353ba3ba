//! Reviews and appeals through the pages over plain HTTP: the admin lodges one on the released
//! assessment's page (a refusal shown beside its field), lists them at `/appeals`, appoints a
//! reviewer (a conflicted one refused in words), and the reviewer finds the appeal on their home
//! page and decides it (upheld, with a new agreed score); panel members are refused the list.

use crate::web::*;

/// The appeal's id in a `/appeals/{id}?done=…` redirect.
fn appeal_id(location: Option<&str>) -> String {
    let to = location.expect("a redirect");
    to.trim_start_matches("/appeals/").split('?').next().unwrap_or_default().to_string()
}

both_backends!(appeals_are_lodged_appointed_and_decided_on_the_pages, |app| async move {
    let p = app.panel().await;
    p.release_unanimous(3).await;
    let reviewer = app.user("rita@fairepa.test", "Rita Reviewer", "independent_assessor", &p.body_id).await;
    let mut admin = Web::signed_in(app, "ada@fairepa.test").await;
    let overview = format!("/assessments/{}", p.id);
    let page = admin.get_ok(&overview).await;
    assert!(page.body.contains("Lodge a review or appeal"), "{}", page.body);
    assert!(page.body.contains("href=\"&#x2F;appeals\">Appeals"), "the admin's navigation has Appeals");

    // Empty grounds: refused beside the field, nothing saved.
    let path = format!("/assessments/{}/appeals", p.id);
    let page = admin.get_ok(&overview).await;
    let (csrf, version) = (hidden(&page.body, "csrf"), hidden(&page.body, "version"));
    let r = admin
        .post(&path, &[("csrf", &csrf), ("version", &version), ("grounds", " "), ("requested_by", "employer")])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Enter the grounds: it must not be empty."), "{}", r.body);
    assert_eq!(p.admin.get("/api/v1/appeals").await.as_array().map(Vec::len), Some(0), "nothing saved");

    let first = &p.items()[0];
    let query = format!("{}:{}", first.component, first.criterion);
    let r = admin
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("grounds", "The viva questions were not asked."),
                ("requested_by", "employer"),
                ("query", &query),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = appeal_id(r.location.as_deref());
    let shown = p.admin.get(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(
        (&shown["requested_by"], shown["items"].as_array().map(Vec::len)),
        (&serde_json::json!("employer"), Some(1))
    );

    // The list, for admin and moderator; panel members are refused it.
    let list = admin.get_ok("/appeals").await;
    assert!(
        list.body.contains(&format!("href=\"/appeals/{id}\"")) && list.body.contains("Lodged: no reviewer yet"),
        "{}",
        list.body
    );
    assert!(list.body.contains(&p.apprentice.name), "{}", list.body);
    let mut moderator = Web::signed_in(app, &p.moderator.email).await;
    assert!(moderator.get_ok("/appeals").await.body.contains(&format!("/appeals/{id}")));
    let mut lm = Web::signed_in(app, &p.lm.email).await;
    assert_eq!(lm.get("/appeals").await.status, 403);
    assert_eq!(lm.get(&format!("/appeals/{id}")).await.status, 404);
    let overview_page = admin.get_ok(&overview).await;
    assert!(overview_page.body.contains(&format!("href=\"/appeals/{id}\"")), "the assessment's page shows its appeals");

    // A conflicted reviewer is refused in words; nothing changes.
    let appeal = format!("/appeals/{id}");
    let page = admin.get_ok(&appeal).await;
    assert!(page.body.contains("Appoint the reviewer") && page.body.contains("Rita Reviewer"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let r = admin.post(&format!("{appeal}/reviewer"), &[("csrf", &csrf), ("reviewer_id", &p.insider.id)]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("The reviewer: ") && r.body.contains("works for the apprentice&#x27;s employer"),
        "{}",
        r.body
    );
    let r = admin.post(&format!("{appeal}/reviewer"), &[("csrf", &csrf), ("reviewer_id", &p.ia.id)]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("sat on this assessment&#x27;s panel"), "{}", r.body);
    let r = admin.post(&format!("{appeal}/reviewer"), &[("csrf", &csrf), ("reviewer_id", "")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("choose the independent assessor"), "{}", r.body);
    assert_eq!(p.admin.get(&format!("/api/v1/appeals/{id}")).await["status"], "open");
    let r = admin.post(&format!("{appeal}/reviewer"), &[("csrf", &csrf), ("reviewer_id", &reviewer.id)]).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some(format!("{appeal}?done=reviewer").as_str())),
        "{}",
        r.body
    );

    // The reviewer's home page lists it; the decision form refuses a missing outcome.
    let mut rita = Web::signed_in(app, &reviewer.email).await;
    let home = rita.get_ok("/assessments").await;
    assert!(
        home.body.contains("Decide an appeal") && home.body.contains(&format!("href=\"&#x2F;appeals&#x2F;{id}\"")),
        "{}",
        home.body
    );
    let page = rita.get_ok(&appeal).await;
    assert!(page.body.contains("Your decision") && !page.body.contains("Appoint the reviewer"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let field = format!("score:{query}");
    let r = rita.post(&format!("{appeal}/decision"), &[("csrf", &csrf), ("rationale", "Asked.")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("The outcome: choose upheld or not upheld"), "{}", r.body);
    let r = rita
        .post(
            &format!("{appeal}/decision"),
            &[("csrf", &csrf), ("outcome", "upheld"), (&field, "4"), ("rationale", " ")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Enter the reasons: it must not be empty."), "{}", r.body);
    assert_eq!(p.admin.get(&format!("/api/v1/appeals/{id}")).await["status"], "under_review", "nothing half-saved");
    let r = rita
        .post(
            &format!("{appeal}/decision"),
            &[("csrf", &csrf), ("outcome", "upheld"), (&field, "4"), ("rationale", "The evidence meets 4.")],
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some(format!("{appeal}?done=appeal_decided").as_str())),
        "{}",
        r.body
    );
    let page = rita.get_ok(&appeal).await;
    assert!(
        page.body.contains("id=\"changes\"")
            && page.body.contains("<td class=\"score\">3</td><td class=\"score\">4</td>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Your decision"), "decided once");
    let shown = p.admin.get(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(shown["status"], "upheld");
    assert_eq!(shown["decision"]["changes"][0]["to"], 4);
    assert!(!rita.get_ok("/assessments").await.body.contains("Decide an appeal"), "no longer to decide");
});
