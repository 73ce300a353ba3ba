//! Outcome email: composed from templates into the outbox (in the transaction that releases the
//! outcome), then delivered by a background worker over SMTP, or written as `.eml` files when no
//! SMTP server is configured. Failed deliveries are retried with back-off, then marked failed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use tera::{Context, Tera};
use tokio::sync::Notify;

use crate::db::outbox::{self, OutboxRow};
use crate::db::{format_time, now, Db, DbConnection};
use crate::error::AppResult;

/// When to try again, and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles after each one, up to `cap`.
    pub base: Duration,
    pub cap: Duration,
    /// Attempts before a message is marked failed.
    pub max_attempts: i32,
    /// How long a claimed message stays reserved for the worker that claimed it; if that
    /// instance dies mid-send, another picks the message up after this.
    pub lease: Duration,
}

impl Default for RetryPolicy {
    /// 5 s, 10 s, 20 s … capped at an hour; 10 attempts (about 3 hours in all).
    fn default() -> Self {
        Self {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            max_attempts: 10,
            lease: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failure.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 30) as u32 - 1;
        self.base.saturating_mul(1u32 << exp.min(20)).min(self.cap)
    }
}

/// What an outcome email says. One is written per recipient: the apprentice's own email speaks
/// to them ("You achieved …"); the line manager's and the training provider's speak of them.
#[derive(Debug, Serialize)]
pub struct Outcome<'a> {
    pub recipient_name: &'a str,
    /// `apprentice`, `line_manager` or `training_provider`.
    pub recipient_role: &'a str,
    pub apprentice_name: &'a str,
    pub standard_title: &'a str,
    /// Null when the guide has no level.
    pub standard_level: Option<u32>,
    pub grade: &'a str,
    pub achieved: bool,
    /// When moderation confirmed the outcome (RFC 3339, UTC); the email gives the date in words.
    pub released_at: &'a str,
    /// The assessment body found in the database (used when `EPA_ASSESSMENT_BODY` is unset).
    pub assessment_body: Option<&'a str>,
    /// The guide's `[outcome]` award name (absent: "certificate").
    pub award: Option<&'a str>,
    /// The guide's `[outcome]` text on what follows a success.
    pub on_success: Option<&'a str>,
    /// The guide's `[outcome]` text on what follows a failure.
    pub on_failure: Option<&'a str>,
    /// The guide's `[outcome]` contact, used when the body's configuration names none.
    #[serde(skip)]
    pub guide_contact: Option<&'a str>,
}

/// What an appeal upheld on review changed, for the amended outcome email.
#[derive(Debug)]
pub struct Amendment<'a> {
    /// The grade before the review.
    pub previous_grade: &'a str,
    /// When the reviewer decided (RFC 3339, UTC).
    pub reviewed_at: &'a str,
    /// How many agreed scores the review changed.
    pub scores_changed: usize,
}

/// Who outcome emails speak for, and the zone their dates are in (from the configuration).
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// `EPA_ASSESSMENT_BODY`.
    pub assessment_body: Option<String>,
    /// `EPA_ASSESSMENT_BODY_CONTACT`: an email address or phone number for questions and appeals.
    pub contact: Option<String>,
    /// `EPA_TIMEZONE`.
    pub zone: crate::local_time::Zone,
}

/// The words a template needs beyond the outcome itself.
#[derive(Serialize)]
struct Wording<'a> {
    /// The apprentice's own email: second person.
    you: bool,
    /// "1 December 2026".
    released_on: String,
    /// The body's name, or "the assessment body" when it is not known.
    body: &'a str,
    /// The same at the start of a sentence.
    body_capital: String,
    body_known: bool,
    contact: Option<&'a str>,
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders messages from the templates and names them.
#[derive(Clone)]
pub struct Composer {
    tera: Arc<Tera>,
    from: Mailbox,
    signature: Signature,
}

impl Composer {
    pub fn new(tera: Arc<Tera>, from: &str) -> anyhow::Result<Self> {
        let from = from.parse().map_err(|e| anyhow::anyhow!("EPA_MAIL_FROM {from:?}: {e}"))?;
        Ok(Self { tera, from, signature: Signature::default() })
    }

