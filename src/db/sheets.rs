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
    super::on_backend!(conn, c => score_sheets::table
        .filter(score_sheets::assessment_id.eq(assessment_id))
        .select(ScoreSheetRow::as_select())
        .load(c))
}

/// Every sheet of the assessments among `ids` (one query, whatever their number).
pub fn sheets_among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<ScoreSheetRow>> {
    score_sheets::table.filter(score_sheets::assessment_id.eq_any(ids)).select(ScoreSheetRow::as_select()).load(conn)
}

/// Where one member's sheet stands, without its scores: what an assessment's view needs of it
/// (whose it is and whether it is submitted); the scores are read only where they are shown.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = score_sheets)]
pub struct SheetStateRow {
    pub assessment_id: String,
    pub user_id: String,
    pub seat: String,
    pub submitted_at: Option<String>,
}

/// A sheet as a list reads it for each assessment of a page: its state ([`SheetStateRow`]) or the
/// whole row with its scores ([`ScoreSheetRow`], for a page that shows them).
pub trait ListedSheet: Sized {
    /// Every sheet of the assessments among `ids` (one query, whatever their number).
    fn among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Self>>;
    fn assessment_id(&self) -> &String;
    fn user_id(&self) -> &str;
    fn submitted_at(&self) -> Option<&str>;
}

/// The accessors [`ListedSheet`] reads, the same for both rows (they share these fields).
macro_rules! sheet_state_fields {
    () => {
        fn assessment_id(&self) -> &String {
            &self.assessment_id
        }
        fn user_id(&self) -> &str {
            &self.user_id
        }
        fn submitted_at(&self) -> Option<&str> {
            self.submitted_at.as_deref()
        }
    };
}

impl ListedSheet for SheetStateRow {
    fn among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Self>> {
        score_sheets::table
            .filter(score_sheets::assessment_id.eq_any(ids))
            .select(SheetStateRow::as_select())
            .load(conn)
    }
    sheet_state_fields!();
}

impl ListedSheet for ScoreSheetRow {
    fn among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Self>> {
        sheets_among(conn, ids)
    }
    sheet_state_fields!();
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
    super::on_backend!(conn, c => {
        if diesel::update(target).set(row).execute(c)? == 0 {
            diesel::insert_into(score_sheets::table).values(row).execute(c)?;
        }
    });
    Ok(())
}
