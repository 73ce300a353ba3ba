//! Typed reading of what the services return, and the small formatting every page shares
//! (status names, dates, roles). Nothing here decides anything: it only reads and words.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::DbConnection;
use crate::domain::guide::Guide;
use crate::domain::permissions::{Role, Seat};
use crate::domain::workflow::{self, DeclarationState, Facts, NextStep, Status, Todo};
use crate::error::AppResult;
use crate::local_time::Zone;
use crate::services::assessments::{
    self, Confirmation, StoredConsensus, StoredDecision, StoredDeclaration, StoredVivaRecord,
};
use crate::services::standards::Guides;
use crate::services::{people, Actor};

/// An assessment as `services::assessments::view` shows it (the JSON API's shape), typed.
#[derive(Debug, Clone, Deserialize)]
pub struct AssessmentData {
    pub id: String,
    pub status: Status,
    pub standard_id: String,
    pub standard_version: String,
    pub apprentice_id: String,
    #[serde(default)]
    pub apprentice: Option<ApprenticeData>,
    pub panel: PanelData,
    pub gateway: GatewayData,
    #[serde(default)]
    pub viva_record: Option<StoredVivaRecord>,
    #[serde(default)]
    pub consensus: Option<StoredConsensus>,
    #[serde(default)]
    pub decision: Option<StoredDecision>,
    /// Moderation's refer-back, from the refer-back until the next decision.
    #[serde(default)]
    pub referred_back: Option<ReferredBack>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub weighted_score: Option<f64>,
    #[serde(default)]
    pub decided_at: Option<String>,
    #[serde(default)]
    pub released_at: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailData>,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReferredBack {
    pub at: String,
    pub by: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ApprenticeData {
    pub id: String,
    pub name: String,
    pub employer_id: String,
    pub training_provider_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PanelData {
    pub line_manager_id: String,
    pub training_provider_user_id: String,
    #[serde(default)]
    pub independent_assessor_id: Option<String>,
    #[serde(default)]
    pub viva_at: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub declaration: Option<StoredDeclaration>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct GatewayData {
    #[serde(default)]
    pub portfolio_complete: Option<bool>,
    #[serde(default)]
    pub knowledge_route: Option<String>,
    #[serde(default)]
    pub knowledge_reference: Option<String>,
    #[serde(default)]
    pub knowledge_units: Vec<String>,
    /// Knowledge the named qualification's achieved units do not cover (where the viva probes).
    #[serde(default)]
    pub knowledge_gaps: Option<Vec<crate::services::assessments::KnowledgeGap>>,
    #[serde(default)]
    pub english_level2: Option<bool>,
    #[serde(default)]
    pub maths_level2: Option<bool>,
    #[serde(default)]
    pub employer_ready: Option<bool>,
    #[serde(default)]
    pub provider_ready: Option<bool>,
    #[serde(default)]
    pub unmet: Vec<String>,
    #[serde(default)]
    pub confirmations: BTreeMap<String, Confirmation>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EmailData {
    pub to: String,
    pub recipient_role: String,
    pub status: String,
    #[serde(default)]
    pub attempts: i32,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub sent_at: Option<String>,
}

impl AssessmentData {
    pub fn from_value(value: Value) -> AppResult<Self> {
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("assessment view: {e}").into())
    }

    /// The seat `user_id` holds on this panel.
    pub fn seat_of(&self, user_id: &str) -> Option<Seat> {
        if self.panel.line_manager_id == user_id {
            Some(Seat::LineManager)
        } else if self.panel.training_provider_user_id == user_id {
            Some(Seat::TrainingProvider)
        } else if self.panel.independent_assessor_id.as_deref() == Some(user_id) {
            Some(Seat::IndependentAssessor)
        } else {
            None
        }
    }

    /// Where the appointed assessor's declaration stands (one made by an assessor no longer
    /// appointed counts as none).
    pub fn declaration_state(&self) -> DeclarationState {
        match self.panel.declaration.as_ref() {
            Some(d) if self.panel.independent_assessor_id.as_deref() == Some(d.by.as_str()) => {
                if d.holds {
                    DeclarationState::Holds
                } else {
                    DeclarationState::Blocks
                }
            }
            _ => DeclarationState::Missing,
        }
    }

    /// The declaration holds for the assessor now appointed (as the service requires to score).
    pub fn declaration_holds(&self) -> bool {
        self.declaration_state() == DeclarationState::Holds
    }

    /// The status as a person reads it: a decision referred back by moderation says so.
    pub fn status_label(&self) -> &'static str {
        if self.referred_back.is_some() {
            "Referred back"
        } else {
            status_label(self.status)
        }
    }

    /// The workflow's facts about this assessment, with what the caller knows of the sheets.
    fn facts(&self, own_sheet_submitted: Option<bool>, any_sheet_submitted: bool) -> Facts {
        Facts { declaration: self.declaration_state(), own_sheet_submitted, any_sheet_submitted }
    }

    /// What `role` in `seat` is due to do next here (see [`workflow::todo`]).
    pub fn todo(&self, role: Role, seat: Option<Seat>, own_sheet_submitted: Option<bool>) -> Todo {
        workflow::todo(self.status, role, seat, &self.facts(own_sheet_submitted, false))
    }

    pub fn apprentice_name(&self) -> String {
        self.apprentice.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| "(unknown apprentice)".into())
    }

    /// Every user id the pages may want to name.
    pub fn people(&self) -> Vec<String> {
        let mut ids = vec![self.panel.line_manager_id.clone(), self.panel.training_provider_user_id.clone()];
        ids.extend(self.panel.independent_assessor_id.clone());
        ids.extend(self.gateway.confirmations.values().map(|c| c.by.clone()));
        ids.extend(self.panel.declaration.as_ref().map(|d| d.by.clone()));
        ids.extend(self.viva_record.as_ref().map(|v| v.by.clone()));
        ids.extend(self.consensus.as_ref().map(|c| c.by.clone()));
        ids.extend(self.decision.as_ref().map(|d| d.by.clone()));
        ids.extend(self.referred_back.as_ref().map(|r| r.by.clone()));
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One assessment loaded for a page: the service's view, its guide, and names for its people.
pub struct Loaded {
    pub data: AssessmentData,
    pub guide: Arc<Guide>,
    pub names: HashMap<String, String>,
    pub seat: Option<Seat>,
    pub employer: String,
    pub provider: String,
    /// The zone the page shows times in.
    pub zone: Zone,
}

impl Loaded {
    pub fn name(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| "(unknown)".into())
    }

    /// What the viewer may do next here (see [`workflow::next_steps`]), given what the page
    /// knows of the score sheets: the viewer's own submitted, any submitted.
    pub fn next_steps(
        &self,
        role: Role,
        own_sheet_submitted: Option<bool>,
        any_sheet_submitted: bool,
    ) -> Vec<NextStep> {
        workflow::next_steps(
            self.data.status,
            role,
            self.seat,
            &self.data.facts(own_sheet_submitted, any_sheet_submitted),
        )
    }

    /// Whether the viewer may take `step` now, the sheets aside.
    pub fn may(&self, role: Role, step: NextStep) -> bool {
        self.next_steps(role, None, false).contains(&step)
    }

    /// What every assessment page shows at its top.
    pub fn header(&self) -> Header {
        let d = &self.data;
        Header {
            id: d.id.clone(),
            apprentice: d.apprentice_name(),
            standard: format!("{} (level {})", self.guide.title, self.guide.level),
            status: d.status.as_str().to_string(),
            status_label: d.status_label().to_string(),
            employer: self.employer.clone(),
            provider: self.provider.clone(),
            viva: viva_text(self.zone, d.panel.viva_at.as_deref(), d.panel.mode.as_deref()),
            seat: self.seat.map(|s| super::role_label(s.as_str()).to_string()),
            version: d.version,
        }
    }
}

/// The top of every assessment page.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub id: String,
    pub apprentice: String,
    pub standard: String,
    pub status: String,
    pub status_label: String,
    pub employer: String,
    pub provider: String,
    pub viva: Option<String>,
    /// The viewer's seat on this panel, if any.
    pub seat: Option<String>,
    pub version: i64,
}

/// Loads an assessment through the service (404 when it is not the actor's to see).
pub fn load(conn: &mut DbConnection, guides: &Guides, actor: &Actor, id: &str, zone: Zone) -> AppResult<Loaded> {
    let (_, value) = assessments::view(conn, actor, id)?;
    let data = AssessmentData::from_value(value)?;
    let guide = guides
        .get(conn, &data.standard_id, &data.standard_version)?
        .ok_or_else(|| anyhow::anyhow!("assessment {id} names a missing standard version"))?;
    let names = people::names_of(conn, &data.people())?;
    let org = |conn: &mut DbConnection, id: Option<&String>| -> AppResult<String> {
        Ok(match id {
            Some(id) => crate::db::models::find_organisation(conn, id)?.map(|o| o.name).unwrap_or_default(),
            None => String::new(),
        })
    };
    let employer = org(conn, data.apprentice.as_ref().map(|a| &a.employer_id))?;
    let provider = org(conn, data.apprentice.as_ref().map(|a| &a.training_provider_id))?;
    let seat = data.seat_of(&actor.id);
    Ok(Loaded { data, guide, names, seat, employer, provider, zone })
}

/// A status as people say it.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Registered => "At the gateway",
        Status::GatewayPassed => "Gateway passed: panel to appoint",
        Status::Scheduled => "Panel appointed: viva and scoring",
        Status::Consensus => "Scores in: panel to agree",
        Status::Decided => "Decided: awaiting moderation",
        Status::Released => "Released",
    }
}

