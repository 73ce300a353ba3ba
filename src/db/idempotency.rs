//! Stored responses to POSTs with an `Idempotency-Key`, per (user, key).

use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::DbConnection;
use super::UniqueRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyKey {
    pub user_id: String,
    pub idem_key: String,
    pub request: String,
    pub status: i32,
    pub body: String,
    pub created_at: String,
}

/// The stored (request fingerprint, status, body) for this user's key.
pub fn stored_response(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<(String, i32, String)>> {
    idempotency_keys::table
        .find((user_id, key))
        .select((idempotency_keys::request, idempotency_keys::status, idempotency_keys::body))
        .unique_row(conn)
}

/// Forgets keys created before `cutoff`.
pub fn delete_keys_before(conn: &mut DbConnection, cutoff: &str) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff))).execute(conn)
}

/// Stores a response; fails with a unique violation when a concurrent request stored it first.
pub fn insert_key(conn: &mut DbConnection, row: &IdempotencyKey) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table).values(row).execute(conn)?;
    Ok(())
}

/// Whether `e` (or what it wraps) is the database's unique violation.
pub fn is_unique_violation(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<diesel::result::Error>(),
            Some(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    })
}
