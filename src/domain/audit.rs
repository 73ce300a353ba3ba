//! The tamper-evident audit trail: every entry carries a SHA-256 over its content and the
//! previous entry's hash *in its chain*, so editing or deleting any entry breaks its chain from
//! there on.
//!
//! There is one chain per assessment (`chain` = its id), one for changes to no assessment
//! ([`BODY`]), and the seal chain ([`SEAL`]): a seal entry (action [`SEALED`]) names the head
//! (`seq`, `hash`) of every chain that moved since the seal before it, so the seal chain's head
//! covers every entry sealed so far. Writers to different assessments share no row; `seq` is
//! only the global order (a sequence). Entries written before the chains existed have no `chain`:
//! they are the one old chain, which the seal chain continues.
//!
//! The hash of an entry is the lowercase hex SHA-256 of the compact JSON array
//! `["epa-panel audit 2", chain, prev_hash, seq, assessment_id, at, actor_id, action, detail]`
//! (nulls as `null`, `detail` as the stored JSON text); an old entry (no chain) hashes
//! `[prev_hash, seq, assessment_id, at, actor_id, action, detail]`. A chain's first entry has
//! `prev_hash` "" (the seal chain's: the old chain's last hash). Anyone holding an exported trail
//! can recompute it with any JSON library and SHA-256.
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
    /// The chain the entry belongs to; none for an entry of the old single chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
}

/// The chain of changes to no assessment (organisations, users, standards).
pub const BODY: &str = "body";
/// The chain of seal entries, which continues the old single chain.
pub const SEAL: &str = "seal";
/// The action of a seal entry; its detail is `{"heads":[[chain, seq, hash], …]}`.
pub const SEALED: &str = "audit.sealed";

/// The chain an entry about `assessment_id` belongs to.
pub fn chain_of(assessment_id: Option<&str>) -> &str {
    assessment_id.unwrap_or(BODY)
}

/// One chain's head as a seal names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// A seal entry's detail naming `heads`.
pub fn seal_detail(heads: &[ChainHead]) -> String {
    let heads: Vec<_> = heads.iter().map(|h| serde_json::json!([h.chain, h.seq, h.hash])).collect();
    serde_json::json!({ "heads": heads }).to_string()
}

fn parse_seal(detail: &str) -> Option<Vec<ChainHead>> {
    #[derive(Deserialize)]
    struct Sealed {
        heads: Vec<(String, i64, String)>,
    }
    let sealed: Sealed = serde_json::from_str(detail).ok()?;
    Some(sealed.heads.into_iter().map(|(chain, seq, hash)| ChainHead { chain, seq, hash }).collect())
}

