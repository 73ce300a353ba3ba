//! Signing in and out. The sign-in form carries the visitor's CSRF token; a successful sign-in
//! starts a new session (new id, new CSRF token), so nothing from before it carries over.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::session::{safe_next, seal, SessionData};
use super::{capitalise, csrf_refused, see_other, Form, Layout, Page, PageError, Visitor};
use crate::error::AppError;
use crate::services::people;

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

#[derive(Serialize)]
struct SignInView {
    csrf: String,
    email: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn sign_in_form(
    visitor: &Visitor,
    status: StatusCode,
    session: SessionData,
    view: SignInView,
) -> Result<HttpResponse, PageError> {
    let mut layout = Layout::signed_out("Sign in");
    layout.csrf = session.csrf.clone();
    let mut response = visitor.pages.render(status, "pages/signin.html", &layout, &view);
    let cookie = seal(&visitor.pages.key, visitor.pages.cookie_secure, &session);
    response.add_cookie(&cookie).map_err(|e| PageError::plain(500, &e.to_string()))?;
    Ok(response)
}

/// `GET /`: the sign-in form, or on to my assessments when already signed in.
pub async fn sign_in_page(visitor: Visitor, query: web::Query<SignInQuery>) -> Result<HttpResponse, PageError> {
    if let Some(sid) = visitor.session.as_ref().and_then(|s| s.sid.clone()) {
        let user = visitor.state.db.read(move |conn| people::session_user(conn, &sid)).await;
        if let Ok(Some(_)) = user {
            return Ok(see_other(&safe_next(query.next.as_deref())));
        }
    }
    // A visitor keeps their token across reloads and tabs; a stale signed-in cookie is replaced.
    let session = match &visitor.session {
        Some(s) if s.sid.is_none() => s.clone(),
        _ => SessionData::visitor(),
    };
    let view = SignInView {
        csrf: session.csrf.clone(),
        email: String::new(),
        next: safe_next(query.next.as_deref()),
        error: None,
        notice: query.signed_out.as_ref().map(|_| "You have signed out."),
    };
    sign_in_form(&visitor, StatusCode::OK, session, view)
}

/// `POST /sign-in`: checks the token, the throttle and the password; starts a session.
pub async fn sign_in(visitor: Visitor, form: Form, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let email = form.text("email");
    let password = form.get("password").unwrap_or_default().to_string();
    let next = safe_next(form.get("next"));
    let expected = visitor.session.as_ref().filter(|s| s.sid.is_none()).map(|s| s.csrf.clone()).unwrap_or_default();
    if form.check_csrf(&expected).is_err() {
        // The sign-in form expired (or came from elsewhere): show it again with a fresh token.
        let session = SessionData::visitor();
        let view = SignInView {
            csrf: session.csrf.clone(),
            email,
            next,
            error: Some("The sign-in form had expired. Please sign in again.".into()),
            notice: None,
        };
        return sign_in_form(&visitor, StatusCode::FORBIDDEN, session, view);
    }
    let refuse = |status: StatusCode, message: String, email: String| {
        let session = visitor.session.clone().unwrap_or_else(SessionData::visitor);
        let view =
            SignInView { csrf: session.csrf.clone(), email, next: next.clone(), error: Some(message), notice: None };
        sign_in_form(&visitor, status, session, view)
    };
    if email.is_empty() || password.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "Enter your email address and your password.".into(), email);
    }
    let (lookup, client) = (email.clone(), client_address(&req, visitor.pages.trust_forwarded_for));
    let candidate = match visitor.state.db.run(move |conn| people::sign_in_candidate(conn, &lookup, &client)).await {
        Ok(c) => c,
        Err(AppError::Conflict(fault)) => {
            return refuse(StatusCode::TOO_MANY_REQUESTS, capitalise(&fault.reason), email);
        }
        Err(e) => return Err(visitor.pages.error_page(None, &e)),
    };
    // Argon2 is slow on purpose: verify off the database connection.
    let hash = candidate.user.as_ref().map(|(_, h)| h.clone());
    let ok = web::block(move || {
        let matched = people::verify_password(hash.as_deref().unwrap_or(people::decoy_hash()), &password);
        matched && hash.is_some()
    })
    .await
    .map_err(|e| PageError::plain(500, &e.to_string()))?;
    let signed_in = visitor
        .state
        .db
        .run(move |conn| people::finish_sign_in(conn, candidate, ok))
        .await
        .map_err(|e| visitor.pages.error_page(None, &e))?;
    match signed_in {
        Some((_, sid)) => {
            let session = SessionData::signed_in(sid);
            let mut response = see_other(&next);
            let cookie = seal(&visitor.pages.key, visitor.pages.cookie_secure, &session);
            response.add_cookie(&cookie).map_err(|e| PageError::plain(500, &e.to_string()))?;
            Ok(response)
        }
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "That email and password do not match an account. Check them and try again.".into(),
            email,
        ),
    }
}

/// The client address sign-in throttles by: the connection's peer address (behind a reverse proxy,
/// the proxy's, which every visitor then shares), or with `EPA_TRUST_FORWARDED_FOR` the last
/// `X-Forwarded-For` entry, the one the proxy added (entries before it are whatever the client sent).
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).last())
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok());
    let ip = forwarded.or_else(|| req.peer_addr().map(|a| a.ip()));
    match ip.map(|ip| ip.to_canonical()) {
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        // One IPv6 network (a /64) is one client: a host usually has the whole /64 to choose from.
        Some(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_string(),
    }
}

/// `POST /sign-out`: ends the session on the server and removes the cookie.
pub async fn sign_out(page: Page, form: Form) -> Result<HttpResponse, PageError> {
    if form.check_csrf(&page.csrf).is_err() {
        return Err(csrf_refused(&page.pages, Some(page.layout("Form expired"))));
    }
    let sid = page.sid.clone();
    page.run(move |conn| people::end_session(conn, &sid)).await?;
    let mut response = see_other("/?signed_out=1");
    response
        .add_cookie(&super::session::removal(page.pages.cookie_secure))
        .map_err(|e| PageError::plain(500, &e.to_string()))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_client_address_is_the_peer_unless_forwarding_is_trusted() {
        let req = TestRequest::default()
            .peer_addr("127.0.0.2:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "203.0.113.9, 198.51.100.4"))
            .to_http_request();
        assert_eq!(client_address(&req, false), "127.0.0.2", "a header anyone can send is not trusted by default");
        assert_eq!(client_address(&req, true), "198.51.100.4", "the entry the proxy added");
        let req = TestRequest::default().peer_addr("[::ffff:192.0.2.1]:1".parse().unwrap()).to_http_request();
        assert_eq!(client_address(&req, true), "192.0.2.1", "no header: the peer, IPv4 written as such");
        let req = TestRequest::default().peer_addr("[2001:db8:1:2:aaaa::1]:1".parse().unwrap()).to_http_request();
        assert_eq!(client_address(&req, false), "2001:db8:1:2::/64", "an IPv6 client is its /64");
    }
}
