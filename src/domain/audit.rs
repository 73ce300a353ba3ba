//! The tamper-evident audit trail: every entry carries a SHA-256 over its content and the
//! previous entry's hash, so editing or deleting any entry breaks the chain from there on.
//!
//! The hash of an entry is the lowercase hex SHA-256 of the compact JSON array
//! `[prev_hash, seq, assessment_id, at, actor_id, action, detail]` (nulls as `null`, `detail` as
//! the stored JSON text). The first entry's `prev_hash` is the empty string. Anyone holding an
//! exported trail can recompute it with any JSON library and SHA-256.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One entry as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEntry {
    pub seq: i64,
    pub assessment_id: Option<String>,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash an entry must carry.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> String {
    let content = serde_json::json!([prev_hash, seq, assessment_id, at, actor_id, action, detail]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

impl ChainedEntry {
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            self.assessment_id.as_deref(),
            &self.at,
            self.actor_id.as_deref(),
            &self.action,
            &self.detail,
        )
    }
}

/// Where a trail stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenAt {
    /// The first entry that does not verify (or the head, as `None`, when the tail was cut).
    pub seq: Option<i64>,
    pub reason: String,
}

impl std::fmt::Display for BrokenAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "audit entry {seq}: {}", self.reason),
            None => write!(f, "audit trail end: {}", self.reason),
        }
    }
}

/// Checks a trail entry by entry (feed it in `seq` order, in as many calls as you like).
#[derive(Debug, Default)]
pub struct Verifier {
    last_hash: String,
    last_seq: i64,
    count: u64,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, e: &ChainedEntry) -> Result<(), BrokenAt> {
        let broken = |reason: String| Err(BrokenAt { seq: Some(e.seq), reason });
        if e.seq <= self.last_seq {
            return broken(format!("out of order after entry {}", self.last_seq));
        }
        if e.prev_hash != self.last_hash {
            return broken(format!(
                "does not follow the entry before it (an entry before {} was deleted, edited or inserted)",
                e.seq
            ));
        }
        if e.hash != e.expected_hash() {
            return broken("its content does not match its hash (it was edited)".into());
        }
        self.last_hash.clone_from(&e.hash);
        self.last_seq = e.seq;
        self.count += 1;
        Ok(())
    }

    /// Compares the end of the trail with the recorded head; returns how many entries verified.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, BrokenAt> {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(BrokenAt {
                seq: None,
                reason: format!(
                    "the trail ends at entry {} but the newest recorded entry is {head_seq} (entries were deleted from the end)",
                    self.last_seq
                ),
            });
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEntry> {
        let mut prev = String::new();
        (1..=n)
            .map(|seq| {
                let mut e = ChainedEntry {
                    seq,
                    assessment_id: Some("a1".into()),
                    at: format!("2026-11-23T10:00:0{seq}.000000Z"),
                    actor_id: Some("u1".into()),
                    action: "score_sheet.saved".into(),
                    detail: r#"{"items_saved":3}"#.into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn verify(entries: &[ChainedEntry], head: (i64, &str)) -> Result<u64, BrokenAt> {
        let mut v = Verifier::new();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_trail_verifies() {
        let c = chain(4);
        assert_eq!(verify(&c, (4, &c[3].hash)), Ok(4));
        assert_eq!(verify(&[], (0, "")), Ok(0));
    }

    #[test]
    fn an_edit_names_the_entry() {
        let mut c = chain(4);
        c[1].detail = r#"{"items_saved":4}"#.into();
        let head = c[3].hash.clone();
        assert_eq!(verify(&c, (4, &head)).unwrap_err().seq, Some(2));
    }

    #[test]
    fn a_deletion_names_the_next_entry() {
        let mut c = chain(4);
        let head = c[3].hash.clone();
        c.remove(2);
        assert_eq!(verify(&c, (4, &head)).unwrap_err().seq, Some(4));
    }

    #[test]
    fn a_rehashed_edit_is_still_caught_downstream() {
        let mut c = chain(3);
        c[0].action = "forged".into();
        c[0].hash = c[0].expected_hash();
        let head = c[2].hash.clone();
        assert_eq!(verify(&c, (3, &head)).unwrap_err().seq, Some(2));
    }

    #[test]
    fn a_cut_tail_is_caught_by_the_head() {
        let c = chain(3);
        let head = c[2].hash.clone();
        let e = verify(&c[..2], (3, &head)).unwrap_err();
        assert_eq!(e.seq, None);
        assert!(e.to_string().contains("deleted"));
    }
}
