//! Standards: each imported version of a guide (its parsed JSON and its TOML source).

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::standards;
use super::DbConnection;
use super::UniqueRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = standards)]
pub struct StandardRow {
    pub id: String,
    pub version: String,
    pub revision: i64,
    pub title: String,
    pub level: i32,
    pub guide_json: String,
    pub source_toml: String,
    pub created_at: String,
}

/// One version of a standard.
pub fn find_standard(conn: &mut DbConnection, id: &str, version: &str) -> QueryResult<Option<StandardRow>> {
    standards::table.find((id, version)).select(StandardRow::as_select()).unique_row(conn)
}

/// The latest imported version (highest revision) of a standard.
pub fn latest_standard(conn: &mut DbConnection, id: &str) -> QueryResult<Option<StandardRow>> {
    standards::table
        .filter(standards::id.eq(id))
        .order(standards::revision.desc())
        .select(StandardRow::as_select())
        .first(conn)
        .optional()
}

/// Every version of every standard, by id and then newest revision first.
pub fn all_standards(conn: &mut DbConnection) -> QueryResult<Vec<StandardRow>> {
    standards::table
        .order((standards::id.asc(), standards::revision.desc()))
        .select(StandardRow::as_select())
        .load(conn)
}

/// The highest revision stored of a standard, if any.
pub fn last_revision(conn: &mut DbConnection, id: &str) -> QueryResult<Option<i64>> {
    standards::table.filter(standards::id.eq(id)).select(diesel::dsl::max(standards::revision)).get_result(conn)
}

pub fn insert_standard(conn: &mut DbConnection, row: &StandardRow) -> QueryResult<()> {
    diesel::insert_into(standards::table).values(row).execute(conn)?;
    Ok(())
}

/// Titles of the standards among `ids`, keyed by (id, version).
pub fn standard_titles(conn: &mut DbConnection, ids: &[String]) -> QueryResult<HashMap<(String, String), String>> {
    let found: Vec<(String, String, String)> = standards::table
        .filter(standards::id.eq_any(ids))
        .select((standards::id, standards::version, standards::title))
        .load(conn)?;
    Ok(found.into_iter().map(|(id, version, title)| ((id, version), title)).collect())
}
