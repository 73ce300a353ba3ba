//! The tamper-evident audit trail: every entry carries a SHA-256 over its content and the
//! previous entry's hash, so editing or deleting any entry breaks the chain from there on.
//!
//! The hash of an entry is the lowercase hex SHA-256 of the compact JSON array
//! `[prev_hash, seq, assessment_id, at, actor_id, action, detail]` (nulls as `null`, `detail` as
//! the stored JSON text). The first entry's `prev_hash` is the empty string. Anyone holding an
//! exported trail can recompute it with any JSON library and SHA-256.
//!
//! A chain is only evidence against someone who cannot recompute it: with write access to the
//! database, every hash and the head can be rewritten consistently. So the head can be taken
//! out ([`Head`], printed by `epa-panel audit head`) and kept where the database's writers cannot
//! reach, and a trail checked against it later ([`Verifier::keep`]); with a key
//! (`EPA_AUDIT_KEY`) the head carries an HMAC-SHA256 that no one without the key can forge.

use std::collections::{BTreeMap, BTreeSet};

use hmac::{Hmac, Mac};
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

/// The secret behind the MACs of published heads (`EPA_AUDIT_KEY`), ready to use; never shown.
#[derive(Clone)]
pub struct AuditKey(Hmac<Sha256>);

impl AuditKey {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        <Hmac<Sha256> as Mac>::new_from_slice(secret).map(Self).map_err(|e| format!("not a usable key: {e}"))
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

/// The newest entry of a trail, taken out of the database to be kept elsewhere (mailed to the
/// regulator, written to a WORM store): one JSON object, e.g.
/// `{"seq":42,"hash":"…","at":"…","taken_at":"…","mac":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The newest entry's `seq` (0 for an empty trail).
    pub seq: i64,
    /// The newest entry's hash (empty for an empty trail).
    pub hash: String,
    /// The newest entry's time (none for an empty trail).
    pub at: Option<String>,
    /// When the head was taken.
    pub taken_at: String,
    /// Lowercase hex HMAC-SHA256, under `EPA_AUDIT_KEY`, of the compact JSON array
    /// `["epa-panel audit head 1", seq, hash, at, taken_at]`; absent when no key was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl Head {
    fn mac_input(&self) -> String {
        serde_json::json!(["epa-panel audit head 1", self.seq, self.hash, self.at, self.taken_at]).to_string()
    }

