//! Use cases: each takes the acting user and the input, applies the domain's rules, and persists
//! the change together with its audit entry in one transaction. Called by the HTTP handlers and
//! the CLI alike; they know nothing of HTTP. `change` is the frame a change runs in (find,
//! check, step, save, audit); `assessments/` holds the EPA's use cases, one file per step.

pub mod assessments;
pub mod assessors;
pub mod audit_trail;
pub mod change;
pub mod idempotency;
pub mod import;
pub mod people;
pub mod reports;
pub mod simulate;
pub mod standards;
pub mod verification;
pub mod views;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::db::models::{append_audit, User};
use crate::db::{now, DbConnection};
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult, ErrorCode};

/// The user a request acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<String>,
}

impl Actor {
    pub fn from_user(user: &User) -> AppResult<Actor> {
        let role = user.role.parse().map_err(|e: String| anyhow::anyhow!("user {}: {e}", user.id))?;
        Ok(Actor { id: user.id.clone(), name: user.name.clone(), role, organisation_id: user.organisation_id.clone() })
    }
}

/// A request's input, parsed eagerly but judged late: the contract checks 404 and 403 before
/// 400, so a service looks at the body only after it has found the assessment and checked the
/// caller. `if_match` is the version the caller last saw (`If-Match`), checked before the body.
pub struct Input<T> {
    pub body: Result<T, AppError>,
    pub if_match: Option<String>,
}

impl<T> From<T> for Input<T> {
    fn from(body: T) -> Self {
        Input { body: Ok(body), if_match: None }
    }
}

impl<T> Input<T> {
    pub fn new(body: Result<T, AppError>, if_match: Option<String>) -> Self {
        Input { body, if_match }
    }

    /// The same input, its body turned into another type.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Input<U> {
        Input { body: self.body.map(f), if_match: self.if_match }
    }

    /// 412 when the caller's `If-Match` names another version than `current`.
    pub fn precondition(&self, current: i64) -> AppResult<()> {
        match self.if_match.as_deref().map(str::trim) {
            None | Some("*") => Ok(()),
            Some(tag) if tag.split(',').any(|t| parse_etag(t) == Some(current)) => Ok(()),
            Some(tag) => Err(AppError::PreconditionFailed(format!(
                "If-Match: {tag} is not the current version \"{current}\"; someone else changed it since you loaded it - reload and try again"
            ))),
        }
    }
}

/// The version in an entity tag: `"3"` or `W/"3"`.
pub fn parse_etag(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// The entity tag for a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses a JSON body, naming the path of the field at fault (`scores[2].score: …`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() { "body".to_string() } else { path };
        // A path a form could not have (a map key with other characters, `?`) stays in the words.
        if field.chars().all(|c| c.is_ascii_alphanumeric() || "_[].".contains(c)) {
            AppError::bad_input(ErrorCode::InvalidBody, inner.to_string()).at(field)
        } else {
            AppError::bad_input(ErrorCode::InvalidBody, format!("{field}: {inner}"))
        }
    })?;
    // One JSON value and nothing after it but whitespace: `{…}{…}` is not a body we understand.
    de.end().map_err(|e| {
        AppError::bad_input(
            ErrorCode::InvalidBody,
            format!(
                "there is more after the JSON value (line {}, column {}); send exactly one JSON value",
                e.line(),
                e.column()
            ),
        )
        .at("body")
    })?;
    // Every string in the body, keys too, is text that must not hold control characters: walked
    // when its bytes say one may be there (an escape that can write one).
    if !crate::domain::text::json_may_hold_invalid(body) {
        return Ok(value);
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        if let Some((path, c)) = crate::domain::text::invalid_in_json(&json) {
            let field = if path.is_empty() { "body".to_string() } else { path };
            return Err(AppError::bad_input(ErrorCode::InvalidText, crate::domain::text::problem(c)).at(field));
        }
    }
    Ok(value)
}

/// Refuses text holding NUL or another control character (tab, line feed and carriage return
/// are fine), naming the field.
pub fn check_clean(field: &str, value: &str) -> AppResult<()> {
    match crate::domain::text::invalid_char(value) {
        Some(c) => Err(AppError::bad_input(ErrorCode::InvalidText, crate::domain::text::problem(c)).at(field)),
        None => Ok(()),
    }
}

/// Refuses empty or over-long text, naming the field.
pub fn check_text(field: &str, value: &str, max: usize) -> AppResult<()> {
    if value.trim().is_empty() {
        return Err(AppError::bad_input(ErrorCode::MissingValue, "must not be empty").at(field));
    }
    check_length(field, value, max)
}