    /// The same composer, speaking for the assessment body as configured.
    pub fn signed(self, signature: Signature) -> Self {
        Self { signature, ..self }
    }

    /// The body's name as configured (`EPA_ASSESSMENT_BODY`), if it is.
    pub fn configured_body(&self) -> Option<&str> {
        self.signature.assessment_body.as_deref()
    }

    pub fn render_outcome(&self, outcome: &Outcome<'_>) -> anyhow::Result<Rendered> {
        self.render("outcome", self.context(outcome)?)
    }

    /// The amended outcome email, after an appeal upheld on review changed the grade: its own
    /// templates (`email/amended_outcome/`), saying it is amended and what changed.
    pub fn render_amended_outcome(&self, outcome: &Outcome<'_>, amendment: &Amendment<'_>) -> anyhow::Result<Rendered> {
        let mut context = self.context(outcome)?;
        context.insert("previous_grade", amendment.previous_grade);
        context.insert("reviewed_on", &self.signature.zone.date_in_words(amendment.reviewed_at));
        context.insert("scores_changed", &amendment.scores_changed);
        self.render("amended_outcome", context)
    }

    fn context(&self, outcome: &Outcome<'_>) -> anyhow::Result<Context> {
        let mut context = Context::from_serialize(outcome)?;
        let name = self.configured_body().or(outcome.assessment_body).map(str::trim).filter(|n| !n.is_empty());
        let body = name.unwrap_or("the assessment body");
        let wording = Wording {
            you: outcome.recipient_role == "apprentice",
            released_on: self.signature.zone.date_in_words(outcome.released_at),
            body,
            body_capital: name.map_or_else(|| "The assessment body".to_string(), str::to_string),
            body_known: name.is_some(),
            contact: self.signature.contact.as_deref().or(outcome.guide_contact),
        };
        context.extend(Context::from_serialize(&wording)?);
        Ok(context)
    }

    fn render(&self, name: &str, context: Context) -> anyhow::Result<Rendered> {
        let subject = self.tera.render(&format!("email/{name}/subject.txt"), &context)?;
        Ok(Rendered {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: self.tera.render(&format!("email/{name}/body.txt"), &context)?,
            html: self.tera.render(&format!("email/{name}/body.html"), &context)?,
        })
    }

    /// An explicit, unique Message-ID in the sender's domain.
    pub fn message_id(&self, id: &str) -> String {
        format!("<{id}@{}>", self.from.email.domain())
    }

    pub fn build(&self, row: &OutboxRow) -> anyhow::Result<Message> {
        let to: Mailbox = row.recipient.parse().map_err(|e| anyhow::anyhow!("recipient {:?}: {e}", row.recipient))?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&row.subject)
            .message_id(Some(row.message_id.clone()))
            .header(header::MIME_VERSION_1_0)
            .multipart(MultiPart::alternative_plain_html(row.body_text.clone(), row.body_html.clone()))?)
    }
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Transport {
    /// SMTP when a URL is set (`smtp://host:port`, `smtps://user:pass@host`), else files.
    ///
    /// The SMTP timeout stays well inside the outbox lease (20 s, or two thirds of a shorter
    /// lease): a send must end, one way or the other, before another instance may take the
    /// message over, or a slow server could receive it twice.
    pub fn from_config(smtp_url: Option<&str>, mail_dir: PathBuf, lease: Duration) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let timeout = Duration::from_secs(20).min(lease * 2 / 3);
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("EPA_SMTP_URL {}: {e}", crate::db::redact(url)))?
                    .timeout(Some(timeout))
                    .build();
                Ok(Self::Smtp(transport))
            }
            None => Ok(Self::Files(mail_dir)),
        }
    }

    /// Delivers one message; returns the status it reaches (`sent` or `written`).
    async fn deliver(&self, id: &str, message: &Message) -> Result<&'static str, String> {
        match self {
            Self::Smtp(smtp) => smtp.send(message.clone()).await.map(|_| "sent").map_err(|e| describe_smtp_error(&e)),
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let path = dir.join(format!("{id}.eml"));
                let tmp = dir.join(format!(".{id}.eml.tmp"));
                tokio::fs::write(&tmp, message.formatted())
                    .await
                    .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
                tokio::fs::rename(&tmp, &path).await.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok("written")
            }
        }
    }
}

