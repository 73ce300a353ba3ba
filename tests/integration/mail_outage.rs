//! Mail is never lost and never doubled: a real SMTP server (a small one written here, so that it
//! can be stopped, restarted on the same port, made to answer 451 or 550 to DATA, or made to
//! accept connections and never answer) down at the confirm, refusing for a while, refusing for
//! good; the outbox retries with back-off, records each attempt, gives up after
//! `EPA_MAIL_MAX_ATTEMPTS` with the error shown on the assessment, and an admin can resend. An
//! attempt cut short by a crash counts too: the last one ends in `failed`, not in a fourth send.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::app::*;

/// How the SMTP server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Takes every message.
    Accept,
    /// Answers DATA with 451 (try again later).
    Transient,
    /// Answers DATA with 550 (rejected for good).
    Permanent,
    /// Accepts connections and never says a word (not even the greeting).
    Silent,
    /// Takes the message (it is in `received()` from the end of DATA) but never answers it, as if
    /// the sender crashed between the server's acceptance and recording it as sent.
    Hold,
}

/// A controllable SMTP server on 127.0.0.1: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
pub struct ControlledSmtp {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    inbox: Arc<Mutex<Vec<Received>>>,
    connections: Arc<AtomicUsize>,
    /// The stop flag and accept thread of the current run, if it runs.
    run: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl ControlledSmtp {
    pub fn start(mode: Mode) -> ControlledSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the controllable SMTP server");
        let port = listener.local_addr().expect("its address").port();
        let mut smtp = ControlledSmtp {
            port,
            mode: Arc::new(Mutex::new(mode)),
            inbox: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicUsize::new(0)),
            run: None,
        };
        smtp.serve(listener);
        smtp
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let (mode, inbox, connections, flag) =
            (self.mode.clone(), self.inbox.clone(), self.connections.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        connections.fetch_add(1, Ordering::SeqCst);
                        let (mode, inbox, flag) = (mode.clone(), inbox.clone(), flag.clone());
                        std::thread::spawn(move || {
                            let _ = session(stream, &mode, &inbox, &flag);
                        });
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            // The listener is dropped here: the port refuses connections from now on.
        });
        self.run = Some((stop, accept));
    }

    /// Stops listening and closes every open connection: the mail server is down.
    pub fn stop(&mut self) {
        if let Some((stop, accept)) = self.run.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = accept.join();
        }
    }

    /// Listens again on the same port (waiting up to 5 s for it to be free).
    pub fn restart(&mut self) {
        assert!(self.run.is_none(), "restart() a stopped server");
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("re-binding SMTP port {}: {e}", self.port);
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot listen on SMTP port {} again: {e}", self.port),
            }
        };
        self.serve(listener);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// How many messages each envelope recipient received.
    pub fn per_recipient(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.received() {
            for to in m.to {
                *counts.entry(to).or_insert(0) += 1;
            }
        }
        counts
    }
}

