//! What text the service accepts: no NUL and no other C0 control character but tab, line feed and
//! carriage return. PostgreSQL cannot store NUL at all, SQLite would, and none of them means
//! anything in a name, an email, a comment or a guide; so every way text comes in (JSON, forms,
//! CSV, guides) refuses them, the same on both backends.

use serde_json::Value;

/// The first character that text may not hold, if any.
pub fn invalid_char(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{7f}'))
}

/// Whether a JSON text may hold a string with a character text may not hold, judged from its
/// bytes alone: a parser refuses a raw C0 control character inside a string, so in JSON that
/// parses such a character can only be written as an escape, `\u…`, `\b` or `\f`. False means
/// none can be there and [`invalid_in_json`] need not walk the parsed value; true (an escape of
/// that kind, or a `\` ending the text) means it must.
pub fn json_may_hold_invalid(json: &[u8]) -> bool {
    let mut i = 0;
    while let Some(at) = json[i..].iter().position(|&b| b == b'\\') {
        match json.get(i + at + 1) {
            Some(b'u' | b'b' | b'f') | None => return true,
            // Any other escape (`\\`, `\"`, `\n`, …) is two bytes: skip both.
            Some(_) => i += at + 2,
        }
    }
    false
}

/// What is wrong, for a message after the field's name: "contains a control character (U+0000) …".
pub fn problem(c: char) -> String {
    format!("contains a control character (U+{:04X}), which text may not hold; remove it and try again", c as u32)
}

/// The path (`name`, `scores[2].comment`) and character of the first string in a JSON value,
/// key or value, that holds a character text may not hold.
pub fn invalid_in_json(value: &Value) -> Option<(String, char)> {
    fn walk(value: &Value, path: &str) -> Option<(String, char)> {
        match value {
            Value::String(s) => invalid_char(s).map(|c| (path.to_string(), c)),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| walk(v, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match invalid_char(k) {
                    Some(c) => Some((here.chars().filter(|c| !c.is_control()).collect(), c)),
                    None => walk(v, &here),
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_tab_cr_lf_are_refused() {
        assert_eq!(invalid_char("Amy Apprentice"), None);
        assert_eq!(invalid_char("two\r\nlines\tand a tab, café, 日本"), None);
        assert_eq!(invalid_char("Amy\u{0}"), Some('\u{0}'));
        assert_eq!(invalid_char("bell\u{7}"), Some('\u{7}'));
        assert_eq!(invalid_char("esc\u{1b}[31m"), Some('\u{1b}'));
        assert!(problem('\u{0}').contains("U+0000"));
    }

    #[test]
    fn the_json_path_of_bad_text_is_named() {
        let v: Value =
            serde_json::from_str(r#"{"name": "ok", "scores": [{"comment": "fine"}, {"comment": "a\u0000b"}]}"#)
                .unwrap();
        assert_eq!(invalid_in_json(&v), Some(("scores[1].comment".to_string(), '\u{0}')));
        let v: Value = serde_json::from_str(r#"{"na\u0001me": 1}"#).unwrap();
        assert_eq!(invalid_in_json(&v), Some(("name".to_string(), '\u{1}')));
        let v: Value = serde_json::from_str(r#"["\u0002"]"#).unwrap();
        assert_eq!(invalid_in_json(&v), Some(("[0]".to_string(), '\u{2}')));
        assert_eq!(invalid_in_json(&serde_json::json!({"a": ["b", 1, null, {"c": "d\n"}]})), None);
    }

    /// The byte check never says "clean" of a body whose parsed value holds a bad character,
    /// and says it of ordinary bodies (escaped line breaks, quotes and backslashes included).
    #[test]
    fn the_byte_check_lets_through_only_bodies_without_bad_text() {
        let bad = [
            r#"{"comment": "a\u0000b"}"#,
            r#"{"comment": "bell\u0007"}"#,
            r#"{"comment": "back\bspace"}"#,
            r#"{"comment": "form\ffeed"}"#,
            r#"{"na\u0001me": 1}"#,
            r#"["\\", "\u001b[31m"]"#,
        ];
        for body in bad {
            let value: Value = serde_json::from_str(body).unwrap();
            assert!(invalid_in_json(&value).is_some(), "{body}");
            assert!(json_may_hold_invalid(body.as_bytes()), "{body}");
        }
        let clean = [
            r#"{"comment": "two\nlines\tand\r a tab", "name": "café \"quoted\" \\ \/"}"#,
            r#"{"comment": "a backslash then b: \\b, then f: \\f, then u: \\u0000"}"#,
            r#"{"scores": [{"component": "project", "criterion": "K4", "score": 3, "comment": null}]}"#,
            "[]",
        ];
        for body in clean {
            let value: Value = serde_json::from_str(body).unwrap();
            assert_eq!(invalid_in_json(&value), None, "{body}");
            assert!(!json_may_hold_invalid(body.as_bytes()), "{body}");
        }
        // A raw control character is no JSON at all: the parser refuses it before any check.
        assert!(serde_json::from_str::<Value>("{\"comment\": \"a\u{1}b\"}").is_err());
        // Harmless escapes of that kind still take the careful path (never the other way round).
        assert!(json_may_hold_invalid(br#"{"comment": "caf\u00e9"}"#));
        assert!(json_may_hold_invalid(br#"{"comment": "ends in \"#));
    }
}