/// Words a person can act on, rather than the transport's internals.
fn describe_smtp_error(e: &lettre::transport::smtp::Error) -> String {
    if e.is_permanent() {
        format!("the mail server refused the message permanently: {e}")
    } else if e.is_transient() {
        format!("the mail server refused the message for now and will be retried: {e}")
    } else if e.is_timeout() {
        "the mail server did not answer in time; will retry".to_string()
    } else {
        format!("could not reach the mail server ({e}); check EPA_SMTP_URL and that the server is running")
    }
}

fn later(d: Duration) -> String {
    format_time(chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default())
}

/// Takes the next due message for this worker and starts an attempt on it. The attempt is
/// counted and the lease taken in one commit *before* anything is sent: if the instance dies
/// after the mail server took the message but before it was marked sent, the attempt still
/// counts, and when the lease runs out the message is sent again (delivery is at least once;
/// the copy carries the same stored Message-ID, so a receiver can drop the duplicate). A message
/// whose attempts were all used up by such interrupted attempts is marked failed instead.
///
/// Several instances may run workers on one database: a message is taken only by the update that
/// finds it unleased, and PostgreSQL skips rows another worker has locked rather than waiting.
pub fn claim_next(conn: &mut DbConnection, policy: &RetryPolicy) -> AppResult<Option<OutboxRow>> {
    crate::db::transaction(conn, |conn| loop {
        let at = now();
        let candidates = outbox::due_messages(conn, &at, 5)?;
        if candidates.is_empty() {
            return Ok(None);
        }
        for row in candidates {
            // A lease still set is an attempt that never recorded its end.
            let interrupted = row.locked_until.is_some();
            if interrupted && row.attempts >= policy.max_attempts {
                let error = format!(
                    "gave up after {} attempts; the last was cut short before its result was recorded \
                     (the message may have reached the mail server)",
                    row.attempts
                );
                outbox::give_up_unleased(conn, &row.id, &at, &error)?;
                continue;
            }
            let mut changes = outbox::lease_unleased(conn, &row.id, &at, &later(policy.lease))?;
            if changes == 1 && interrupted {
                let error = format!(
                    "attempt {} was cut short before its result was recorded (the message may have reached \
                     the mail server; it is sent again with the same Message-ID)",
                    row.attempts
                );
                changes = outbox::set_last_error(conn, &row.id, &error)?;
            }
            if changes == 1 {
                return Ok(Some(outbox::find_message(conn, &row.id)?));
            }
        }
    })
}

/// Records the result of the attempt `claim_next` started (and counted) on `row`.
pub fn record_attempt(
    conn: &mut DbConnection,
    policy: &RetryPolicy,
    row: &OutboxRow,
    result: Result<&'static str, String>,
) -> AppResult<()> {
    let attempts = row.attempts;
    match result {
        Ok(status) => outbox::mark_delivered(conn, &row.id, status, attempts, &now())?,
        Err(error) => {
            let status = if attempts >= policy.max_attempts { "failed" } else { "pending" };
            outbox::mark_attempt_failed(conn, &row.id, status, attempts, &later(policy.backoff(attempts)), &error)?;
        }
    }
    Ok(())
}

/// Delivers what is due (up to 20 messages), one message at a time. Returns how many it tried.
pub async fn deliver_due(db: &Db, composer: &Composer, transport: &Transport, policy: RetryPolicy) -> AppResult<usize> {
    let mut tried = 0;
    while tried < 20 {
        let Some(row) = db.run(move |conn| claim_next(conn, &policy)).await? else { break };
        tried += 1;
        let result = match composer.build(&row) {
            Ok(message) => transport.deliver(&row.id, &message).await,
            Err(e) => Err(format!("the message could not be built: {e:#}")),
        };
        if let Err(error) = &result {
            tracing::warn!(outbox_id = %row.id, attempt = row.attempts, %error, "outcome email not delivered");
        }
        db.run(move |conn| record_attempt(conn, &policy, &row, result)).await?;
    }
    Ok(tried)
}

