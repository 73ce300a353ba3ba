//! Lists that scale: `GET /api/v1/assessments`, the home page and the moderation queue read a
//! fixed number of queries whatever the number of assessments, and the API's list pages with
//! `limit` and `after` (API.md, "v1 additions: Paged lists").

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::connection::{Connection, InstrumentationEvent};
use epa_panel::db::DbConnection;
use epa_panel::services::assessments::{self as svc, Page};
use epa_panel::services::standards::Guides;
use epa_panel::services::Actor;
use serde_json::{json, Value};

use crate::app::*;

/// A connection to the app's database that counts the queries it starts.
fn counting(app: &TestApp) -> (DbConnection, Arc<AtomicUsize>) {
    let mut conn = app.connect();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (conn, count)
}

fn actor(conn: &mut DbConnection, email: &str) -> Actor {
    let user = epa_panel::db::people::find_user_by_email(conn, email).unwrap().expect("the user");
    Actor::from_user(&user).unwrap()
}

/// Queries the list's data takes: the API's list, the home page's (list and own sheets) and the
/// moderation queue's (decided and released, with their sheets).
fn queries_of_lists(conn: &mut DbConnection, guides: &Guides, count: &AtomicUsize, who: &Actor) -> [usize; 3] {
    let mut measure = |f: &mut dyn FnMut(&mut DbConnection)| {
        let before = count.load(Ordering::SeqCst);
        f(conn);
        count.load(Ordering::SeqCst) - before
    };
    let api = measure(&mut |conn| {
        svc::list_page_json(conn, guides, who, None, &Page::default()).unwrap();
    });
    let home = measure(&mut |conn| {
        svc::list(conn, guides, who).unwrap();
    });
    let queue = measure(&mut |conn| {
        let loaded = svc::list_loaded(conn, who, Some(&["decided", "released"]), &Page::default()).unwrap();
        for l in &loaded {
            svc::sheets_view_of(who, l).unwrap();
        }
        svc::views_of(conn, guides, who, &loaded).unwrap();
    });
    [api, home, queue]
}

/// Registers another assessment for the panel's people, with an apprentice of its own.
async fn another(app: &TestApp, panel: &Panel, n: usize) -> String {
    let p = &panel.people;
    let apprentice = app.apprentice(&format!("Apprentice {n}"), &p.employer_id, &p.provider_id).await;
    let a = app
        .admin
        .expect(
            201,
            "POST",
            "/api/v1/assessments",
            json!({"apprentice_id": apprentice.id, "standard_id": STANDARD,
                   "line_manager_id": p.lm.id, "training_provider_user_id": p.tp.id}),
        )
        .await;
    id_of(&a)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap_or_else(|| panic!("a list: {list}")).iter().map(id_of).collect()
}

both_backends!(the_lists_read_as_many_queries_for_twenty_assessments_as_for_one, |app| async move {
    // One assessment at each interesting step: released (emails, moderation), decided, scheduled.
    let released = app.panel().await;
    released.release_unanimous(3).await;
    let (mut conn, count) = counting(app);
    let admin = actor(&mut conn, "ada@fairepa.test");
    let lm = actor(&mut conn, &released.people.lm.email);
    // The guides are read once and then cached (as in the server): warm the cache first.
    let guides = Guides::new();
    queries_of_lists(&mut conn, &guides, &count, &admin);
    let one = [queries_of_lists(&mut conn, &guides, &count, &admin), queries_of_lists(&mut conn, &guides, &count, &lm)];
    for n in 0..19 {
        another(app, &released, n).await;
    }
    let twenty =
        [queries_of_lists(&mut conn, &guides, &count, &admin), queries_of_lists(&mut conn, &guides, &count, &lm)];
    assert_eq!(app.admin.get("/api/v1/assessments").await.as_array().unwrap().len(), 20);
    assert_eq!(released.people.lm.get("/api/v1/assessments").await.as_array().unwrap().len(), 20);
    assert_eq!(one, twenty, "queries for [api, home, queue] of [admin, line manager]: 1 vs 20 assessments");
    assert!(twenty.iter().flatten().all(|&n| n <= 6), "a handful of queries each: {twenty:?}");
});

both_backends!(the_list_body_is_the_views_serialised_byte_for_byte, |app| async move {
    // A released assessment (sheets, sign-offs, moderation, emails) and a registered one, seen
    // by the staff and by two of the panel.
    let released = app.panel().await;
    released.release_unanimous(3).await;
    // The outcome emails sent, so the mail worker changes nothing while the lists are compared.
    released.wait_for_email_status("sent").await;
    another(app, &released, 0).await;
    let mut conn = app.connect();
    let guides = Guides::new();
    for email in ["ada@fairepa.test", released.people.lm.email.as_str(), released.people.ia.email.as_str()] {
        let who = actor(&mut conn, email);
        for page in [Page::default(), Page { after: None, limit: Some(1) }] {
            let body = svc::list_page_json(&mut conn, &guides, &who, None, &page).unwrap();
            let views = svc::list_page(&mut conn, &guides, &who, None, &page).unwrap();
            assert_eq!(String::from_utf8(body).unwrap(), serde_json::to_string(&views).unwrap(), "{email}");
            // The views from the sheets' states are those from the whole sheets (the scores
            // are read only where they are shown).
            let whole: Vec<svc::ListRow<epa_panel::db::sheets::ScoreSheetRow>> =
                svc::list_loaded(&mut conn, &who, None, &page).unwrap();
            let from_whole = svc::views_of(&mut conn, &guides, &who, &whole).unwrap();
            assert_eq!(serde_json::to_string(&from_whole).unwrap(), serde_json::to_string(&views).unwrap());
        }
    }
    // What the API answers is that body.
    let listed = app.admin.get("/api/v1/assessments").await;
    let admin = actor(&mut conn, "ada@fairepa.test");
    let views = svc::list_page(&mut conn, &guides, &admin, None, &Page::default()).unwrap();
    assert_eq!(listed, serde_json::to_value(&views).unwrap());
});

