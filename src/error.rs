//! The one error type of a request, and how it becomes the contract's JSON error
//! `{"error": {"code", "message"}}` with 400/401/403/404/409/413.
//!
//! Policy: domain rules produce [`DomainError`]s with stable codes; storage failures are
//! internal (logged with detail, answered with a plain 500 that leaks nothing).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::db::DbError;
use crate::domain::guide::GuideError;
use crate::domain::{DomainError, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    BadInput { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("no such {what}"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// The contract's error body. Internal errors are logged here and answered without detail.
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                "something went wrong on our side; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        json!({"error": {"code": self.code(), "message": message}})
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::BadInput { code, .. } | Self::Conflict { code, .. } => code,
            Self::PreconditionFailed(_) => "stale_version",
            Self::TooLarge(_) => "payload_too_large",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e.refusal {
            Refusal::BadInput => Self::BadInput { code: e.code, message: e.message },
            Refusal::Conflict => Self::Conflict { code: e.code, message: e.message },
        }
    }
}

impl From<GuideError> for AppError {
    fn from(e: GuideError) -> Self {
        Self::BadInput { code: "invalid_guide", message: e.to_string() }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database query"))
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadInput { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}
