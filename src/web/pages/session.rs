//! Browser sessions and forms: the encrypted session cookie, the CSRF token it carries, the
//! extractors for a visitor and a signed-in person, and the form body every page posts.
//!
//! The cookie is encrypted and authenticated (AES-256-GCM, actix-web's private cookie jar) and
//! holds a random session id, the CSRF token and an expiry. The database keeps only a hash of the
//! session id, so signing out (or a new password) ends the session on the server as well.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, CookieJar, Key, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{PageError, PagesState};
use crate::services::{people, Actor};
use crate::web::AppState;

/// How long a signed-out visitor's cookie (only a CSRF token for the sign-in form) lasts.
const VISITOR_HOURS: i64 = 2;

/// What the encrypted cookie holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The secret session id (None before signing in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// Unix seconds after which the cookie is refused, whatever the browser does.
    pub exp: i64,
}

impl SessionData {
    /// A signed-out visitor's session: a fresh CSRF token, no user.
    pub fn visitor() -> Self {
        Self { sid: None, csrf: random_token(), exp: unix_now() + VISITOR_HOURS * 3600 }
    }

    /// A new signed-in session (a new CSRF token too: nothing carries over from before sign-in).
    pub fn signed_in(sid: String) -> Self {
        Self { sid: Some(sid), csrf: random_token(), exp: unix_now() + people::SESSION_HOURS * 3600 }
    }

    fn live(&self) -> bool {
        self.exp > unix_now()
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie's name: `__Host-` when Secure, which browsers then bind to this host and path `/`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-epa_session"
    } else {
        "epa_session"
    }
}

/// The encrypted `Set-Cookie` for `data`.
pub fn seal(key: &Key, secure: bool, data: &SessionData) -> Cookie<'static> {
    let value = serde_json::to_string(data).unwrap_or_default();
    let max_age = CookieDuration::seconds((data.exp - unix_now()).max(0));
    let cookie = Cookie::build(cookie_name(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish();
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(cookie);
    jar.get(cookie_name(secure)).cloned().unwrap_or_else(|| Cookie::new(cookie_name(secure), ""))
}

/// A cookie that removes the session cookie.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build(cookie_name(secure), "").path("/").http_only(true).secure(secure).finish();
    cookie.make_removal();
    cookie
}

/// Reads and decrypts the request's session cookie; None when missing, forged or expired.
pub fn open(key: &Key, secure: bool, req: &HttpRequest) -> Option<SessionData> {
    let cookie = req.cookie(cookie_name(secure))?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let plain = jar.private(key).get(cookie_name(secure))?;
    let data: SessionData = serde_json::from_str(plain.value()).ok()?;
    data.live().then_some(data)
}

fn states(req: &HttpRequest) -> Result<(web::Data<AppState>, web::Data<PagesState>), PageError> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let pages = req.app_data::<web::Data<PagesState>>().cloned();
    match (state, pages) {
        (Some(s), Some(p)) => Ok((s, p)),
        _ => Err(PageError::plain(500, "the web interface is not configured")),
    }
}

/// Anyone, signed in or not: the sign-in page and its form.
pub struct Visitor {
    pub state: web::Data<AppState>,
    pub pages: web::Data<PagesState>,
    /// The cookie's session, if it had a valid one.
    pub session: Option<SessionData>,
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = std::future::Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(states(req).map(|(state, pages)| {
            let session = open(&pages.key, pages.cookie_secure, req);
            Visitor { state, pages, session }
        }))
    }
}

/// A signed-in person: the user as the services' `Actor`, and the session's CSRF token.
/// Without a live session, GETs are sent to the sign-in page (and back afterwards).
pub struct Page {
    pub state: web::Data<AppState>,
    pub pages: web::Data<PagesState>,
    pub actor: Actor,
    pub email: String,
    pub csrf: String,
    /// The secret session id (for signing out).
    pub sid: String,
    /// The request's path and query, for links back here.
    pub here: String,
    /// Whether the request may change anything (not a GET or HEAD): a page that only reads runs
    /// on SQLite's read-only readers, which never wait for the writer.
    pub writes: bool,
}

