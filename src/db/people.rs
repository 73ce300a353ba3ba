//! People: organisations, users (with their bearer-token hashes), apprentices and the users'
//! password credentials. Rows and the queries that read and write them; no rules.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use super::schema::{apprentices, credentials, organisations, users};
use super::DbConnection;
use super::UniqueRow;

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
#[diesel(table_name = credentials)]
pub struct Credential {
    pub user_id: String,
    pub password_hash: String,
    pub updated_at: String,
}

// ---- organisations

pub fn find_organisation(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Organisation>> {
    organisations::table.find(id).select(Organisation::as_select()).unique_row(conn)
}

pub fn insert_organisation(conn: &mut DbConnection, org: &Organisation) -> QueryResult<()> {
    diesel::insert_into(organisations::table).values(org).execute(conn)?;
    Ok(())
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

/// Organisations of one kind, by name: (id, name).
pub fn organisations_of_kind(conn: &mut DbConnection, kind: &str) -> QueryResult<Vec<(String, String)>> {
    organisations::table
        .filter(organisations::kind.eq(kind))
        .order(organisations::name.asc())
        .select((organisations::id, organisations::name))
        .load(conn)
}

/// Names of the organisations among `ids`.
pub fn organisation_names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    let found: Vec<(String, String)> = organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load(conn)?;
    Ok(found.into_iter().collect())
}

// ---- users

pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).unique_row(conn)
}

/// The live user (neither revoked nor disabled) whose token has this hash.
pub fn find_user_by_token_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<User>> {
    super::on_backend!(conn, c => users::table
        .filter(users::token_hash.eq(hash))
        .filter(users::revoked_at.is_null())
        .filter(users::disabled_at.is_null())
        .select(User::as_select())
        .unique_row(c))
}

/// The user with this email (as stored: trimmed and lower-case).
pub fn find_user_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).unique_row(conn)
}

/// Whether any user has this email.
pub fn email_taken(conn: &mut DbConnection, email: &str) -> QueryResult<bool> {
    let n: i64 = users::table.filter(users::email.eq(email)).count().get_result(conn)?;
    Ok(n > 0)
}

pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn insert_user(conn: &mut DbConnection, user: &User) -> QueryResult<()> {
    diesel::insert_into(users::table).values(user).execute(conn)?;
    Ok(())
}

pub fn set_user_revoked_at(conn: &mut DbConnection, id: &str, at: Option<String>) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::revoked_at.eq(at)).execute(conn)?;
    Ok(())
}

pub fn set_user_disabled_at(conn: &mut DbConnection, id: &str, at: Option<String>) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::disabled_at.eq(at)).execute(conn)?;
    Ok(())
}

/// Gives a user a new token hash and lifts a revocation.
pub fn set_user_token_hash(conn: &mut DbConnection, id: &str, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::token_hash.eq(Some(hash)), users::revoked_at.eq(None::<String>)))
        .execute(conn)?;
    Ok(())
}

/// Users of one role with their organisation's name, by name.
pub fn users_of_role(conn: &mut DbConnection, role: &str) -> QueryResult<Vec<(User, Option<String>)>> {
    users::table
        .left_join(organisations::table.on(organisations::id.nullable().eq(users::organisation_id)))
        .filter(users::role.eq(role))
        .order(users::name.asc())
        .select((User::as_select(), organisations::name.nullable()))
        .load(conn)
}

/// The users among `ids`.
pub fn users_among(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<User>> {
    users::table.filter(users::id.eq_any(ids)).select(User::as_select()).load(conn)
}

/// Display names of the users among `ids`.
pub fn user_names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    let found: Vec<(String, String)> =
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::name)).load(conn)?;
    Ok(found.into_iter().collect())
}

/// (id, role, revoked_at) of the user with this email (as stored).
pub fn role_of_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<(String, String, Option<String>)>> {
    users::table.filter(users::email.eq(email)).select((users::id, users::role, users::revoked_at)).unique_row(conn)
}

// ---- credentials

/// Sets (or replaces) a user's password hash (no `ON CONFLICT`: written to run on both backends).
pub fn put_credential(conn: &mut DbConnection, row: &Credential) -> QueryResult<()> {
    let updated = diesel::update(credentials::table.find(&row.user_id))
        .set((credentials::password_hash.eq(&row.password_hash), credentials::updated_at.eq(&row.updated_at)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(credentials::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The enabled user with this email (as stored) and their password hash, if they have one.
pub fn user_with_password(conn: &mut DbConnection, email: &str) -> QueryResult<Option<(User, String)>> {
    users::table
        .inner_join(credentials::table.on(credentials::user_id.eq(users::id)))
        .filter(users::email.eq(email))
        .filter(users::disabled_at.is_null())
        .select((User::as_select(), credentials::password_hash))
        .first::<(User, String)>(conn)
        .optional()
}

// ---- apprentices

pub fn find_apprentice(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Apprentice>> {
    apprentices::table.find(id).select(Apprentice::as_select()).unique_row(conn)
}

pub fn insert_apprentice(conn: &mut DbConnection, apprentice: &Apprentice) -> QueryResult<()> {
    diesel::insert_into(apprentices::table).values(apprentice).execute(conn)?;
    Ok(())
}

pub fn count_apprentices(conn: &mut DbConnection) -> QueryResult<i64> {
    apprentices::table.count().get_result(conn)
}

/// Names of the apprentices among `ids`.
pub fn apprentice_names(conn: &mut DbConnection, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    let found: Vec<(String, String)> = apprentices::table
        .filter(apprentices::id.eq_any(ids))
        .select((apprentices::id, apprentices::name))
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Every apprentice with their employer's name, by name (then registration).
pub fn apprentices_with_employer(conn: &mut DbConnection) -> QueryResult<Vec<(Apprentice, String)>> {
    apprentices::table
        .inner_join(organisations::table.on(organisations::id.eq(apprentices::employer_id)))
        .order((apprentices::name.asc(), apprentices::created_at.asc()))
        .select((Apprentice::as_select(), organisations::name))
        .load(conn)
}
