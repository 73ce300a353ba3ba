//! What the pages share ([`PagesState`]: the templates, the cookie key, the time zone) and how a
//! page becomes an HTML response (with the Content-Security-Policy every page carries).

use std::sync::Arc;

use actix_web::cookie::Key;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use tera::{Context, Tera};

use super::{Layout, PageError, WebConfig};
use crate::db::DbConnection;
use crate::local_time::Zone;
use crate::services::people;

/// The policy on every page: only this origin's files, no inline script or style, no framing,
/// forms post only here.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the pages share: the templates, the cookie key and the time zone.
pub struct PagesState {
    pub tera: Arc<Tera>,
    pub key: Key,
    pub cookie_secure: bool,
    /// The zone times are shown and typed in (`EPA_TIMEZONE`).
    pub zone: Zone,
    /// Whether the sign-in throttle takes the visitor's address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

impl PagesState {
    /// Takes the session key from the config, or from the database (generating it once).
    pub fn prepare(conn: &mut DbConnection, tera: Arc<Tera>, config: &WebConfig) -> anyhow::Result<Self> {
        use base64::Engine;
        let secret = match &config.session_key {
            Some(k) => k.clone(),
            None => people::shared_setting(conn, "session_key", || {
                base64::engine::general_purpose::STANDARD.encode(Key::generate().master())
            })
            .map_err(|e| anyhow::anyhow!("session key: {e}"))?,
        };
        Ok(Self {
            tera,
            key: Key::derive_from(secret.as_bytes()),
            cookie_secure: config.cookie_secure,
            zone: Zone::default(),
            trust_forwarded_for: config.trust_forwarded_for,
        })
    }

    /// The same pages, showing and taking times in `zone`.
    pub fn in_zone(self, zone: Zone) -> Self {
        Self { zone, ..self }
    }

    /// Renders a page: the view's fields, plus `layout` for the frame around it.
    pub fn render<T: Serialize>(&self, status: StatusCode, template: &str, layout: &Layout, view: &T) -> HttpResponse {
        match self.render_html(template, layout, view) {
            Ok(html) => html_response(status, html),
            Err(e) => e.error_response(),
        }
    }

    pub(super) fn render_html<T: Serialize>(
        &self,
        template: &str,
        layout: &Layout,
        view: &T,
    ) -> Result<String, PageError> {
        Context::from_serialize(view)
            .and_then(|mut ctx| {
                ctx.insert("layout", layout);
                self.tera.render(template, &ctx)
            })
            .map_err(|e| {
                tracing::error!(error = format!("{e:?}"), template, "page template failed");
                PageError::plain(500, "this page could not be shown; the problem has been logged")
            })
    }
}

pub(super) fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_CSP))
        .body(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_config_reads_the_environment() {
        let cfg = |pairs: &[(&str, &str)]| {
            let map: std::collections::HashMap<String, String> =
                pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            WebConfig::from_lookup(|k| map.get(k).cloned())
        };
        let c = cfg(&[]).unwrap();
        assert!(!c.cookie_secure && c.session_key.is_none());
        assert!(cfg(&[("EPA_COOKIE_SECURE", "true")]).unwrap().cookie_secure);
        assert!(cfg(&[("EPA_COOKIE_SECURE", "maybe")]).is_err());
        assert!(!c.trust_forwarded_for && cfg(&[("EPA_TRUST_FORWARDED_FOR", "true")]).unwrap().trust_forwarded_for);
        assert!(cfg(&[("EPA_SESSION_KEY", "short")]).unwrap_err().to_string().contains("32"));
        let c = cfg(&[("EPA_SESSION_KEY", &"k".repeat(40))]).unwrap();
        assert!(!format!("{c:?}").contains("kkkk"), "the key is not shown");
    }
}