both_backends!(walking_pages_of_two_gives_every_visible_assessment_once, |app| async move {
    let first = app.registered().await;
    let mut made = vec![first.id.clone()];
    for n in 0..4 {
        made.push(another(app, &first, n).await);
    }
    // Someone else's assessment, which the line manager must not see.
    let other = app.registered_for(STANDARD, Names { line_manager: "Olga Other".into(), ..Names::default() }).await;
    let whole = app.admin.get("/api/v1/assessments").await;
    assert_eq!(ids(&whole).len(), 6);
    for (who, expected) in [(&app.admin, 6), (&first.people.lm.client, 5)] {
        let whole = ids(&who.get("/api/v1/assessments").await);
        assert_eq!(whole.len(), expected);
        let mut walked = Vec::new();
        let mut path = "/api/v1/assessments?limit=2".to_string();
        loop {
            let page = ids(&who.get(&path).await);
            assert!(page.len() <= 2, "{page:?}");
            let Some(last) = page.last().cloned() else { break };
            walked.extend(page);
            path = format!("/api/v1/assessments?limit=2&after={last}");
        }
        assert_eq!(walked, whole, "the pages, in order, are the whole list");
        assert_eq!(walked.iter().collect::<HashSet<_>>().len(), walked.len(), "each once");
    }
    let lm_list = ids(&first.people.lm.get("/api/v1/assessments").await);
    assert!(made.iter().all(|id| lm_list.contains(id)) && !lm_list.contains(&other.id));
    // A page is the same JSON as the whole list's entries.
    let page = app.admin.get(&format!("/api/v1/assessments?limit=1&after={}", ids(&whole)[0])).await;
    assert_eq!(page.as_array().unwrap()[0], whole.as_array().unwrap()[1]);
});

both_backends!(pages_walk_assessments_registered_at_the_same_instant_once_each, |app| async move {
    use diesel::prelude::*;
    use epa_panel::db::schema::assessments;
    let first = app.registered().await;
    for n in 0..4 {
        another(app, &first, n).await;
    }
    // Every assessment registered at one instant: the page key's second column decides.
    diesel::update(assessments::table)
        .set(assessments::created_at.eq("2026-11-30T09:00:00.000000Z"))
        .execute(&mut app.connect())
        .unwrap();
    let whole = ids(&app.admin.get("/api/v1/assessments").await);
    let mut by_id = whole.clone();
    by_id.sort_by(|a, b| b.cmp(a));
    assert_eq!(whole, by_id, "ties are listed by id, newest order");
    for limit in [1, 2, 3] {
        let mut walked = Vec::new();
        let mut path = format!("/api/v1/assessments?limit={limit}");
        loop {
            let page = ids(&app.admin.get(&path).await);
            let Some(last) = page.last().cloned() else { break };
            walked.extend(page);
            path = format!("/api/v1/assessments?limit={limit}&after={last}");
        }
        assert_eq!(walked, whole, "pages of {limit}, in order, are the whole list");
    }
});

both_backends!(limit_and_after_are_checked_naming_the_field, |app| async move {
    let mine = app.registered().await;
    let other = app.registered_for(STANDARD, Names { line_manager: "Olga Other".into(), ..Names::default() }).await;
    for limit in ["0", "501", "-1", "two", "", "1.5"] {
        let e = app.admin.refused(400, "GET", &format!("/api/v1/assessments?limit={limit}"), Value::Null).await;
        assert!(e.message.starts_with("limit: "), "limit={limit}: {}", e.message);
    }
    assert_eq!(ids(&app.admin.get("/api/v1/assessments?limit=500").await).len(), 2);
    assert_eq!(ids(&app.admin.get("/api/v1/assessments?limit=1").await).len(), 1);
    // Unknown, and not visible to the caller: the same answer.
    let unknown = app.admin.refused(400, "GET", "/api/v1/assessments?after=no-such-id", Value::Null).await;
    assert!(unknown.message.starts_with("after: "), "{}", unknown.message);
    let lm = &mine.people.lm;
    let invisible = lm.refused(400, "GET", &format!("/api/v1/assessments?after={}", other.id), Value::Null).await;
    assert!(invisible.message.starts_with("after: "), "{}", invisible.message);
    assert_eq!(ids(&lm.get(&format!("/api/v1/assessments?after={}", mine.id)).await), Vec::<String>::new());
});
