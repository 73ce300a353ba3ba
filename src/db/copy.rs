//! `epa-panel copy`: moves every row of one installation into an empty database (typically an
//! embedded SQLite file into PostgreSQL when an assessment body outgrows one machine), then
//! checks the row counts and the audit chain on the target.

use diesel::prelude::*;

use super::audit::{chain_heads, set_chain_heads, verify_here, SealedHead};
use super::models::*;
use super::schema::*;
use super::{migrate, DatabaseUrl, DbConnection};

const PAGE: i64 = 500;

/// Rows copied per table, in copy order.
pub type Copied = Vec<(&'static str, i64)>;

/// Copies `table` page by page in primary-key order and returns (source count, target count).
macro_rules! copy_table {
    ($from:expr, $to:expr, $table:ident, $row:ty, $order:expr) => {{
        let mut offset = 0;
        loop {
            let rows: Vec<$row> =
                $table::table.order($order).limit(PAGE).offset(offset).select(<$row>::as_select()).load($from)?;
            for row in &rows {
                diesel::insert_into($table::table).values(row).execute($to)?;
            }
            offset += rows.len() as i64;
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        let source: i64 = $table::table.count().get_result($from)?;
        let target: i64 = $table::table.count().get_result($to)?;
        (stringify!($table), source, target)
    }};
}

fn count_rows(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(organisations::table.count().get_result::<i64>(conn)?
        + users::table.count().get_result::<i64>(conn)?
        + apprentices::table.count().get_result::<i64>(conn)?
        + standards::table.count().get_result::<i64>(conn)?
        + assessments::table.count().get_result::<i64>(conn)?
        + audit_entries::table.count().get_result::<i64>(conn)?
        + outbox::table.count().get_result::<i64>(conn)?
        + credentials::table.count().get_result::<i64>(conn)?)
}

/// Copies everything from `from` to `to`. Refuses a target that holds any data; copies in one
/// transaction on the target, so a failure leaves it empty.
pub fn copy(from: &DatabaseUrl, to: &DatabaseUrl) -> anyhow::Result<Copied> {
    if from == to {
        anyhow::bail!("--from and --to name the same database");
    }
    let mut src = from.connect().map_err(|e| anyhow::anyhow!("--from {from:?}: {e}"))?;
    let mut dst = to.connect().map_err(|e| anyhow::anyhow!("--to {to:?}: {e}"))?;
    migrate(&mut src)?;
    migrate(&mut dst)?;
    let existing = count_rows(&mut dst)?;
    if existing > 0 {
        anyhow::bail!("--to {to:?} already holds {existing} rows; copy only into an empty database");
    }
    let src = &mut src;
    let copied = dst.transaction::<_, anyhow::Error, _>(|dst| {
        let counts = [
            copy_table!(src, dst, organisations, Organisation, organisations::id),
            copy_table!(src, dst, users, User, users::id),
            copy_table!(src, dst, apprentices, Apprentice, apprentices::id),
            copy_table!(src, dst, standards, StandardRow, (standards::id, standards::version)),
            copy_table!(src, dst, assessments, AssessmentRow, assessments::id),
            copy_table!(src, dst, score_sheets, ScoreSheetRow, (score_sheets::assessment_id, score_sheets::user_id)),
            copy_table!(src, dst, moderations, ModerationRow, moderations::id),
            copy_table!(src, dst, sign_offs, super::sign_offs::SignOffRow, (sign_offs::assessment_id, sign_offs::seat)),
            copy_table!(src, dst, assessor_records, AssessorRecordRow, assessor_records::user_id),
            copy_table!(src, dst, appeals, super::appeals::AppealRow, appeals::id),
            copy_table!(src, dst, evidence, super::evidence::EvidenceRow, evidence::id),
            copy_table!(src, dst, audit_entries, AuditEntry, audit_entries::seq),
            copy_table!(src, dst, audit_sealed, SealedHead, audit_sealed::chain),
            copy_table!(
                src,
                dst,
                idempotency_keys,
                IdempotencyKey,
                (idempotency_keys::user_id, idempotency_keys::idem_key)
            ),
            copy_table!(src, dst, outbox, OutboxRow, outbox::id),
            copy_table!(src, dst, credentials, Credential, credentials::user_id),
            copy_table!(src, dst, web_sessions, WebSession, web_sessions::id_hash),
            copy_table!(src, dst, login_failures, LoginFailure, login_failures::id),
            {
                // A server started on the empty target may have generated its own settings (the
                // cookie key); the installation's own replace them, so signed-in people stay so.
                diesel::delete(settings::table).execute(dst)?;
                copy_table!(src, dst, settings, Setting, settings::name)
            },
        ];
        set_chain_heads(dst, &chain_heads(src)?)?;
        if let DbConnection::Postgres(pg) = dst {
            // The entries came with their seqs: the target's sequence starts after the newest.
            use diesel::connection::SimpleConnection;
            pg.batch_execute(
                "SELECT setval(pg_get_serial_sequence('audit_entries', 'seq'), \
                 COALESCE((SELECT MAX(seq) FROM audit_entries), 0) + 1, false)",
            )?;
        }
        for (table, source, target) in counts {
            if source != target {
                anyhow::bail!("{table}: {source} rows in the source but {target} in the target");
            }
        }
        if let Err(broken) = verify_here(dst, Vec::new())? {
            anyhow::bail!("the copied audit trail does not verify: {broken}");
        }
        Ok(counts.iter().map(|(t, n, _)| (*t, *n)).collect())
    })?;
    Ok(copied)
}
