//! A browser without a browser, for the page tests that run over plain HTTP: keeps the session
//! cookie, follows no redirects, and can choose its source address (anything in 127/8 is
//! loopback on Linux, so two "machines" can sign in side by side).

use std::net::IpAddr;
use std::time::Duration;

use crate::app::TestApp;

/// The web password `set_password` gives.
pub const PASSWORD: &str = "a long page-test password";

pub struct Web {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

/// What came back.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

fn client(from: Option<IpAddr>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60));
    if let Some(address) = from {
        builder = builder.local_address(address);
    }
    builder.build().expect("an HTTP client")
}

impl Web {
    pub fn new(app: &TestApp) -> Web {
        Web { http: client(None), base: app.base_url(), cookie: None }
    }

    /// A client connecting from `from` (e.g. 127.0.0.2).
    pub fn from(app: &TestApp, from: &str) -> Web {
        Web { http: client(Some(from.parse().expect("an IP address"))), base: app.base_url(), cookie: None }
    }

    /// Gives `email` the test password and signs them in.
    pub async fn signed_in(app: &TestApp, email: &str) -> Web {
        set_password(app, email);
        let mut web = Web::new(app);
        web.sign_in(email).await;
        web
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("Cookie", c.clone()),
            None => req,
        };
        let r = req.send().await.expect("the server answers");
        if let Some(set) = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            self.cookie = set.split(';').next().map(str::to_string);
        }
        let status = r.status().as_u16();
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        Page { status, location, body: r.text().await.unwrap_or_default() }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// A GET that must answer 200.
    pub async fn get_ok(&mut self, path: &str) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "GET {path}: {}", page.body);
        page
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.send(req).await
    }

    /// Loads `path` and posts its form with the page's CSRF token (and its version, when the form
    /// carries one).
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get_ok(path).await;
        let csrf = hidden(&page.body, "csrf");
        let version = input_value(&page.body, "version");
        let mut all = vec![("csrf", csrf.as_str())];
        if let Some(v) = &version {
            all.push(("version", v.as_str()));
        }
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Signs in with the test password.
    pub async fn sign_in(&mut self, email: &str) {
        let page = self.get("/").await;
        let csrf = hidden(&page.body, "csrf");
        let r = self.post("/sign-in", &[("csrf", &csrf), ("email", email), ("password", PASSWORD)]).await;
        assert_eq!(r.status, 303, "sign in as {email}: {}", r.body);
    }
}

/// The value of the first input named `name` on a page, if there is one.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..].split('"').next().unwrap_or_default().to_string())
}

/// The value of the first input named `name` on a page, which must be there.
pub fn hidden(html: &str, name: &str) -> String {
    input_value(html, name).unwrap_or_else(|| panic!("no {name} field on the page: {html}"))
}

/// The page's CSRF token.
pub fn csrf_of(html: &str) -> String {
    hidden(html, "csrf")
}

/// Gives `email` the test password.
pub fn set_password(app: &TestApp, email: &str) {
    epa_panel::services::people::set_password(&mut app.connect(), None, email, PASSWORD)
        .unwrap_or_else(|e| panic!("set the password of {email}: {e}"));
}
