//! The EPA's rules in plain Rust: panel guides, scoring and grading, the assessment's states and
//! guards, and who may do what. Nothing here knows about HTTP, SQL, templates or mail, so every
//! rule can be unit-tested (and fuzzed) on its own.

pub mod appeal;
pub mod assessment;
pub mod attempt;
pub mod audit;
pub mod eligibility;
pub mod error;
pub mod evidence;
#[cfg(test)]
mod fuzz_corpus;
pub mod gateway;
pub mod guide;
pub mod permissions;
#[cfg(test)]
mod proptests;
pub mod scoring;
pub mod statistics;
pub mod text;
pub mod verification;
pub mod workflow;

pub use error::{DomainError, ErrorCode, Fault, Refusal};