impl FromRequest for Page {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = states(req);
        let here = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let session = found.as_ref().ok().and_then(|(_, pages)| open(&pages.key, pages.cookie_secure, req));
        let is_get = req.method() == actix_web::http::Method::GET;
        let writes = !(is_get || req.method() == actix_web::http::Method::HEAD);
        Box::pin(async move {
            let (state, pages) = found?;
            let sign_in = || {
                let next = if is_get { format!("/?next={}", encode_component(&here)) } else { "/".to_string() };
                PageError::redirect(next)
            };
            let session = session.ok_or_else(sign_in)?;
            let sid = session.sid.clone().ok_or_else(sign_in)?;
            let lookup = sid.clone();
            // The session is only read: a reader, so that pages never queue behind the writer.
            let user = state
                .db
                .read(move |conn| people::session_user(conn, &lookup))
                .await
                .map_err(|e| pages.error_page(None, &e))?
                .ok_or_else(sign_in)?;
            let actor = Actor::from_user(&user).map_err(|e| pages.error_page(None, &e))?;
            Ok(Page { state, pages, actor, email: user.email, csrf: session.csrf, sid, here, writes })
        })
    }
}

/// Percent-encodes a query component.
pub fn encode_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go after signing in: only a path on this site (never `//host`, a full URL, or a path
/// a browser could read as one); anything else goes to the home page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/assessments".to_string(),
    }
}

/// A path on this site: printable ASCII only (no space, no control character, which browsers
/// strip or fold), one leading `/` and never a second, no backslash (browsers read `\` as `/`),
/// not the API, and the same after percent-decoding (so `%2F`, `%5C`, `%09` tricks fail too).
fn is_local_path(next: &str) -> bool {
    let shape = |p: &str| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.starts_with("/api/");
    if !next.bytes().all(|b| b.is_ascii_graphic()) || !shape(next) {
        return false;
    }
    // Decode as often as a chain of redirects or proxies might, checking each stage.
    let mut stage = next.to_string();
    for _ in 0..3 {
        let Some(decoded) = percent_decode(&stage) else { return false };
        if decoded == stage {
            return true;
        }
        if decoded.chars().any(char::is_control) || !shape(&decoded) {
            return false;
        }
        stage = decoded;
    }
    false
}

/// Percent-decodes text; None when an escape is malformed or the bytes are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A posted form (application/x-www-form-urlencoded), fields in order, names repeatable.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of a field that may repeat (checkboxes sharing a name).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_string()).collect()
    }

    /// A field's text, trimmed; "" when missing.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_string()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The form's `version` field as an `If-Match` value: the version the page showed, so a
    /// change made meanwhile by someone else is refused (412) rather than overwritten.
    pub fn if_match(&self) -> Option<String> {
        self.get("version").filter(|v| !v.is_empty()).map(|v| format!("\"{}\"", v.trim()))
    }

    /// The CSRF check every POST makes: the form's token must be the session's.
    pub fn check_csrf(&self, expected: &str) -> Result<(), CsrfRefused> {
        match self.get("csrf") {
            Some(token) if !expected.is_empty() && same_token(token, expected) => Ok(()),
            _ => Err(CsrfRefused),
        }
    }
}

/// A POST whose CSRF token is missing or wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct CsrfRefused;

impl FromRequest for Form {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move {
            match form.await {
                Ok(f) => {
                    let form = Form(f.into_inner());
                    form.check_text().map_err(|message| PageError::plain(400, &message))?;
                    Ok(form)
                }
                Err(e) => Err(PageError::plain(400, &format!("the form could not be read: {e}"))),
            }
        })
    }
}

/// Fields whose text is checked where it is read, to say more than the field's name: the import's
/// CSV file names the line and the column.
/// Sign-in's `next` is a place to go, not text to keep: anything odd in it sends to the home page.
const CHECKED_WHERE_READ: [&str; 2] = ["csv", "next"];

