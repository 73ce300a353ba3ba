//! Verifying and exporting the audit trail, and taking its head out to be kept elsewhere (the
//! chain itself is in `domain::audit`).

use std::io::{BufRead, Write};

use crate::db::audit::{audit_head, each_entry};
use crate::db::{now, DbConnection};
use crate::domain::audit::{AuditKey, BrokenAt, ChainedEntry, Head, Verifier};

pub use crate::db::audit::{verify_db, verify_db_against, Verified};

/// One line of an exported trail: an entry, or the head as the last line.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Head { head_seq: i64, head_hash: String },
    Entry(ChainedEntry),
}

/// Writes the trail as JSON lines (entries oldest first, then the head) for an outside verifier.
pub fn export(conn: &mut DbConnection, out: &mut impl Write) -> anyhow::Result<u64> {
    let mut n = 0;
    each_entry(conn, |e| {
        serde_json::to_writer(&mut *out, &Line::Entry(e))?;
        out.write_all(b"\n")?;
        n += 1;
        Ok(true)
    })?;
    let (head_seq, head_hash) = audit_head(conn)?;
    serde_json::to_writer(&mut *out, &Line::Head { head_seq, head_hash })?;
    out.write_all(b"\n")?;
    Ok(n)
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
            Line::Head { head_seq, head_hash } => return Ok(v.finish(head_seq, &head_hash)),
        }
    }
    Ok(Err(BrokenAt { seq: None, reason: "the file has no head line (it was cut short)".into() }))
}

/// The trail's current head, after checking the trail up to it (a broken trail gets no head), with
/// its MAC when there is a key. The head row is read first, so entries written meanwhile by a
/// running server are simply not part of this head.
pub fn head(conn: &mut DbConnection, key: Option<&AuditKey>) -> anyhow::Result<Result<Head, BrokenAt>> {
    let (seq, hash) = audit_head(conn)?;
    let mut v = Verifier::new();
    let (mut broken, mut at) = (None, None);
    each_entry(conn, |e| {
        if e.seq > seq {
            return Ok(false);
        }
        match v.check(&e) {
            Ok(()) => {
                if e.seq == seq {
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
    if let Err(b) = v.finish(seq, &hash) {
        return Ok(Err(b));
    }
    let head = Head { seq, hash, at, taken_at: now(), mac: None };
    Ok(Ok(match key {
        Some(key) => head.signed(key),
        None => head,
    }))
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
