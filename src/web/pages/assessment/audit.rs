//! The audit trail page: every change to one assessment, oldest first, in words.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::path_id;
use crate::local_time::Zone;
use crate::services::{assessments, people};
use crate::web::pages::view::{when, Header};
use crate::web::pages::{Page, PageError};

#[derive(Serialize)]
struct AuditRow {
    /// 1..n on this assessment's page (`seq` numbers the whole trail, across assessments).
    number: usize,
    seq: i64,
    at: String,
    who: String,
    action: String,
    detail: Vec<(String, String)>,
}

#[derive(Serialize)]
struct AuditPageView {
    header: Header,
    entries: Vec<AuditRow>,
}

/// `GET /assessments/{id}/audit`
pub async fn audit_page(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let id = path_id(&path);
    let loaded = page.load(&id).await?;
    let actor = page.actor.clone();
    let (entries, names) = page
        .run(move |conn| {
            let entries = assessments::audit_trail(conn, &actor, &id)?;
            let mut ids: Vec<String> = entries.iter().filter_map(|e| e.actor_id.clone()).collect();
            for e in &entries {
                if let serde_json::Value::Object(map) = &e.detail {
                    ids.extend(
                        map.iter()
                            .filter(|(k, _)| k.ends_with("_id"))
                            .filter_map(|(_, v)| v.as_str().map(str::to_string)),
                    );
                }
            }
            let names = people::display_names_of(conn, &ids)?;
            Ok((entries, names))
        })
        .await?;
    let entries = entries
        .into_iter()
        .enumerate()
        .map(|(n, e)| AuditRow {
            number: n + 1,
            seq: e.seq,
            at: when(loaded.zone, &e.at),
            who: e.actor_id.as_ref().and_then(|a| names.get(a).cloned()).unwrap_or_else(|| "the system".into()),
            action: e.action.replace(['.', '_'], " "),
            detail: detail_rows(loaded.zone, e.detail, &names),
        })
        .collect();
    let view = AuditPageView { header: loaded.header(), entries };
    page.render("pages/audit.html", "Audit trail", &view)
}

/// An audit entry's detail as lines a person reads: ids of people become their names, yes/no
/// for true/false, lists joined.
pub fn detail_rows(zone: Zone, detail: serde_json::Value, names: &HashMap<String, String>) -> Vec<(String, String)> {
    match detail {
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| {
                let named = k.ends_with("_id") && v.as_str().is_some_and(|id| names.contains_key(id));
                let label = if named { k.trim_end_matches("_id").to_string() } else { k.clone() };
                (label.replace('_', " "), words(zone, &k, &v, names))
            })
            .collect(),
        serde_json::Value::Null => vec![],
        other => vec![("detail".into(), words(zone, "", &other, names))],
    }
}

fn words(zone: Zone, key: &str, value: &serde_json::Value, names: &HashMap<String, String>) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) if key.ends_with("_id") => names.get(s).cloned().unwrap_or_else(|| s.clone()),
        Value::String(s) if is_time(s) => when(zone, s),
        Value::String(s) => s.replace('_', " "),
        Value::Bool(b) => (if *b { "yes" } else { "no" }).to_string(),
        Value::Null => "none".to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Array(items) => items.iter().map(|v| words(zone, "", v, names)).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}: {}", k.replace('_', " "), words(zone, k, v, names)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A stored time (`2026-12-01T10:00:00.000000Z`), shown to a person to the minute.
fn is_time(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_times_read_to_the_minute() {
        let rows = detail_rows(
            Zone::default(),
            serde_json::json!({"viva_at": "2026-12-01T10:00:00.000000Z", "mode": "in_person"}),
            &HashMap::new(),
        );
        assert_eq!(rows[1], ("viva at".to_string(), when(Zone::default(), "2026-12-01T10:00:00.000000Z")));
        assert!(!rows[1].1.contains(".000000") && rows[1].1.contains("10:00"), "{rows:?}");
        assert_eq!(rows[0].1, "in person");
    }

    #[test]
    fn audit_details_read_as_words() {
        let names: HashMap<String, String> = [("u1".to_string(), "Iris".to_string())].into_iter().collect();
        let rows = detail_rows(
            Zone::default(),
            serde_json::json!({"independent_assessor_id": "u1", "holds": true, "unmet": [], "changed": ["english_level2"],
                               "answers": {"maths_level2": false}}),
            &names,
        );
        let get = |k: &str| rows.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str()).unwrap_or_default().to_string();
        assert_eq!(get("independent assessor"), "Iris");
        assert_eq!(get("holds"), "yes");
        assert_eq!(get("unmet"), "none");
        assert_eq!(get("changed"), "english level2");
        assert_eq!(get("answers"), "maths level2: no");
    }
}
