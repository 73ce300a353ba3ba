//! Appeals against released outcomes: one row an appeal, from its lodging to its decision, with
//! the grade before and after when an upheld decision changed agreed scores.

use diesel::prelude::*;

use super::schema::{appeals, assessments};
use super::DbConnection;
use super::UniqueRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = appeals, treat_none_as_null = true)]
pub struct AppealRow {
    pub id: String,
    pub assessment_id: String,
    pub status: String,
    pub grounds: String,
    /// The items the appeal names, `[{component, criterion}]`.
    pub items_json: String,
    pub requested_by: String,
    pub lodged_by: String,
    pub lodged_at: String,
    pub reviewer_id: Option<String>,
    pub reviewer_appointed_at: Option<String>,
    pub rationale: Option<String>,
    /// The agreed scores an upheld decision replaced, `[{component, criterion, from, to}]`.
    pub changes_json: Option<String>,
    /// The ids of the other released assessments its independent assessor decided in the 12
    /// months before the decision, as found at the decision.
    pub related_json: Option<String>,
    pub decided_at: Option<String>,
    pub grade_before: Option<String>,
    pub weighted_score_before: Option<f64>,
    pub grade_after: Option<String>,
    pub weighted_score_after: Option<f64>,
}

pub fn insert_appeal(conn: &mut DbConnection, row: &AppealRow) -> QueryResult<()> {
    diesel::insert_into(appeals::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_appeal(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AppealRow>> {
    appeals::table.find(id).select(AppealRow::as_select()).unique_row(conn)
}

/// Writes the whole row back.
pub fn save_appeal(conn: &mut DbConnection, row: &AppealRow) -> QueryResult<()> {
    diesel::update(appeals::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

/// Every appeal, newest first.
pub fn all_appeals(conn: &mut DbConnection) -> QueryResult<Vec<AppealRow>> {
    appeals::table.order((appeals::lodged_at.desc(), appeals::id.desc())).select(AppealRow::as_select()).load(conn)
}

/// The appeals of the assessments `ids`, oldest first: one query for a page.
pub fn appeals_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<AppealRow>> {
    appeals::table
        .filter(appeals::assessment_id.eq_any(ids))
        .order((appeals::lodged_at.asc(), appeals::id.asc()))
        .select(AppealRow::as_select())
        .load(conn)
}

/// The ids of the released assessments other than `except` that `assessor_id` sat on as
/// independent assessor and that were decided at or after `from` and before `before`, oldest
/// decision first.
pub fn released_decided_by(
    conn: &mut DbConnection,
    assessor_id: &str,
    from: &str,
    before: &str,
    except: &str,
) -> QueryResult<Vec<String>> {
    assessments::table
        .filter(assessments::independent_assessor_id.eq(assessor_id))
        .filter(assessments::status.eq("released"))
        .filter(assessments::id.ne(except))
        .filter(assessments::decided_at.ge(from))
        .filter(assessments::decided_at.lt(before))
        .order((assessments::decided_at.asc(), assessments::id.asc()))
        .select(assessments::id)
        .load(conn)
}

/// The appeals under review whose appointed reviewer is `reviewer_id`, oldest lodged first.
pub fn under_review_by(conn: &mut DbConnection, reviewer_id: &str) -> QueryResult<Vec<AppealRow>> {
    appeals::table
        .filter(appeals::reviewer_id.eq(reviewer_id))
        .filter(appeals::status.eq(crate::domain::appeal::AppealStatus::UnderReview.as_str()))
        .order((appeals::lodged_at.asc(), appeals::id.asc()))
        .select(AppealRow::as_select())
        .load(conn)
}

/// (assessment id, apprentice id, apprentice's name) of the assessments `ids`: one query.
pub fn apprentices_of(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String, String)>> {
    use super::schema::apprentices;
    assessments::table
        .inner_join(apprentices::table.on(apprentices::id.eq(assessments::apprentice_id)))
        .filter(assessments::id.eq_any(ids))
        .select((assessments::id, apprentices::id, apprentices::name))
        .load(conn)
}
