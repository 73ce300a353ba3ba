//! Sign-offs: after the decision, each non-tie-breaking seat's agreement with the agreed scores
//! or its dissent, one row a seat (a new sign-off replaces the seat's row).

use diesel::prelude::*;

use super::schema::sign_offs;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sign_offs)]
pub struct SignOffRow {
    pub assessment_id: String,
    pub seat: String,
    pub user_id: String,
    pub agree: bool,
    pub dissent: Option<String>,
    pub at: String,
}

/// Records the seat's sign-off, replacing the one it made before.
pub fn replace_sign_off(conn: &mut DbConnection, row: &SignOffRow) -> QueryResult<()> {
    diesel::delete(
        sign_offs::table.filter(sign_offs::assessment_id.eq(&row.assessment_id)).filter(sign_offs::seat.eq(&row.seat)),
    )
    .execute(conn)?;
    diesel::insert_into(sign_offs::table).values(row).execute(conn)?;
    Ok(())
}

/// The sign-offs of the assessments `ids`, by assessment then seat: one query for a page.
pub fn sign_offs_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<SignOffRow>> {
    sign_offs::table
        .filter(sign_offs::assessment_id.eq_any(ids))
        .order((sign_offs::assessment_id.asc(), sign_offs::seat.asc()))
        .select(SignOffRow::as_select())
        .load(conn)
}
