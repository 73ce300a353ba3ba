//! Verifying and exporting the audit trail, and taking its head out to be kept elsewhere (the
//! chain itself is in `domain::audit`).

use std::io::{BufRead, Write};

use crate::db::audit::{chain_heads, each_entry, in_snapshot};
use crate::db::{now, DbConnection};
use crate::domain::audit::{AuditKey, BrokenAt, ChainHead, ChainedEntry, Head, Verifier, BODY, SEAL};

pub use crate::db::audit::{verify_db, verify_db_against, Verified};

pub use crate::db::audit::seal;

/// One line of an exported trail: an entry, or the heads as the last line (the seal chain's as
/// `head_seq`/`head_hash`, the body chain's as `body_seq`/`body_hash`; a file exported before
/// the chains has no body head).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Head {
        head_seq: i64,
        head_hash: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_seq: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_hash: Option<String>,
    },
    Entry(ChainedEntry),
}

/// Writes the trail as JSON lines (entries oldest first, then the heads) for an outside
/// verifier, all from one snapshot.
pub fn export(conn: &mut DbConnection, out: &mut impl Write) -> anyhow::Result<u64> {
    in_snapshot(conn, |conn| {
        let mut n = 0;
        each_entry(conn, |e| {
            serde_json::to_writer(&mut *out, &Line::Entry(e))?;
            out.write_all(b"\n")?;
            n += 1;
            Ok(true)
        })?;
        let heads = chain_heads(conn)?;
        let of = |chain: &str| heads.iter().find(|h| h.chain == chain).cloned();
        let seal = of(SEAL).ok_or_else(|| anyhow::anyhow!("no head row"))?;
        let body = of(BODY);
        serde_json::to_writer(
            &mut *out,
            &Line::Head {
                head_seq: seal.seq,
                head_hash: seal.hash,
                body_seq: body.as_ref().map(|b| b.seq),
                body_hash: body.map(|b| b.hash),
            },
        )?;
        out.write_all(b"\n")?;
        Ok(n)
    })
}

/// Verifies an exported trail without a database.
pub fn verify_file(input: impl BufRead) -> anyhow::Result<Verified> {
    verify_file_against(input, Vec::new())
}

/// Verifies an exported trail without a database, and that it holds each of the `kept` heads.
pub fn verify_file_against(input: impl BufRead, kept: Vec<Head>) -> anyhow::Result<Verified> {
    let mut v = Verifier::new();
    kept.into_iter().for_each(|h| v.keep(h));
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))? {
            Line::Entry(e) => {
                if let Err(broken) = v.check(&e) {
                    return Ok(Err(broken));
                }
            }
            Line::Head { head_seq, head_hash, body_seq, body_hash } => {
                let mut heads = vec![ChainHead { chain: SEAL.into(), seq: head_seq, hash: head_hash }];
                if let (Some(seq), Some(hash)) = (body_seq, body_hash) {
                    heads.push(ChainHead { chain: BODY.into(), seq, hash });
                }
                return Ok(v.finish(&heads));
            }
        }
    }
    Ok(Err(BrokenAt { seq: None, reason: "the file has no head line (it was cut short)".into() }))
}

/// Seals the trail (so the head covers every chain's newest entry), checks the whole trail, and
/// returns the seal chain's head (a broken trail gets no head), with its MAC when there is a key.
/// Entries written meanwhile by a running server are checked if the snapshot holds them, and
/// are covered by the next seal.
pub fn head(conn: &mut DbConnection, key: Option<&AuditKey>) -> anyhow::Result<Result<Head, BrokenAt>> {
    seal(conn, &now())?;
    in_snapshot(conn, |conn| {
        let heads = chain_heads(conn)?;
        let seal = heads.iter().find(|h| h.chain == SEAL).cloned().ok_or_else(|| anyhow::anyhow!("no head row"))?;
        let mut v = Verifier::new();
        let (mut broken, mut at) = (None, None);
        each_entry(conn, |e| {
            let seq = e.seq;
            match v.check(&e) {
                Ok(()) => {
                    if seq == seal.seq {
                        at = Some(e.at);
                    }
                    Ok(true)
                }
                Err(b) => {
                    broken = Some(b);
                    Ok(false)
                }
            }
        })?;
        if let Some(b) = broken {
            return Ok(Err(b));
        }
        if let Err(b) = v.finish(&heads) {
            return Ok(Err(b));
        }
        let head = Head { seq: seal.seq, hash: seal.hash, at, taken_at: now(), mac: None };
        Ok(Ok(match key {
            Some(key) => head.signed(key),
            None => head,
        }))
    })
}

/// Kept heads from `--head`: the JSON itself (text starting with `{`), or a file holding one head
/// per line (a log of heads kept over time).
pub fn read_heads(arg: &str) -> anyhow::Result<Vec<Head>> {
    let (text, source) = if arg.trim_start().starts_with('{') {
        (arg.to_string(), "the --head JSON".to_string())
    } else {
        let text = std::fs::read_to_string(arg).map_err(|e| anyhow::anyhow!("--head {arg}: {e}"))?;
        (text, format!("--head {arg}"))
    };
    let heads = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str::<Head>(line)
                .map_err(|e| anyhow::anyhow!("{source}, line {}: not a head from `epa-panel audit head` ({e})", i + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if heads.is_empty() {
        anyhow::bail!("{source} holds no head");
    }
    Ok(heads)
}

/// With a key, every kept head must carry a MAC made with it; returns the first that does not,
/// and why. Without a key, MACs cannot be checked (and are not).
pub fn check_macs<'a>(heads: &'a [Head], key: Option<&AuditKey>) -> Result<(), (&'a Head, String)> {
    let Some(key) = key else { return Ok(()) };
    heads.iter().try_for_each(|h| h.check_mac(key).map_err(|why| (h, why)))
}