impl Drop for ControlledSmtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP conversation; ends when the client quits or the server is stopped.
fn session(
    stream: TcpStream,
    mode: &Mutex<Mode>,
    inbox: &Mutex<Vec<Received>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(50)))?;
    stream.set_nonblocking(false)?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let current = || *mode.lock().unwrap_or_else(|p| p.into_inner());
    let silent = current() == Mode::Silent;
    if !silent {
        out.write_all(b"220 sink.test ESMTP ready\r\n")?;
    }
    let (mut line, mut to, mut data, mut in_data) = (Vec::new(), Vec::new(), Vec::new(), false);
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if !line.ends_with(b"\n") => return Ok(()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        }
        let l = std::mem::take(&mut line);
        if silent {
            continue;
        }
        if in_data {
            if l == b".\r\n" || l == b".\n" {
                in_data = false;
                let message = Received { to: std::mem::take(&mut to), raw: std::mem::take(&mut data) };
                inbox.lock().unwrap_or_else(|p| p.into_inner()).push(message);
                if current() == Mode::Hold {
                    continue;
                }
                out.write_all(b"250 2.0.0 queued\r\n")?;
            } else {
                data.extend_from_slice(l.strip_prefix(b".").filter(|_| l.starts_with(b"..")).unwrap_or(&l));
            }
            continue;
        }
        let text = String::from_utf8_lossy(&l).trim_end().to_string();
        let verb = text.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                to.clear();
                b"250 2.1.0 ok\r\n"
            }
            "RCPT" => {
                let address = text.split_once(':').map_or("", |(_, a)| a).trim();
                to.push(address.trim_matches(|c| c == '<' || c == '>').to_lowercase());
                b"250 2.1.5 ok\r\n"
            }
            "DATA" => match current() {
                Mode::Transient => b"451 4.3.0 mailbox busy, try again later\r\n",
                Mode::Permanent => b"550 5.7.1 delivery not authorised, message refused\r\n",
                _ => {
                    in_data = true;
                    data.clear();
                    b"354 end data with <CR><LF>.<CR><LF>\r\n"
                }
            },
            "RSET" => {
                to.clear();
                b"250 2.0.0 ok\r\n"
            }
            "NOOP" => b"250 2.0.0 ok\r\n",
            "QUIT" => {
                out.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            _ => b"502 5.5.2 command not recognised\r\n",
        };
        out.write_all(reply)?;
    }
}

/// Points the app's mail at `smtp` with quick retries (100 ms doubling, capped at 400 ms).
async fn mail_to(app: &mut TestApp, smtp: &ControlledSmtp, max_attempts: i32) {
    let url = smtp.url();
    app.restart_with(|c| {
        c.smtp_url = Some(url);
        c.mail_retry.base = Duration::from_millis(100);
        c.mail_retry.cap = Duration::from_millis(400);
        c.mail_retry.max_attempts = max_attempts;
    })
    .await;
}

/// Polls the assessment (up to `within`) until `done` holds for its emails; returns them.
async fn wait_for_emails(panel: &Panel, within: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let emails = panel.view().await["emails"].as_array().cloned().unwrap_or_default();
        if (emails.len() == 3 && done(&emails)) || Instant::now() > deadline {
            return emails;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn attempts(e: &Value) -> i64 {
    e["attempts"].as_i64().unwrap_or_default()
}

/// The three outcome emails, each delivered exactly once, and nothing more after a while.
async fn delivered_once(app: &TestApp, panel: &Panel, smtp: &ControlledSmtp) {
    let sent = wait_for_emails(panel, Duration::from_secs(15), |es| es.iter().all(|e| e["status"] == "sent")).await;
    assert!(sent.iter().all(|e| e["status"] == "sent"), "delivered once the server is back: {sent:#?}");
    // A pass more: a doubled delivery (a retry of something already sent) would show now.
    app.deliver_now().await;
    let mut want: Vec<String> =
        [&panel.apprentice.email, &panel.lm.email, &panel.tp.email].iter().map(|e| e.to_lowercase()).collect();
    want.sort();
    let got = smtp.per_recipient();
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), want, "{got:?}");
    assert!(got.values().all(|n| *n == 1), "each email exactly once: {got:?}");
    for m in smtp.received() {
        let e = Email::parse(Some(m.to.clone()), &m.raw);
        assert!(e.text.contains(STANDARD_TITLE), "a whole outcome email: {e:#?}");
    }
    assert_eq!(panel.view().await["emails"], json!(sent), "nothing changes after delivery");
}

