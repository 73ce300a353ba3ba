//! Verifying and exporting the audit trail (the chain itself is in `domain::audit`).

use std::io::{BufRead, Write};

use crate::db::models::{audit_head, audit_page};
use crate::db::DbConnection;
use crate::domain::audit::{BrokenAt, ChainedEntry, Verifier};

const PAGE: i64 = 1000;

/// What a verification found.
pub type Verified = Result<u64, BrokenAt>;

/// Reads the trail oldest first, page by page, until `f` says stop (returns false).
fn each_entry(conn: &mut DbConnection, mut f: impl FnMut(ChainedEntry) -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let page = audit_page(conn, after, PAGE)?;
        let Some(last) = page.last() else { return Ok(()) };
        after = last.seq;
        for e in page {
            if !f(e.into())? {
                return Ok(());
            }
        }
    }
}

/// Verifies the whole trail in the database.
pub fn verify_db(conn: &mut DbConnection) -> anyhow::Result<Verified> {
    let mut v = Verifier::new();
    let mut broken = None;
    each_entry(conn, |e| match v.check(&e) {
        Ok(()) => Ok(true),
        Err(b) => {
            broken = Some(b);
            Ok(false)
        }
    })?;
    if let Some(b) = broken {
        return Ok(Err(b));
    }
    let (seq, hash) = audit_head(conn)?;
    Ok(v.finish(seq, &hash))
}

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
    let mut v = Verifier::new();
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
