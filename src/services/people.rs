//! Organisations, users (with their bearer tokens) and apprentices.

use rand::RngCore;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::change::{record, Done};
use super::{check_length, check_one_line, check_text, transaction, Actor, Input};
use crate::db::people::{self as repo, find_organisation, find_user_by_token_hash, Apprentice, Organisation, User};
use crate::db::sessions;
use crate::db::{new_id, now, DbConnection};
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult, ErrorCode};

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
        return Err(
            AppError::bad_input(ErrorCode::InvalidEmail, format!("{email:?} is not an email address")).at(field)
        );
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    check_one_line("name", input.name.trim())?;
    if !ORGANISATION_KINDS.contains(&input.kind.as_str()) {
        return Err(AppError::bad_input(
            ErrorCode::InvalidKind,
            format!("{:?} is not one of {}", input.kind, ORGANISATION_KINDS.join(", ")),
        )
        .at("kind"));
    }
    let org = Organisation { id: new_id(), name: input.name.trim().to_string(), kind: input.kind, created_at: now() };
    record(conn, Some(actor), |conn| {
        repo::insert_organisation(conn, &org)?;
        let detail = json!({"organisation_id": org.id, "name": org.name, "kind": org.kind});
        Ok(Done::audited(org, "organisation.created", detail))
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    check_one_line("name", input.name.trim())?;
    let role: Role =
        input.role.parse().map_err(|e: String| AppError::bad_input(ErrorCode::InvalidRole, e).at("role"))?;
    record(conn, actor, |conn| {
        if let Some(org) = &input.organisation_id {
            if find_organisation(conn, org)?.is_none() {
                return Err(AppError::bad_input(ErrorCode::UnknownOrganisation, format!("no organisation {org:?}"))
                    .at("organisation_id"));
            }
        }
        if repo::email_taken(conn, &email)? {
            return Err(AppError::conflict(ErrorCode::EmailInUse, format!("{email} is already in use")).at("email"));
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
            disabled_at: None,
        };
        repo::insert_user(conn, &user)?;
        let detail = json!({"user_id": user.id, "email": user.email, "role": user.role, "organisation_id": user.organisation_id});
        Ok(Done::audited((user, token), "user.created", detail))
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    check_one_line("name", input.name.trim())?;
    let email = input.email.trim().to_lowercase();
    check_email("email", &email)?;
    record(conn, Some(actor), |conn| {
        for (field, id, kind) in [
            ("employer_id", &input.employer_id, "employer"),
            ("training_provider_id", &input.training_provider_id, "training_provider"),
        ] {
            match find_organisation(conn, id)? {
                Some(org) if org.kind == kind => {}
                Some(org) => {
                    return Err(AppError::bad_input(
                        ErrorCode::WrongOrganisationKind,
                        format!("{} is a {}, not a {kind}", org.name, org.kind),
                    )
                    .at(field));
                }
                None => {
                    return Err(AppError::bad_input(ErrorCode::UnknownOrganisation, format!("no organisation {id:?}"))
                        .at(field))
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
        repo::insert_apprentice(conn, &apprentice)?;
        let detail = json!({"apprentice_id": apprentice.id, "employer_id": apprentice.employer_id, "training_provider_id": apprentice.training_provider_id});
        Ok(Done::audited(apprentice, "apprentice.created", detail))
    })
}

fn find_by_email(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    repo::find_user_by_email(conn, &email.trim().to_lowercase())?
        .ok_or_else(|| AppError::bad_input(ErrorCode::UnknownUser, format!("no user {email:?}")).at("email"))
}

/// Revokes a user's token and ends their browser sessions (CLI): requests with the token get 401
/// and their signed-in pages go back to the sign-in form. They may still sign in with their
/// password; [`disable`] stops that too.
pub fn revoke(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    record(conn, None, |conn| {
        let user = find_by_email(conn, email)?;
        repo::set_user_revoked_at(conn, &user.id, Some(now()))?;
        let ended = end_sessions_of(conn, &user.id)?;
        let detail = json!({"user_id": user.id, "sessions_ended": ended});
        Ok(Done::audited(user, "user.token_revoked", detail))
    })
}

/// Disables a user (CLI): no sign-in, their token gets 401 and their browser sessions end, until
/// [`enable`]. Nothing of theirs is deleted.
pub fn disable(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    record(conn, None, |conn| {
        let user = find_by_email(conn, email)?;
        repo::set_user_disabled_at(conn, &user.id, Some(now()))?;
        let ended = end_sessions_of(conn, &user.id)?;
        let detail = json!({"user_id": user.id, "sessions_ended": ended});
        Ok(Done::audited(user, "user.disabled", detail))
    })
}

/// Undoes [`disable`] (CLI): the user may sign in again and their token (unless revoked) works.
pub fn enable(conn: &mut DbConnection, email: &str) -> AppResult<User> {
    record(conn, None, |conn| {
        let user = find_by_email(conn, email)?;
        repo::set_user_disabled_at(conn, &user.id, None)?;
        let detail = json!({"user_id": user.id});
        Ok(Done::audited(user, "user.enabled", detail))
    })
}

/// Ends every browser session of a user; returns how many there were.
fn end_sessions_of(conn: &mut DbConnection, user_id: &str) -> AppResult<usize> {
    Ok(sessions::delete_sessions_of(conn, user_id)?)
}

/// Issues a new token for a user (CLI); the old one stops working.
pub fn reissue_token(conn: &mut DbConnection, email: &str) -> AppResult<(User, String)> {
    record(conn, None, |conn| {
        let user = find_by_email(conn, email)?;
        let token = new_token();
        repo::set_user_token_hash(conn, &user.id, &token_hash(&token))?;
        let detail = json!({"user_id": user.id});
        Ok(Done::audited((user, token), "user.token_issued", detail))
    })
}

// ---- passwords, browser sessions and sign-in throttling (the web interface)

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// Failed sign-ins for one email from one client address within [`THROTTLE_WINDOW_MINUTES`]
/// before that address may not try that email again (others, and the right password from an
/// address that has not failed, still get in: nobody can lock someone else out).
pub const THROTTLE_FAILURES: i64 = 5;
/// Failed sign-ins from one client address, whatever the emails, before it may not try any.
pub const CLIENT_THROTTLE_FAILURES: i64 = 20;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// How long a browser session lasts (a panel day and then some); signing in starts a new one.
pub const SESSION_HOURS: i64 = 12;

/// Hashes a password with Argon2id (the crate's recommended parameters) and a random salt, as a
/// PHC string that carries its own parameters.
pub fn hash_password(password: &str) -> AppResult<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    check_password(password)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches a stored PHC hash (false for an unreadable hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash nobody's password matches, verified when the email is unknown so that a wrong email
/// takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        hash_password(&hex::encode(bytes)).unwrap_or_default()
    })
}

fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(AppError::bad_input(
            ErrorCode::WeakPassword,
            format!("at least {PASSWORD_MIN} characters, please"),
        )
        .at("password"));
    }
    check_length("password", password, 1000)
}

/// Sets (or replaces) a user's password from an already computed hash, ends their browser
/// sessions and clears their failed sign-ins. `actor` is None for the CLI; otherwise only an admin may set someone's password.
pub fn set_password_hash(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    email: &str,
    password_hash: &str,
) -> AppResult<User> {
    use crate::db::people::Credential;
    require_admin(actor)?;
    record(conn, actor, |conn| {
        let user = find_by_email(conn, email)?;
        let row = Credential { user_id: user.id.clone(), password_hash: password_hash.to_string(), updated_at: now() };
        repo::put_credential(conn, &row)?;
        sessions::delete_sessions_of(conn, &user.id)?;
        // A new password lifts a sign-in throttle (someone may have been guessing at the old one).
        sessions::clear_failures(conn, &user.email, None)?;
        let detail = json!({"user_id": user.id});
        Ok(Done::audited(user, "user.password_set", detail))
    })
}

/// Hashes and sets a password (see [`set_password_hash`]). Hashing is slow on purpose: the web
/// interface hashes before it takes a connection; the CLI may use this.
pub fn set_password(conn: &mut DbConnection, actor: Option<&Actor>, email: &str, password: &str) -> AppResult<User> {
    let hash = hash_password(password)?;
    set_password_hash(conn, actor, email, &hash)
}

/// What sign-in needs to know before it checks a password.
pub struct SignInCandidate {
    pub email: String,
    /// The client address the attempt comes from (the peer address of the connection).
    pub client: String,
    /// The user and their password hash, when the email is known and has a password.
    pub user: Option<(User, String)>,
}

fn window_start() -> String {
    crate::db::format_time(chrono::Utc::now() - chrono::Duration::minutes(THROTTLE_WINDOW_MINUTES))
}

/// First step of signing in: refuses (409 `sign_in_throttled`) after too many recent failures
/// from this client address (any email), or for this email from this address, else returns the
/// user and password hash to verify (off the connection). Failures from other addresses do not
/// count: the right password from an address that has not failed always gets in. A disabled user
/// is treated as unknown.
pub fn sign_in_candidate(conn: &mut DbConnection, email: &str, client: &str) -> AppResult<SignInCandidate> {
    let email = email.trim().to_lowercase();
    check_length("email", &email, 254)?;
    let throttled = |reason: String| Err(AppError::conflict(ErrorCode::SignInThrottled, reason).at("email"));
    let from_client = sessions::failures_from_client(conn, client, &window_start())?;
    if from_client >= CLIENT_THROTTLE_FAILURES {
        return throttled(format!(
            "too many failed sign-ins from this network address; wait {THROTTLE_WINDOW_MINUTES} minutes and try again"
        ));
    }
    let for_email = sessions::failures_for_email(conn, &email, client, &window_start())?;
    if for_email >= THROTTLE_FAILURES {
        return throttled(format!(
            "too many failed sign-ins for this email; wait {THROTTLE_WINDOW_MINUTES} minutes and try again, or ask an admin to set a new password"
        ));
    }
    let user = repo::user_with_password(conn, &email)?;
    Ok(SignInCandidate { email, client: client.to_string(), user })
}

/// Last step of signing in: on success starts a session (returning its secret id, which only the
/// browser's cookie holds) and clears the email's failures from this address (not those from
/// other addresses, which may be someone guessing); on failure records one with the address.
pub fn finish_sign_in(
    conn: &mut DbConnection,
    candidate: SignInCandidate,
    password_ok: bool,
) -> AppResult<Option<(User, String)>> {
    use crate::db::sessions::{LoginFailure, WebSession};
    let old = crate::db::format_time(chrono::Utc::now() - chrono::Duration::days(1));
    transaction(conn, |conn| {
        sessions::delete_failures_before(conn, &old)?;
        sessions::delete_sessions_expired_before(conn, &now())?;
        match candidate.user {
            Some((user, _)) if password_ok => {
                sessions::clear_failures(conn, &candidate.email, Some(&candidate.client))?;
                let session = new_token();
                let at = chrono::Utc::now();
                let row = WebSession {
                    id_hash: token_hash(&session),
                    user_id: user.id.clone(),
                    created_at: crate::db::format_time(at),
                    expires_at: crate::db::format_time(at + chrono::Duration::hours(SESSION_HOURS)),
                };
                sessions::insert_session(conn, &row)?;
                Ok(Some((user, session)))
            }
            _ => {
                let row = LoginFailure {
                    id: new_id(),
                    email: candidate.email.clone(),
                    at: now(),
                    client: candidate.client.clone(),
                };
                sessions::insert_login_failure(conn, &row)?;
                Ok(None)
            }
        }
    })
}

/// The user of a live browser session.
pub fn session_user(conn: &mut DbConnection, session: &str) -> AppResult<Option<User>> {
    Ok(sessions::session_user(conn, &token_hash(session), &now())?)
}

/// Ends a browser session (signing out).
pub fn end_session(conn: &mut DbConnection, session: &str) -> AppResult<()> {
    sessions::delete_session(conn, &token_hash(session))?;
    Ok(())
}

/// A setting shared by every instance on this database, created once with `make` when missing.
/// Two instances starting together agree: the first insert wins and both read it back.
pub fn shared_setting(conn: &mut DbConnection, name: &str, make: impl FnOnce() -> String) -> AppResult<String> {
    use crate::db::sessions::Setting;
    let read = |conn: &mut DbConnection| -> AppResult<Option<String>> { Ok(sessions::setting(conn, name)?) };
    if let Some(value) = read(conn)? {
        return Ok(value);
    }
    let row = Setting { name: name.to_string(), value: make(), created_at: now() };
    // A concurrent instance may have inserted it first: then this insert fails and we read theirs.
    let _ = sessions::insert_setting(conn, &row);
    read(conn)?.ok_or_else(|| anyhow::anyhow!("setting {name} could not be stored").into())
}

/// A user as the pages list them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: Option<String>,
}

/// Users of one role with their organisation's name (assessment-body staff only), by name.
pub fn list_users(conn: &mut DbConnection, actor: &Actor, role: Role) -> AppResult<Vec<UserSummary>> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden("only assessment-body staff may list users"));
    }
    Ok(repo::users_of_role(conn, role.as_str())?
        .into_iter()
        .map(|(u, org)| UserSummary { id: u.id, name: u.name, email: u.email, role: u.role, organisation: org })
        .collect())
}

