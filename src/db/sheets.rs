//! Score sheets: one per panel member and assessment.

use diesel::prelude::*;

use super::schema::score_sheets;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = score_sheets, treat_none_as_null = true)]
pub struct ScoreSheetRow {
    pub assessment_id: String,
    pub user_id: String,
    pub seat: String,
    pub scores_json: String,
    pub submitted_at: Option<String>,
    pub version: i64,
    pub updated_at: String,
}

pub fn score_sheets_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<ScoreSheetRow>> {
    score_sheets::table
        .filter(score_sheets::assessment_id.eq(assessment_id))
        .select(ScoreSheetRow::as_select())
        .load(conn)
}

/// Every sheet of the assessments among `ids` (one query, whatever their number).
pub fn sheets_among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ScoreSheetRow>> {
    score_sheets::table.filter(score_sheets::assessment_id.eq_any(ids)).select(ScoreSheetRow::as_select()).load(conn)
}

/// The submitted sheets of the assessments among `ids` (one query, whatever their number).
pub fn submitted_sheets_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ScoreSheetRow>> {
    score_sheets::table
        .filter(score_sheets::assessment_id.eq_any(ids))
        .filter(score_sheets::submitted_at.is_not_null())
        .select(ScoreSheetRow::as_select())
        .load(conn)
}

/// Inserts or replaces one member's sheet (no `ON CONFLICT`: written to run on both backends).
pub fn put_score_sheet(conn: &mut DbConnection, row: &ScoreSheetRow) -> QueryResult<()> {
    let target = score_sheets::table.find((&row.assessment_id, &row.user_id));
    if diesel::update(target).set(row).execute(conn)? == 0 {
        diesel::insert_into(score_sheets::table).values(row).execute(conn)?;
    }
    Ok(())
}
