//! The assessor register: one record an independent assessor (experience, the standards they are
//! approved for, when they were trained and last standardised), replaced by each save.

use diesel::prelude::*;

use super::schema::{assessments, assessor_records};
use super::DbConnection;
use super::UniqueRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assessor_records)]
pub struct AssessorRecordRow {
    pub user_id: String,
    pub experience_years: i32,
    /// The ids of the standards the assessor is approved for (a JSON array of strings).
    pub standards_json: String,
    pub trained_on: Option<String>,
    pub standardised_on: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
}

/// Records the assessor's record, replacing the one before.
pub fn replace_assessor_record(conn: &mut DbConnection, row: &AssessorRecordRow) -> QueryResult<()> {
    diesel::delete(assessor_records::table.find(&row.user_id)).execute(conn)?;
    diesel::insert_into(assessor_records::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_assessor_record(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<AssessorRecordRow>> {
    assessor_records::table.find(user_id).select(AssessorRecordRow::as_select()).unique_row(conn)
}

/// The records of the users among `ids`: one query for a page.
pub fn assessor_records_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<AssessorRecordRow>> {
    assessor_records::table
        .filter(assessor_records::user_id.eq_any(ids))
        .select(AssessorRecordRow::as_select())
        .load(conn)
}

/// The other assessments (not `except`) of this apprentice and standard on which `assessor`
/// is the independent assessor: earlier attempts they sat on.
pub fn assessments_sat_on(
    conn: &mut DbConnection,
    assessor: &str,
    apprentice_id: &str,
    standard_id: &str,
    except: &str,
) -> QueryResult<Vec<String>> {
    assessments::table
        .filter(assessments::independent_assessor_id.eq(assessor))
        .filter(assessments::apprentice_id.eq(apprentice_id))
        .filter(assessments::standard_id.eq(standard_id))
        .filter(assessments::id.ne(except))
        .order(assessments::created_at.asc())
        .select(assessments::id)
        .load(conn)
}
