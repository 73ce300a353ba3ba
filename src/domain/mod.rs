//! The EPA's rules in plain Rust: panel guides, scoring and grading, the assessment's states and
//! guards, and who may do what. Nothing here knows about HTTP, SQL, templates or mail, so every
//! rule can be unit-tested (and fuzzed) on its own.

pub mod assessment;
pub mod audit;
#[cfg(test)]
mod fuzz_corpus;
pub mod guide;
pub mod permissions;
#[cfg(test)]
mod proptests;
pub mod scoring;
pub mod statistics;
pub mod text;
pub mod workflow;

use std::fmt;

/// What kind of refusal a domain rule makes; the web layer maps it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The input itself is wrong (400).
    BadInput,
    /// The input is fine but the assessment is not in a state that allows it (409).
    Conflict,
}

/// A rule broken, with a stable snake_case code and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub refusal: Refusal,
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        Self { refusal: Refusal::BadInput, code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self { refusal: Refusal::Conflict, code, message: message.into() }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DomainError {}