pub fn mode_label(mode: &str) -> &'static str {
    match mode {
        "in_person" => "in person",
        "video" => "by video",
        _ => "",
    }
}

/// "Tue 1 Dec 2026, 10:00 GMT, in person".
pub fn viva_text(zone: Zone, at: Option<&str>, mode: Option<&str>) -> Option<String> {
    let at = at?;
    let when = when(zone, at);
    Some(match mode.map(mode_label).filter(|m| !m.is_empty()) {
        Some(m) => format!("{when}, {m}"),
        None => when,
    })
}

/// A stored UTC time as people read it, in the configured zone (`PagesState::zone`, or
/// `Loaded::zone`): "Tue 1 Dec 2026, 10:00 GMT". Every time a page shows goes through here.
pub fn when(zone: Zone, at: &str) -> String {
    zone.when(at)
}

/// A date only, in the configured zone: "1 Dec 2026".
pub fn day(zone: Zone, at: &str) -> String {
    zone.day(at)
}

/// The kind of a criterion as a heading.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "knowledge" => "Knowledge",
        "skill" => "Skills",
        "behaviour" => "Behaviours",
        _ => "Other",
    }
}

/// The kind of one criterion: "Knowledge", "Skill", "Behaviour".
pub fn kind_singular(kind: &str) -> &'static str {
    match kind {
        "knowledge" => "Knowledge",
        "skill" => "Skill",
        "behaviour" => "Behaviour",
        _ => "Other",
    }
}

