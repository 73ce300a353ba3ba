//! Evidence records: what a panel member recorded as evidence on an assessment, with the items it
//! supports (JSON), oldest first.

use diesel::prelude::*;

use super::schema::evidence;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence)]
pub struct EvidenceRow {
    pub id: String,
    pub assessment_id: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub criteria_json: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

pub fn insert_evidence(conn: &mut DbConnection, row: &EvidenceRow) -> QueryResult<()> {
    diesel::insert_into(evidence::table).values(row).execute(conn)?;
    Ok(())
}

/// The assessment's evidence records, oldest first (in the order they were recorded).
pub fn evidence_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<EvidenceRow>> {
    evidence::table
        .filter(evidence::assessment_id.eq(assessment_id))
        .order((evidence::recorded_at.asc(), evidence::id.asc()))
        .select(EvidenceRow::as_select())
        .load(conn)
}
