//! Evidence linked to criteria: a record a panel member keeps of a piece of evidence (an
//! observation record, a witness testimony, a reflective account…), of one of the guide's
//! evidence kinds, naming the items (component, criterion) it supports. The viva record's
//! questions name the items they probe the same way, checked by the same rule.

use std::collections::HashSet;

use super::guide::{EvidenceKind, Guide, ItemKey};
use super::{DomainError, ErrorCode};

/// The most items one record (or one viva question) may name.
pub const CRITERIA_MAX: usize = 500;

/// The kinds a guide that lists no `[[evidence_kinds]]` offers.
pub const DEFAULT_KINDS: [(&str, &str); 4] = [
    ("observation_record", "Observation record"),
    ("witness_testimony", "Witness testimony"),
    ("work_product", "Work product"),
    ("personal_statement", "Personal statement"),
];

/// The evidence kinds a panel member may choose from: the guide's, or the default set when it
/// lists none.
pub fn kinds(guide: &Guide) -> Vec<EvidenceKind> {
    if !guide.evidence_kinds.is_empty() {
        return guide.evidence_kinds.clone();
    }
    DEFAULT_KINDS
        .iter()
        .map(|(id, title)| EvidenceKind { id: (*id).to_string(), title: (*title).to_string(), description: None })
        .collect()
}

/// The kind `id` names, or a refusal naming `field` and the kinds there are.
pub fn kind_named(guide: &Guide, field: &str, id: &str) -> Result<EvidenceKind, DomainError> {
    let all = kinds(guide);
    if let Some(kind) = all.iter().find(|k| k.id == id) {
        return Ok(kind.clone());
    }
    let ids: Vec<&str> = all.iter().map(|k| k.id.as_str()).collect();
    Err(DomainError::bad_input(
        ErrorCode::InvalidKind,
        format!("{id:?} is not an evidence kind of this standard; choose one of {}", ids.join(", ")),
    )
    .at(field))
}

/// Checks the items a record names against the guide: each an item of it (a criterion and a
/// component it is assessed in), none twice, at most [`CRITERIA_MAX`]; `required` when at least
/// one must be named. `field` is the list's name (`criteria`, `questions[2].criteria`).
pub fn check_criteria(guide: &Guide, field: &str, items: &[ItemKey], required: bool) -> Result<(), DomainError> {
    if required && items.is_empty() {
        return Err(DomainError::bad_input(
            ErrorCode::MissingValue,
            "name at least one criterion the evidence supports, as {component, criterion}",
        )
        .at(field));
    }
    if items.len() > CRITERIA_MAX {
        return Err(DomainError::bad_input(ErrorCode::TooMany, format!("at most {CRITERIA_MAX}")).at(field));
    }
    let mut seen = HashSet::new();
    for (i, key) in items.iter().enumerate() {
        if !guide.is_score_item(key) {
            return Err(DomainError::bad_input(
                ErrorCode::UnknownScoreItem,
                format!("{} is not a criterion assessed in {:?} in this standard", key.criterion, key.component),
            )
            .at(format!("{field}[{i}]"))
            .with_items(vec![key.to_string()]));
        }
        if !seen.insert(key) {
            return Err(DomainError::bad_input(
                ErrorCode::DuplicateItem,
                format!("{} in {:?} is named twice", key.criterion, key.component),
            )
            .at(format!("{field}[{i}]"))
            .with_items(vec![key.to_string()]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guide(extra: &str) -> Guide {
        let text = format!(
            "id = \"g\"\ntitle = \"G\"\nversion = \"1\"\n[scale]\nmin = 1\nmax = 5\n[[components]]\nid = \"project\"\nweight = 100\n\
             [[grading.grades]]\nname = \"Pass\"\n[[criteria]]\nid = \"K1\"\nkind = \"knowledge\"\narea = \"Law\"\nmethods = [\"project\"]\n\
             [[criteria]]\nid = \"B1\"\nkind = \"behaviour\"\narea = \"Ethics\"\nmethods = [\"portfolio\"]\n{extra}"
        );
        Guide::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_guide_without_evidence_kinds_offers_the_default_set() {
        let g = guide("");
        let ids: Vec<String> = kinds(&g).into_iter().map(|k| k.id).collect();
        assert_eq!(ids, DEFAULT_KINDS.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>());
        assert!(kind_named(&g, "kind", "witness_testimony").is_ok());
    }

    #[test]
    fn a_guide_with_evidence_kinds_offers_only_its_own() {
        let g = guide("[[evidence_kinds]]\nid = \"reflective_account\"\ntitle = \"Reflective account\"\n");
        assert_eq!(
            kind_named(&g, "kind", "reflective_account").map(|k| k.title).ok().as_deref(),
            Some("Reflective account")
        );
        let e = kind_named(&g, "kind", "witness_testimony").unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("invalid_kind", Some("kind")));
        assert!(e.to_string().contains("reflective_account"), "{e}");
    }

    #[test]
    fn criteria_must_be_items_of_the_guide_named_once() {
        let g = guide("");
        let k1 = ItemKey::new("project", "K1");
        assert!(check_criteria(&g, "criteria", std::slice::from_ref(&k1), true).is_ok());
        assert!(check_criteria(&g, "questions[0].criteria", &[], false).is_ok());
        let e = check_criteria(&g, "criteria", &[], true).unwrap_err();
        assert_eq!((e.code(), e.fault.field.as_deref()), ("missing_value", Some("criteria")));
        // Not assessed in that component (B1 is portfolio only), unknown, repeated.
        for (items, code, at) in [
            (vec![k1.clone(), ItemKey::new("project", "B1")], "unknown_score_item", "criteria[1]"),
            (vec![ItemKey::new("viva", "K1")], "unknown_score_item", "criteria[0]"),
            (vec![k1.clone(), k1.clone()], "duplicate_item", "criteria[1]"),
        ] {
            let e = check_criteria(&g, "criteria", &items, true).unwrap_err();
            assert_eq!((e.code(), e.fault.field.as_deref()), (code, Some(at)), "{items:?}");
        }
        let many = vec![k1; CRITERIA_MAX + 1];
        assert_eq!(check_criteria(&g, "criteria", &many, true).unwrap_err().code(), "too_many");
    }
}