/// Refuses a line break or tab in text that is one line (a name), naming the field.
pub fn check_one_line(field: &str, value: &str) -> AppResult<()> {
    if value.contains(['\r', '\n', '\t']) {
        return Err(AppError::bad_input(
            ErrorCode::InvalidText,
            "must be one line, without line breaks or tabs; remove them and try again",
        )
        .at(field));
    }
    Ok(())
}

/// Refuses over-long optional text.
pub fn check_optional(field: &str, value: Option<&str>, max: usize) -> AppResult<()> {
    value.map_or(Ok(()), |v| check_length(field, v, max))
}

/// Refuses over-long text, or text with control characters ([`check_clean`]), naming the field.
pub fn check_length(field: &str, value: &str, max: usize) -> AppResult<()> {
    check_clean(field, value)?;
    if value.chars().count() > max {
        return Err(AppError::bad_input(ErrorCode::TooLong, format!("longer than {max} characters")).at(field));
    }
    Ok(())
}

/// Records one change. `detail` must never carry a panel member's scores.
pub fn audit(
    conn: &mut DbConnection,
    assessment_id: Option<&str>,
    actor: Option<&Actor>,
    action: &str,
    detail: Value,
) -> AppResult<()> {
    append_audit(conn, assessment_id, &now(), actor.map(|a| a.id.as_str()), action, &detail.to_string())?;
    Ok(())
}

pub use crate::db::transaction;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "the fields exist to be deserialised")]
    struct Body {
        items: Vec<Item>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "the fields exist to be deserialised")]
    struct Item {
        score: i64,
    }

    #[test]
    fn parse_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"items": [{"score": 1}, {"score": "x"}]}"#).unwrap_err();
        assert!(e.to_string().starts_with("items[1].score:"), "{e}");
        let e = parse_json::<Body>(br#"{"items": [], "extra": 1}"#).unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert!(e.to_string().contains("items"), "{e}");
        let e = parse_json::<Body>(b"not json").unwrap_err();
        assert_eq!(e.code(), "invalid_body");
    }

    #[test]
    fn trailing_data_after_the_body_is_refused() {
        for body in [&br#"{"items": []}{"items": []}"#[..], br#"{"items": []} x"#, br#"{"items": []}]"#] {
            let e = parse_json::<Body>(body).unwrap_err();
            assert_eq!(e.code(), "invalid_body", "{e}");
            assert!(e.to_string().starts_with("body: there is more after the JSON value"), "{e}");
        }
        assert!(parse_json::<Body>(b"{\"items\": []} \r\n\t ").is_ok(), "trailing whitespace is fine");
    }

    #[derive(serde::Deserialize, Debug)]
    #[expect(dead_code, reason = "the fields exist to be deserialised")]
    struct Named {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn control_characters_in_any_text_are_refused_naming_the_field() {
        let e = parse_json::<Named>(br#"{"name": "Amy\u0000"}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_text");
        assert!(e.to_string().starts_with("name: contains a control character (U+0000)"), "{e}");
        let e = parse_json::<Named>(br#"{"name": "Amy", "tags": ["ok", "\u001b[31m"]}"#).unwrap_err();
        assert!(e.to_string().starts_with("tags[1]: contains a control character (U+001B)"), "{e}");
        assert!(parse_json::<Named>(br#"{"name": "Amy\r\nApprentice\t"}"#).is_ok());
        assert_eq!(check_text("name", "Amy\u{0}", 10).unwrap_err().code(), "invalid_text");
        assert!(check_optional("notes", Some("a\u{7}"), 10).unwrap_err().to_string().starts_with("notes:"));
        assert!(check_one_line("name", "Amy\nApprentice")
            .unwrap_err()
            .to_string()
            .starts_with("name: must be one line"));
        assert!(check_one_line("name", "Amy Apprentice").is_ok());
    }

    #[test]
    fn preconditions_compare_versions() {
        let input = |tag: Option<&str>| Input::new(Ok(()), tag.map(str::to_string));
        assert!(input(None).precondition(3).is_ok());
        assert!(input(Some("*")).precondition(3).is_ok());
        assert!(input(Some("\"3\"")).precondition(3).is_ok());
        assert!(input(Some("W/\"3\"")).precondition(3).is_ok());
        assert!(input(Some("\"1\", \"3\"")).precondition(3).is_ok());
        let e = input(Some("\"2\"")).precondition(3).unwrap_err();
        assert_eq!(e.code(), "stale_version");
        assert!(input(Some("garbage")).precondition(3).is_err());
        assert_eq!(parse_etag(&etag(7)), Some(7));
    }

    #[test]
    fn text_limits_name_the_field() {
        assert!(check_text("name", "  ", 10).unwrap_err().to_string().starts_with("name:"));
        assert!(check_text("name", "abcdefghijk", 10).unwrap_err().to_string().contains("10"));
        assert!(check_text("name", "Amy", 10).is_ok());
    }
}
