//! How an [`AppError`] is answered over HTTP: its status code, the contract's JSON error body
//! `{"error": {"code", "message"}}`, and the one place internal errors are logged (for the API
//! and the pages alike).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::AppError;

/// The status code of each kind of error (400/401/403/404/409/412/413/500).
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::BadInput(_) => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a person is shown. Internal errors are logged here, with their detail, and
/// answered without it.
pub fn public_message(e: &AppError) -> String {
    match e {
        AppError::Internal(inner) => {
            tracing::error!(error = format!("{inner:#}"), "request failed");
            "something went wrong on our side; it has been logged".to_string()
        }
        other => other.to_string(),
    }
}

/// The contract's error body.
pub fn body_of(e: &AppError) -> serde_json::Value {
    json!({"error": {"code": e.error_code().as_str(), "message": public_message(e)}})
}

/// The status and body of an error, as an idempotent request remembers them.
pub fn answer_of(e: &AppError) -> (u16, serde_json::Value) {
    (status_of(e).as_u16(), body_of(e))
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        status_of(self)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(status_of(self)).json(body_of(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_body_is_the_contracts() {
        let e = AppError::bad_input(ErrorCode::MissingValue, "must not be empty").at("notes");
        assert_eq!(
            body_of(&e).to_string(),
            r#"{"error":{"code":"missing_value","message":"notes: must not be empty"}}"#
        );
        assert_eq!(answer_of(&e).0, 400);
        let e = AppError::Internal(anyhow::anyhow!("secret detail"));
        assert_eq!(
            body_of(&e).to_string(),
            r#"{"error":{"code":"internal","message":"something went wrong on our side; it has been logged"}}"#
        );
    }
}