both_backends!(smtp_down_at_confirm_then_back_delivers_each_email_once, |app| async move {
    let mut smtp = ControlledSmtp::start(Mode::Accept);
    smtp.stop();
    mail_to(app, &smtp, 50).await;
    let panel = app.panel().await;
    let started = Instant::now();
    panel.release_unanimous(4).await;
    assert_eq!(panel.status().await, "released", "the confirm stands with the mail server down");

    let failing = wait_for_emails(&panel, Duration::from_secs(15), |es| es.iter().all(|e| attempts(e) >= 3)).await;
    for e in &failing {
        assert_eq!(e["status"], "pending", "still to be retried: {failing:#?}");
        assert!(attempts(e) >= 3, "each attempt is counted: {failing:#?}");
        let error = e["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("could not reach the mail server"), "the error is recorded: {failing:#?}");
        assert!(e["sent_at"].is_null(), "{e}");
    }
    eprintln!("three attempts each within {:?}", started.elapsed());
    assert!(smtp.received().is_empty());

    smtp.restart();
    delivered_once(app, &panel, &smtp).await;
    let view = panel.view().await;
    for e in view["emails"].as_array().expect("emails") {
        assert!(attempts(e) >= 4, "the failed attempts and the delivery: {e}");
        assert!(e["last_error"].is_null() && e["sent_at"].is_string(), "{e}");
    }
    assert_eq!(view["status"], "released");
});

both_backends!(smtp_451_to_data_is_retried_then_delivered_once, |app| async move {
    let smtp = ControlledSmtp::start(Mode::Transient);
    mail_to(app, &smtp, 50).await;
    let panel = app.panel().await;
    panel.release_unanimous(3).await;
    assert_eq!(panel.status().await, "released");
    let refused = wait_for_emails(&panel, Duration::from_secs(15), |es| es.iter().all(|e| attempts(e) >= 2)).await;
    for e in &refused {
        assert_eq!(e["status"], "pending", "{refused:#?}");
        let error = e["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("for now") && error.contains("451"), "the refusal is recorded: {refused:#?}");
    }
    assert!(smtp.received().is_empty(), "nothing was accepted while refusing");
    smtp.set_mode(Mode::Accept);
    delivered_once(app, &panel, &smtp).await;
});

both_backends!(smtp_550_gives_up_after_max_attempts_and_resend_delivers_once, |app| async move {
    let smtp = ControlledSmtp::start(Mode::Permanent);
    mail_to(app, &smtp, 3).await;
    let panel = app.panel().await;
    panel.release_unanimous(4).await;
    let failed =
        wait_for_emails(&panel, Duration::from_secs(15), |es| es.iter().all(|e| e["status"] == "failed")).await;
    for e in &failed {
        assert_eq!(e["status"], "failed", "given up after 3 attempts: {failed:#?}");
        assert_eq!(attempts(e), 3, "{failed:#?}");
        let error = e["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("permanently") && error.contains("550"), "the error is shown: {failed:#?}");
    }
    // Given up: no more attempts, even in a pass more.
    app.deliver_now().await;
    let still = panel.view().await["emails"].clone();
    assert!(still.as_array().expect("emails").iter().all(|e| e["status"] == "failed" && attempts(e) == 3), "{still}");
    assert!(smtp.received().is_empty());

    // Only an admin may resend.
    let resend = panel.path("/emails/resend");
    panel.moderator.expect(403, "POST", &resend, json!({})).await;
    smtp.set_mode(Mode::Accept);
    let r = panel.admin.expect(200, "POST", &resend, json!({})).await;
    assert_eq!(r["requeued"], 3, "{r}");
    delivered_once(app, &panel, &smtp).await;
    // Nothing left to resend, and nothing is sent twice.
    panel.admin.expect(409, "POST", &resend, json!({})).await;
    app.deliver_now().await;
    assert_eq!(smtp.received().len(), 3);
    let audit = panel.admin.get(&panel.path("/audit")).await;
    let requeued = audit.as_array().expect("audit").iter().filter(|e| e["action"] == "emails.requeued").count();
    assert_eq!(requeued, 1, "the resend is audited once");
});

both_backends!(smtp_stopped_while_refusing_then_back_delivers_once, |app| async move {
    // Refusing (451), then down altogether, then back and accepting: one delivery each.
    let mut smtp = ControlledSmtp::start(Mode::Transient);
    mail_to(app, &smtp, 50).await;
    let panel = app.panel().await;
    panel.release_unanimous(4).await;
    wait_for_emails(&panel, Duration::from_secs(15), |es| es.iter().all(|e| attempts(e) >= 1)).await;
    smtp.stop();
    let before: i64 = panel.view().await["emails"].as_array().expect("emails").iter().map(attempts).sum();
    let down = wait_for_emails(&panel, Duration::from_secs(15), |es| {
        es.iter().map(attempts).sum::<i64>() >= before + 3
            && es.iter().all(|e| e["last_error"].as_str().is_some_and(|m| m.contains("could not reach")))
    })
    .await;
    assert!(down.iter().all(|e| e["status"] == "pending"), "{down:#?}");
    smtp.set_mode(Mode::Accept);
    smtp.restart();
    delivered_once(app, &panel, &smtp).await;
});

/// `(status, attempts, last_error)` of the outbox row for `recipient`.
fn outbox_row(app: &TestApp, recipient: &str) -> (String, i32, Option<String>) {
    use diesel::prelude::*;
    use epa_panel::db::schema::outbox;
    outbox::table
        .filter(outbox::recipient.eq(recipient))
        .select((outbox::status, outbox::attempts, outbox::last_error))
        .first(&mut app.connect())
        .expect("the outbox row")
}

both_backends!(an_attempt_cut_short_counts_and_the_last_one_ends_in_failed, |app| async move {
    let smtp = ControlledSmtp::start(Mode::Accept);
    mail_to(app, &smtp, 3).await;
    let panel = app.panel().await;
    panel.release_unanimous(4).await;
    delivered_once(app, &panel, &smtp).await;
    app.stop_server().await;

    // As a crash leaves them (see crash.rs): counted and leased, never recorded, the lease run
    // out. The apprentice's email was on its last attempt; the line manager's on its first.
    let (last, first) = (panel.apprentice.email.to_lowercase(), panel.lm.email.to_lowercase());
    {
        use diesel::prelude::*;
        use epa_panel::db::schema::outbox;
        let mut conn = app.connect();
        for (recipient, attempts) in [(&last, 3), (&first, 1)] {
            diesel::update(outbox::table.filter(outbox::recipient.eq(recipient)))
                .set((
                    outbox::status.eq("pending"),
                    outbox::attempts.eq(attempts),
                    outbox::locked_until.eq(Some("2026-01-01T00:00:00.000000Z")),
                    outbox::next_attempt_at.eq("2026-01-01T00:00:00.000000Z"),
                    outbox::sent_at.eq(None::<String>),
                ))
                .execute(&mut conn)
                .expect("leave a row as a crash does");
        }
    }
    let server = app.start_another(|_| {});
    let deadline = Instant::now() + Duration::from_secs(15);
    let (gave_up, resent) = loop {
        let (gave_up, resent) = (outbox_row(app, &last), outbox_row(app, &first));
        if (gave_up.0 != "pending" && resent.0 != "pending") || Instant::now() > deadline {
            break (gave_up, resent);
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    // Its attempts used up, the interrupted one among them: failed, not sent a fourth time.
    assert_eq!(gave_up.0, "failed", "{gave_up:?}");
    assert_eq!(gave_up.1, 3, "{gave_up:?}");
    assert!(gave_up.2.as_deref().is_some_and(|e| e.contains("cut short")), "the reason is shown: {gave_up:?}");
    // One attempt left: sent again (same Message-ID), the interrupted attempt counted.
    assert_eq!((resent.0.as_str(), resent.1), ("sent", 2), "{resent:?}");
    let counts = smtp.per_recipient();
    assert_eq!((counts.get(&last), counts.get(&first)), (Some(&1), Some(&2)), "{counts:?}");
    server.stop().await;
});
