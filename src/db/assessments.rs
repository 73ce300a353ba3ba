//! Assessments and their moderations: rows, the lock a change takes, and the lists (one joined
//! query each, filtered by who may see what and keyset-paged).

use diesel::prelude::*;

use super::schema::{assessments, moderations};
use super::DbConnection;
use super::UniqueRow;

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
    /// The reasonable adjustments and special consideration (`StoredAdjustments`), once recorded.
    pub adjustments_json: Option<String>,
    /// Which attempt of the apprentice's EPA this is: 1, then 2 for its resit or retake, …
    pub attempt: i32,
    /// The attempt before this one (None for a first attempt).
    pub previous_id: Option<String>,
    /// What a later attempt was opened with (`StoredAttempt`); None for a first attempt.
    pub attempt_json: Option<String>,
    /// Who scores and who decides (`Seating`), from the guide when registered; None: the v1 panel.
    pub seating_json: Option<String>,
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
    /// The items a refer-back names (JSON `[{component, criterion}]`); None: every item.
    pub items_json: Option<String>,
}

pub fn find_assessment(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AssessmentRow>> {
    super::on_backend!(conn, c => assessments::table.find(id).select(AssessmentRow::as_select()).unique_row(c))
}

/// Locks the assessment's row for the rest of the transaction (`FOR UPDATE` on PostgreSQL, so
/// two instances changing one assessment take turns; SQLite has one writer anyway).
pub fn lock_assessment(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        assessments::table.find(id).select(assessments::id).for_update().load::<String>(pg)?;
    }
    Ok(())
}

