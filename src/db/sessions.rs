//! The web interface's rows: browser sessions, failed sign-ins (for throttling) and the settings
//! every instance on one database shares.

use diesel::prelude::*;

use super::people::User;
use super::schema::{login_failures, settings, users, web_sessions};
use super::DbConnection;
use super::UniqueRow;

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

// ---- browser sessions

pub fn insert_session(conn: &mut DbConnection, row: &WebSession) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table).values(row).execute(conn)?;
    Ok(())
}

/// The enabled user of the session with this id hash, unless it expired before `now`.
pub fn session_user(conn: &mut DbConnection, id_hash: &str, now: &str) -> QueryResult<Option<User>> {
    web_sessions::table
        .inner_join(users::table.on(users::id.eq(web_sessions::user_id)))
        .filter(web_sessions::id_hash.eq(id_hash))
        .filter(web_sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select(User::as_select())
        .unique_row(conn)
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<()> {
    diesel::delete(web_sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

/// Ends every session of a user; returns how many there were.
pub fn delete_sessions_of(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id))).execute(conn)
}

pub fn delete_sessions_expired_before(conn: &mut DbConnection, at: &str) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.lt(at))).execute(conn)
}

// ---- failed sign-ins

pub fn insert_login_failure(conn: &mut DbConnection, row: &LoginFailure) -> QueryResult<()> {
    diesel::insert_into(login_failures::table).values(row).execute(conn)?;
    Ok(())
}

/// Failures from one client address since `since`, whatever the email.
pub fn failures_from_client(conn: &mut DbConnection, client: &str, since: &str) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::client.eq(client))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

/// Failures for one email from one client address since `since`.
pub fn failures_for_email(conn: &mut DbConnection, email: &str, client: &str, since: &str) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::client.eq(client))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

/// Clears an email's failures: from one client address, or from every address (`None`).
pub fn clear_failures(conn: &mut DbConnection, email: &str, client: Option<&str>) -> QueryResult<usize> {
    let of_email = login_failures::table.filter(login_failures::email.eq(email));
    match client {
        Some(client) => diesel::delete(of_email.filter(login_failures::client.eq(client))).execute(conn),
        None => diesel::delete(of_email).execute(conn),
    }
}

pub fn delete_failures_before(conn: &mut DbConnection, at: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::at.lt(at))).execute(conn)
}

// ---- shared settings

pub fn setting(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    settings::table.find(name).select(settings::value).first::<String>(conn).optional()
}

/// Inserts a setting; fails (unique violation) when another instance stored it first.
pub fn insert_setting(conn: &mut DbConnection, row: &Setting) -> QueryResult<()> {
    diesel::insert_into(settings::table).values(row).execute(conn)?;
    Ok(())
}
