//! Two servers on one PostgreSQL database, each with its own outbox worker: a panel day driven
//! alternately through both ends with each email delivered once; and a server that dies mid-send,
//! holding its lease, whose emails the other server delivers once the lease has lapsed.

use std::time::{Duration, Instant};

use crate::app::*;
use crate::mail_outage::{ControlledSmtp, Mode};

const LEASE: Duration = Duration::from_millis(1500);

/// The same people, talking to the server at `base`.
fn through(panel: &Panel, base: &str) -> Panel {
    let member = |m: &Member| Member { client: m.client.on(base), ..m.clone() };
    let p = &panel.people;
    Panel {
        id: panel.id.clone(),
        standard: panel.standard.clone(),
        people: People {
            admin: p.admin.on(base),
            lm: member(&p.lm),
            tp: member(&p.tp),
            ia: member(&p.ia),
            insider: member(&p.insider),
            provider_insider: member(&p.provider_insider),
            moderator: member(&p.moderator),
            ..p.clone()
        },
    }
}

fn base(running: &epa_panel::Running) -> String {
    format!("http://{}", running.addr)
}

fn recipients(panel: &Panel) -> Vec<String> {
    let mut want: Vec<String> =
        [&panel.apprentice.email, &panel.lm.email, &panel.tp.email].iter().map(|e| e.to_lowercase()).collect();
    want.sort();
    want
}

/// A panel day up to `decided`, every step on the other server than the one before.
async fn decided_alternately(a: &Panel, b: &Panel) {
    let items = a.items().to_vec();
    a.pass_gateway().await; // A
    b.appoint().await; // B
    a.declare().await; // A
    let all4 = sheet(&items, 4);
    a.save(&a.lm, &with(all4.clone(), &[(&items[0], 5)]), true).await; // A
    b.save(&b.tp, &all4, true).await; // B
    a.save(&a.ia, &with(all4.clone(), &[(&items[0], 3)]), true).await; // A
    assert_eq!(b.status().await, "consensus");
    a.agree(vec![agreed(&items[0], Some(4), "met it, no more")], "agreed on the day").await; // A
    b.record_viva().await; // B
    let d = b.decide().await; // B
    assert_eq!(d["grade"], "Distinction", "{d}");
}

#[actix_web::test]
async fn two_servers_share_the_work_and_each_email_goes_once() {
    let Some(mut app) = TestApp::builder(Backend::Postgres).start().await else { return };
    let started = Instant::now();
    let sink = ControlledSmtp::start(Mode::Accept);
    let configure = |c: &mut epa_panel::config::Config, smtp: String| {
        c.smtp_url = Some(smtp);
        c.mail_retry.base = Duration::from_millis(200);
        c.mail_retry.cap = Duration::from_millis(400);
        c.mail_retry.lease = LEASE;
    };
    // The app's own server is A; B is a second instance on the same database; one SMTP sink.
    app.restart_with(|c| configure(c, sink.url())).await;
    let server_b = app.start_another(|c| configure(c, sink.url()));
    let b_base = base(&server_b);

    // ---- a panel day through both servers
    let on_a = app.registered().await;
    let on_b = through(&on_a, &b_base);
    decided_alternately(&on_a, &on_b).await;
    on_a.moderate("confirm", "Due process followed.").await; // A
    assert_eq!(on_b.status().await, "released");
    let sent = on_b.wait_for_email_status("sent").await;
    assert!(sent.len() == 3 && sent.iter().all(|e| e["status"] == "sent"), "{sent:#?}");
    app.deliver_now().await; // a pass more: nothing is left to send
    let got = sink.per_recipient();
    let first = recipients(&on_a);
    for to in &first {
        assert_eq!(got.get(to), Some(&1), "{to} gets the outcome once from two workers: {got:?}");
    }
    assert_eq!(sink.received().len(), 3, "{got:?}");
    assert_eq!(app.admin.get(&on_a.path("/audit")).await, on_b.admin.get(&on_b.path("/audit")).await);
    eprintln!("panel day through two servers: {:?}", started.elapsed());
}

#[actix_web::test]
async fn a_dead_servers_emails_are_finished_by_the_other_once() {
    let Some(mut app) = TestApp::builder(Backend::Postgres).start().await else { return };
    let started = Instant::now();
    let sink = ControlledSmtp::start(Mode::Accept);
    let hole = ControlledSmtp::start(Mode::Silent);
    let configure = |c: &mut epa_panel::config::Config, smtp: String| {
        c.smtp_url = Some(smtp);
        c.mail_retry.base = Duration::from_millis(200);
        c.mail_retry.cap = Duration::from_millis(400);
        c.mail_retry.lease = LEASE;
    };
    // A sends into an SMTP server that accepts the connection and never answers.
    app.restart_with(|c| configure(c, hole.url())).await;
    let panel = app.registered().await;
    {
        // B is up for the panel day, then goes down before the confirm, so that A (the server
        // confirming) is the one that claims the emails.
        let server_b = app.start_another(|c| configure(c, sink.url()));
        let on_b = through(&panel, &base(&server_b));
        decided_alternately(&panel, &on_b).await;
        server_b.stop().await;
    }
    panel.moderate("confirm", "Due process followed.").await; // A
                                                              // A's worker claims the three emails and hangs on the first.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hole.connections() == 0 && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(hole.connections() > 0, "A's worker is sending into the silent server");
    let hanging_since = Instant::now();
    let emails = panel.view().await["emails"].clone();
    assert!(emails.as_array().expect("emails").iter().all(|e| e["status"] == "pending"), "{emails}");

    // B comes up while A hangs; then A dies (its tasks aborted, as a killed process would).
    let server_b = app.start_another(|c| configure(c, sink.url()));
    let on_b = through(&panel, &base(&server_b));
    app.stop_server().await;
    let sent = on_b.wait_for_email_status_within("sent", Duration::from_secs(20)).await;
    let took = hanging_since.elapsed();
    assert!(sent.len() == 3 && sent.iter().all(|e| e["status"] == "sent"), "B finished them: {sent:#?}");
    assert!(
        took >= LEASE - Duration::from_millis(300),
        "B waited for A's lease to lapse before taking the emails over ({took:?})"
    );
    app.deliver_now().await;
    let got = sink.per_recipient();
    let want = recipients(&panel);
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), want, "{got:?}");
    assert!(got.values().all(|n| *n == 1), "each email exactly once: {got:?}");
    assert!(hole.received().is_empty());
    for e in sent {
        assert!(e["attempts"].as_i64().unwrap_or_default() >= 1, "{e}");
    }
    assert_eq!(on_b.status().await, "released");
    on_b.admin.get(&on_b.path("/audit")).await;
    server_b.stop().await;
    eprintln!("lease takeover after {took:?}; whole test {:?}", started.elapsed());
}