/// A component's name: its title, else its id.
pub fn component_title(guide: &Guide, id: &str) -> String {
    guide.component(id).and_then(|c| c.title.clone()).unwrap_or_else(|| id.to_string())
}

impl super::Page {
    /// Loads an assessment for this person (its error page when it is not theirs to see).
    pub async fn load(&self, id: &str) -> Result<Loaded, super::PageError> {
        let (actor, guides, id, zone) =
            (self.actor.clone(), self.state.guides.clone(), id.to_string(), self.pages.zone);
        self.run(move |conn| load(conn, &guides, &actor, &id, zone)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let z = Zone::default();
        assert_eq!(when(z, "2026-12-01T10:00:00.000000Z"), "Tue 1 Dec 2026, 10:00 GMT");
        assert_eq!(when(z, "2026-07-14T13:30:00.000000Z"), "Tue 14 Jul 2026, 14:30 BST");
        assert_eq!(day(z, "2026-12-01T10:00:00Z"), "1 Dec 2026");
        assert_eq!(
            viva_text(z, Some("2026-12-01T10:00:00Z"), Some("video")).unwrap(),
            "Tue 1 Dec 2026, 10:00 GMT, by video"
        );
        assert_eq!(
            viva_text(z, Some("2026-07-14T13:30:00Z"), Some("in_person")).unwrap(),
            "Tue 14 Jul 2026, 14:30 BST, in person"
        );
        assert_eq!(viva_text(z, None, Some("video")), None);
        assert_eq!(when(z, "garbage"), "garbage");
        let utc = Zone::parse("UTC").unwrap();
        assert_eq!(when(utc, "2026-07-14T13:30:00Z"), "Tue 14 Jul 2026, 13:30 UTC");
    }

    #[test]
    fn the_service_view_reads_into_the_typed_view() {
        let value = serde_json::json!({
            "id": "a1", "status": "scheduled", "standard_id": "s", "standard_version": "1", "apprentice_id": "p",
            "apprentice": {"id": "p", "name": "Amy", "employer_id": "e", "training_provider_id": "t"},
            "panel": {"line_manager_id": "lm", "training_provider_user_id": "tp", "independent_assessor_id": "ia",
                      "viva_at": "2026-12-01T10:00:00Z", "mode": "video",
                      "declaration": {"no_prior_involvement": true, "conflicts": "none", "holds": true, "by": "ia", "at": "x"}},
            "gateway": {"unmet": ["portfolio_complete"]},
            "grade": null, "weighted_score": null, "emails": [], "version": 4
        });
        let data = AssessmentData::from_value(value).unwrap();
        assert_eq!(data.seat_of("tp"), Some(Seat::TrainingProvider));
        assert_eq!(data.seat_of("someone"), None);
        assert!(data.declaration_holds());
        assert_eq!(data.apprentice_name(), "Amy");
        assert!(data.people().contains(&"ia".to_string()));
    }
}
