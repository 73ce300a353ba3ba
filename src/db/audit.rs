//! The audit trail's rows: appending to the hash chain, its head, reading it page by page, and
//! verifying the whole chain as stored (the chain's rules are in `domain::audit`).

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{audit_entries, audit_head, audit_sealed};
use super::{DbConnection, UniqueRow};
use crate::domain::audit::{chain_of, chained_hash, seal_detail, BrokenAt, ChainHead, ChainedEntry, Head, Verifier};
use crate::domain::audit::{BODY, SEAL, SEALED};

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
    pub chain: Option<String>,
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
            chain: e.chain,
        }
    }
}

/// A chain's head as the newest seal names it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_sealed)]
pub struct SealedHead {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// The head row of a chain that has one (the seal chain: row 1, the body chain: row 2).
fn head_row(chain: &str) -> Option<i32> {
    match chain {
        SEAL => Some(1),
        BODY => Some(2),
        _ => None,
    }
}

/// The next `seq`: the sequence on PostgreSQL (no row is locked, so writers to different
/// chains do not wait on each other); on SQLite, with its one writer, one past the newest.
fn next_seq(conn: &mut DbConnection) -> QueryResult<i64> {
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::select(diesel::dsl::sql::<BigInt>("nextval(pg_get_serial_sequence('audit_entries', 'seq'))"))
                .get_result(pg)
        }
        DbConnection::Sqlite(sqlite) => {
            let max: Option<i64> =
                audit_entries::table.select(diesel::dsl::max(audit_entries::seq)).get_result(sqlite)?;
            Ok(max.unwrap_or(0) + 1)
        }
    }
}

/// The newest entry of `chain` (seq, hash), read under the lock the caller holds on the chain.
fn chain_tail(conn: &mut DbConnection, chain: &str) -> QueryResult<(i64, String)> {
    if let Some(id) = head_row(chain) {
        // Locks the head row first (an UPDATE takes the row lock on PostgreSQL).
        let head = audit_head::table.find(id);
        diesel::update(head).set(audit_head::last_seq.eq(audit_head::last_seq)).execute(conn)?;
        return head.select((audit_head::last_seq, audit_head::last_hash)).get_result(conn);
    }
    // The newest by a subquery, not `ORDER BY seq DESC LIMIT ?` (see `db::UniqueRow`).
    let newer = diesel::alias!(audit_entries as newer);
    let newest = newer
        .filter(newer.field(audit_entries::chain).eq(chain))
        .select(diesel::dsl::max(newer.field(audit_entries::seq)))
        .single_value();
    let tail = super::on_backend!(conn, c => audit_entries::table
        .filter(audit_entries::chain.eq(chain))
        .filter(audit_entries::seq.nullable().eq(newest))
        .select((audit_entries::seq, audit_entries::hash))
        .unique_row(c))?;
    Ok(tail.unwrap_or((0, String::new())))
}

