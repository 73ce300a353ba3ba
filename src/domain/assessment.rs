//! One apprentice's EPA: its states, the gateway checks, the assessor's declaration and the viva
//! record. The states and the guard that says which step is possible in which state are in
//! [`super::workflow`].

use serde::{Deserialize, Serialize};

use super::gateway::Certificate;
pub use super::workflow::Status;
use super::{DomainError, ErrorCode};

/// How the apprentice showed the knowledge at the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeRoute {
    /// A regulated qualification (e.g. CIH Level 4 Certificate in Managing Housing Maintenance).
    Qualification,
    /// An alternative knowledge assessment set by the employer and provider.
    Assessment,
}

impl KnowledgeRoute {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qualification => "qualification",
            Self::Assessment => "assessment",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "qualification" => Ok(Self::Qualification),
            "assessment" => Ok(Self::Assessment),
            other => Err(DomainError::bad_input(
                ErrorCode::InvalidKnowledgeRoute,
                format!("{other:?} is neither \"qualification\" nor \"assessment\""),
            )
            .at("knowledge_route")),
        }
    }
}

/// The gateway checks as the employer and provider confirm them. The default is the gateway
/// before anyone has saved it: nothing confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayAnswers {
    pub portfolio_complete: bool,
    pub knowledge_route: Option<KnowledgeRoute>,
    pub knowledge_reference: Option<String>,
    /// The units of the named qualification the apprentice achieved (may be empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge_units: Vec<String>,
    pub english_level2: bool,
    pub maths_level2: bool,
    pub employer_ready: bool,
    pub provider_ready: bool,
}

impl GatewayAnswers {
    /// The field names in the contract's order.
    pub const FIELDS: [&'static str; 7] = [
        "portfolio_complete",
        "knowledge_route",
        "knowledge_reference",
        "english_level2",
        "maths_level2",
        "employer_ready",
        "provider_ready",
    ];

    /// The fields `unmet` can name, in the contract's order; `knowledge_units` (a v1 addition)
    /// after the reference it belongs to.
    const UNMET_ORDER: [&'static str; 8] = [
        "portfolio_complete",
        "knowledge_route",
        "knowledge_reference",
        "knowledge_units",
        "english_level2",
        "maths_level2",
        "employer_ready",
        "provider_ready",
    ];

    fn holds(&self, field: &str, certificate: Option<&Certificate>) -> bool {
        match field {
            "portfolio_complete" => self.portfolio_complete,
            "knowledge_route" => self.knowledge_route.is_some(),
            "knowledge_reference" => self.knowledge_reference.as_deref().is_some_and(|r| !r.trim().is_empty()),
            // The units named hold unless the qualification's rule of combination says they do
            // not make it (then the knowledge is not shown by that qualification alone).
            "knowledge_units" => certificate.is_none_or(|c| c.achieved),
            "english_level2" => self.english_level2,
            "maths_level2" => self.maths_level2,
            "employer_ready" => self.employer_ready,
            "provider_ready" => self.provider_ready,
            _ => false,
        }
    }

    /// The fields that do not hold, in the contract's order, given what the rule of combination
    /// says of the units named (None: nothing to judge).
    pub fn unmet(&self, certificate: Option<&Certificate>) -> Vec<&'static str> {
        Self::UNMET_ORDER.into_iter().filter(|f| !self.holds(f, certificate)).collect()
    }

    /// The fields whose value differs from `before`; with no `before` (the first save), the
    /// fields that differ from the unsaved gateway, where nothing is confirmed. An empty
    /// reference is the same as none.
    pub fn changed_from(&self, before: Option<&GatewayAnswers>) -> Vec<&'static str> {
        let unsaved = GatewayAnswers::default();
        let before = before.unwrap_or(&unsaved);
        let value = |g: &GatewayAnswers, field: &str| match field {
            "knowledge_reference" => {
                serde_json::to_value(g.knowledge_reference.as_deref().filter(|r| !r.trim().is_empty()))
                    .unwrap_or_default()
            }
            _ => serde_json::to_value(g).unwrap_or_default().get(field).cloned().unwrap_or_default(),
        };
        Self::FIELDS.into_iter().filter(|f| value(self, f) != value(before, f)).collect()
    }
}

