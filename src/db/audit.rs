//! The audit trail's rows: appending to the hash chain, its head, reading it page by page, and
//! verifying the whole chain as stored (the chain's rules are in `domain::audit`).

use diesel::prelude::*;

use super::schema::{audit_entries, audit_head};
use super::DbConnection;
use crate::domain::audit::{BrokenAt, ChainedEntry, Head, Verifier};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_entries)]
pub struct AuditEntry {
    pub seq: i64,
    pub assessment_id: Option<String>,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for ChainedEntry {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            assessment_id: e.assessment_id,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            detail: e.detail,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Appends an entry to the hash chain. The head row is locked first (an UPDATE takes the row
/// lock on PostgreSQL; SQLite has one writer), so entries chain in `seq` order across instances.
pub fn append_audit(
    conn: &mut DbConnection,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> QueryResult<i64> {
    use crate::domain::audit::entry_hash;
    let head = audit_head::table.find(1);
    diesel::update(head).set(audit_head::last_seq.eq(audit_head::last_seq)).execute(conn)?;
    let (last_seq, last_hash): (i64, String) =
        head.select((audit_head::last_seq, audit_head::last_hash)).first(conn)?;
    let seq = last_seq + 1;
    let hash = entry_hash(&last_hash, seq, assessment_id, at, actor_id, action, detail);
    diesel::insert_into(audit_entries::table)
        .values((
            audit_entries::seq.eq(seq),
            audit_entries::assessment_id.eq(assessment_id),
            audit_entries::at.eq(at),
            audit_entries::actor_id.eq(actor_id),
            audit_entries::action.eq(action),
            audit_entries::detail.eq(detail),
            audit_entries::prev_hash.eq(&last_hash),
            audit_entries::hash.eq(&hash),
        ))
        .execute(conn)?;
    set_audit_head(conn, seq, &hash)?;
    Ok(seq)
}

/// The recorded newest entry: (seq, hash).
pub fn audit_head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    audit_head::table.find(1).select((audit_head::last_seq, audit_head::last_hash)).first(conn)
}

/// Records the newest entry (appending, or copying a whole trail).
pub fn set_audit_head(conn: &mut DbConnection, seq: i64, hash: &str) -> QueryResult<()> {
    diesel::update(audit_head::table.find(1))
        .set((audit_head::last_seq.eq(seq), audit_head::last_hash.eq(hash)))
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` entries after `after`, oldest first.
pub fn audit_page(conn: &mut DbConnection, after: i64, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::seq.gt(after))
        .order(audit_entries::seq.asc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}

pub fn audit_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::assessment_id.eq(assessment_id))
        .order(audit_entries::seq.asc())
        .select(AuditEntry::as_select())
        .load(conn)
}

/// The entries with one of `actions` of the assessments among `ids`, oldest first.
pub fn entries_of(conn: &mut DbConnection, ids: &[String], actions: &[&str]) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::assessment_id.eq_any(ids))
        .filter(audit_entries::action.eq_any(actions))
        .order(audit_entries::seq.asc())
        .select(AuditEntry::as_select())
        .load(conn)
}

const PAGE: i64 = 1000;

/// What a verification found.
pub type Verified = Result<u64, BrokenAt>;

/// Reads the trail oldest first, page by page, until `f` says stop (returns false).
pub fn each_entry(
    conn: &mut DbConnection,
    mut f: impl FnMut(ChainedEntry) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
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
    verify_db_against(conn, Vec::new())
}

/// Verifies the whole trail in the database, and that it still holds each of the `kept` heads
/// unchanged (their MACs are checked apart, by `services::audit_trail::check_macs`).
pub fn verify_db_against(conn: &mut DbConnection, kept: Vec<Head>) -> anyhow::Result<Verified> {
    let mut v = Verifier::new();
    kept.into_iter().for_each(|h| v.keep(h));
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
