//! Row structs and the small repository functions the services share. No business rules here:
//! just reading and writing rows.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::*;
use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(skip)]
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub token_hash: Option<String>,
    pub revoked_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = apprentices)]
pub struct Apprentice {
    pub id: String,
    pub name: String,
    pub email: String,
    pub employer_id: String,
    pub training_provider_id: String,
    pub created_at: String,
}

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

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assessments, treat_none_as_null = true)]
pub struct AssessmentRow {
    pub id: String,
    pub apprentice_id: String,
    pub standard_id: String,
    pub standard_version: String,
    pub status: String,
    pub line_manager_id: String,
    pub training_provider_user_id: String,
    pub independent_assessor_id: Option<String>,
    pub viva_at: Option<String>,
    pub viva_mode: Option<String>,
    pub gateway_json: Option<String>,
    pub declaration_json: Option<String>,
    pub viva_record_json: Option<String>,
    pub consensus_json: Option<String>,
    pub decision_json: Option<String>,
    pub grade: Option<String>,
    pub weighted_score: Option<f64>,
    pub decided_at: Option<String>,
    pub released_at: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = moderations)]
pub struct ModerationRow {
    pub id: String,
    pub assessment_id: String,
    pub moderator_id: String,
    pub action: String,
    pub rationale: String,
    pub decision_json: String,
    pub at: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_entries)]
pub struct AuditEntry {
    pub seq: i64,
    pub assessment_id: Option<String>,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_entries)]
pub struct NewAuditEntry {
    pub assessment_id: Option<String>,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
}

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

pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

pub fn find_user_by_token_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::token_hash.eq(hash))
        .filter(users::revoked_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find_organisation(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Organisation>> {
    organisations::table.find(id).select(Organisation::as_select()).first(conn).optional()
}

pub fn find_apprentice(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Apprentice>> {
    apprentices::table.find(id).select(Apprentice::as_select()).first(conn).optional()
}

pub fn find_assessment(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AssessmentRow>> {
    assessments::table.find(id).select(AssessmentRow::as_select()).first(conn).optional()
}

/// Writes the whole row back, bumping its version.
pub fn save_assessment(conn: &mut DbConnection, row: &mut AssessmentRow) -> QueryResult<()> {
    row.version += 1;
    row.updated_at = super::now();
    diesel::update(assessments::table.find(&row.id)).set(&*row).execute(conn)?;
    Ok(())
}

pub fn score_sheets_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<ScoreSheetRow>> {
    score_sheets::table
        .filter(score_sheets::assessment_id.eq(assessment_id))
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

pub fn outbox_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::assessment_id.eq(assessment_id))
        .order(outbox::created_at.asc())
        .select(OutboxRow::as_select())
        .load(conn)
}

pub fn insert_audit(conn: &mut DbConnection, entry: &NewAuditEntry) -> QueryResult<()> {
    diesel::insert_into(audit_entries::table).values(entry).execute(conn)?;
    Ok(())
}

pub fn audit_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::assessment_id.eq(assessment_id))
        .order(audit_entries::seq.asc())
        .select(AuditEntry::as_select())
        .load(conn)
}