impl Form {
    /// Refuses a form whose fields hold NUL or another control character (tab, line feed and
    /// carriage return are fine), naming the field.
    fn check_text(&self) -> Result<(), String> {
        for (name, value) in &self.0 {
            let c = crate::domain::text::invalid_char(name).or_else(|| {
                crate::domain::text::invalid_char(value).filter(|_| !CHECKED_WHERE_READ.contains(&name.as_str()))
            });
            if let Some(c) = c {
                let name: String = name.chars().filter(|c| !c.is_control()).collect();
                return Err(format!("The field \"{name}\" {}. Nothing was saved.", crate::domain::text::problem(c)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn csrf_tokens_must_match_the_session() {
        let form = |pairs: &[(&str, &str)]| Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let token = random_token();
        assert_eq!(token.len(), 64);
        assert!(form(&[("csrf", &token)]).check_csrf(&token).is_ok());
        assert_eq!(form(&[("csrf", "x")]).check_csrf(&token), Err(CsrfRefused));
        assert_eq!(form(&[]).check_csrf(&token), Err(CsrfRefused));
        assert_eq!(form(&[("csrf", "")]).check_csrf(""), Err(CsrfRefused), "an empty expected token never matches");
        assert_ne!(random_token(), token);
    }

    #[test]
    fn the_cookie_is_encrypted_authenticated_and_expires() {
        let key = Key::generate();
        let data = SessionData::signed_in("secret-session".into());
        let cookie = seal(&key, true, &data);
        assert_eq!(cookie.name(), "__Host-epa_session");
        assert!(!cookie.value().contains("secret-session"), "the value is encrypted");
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        let req = TestRequest::default().cookie(cookie.clone()).to_http_request();
        assert_eq!(open(&key, true, &req), Some(data.clone()));
        // another key (another installation) cannot read it
        assert_eq!(open(&Key::generate(), true, &req), None);
        // a tampered value is refused
        let mut bad = cookie.clone();
        let mut value = bad.value().to_string();
        let last = value.pop().unwrap();
        value.push(if last == 'A' { 'B' } else { 'A' });
        bad.set_value(value);
        let req = TestRequest::default().cookie(bad).to_http_request();
        assert_eq!(open(&key, true, &req), None);
        // an expired one is refused even if the browser still sends it
        let old = SessionData { exp: unix_now() - 1, ..data };
        let mut jar = CookieJar::new();
        jar.private_mut(&key).add(Cookie::new(cookie_name(false), serde_json::to_string(&old).unwrap()));
        let req = TestRequest::default().cookie(jar.get(cookie_name(false)).unwrap().clone()).to_http_request();
        assert_eq!(open(&key, false, &req), None);
    }

    #[test]
    fn forms_with_control_characters_are_refused_naming_the_field() {
        let form = |pairs: &[(&str, &str)]| Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let e = form(&[("name", "Amy"), ("email", "amy\u{0}@x.test")]).check_text().unwrap_err();
        assert!(e.starts_with("The field \"email\" contains a control character (U+0000)"), "{e}");
        assert!(form(&[("comment", "two\r\nlines\t")]).check_text().is_ok());
        assert!(form(&[("csv", "a\u{0}")]).check_text().is_ok(), "the import names the line and column itself");
    }

    #[test]
    fn next_is_only_ever_a_local_page() {
        assert_eq!(safe_next(Some("/assessments/1/scores")), "/assessments/1/scores");
        assert_eq!(safe_next(Some("//evil.test/x")), "/assessments");
        assert_eq!(safe_next(Some("https://evil.test")), "/assessments");
        assert_eq!(safe_next(Some("/\\evil.test")), "/assessments");
        assert_eq!(safe_next(None), "/assessments");
        assert_eq!(encode_component("/a b?c=d"), "%2Fa%20b%3Fc%3Dd");
    }

    #[test]
    fn next_refuses_control_characters_spaces_and_encoded_tricks() {
        for bad in [
            "/\t/evil.test",
            "/\r/evil.test",
            "/\n/evil.test",
            "/\r\nLocation: https://evil.test",
            "/\0/evil.test",
            "/\u{7f}/evil.test",
            "/ /evil.test",
            " //evil.test",
            "/\u{a0}/evil.test",
            "/%2F/evil.test",
            "/%2f%2fevil.test",
            "/%5Cevil.test",
            "/%09/evil.test",
            "/%0d%0a/evil.test",
            "/%252F/evil.test",
            "/%",
            "/x/%zz",
            "",
            "assessments",
            "/api/v1/assessments",
        ] {
            assert_eq!(safe_next(Some(bad)), "/assessments", "{bad:?} must not be followed");
        }
        assert_eq!(safe_next(Some("/assessments?done=1&x=a%20b")), "/assessments?done=1&x=a%20b");
        assert_eq!(safe_next(Some("/reports?from=2026-01-01")), "/reports?from=2026-01-01");
    }
}