    /// The MAC this head must carry under `key`.
    pub fn expected_mac(&self, key: &AuditKey) -> String {
        let mut mac = key.mac();
        mac.update(self.mac_input().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// This head with its MAC under `key`.
    pub fn signed(mut self, key: &AuditKey) -> Head {
        self.mac = Some(self.expected_mac(key));
        self
    }

    /// Whether the head was made by someone holding `key` and is unchanged since (compared in
    /// constant time). The reason, in words, when not.
    pub fn check_mac(&self, key: &AuditKey) -> Result<(), String> {
        let Some(given) = &self.mac else {
            return Err("it carries no MAC, but EPA_AUDIT_KEY is set (it was taken without the key, or forged)".into());
        };
        let mut mac = key.mac();
        mac.update(self.mac_input().as_bytes());
        match hex::decode(given) {
            Ok(bytes) if mac.verify_slice(&bytes).is_ok() => Ok(()),
            _ => Err("its MAC does not match EPA_AUDIT_KEY (it was altered, forged, or made with another key)".into()),
        }
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
    /// Heads kept outside, by `seq`, that the trail must still contain unchanged.
    kept: BTreeMap<i64, Head>,
    /// The kept heads found unchanged so far.
    met: BTreeSet<i64>,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Also requires the trail to hold `head` unchanged: entry `head.seq` with `head.hash` (and
    /// time). Since each hash covers every entry before it, a trail that still holds a kept head
    /// was not rewritten up to there, however consistent a rewritten chain would be.
    pub fn keep(&mut self, head: Head) {
        self.kept.insert(head.seq, head);
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
        if let Some(kept) = self.kept.get(&e.seq) {
            if kept.hash != e.hash || kept.at.as_ref().is_some_and(|at| *at != e.at) {
                return broken(format!(
                    "differs from the head kept at {} (hash {} there, {} now): the trail was rewritten at or \
                     before this entry",
                    kept.taken_at,
                    short(&kept.hash),
                    short(&e.hash)
                ));
            }
            self.met.insert(e.seq);
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
        let held = |k: &Head| (k.seq == 0 && k.hash.is_empty()) || self.met.contains(&k.seq);
        if let Some(kept) = self.kept.values().find(|k| !held(k)) {
            return Err(BrokenAt {
                seq: Some(kept.seq),
                reason: format!(
                    "missing: the head kept at {} names this entry, but the trail (ending at entry {}) does not \
                     hold it (entries were deleted, or the trail was rewritten)",
                    kept.taken_at, self.last_seq
                ),
            });
        }
        Ok(self.count)
    }
}

/// The start of a hash, enough to tell two apart in a message.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
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

    fn key(secret: &str) -> AuditKey {
        AuditKey::new(secret.as_bytes()).unwrap()
    }

    fn head_of(c: &[ChainedEntry]) -> Head {
        let last = c.last().unwrap();
        Head {
            seq: last.seq,
            hash: last.hash.clone(),
            at: Some(last.at.clone()),
            taken_at: "2026-12-01T23:00:00.000000Z".into(),
            mac: None,
        }
    }

    /// Every hash recomputed from entry `from` on, after `edit`: internally consistent again.
    fn rewritten(mut c: Vec<ChainedEntry>, from: usize, edit: impl FnOnce(&mut ChainedEntry)) -> Vec<ChainedEntry> {
        edit(&mut c[from]);
        for i in from..c.len() {
            c[i].prev_hash = if i == 0 { String::new() } else { c[i - 1].hash.clone() };
            c[i].hash = c[i].expected_hash();
        }
        c
    }

    fn verify_keeping(entries: &[ChainedEntry], kept: &[Head]) -> Result<u64, BrokenAt> {
        let mut v = Verifier::new();
        kept.iter().for_each(|h| v.keep(h.clone()));
        for e in entries {
            v.check(e)?;
        }
        let last = entries.last().map_or((0, String::new()), |e| (e.seq, e.hash.clone()));
        v.finish(last.0, &last.1)
    }

    #[test]
    fn the_head_mac_is_hmac_sha256_over_its_fields() {
        // Computed apart, with Python's hmac module over the documented JSON array.
        let head = Head {
            seq: 3,
            hash: "ab".repeat(32),
            at: Some("2026-11-23T10:00:03.000000Z".into()),
            taken_at: "2026-12-01T23:00:00.000000Z".into(),
            mac: None,
        };
        let k = key("0123456789abcdef0123456789abcdef");
        assert_eq!(head.expected_mac(&k), "124eed1c6c97c8473f6606dd7d03601cf00651153189547b09abd9de1aab2b6a");
        let signed = head.signed(&k);
        assert_eq!(signed.check_mac(&k), Ok(()));
        let json = serde_json::to_string(&signed).unwrap();
        assert_eq!(serde_json::from_str::<Head>(&json).unwrap(), signed, "{json}");
    }

    #[test]
    fn a_head_without_the_key_or_altered_fails_its_mac() {
        let c = chain(3);
        let k = key("the-audit-key-of-the-assessment-body");
        let signed = head_of(&c).signed(&k);
        assert!(signed
            .check_mac(&key("another-key-of-at-least-32-characters"))
            .unwrap_err()
            .contains("does not match"));
        assert!(head_of(&c).check_mac(&k).unwrap_err().contains("no MAC"));
        for alter in [
            |h: &mut Head| h.seq += 1,
            |h: &mut Head| h.hash = "00".repeat(32),
            |h: &mut Head| h.at = None,
            |h: &mut Head| h.taken_at = "2027-01-01T00:00:00.000000Z".into(),
            |h: &mut Head| h.mac = Some("not hex".into()),
        ] {
            let mut forged = signed.clone();
            alter(&mut forged);
            assert!(forged.check_mac(&k).unwrap_err().contains("does not match"), "{forged:?}");
        }
        let shown = format!("{k:?}");
        assert!(!shown.contains("audit-key"), "{shown}");
    }

    #[test]
    fn a_consistently_rewritten_trail_fails_against_a_kept_head() {
        let c = chain(5);
        let kept = head_of(&c[..3]);
        // Intact, with entries after the kept head: holds it.
        assert_eq!(verify_keeping(&c, std::slice::from_ref(&kept)), Ok(5));
        // Entry 2 edited and every hash after it recomputed: the chain alone verifies …
        let forged = rewritten(c.clone(), 1, |e| e.detail = r#"{"items_saved":9}"#.into());
        assert_eq!(verify_keeping(&forged, &[]), Ok(5));
        // … but not against the head kept before.
        let e = verify_keeping(&forged, std::slice::from_ref(&kept)).unwrap_err();
        assert_eq!(e.seq, Some(3));
        assert!(e.to_string().contains("kept at") && e.to_string().contains("rewritten"), "{e}");
        // Rewritten only after the kept head: still holds it.
        let later = rewritten(c.clone(), 3, |e| e.detail = "{}".into());
        assert_eq!(verify_keeping(&later, &[kept]), Ok(5));
    }

    #[test]
    fn a_kept_head_the_trail_no_longer_holds_is_named() {
        let c = chain(4);
        // Cut back to entry 2 (head row moved with it): entry 4 of the kept head is gone.
        let e = verify_keeping(&c[..2], &[head_of(&c)]).unwrap_err();
        assert_eq!(e.seq, Some(4));
        assert!(e.to_string().contains("missing"), "{e}");
        // Renumbered past the kept entry (3 left out, the rest rehashed): missing too.
        let kept = head_of(&c[..3]);
        let mut skipped = c.clone();
        skipped.remove(2);
        let skipped = rewritten(skipped, 2, |e| e.seq = 4);
        assert_eq!(verify_keeping(&skipped, &[]), Ok(3));
        assert_eq!(verify_keeping(&skipped, &[kept]).unwrap_err().seq, Some(3));
        // The head of an empty trail is held by every trail.
        let empty = Head { seq: 0, hash: String::new(), at: None, taken_at: "t".into(), mac: None };
        assert_eq!(verify_keeping(&c, &[empty]), Ok(4));
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