/// Display names of users by id (for pages that show who did what).
pub fn names_of(conn: &mut DbConnection, ids: &[String]) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(repo::user_names(conn, ids)?)
}

/// The names behind ids of people, apprentices and organisations (for the audit page's words).
pub fn display_names_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<std::collections::HashMap<String, String>> {
    let mut names = names_of(conn, ids)?;
    names.extend(repo::apprentice_names(conn, ids)?);
    names.extend(repo::organisation_names(conn, ids)?);
    Ok(names)
}

/// Organisations of one kind (assessment-body staff only), by name: (id, name).
pub fn list_organisations(conn: &mut DbConnection, actor: &Actor, kind: &str) -> AppResult<Vec<(String, String)>> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden("only assessment-body staff may list organisations"));
    }
    Ok(repo::organisations_of_kind(conn, kind)?)
}

/// An apprentice as the pages list them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApprenticeSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    pub employer: String,
}

/// Every apprentice with their employer's name (assessment-body staff only), by name.
pub fn list_apprentices(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<ApprenticeSummary>> {
    if !actor.role.is_staff() {
        return Err(AppError::forbidden("only assessment-body staff may list apprentices"));
    }
    Ok(repo::apprentices_with_employer(conn)?
        .into_iter()
        .map(|(a, employer)| ApprenticeSummary { id: a.id, name: a.name, email: a.email, employer })
        .collect())
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
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salted");
        assert!(!verify_password("not a hash", "x"));
        assert!(!verify_password(decoy_hash(), ""));
        assert_eq!(hash_password("short").unwrap_err().code(), "weak_password");
    }

    fn database() -> (tempfile::TempDir, DbConnection) {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::db::DatabaseUrl::parse(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let mut conn = url.connect().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        (dir, conn)
    }

    #[test]
    fn sign_in_is_throttled_per_email_and_a_new_password_lifts_it() {
        let (_dir, mut conn) = database();
        let new = NewUser {
            email: "Tom@Riverside.test".into(),
            name: "Tom".into(),
            role: "training_provider".into(),
            organisation_id: None,
        };
        create_user(&mut conn, None, Input::from(new)).unwrap();
        set_password(&mut conn, None, "tom@riverside.test", "correct horse battery").unwrap();
        for _ in 0..THROTTLE_FAILURES {
            let c = sign_in_candidate(&mut conn, "TOM@riverside.test ", "192.0.2.1").unwrap();
            assert!(c.user.is_some(), "emails match whatever their case");
            assert!(finish_sign_in(&mut conn, c, false).unwrap().is_none());
        }
        let refused = sign_in_candidate(&mut conn, "tom@riverside.test", "192.0.2.1").err().unwrap();
        assert_eq!(refused.code(), "sign_in_throttled");
        assert!(refused.to_string().contains("15 minutes"));
        // Another email is not affected.
        assert!(sign_in_candidate(&mut conn, "someone@else.test", "192.0.2.1").unwrap().user.is_none());
        set_password(&mut conn, None, "tom@riverside.test", "a brand new password").unwrap();
        let c = sign_in_candidate(&mut conn, "tom@riverside.test", "192.0.2.1").unwrap();
        let (user, sid) = finish_sign_in(&mut conn, c, true).unwrap().unwrap();
        assert_eq!(session_user(&mut conn, &sid).unwrap().map(|u| u.id), Some(user.id.clone()));
        end_session(&mut conn, &sid).unwrap();
        assert!(session_user(&mut conn, &sid).unwrap().is_none(), "signed out on the server");
    }

    #[test]
    fn a_new_password_ends_the_users_sessions() {
        let (_dir, mut conn) = database();
        let new = NewUser { email: "a@b.test".into(), name: "A".into(), role: "admin".into(), organisation_id: None };
        create_user(&mut conn, None, Input::from(new)).unwrap();
        set_password(&mut conn, None, "a@b.test", "correct horse battery").unwrap();
        let c = sign_in_candidate(&mut conn, "a@b.test", "192.0.2.1").unwrap();
        let (_, sid) = finish_sign_in(&mut conn, c, true).unwrap().unwrap();
        assert!(session_user(&mut conn, &sid).unwrap().is_some());
        set_password(&mut conn, None, "a@b.test", "another long password").unwrap();
        assert!(session_user(&mut conn, &sid).unwrap().is_none());
    }

    #[test]
    fn failures_from_one_address_never_lock_out_another() {
        let (_dir, mut conn) = database();
        for email in ["victim@x.test", "other@x.test"] {
            let new =
                NewUser { email: email.into(), name: "V".into(), role: "line_manager".into(), organisation_id: None };
            create_user(&mut conn, None, Input::from(new)).unwrap();
            set_password(&mut conn, None, email, "correct horse battery").unwrap();
        }
        let (attacker, victim) = ("192.0.2.66", "198.51.100.7");
        for _ in 0..THROTTLE_FAILURES {
            let c = sign_in_candidate(&mut conn, "victim@x.test", attacker).unwrap();
            assert!(finish_sign_in(&mut conn, c, false).unwrap().is_none());
        }
        // The attacker's address may not try the victim's email again...
        let e = sign_in_candidate(&mut conn, "victim@x.test", attacker).err().unwrap();
        assert_eq!(e.code(), "sign_in_throttled");
        // ...but the victim, from an address that has not failed, signs in, and that does not lift
        // the attacker's throttle.
        let c = sign_in_candidate(&mut conn, "victim@x.test", victim).unwrap();
        assert!(finish_sign_in(&mut conn, c, true).unwrap().is_some());
        assert!(sign_in_candidate(&mut conn, "victim@x.test", attacker).is_err());
        // An address failing across many emails is throttled for every email.
        for i in THROTTLE_FAILURES..CLIENT_THROTTLE_FAILURES {
            // one try per email: none of them reaches the per-email limit alone
            let c = sign_in_candidate(&mut conn, &format!("nobody{i}@x.test"), attacker).unwrap();
            finish_sign_in(&mut conn, c, false).unwrap();
        }
        let e = sign_in_candidate(&mut conn, "other@x.test", attacker).err().unwrap();
        assert!(e.to_string().contains("from this network address"), "{e}");
        assert!(sign_in_candidate(&mut conn, "other@x.test", victim).is_ok());
    }

    #[test]
    fn revoking_or_disabling_ends_sessions_and_disabling_refuses_sign_in() {
        let (_dir, mut conn) = database();
        let new = NewUser { email: "a@b.test".into(), name: "A".into(), role: "admin".into(), organisation_id: None };
        let (_, token) = create_user(&mut conn, None, Input::from(new)).unwrap();
        set_password(&mut conn, None, "a@b.test", "correct horse battery").unwrap();
        let sign_in = |conn: &mut DbConnection| {
            let c = sign_in_candidate(conn, "a@b.test", "192.0.2.1").unwrap();
            let ok = c.user.is_some();
            finish_sign_in(conn, c, ok).unwrap().map(|(_, sid)| sid)
        };
        let sid = sign_in(&mut conn).unwrap();
        revoke(&mut conn, "a@b.test").unwrap();
        assert!(session_user(&mut conn, &sid).unwrap().is_none(), "revoke ends the sessions");
        assert!(user_for_token(&mut conn, &token).unwrap().is_none());
        let sid = sign_in(&mut conn).expect("a revoked token does not stop signing in");
        let (_, token) = reissue_token(&mut conn, "a@b.test").unwrap();
        disable(&mut conn, "a@b.test").unwrap();
        assert!(session_user(&mut conn, &sid).unwrap().is_none(), "disable ends the sessions");
        assert!(user_for_token(&mut conn, &token).unwrap().is_none(), "a disabled user's token is refused");
        assert!(sign_in(&mut conn).is_none(), "a disabled user cannot sign in");
        enable(&mut conn, "a@b.test").unwrap();
        assert!(user_for_token(&mut conn, &token).unwrap().is_some());
        assert!(sign_in(&mut conn).is_some());
    }

    #[test]
    fn a_shared_setting_is_made_once() {
        let (_dir, mut conn) = database();
        let first = shared_setting(&mut conn, "session_key", || "one".into()).unwrap();
        let second = shared_setting(&mut conn, "session_key", || "two".into()).unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
    }

    #[test]
    fn emails_are_checked() {
        assert!(check_email("email", "amy@northgate.test").is_ok());
        assert!(check_email("email", "amy").unwrap_err().to_string().starts_with("email:"));
    }
}
