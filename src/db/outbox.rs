//! The outbox: outcome emails committed with the change that causes them, claimed and leased
//! by the delivery workers (`SKIP LOCKED` on PostgreSQL so several instances share the queue).

use diesel::prelude::*;

use super::schema::outbox;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub assessment_id: String,
    pub recipient: String,
    pub recipient_role: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub locked_until: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The assessment's messages, oldest first.
pub fn outbox_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::assessment_id.eq(assessment_id))
        .order(outbox::created_at.asc())
        .select(OutboxRow::as_select())
        .load(conn)
}

pub fn insert_message(conn: &mut DbConnection, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(outbox::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_message(conn: &mut DbConnection, id: &str) -> QueryResult<OutboxRow> {
    outbox::table.find(id).select(OutboxRow::as_select()).get_result(conn)
}

/// Deletes the assessment's messages; returns how many there were.
pub fn delete_messages_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<usize> {
    diesel::delete(outbox::table.filter(outbox::assessment_id.eq(assessment_id))).execute(conn)
}

/// Puts the assessment's failed messages back in the queue, due `at`; returns how many.
pub fn requeue_failed(conn: &mut DbConnection, assessment_id: &str, at: &str) -> QueryResult<usize> {
    let failed = outbox::table.filter(outbox::assessment_id.eq(assessment_id)).filter(outbox::status.eq("failed"));
    diesel::update(failed)
        .set((
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(at),
            outbox::locked_until.eq(None::<String>),
        ))
        .execute(conn)
}

/// Up to `limit` pending messages due at `at` and not leased, the longest due first. On
/// PostgreSQL they are locked for the transaction, skipping rows another worker has locked.
pub fn due_messages(conn: &mut DbConnection, at: &str, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    let due = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(at))
        .filter(outbox::locked_until.is_null().or(outbox::locked_until.lt(at)))
        .order(outbox::next_attempt_at.asc())
        .limit(limit);
    match conn {
        DbConnection::Postgres(pg) => due.select(OutboxRow::as_select()).for_update().skip_locked().load(pg),
        DbConnection::Sqlite(_) => due.select(OutboxRow::as_select()).load(conn),
    }
}

/// Marks the message failed with `error`, if it is still pending and unleased at `at`; returns
/// the number of rows changed (0 when another worker took it).
pub fn give_up_unleased(conn: &mut DbConnection, id: &str, at: &str, error: &str) -> QueryResult<usize> {
    let unleased = outbox::table
        .find(id)
        .filter(outbox::status.eq("pending"))
        .filter(outbox::locked_until.is_null().or(outbox::locked_until.lt(at)));
    diesel::update(unleased)
        .set((outbox::status.eq("failed"), outbox::locked_until.eq(None::<String>), outbox::last_error.eq(Some(error))))
        .execute(conn)
}

/// Leases the message until `until` and counts an attempt, if it is still pending and unleased
/// at `at`; returns the number of rows changed (0 when another worker took it).
pub fn lease_unleased(conn: &mut DbConnection, id: &str, at: &str, until: &str) -> QueryResult<usize> {
    let unleased = outbox::table
        .find(id)
        .filter(outbox::status.eq("pending"))
        .filter(outbox::locked_until.is_null().or(outbox::locked_until.lt(at)));
    diesel::update(unleased)
        .set((outbox::locked_until.eq(until), outbox::attempts.eq(outbox::attempts + 1)))
        .execute(conn)
}

pub fn set_last_error(conn: &mut DbConnection, id: &str, error: &str) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id)).set(outbox::last_error.eq(Some(error))).execute(conn)
}

/// Records a delivered message (`status` sent or written) and releases its lease.
pub fn mark_delivered(conn: &mut DbConnection, id: &str, status: &str, attempts: i32, at: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::sent_at.eq(Some(at)),
            outbox::locked_until.eq(None::<String>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: `status` pending (tried again at `next_attempt_at`) or failed.
pub fn mark_attempt_failed(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    attempts: i32,
    next_attempt_at: &str,
    error: &str,
) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::locked_until.eq(None::<String>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}
