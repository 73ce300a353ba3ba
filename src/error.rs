//! The one error type of a request: what went wrong, as data. How it becomes the contract's JSON
//! error `{"error": {"code", "message"}}` and which HTTP status it carries is decided in
//! `web/error.rs`, the one place that also logs internal errors.
//!
//! Policy: rules produce refusals ([`Fault`]s) with a stable [`ErrorCode`] and the field and
//! items at fault; storage failures are internal (logged with detail, answered with a plain 500
//! that leaks nothing).

use crate::db::DbError;
use crate::domain::guide::GuideError;
use crate::domain::{DomainError, Refusal};

pub use crate::domain::{ErrorCode, Fault};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// The input itself is wrong (400).
    #[error("{0}")]
    BadInput(Fault),
    /// Not possible in the current state (409).
    #[error("{0}")]
    Conflict(Fault),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self::BadInput(Fault::new(code, reason))
    }

    pub fn conflict(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self::Conflict(Fault::new(code, reason))
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("no such {what}"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// The same refusal, naming the field at fault (the message then reads `field: reason`).
    pub fn at(mut self, field: impl Into<String>) -> Self {
        if let Some(fault) = self.fault_mut() {
            fault.field = Some(field.into());
        }
        self
    }

    /// The same refusal, naming the items at fault.
    pub fn with_items(mut self, items: Vec<String>) -> Self {
        if let Some(fault) = self.fault_mut() {
            fault.items = items;
        }
        self
    }

    /// The refusal's data (field, items, reason), for a 400 or a 409.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Self::BadInput(f) | Self::Conflict(f) => Some(f),
            _ => None,
        }
    }

    fn fault_mut(&mut self) -> Option<&mut Fault> {
        match self {
            Self::BadInput(f) | Self::Conflict(f) => Some(f),
            _ => None,
        }
    }

    /// The code clients see.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::BadInput(f) | Self::Conflict(f) => f.code,
            Self::PreconditionFailed(_) => ErrorCode::StaleVersion,
            Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The code clients see, as the contract spells it.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e.refusal {
            Refusal::BadInput => Self::BadInput(e.fault),
            Refusal::Conflict => Self::Conflict(e.fault),
        }
    }
}

impl From<GuideError> for AppError {
    fn from(e: GuideError) -> Self {
        Self::bad_input(ErrorCode::InvalidGuide, e.to_string())
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