/// The outbox worker: delivers due messages, then sleeps until woken or a second has passed.
pub async fn run_worker(db: Db, composer: Composer, transport: Transport, policy: RetryPolicy, wake: Arc<Notify>) {
    loop {
        match deliver_due(&db, &composer, &transport, policy).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = ?e, "outbox worker"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composer() -> Composer {
        Composer::new(Arc::new(crate::templates::load().unwrap()), "results@body.test").unwrap()
    }

    fn outcome<'a>(grade: &'a str, achieved: bool, name: &'a str) -> Outcome<'a> {
        Outcome {
            recipient_name: name,
            recipient_role: "apprentice",
            apprentice_name: name,
            standard_title: "Senior Housing/Property Management",
            standard_level: Some(4),
            grade,
            achieved,
            released_at: "2026-12-02T10:00:00.000000Z",
            assessment_body: None,
            // The L4 guide's `[outcome]` award.
            award: Some("apprenticeship certificate"),
            on_success: None,
            on_failure: None,
            guide_contact: None,
        }
    }

    fn to<'a>(role: &'a str, name: &'a str, o: Outcome<'a>) -> Outcome<'a> {
        Outcome { recipient_role: role, recipient_name: name, ..o }
    }

    fn signed(body: Option<&str>, contact: Option<&str>) -> Composer {
        composer().signed(Signature {
            assessment_body: body.map(str::to_string),
            contact: contact.map(str::to_string),
            zone: crate::local_time::Zone::default(),
        })
    }

    #[test]
    fn the_wording_comes_from_the_guide_and_is_neutral_without_it() {
        let c = signed(Some("Fair EPA Ltd"), None);
        let neutral = Outcome {
            award: None,
            standard_title: "Lead involvement",
            standard_level: None,
            ..outcome("Competent", true, "Amy Apprentice")
        };
        let plain = c.render_outcome(&neutral).unwrap();
        for text in [&plain.subject, &plain.text, &plain.html] {
            assert!(!text.to_lowercase().contains("apprenticeship"), "{text}");
            assert!(!text.contains("(Level"), "no level for a guide without one: {text}");
        }
        assert!(plain.text.contains("your certificate to be issued"), "{}", plain.text);
        let worded = Outcome {
            award: Some("Licentiateship (LCGI)"),
            on_success: Some("Use the post-nominal letters LCGI."),
            guide_contact: Some("the centre's co-ordinator"),
            ..neutral
        };
        let text = c.render_outcome(&worded).unwrap().text;
        assert!(
            text.contains("your Licentiateship (LCGI) to be issued")
                && text.contains("- Use the post-nominal letters LCGI."),
            "{text}"
        );
        assert!(text.contains("at the centre's co-ordinator"), "the guide's contact when none is configured: {text}");
        let failed = Outcome { on_failure: Some("You may re-submit within 12 months."), achieved: false, ..neutral };
        assert!(c.render_outcome(&failed).unwrap().text.contains("- You may re-submit within 12 months."));
    }

    #[test]
    fn the_apprentice_is_spoken_to_and_the_others_of() {
        let c = signed(Some("Fair EPA Ltd"), Some("results@fairepa.test"));
        let own = c.render_outcome(&outcome("Pass", true, "Amy Apprentice")).unwrap();
        for text in [&own.text, &own.html] {
            assert!(text.contains("You achieved") && text.contains("your apprenticeship certificate"), "{text}");
            assert!(!text.contains("Amy Apprentice achieved") && !text.contains("The apprentice"), "{text}");
        }
        assert!(own.subject.starts_with("Your end-point assessment outcome"), "{}", own.subject);
        for role in ["line_manager", "training_provider"] {
            let other = c.render_outcome(&to(role, "Lena Line", outcome("Pass", true, "Amy Apprentice"))).unwrap();
            for text in [&other.text, &other.html] {
                assert!(text.contains("Amy Apprentice achieved"), "{text}");
                assert!(!text.contains("You achieved") && !text.contains("your apprenticeship"), "{text}");
            }
            assert!(other.subject.contains("Amy Apprentice"), "{}", other.subject);
        }
        let own = c.render_outcome(&outcome("Not achieved", false, "Amy Apprentice")).unwrap();
        assert!(own.text.contains("You may appeal") && own.text.contains("Your training provider"), "{}", own.text);
        let tp = c
            .render_outcome(&to("training_provider", "Tom Tutor", outcome("Not achieved", false, "Amy Apprentice")))
            .unwrap();
        assert!(
            tp.text.contains("Amy Apprentice may appeal") && tp.text.contains("As Amy Apprentice's training provider")
        );
    }

    #[test]
    fn the_body_and_its_contact_are_named_and_the_date_is_in_words() {
        let c = signed(Some("Fair EPA Ltd"), Some("0161 496 0000"));
        let r = c.render_outcome(&outcome("Not achieved", false, "Amy Apprentice")).unwrap();
        for text in [&r.text, &r.html] {
            assert!(text.contains("confirmed by Fair EPA Ltd"), "{text}");
            assert!(text.contains("contact Fair EPA Ltd at 0161 496 0000"), "{text}");
            assert!(
                text.contains("Fair EPA Ltd's appeals policy") && text.contains("ask 0161 496 0000 for a copy"),
                "{text}"
            );
            assert!(text.contains("2 December 2026") && !text.contains("2026-12-02"), "{text}");
            assert!(!text.contains("20 working days"), "a promise the service cannot keep: {text}");
        }
        // Found in the database when not configured; the configured name wins.
        let found = Outcome { assessment_body: Some("Northern EPA"), ..outcome("Pass", true, "Amy") };
        assert!(signed(None, None).render_outcome(&found).unwrap().text.contains("confirmed by Northern EPA"));
        assert!(c.render_outcome(&found).unwrap().text.contains("confirmed by Fair EPA Ltd"));
        // Neither: neutral words, and no invented address.
        let r = signed(None, None).render_outcome(&outcome("Not achieved", false, "Amy")).unwrap();
        for text in [&r.text, &r.html] {
            assert!(text.contains("confirmed by the assessment body"), "{text}");
            assert!(text.contains("contact the assessment body that conducted it"), "{text}");
            assert!(!text.contains('@') && !text.contains("Assessment body:"), "{text}");
        }
        // The date is the zone's: late evening UTC in summer is the next day in London.
        let late = Outcome { released_at: "2026-06-30T23:30:00Z", ..outcome("Pass", true, "Amy") };
        assert!(c.render_outcome(&late).unwrap().text.contains("Confirmed on: 1 July 2026"));
    }

    #[test]
    fn outcome_names_standard_grade_and_next_steps() {
        let r = composer().render_outcome(&outcome("Distinction", true, "Amy Apprentice")).unwrap();
        assert!(
            r.subject.contains("Distinction") && r.subject.contains("Senior Housing/Property Management"),
            "{}",
            r.subject
        );
        assert!(!r.subject.contains('\n'));
        assert!(r.text.contains("What happens next") && r.text.contains("certificate"));
        assert!(r.html.contains("<strong>Distinction</strong>"));
        let r = composer().render_outcome(&outcome("Not achieved", false, "Amy Apprentice")).unwrap();
        assert!(r.text.contains("appeal"));
    }

    #[test]
    fn html_escapes_names() {
        let r = composer().render_outcome(&outcome("Pass", true, "<script>alert(1)</script>")).unwrap();
        assert!(!r.html.contains("<script>alert"));
        assert!(r.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_secs(5));
        assert_eq!(p.backoff(2), Duration::from_secs(10));
        assert_eq!(p.backoff(30), Duration::from_secs(3600));
    }

    #[test]
    fn message_ids_are_in_the_senders_domain() {
        assert_eq!(composer().message_id("abc"), "<abc@body.test>");
    }
}
