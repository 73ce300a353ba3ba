//! Every refusal's stable code, and the domain's own refusal with its data: the field and the
//! items at fault travel beside the message, so nobody has to read them back out of the text.
//!
//! The codes are the contract's `error.code` (snake_case, never renamed); how a code becomes an
//! HTTP status is the web layer's business (`web/error.rs`).

use std::fmt;

use serde::Serialize;

/// The stable code of every error a client can see (`{"error": {"code": …}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    NotFound,
    Forbidden,
    StaleVersion,
    PayloadTooLarge,
    InvalidBody,
    InvalidQuery,
    InvalidText,
    MissingValue,
    TooLong,
    TooMany,
    InvalidTime,
    InvalidDate,
    InvalidEmail,
    InvalidKind,
    InvalidRole,
    InvalidMode,
    InvalidAction,
    InvalidChoice,
    InvalidKnowledgeRoute,
    InvalidGuide,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    InvalidRows,
    ChoiceRequired,
    DescriptionRequired,
    UnknownUser,
    UnknownApprentice,
    UnknownStandard,
    UnknownOrganisation,
    UnknownQualification,
    UnknownUnit,
    UnknownFilter,
    UnknownScoreItem,
    WrongRole,
    WrongOrganisationKind,
    WeakPassword,
    RepeatedFilter,
    KnowledgeUnitsWithoutQualification,
    UnknownGatewayCheck,
    GatewayHasOwnChecks,
    ScoreOutOfScale,
    DuplicateScoreItem,
    DuplicateItem,
    IncompleteSheet,
    UnresolvedItems,
    ItemNotOpen,
    WrongState,
    EmailInUse,
    SignInThrottled,
    GuideVersionExists,
    SheetsSubmitted,
    ConflictOfInterest,
    DeclarationBlocked,
    DeclarationRequired,
    SheetSubmitted,
    SheetsIncomplete,
    ConsensusIncomplete,
    VivaRecordRequired,
    NothingToResend,
    DatabaseNotEmpty,
    AssessorNotEligible,
    ReviewerConflicted,
    ReviewerNotAssessor,
    ResitNotAllowed,
    ResitWindowPassed,
    ItemCarriedOver,
    Internal,
    // `Internal` stays last: `ALL`'s length is counted from it.
}

impl ErrorCode {
    /// Every code, in declaration order (its length is checked by the compiler, its order by a test).
    pub const ALL: [ErrorCode; ErrorCode::Internal as usize + 1] = [
        Self::Unauthorized,
        Self::NotFound,
        Self::Forbidden,
        Self::StaleVersion,
        Self::PayloadTooLarge,
        Self::InvalidBody,
        Self::InvalidQuery,
        Self::InvalidText,
        Self::MissingValue,
        Self::TooLong,
        Self::TooMany,
        Self::InvalidTime,
        Self::InvalidDate,
        Self::InvalidEmail,
        Self::InvalidKind,
        Self::InvalidRole,
        Self::InvalidMode,
        Self::InvalidAction,
        Self::InvalidChoice,
        Self::InvalidKnowledgeRoute,
        Self::InvalidGuide,
        Self::InvalidIdempotencyKey,
        Self::IdempotencyKeyReused,
        Self::InvalidRows,
        Self::ChoiceRequired,
        Self::DescriptionRequired,
        Self::UnknownUser,
        Self::UnknownApprentice,
        Self::UnknownStandard,
        Self::UnknownOrganisation,
        Self::UnknownQualification,
        Self::UnknownUnit,
        Self::UnknownFilter,
        Self::UnknownScoreItem,
        Self::WrongRole,
        Self::WrongOrganisationKind,
        Self::WeakPassword,
        Self::RepeatedFilter,
        Self::KnowledgeUnitsWithoutQualification,
        Self::UnknownGatewayCheck,
        Self::GatewayHasOwnChecks,
        Self::ScoreOutOfScale,
        Self::DuplicateScoreItem,
        Self::DuplicateItem,
        Self::IncompleteSheet,
        Self::UnresolvedItems,
        Self::ItemNotOpen,
        Self::WrongState,
        Self::EmailInUse,
        Self::SignInThrottled,
        Self::GuideVersionExists,
        Self::SheetsSubmitted,
        Self::ConflictOfInterest,
        Self::DeclarationBlocked,
        Self::DeclarationRequired,
        Self::SheetSubmitted,
        Self::SheetsIncomplete,
        Self::ConsensusIncomplete,
        Self::VivaRecordRequired,
        Self::NothingToResend,
        Self::DatabaseNotEmpty,
        Self::AssessorNotEligible,
        Self::ReviewerConflicted,
        Self::ReviewerNotAssessor,
        Self::ResitNotAllowed,
        Self::ResitWindowPassed,
        Self::ItemCarriedOver,
        Self::Internal,
    ];