/// The independent assessor's declaration of independence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub no_prior_involvement: bool,
    pub conflicts: String,
}

impl Declaration {
    /// It holds when there was no prior involvement and the conflicts are exactly "none".
    pub fn holds(&self) -> bool {
        self.no_prior_involvement && self.conflicts.trim().eq_ignore_ascii_case("none")
    }
}

/// One question put at the viva and the apprentice's response, with the items it probes (none
/// named: `[]`; checked against the guide by `domain::evidence::check_criteria`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VivaQuestion {
    pub question: String,
    pub response: String,
    #[serde(default)]
    pub criteria: Vec<crate::domain::guide::ItemKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VivaMode {
    InPerson,
    Video,
}

impl VivaMode {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "in_person" => Ok(Self::InPerson),
            "video" => Ok(Self::Video),
            other => Err(DomainError::bad_input(
                ErrorCode::InvalidMode,
                format!("{other:?} is neither \"in_person\" nor \"video\""),
            )
            .at("mode")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Video => "video",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    Confirm,
    ReferBack,
}

impl ModerationAction {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "confirm" => Ok(Self::Confirm),
            "refer_back" => Ok(Self::ReferBack),
            other => Err(DomainError::bad_input(
                ErrorCode::InvalidAction,
                format!("{other:?} is neither \"confirm\" nor \"refer_back\""),
            )
            .at("action")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::ReferBack => "refer_back",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_met() -> GatewayAnswers {
        GatewayAnswers {
            portfolio_complete: true,
            knowledge_route: Some(KnowledgeRoute::Qualification),
            knowledge_reference: Some("CIH 603/1433/3".into()),
            knowledge_units: Vec::new(),
            english_level2: true,
            maths_level2: true,
            employer_ready: true,
            provider_ready: true,
        }
    }

    #[test]
    fn gateway_passes_only_when_every_check_holds() {
        assert_eq!(all_met().unmet(None), Vec::<&str>::new());
        let mut g = all_met();
        g.english_level2 = false;
        g.knowledge_reference = Some("  ".into());
        assert_eq!(g.unmet(None), ["knowledge_reference", "english_level2"]);
        g.knowledge_route = None;
        assert_eq!(g.unmet(None)[0], "knowledge_route");
    }

    #[test]
    fn changed_fields_are_found() {
        let mut g = all_met();
        assert_eq!(g.changed_from(None).len(), 7);
        let before = g.clone();
        g.maths_level2 = false;
        assert_eq!(g.changed_from(Some(&before)), ["maths_level2"]);
    }

    #[test]
    fn a_first_save_changes_only_what_it_sets() {
        let first = GatewayAnswers {
            portfolio_complete: true,
            knowledge_reference: Some("  ".into()),
            ..GatewayAnswers::default()
        };
        assert_eq!(first.changed_from(None), ["portfolio_complete"]);
        let mut cleared = all_met();
        let before = cleared.clone();
        cleared.knowledge_reference = None;
        assert_eq!(cleared.changed_from(Some(&before)), ["knowledge_reference"]);
    }

    #[test]
    fn knowledge_route_is_parsed() {
        assert_eq!(KnowledgeRoute::parse("assessment").unwrap(), KnowledgeRoute::Assessment);
        assert_eq!(KnowledgeRoute::parse("exam").unwrap_err().code(), "invalid_knowledge_route");
    }

    #[test]
    fn declaration_holds_only_without_involvement_or_conflict() {
        assert!(Declaration { no_prior_involvement: true, conflicts: "none".into() }.holds());
        assert!(!Declaration { no_prior_involvement: false, conflicts: "none".into() }.holds());
        assert!(!Declaration { no_prior_involvement: true, conflicts: "former colleague of the line manager".into() }
            .holds());
    }

    #[test]
    fn moderation_actions_are_parsed() {
        assert!(ModerationAction::parse("approve").is_err());
    }
}