/// The hash an entry of `chain` must carry.
#[allow(clippy::too_many_arguments, reason = "the hash covers exactly these fields, in this order")]
pub fn chained_hash(
    chain: &str,
    prev_hash: &str,
    seq: i64,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> String {
    let content =
        serde_json::json!(["epa-panel audit 2", chain, prev_hash, seq, assessment_id, at, actor_id, action, detail]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// The hash an entry of the old single chain must carry.
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
        let Some(chain) = &self.chain else {
            return entry_hash(
                &self.prev_hash,
                self.seq,
                self.assessment_id.as_deref(),
                &self.at,
                self.actor_id.as_deref(),
                &self.action,
                &self.detail,
            );
        };
        chained_hash(
            chain,
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

/// What a verifier knows of one chain.
#[derive(Debug, Default)]
struct ChainState {
    last_seq: i64,
    last_hash: String,
    /// The chain's entries (seq → hash) since the last one a seal named, so a seal can be
    /// checked against them (entries are checked in `seq` order, but a seal may name a head
    /// older than entries of that chain with a lower `seq` than the seal's).
    unsealed: BTreeMap<i64, String>,
}

/// Checks a trail entry by entry (feed it in `seq` order, in as many calls as you like).
#[derive(Debug, Default)]
pub struct Verifier {
    last_seq: i64,
    count: u64,
    /// Whether an entry of a chain was seen (after which no entry of the old chain may come).
    chained: bool,
    chains: BTreeMap<String, ChainState>,
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
    /// time). Since each hash covers every entry before it in its chain, and a seal every chain's
    /// head, a trail that still holds a kept head was not rewritten up to there, however
    /// consistent a rewritten chain would be.
    pub fn keep(&mut self, head: Head) {
        self.kept.insert(head.seq, head);
    }

    pub fn check(&mut self, e: &ChainedEntry) -> Result<(), BrokenAt> {
        let broken = |reason: String| Err(BrokenAt { seq: Some(e.seq), reason });
        if e.seq <= self.last_seq {
            return broken(format!("out of order after entry {}", self.last_seq));
        }
        if e.chain.is_none() && self.chained {
            return broken("an entry of the old single chain after the chains began (it was moved or edited)".into());
        }
        let name = e.chain.as_deref().unwrap_or(SEAL);
        let chain = self.chains.entry(name.to_string()).or_default();
        if e.prev_hash != chain.last_hash {
            return broken(format!(
                "does not follow the entry before it in chain {name} (an entry before {} was deleted, edited, moved \
                 or inserted)",
                e.seq
            ));
        }
        if e.hash != e.expected_hash() {
            return broken("its content does not match its hash (it was edited)".into());
        }
        if e.chain.as_deref() == Some(SEAL) {
            if e.action != SEALED {
                return broken(format!("an entry of the seal chain that is not a seal ({})", e.action));
            }
            let Some(heads) = parse_seal(&e.detail) else {
                return broken("a seal whose detail names no heads".into());
            };
            for h in &heads {
                self.check_sealed(e.seq, h)?;
            }
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
        let chain = self.chains.entry(name.to_string()).or_default();
        chain.last_hash.clone_from(&e.hash);
        chain.last_seq = e.seq;
        if e.chain.as_deref().is_some_and(|c| c != SEAL) {
            chain.unsealed.insert(e.seq, e.hash.clone());
        }
        self.chained |= e.chain.is_some();
        self.last_seq = e.seq;
        self.count += 1;
        Ok(())
    }

    /// The seal entry `seal` names `h` as its chain's head: the chain must hold that entry.
    fn check_sealed(&mut self, seal: i64, h: &ChainHead) -> Result<(), BrokenAt> {
        let held = self.chains.get_mut(&h.chain).filter(|c| c.unsealed.get(&h.seq) == Some(&h.hash));
        let Some(chain) = held else {
            return Err(BrokenAt {
                seq: Some(h.seq),
                reason: format!(
                    "missing: seal entry {seal} names it (hash {}) as the head of chain {}, but the chain does not \
                     hold it (deleted from the chain's end, edited, or the chain was rewritten)",
                    short(&h.hash),
                    h.chain
                ),
            });
        };
        // The named entry stays, so a later seal may name it again.
        chain.unsealed = chain.unsealed.split_off(&h.seq);
        Ok(())
    }

    /// Compares the ends of the chains that have a head row (`heads`: the seal chain's and the
    /// body chain's) with them; returns how many entries verified.
    pub fn finish(&self, heads: &[ChainHead]) -> Result<u64, BrokenAt> {
        for head in heads {
            let (seq, hash) = self.chains.get(&head.chain).map_or((0, ""), |c| (c.last_seq, c.last_hash.as_str()));
            if head.seq != seq || head.hash != hash {
                return Err(BrokenAt {
                    seq: None,
                    reason: format!(
                        "chain {} ends at entry {seq} but its newest recorded entry is {} (entries were deleted \
                         from the end)",
                        head.chain, head.seq
                    ),
                });
            }
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
                    chain: None,
                };
                e.hash = e.expected_hash();
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn seal_head(seq: i64, hash: &str) -> ChainHead {
        ChainHead { chain: SEAL.into(), seq, hash: hash.into() }
    }

    fn verify(entries: &[ChainedEntry], head: (i64, &str)) -> Result<u64, BrokenAt> {
        let mut v = Verifier::new();
        for e in entries {
            v.check(e)?;
        }
        v.finish(&[seal_head(head.0, head.1)])
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
        v.finish(&[seal_head(last.0, &last.1)])
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

    /// A trail in the chains: `plan` names each entry's chain in `seq` order, after `old` entries
    /// of the old chain; a "seal" entry seals every chain's head at that point.
    struct Trail {
        entries: Vec<ChainedEntry>,
    }

    impl Trail {
        fn new(old: i64, plan: &[&str]) -> Trail {
            let mut t = Trail { entries: chain(old) };
            for c in plan {
                t.push(c);
            }
            t
        }

        fn tail(&self, chain: &str) -> Option<&ChainedEntry> {
            self.entries.iter().rev().find(|e| e.chain.as_deref().unwrap_or(SEAL) == chain)
        }

        fn push(&mut self, chain: &str) {
            let seq = self.entries.last().map_or(1, |e| e.seq + 1);
            let prev = self.tail(chain).map_or(String::new(), |e| e.hash.clone());
            let (action, detail) = if chain == SEAL {
                let mut heads: Vec<ChainHead> = Vec::new();
                for e in self.entries.iter().filter(|e| e.chain.as_deref().is_some_and(|c| c != SEAL)) {
                    let c = e.chain.clone().unwrap();
                    heads.retain(|h| h.chain != c);
                    heads.push(ChainHead { chain: c, seq: e.seq, hash: e.hash.clone() });
                }
                (SEALED.to_string(), seal_detail(&heads))
            } else {
                ("score_sheet.saved".to_string(), format!(r#"{{"n":{seq}}}"#))
            };
            let mut e = ChainedEntry {
                seq,
                assessment_id: (chain != SEAL && chain != BODY).then(|| chain.to_string()),
                at: format!("2026-12-03T10:00:{seq:02}.000000Z"),
                actor_id: None,
                action,
                detail,
                prev_hash: prev,
                hash: String::new(),
                chain: Some(chain.into()),
            };
            e.hash = e.expected_hash();
            self.entries.push(e);
        }

        fn heads(&self) -> Vec<ChainHead> {
            [SEAL, BODY]
                .iter()
                .map(|c| {
                    let (seq, hash) = self.tail(c).map_or((0, String::new()), |e| (e.seq, e.hash.clone()));
                    ChainHead { chain: c.to_string(), seq, hash }
                })
                .collect()
        }

        fn verify(&self, entries: &[ChainedEntry], kept: &[Head]) -> Result<u64, BrokenAt> {
            let mut v = Verifier::new();
            kept.iter().for_each(|h| v.keep(h.clone()));
            for e in entries {
                v.check(e)?;
            }
            v.finish(&self.heads())
        }

        fn seq_of(&self, i: usize) -> i64 {
            self.entries[i].seq
        }
    }

    /// Recomputes every hash (and the seals) of the entries from index `from` on, as a rewriter
    /// with write access could.
    fn rechain(entries: Vec<ChainedEntry>, from: usize) -> Vec<ChainedEntry> {
        let mut t = Trail { entries: entries[..from].to_vec() };
        for e in &entries[from..] {
            let c = e.chain.clone().unwrap();
            t.push(&c);
            let new = t.entries.last_mut().unwrap();
            if c != SEAL {
                new.detail.clone_from(&e.detail);
            }
            new.seq = e.seq;
            new.at.clone_from(&e.at);
            new.hash = new.expected_hash();
        }
        t.entries
    }

    const PLAN: &[&str] = &["a", "b", "body", "a", "b", "seal", "a", "b", "a", "seal", "b"];

    #[test]
    fn chains_after_the_old_chain_verify() {
        let t = Trail::new(3, PLAN);
        assert_eq!(t.verify(&t.entries, &[]), Ok(14));
        // The seal chain continues the old chain.
        let first_seal = t.entries.iter().find(|e| e.chain.as_deref() == Some(SEAL)).unwrap();
        assert_eq!(first_seal.prev_hash, t.entries[2].hash);
        // Only chains: fine too.
        let fresh = Trail::new(0, PLAN);
        assert_eq!(fresh.verify(&fresh.entries, &[]), Ok(11));
    }

    #[test]
    fn an_edit_in_a_chain_names_the_entry() {
        let t = Trail::new(2, PLAN);
        let mut e = t.entries.clone();
        e[4].detail = r#"{"n":99}"#.into();
        assert_eq!(t.verify(&e, &[]).unwrap_err().seq, Some(t.seq_of(4)));
    }

    #[test]
    fn a_deletion_inside_a_chain_names_the_next_entry_of_that_chain() {
        let t = Trail::new(0, PLAN);
        // Entry 1 ("a") gone: the next "a" (index 3) no longer follows.
        let mut e = t.entries.clone();
        e.remove(0);
        let err = t.verify(&e, &[]).unwrap_err();
        assert_eq!(err.seq, Some(t.seq_of(3)), "{err}");
        assert!(err.reason.contains("chain a"), "{err}");
    }

    #[test]
    fn a_deleted_chain_tail_is_caught_by_the_next_seal_not_before() {
        let t = Trail::new(0, PLAN);
        // The last "a" (index 8) was sealed by the seal at index 9: deleting it is named.
        let mut e = t.entries.clone();
        e.remove(8);
        let err = t.verify(&e, &[]).unwrap_err();
        assert_eq!(err.seq, Some(t.seq_of(8)), "{err}");
        assert!(err.reason.contains("missing") && err.reason.contains("seal entry"), "{err}");
        // The last "b" (index 10) is after the last seal: its deletion is the window the README
        // states (caught at the next seal, or against a head kept later).
        let mut e = t.entries.clone();
        e.remove(10);
        assert_eq!(t.verify(&e, &[]), Ok(13 - 3));
        let mut sealed = Trail::new(0, PLAN);
        sealed.push(SEAL);
        let mut e = sealed.entries.clone();
        e.remove(10);
        assert_eq!(sealed.verify(&e, &[]).unwrap_err().seq, Some(sealed.seq_of(10)));
    }

    #[test]
    fn a_cut_body_or_seal_chain_is_caught_by_its_head_row() {
        let t = Trail::new(0, PLAN);
        let last_seal = t.entries.len() - 2;
        let mut e = t.entries.clone();
        e.remove(last_seal);
        let err = t.verify(&e, &[]).unwrap_err();
        assert_eq!(err.seq, None, "{err}");
        assert!(err.reason.contains("chain seal"), "{err}");
        let body = Trail::new(0, &["a", "body"]);
        let err = body.verify(&body.entries[..1], &[]).unwrap_err();
        assert!(err.reason.contains("chain body"), "{err}");
    }

    #[test]
    fn reordering_within_or_across_chains_is_caught() {
        let t = Trail::new(0, PLAN);
        // Within chain a: entries 1 and 4 swap places (their seqs swapped, rehashed).
        let mut e = t.entries.clone();
        let (s0, s3) = (e[0].seq, e[3].seq);
        e[0].seq = s3;
        e[3].seq = s0;
        e[0].hash = e[0].expected_hash();
        e[3].hash = e[3].expected_hash();
        e.sort_by_key(|e| e.seq);
        assert!(t.verify(&e, &[]).is_err());
        // Across chains: a's entry 1 and b's entry 2 swap seqs (rehashed): both chains break.
        let mut e = t.entries.clone();
        e[0].seq = 2;
        e[1].seq = 1;
        e[0].hash = e[0].expected_hash();
        e[1].hash = e[1].expected_hash();
        e.sort_by_key(|e| e.seq);
        assert!(t.verify(&e, &[]).is_err());
        // Moved to another chain (chain relabelled, rehashed): the chain it left breaks.
        let mut e = t.entries.clone();
        e[0].chain = Some("b".into());
        e[0].hash = e[0].expected_hash();
        assert!(t.verify(&e, &[]).is_err());
        // Relabelled as an entry of the old chain.
        let mut e = t.entries.clone();
        e[4].chain = None;
        e[4].hash = e[4].expected_hash();
        assert!(t.verify(&e, &[]).is_err());
    }

    #[test]
    fn a_consistent_rewrite_of_chains_and_seals_fails_against_a_kept_seal_head() {
        let t = Trail::new(2, PLAN);
        let seal_at = 2 + 5;
        let kept = head_of(&t.entries[..=seal_at]);
        assert_eq!(t.verify(&t.entries, std::slice::from_ref(&kept)), Ok(13));
        // An old entry kept as a head (published before the migration) still holds.
        let old = head_of(&t.entries[..2]);
        assert_eq!(t.verify(&t.entries, std::slice::from_ref(&old)), Ok(13));
        // Entry "a" before the kept seal edited, every hash and seal after it recomputed.
        let mut e = t.entries.clone();
        e[2].detail = r#"{"n":0}"#.into();
        let forged = rechain(e, 2);
        let rewritten = Trail { entries: forged.clone() };
        assert_eq!(rewritten.verify(&forged, &[]), Ok(13), "consistent on its own");
        let err = rewritten.verify(&forged, &[kept]).unwrap_err();
        assert_eq!(err.seq, Some(t.seq_of(seal_at)), "{err}");
        assert!(err.reason.contains("kept at"), "{err}");
        // An old entry before the kept head rewritten: the old head catches it.
        let mut e = t.entries.clone();
        e[0].detail = "{}".into();
        let e = rewritten_old(e);
        let again = Trail { entries: e.clone() };
        assert_eq!(again.verify(&e, &[old]).unwrap_err().seq, Some(2));
    }

    /// The old chain (and everything after it) recomputed from its first entry.
    fn rewritten_old(mut e: Vec<ChainedEntry>) -> Vec<ChainedEntry> {
        let olds = e.iter().filter(|x| x.chain.is_none()).count();
        for i in 0..olds {
            e[i].prev_hash = if i == 0 { String::new() } else { e[i - 1].hash.clone() };
            e[i].hash = e[i].expected_hash();
        }
        rechain(e, olds)
    }

    #[test]
    fn a_seal_naming_what_no_chain_holds_is_caught() {
        let mut t = Trail::new(0, &["a", "b"]);
        t.push(SEAL);
        let mut e = t.entries.clone();
        // A seal naming a forged head for a, rehashed: a does not hold it.
        e[2].detail = seal_detail(&[ChainHead { chain: "a".into(), seq: 1, hash: "00".repeat(32) }]);
        e[2].hash = e[2].expected_hash();
        let t2 = Trail { entries: e.clone() };
        assert!(t2.verify(&e, &[]).unwrap_err().reason.contains("missing"));
        // A seal-chain entry that is not a seal.
        let mut e = t.entries.clone();
        e[2].action = "x".into();
        e[2].hash = e[2].expected_hash();
        let t3 = Trail { entries: e.clone() };
        assert!(t3.verify(&e, &[]).is_err());
    }

    #[test]
    fn a_seal_may_name_a_head_older_than_lower_entries_of_its_chain() {
        // On PostgreSQL an entry of chain a with a lower seq than a seal can commit after the
        // seal read a's head: the seal names the older head, which a still holds.
        let mut t = Trail::new(0, &["a", "a"]);
        t.push(SEAL);
        let mut e = t.entries.clone();
        let ChainHead { .. } = parse_seal(&e[2].detail).unwrap()[0].clone();
        e[2].detail = seal_detail(&[ChainHead { chain: "a".into(), seq: 1, hash: e[0].hash.clone() }]);
        e[2].hash = e[2].expected_hash();
        let t2 = Trail { entries: e.clone() };
        assert_eq!(t2.verify(&e, &[]), Ok(3));
    }
}
