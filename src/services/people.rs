//! Organisations, users (with their bearer tokens) and apprentices.

use diesel::prelude::*;
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{audit, check_length, check_text, transaction, Actor, Input};
use crate::db::models::{find_organisation, find_user_by_token_hash, Apprentice, Organisation, User};
use crate::db::schema::{apprentices, organisations, users};
use crate::db::{new_id, now, DbConnection};
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult};

pub const ORGANISATION_KINDS: [&str; 3] = ["employer", "training_provider", "assessment_body"];

/// A bearer token is 32 random bytes; only its SHA-256 is stored (it has full entropy, so a slow
/// hash adds nothing and would cost every request).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("epa_{}", hex::encode(bytes))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The user a bearer token belongs to, unless it is unknown or revoked.
pub fn user_for_token(conn: &mut DbConnection, token: &str) -> AppResult<Option<User>> {
    Ok(find_user_by_token_hash(conn, &token_hash(token))?)
}

fn require_admin(actor: Option<&Actor>) -> AppResult<()> {
    match actor {
        Some(a) if a.role != Role::Admin => {
            Err(AppError::forbidden("only an admin of the assessment body may do this"))
        }
        _ => Ok(()),
    }
}

fn check_email(field: &str, email: &str) -> AppResult<()> {
    check_text(field, email, 254)?;
    let valid = email.parse::<lettre::Address>().is_ok();
    if !valid {
        return Err(AppError::bad_input("invalid_email", format!("{field}: {email:?} is not an email address")));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: String,
}

pub fn create_organisation(
    conn: &mut DbConnection,
    actor: &Actor,
    input: Input<NewOrganisation>,
) -> AppResult<Organisation> {
    require_admin(Some(actor))?;
    let input = input.body?;
    check_text("name", &input.name, 200)?;
    if !ORGANISATION_KINDS.contains(&input.kind.as_str()) {
        return Err(AppError::bad_input(
            "invalid_kind",
            format!("kind: {:?} is not one of {}", input.kind, ORGANISATION_KINDS.join(", ")),
        ));
    }
    let org = Organisation { id: new_id(), name: input.name.trim().to_string(), kind: input.kind, created_at: now() };
    transaction(conn, |conn| {
        diesel::insert_into(organisations::table).values(&org).execute(conn)?;
        audit(
            conn,
            None,
            Some(actor),
            "organisation.created",
            json!({"organisation_id": org.id, "name": org.name, "kind": org.kind}),
        )?;
        Ok(org)
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// Creates a user and returns it with its token (shown this once). `actor` is None for the CLI.
pub fn create_user(conn: &mut DbConnection, actor: Option<&Actor>, input: Input<NewUser>) -> AppResult<(User, String)> {
    require_admin(actor)?;
    let input = input.body?;
    let email = input.email.trim().to_lowercase();
    check_email("email", &email)?;
    check_text("name", &input.name, 200)?;
    let role: Role =
        input.role.parse().map_err(|e: String| AppError::bad_input("invalid_role", format!("role: {e}")))?;
    transaction(conn, |conn| {
        if let Some(org) = &input.organisation_id {
            if find_organisation(conn, org)?.is_none() {
                return Err(AppError::bad_input(
                    "unknown_organisation",
                    format!("organisation_id: no organisation {org:?}"),
                ));
            }
        }
        let taken: i64 = users::table.filter(users::email.eq(&email)).count().get_result(conn)?;
        if taken > 0 {
            return Err(AppError::conflict("email_in_use", format!("email: {email} is already in use")));
        }
        let token = new_token();
        let user = User {
            id: new_id(),
            email,
            name: input.name.trim().to_string(),
            role: role.as_str().to_string(),
            organisation_id: input.organisation_id.clone(),
            token_hash: Some(token_hash(&token)),
            revoked_at: None,
            created_at: now(),
        };
        diesel::insert_into(users::table).values(&user).execute(conn)?;
        audit(
            conn,
            None,
            actor,
            "user.created",
            json!({"user_id": user.id, "email": user.email, "role": user.role, "organisation_id": user.organisation_id}),
        )?;
        Ok((user, token))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApprentice {
    pub name: String,
    pub email: String,
    pub employer_id: String,
    pub training_provider_id: String,
}

pub fn create_apprentice(conn: &mut DbConnection, actor: &Actor, input: Input<NewApprentice>) -> AppResult<Apprentice> {
    require_admin(Some(actor))?;
    let input = input.body?;
    check_text("name", &input.name, 200)?;
    let email = input.email.trim().to_lowercase();
    check_email("email", &email)?;
    transaction(conn, |conn| {
        for (field, id, kind) in [
            ("employer_id", &input.employer_id, "employer"),
            ("training_provider_id", &input.training_provider_id, "training_provider"),
        ] {
            match find_organisation(conn, id)? {
                Some(org) if org.kind == kind => {}
                Some(org) => {
                    return Err(AppError::bad_input(
                        "wrong_organisation_kind",
                        format!("{field}: {} is a {}, not a {kind}", org.name, org.kind),
                    ));
                }
                None => {
                    return Err(AppError::bad_input("unknown_organisation", format!("{field}: no organisation {id:?}")))
                }
            }
        }
        let apprentice = Apprentice {
            id: new_id(),
            name: input.name.trim().to_string(),
            email,
            employer_id: input.employer_id.clone(),
            training_provider_id: input.training_provider_id.clone(),
            created_at: now(),
        };
        diesel::insert_into(apprentices::table).values(&apprentice).execute(conn)?;
        audit(
            conn,
            None,
            Some(actor),
            "apprentice.created",
            json!({"apprentice_id": apprentice.id, "employer_id": apprentice.employer_id, "training_provider_id": apprentice.training_provider_id}),
        )?;
        Ok(apprentice)
    })
}

fn find_by_email(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::bad_input("unknown_user", format!("email: no user {email:?}")))
}

/// Revokes a user's token (CLI): requests with it get 401 from now on.
pub fn revoke(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    transaction(conn, |conn| {
        let user = find_by_email(conn, email)?;
        diesel::update(users::table.find(&user.id)).set(users::revoked_at.eq(Some(now()))).execute(conn)?;
        audit(conn, None, None, "user.token_revoked", json!({"user_id": user.id}))?;
        Ok(user)
    })
}

/// Issues a new token for a user (CLI); the old one stops working.
pub fn reissue_token(conn: &mut DbConnection, email: &str) -> AppResult<(User, String)> {
    transaction(conn, |conn| {
        let user = find_by_email(conn, email)?;
        let token = new_token();
        diesel::update(users::table.find(&user.id))
            .set((users::token_hash.eq(Some(token_hash(&token))), users::revoked_at.eq(None::<String>)))
            .execute(conn)?;
        audit(conn, None, None, "user.token_issued", json!({"user_id": user.id}))?;
        Ok((user, token))
    })
}

/// Refuses over-long optional text.
pub fn check_optional(field: &str, value: Option<&str>, max: usize) -> AppResult<()> {
    value.map_or(Ok(()), |v| check_length(field, v, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("epa_") && a.len() == 68);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn emails_are_checked() {
        assert!(check_email("email", "amy@northgate.test").is_ok());
        assert!(check_email("email", "amy").unwrap_err().to_string().starts_with("email:"));
    }
}
