//! Browser tests: Debian's headless Chromium, driven through chromedriver with fantoccini, against
//! the real server (`TestApp`, SQLite, a real SMTP server). People sign in and work through the
//! pages only; the admin prepares organisations, users and the registration through the API (as
//! an assessment body's own systems would), and passwords are set with `epa-panel user password`.
//!
//! Every page visited is saved as a full-page screenshot under `target/screenshots/` (not
//! committed) for a person to look at. Without Chromium these tests say SKIPPED loudly, or fail
//! when `CI` is set (`.ci/run` installs `chromium chromium-driver`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client as Session, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::app::{agreed, sheet, with, Backend, Item, Member, Names, Panel, Sheet, TestApp, STANDARD};

const PASSWORD: &str = "a long panel-day password";
const DRIVERS: [&str; 2] = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
const BROWSERS: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// One chromedriver per test, on a port of its own; stopped (with its browsers) when dropped.
struct Driver {
    child: Child,
    url: String,
    browser: PathBuf,
    profiles: tempfile::TempDir,
    sessions: AtomicUsize,
}

impl Driver {
    /// None (after saying so loudly) when Chromium is not installed, unless `CI` is set.
    fn start(test: &str) -> Option<Driver> {
        let driver = DRIVERS.iter().map(PathBuf::from).find(|p| p.exists());
        let browser = BROWSERS.iter().map(PathBuf::from).find(|p| p.exists());
        let (Some(driver), Some(browser)) = (driver, browser) else {
            if std::env::var_os("CI").is_some() {
                panic!("chromium and chromedriver are missing, and CI is set: the browser tests must run (apt-get install chromium chromium-driver)");
            }
            eprintln!("==================================================================");
            eprintln!("SKIPPED browser test {test}: chromium/chromedriver not installed");
            eprintln!("(apt-get install -y chromium chromium-driver, or run .ci/run)");
            eprintln!("==================================================================");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", driver.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profiles = tempfile::tempdir().expect("a temp dir for browser profiles");
        Some(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            browser,
            profiles,
            sessions: AtomicUsize::new(0),
        })
    }

