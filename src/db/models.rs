//! The row structs and repository functions of every family of tables, under one name for the
//! code that imports them all (each lives in its own module: `db::people`, `db::assessments`…).

pub use super::assessments::{
    find_assessment, insert_assessment, insert_moderation, latest_moderation_of, lock_assessment, save_assessment,
    AssessmentRow, ModerationRow,
};
pub use super::assessors::{
    assessments_sat_on, assessor_records_of, find_assessor_record, replace_assessor_record, AssessorRecordRow,
};
pub use super::audit::{append_audit, audit_head, audit_of, audit_page, AuditEntry};
pub use super::idempotency::IdempotencyKey;
pub use super::outbox::{outbox_of, OutboxRow};
pub use super::people::*;
pub use super::sessions::{LoginFailure, Setting, WebSession};
pub use super::sheets::*;
pub use super::sign_offs::{replace_sign_off, sign_offs_of, SignOffRow};
pub use super::standards::StandardRow;
