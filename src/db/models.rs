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
    /// Set while the user is disabled (`epa-panel user disable`): no sign-in, token or session.
    pub disabled_at: Option<String>,
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_entries)]
pub struct AuditEntry {
    pub seq: i64,
    pub assessment_id: Option<String>,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for crate::domain::audit::ChainedEntry {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            assessment_id: e.assessment_id,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            detail: e.detail,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
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

pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

pub fn find_user_by_token_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::token_hash.eq(hash))
        .filter(users::revoked_at.is_null())
        .filter(users::disabled_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find_organisation(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Organisation>> {
    organisations::table.find(id).select(Organisation::as_select()).first(conn).optional()
}

/// The name of the organisation of kind `assessment_body`, when there is exactly one.
pub fn sole_assessment_body(conn: &mut DbConnection) -> QueryResult<Option<String>> {
    let names: Vec<String> = organisations::table
        .filter(organisations::kind.eq("assessment_body"))
        .select(organisations::name)
        .limit(2)
        .load(conn)?;
    Ok(match <[String; 1]>::try_from(names) {
        Ok([name]) => Some(name),
        Err(_) => None,
    })
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

/// The assessment's latest moderation, if any.
pub fn latest_moderation_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Option<ModerationRow>> {
    moderations::table
        .filter(moderations::assessment_id.eq(assessment_id))
        .order(moderations::at.desc())
        .select(ModerationRow::as_select())
        .first(conn)
        .optional()
}

pub fn outbox_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::assessment_id.eq(assessment_id))
        .order(outbox::created_at.asc())
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Appends an entry to the hash chain. The head row is locked first (an UPDATE takes the row
/// lock on PostgreSQL; SQLite has one writer), so entries chain in `seq` order across instances.
pub fn append_audit(
    conn: &mut DbConnection,
    assessment_id: Option<&str>,
    at: &str,
    actor_id: Option<&str>,
    action: &str,
    detail: &str,
) -> QueryResult<i64> {
    use crate::domain::audit::entry_hash;
    let head = audit_head::table.find(1);
    diesel::update(head).set(audit_head::last_seq.eq(audit_head::last_seq)).execute(conn)?;
    let (last_seq, last_hash): (i64, String) =
        head.select((audit_head::last_seq, audit_head::last_hash)).first(conn)?;
    let seq = last_seq + 1;
    let hash = entry_hash(&last_hash, seq, assessment_id, at, actor_id, action, detail);
    diesel::insert_into(audit_entries::table)
        .values((
            audit_entries::seq.eq(seq),
            audit_entries::assessment_id.eq(assessment_id),
            audit_entries::at.eq(at),
            audit_entries::actor_id.eq(actor_id),
            audit_entries::action.eq(action),
            audit_entries::detail.eq(detail),
            audit_entries::prev_hash.eq(&last_hash),
            audit_entries::hash.eq(&hash),
        ))
        .execute(conn)?;
    diesel::update(head).set((audit_head::last_seq.eq(seq), audit_head::last_hash.eq(&hash))).execute(conn)?;
    Ok(seq)
}

/// The recorded newest entry: (seq, hash).
pub fn audit_head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    audit_head::table.find(1).select((audit_head::last_seq, audit_head::last_hash)).first(conn)
}

/// Up to `limit` entries after `after`, oldest first.
pub fn audit_page(conn: &mut DbConnection, after: i64, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::seq.gt(after))
        .order(audit_entries::seq.asc())
        .limit(limit)
        .select(AuditEntry::as_select())
        .load(conn)
}

pub fn audit_of(conn: &mut DbConnection, assessment_id: &str) -> QueryResult<Vec<AuditEntry>> {
    audit_entries::table
        .filter(audit_entries::assessment_id.eq(assessment_id))
        .order(audit_entries::seq.asc())
        .select(AuditEntry::as_select())
        .load(conn)
}

// ---- the web interface: passwords, browser sessions, sign-in throttling, shared settings

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials)]
pub struct Credential {
    pub user_id: String,
    pub password_hash: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct WebSession {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_failures)]
pub struct LoginFailure {
    pub id: String,
    pub email: String,
    pub at: String,
    /// The client address the attempt came from.
    pub client: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = settings)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub created_at: String,
}