pub fn insert_assessment(conn: &mut DbConnection, row: &AssessmentRow) -> QueryResult<()> {
    diesel::insert_into(assessments::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the whole row back, bumping its version.
pub fn save_assessment(conn: &mut DbConnection, row: &mut AssessmentRow) -> QueryResult<()> {
    row.version += 1;
    row.updated_at = super::now();
    diesel::update(assessments::table.find(&row.id)).set(&*row).execute(conn)?;
    Ok(())
}

pub fn count_assessments(conn: &mut DbConnection) -> QueryResult<i64> {
    assessments::table.count().get_result(conn)
}

/// Moves a decision and its release to other times (the simulation's past), leaving the rest.
pub fn set_decided_and_released_at(
    conn: &mut DbConnection,
    id: &str,
    decided_at: &str,
    released_at: &str,
) -> QueryResult<()> {
    diesel::update(assessments::table.find(id))
        .set((assessments::decided_at.eq(decided_at), assessments::released_at.eq(released_at)))
        .execute(conn)?;
    Ok(())
}

pub fn insert_moderation(conn: &mut DbConnection, row: &ModerationRow) -> QueryResult<()> {
    diesel::insert_into(moderations::table).values(row).execute(conn)?;
    Ok(())
}

/// Everyone who moderated assessment `id` (any moderation, confirm or refer back).
pub fn moderators_of(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    moderations::table.filter(moderations::assessment_id.eq(id)).select(moderations::moderator_id).distinct().load(conn)
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

/// Which decided assessments a report reads (every filter optional; dates as stored text).
#[derive(Debug, Clone, Default)]
pub struct DecidedFilter {
    /// Decided at or after this time.
    pub decided_from: Option<String>,
    /// Decided before this time.
    pub decided_before: Option<String>,
    pub standard_id: Option<String>,
    pub employer_id: Option<String>,
    pub training_provider_id: Option<String>,
    pub assessor_id: Option<String>,
}

/// A decided assessment as the reports read it: the assessment's columns but the records of the
/// steps before the decision (gateway, declaration, viva record, consensus, attempt, seating),
/// which no report prints and which are most of a row's bytes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assessments)]
pub struct DecidedRow {
    pub id: String,
    pub apprentice_id: String,
    pub standard_id: String,
    pub standard_version: String,
    pub status: String,
    pub line_manager_id: String,
    pub training_provider_user_id: String,
    pub independent_assessor_id: Option<String>,
    pub decision_json: Option<String>,
    pub decided_at: Option<String>,
    pub released_at: Option<String>,
    pub adjustments_json: Option<String>,
    pub attempt: i32,
}

/// Up to `limit` decided or released assessments with their apprentices, after `after` =
/// (decided_at, id) in that order: one keyset page, filtered in SQL.
pub fn decided_page(
    conn: &mut DbConnection,
    filter: &DecidedFilter,
    after: Option<&(String, String)>,
    limit: i64,
) -> QueryResult<Vec<(DecidedRow, super::people::Apprentice)>> {
    use super::people::Apprentice;
    use super::schema::apprentices;
    use crate::domain::assessment::Status;
    let mut q = assessments::table
        .inner_join(apprentices::table.on(apprentices::id.eq(assessments::apprentice_id)))
        .filter(assessments::status.eq_any([Status::Decided.as_str(), Status::Released.as_str()]))
        .filter(assessments::decided_at.is_not_null())
        .into_boxed();
    if let Some(from) = &filter.decided_from {
        q = q.filter(assessments::decided_at.ge(from.clone()));
    }
    if let Some(before) = &filter.decided_before {
        q = q.filter(assessments::decided_at.lt(before.clone()));
    }
    if let Some(s) = &filter.standard_id {
        q = q.filter(assessments::standard_id.eq(s.clone()));
    }
    if let Some(e) = &filter.employer_id {
        q = q.filter(apprentices::employer_id.eq(e.clone()));
    }
    if let Some(t) = &filter.training_provider_id {
        q = q.filter(apprentices::training_provider_id.eq(t.clone()));
    }
    if let Some(a) = &filter.assessor_id {
        q = q.filter(assessments::independent_assessor_id.eq(a.clone()));
    }
    if let Some((at, id)) = after {
        q = q.filter(super::beyond_key(
            "assessments.decided_at, assessments.id",
            super::Beyond::After,
            at.clone(),
            id.clone(),
        ));
    }
    q.order((assessments::decided_at.asc(), assessments::id.asc()))
        .limit(limit)
        .select((DecidedRow::as_select(), Apprentice::as_select()))
        .load(conn)
}

/// Every decided assessment of the independent assessors `assessor_ids` up to `until`, as
/// (assessor, decided_at, id) in decision order (time, then id, as the reports order them):
/// one query, for counting which of an assessor's EPAs one was.
pub fn decided_by_assessors(
    conn: &mut DbConnection,
    assessor_ids: &[String],
    until: &str,
) -> QueryResult<Vec<(String, String, String)>> {
    assessments::table
        .filter(assessments::independent_assessor_id.eq_any(assessor_ids))
        .filter(assessments::decided_at.le(until))
        .order((assessments::decided_at.asc(), assessments::id.asc()))
        .select((
            assessments::independent_assessor_id.assume_not_null(),
            assessments::decided_at.assume_not_null(),
            assessments::id,
        ))
        .load(conn)
}

/// Whose assessments a list holds: every one (assessment-body staff) or those a person sits
/// on the panel of.
#[derive(Debug, Clone, Copy)]
pub enum Visible<'a> {
    All,
    SeatedOn(&'a str),
}

/// One assessment of a list with what the list shows beside it, loaded for the whole page at
/// once: its apprentice, its outcome emails (oldest first) and its latest moderation. Its sheets
/// are their states (`S` = [`SheetStateRow`](super::sheets::SheetStateRow)) unless a page reads their
/// scores too (`S` = [`ScoreSheetRow`](super::sheets::ScoreSheetRow)).
#[derive(Debug, Clone)]
pub struct ListRow<S = super::sheets::SheetStateRow> {
    pub row: AssessmentRow,
    pub apprentice: Option<super::people::Apprentice>,
    pub emails: Vec<super::outbox::OutboxRow>,
    pub latest_moderation: Option<ModerationRow>,
    /// Its sign-offs, by seat.
    pub sign_offs: Vec<super::sign_offs::SignOffRow>,
    /// Its score sheets (behind each viewer's next steps and the moderation queue's flags).
    pub sheets: Vec<S>,
    /// Its appeals, oldest first (behind `amended` and `grade_history`).
    pub appeals: Vec<super::appeals::AppealRow>,
    /// The id of its later attempt (resit or retake), if one was opened.
    pub next_id: Option<String>,
}

/// A list's page: after which assessment it starts (the `id` of the last one of the page
/// before) and how many it holds at most (None: to the end).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: Option<i64>,
}

/// The assessments `visible` names whose status is one of `statuses` (None: any), newest first
/// (then by id, so the order is stable), one keyset page of them: the page, with its apprentices,
/// emails, latest moderations and sign-offs, is read in four queries however long it is. `Ok(None)` when
/// `page.after` names no assessment of this list.
pub fn list_page<S: super::sheets::ListedSheet>(
    conn: &mut DbConnection,
    visible: Visible<'_>,
    statuses: Option<&[&str]>,
    page: &Page,
) -> QueryResult<Option<Vec<ListRow<S>>>> {
    use super::outbox::OutboxRow;
    use super::people::Apprentice;
    use super::schema::{apprentices, outbox};
    // Each assessment's later attempt, if any, in the same query (its `next_id`).
    let later = diesel::alias!(assessments as later_attempts);
    let mut q = assessments::table
        .left_join(apprentices::table.on(apprentices::id.eq(assessments::apprentice_id)))
        .left_join(later.on(later.field(assessments::previous_id).eq(assessments::id.nullable())))
        .into_boxed();
    if let Visible::SeatedOn(user) = visible {
        q = q.filter(
            assessments::line_manager_id
                .eq(user.to_string())
                .or(assessments::training_provider_user_id.eq(user.to_string()))
                .or(assessments::independent_assessor_id.eq(user.to_string())),
        );
    }
    if let Some(statuses) = statuses {
        q = q.filter(assessments::status.eq_any(statuses.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
    }
    if let Some(after) = &page.after {
        // The cursor must be an assessment of this very list, else the caller learns nothing.
        let Some(created_at) = list_cursor(conn, visible, statuses, after)? else { return Ok(None) };
        q = q.filter(super::beyond_key(
            "assessments.created_at, assessments.id",
            super::Beyond::Before,
            created_at,
            after.clone(),
        ));
    }
    q = q.order((assessments::created_at.desc(), assessments::id.desc()));
    if let Some(limit) = page.limit {
        q = q.limit(limit);
    }
    let rows: Vec<(AssessmentRow, Option<Apprentice>, Option<String>)> = q
        .select((
            AssessmentRow::as_select(),
            Option::<Apprentice>::as_select(),
            later.field(assessments::id).nullable(),
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let ids: Vec<String> = rows.iter().map(|(r, _, _)| r.id.clone()).collect();
    let mut emails = by_assessment(
        outbox::table
            .filter(outbox::assessment_id.eq_any(&ids))
            .order((outbox::created_at.asc(), outbox::id.asc()))
            .select(OutboxRow::as_select())
            .load(conn)?,
        |m: &OutboxRow| &m.assessment_id,
    );
    let mut latest: std::collections::HashMap<String, ModerationRow> = std::collections::HashMap::new();
    let moderated: Vec<ModerationRow> = moderations::table
        .filter(moderations::assessment_id.eq_any(&ids))
        .order(moderations::at.asc())
        .select(ModerationRow::as_select())
        .load(conn)?;
    for m in moderated {
        // Oldest first, so the last one kept is the latest.
        latest.insert(m.assessment_id.clone(), m);
    }
    let mut signed = by_assessment(super::sign_offs::sign_offs_of(conn, &ids)?, |s| &s.assessment_id);
    let mut sheets = by_assessment(S::among(conn, &ids)?, |s| s.assessment_id());
    let mut appeals = by_assessment(super::appeals::appeals_of(conn, &ids)?, |a| &a.assessment_id);
    Ok(Some(
        rows.into_iter()
            .map(|(row, apprentice, next_id)| ListRow {
                sign_offs: signed.remove(&row.id).unwrap_or_default(),
                sheets: sheets.remove(&row.id).unwrap_or_default(),
                appeals: appeals.remove(&row.id).unwrap_or_default(),
                next_id,
                emails: emails.remove(&row.id).unwrap_or_default(),
                latest_moderation: latest.remove(&row.id),
                row,
                apprentice,
            })
            .collect(),
    ))
}

/// The later attempt of each of `ids` that has one: previous id → the later attempt's id.
pub fn later_attempts_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    let pairs: Vec<(Option<String>, String)> = assessments::table
        .filter(assessments::previous_id.eq_any(ids))
        .select((assessments::previous_id, assessments::id))
        .load(conn)?;
    Ok(pairs.into_iter().filter_map(|(previous, id)| Some((previous?, id))).collect())
}

/// Rows of several assessments grouped by the assessment they belong to, in their order.
fn by_assessment<T>(rows: Vec<T>, id: impl Fn(&T) -> &String) -> std::collections::HashMap<String, Vec<T>> {
    let mut grouped: std::collections::HashMap<String, Vec<T>> = std::collections::HashMap::new();
    for r in rows {
        grouped.entry(id(&r).clone()).or_default().push(r);
    }
    grouped
}

/// The creation time of the assessment `id` when it belongs to the list (else None).
fn list_cursor(
    conn: &mut DbConnection,
    visible: Visible<'_>,
    statuses: Option<&[&str]>,
    id: &str,
) -> QueryResult<Option<String>> {
    let mut q = assessments::table.filter(assessments::id.eq(id.to_string())).into_boxed();
    if let Visible::SeatedOn(user) = visible {
        q = q.filter(
            assessments::line_manager_id
                .eq(user.to_string())
                .or(assessments::training_provider_user_id.eq(user.to_string()))
                .or(assessments::independent_assessor_id.eq(user.to_string())),
        );
    }
    if let Some(statuses) = statuses {
        q = q.filter(assessments::status.eq_any(statuses.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
    }
    q.select(assessments::created_at).unique_row(conn)
}