    /// The code as the contract spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::StaleVersion => "stale_version",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidBody => "invalid_body",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidText => "invalid_text",
            Self::MissingValue => "missing_value",
            Self::TooLong => "too_long",
            Self::TooMany => "too_many",
            Self::InvalidTime => "invalid_time",
            Self::InvalidDate => "invalid_date",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidKind => "invalid_kind",
            Self::InvalidRole => "invalid_role",
            Self::InvalidMode => "invalid_mode",
            Self::InvalidAction => "invalid_action",
            Self::InvalidChoice => "invalid_choice",
            Self::InvalidKnowledgeRoute => "invalid_knowledge_route",
            Self::InvalidGuide => "invalid_guide",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::InvalidRows => "invalid_rows",
            Self::ChoiceRequired => "choice_required",
            Self::DescriptionRequired => "description_required",
            Self::UnknownUser => "unknown_user",
            Self::UnknownApprentice => "unknown_apprentice",
            Self::UnknownStandard => "unknown_standard",
            Self::UnknownOrganisation => "unknown_organisation",
            Self::UnknownQualification => "unknown_qualification",
            Self::UnknownUnit => "unknown_unit",
            Self::UnknownFilter => "unknown_filter",
            Self::UnknownScoreItem => "unknown_score_item",
            Self::WrongRole => "wrong_role",
            Self::WrongOrganisationKind => "wrong_organisation_kind",
            Self::WeakPassword => "weak_password",
            Self::RepeatedFilter => "repeated_filter",
            Self::KnowledgeUnitsWithoutQualification => "knowledge_units_without_qualification",
            Self::UnknownGatewayCheck => "unknown_gateway_check",
            Self::GatewayHasOwnChecks => "gateway_has_own_checks",
            Self::ScoreOutOfScale => "score_out_of_scale",
            Self::DuplicateScoreItem => "duplicate_score_item",
            Self::DuplicateItem => "duplicate_item",
            Self::IncompleteSheet => "incomplete_sheet",
            Self::UnresolvedItems => "unresolved_items",
            Self::ItemNotOpen => "item_not_open",
            Self::WrongState => "wrong_state",
            Self::EmailInUse => "email_in_use",
            Self::SignInThrottled => "sign_in_throttled",
            Self::GuideVersionExists => "guide_version_exists",
            Self::SheetsSubmitted => "sheets_submitted",
            Self::ConflictOfInterest => "conflict_of_interest",
            Self::DeclarationBlocked => "declaration_blocked",
            Self::DeclarationRequired => "declaration_required",
            Self::SheetSubmitted => "sheet_submitted",
            Self::SheetsIncomplete => "sheets_incomplete",
            Self::ConsensusIncomplete => "consensus_incomplete",
            Self::VivaRecordRequired => "viva_record_required",
            Self::NothingToResend => "nothing_to_resend",
            Self::DatabaseNotEmpty => "database_not_empty",
            Self::AssessorNotEligible => "assessor_not_eligible",
            Self::ReviewerConflicted => "reviewer_conflicted",
            Self::ReviewerNotAssessor => "reviewer_not_assessor",
            Self::ResitNotAllowed => "resit_not_allowed",
            Self::ResitWindowPassed => "resit_window_passed",
            Self::ItemCarriedOver => "item_carried_over",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal as data: its code, the field and the items at fault, and what is wrong in words.
/// Its message (the contract's `error.message`) is `field: reason`, or the reason alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: ErrorCode,
    /// The field at fault as the message names it, e.g. `items[2].agreed_score`.
    pub field: Option<String>,
    /// The items at fault, e.g. the disagreements not resolved yet (`project/S1`).
    pub items: Vec<String>,
    /// What is wrong, without the field in front.
    pub reason: String,
}

impl Fault {
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self { code, field: None, items: vec![], reason: reason.into() }
    }

    /// The form field this refusal belongs to: the field's first name (`items` for
    /// `items[2].agreed_score`).
    pub fn form_field(&self) -> Option<&str> {
        let path = self.field.as_deref()?;
        path.split(['[', '.']).next()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// What kind of refusal a domain rule makes; the web layer maps it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The input itself is wrong (400).
    BadInput,
    /// The input is fine but the assessment is not in a state that allows it (409).
    Conflict,
}

/// A rule broken: what kind of refusal, and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub refusal: Refusal,
    pub fault: Fault,
}

impl DomainError {
    pub fn bad_input(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self { refusal: Refusal::BadInput, fault: Fault::new(code, reason) }
    }

    pub fn conflict(code: ErrorCode, reason: impl Into<String>) -> Self {
        Self { refusal: Refusal::Conflict, fault: Fault::new(code, reason) }
    }

    /// The code, as the contract spells it.
    pub fn code(&self) -> &'static str {
        self.fault.code.as_str()
    }

    /// The same refusal, naming the field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.fault.field = Some(field.into());
        self
    }

    /// The same refusal, naming the items at fault.
    pub fn with_items(mut self, items: Vec<String>) -> Self {
        self.fault.items = items;
        self
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fault.fmt(f)
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_once_in_order() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(*code as usize, i, "{code} is out of place in ErrorCode::ALL");
        }
    }

    #[test]
    fn the_wire_name_is_the_snake_case_name() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).ok(), Some(serde_json::Value::from(code.as_str())));
        }
    }

    #[test]
    fn the_message_names_the_field_in_front() {
        let e = DomainError::bad_input(ErrorCode::ScoreOutOfScale, "9 is outside the scale 1-4")
            .at("items[2].agreed_score");
        assert_eq!(e.to_string(), "items[2].agreed_score: 9 is outside the scale 1-4");
        assert_eq!(e.fault.form_field(), Some("items"));
        assert_eq!(DomainError::conflict(ErrorCode::WrongState, "not now").to_string(), "not now");
    }
}