/// Appends an entry to its chain: the assessment's (the caller holds the assessment's row lock,
/// as every change does, or created the assessment in this transaction), or the body chain
/// (whose head row is locked). Entries to different assessments share no row.
pub fn append_audit(
    conn: &mut DbConnection,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> QueryResult<i64> {
    append_to(conn, chain_of(assessment_id), assessment_id, at, actor_id, action, detail)
}

fn append_to(
    conn: &mut DbConnection,
    chain: &str,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> QueryResult<i64> {
    let (_, prev_hash) = chain_tail(conn, chain)?;
    let seq = next_seq(conn)?;
    let hash = chained_hash(chain, &prev_hash, seq, assessment_id, at, actor_id, action, detail);
    let entry = diesel::insert_into(audit_entries::table).values((
        audit_entries::seq.eq(seq),
        audit_entries::assessment_id.eq(assessment_id),
        audit_entries::at.eq(at),
        audit_entries::actor_id.eq(actor_id),
        audit_entries::action.eq(action),
        audit_entries::detail.eq(detail),
        audit_entries::prev_hash.eq(&prev_hash),
        audit_entries::hash.eq(&hash),
        audit_entries::chain.eq(chain),
    ));
    super::on_backend!(conn, c => entry.execute(c))?;
    if let Some(id) = head_row(chain) {
        set_head_row(conn, id, seq, &hash)?;
    }
    Ok(seq)
}

/// Seals: one seal entry naming the head of every chain that moved since the last seal (none
/// when nothing moved). Returns the seal chain's head (seq, hash) after it. Runs in its own
/// transaction; seals wait for each other (on the seal chain's head row), never for writers.
pub fn seal(conn: &mut DbConnection, at: &str) -> QueryResult<(i64, String)> {
    conn.transaction(|conn| {
        let (seq, hash) = chain_tail(conn, SEAL)?;
        let tails: Vec<(Option<String>, Option<i64>)> = audit_entries::table
            .filter(audit_entries::chain.is_not_null().and(audit_entries::chain.ne(SEAL)))
            .group_by(audit_entries::chain)
            .select((audit_entries::chain, diesel::dsl::max(audit_entries::seq)))
            .load(conn)?;
        let sealed: std::collections::HashMap<String, i64> =
            audit_sealed::table.select((audit_sealed::chain, audit_sealed::seq)).load(conn)?.into_iter().collect();
        let moved: Vec<i64> = tails
            .into_iter()
            .filter_map(|(chain, max)| Some((chain?, max?)))
            .filter(|(chain, max)| sealed.get(chain) != Some(max))
            .map(|(_, max)| max)
            .collect();
        if moved.is_empty() {
            return Ok((seq, hash));
        }
        let mut heads = Vec::with_capacity(moved.len());
        for ids in moved.chunks(500) {
            let rows: Vec<(Option<String>, i64, String)> = audit_entries::table
                .filter(audit_entries::seq.eq_any(ids))
                .order(audit_entries::seq.asc())
                .select((audit_entries::chain, audit_entries::seq, audit_entries::hash))
                .load(conn)?;
            heads.extend(rows.into_iter().filter_map(|(c, seq, hash)| Some(ChainHead { chain: c?, seq, hash })));
        }
        for h in &heads {
            let row = SealedHead { chain: h.chain.clone(), seq: h.seq, hash: h.hash.clone() };
            diesel::delete(audit_sealed::table.find(&h.chain)).execute(conn)?;
            diesel::insert_into(audit_sealed::table).values(&row).execute(conn)?;
        }
        let new = append_to(conn, SEAL, None, at, None, SEALED, &seal_detail(&heads))?;
        let (_, hash) = audit_head(conn)?;
        Ok((new, hash))
    })
}

/// The seal chain's recorded newest entry: (seq, hash) (before the chains: the old chain's).
pub fn audit_head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    audit_head::table.find(1).select((audit_head::last_seq, audit_head::last_hash)).get_result(conn)
}

/// The recorded heads of the chains that have a head row (seal, body).
pub fn chain_heads(conn: &mut DbConnection) -> QueryResult<Vec<ChainHead>> {
    let rows: Vec<(i32, i64, String)> = audit_head::table
        .order(audit_head::id.asc())
        .select((audit_head::id, audit_head::last_seq, audit_head::last_hash))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, seq, hash)| {
            let chain = match id {
                1 => SEAL,
                2 => BODY,
                _ => return None,
            };
            Some(ChainHead { chain: chain.into(), seq, hash })
        })
        .collect())
}

fn set_head_row(conn: &mut DbConnection, id: i32, seq: i64, hash: &str) -> QueryResult<()> {
    diesel::update(audit_head::table.find(id))
        .set((audit_head::last_seq.eq(seq), audit_head::last_hash.eq(hash)))
        .execute(conn)?;
    Ok(())
}

/// Records the chains' heads (copying a whole trail).
pub fn set_chain_heads(conn: &mut DbConnection, heads: &[ChainHead]) -> QueryResult<()> {
    for h in heads {
        if let Some(id) = head_row(&h.chain) {
            set_head_row(conn, id, h.seq, &h.hash)?;
        }
    }
    Ok(())
}

/// Runs `f` on one snapshot of the database (REPEATABLE READ on PostgreSQL; SQLite's read
/// transaction is one), so entries committed meanwhile — possibly with a lower `seq` than some
/// already read — are either wholly in it or not at all.
pub fn in_snapshot<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    conn.transaction(|conn| {
        if let DbConnection::Postgres(pg) = conn {
            use diesel::connection::SimpleConnection;
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
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
    in_snapshot(conn, |conn| verify_here(conn, kept))
}

/// [`verify_db_against`] inside a transaction the caller already holds (`copy`'s, on the target).
pub fn verify_here(conn: &mut DbConnection, kept: Vec<Head>) -> anyhow::Result<Verified> {
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
    Ok(v.finish(&chain_heads(conn)?))
}
