//! Typed configuration from the environment (and an optional `.env` file), read and checked
//! once at start, then passed around as a value.

use std::path::PathBuf;

use crate::db::{redact, DatabaseUrl};

#[derive(Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub mail_dir: PathBuf,
    pub guides_dir: PathBuf,
    /// Connections for PostgreSQL (SQLite always uses one).
    pub pg_pool_size: u32,
    /// Outcome email retries.
    pub mail_retry: crate::mail::RetryPolicy,
    /// The web pages' session cookies (`EPA_SESSION_KEY`, `EPA_COOKIE_SECURE`).
    pub web: WebConfig,
    /// `EPA_AUDIT_KEY`: the secret for the MACs of published audit heads (`epa-panel audit head`).
    pub audit_key: Option<crate::domain::audit::AuditKey>,
    /// `EPA_TIMEZONE`: the zone the pages and emails show times in, and the pages' forms take
    /// them in (the API and the database stay in UTC).
    pub timezone: crate::local_time::Zone,
    /// `EPA_ASSESSMENT_BODY`: the assessment body's name as the outcome email gives it. Unset:
    /// the organisation of kind `assessment_body`, when there is exactly one.
    pub assessment_body: Option<String>,
    /// `EPA_ASSESSMENT_BODY_CONTACT`: where the outcome email sends questions and appeals (an
    /// email address or a phone number). Unset: the email says to contact the assessment body.
    pub assessment_body_contact: Option<String>,
    /// `EPA_ASSESSOR_RULES`: `warn` (default) reports an independent assessor who does not meet
    /// the register's rules at `PUT …/panel`; `enforce` refuses the appointment.
    pub assessor_rules: crate::domain::eligibility::AssessorRules,
}

impl Config {
    /// Reads `EPA_*` variables through `get` (the process environment in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let var =
            |name: &str, default: &str| get(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string());
        let database_url =
            DatabaseUrl::parse(&var("EPA_DATABASE_URL", "sqlite://epa-panel.db")).map_err(anyhow::Error::msg)?;
        let pg_pool_size = var("EPA_PG_POOL_SIZE", "8")
            .parse()
            .map_err(|_| anyhow::anyhow!("EPA_PG_POOL_SIZE must be a whole number"))?;
        let mail_from = var("EPA_MAIL_FROM", "epa-panel@localhost");
        mail_from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| anyhow::anyhow!("EPA_MAIL_FROM {mail_from:?} is not an email address: {e}"))?;
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            var(name, &default.to_string()).parse().map_err(|_| anyhow::anyhow!("{name} must be a whole number"))
        };
        let defaults = crate::mail::RetryPolicy::default();
        // A line of text for an email: one line, no control characters, not too long.
        let text = |name: &str| -> anyhow::Result<Option<String>> {
            let value = get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
            if let Some(v) = &value {
                if v.chars().any(char::is_control) || v.chars().count() > 200 {
                    anyhow::bail!("{name} must be one line of at most 200 characters");
                }
            }
            Ok(value)
        };
        let mail_retry = crate::mail::RetryPolicy {
            base: std::time::Duration::from_millis(
                number("EPA_MAIL_RETRY_BASE_MS", defaults.base.as_millis() as u64)?.max(1),
            ),
            cap: std::time::Duration::from_millis(
                number("EPA_MAIL_RETRY_CAP_MS", defaults.cap.as_millis() as u64)?.max(1),
            ),
            max_attempts: number("EPA_MAIL_MAX_ATTEMPTS", defaults.max_attempts as u64)?.clamp(1, 1000) as i32,
            lease: std::time::Duration::from_millis(
                number("EPA_MAIL_LEASE_MS", defaults.lease.as_millis() as u64)?.max(100),
            ),
        };
        Ok(Config {
            database_url,
            bind: var("EPA_BIND", "127.0.0.1:8080"),
            smtp_url: get("EPA_SMTP_URL").filter(|v| !v.is_empty()),
            mail_from,
            mail_dir: PathBuf::from(var("EPA_MAIL_DIR", "./outbox")),
            guides_dir: PathBuf::from(var("EPA_GUIDES_DIR", "./panel-guides")),
            pg_pool_size,
            mail_retry,
            web: WebConfig::from_lookup(&get)?,
            audit_key: audit_key(&get)?,
            timezone: crate::local_time::Zone::parse(&var("EPA_TIMEZONE", "Europe/London"))
                .map_err(|e| anyhow::anyhow!("EPA_TIMEZONE: {e}"))?,
            assessment_body: text("EPA_ASSESSMENT_BODY")?,
            assessment_body_contact: text("EPA_ASSESSMENT_BODY_CONTACT")?,
            assessor_rules: crate::domain::eligibility::AssessorRules::parse(&var("EPA_ASSESSOR_RULES", "warn"))
                .map_err(|e| anyhow::anyhow!("EPA_ASSESSOR_RULES {e}"))?,
        })
    }

    /// From the process environment, after loading `.env` if there is one.
    pub fn from_env() -> anyhow::Result<Config> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// `EPA_AUDIT_KEY`, when set: at least 32 characters, like the session key.