    /// A new browser with a fresh profile: its own cookies, as another person's laptop.
    async fn session(&self) -> Session {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let profile = self.profiles.path().join(format!("profile-{n}"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.browser,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-default-apps", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(caps).connect(&self.url).await.expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sets a user's web password (as `epa-panel user password` does; that command is tested below).
fn set_password(app: &TestApp, email: &str) {
    epa_panel::services::people::set_password(&mut app.connect(), None, email, PASSWORD)
        .unwrap_or_else(|e| panic!("set the password of {email}: {e}"));
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// One person at their browser.
struct Person {
    s: Session,
    base: String,
    who: &'static str,
}

impl Person {
    async fn new(driver: &Driver, app: &TestApp, who: &'static str) -> Person {
        let base = app.base_url();
        Person { s: driver.session().await, base, who }
    }

    async fn goto(&self, path: &str) {
        self.s.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("{}: goto {path}: {e}", self.who));
    }

    async fn path(&self) -> String {
        let url = self.s.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn wait_for(&self, locator: Locator<'_>, what: &str) -> fantoccini::elements::Element {
        match self.s.wait().at_most(Duration::from_secs(10)).for_element(locator).await {
            Ok(el) => el,
            Err(e) => panic!("{} on {}: no {what}: {e}\n{}", self.who, self.path().await, self.text().await),
        }
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_for(Locator::Css(css), css).await
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.click().await {
            panic!("{} on {}: click {css}: {e}", self.who, self.path().await);
        }
    }

    /// Clicks the button whose text contains `label`.
    async fn press(&self, label: &str) {
        let xpath = format!("//button[contains(normalize-space(.), '{label}')]");
        let el = self.wait_for(Locator::XPath(&xpath), &format!("button {label:?}")).await;
        if let Err(e) = el.click().await {
            panic!("{} on {}: press {label:?}: {e}", self.who, self.path().await);
        }
    }

    async fn follow(&self, label: &str) {
        let xpath = format!("//a[contains(normalize-space(.), '{label}')]");
        let el = self.wait_for(Locator::XPath(&xpath), &format!("link {label:?}")).await;
        if let Err(e) = el.click().await {
            panic!("{} on {}: follow {label:?}: {e}", self.who, self.path().await);
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear a field");
        el.send_keys(text).await.expect("type into a field");
    }

    /// The page's text as a person reads it.
    async fn text(&self) -> String {
        match self.s.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn source(&self) -> String {
        self.s.source().await.expect("the page's source")
    }

    /// Waits (up to 10 s) until the page's text contains `needle`.
    async fn wait_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("{} on {}: waited for {needle:?} in:\n{text}", self.who, self.path().await);
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.s.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{}: script failed: {e}", self.who))
    }

    /// A full-page screenshot at `width` CSS pixels, saved as target/screenshots/NAME.png: the
    /// window grows until the whole page fits (a browser's own frame takes some of its height).
    async fn shot_at(&self, name: &str, width: u32) {
        self.s.set_window_size(width, 900).await.expect("resize");
        let mut height = 900_u32;
        for _ in 0..4 {
            let sizes = self
                .js("window.scrollTo(0, 0); return [document.documentElement.scrollHeight, window.innerHeight]")
                .await;
            let (page, inner) = (sizes[0].as_u64().unwrap_or(900) as u32, sizes[1].as_u64().unwrap_or(900) as u32);
            if inner >= page || height >= 14_000 {
                break;
            }
            height = (height + page - inner + 2).min(14_000);
            self.s.set_window_size(width, height).await.expect("resize");
        }
        let png = self.s.screenshot().await.expect("a screenshot");
        std::fs::write(screenshots().join(format!("{name}.png")), png).expect("save the screenshot");
        self.s.set_window_size(1280, 900).await.expect("resize back");
    }

    async fn shot(&self, name: &str) {
        self.shot_at(name, 1280).await;
    }

    async fn sign_in(&self, email: &str) {
        self.goto("/").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.press("Sign in").await;
        self.wait_text("My assessments").await;
        assert!(self.path().await.starts_with("/assessments"), "{} signed in lands on /assessments", self.who);
    }

    async fn close(self) {
        let _ = self.s.close().await;
    }
}

/// A TestApp on `backend` with a real SMTP server, plus chromedriver; None when skipped.
async fn setup(test: &str, backend: Backend) -> Option<(TestApp, Driver)> {
    let driver = Driver::start(&format!("{test}-{backend:?}"))?;
    let app = TestApp::builder(backend).start().await?;
    Some((app, driver))
}

fn radio(item: &Item, score: i64) -> String {
    format!(r#"input[type="radio"][name="s:{}:{}"][value="{score}"]"#, item.component, item.criterion)
}

fn comment(item: &Item) -> String {
    format!(r#"textarea[name="c:{}:{}"]"#, item.component, item.criterion)
}

async fn is_checked(p: &Person, css: &str) -> bool {
    p.find(css).await.is_selected().await.expect("is_selected")
}

/// Scores every item on the member's sheet, then reviews and submits it.
async fn score_and_submit(p: &Person, panel: &Panel, score: impl Fn(usize) -> i64, shots: &str) {
    p.goto(&format!("/assessments/{}/scores", panel.id)).await;
    p.wait_text("items scored").await;
    for (i, item) in panel.items().iter().enumerate() {
        p.click(&radio(item, score(i))).await;
    }
    p.wait_text("Draft saved at").await;
    p.shot(&format!("{shots}-sheet-filled")).await;
    p.press("Review and submit").await;
    p.wait_text("Every item is scored").await;
    p.shot(&format!("{shots}-review")).await;
    p.press("Submit my scores (final)").await;
    p.wait_text("Your score sheet is submitted").await;
}

/// Runs on both backends, like every integration test.
mod a_whole_panel_day_through_the_pages {
    #[actix_web::test]
    async fn sqlite() {
        super::a_whole_panel_day_through_the_pages(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_whole_panel_day_through_the_pages(super::Backend::Postgres).await;
    }
}

async fn a_whole_panel_day_through_the_pages(backend: Backend) {
    let Some((app, driver)) = setup("a_whole_panel_day_through_the_pages", backend).await else { return };
    let people = app.people(Names::default()).await;
    let panel = people.register(&app, STANDARD).await;
    for email in ["ada@fairepa.test", &panel.lm.email, &panel.tp.email, &panel.ia.email, &panel.moderator.email] {
        set_password(&app, email);
    }
    let id = panel.id.clone();
    let items = panel.items().to_vec();
    assert!(items.len() >= 3, "the standard has score items");

    // Sign-in page, as a visitor sees it.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.goto("/").await;
    lm.wait_text("Sign in").await;
    lm.shot("01-sign-in").await;
    lm.shot_at("01-sign-in-phone", 390).await;
    // A wrong password is refused in words.
    lm.fill("#email", &panel.lm.email).await;
    lm.fill("#password", "not the password").await;
    lm.press("Sign in").await;
    lm.wait_text("do not match").await;
    lm.shot("02-sign-in-refused").await;

    // The line manager confirms the gateway.
    lm.sign_in(&panel.lm.email).await;
    lm.wait_text("Confirm the gateway").await;
    lm.shot("03-home-line-manager").await;
    lm.follow("Confirm the gateway").await;
    lm.wait_text("The gateway checks").await;
    lm.shot("04-gateway-unmet").await;
    for field in ["portfolio_complete", "english_level2", "maths_level2", "employer_ready", "provider_ready"] {
        lm.click(&format!("#field-{field}")).await;
    }
    lm.click(r#"input[name="knowledge_route"][value="qualification"]"#).await;
    lm.fill("#field-knowledge_reference", "CIH Level 4 Certificate 603/1433/3").await;
    // The apprentice's units (the certificate: the mandatory unit and five optional ones), among
    // them the legal framework (K1) and financial management (K2, K3, K4, K6); K5 is not covered.
    for unit in ["F/507/9169", "H/504/4186", "L/504/4179", "F/504/4180", "M/504/4188", "R/507/9256"] {
        lm.click(&format!(r#"input[name="knowledge_units"][value="{unit}"]"#)).await;
    }
    lm.press("Save the gateway checks").await;
    let text = lm.wait_text("The gateway checks are saved").await;
    assert!(text.contains("Every gateway check is met"), "{text}");
    assert!(text.contains("Knowledge the qualification did not cover") && text.contains("K5 · Context"), "{text}");
    assert!(text.contains("Confirmed by Lena Line"), "who confirmed each check: {text}");
    lm.shot("05-gateway-met").await;
    assert_eq!(panel.status().await, "gateway_passed");

    // The admin appoints the panel; the conflict rule is the service's, shown beside the field.
    let admin = Person::new(&driver, &app, "admin").await;
    admin.sign_in("ada@fairepa.test").await;
    admin.wait_text("Appoint the panel").await;
    admin.shot("06-home-admin").await;
    admin.follow("Appoint the panel").await;
    admin.find("#field-independent_assessor_id").await.select_by_value(&panel.insider.id).await.expect("choose");
    admin.js("document.getElementById('field-viva_at').value = '2026-12-01T10:00'; return null").await;
    admin.click(r#"input[name="mode"][value="in_person"]"#).await;
    admin.press("Appoint the panel").await;
    let text = admin.wait_text("There is a problem").await;
    assert!(text.contains("cannot be independent"), "{text}");
    admin.shot("07-panel-conflict-refused").await;
    admin.find("#field-independent_assessor_id").await.select_by_value(&panel.ia.id).await.expect("choose");
    admin.press("Appoint the panel").await;
    admin.wait_text("The panel is appointed").await;
    admin.shot("08-panel-appointed").await;

    // The independent assessor declares, prepares the viva and records it.
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    ia.wait_text("Declare your independence").await;
    ia.follow("Declare").await;
    ia.click("#involvement-none").await;
    ia.click("#conflict-none").await;
    ia.shot("09-declaration").await;
    ia.press("Continue").await;
    ia.wait_text("You are declaring").await;
    ia.press("Confirm my declaration").await;
    ia.wait_text("Your declaration is recorded").await;
    ia.goto(&format!("/assessments/{id}/viva")).await;
    let text = ia.wait_text("Prepare").await;
    assert!(text.contains("Knowledge (") && text.contains("Behaviours ("), "criteria grouped by kind: {text}");
    assert!(text.contains("Not covered by the qualification's units") && text.contains("K5 · Context"), "{text}");
    ia.fill("#new_question", "How did you involve tenants in the repairs policy?").await;
    ia.fill("#new_response", "Two resident panels and a survey of 140 households.").await;
    ia.press("Save the record").await;
    ia.wait_text("The viva record is saved").await;
    ia.fill("#new_question", "What would you change next time?").await;
    ia.fill("#new_response", "Start the consultation earlier.").await;
    ia.press("Save the record").await;
    ia.wait_text("The viva record is saved").await;
    assert_eq!(
        ia.find("#question_2").await.prop("value").await.expect("value").as_deref(),
        Some("What would you change next time?")
    );
    ia.shot("10-viva").await;

    // Three members score alone, in their own browsers.
    lm.goto("/assessments").await;
    lm.wait_text("Open my score sheet").await;
    lm.follow("Open my score sheet").await;
    lm.wait_text("items scored").await;
    lm.shot("11-score-sheet-empty").await;
    lm.shot_at("11-score-sheet-tablet-768", 768).await;
    lm.shot_at("11-score-sheet-phone", 390).await;
    // A few scores and a comment, saved as they go; a reload loses nothing.
    lm.click(&radio(&items[0], 3)).await;
    lm.click(&radio(&items[1], 4)).await;
    lm.fill(&comment(&items[0]), "LM private remark on the first item").await;
    lm.wait_text("Draft saved at").await;
    lm.s.refresh().await.expect("reload");
    lm.wait_text("items scored").await;
    assert!(is_checked(&lm, &radio(&items[0], 3)).await, "the draft survives a reload");
    assert!(is_checked(&lm, &radio(&items[1], 4)).await);
    let c = lm.find(&comment(&items[0])).await.prop("value").await.expect("value");
    assert_eq!(c.as_deref(), Some("LM private remark on the first item"));
    let lm_scores = |i: usize| if i == 0 { 3 } else { 4 };
    score_and_submit(&lm, &panel, lm_scores, "12-line-manager").await;
    lm.shot("13-score-sheet-submitted").await;

    let tp = Person::new(&driver, &app, "training provider").await;
    tp.sign_in(&panel.tp.email).await;
    tp.goto(&format!("/assessments/{id}/scores")).await;
    let text = tp.wait_text("items scored").await;
    let source = tp.source().await;
    assert!(!source.contains("LM private remark"), "another member's scores are sealed");
    assert!(text.contains("Line manager: Lena Line submitted"), "{text}");
    tp.goto(&format!("/assessments/{id}/consensus")).await;
    tp.wait_text("Scores are sealed").await;
    tp.shot("14-consensus-sealed").await;
    score_and_submit(&tp, &panel, |i| [5, 3].get(i).copied().unwrap_or(4), "15-training-provider").await;

    score_and_submit(&ia, &panel, |_| 4, "16-independent-assessor").await;
    assert_eq!(panel.status().await, "consensus");

    // Consensus: disagreements first, the widest range first; one agreed, one deadlock.
    ia.goto("/assessments").await;
    ia.follow("Open the consensus console").await;
    let text = ia.wait_text("Disagreements").await;
    assert!(text.contains("LM private remark"), "once all three are in, comments are shown");
    ia.shot("17-consensus").await;
    let field = |item: &Item| format!(r#"input[name="a:{}:{}"]"#, item.component, item.criterion);
    ia.click(&format!(r#"{}[value="4"]"#, field(&items[0]))).await;
    ia.fill(
        &format!(r#"textarea[name="r:{}:{}"]"#, items[0].component, items[0].criterion),
        "Strong evidence in the report.",
    )
    .await;
    ia.click(&format!(r#"{}[value="deadlock"]"#, field(&items[1]))).await;
    ia.fill("#notes", "Agreed on the day, one item decided by the independent assessor.").await;
    ia.press("Save the consensus").await;
    let text = ia.wait_text("What the panel would decide now").await;
    assert!(text.contains("Distinction"), "{text}");
    assert!(text.contains("4.00"), "the weighted score: {text}");
    ia.shot("18-decision-preview").await;
    ia.fill("#field-notes", "Consistently strong; distinction.").await;
    ia.press("Confirm the decision").await;
    ia.wait_text("The decision is recorded").await;
    ia.shot("19-after-decision").await;
    assert_eq!(panel.status().await, "decided");

    // The moderator: the queue, the decision, confirm.
    let moderator = Person::new(&driver, &app, "moderator").await;
    moderator.sign_in(&panel.moderator.email).await;
    moderator.follow("Moderation").await;
    let text = moderator.wait_text("To moderate").await;
    assert!(text.contains("decided by the independent assessor") && text.contains("highest grade"), "{text}");
    moderator.shot("20-moderation-queue").await;
    moderator.follow("Moderate").await;
    moderator.wait_text("The panel's decision").await;
    moderator.shot("21-moderate").await;
    moderator.click(r#"input[name="action"][value="confirm"]"#).await;
    moderator.fill("#field-rationale", "Due process followed; comparable with others.").await;
    moderator.press("Record my moderation").await;
    moderator.wait_text("The outcome is released").await;

    // The outcome email reaches the real SMTP server, one per recipient.
    let emails = app.wait_for_emails(3).await;
    assert_eq!(emails.len(), 3, "apprentice, line manager, training provider");
    assert!(emails.iter().all(|e| e.all_text().contains("Distinction")));
    let _ = panel.wait_for_email_status("sent").await;
    moderator.goto("/moderation").await;
    let text = moderator.wait_text("Released outcomes").await;
    assert!(text.contains("all emails delivered"), "{text}");
    moderator.shot("22-moderation-released").await;

    // Reports and the audit trail.
    moderator.follow("Reports").await;
    let text = moderator.wait_text("At a glance").await;
    assert!(text.contains("1 decided assessment"), "{text}");
    let svg = moderator.source().await;
    assert!(svg.contains("<svg") && svg.contains("chart-lenient") || svg.contains("chart-severe"), "the lean chart");
    moderator.shot("23-reports").await;
    let csv = moderator.js("return fetch('/reports/outcomes.csv').then(r => r.text())").await;
    assert!(csv.as_str().unwrap_or_default().contains("Distinction"), "{csv}");
    moderator.goto(&format!("/assessments/{id}/audit")).await;
    let text = moderator.wait_text("moderation confirm").await;
    assert!(text.contains("score sheet submitted"), "{text}");
    moderator.shot("24-audit").await;
    lm.goto(&format!("/assessments/{id}")).await;
    lm.wait_text("Outcome emails").await;
    lm.shot("25-overview-released").await;

    for p in [lm, tp, ia, admin, moderator] {
        p.close().await;
    }
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod a_form_without_its_csrf_token_is_refused {
    #[actix_web::test]
    async fn sqlite() {
        super::a_form_without_its_csrf_token_is_refused(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_form_without_its_csrf_token_is_refused(super::Backend::Postgres).await;
    }
}

async fn a_form_without_its_csrf_token_is_refused(backend: Backend) {
    let Some((app, driver)) = setup("a_form_without_its_csrf_token_is_refused", backend).await else { return };
    let panel = app.registered().await;
    set_password(&app, &panel.lm.email);
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    lm.goto(&format!("/assessments/{}/gateway", panel.id)).await;
    lm.wait_text("Confirm the checks").await;
    // A token from elsewhere: the form is refused with a clear page, and nothing changes.
    lm.click("#field-portfolio_complete").await;
    lm.js("document.querySelector('form[action$=\"/gateway\"] input[name=csrf]').value = 'forged'; return null").await;
    lm.press("Save the gateway checks").await;
    let text = lm.wait_text("Not allowed").await;
    assert!(text.contains("reload the page"), "{text}");
    lm.shot("30-csrf-refused").await;
    let view = panel.view().await;
    assert_eq!(view["gateway"]["unmet"].as_array().map(Vec::len), Some(7), "nothing was saved: {view}");
    // A request without any token (what another site's form would send with the cookie).
    let status = lm
        .js(&format!(
            "return fetch('/assessments/{}/gateway', {{method: 'POST', headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: 'portfolio_complete=true'}}).then(r => r.status)",
            panel.id
        ))
        .await;
    assert_eq!(status, json!(403));
    // Signing out needs the token too; with it, the session ends on the server.
    lm.goto("/assessments").await;
    lm.press("Sign out").await;
    lm.wait_text("You have signed out").await;
    lm.goto("/assessments").await;
    lm.wait_text("Sign in").await;
    assert!(lm.path().await.starts_with("/?next="), "signed out: back to the sign-in page");
    lm.close().await;
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod sealed_scores_never_reach_another_members_page {
    #[actix_web::test]
    async fn sqlite() {
        super::sealed_scores_never_reach_another_members_page(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::sealed_scores_never_reach_another_members_page(super::Backend::Postgres).await;
    }
}

async fn sealed_scores_never_reach_another_members_page(backend: Backend) {
    let Some((app, driver)) = setup("sealed_scores_never_reach_another_members_page", backend).await else { return };
    let names = Names { apprentice: "<script>alert(1)</script>".into(), ..Names::default() };
    let panel = app.panel_for(STANDARD, names).await;
    set_password(&app, &panel.tp.email);
    // The line manager scores (through the API here) with a comment only they may see yet.
    let items = panel.items().to_vec();
    let first = json!({"component": items[0].component, "criterion": items[0].criterion, "score": 2, "comment": "sealed-LM-comment"});
    let lm_client: &Member = &panel.lm;
    lm_client.expect(200, "PUT", &panel.path("/scores"), json!({"scores": [first], "submit": false})).await;
    let tp = Person::new(&driver, &app, "training provider").await;
    tp.sign_in(&panel.tp.email).await;
    // The apprentice's name is shown as text, never run.
    let text = tp.wait_text("<script>alert(1)</script>").await;
    assert!(text.contains("Open my score sheet"), "{text}");
    assert!(tp.s.get_alert_text().await.is_err(), "no script ran");
    let source = tp.source().await;
    assert!(source.contains("&lt;script&gt;alert(1)") && !source.contains("<script>alert"), "text, not markup");
    for path in ["/scores", "/consensus", "", "/viva", "/audit"] {
        tp.goto(&format!("/assessments/{}{path}", panel.id)).await;
        tp.wait_text("<script>alert(1)</script>").await;
        let source = tp.source().await;
        assert!(!source.contains("sealed-LM-comment"), "/{path} shows nothing of another member's sheet");
    }
    tp.goto(&format!("/assessments/{}/scores", panel.id)).await;
    tp.shot("31-sealed-other-member").await;
    // Another member's assessment they do not sit on: a clear 404 page.
    tp.goto("/assessments/no-such-assessment").await;
    tp.wait_text("Page not found").await;
    tp.shot("32-not-found").await;
    tp.goto("/reports").await;
    tp.wait_text("Not allowed").await;
    tp.shot("33-forbidden").await;
    tp.close().await;
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod a_draft_survives_a_reload_with_or_without_javascript {
    #[actix_web::test]
    async fn sqlite() {
        super::a_draft_survives_a_reload_with_or_without_javascript(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_draft_survives_a_reload_with_or_without_javascript(super::Backend::Postgres).await;
    }
}

async fn a_draft_survives_a_reload_with_or_without_javascript(backend: Backend) {
    let Some((app, driver)) = setup("a_draft_survives_a_reload_with_or_without_javascript", backend).await else {
        return;
    };
    let panel = app.panel().await;
    set_password(&app, &panel.lm.email);
    let items = panel.items().to_vec();
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    lm.goto(&format!("/assessments/{}/scores", panel.id)).await;
    lm.wait_text("items scored").await;
    // Saved as you go (autosave.js)...
    lm.click(&radio(&items[0], 5)).await;
    lm.fill(&comment(&items[0]), "autosaved comment").await;
    lm.wait_text("Draft saved at").await;
    // ...and with the "Save draft" button, the form working as plain HTML.
    lm.click(&radio(&items[1], 2)).await;
    lm.press("Save draft").await;
    lm.wait_text("Your draft is saved").await;
    lm.s.refresh().await.expect("reload");
    lm.wait_text("items scored").await;
    assert!(is_checked(&lm, &radio(&items[0], 5)).await);
    assert!(is_checked(&lm, &radio(&items[1], 2)).await);
    assert_eq!(
        lm.find(&comment(&items[0])).await.prop("value").await.expect("value").as_deref(),
        Some("autosaved comment")
    );
    // The service holds the same draft.
    let sheets = panel.lm.get(&panel.path("/scores")).await;
    let own = sheets["sheets"].as_array().and_then(|s| s.iter().find(|s| s["user_id"] == json!(panel.lm.id))).cloned();
    assert_eq!(own.map(|s| s["scores"].as_array().map(Vec::len)), Some(Some(2)), "{sheets}");
    // Review lists what is missing, linked to each item.
    lm.press("Review and submit").await;
    let text = lm.wait_text("still to score").await;
    assert!(text.contains(&format!("{} items still to score", items.len() - 2)), "{text}");
    lm.shot("34-review-missing").await;
    lm.close().await;
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod sign_in_is_throttled_after_repeated_failures {
    #[actix_web::test]
    async fn sqlite() {
        super::sign_in_is_throttled_after_repeated_failures(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::sign_in_is_throttled_after_repeated_failures(super::Backend::Postgres).await;
    }
}

async fn sign_in_is_throttled_after_repeated_failures(backend: Backend) {
    let Some((app, driver)) = setup("sign_in_is_throttled_after_repeated_failures", backend).await else { return };
    let panel = app.registered().await;
    set_password(&app, &panel.tp.email);
    let tp = Person::new(&driver, &app, "training provider").await;
    for _ in 0..5 {
        tp.goto("/").await;
        tp.fill("#email", &panel.tp.email).await;
        tp.fill("#password", "wrong guess").await;
        tp.press("Sign in").await;
        tp.wait_text("do not match").await;
    }
    // Even the right password is refused now, with a message that says why and for how long.
    tp.goto("/").await;
    tp.fill("#email", &panel.tp.email).await;
    tp.fill("#password", PASSWORD).await;
    tp.press("Sign in").await;
    let text = tp.wait_text("Too many failed sign-ins").await;
    assert!(text.contains("15 minutes"), "{text}");
    tp.shot("35-sign-in-throttled").await;
    tp.close().await;
    app.shutdown().await;
}

#[test]
fn the_cli_sets_web_passwords() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_epa-panel"))
            .args(args)
            .env("EPA_DATABASE_URL", &url)
            .current_dir(dir.path())
            .output()
            .expect("run epa-panel")
    };
    let weak = run(&["user", "add", "--email", "w@x.test", "--name", "W", "--role", "admin", "--password", "short"]);
    assert!(!weak.status.success(), "a weak password is refused");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));
    let added =
        run(&["user", "add", "--email", "ada@x.test", "--name", "Ada", "--role", "admin", "--password", PASSWORD]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("\"token\""));
    let changed = run(&["user", "password", "--email", "ada@x.test", "--password", "another long password"]);
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
    let unknown = run(&["user", "password", "--email", "nobody@x.test", "--password", "another long password"]);
    assert!(!unknown.status.success());
    // The hash is Argon2id, and the weak user was never created.
    let mut conn = epa_panel::db::DatabaseUrl::parse(&url).expect("url").connect().expect("connect");
    let candidate =
        epa_panel::services::people::sign_in_candidate(&mut conn, "ada@x.test", "127.0.0.1").expect("candidate");
    let (_, hash) = candidate.user.expect("ada has a password");
    assert!(hash.starts_with("$argon2id$"));
    assert!(epa_panel::services::people::verify_password(&hash, "another long password"));
    assert!(epa_panel::services::people::sign_in_candidate(&mut conn, "w@x.test", "127.0.0.1")
        .expect("candidate")
        .user
        .is_none());
}

/// The admin chooses a CSV file on the import page: its text fills the box, and importing it
/// registers every row.
#[actix_web::test]
async fn a_chosen_csv_file_is_imported() {
    let Some((app, driver)) = setup("a_chosen_csv_file_is_imported", Backend::Sqlite).await else { return };
    let people = app.people(Names::default()).await;
    set_password(&app, "ada@fairepa.test");
    let csv = format!(
        "apprentice_name,apprentice_email,employer_id,training_provider_id,standard_id,line_manager_email,training_provider_email\n\
         Bea Browser,bea@northgate.test,{e},{t},{STANDARD},{lm},{tp}\n\
         Cal Chooser,cal@northgate.test,{e},{t},{STANDARD},{lm},{tp}\n",
        e = people.employer_id,
        t = people.provider_id,
        lm = people.lm.email,
        tp = people.tp.email,
    );
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("registrations.csv");
    std::fs::write(&file, &csv).unwrap();

    let admin = Person::new(&driver, &app, "admin").await;
    admin.sign_in("ada@fairepa.test").await;
    admin.goto("/admin/import").await;
    admin.wait_text("Choose a CSV file").await;
    admin.find("#field-csv-file").await.send_keys(&file.display().to_string()).await.expect("choose the file");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = admin.js("return document.getElementById('field-csv').value;").await;
        if text.as_str().is_some_and(|t| t.contains("Cal Chooser")) {
            break;
        }
        assert!(Instant::now() < deadline, "the chosen file never filled the box: {text}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    admin.shot("36-import-file-chosen").await;
    admin.press("Import").await;
    admin.wait_text("2 EPAs registered").await;
    let list = people.admin.get("/api/v1/assessments").await;
    let names: Vec<String> = list.as_array().unwrap().iter().map(|a| a["apprentice"]["name"].to_string()).collect();
    assert!(
        names.iter().any(|n| n.contains("Bea Browser")) && names.iter().any(|n| n.contains("Cal Chooser")),
        "{names:?}"
    );
    admin.close().await;
}

/// The text under the gateway card's entry for `label` (who changed it and when).
async fn gateway_entry(p: &Person, label: &str) -> String {
    let xpath = format!("//ol[contains(@class, 'checks')]//dt[normalize-space(.)='{label}']/following-sibling::dd[1]");
    let el = p.wait_for(Locator::XPath(&xpath), &format!("gateway entry {label:?}")).await;
    el.text().await.expect("the entry's text")
}

/// Runs on both backends, like every integration test.
mod the_gateway_credits_each_check_to_whoever_set_it {
    #[actix_web::test]
    async fn sqlite() {
        super::the_gateway_credits_each_check_to_whoever_set_it(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::the_gateway_credits_each_check_to_whoever_set_it(super::Backend::Postgres).await;
    }
}

async fn the_gateway_credits_each_check_to_whoever_set_it(backend: Backend) {
    let Some((app, driver)) = setup("the_gateway_credits_each_check_to_whoever_set_it", backend).await else {
        return;
    };
    let panel = app.registered().await;
    set_password(&app, &panel.lm.email);
    set_password(&app, &panel.tp.email);
    const EMPLOYER: &str = "The employer (line manager) judges the apprentice ready";
    const PROVIDER: &str = "The training provider judges the apprentice ready";
    const PORTFOLIO: &str = "Portfolio reviewed: every criterion complete to the required standard";

    // The line manager ticks the portfolio and their own readiness view, nothing else.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    lm.goto(&format!("/assessments/{}/gateway", panel.id)).await;
    let text = lm.wait_text("Confirm the checks").await;
    assert!(text.contains(EMPLOYER) && text.contains(PROVIDER), "readiness by whose view it is: {text}");
    lm.click("#field-portfolio_complete").await;
    lm.click("#field-employer_ready").await;
    lm.press("Save the gateway checks").await;
    lm.wait_text("The gateway checks are saved").await;
    assert!(gateway_entry(&lm, PORTFOLIO).await.contains("Confirmed by Lena Line on"));
    assert!(gateway_entry(&lm, EMPLOYER).await.contains("Confirmed by Lena Line on"));
    let provider = gateway_entry(&lm, PROVIDER).await;
    assert!(provider.contains("Not yet confirmed") && !provider.contains("Lena Line"), "{provider}");
    let english = gateway_entry(&lm, "English at Level 2 achieved").await;
    assert!(english.contains("Not yet confirmed"), "a check still at No is nobody's confirmation: {english}");
    lm.shot("40-gateway-line-manager").await;

    // The provider gives their view and takes English back to No: only those are theirs.
    let tp = Person::new(&driver, &app, "training provider").await;
    tp.sign_in(&panel.tp.email).await;
    tp.goto(&format!("/assessments/{}/gateway", panel.id)).await;
    tp.wait_text("Confirm the checks").await;
    tp.click("#field-provider_ready").await;
    tp.click("#field-english_level2").await;
    tp.press("Save the gateway checks").await;
    tp.wait_text("The gateway checks are saved").await;
    tp.click("#field-english_level2").await;
    tp.press("Save the gateway checks").await;
    tp.wait_text("The gateway checks are saved").await;
    assert!(gateway_entry(&tp, PROVIDER).await.contains("Confirmed by Tom Tutor on"));
    assert!(gateway_entry(&tp, EMPLOYER).await.contains("Confirmed by Lena Line on"));
    assert!(gateway_entry(&tp, PORTFOLIO).await.contains("Confirmed by Lena Line on"));
    let english = gateway_entry(&tp, "English at Level 2 achieved").await;
    assert!(english.contains("Set to No by Tom Tutor on") && !english.contains("Confirmed"), "{english}");
    tp.shot("41-gateway-provider").await;
    for p in [lm, tp] {
        p.close().await;
    }
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod a_refer_backs_reason_is_shown_to_the_panel {
    #[actix_web::test]
    async fn sqlite() {
        super::a_refer_backs_reason_is_shown_to_the_panel(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_refer_backs_reason_is_shown_to_the_panel(super::Backend::Postgres).await;
    }
}

async fn a_refer_backs_reason_is_shown_to_the_panel(backend: Backend) {
    let Some((app, driver)) = setup("a_refer_backs_reason_is_shown_to_the_panel", backend).await else { return };
    let panel = app.panel().await;
    let all4 = crate::app::sheet(panel.items(), 4);
    panel.submit_all(&all4, &all4, &all4).await;
    panel.record_viva().await;
    panel.decide().await;
    let reason = "Explain why every viva item scored exactly 4.";
    panel.moderate("refer_back", reason).await;
    set_password(&app, &panel.ia.email);
    set_password(&app, &panel.lm.email);

    // The assessor's home row says it was referred back, and why.
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    let text = ia.wait_text("Open the consensus console").await;
    assert!(text.contains("Referred back") && text.contains(reason), "the home row: {text}");
    ia.shot("42-home-referred-back").await;
    // The consensus console opens with the reason, above the scores.
    ia.follow("Open the consensus console").await;
    let text = ia.wait_text("Referred back by moderation").await;
    assert!(text.contains(reason), "{text}");
    let banner = ia.find("#referred-back").await.text().await.expect("the banner's text");
    assert!(banner.contains(reason) && banner.contains(&panel.moderator.name), "who referred it back: {banner}");
    let top = ia
        .js("const b = document.getElementById('referred-back'), m = document.querySelector('ul.members'); \
             return !!(b && m && (b.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING))")
        .await;
    assert_eq!(top, json!(true), "the reason comes before the scores");
    ia.shot("43-consensus-referred-back").await;

    // The rest of the panel sees it on their home page too.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    let text = lm.wait_text("See the scores side by side").await;
    assert!(text.contains("Referred back") && text.contains(reason), "{text}");

    // Until the next decision.
    panel.decide().await;
    ia.goto("/assessments").await;
    let text = ia.wait_text("My assessments").await;
    assert!(!text.contains("Referred back") && !text.contains(reason), "decided again: {text}");
    for p in [ia, lm] {
        p.close().await;
    }
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod the_declaration_is_chosen_explicitly_and_confirmed_before_it_is_saved {
    #[actix_web::test]
    async fn sqlite() {
        super::the_declaration_is_chosen_explicitly_and_confirmed_before_it_is_saved(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::the_declaration_is_chosen_explicitly_and_confirmed_before_it_is_saved(super::Backend::Postgres).await;
    }
}

async fn the_declaration_is_chosen_explicitly_and_confirmed_before_it_is_saved(backend: Backend) {
    let test = "the_declaration_is_chosen_explicitly_and_confirmed_before_it_is_saved";
    let Some((app, driver)) = setup(test, backend).await else { return };
    let panel = app.registered().await;
    panel.pass_gateway().await;
    panel.appoint().await;
    set_password(&app, &panel.ia.email);
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    ia.follow("Declare").await;
    ia.wait_text("Conflict of interest").await;
    let declaration = async || panel.view().await["panel"]["declaration"].clone();

    // Nothing is chosen or typed for the assessor.
    for radio in ["#involvement-none", "#involvement-some", "#conflict-none", "#conflict-some"] {
        assert!(!is_checked(&ia, radio).await, "{radio} is not pre-chosen");
    }
    let typed = ia.find("#field-conflict_description").await.prop("value").await.expect("value");
    assert_eq!(typed.as_deref(), Some(""), "nothing pre-filled");
    ia.shot("44-declaration-empty").await;
    // Each choice must be made; a conflict must be described, and not as "none".
    ia.press("Continue").await;
    let text = ia.wait_text("There is a problem").await;
    assert!(text.contains("prior involvement"), "{text}");
    ia.click("#involvement-none").await;
    ia.click("#conflict-some").await;
    ia.fill("#field-conflict_description", "none").await;
    ia.press("Continue").await;
    let text = ia.wait_text("There is a problem").await;
    assert!(text.contains("Describe the conflict of interest"), "{text}");
    assert!(declaration().await.is_null(), "nothing saved");

    // A summary to confirm; "Change" goes back with the choices kept; nothing saved until Confirm.
    assert!(is_checked(&ia, "#involvement-none").await, "the choice survives a refusal");
    ia.click("#conflict-none").await;
    ia.press("Continue").await;
    let text = ia.wait_text("You are declaring").await;
    assert!(text.contains("I have no conflict of interest") && text.contains("no prior involvement"), "{text}");
    ia.shot("45-declaration-review").await;
    assert!(declaration().await.is_null(), "the review step saves nothing");
    ia.press("Change").await;
    ia.wait_text("Describe the conflict of interest").await;
    assert!(is_checked(&ia, "#conflict-none").await && is_checked(&ia, "#involvement-none").await);
    ia.press("Continue").await;
    ia.wait_text("You are declaring").await;
    ia.press("Confirm my declaration").await;
    let text = ia.wait_text("Your declaration is recorded").await;
    assert!(text.contains("Holds") && !text.contains("Scoring is blocked"), "{text}");
    assert_eq!(declaration().await["holds"], json!(true));

    // A conflict found later is declared the same way, and shown as the problem it is.
    ia.press("Continue").await; // the form is offered again while the declaration holds
    ia.wait_text("There is a problem").await;
    ia.click("#involvement-none").await;
    ia.click("#conflict-some").await;
    ia.fill("#field-conflict_description", "I mentored the apprentice last year").await;
    ia.press("Continue").await;
    let text = ia.wait_text("You are declaring").await;
    assert!(text.contains("This declaration does not hold") && text.contains("I mentored"), "{text}");
    ia.press("Confirm my declaration").await;
    let text = ia.wait_text("Scoring is blocked: this declaration does not hold").await;
    assert!(!text.contains("Your declaration is recorded"), "no good news for a declaration that blocks: {text}");
    assert!(text.contains("appoints another independent assessor"), "what happens next: {text}");
    let class = ia.find("#declaration-blocked").await.attr("class").await.expect("class");
    assert_eq!(class.as_deref(), Some("problem"), "an error banner");
    assert!(!ia.source().await.contains("name=\"step\""), "a declared conflict is not offered for change");
    ia.shot("46-declaration-blocked").await;
    assert_eq!(declaration().await["holds"], json!(false));
    ia.goto("/assessments").await;
    let text = ia.wait_text("Scoring is blocked: see why").await;
    assert!(!text.contains("Declare your independence"), "{text}");
    ia.close().await;
    app.shutdown().await;
}

/// Checks a page against several expectations and reports every one that fails (not only the
/// first), so that a layout regression names everything it broke.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }

    fn assert_all(self) {
        assert!(self.0.is_empty(), "{} check(s) failed:\n- {}", self.0.len(), self.0.join("\n- "));
    }
}

impl Person {
    /// Resizes the window to `width` CSS pixels (the viewport, not counting the browser's frame).
    async fn width(&self, width: u32) {
        self.s.set_window_size(width, 900).await.expect("resize");
        let inner = self.js("return window.innerWidth").await.as_u64().unwrap_or(width as u64) as u32;
        if inner != width {
            self.s.set_window_size(width + (width - inner.min(width)), 900).await.expect("resize");
        }
    }

    /// (scrollWidth of the page, innerWidth of the window).
    async fn page_widths(&self) -> (u64, u64) {
        let v = self.js("return [document.documentElement.scrollWidth, window.innerWidth]").await;
        (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0))
    }

    /// Whether every element matching `css` is wholly visible: inside the window and not clipped
    /// by a scrolling ancestor (a table's sideways scroll). None when nothing matches.
    async fn all_visible(&self, css: &str) -> Option<bool> {
        let script = format!(
            r#"const els = [...document.querySelectorAll({css:?})];
               if (els.length === 0) return null;
               return els.every(el => {{
                 const r = el.getBoundingClientRect();
                 if (r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5) return false;
                 for (let p = el.parentElement; p; p = p.parentElement) {{
                   const s = getComputedStyle(p);
                   if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') {{
                     const b = p.getBoundingClientRect();
                     if (r.left < b.left - 0.5 || r.right > b.right + 0.5) return false;
                   }}
                 }}
                 return true;
               }});"#
        );
        self.js(&script).await.as_bool()
    }

    /// The smallest height (CSS px) of the elements matching `css`.
    async fn min_height(&self, css: &str) -> f64 {
        let script = format!(
            "return Math.min(...[...document.querySelectorAll({css:?})].map(e => e.getBoundingClientRect().height))"
        );
        self.js(&script).await.as_f64().unwrap_or(0.0)
    }
}

/// At phone (375 px) and tablet (768 px) widths nothing is wider than the screen or hidden
/// behind a sideways scroll; tap targets are at least 44 px; a "still to score" link lands below
/// the sticky progress bar on a highlighted item.
#[actix_web::test]
async fn pages_fit_phones_and_tablets() {
    let Some((app, driver)) = setup("pages_fit_phones_and_tablets", Backend::Sqlite).await else { return };
    let panel = app.panel().await;
    for email in ["ada@fairepa.test", &panel.lm.email, &panel.ia.email, &panel.moderator.email] {
        set_password(&app, email);
    }
    let (id, items) = (panel.id.clone(), panel.items().to_vec());
    let mut checks = Checks::default();

    // The import page on a phone.
    let admin = Person::new(&driver, &app, "admin").await;
    admin.sign_in("ada@fairepa.test").await;
    admin.goto("/admin/import").await;
    admin.wait_text("Import registrations").await;
    for width in [375, 768] {
        admin.width(width).await;
        let (scroll, inner) = admin.page_widths().await;
        checks.check(scroll <= inner, format!("the import page is {scroll} px wide in a {inner} px window"));
    }
    admin.shot_at("40-import-phone", 375).await;

    // The line manager scores two items, reviews, and follows a "still to score" link.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    lm.width(768).await;
    let two = with(Sheet::new(), &[(&items[0], 3), (&items[1], 3)]);
    panel.save(&panel.lm, &two, false).await;
    lm.goto(&format!("/assessments/{id}/scores/review")).await;
    lm.wait_text("still to score").await;
    let target = format!("{}-{}", items[5].component, items[5].criterion);
    let link = lm.find(&format!("a[href*=\"{}\"]", anchor_of(&items[5]))).await;
    link.click().await.expect("follow the link to a missing item");
    lm.wait_text("items scored").await;
    let landed = lm
        .js(&format!(
            r#"const item = document.getElementById({anchor:?}); const bar = document.querySelector('.progress');
               if (!item) return null;
               return [item.getBoundingClientRect().top, bar.getBoundingClientRect().bottom,
                       item.classList.contains('missing'), document.querySelectorAll('.item.missing').length];"#,
            anchor = anchor_of(&items[5])
        ))
        .await;
    let (top, bar) = (landed[0].as_f64().unwrap_or(-1.0), landed[1].as_f64().unwrap_or(f64::MAX));
    checks.check(
        top >= bar - 0.5,
        format!("item {target} starts at {top} px, under the progress bar ending at {bar} px"),
    );
    checks.check(landed[2] == json!(true), format!("item {target} is highlighted as still to score: {landed}"));
    checks.check(
        landed[3].as_u64() == Some(items.len() as u64 - 2),
        format!("every item still to score is highlighted ({} expected): {landed}", items.len() - 2),
    );
    lm.shot_at("41-sheet-missing-tablet", 768).await;

    // Tap targets: the sign-out button and the breadcrumb links.
    lm.width(375).await;
    let sign_out = lm.min_height(".who button").await;
    checks.check(sign_out >= 44.0, format!("the sign-out button is {sign_out} px tall"));
    let crumbs = lm.min_height(".breadcrumbs a").await;
    checks.check(crumbs >= 44.0, format!("the breadcrumb links are {crumbs} px tall"));

    // Consensus, a decision with a reason on every disagreement, then moderation.
    let all = |s| sheet(&items, s);
    panel.submit_all(&two_and_rest(&items, 3), &all(4), &all(4)).await;
    let agreed: Vec<Value> = items
        .iter()
        .map(|i| {
            agreed(
                i,
                Some(4),
                "A long reason the panel gave for agreeing a 4 on this item, which must be readable on a phone.",
            )
        })
        .collect();
    panel.agree(agreed, "Agreed.").await;
    panel.record_viva().await;
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    ia.goto(&format!("/assessments/{id}/decision")).await;
    ia.wait_text("What the panel would decide now").await;
    for width in [375, 768] {
        ia.width(width).await;
        // The last column of the discussed items' table: "Why".
        let why = ia.all_visible("table:has(caption) tbody tr > :last-child").await;
        checks.check(why == Some(true), format!("at {width} px the decision table's Why column is visible: {why:?}"));
        let (scroll, inner) = ia.page_widths().await;
        checks.check(scroll <= inner, format!("the decision page is {scroll} px wide in a {inner} px window"));
    }
    ia.shot_at("42-decision-phone", 375).await;
    panel.decide().await;

    let moderator = Person::new(&driver, &app, "moderator").await;
    moderator.sign_in(&panel.moderator.email).await;
    moderator.goto("/moderation").await;
    moderator.wait_text("To moderate").await;
    for width in [375, 768] {
        moderator.width(width).await;
        let button = moderator.all_visible("a.button[href$=\"/moderation\"]").await;
        checks.check(button == Some(true), format!("at {width} px the Moderate button is visible: {button:?}"));
        let (scroll, inner) = moderator.page_widths().await;
        checks.check(scroll <= inner, format!("the moderation queue is {scroll} px wide in a {inner} px window"));
    }
    moderator.shot_at("43-moderation-tablet", 768).await;

    for p in [admin, lm, ia, moderator] {
        p.close().await;
    }
    app.shutdown().await;
    checks.assert_all();
}

/// How many elements on the page match `css`.
async fn count(p: &Person, css: &str) -> u64 {
    p.js(&format!("return document.querySelectorAll({css:?}).length")).await.as_u64().unwrap_or(0)
}

/// The anchor of an item on the score sheet (`scores::anchor`).
fn anchor_of(item: &Item) -> String {
    epa_panel::web::pages::scores::anchor(&epa_panel::domain::guide::ItemKey::new(&item.component, &item.criterion))
}

/// Every item at `score` but the first two, which are one lower (a disagreement on each).
fn two_and_rest(items: &[Item], score: i64) -> Sheet {
    with(sheet(items, score), &[(&items[0], score - 1), (&items[1], score - 1)])
}

/// A step's link or button is there only when the step is possible; counts agree with their
/// lists; badges say when; the audit page numbers its entries 1..n and speaks in names and
/// times; the consensus console marks the range without good/bad colours.
#[actix_web::test]
async fn pages_offer_only_possible_steps_and_say_what_is_true() {
    let Some((app, driver)) = setup("pages_offer_only_possible_steps_and_say_what_is_true", Backend::Sqlite).await
    else {
        return;
    };
    let panel = app.panel().await;
    let waiting = app.registered().await;
    for email in ["ada@fairepa.test", &panel.lm.email, &panel.ia.email, &panel.moderator.email, &waiting.lm.email] {
        set_password(&app, email);
    }
    let (id, items) = (panel.id.clone(), panel.items().to_vec());
    let mut checks = Checks::default();
    let links_to = |p: &'static str| format!("a[href=\"/assessments/{id}/{p}\"]");

    // The gateway of an EPA still waiting: the count above the list is the list's length.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&waiting.lm.email).await;
    lm.goto(&format!("/assessments/{}/gateway", waiting.id)).await;
    let text = lm.wait_text("Confirm the checks").await;
    let listed = count(&lm, ".warning li").await;
    checks.check(
        listed > 0 && text.contains(&format!("{listed} answers still needed")),
        format!("the count agrees with the {listed} listed: {text}"),
    );
    checks.check(!text.contains("No not met"), "no \"No not met\"");
    lm.close().await;

    // Scoring is not over: neither the decision nor its moderation is offered.
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    ia.goto(&format!("/assessments/{id}")).await;
    ia.wait_text("Steps").await;
    checks.check(count(&ia, &links_to("decision")).await == 0, "no Decision step before the sheets are in");
    let moderator = Person::new(&driver, &app, "moderator").await;
    moderator.sign_in(&panel.moderator.email).await;
    moderator.goto(&format!("/assessments/{id}")).await;
    moderator.wait_text("Steps").await;
    checks.check(count(&moderator, &links_to("moderation")).await == 0, "no Moderation step before a decision");
    // The panel can be re-appointed until a sheet is submitted, not after.
    let admin = Person::new(&driver, &app, "admin").await;
    admin.sign_in("ada@fairepa.test").await;
    admin.goto(&format!("/assessments/{id}/panel")).await;
    admin.wait_text("Appoint the panel").await;
    let appoint = "form[action$=\"/panel\"] button";
    checks.check(count(&admin, appoint).await == 1, "the panel can be re-appointed before any sheet is in");

    // All three are in, with disagreements: no way to the decision until they are agreed.
    let all = |s| sheet(&items, s);
    panel.save(&panel.lm, &two_and_rest(&items, 3), true).await;
    admin.goto(&format!("/assessments/{id}/panel")).await;
    admin.wait_text("Appoint the panel").await;
    checks.check(count(&admin, appoint).await == 0, "no \"Appoint the panel\" button once a sheet is submitted");
    admin.close().await;
    panel.save(&panel.tp, &all(4), true).await;
    panel.save(&panel.ia, &all(4), true).await;
    assert_eq!(panel.status().await, "consensus");
    ia.goto(&format!("/assessments/{id}/consensus")).await;
    ia.wait_text("Disagreements").await;
    checks.check(count(&ia, &links_to("decision")).await == 0, "no \"Go to the decision\" before the consensus");
    let badges: Vec<String> = serde_json::from_value(
        ia.js("return [...document.querySelectorAll('.members .badge')].map(b => b.textContent.trim())").await,
    )
    .unwrap_or_default();
    checks.check(
        badges.len() == 3
            && badges.iter().all(|b| b.starts_with("submitted ") && b.chars().any(|c| c.is_ascii_digit())),
        format!("each submitted badge says when: {badges:?}"),
    );
    let colours = ia
        .js("const l = document.querySelector('td.score.low'), h = document.querySelector('td.score.high'); \
             return l && h ? [getComputedStyle(l).backgroundColor, getComputedStyle(h).backgroundColor] : null")
        .await;
    checks.check(
        colours[0] == colours[1] && !colours.is_null(),
        format!("lowest and highest share one neutral colour: {colours}"),
    );
    ia.goto(&format!("/assessments/{id}/decision")).await;
    let text = ia.wait_text("Back to the consensus").await;
    checks.check(
        text.contains("has not agreed") && !text.contains("agreed_score") && !text.contains("null"),
        format!("the decision page says in words what is missing: {text}"),
    );
    ia.shot("44-decision-before-consensus").await;

    // Agreed: now the decision is offered.
    let agreed: Vec<Value> = items.iter().map(|i| agreed(i, Some(4), "Agreed on the evidence.")).collect();
    panel.agree(agreed, "Agreed.").await;
    ia.goto(&format!("/assessments/{id}/consensus")).await;
    ia.wait_text("Disagreements").await;
    checks.check(count(&ia, &links_to("decision")).await == 1, "\"Go to the decision\" once the consensus is saved");

    // The audit trail of this assessment: 1..n, names not ids, times not microseconds.
    moderator.goto(&format!("/assessments/{id}/audit")).await;
    let text = moderator.wait_text("Every change").await;
    let numbers: Vec<String> = serde_json::from_value(
        moderator.js("return [...document.querySelectorAll('.audit tbody tr td:first-child')].map(c => c.textContent.trim())").await,
    )
    .unwrap_or_default();
    let expected: Vec<String> = (1..=numbers.len()).map(|n| n.to_string()).collect();
    checks.check(!numbers.is_empty() && numbers == expected, format!("entries numbered 1..n: {numbers:?}"));
    checks
        .check(!text.contains(&panel.ia.id) && !text.contains(&panel.apprentice.id), format!("names, not ids: {text}"));
    checks.check(!text.contains(":00.000000Z"), format!("times to the minute, not microseconds: {text}"));
    moderator.shot("45-audit").await;

    for p in [ia, moderator] {
        p.close().await;
    }
    app.shutdown().await;
    checks.assert_all();
}

/// The standardisation page on a phone and a tablet: its charts and tables fit the window, and
/// the charts are drawn (the page's CSP allows no inline style, so nothing relies on one).
#[actix_web::test]
async fn the_standardisation_page_fits_phones_and_tablets() {
    let Some((app, driver)) = setup("the_standardisation_page_fits_phones_and_tablets", Backend::Sqlite).await else {
        return;
    };
    let (status, _) = app.import_guide(crate::app::REPORT_GUIDE).await;
    assert_eq!(status, 201);
    let panel = app.panel_for("reporting-l4", Names::default()).await;
    crate::standardisation_page::decide_lenient(&panel, 0).await;
    set_password(&app, "ada@fairepa.test");
    let admin = Person::new(&driver, &app, "admin").await;
    admin.sign_in("ada@fairepa.test").await;
    admin.goto("/reports/standardisation").await;
    admin.wait_text("1 decided assessment").await;
    let mut checks = Checks::default();
    for width in [375, 768] {
        admin.width(width).await;
        let (scroll, inner) = admin.page_widths().await;
        checks.check(scroll <= inner, format!("the standardisation page is {scroll} px wide in a {inner} px window"));
        let dots = admin
            .js("return [...document.querySelectorAll('circle.forest-dot')].filter(c => c.getBoundingClientRect().width > 0).length")
            .await;
        checks.check(dots.as_u64() == Some(3), format!("a visible dot per scorer at {width} px: {dots}"));
    }
    admin.shot_at("47-standardisation-phone", 375).await;
    checks.assert_all();
    admin.close().await;
}

/// An appointed reviewer decides an upheld appeal on the page: from their home page to the
/// appeal, every agreed score raised, the decision recorded, the grade before and after shown.
#[actix_web::test]
async fn a_reviewer_decides_an_upheld_appeal_on_the_page() {
    let Some((app, driver)) = setup("a_reviewer_decides_an_upheld_appeal_on_the_page", Backend::Sqlite).await else {
        return;
    };
    let panel = app.panel().await;
    panel.release_unanimous(3).await;
    let reviewer = app.user("rita@fairepa.test", "Rita Reviewer", "independent_assessor", &panel.body_id).await;
    let a = panel.admin.expect(201, "POST", &panel.path("/appeals"), json!({"grounds": "Marked too low."})).await;
    let id = a["id"].as_str().expect("an appeal id").to_string();
    panel
        .admin
        .expect(200, "PUT", &format!("/api/v1/appeals/{id}/reviewer"), json!({"reviewer_id": reviewer.id}))
        .await;
    set_password(&app, &reviewer.email);
    let rita = Person::new(&driver, &app, "reviewer").await;
    rita.sign_in(&reviewer.email).await;
    rita.wait_text("Decide an appeal").await;
    rita.follow("Decide the appeal").await;
    rita.wait_text("Your decision").await;
    rita.click("#outcome-upheld").await;
    for item in panel.items() {
        let css = format!(r#"select[name="score:{}:{}"] option[value="4"]"#, item.component, item.criterion);
        rita.click(&css).await;
    }
    rita.fill("#field-rationale", "The evidence meets the higher descriptor throughout.").await;
    rita.shot("60-appeal-decision").await;
    rita.press("Record the decision").await;
    let text = rita.wait_text("The decision on the appeal is recorded.").await;
    assert!(text.contains("Upheld") && text.contains("Grade before") && text.contains("Grade after"), "{text}");
    rita.shot("61-appeal-decided").await;
    let shown = panel.admin.get(&format!("/api/v1/appeals/{id}")).await;
    assert_eq!(shown["status"], "upheld", "{shown}");
    assert_ne!(shown["decision"]["grade_before"], shown["decision"]["grade_after"], "{shown}");
    rita.close().await;
}

/// Runs on both backends, like every integration test.
mod a_one_seat_assessment_is_scored_and_decided_on_the_pages_by_its_assessor {
    #[actix_web::test]
    async fn sqlite() {
        super::a_one_seat_assessment_is_scored_and_decided_on_the_pages_by_its_assessor(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_one_seat_assessment_is_scored_and_decided_on_the_pages_by_its_assessor(super::Backend::Postgres).await;
    }
}

/// A C&G 9200 Level 4 award (one seat: the independent assessor; no viva): the assessor scores
/// every statement and records the decision through the pages, with no consensus console; the
/// line manager, who does not score, has no sheet and signs off after the decision.
async fn a_one_seat_assessment_is_scored_and_decided_on_the_pages_by_its_assessor(backend: Backend) {
    let test = "a_one_seat_assessment_is_scored_and_decided_on_the_pages_by_its_assessor";
    let Some((app, driver)) = setup(test, backend).await else { return };
    let people = app.people(Names::default()).await;
    let panel = people.register(&app, "cg-9200-l4").await;
    panel.pass_the_guides_gateway().await;
    panel.appoint().await;
    panel.declare().await;
    set_password(&app, &panel.ia.email);
    set_password(&app, &panel.lm.email);
    let id = panel.id.clone();
    assert_eq!(panel.items().len(), 27, "the level 4 award's 27 statements");

    // The assessor's home page: their sheet is what is due.
    let ia = Person::new(&driver, &app, "independent assessor").await;
    ia.sign_in(&panel.ia.email).await;
    ia.wait_text("Open my score sheet").await;
    ia.shot_at("70-one-seat-home-tablet-768", 768).await;
    ia.follow("Open my score sheet").await;
    let text = ia.wait_text("items scored").await;
    assert!(text.contains("You are the one scorer"), "{text}");
    let members = ia.find("ul.members").await.text().await.expect("the members' text");
    assert!(members.contains("Independent assessor (you)"), "{members}");
    assert!(!members.contains("Line manager") && !members.contains("Training provider"), "one sheet: {members}");
    ia.shot_at("71-one-seat-sheet-tablet-768", 768).await;
    score_and_submit(&ia, &panel, |_| 1, "72-one-seat").await;
    assert_eq!(panel.status().await, "consensus", "the only sheet moves it on");

    // Nothing to agree: the home page goes straight to the decision.
    ia.goto("/assessments").await;
    let text = ia.wait_text("Record the decision").await;
    assert!(!text.contains("consensus console"), "{text}");
    ia.follow("Record the decision").await;
    let text = ia.wait_text("What the panel would decide now").await;
    assert!(text.contains("Grade: Achieved"), "every statement met: {text}");
    assert!(text.contains("Scored: decision to record") && !text.contains("panel to agree"), "{text}");
    assert!(!text.contains("viva record is empty"), "the guide needs no viva record: {text}");
    assert!(!text.contains("Back to the consensus"), "{text}");
    ia.shot_at("73-one-seat-decision-tablet-768", 768).await;
    ia.fill("#field-notes", "Every statement is met by the evidence.").await;
    ia.press("Confirm the decision").await;
    ia.wait_text("The decision is recorded").await;
    assert_eq!(panel.status().await, "decided");
    let source = ia.source().await;
    assert!(!source.contains(&format!("/assessments/{id}/consensus")), "no consensus console is offered");
    // A consensus address typed by hand lands on the decision.
    ia.goto(&format!("/assessments/{id}/consensus")).await;
    ia.wait_text("The decision").await;
    assert_eq!(ia.path().await, format!("/assessments/{id}/decision"));
    ia.shot_at("74-one-seat-decided-tablet-768", 768).await;

    // The line manager does not score: no sheet, and the sign-off after the decision.
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    let text = lm.wait_text("Sign off the agreed scores").await;
    assert!(!text.contains("Open my score sheet"), "{text}");
    lm.goto(&format!("/assessments/{id}")).await;
    let text = lm.wait_text("does not score on this standard's panel").await;
    assert!(!text.contains("My score sheet"), "{text}");
    lm.shot_at("75-one-seat-line-manager-tablet-768", 768).await;
    lm.goto(&format!("/assessments/{id}/scores")).await;
    lm.wait_text("whose seats score").await;
    for p in [ia, lm] {
        p.close().await;
    }
    app.shutdown().await;
}

/// Runs on both backends, like every integration test.
mod a_long_sheet_reads_in_sections_at_tablet_width {
    #[actix_web::test]
    async fn sqlite() {
        super::a_long_sheet_reads_in_sections_at_tablet_width(super::Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        super::a_long_sheet_reads_in_sections_at_tablet_width(super::Backend::Postgres).await;
    }
}

/// The 135-item sheet at 768 px: the sections as headings with a jump list and their progress
/// (right on load, and following the radios), "Next unscored item" one tap away in the sticky
/// bar, stepping through what is still to score; autosave as on the L4 sheet.
async fn a_long_sheet_reads_in_sections_at_tablet_width(backend: Backend) {
    let Some((app, driver)) = setup("a_long_sheet_reads_in_sections_at_tablet_width", backend).await else { return };
    assert_eq!(app.import_guide(crate::app::LONG_SHEET).await.0, 201);
    let panel = app.panel_for("long-sheet", Names::default()).await;
    let items = panel.items().to_vec();
    assert_eq!(items.len(), 135);
    // Two items of the first section are scored already (through the API).
    panel.save(&panel.lm, &with(Sheet::new(), &[(&items[0], 3), (&items[1], 4)]), false).await;
    set_password(&app, &panel.lm.email);
    let lm = Person::new(&driver, &app, "line manager").await;
    lm.sign_in(&panel.lm.email).await;
    lm.width(768).await;
    lm.goto(&format!("/assessments/{}/scores", panel.id)).await;
    lm.wait_text("items scored").await;
    let mut checks = Checks(Vec::new());

    let progress = |section: &str| {
        format!(
            r#"return Array.prototype.map.call(document.querySelectorAll('[data-progress="{section}"]'), e => e.textContent);"#
        )
    };
    let first = "sec-observation-section-1";
    let sections = count(&lm, "nav#sections li a").await;
    checks.check(sections == 16, format!("the jump list has the 16 sections: {sections}"));
    let headings = count(&lm, "section[data-section] > h3").await;
    checks.check(headings == 16, format!("each section is a heading: {headings}"));
    let shown = lm.js(&progress(first)).await;
    checks
        .check(shown == json!(["2/11", "2/11"]), format!("section 1's progress in the jump list and heading: {shown}"));
    lm.shot_at("50-long-sheet-tablet", 768).await;
    lm.width(768).await;

    // The jump list: section 5's heading comes to the top, under the sticky bar.
    lm.click("nav#sections a[href=\"#sec-observation-section-5\"]").await;
    let landed = lm
        .js(r#"const s = document.getElementById('sec-observation-section-5'); const bar = document.querySelector('.progress');
               return [s.getBoundingClientRect().top, bar.getBoundingClientRect().bottom, window.innerHeight];"#)
        .await;
    let (top, bar, inner) =
        (landed[0].as_f64().unwrap_or(-1.0), landed[1].as_f64().unwrap_or(f64::MAX), landed[2].as_f64().unwrap_or(0.0));
    checks.check(
        top >= bar - 0.5 && top < inner / 2.0,
        format!("section 5 starts at {top} px, the bar ends at {bar} px"),
    );

    // "Next unscored item", in the sticky bar: from the top, the first item not scored (the
    // third); after scoring it, the one after it.
    lm.js("window.scrollTo(0, 0); return null").await;
    lm.click("#next-unscored").await;
    let focused = r#"const a = document.activeElement; const item = a && a.closest('.item');
                     return [a ? a.name || null : null, item ? item.getBoundingClientRect().top : null,
                             document.querySelector('.progress').getBoundingClientRect().bottom];"#;
    let at = lm.js(focused).await;
    let name = |item: &Item| format!("s:{}:{}", item.component, item.criterion);
    checks.check(at[0] == json!(name(&items[2])), format!("the first unscored item's score has the focus: {at}"));
    checks.check(
        at[1].as_f64().unwrap_or(-1.0) >= at[2].as_f64().unwrap_or(f64::MAX) - 0.5,
        format!("the item is in view under the bar: {at}"),
    );
    lm.click(&radio(&items[2], 5)).await;
    lm.wait_text("Draft saved at").await;
    let shown = lm.js(&progress(first)).await;
    checks.check(shown == json!(["3/11", "3/11"]), format!("section 1's progress follows the radios: {shown}"));
    let scored = lm.find("#scored-count").await.text().await.unwrap_or_default();
    checks.check(scored == "3", format!("the count follows the radios: {scored}"));
    lm.click("#next-unscored").await;
    let at = lm.js(focused).await;
    checks.check(at[0] == json!(name(&items[3])), format!("next, the item after the one just scored: {at}"));
    let (scroll, width) = lm.page_widths().await;
    checks.check(scroll <= width, format!("the sheet is {scroll} px wide in a {width} px window"));
    lm.shot_at("52-long-sheet-next-unscored", 768).await;

    // The draft is the service's: three items saved.
    let sheets = panel.lm.get(&panel.path("/scores")).await;
    let own = sheets["sheets"].as_array().and_then(|s| s.iter().find(|s| s["user_id"] == json!(panel.lm.id))).cloned();
    checks.check(
        own.as_ref().and_then(|s| s["scores"].as_array().map(Vec::len)) == Some(3),
        format!("three items saved: {own:?}"),
    );
    lm.close().await;
    app.shutdown().await;
    checks.assert_all();
}
