//! `Idempotency-Key` on POSTs: the first response to a (user, key) is stored in the same
//! transaction as the change it reports, and a retry with the same key gets that response back
//! without a second effect. Secrets (a new user's token) are never stored: a replay shows null.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::transaction;
use crate::db::idempotency::{delete_keys_before, insert_key, is_unique_violation, stored_response, IdempotencyKey};
use crate::db::{format_time, now, DbConnection};
use crate::error::{AppError, AppResult, ErrorCode};

/// How long a key is remembered.
const KEEP_HOURS: i64 = 24;

/// A response as produced or replayed.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub replayed: bool,
}

/// Checks a client's key: 1–255 visible ASCII characters.
pub fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_input(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key: must be 1-255 visible ASCII characters (a UUID is ideal)",
        ));
    }
    Ok(())
}

/// What identifies "the same request": method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    format!("{method} {path} {}", hex::encode(Sha256::digest(body)))
}

fn stored(conn: &mut DbConnection, user_id: &str, key: &str) -> AppResult<Option<(String, i32, String)>> {
    Ok(stored_response(conn, user_id, key)?)
}

fn replay(request: &str, found: (String, i32, String)) -> AppResult<Response> {
    let (stored_request, status, body) = found;
    if stored_request != request {
        return Err(AppError::bad_input(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key: this key was already used for a different request; use a new key",
        ));
    }
    let body = serde_json::from_str(&body).map_err(|e| anyhow::anyhow!("stored response unreadable: {e}"))?;
    Ok(Response { status: status as u16, body, replayed: true })
}

/// Runs `f` once per (user, key). Errors the client caused (4xx) are remembered too, as `answer`
/// (the web layer) puts them; internal errors are not, so a retry runs again.
pub fn once(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    request: &str,
    f: impl FnOnce(&mut DbConnection) -> AppResult<(u16, Value)>,
    answer: impl Fn(&AppError) -> (u16, Value),
) -> AppResult<Response> {
    check_key(key)?;
    let mut f = Some(f);
    let outcome = transaction(conn, |conn| {
        if let Some(found) = stored(conn, user_id, key)? {
            return replay(request, found).map(Ok);
        }
        let change = f.take().ok_or_else(|| anyhow::anyhow!("an idempotent change ran twice in one transaction"))?;
        let result = change(conn);
        let (status, body) = match &result {
            Ok((status, body)) => (*status, body.clone()),
            Err(AppError::Internal(_)) => {
                return Ok(result.map(|(status, body)| Response { status, body, replayed: false }))
            }
            Err(e) => answer(e),
        };
        let mut kept = body;
        if let Some(token) = kept.get_mut("token") {
            *token = Value::Null;
        }
        let cutoff = format_time(chrono::Utc::now() - chrono::Duration::hours(KEEP_HOURS));
        delete_keys_before(conn, &cutoff)?;
        let row = IdempotencyKey {
            user_id: user_id.to_string(),
            idem_key: key.to_string(),
            request: request.to_string(),
            status: i32::from(status),
            body: kept.to_string(),
            created_at: now(),
        };
        insert_key(conn, &row)?;
        // The client's error is remembered, but its effects were rolled back inside `f`.
        Ok(result.map(|(status, body)| Response { status, body, replayed: false }))
    });
    match outcome {
        Ok(result) => result,
        // Two requests with one key at once: the other committed first; answer with its response.
        Err(AppError::Internal(e)) if is_unique_violation(&e) => match stored(conn, user_id, key)? {
            Some(found) => replay(request, found),
            None => Err(AppError::Internal(e)),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(check_key("0b6f3c9e-8d5c-4f2a-9a47-3f1d2e5c6b7a").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"x".repeat(256)).is_err());
    }

    #[test]
    fn fingerprints_differ_by_body_and_path() {
        let a = fingerprint("POST", "/api/v1/x", b"{}");
        assert_eq!(a, fingerprint("POST", "/api/v1/x", b"{}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/y", b"{}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/x", b"{\"a\":1}"));
    }
}