fn audit_key(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<crate::domain::audit::AuditKey>> {
    let Some(key) = get("EPA_AUDIT_KEY").filter(|k| !k.is_empty()) else { return Ok(None) };
    if key.len() < 32 {
        anyhow::bail!("EPA_AUDIT_KEY must be at least 32 characters (e.g. `openssl rand -base64 48`)");
    }
    crate::domain::audit::AuditKey::new(key.as_bytes()).map(Some).map_err(|e| anyhow::anyhow!("EPA_AUDIT_KEY: {e}"))
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url)
            .field("bind", &self.bind)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("mail_from", &self.mail_from)
            .field("mail_dir", &self.mail_dir)
            .field("guides_dir", &self.guides_dir)
            .field("web", &self.web)
            .field("audit_key", &self.audit_key.as_ref().map(|_| "***"))
            .field("timezone", &self.timezone.name())
            .field("assessment_body", &self.assessment_body)
            .field("assessment_body_contact", &self.assessment_body_contact)
            .field("assessor_rules", &self.assessor_rules)
            .finish()
    }
}

/// The web pages' session cookies, from the environment.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// `EPA_SESSION_KEY`: the secret that encrypts session cookies (at least 32 characters). When
    /// unset, one is generated once and kept in the database, so every instance shares it.
    pub session_key: Option<String>,
    /// `EPA_COOKIE_SECURE`: mark cookies Secure (set it when users reach the service over TLS).
    pub cookie_secure: bool,
    /// `EPA_TRUST_FORWARDED_FOR`: take a visitor's address (for the sign-in throttle) from the
    /// last `X-Forwarded-For` entry, which the reverse proxy adds. Only behind a proxy that sets
    /// it: otherwise anyone could claim any address.
    pub trust_forwarded_for: bool,
}

impl WebConfig {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let session_key = get("EPA_SESSION_KEY").filter(|k| !k.is_empty());
        if let Some(k) = &session_key {
            if k.len() < 32 {
                anyhow::bail!("EPA_SESSION_KEY must be at least 32 characters (e.g. `openssl rand -base64 48`)");
            }
        }
        let flag = |name: &str| match get(name).unwrap_or_default().trim().to_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" => Ok(false),
            "1" | "true" | "yes" | "on" => Ok(true),
            other => Err(anyhow::anyhow!("{name} must be true or false, not {other:?}")),
        };
        let cookie_secure = flag("EPA_COOKIE_SECURE")?;
        let trust_forwarded_for = flag("EPA_TRUST_FORWARDED_FOR")?;
        Ok(Self { session_key, cookie_secure, trust_forwarded_for })
    }
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("session_key", &self.session_key.as_ref().map(|_| "***"))
            .field("cookie_secure", &self.cookie_secure)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.mail_from, "epa-panel@localhost");
        assert_eq!(c.mail_dir, PathBuf::from("./outbox"));
        assert_eq!(c.guides_dir, PathBuf::from("./panel-guides"));
        assert!(c.smtp_url.is_none());
        assert_eq!(c.database_url, DatabaseUrl::parse("sqlite://epa-panel.db").unwrap());
    }

    #[test]
    fn bad_values_are_named() {
        assert!(config(&[("EPA_DATABASE_URL", "mysql://x")]).unwrap_err().to_string().contains("EPA_DATABASE_URL"));
        assert!(config(&[("EPA_MAIL_FROM", "nobody")]).unwrap_err().to_string().contains("EPA_MAIL_FROM"));
    }

    #[test]
    fn the_time_zone_and_the_assessment_body() {
        let c = config(&[]).unwrap();
        assert_eq!(c.timezone.name(), "Europe/London");
        assert_eq!((c.assessment_body, c.assessment_body_contact), (None, None));
        let c = config(&[
            ("EPA_TIMEZONE", "Europe/Dublin"),
            ("EPA_ASSESSMENT_BODY", " Fair EPA Ltd "),
            ("EPA_ASSESSMENT_BODY_CONTACT", "results@fairepa.test"),
        ])
        .unwrap();
        assert_eq!(c.timezone.name(), "Europe/Dublin");
        assert_eq!(c.assessment_body.as_deref(), Some("Fair EPA Ltd"));
        assert_eq!(c.assessment_body_contact.as_deref(), Some("results@fairepa.test"));
        let e = config(&[("EPA_TIMEZONE", "BST")]).unwrap_err().to_string();
        assert!(e.starts_with("EPA_TIMEZONE") && e.contains("\"BST\""), "{e}");
        let e = config(&[("EPA_ASSESSMENT_BODY", "Fair\nEPA")]).unwrap_err().to_string();
        assert!(e.contains("EPA_ASSESSMENT_BODY"), "{e}");
    }

    #[test]
    fn assessor_rules_warn_by_default_and_a_bad_value_is_named() {
        use crate::domain::eligibility::AssessorRules;
        assert_eq!(config(&[]).unwrap().assessor_rules, AssessorRules::Warn);
        assert_eq!(config(&[("EPA_ASSESSOR_RULES", "enforce")]).unwrap().assessor_rules, AssessorRules::Enforce);
        let e = config(&[("EPA_ASSESSOR_RULES", "strict")]).unwrap_err().to_string();
        assert!(e.contains("EPA_ASSESSOR_RULES") && e.contains("\"strict\""), "{e}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c =
            config(&[("EPA_SMTP_URL", "smtps://me:hunter2@mail.test"), ("EPA_DATABASE_URL", "postgres://u:pw@h/db")])
                .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("pw@"), "{shown}");
        let key = "an-audit-key-of-at-least-32-characters";
        let shown = format!("{:?}", config(&[("EPA_AUDIT_KEY", key)]).unwrap());
        assert!(shown.contains("audit_key: Some(\"***\")") && !shown.contains(key), "{shown}");
    }

    #[test]
    fn a_short_audit_key_is_refused_by_name() {
        assert!(config(&[]).unwrap().audit_key.is_none());
        let e = config(&[("EPA_AUDIT_KEY", "short")]).unwrap_err().to_string();
        assert!(e.contains("EPA_AUDIT_KEY") && e.contains("32 characters"), "{e}");
    }
}
