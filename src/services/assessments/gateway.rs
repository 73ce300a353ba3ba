//! The gateway: the checks that the apprentice is ready for the EPA, who confirmed each, and the
//! knowledge a named qualification's units leave for the viva to probe.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{now, DbConnection};
use crate::domain::assessment::{GatewayAnswers, KnowledgeRoute, Status};
use crate::domain::gateway::{self, Certificate, CheckAnswer, CheckStates};
use crate::domain::guide::Guide;
use crate::domain::permissions::Action;
use crate::domain::workflow::{Event, Step};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::change::{change, Change, Done};
use crate::services::standards::Guides;
use crate::services::{check_optional, Actor, Input};

use super::{guide_of, parse_stored, to_json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayInput {
    pub portfolio_complete: bool,
    #[serde(default)]
    pub knowledge_route: Option<String>,
    #[serde(default)]
    pub knowledge_reference: Option<String>,
    /// Optional: the units achieved of the qualification the reference names, when the guide
    /// maps that qualification; the knowledge areas they leave uncovered are shown as gaps.
    #[serde(default)]
    pub knowledge_units: Option<Vec<String>>,
    pub english_level2: bool,
    pub maths_level2: bool,
    pub employer_ready: bool,
    pub provider_ready: bool,
}

/// What `PUT …/gateway` takes: the v1 fields, or the guide's own checks by id. The handler picks
/// the variant by the body's `checks` key (so that a mistake is named by its field); this
/// type's untagged form is the body's schema.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum GatewayBody {
    Fields(GatewayInput),
    Checks(GatewayChecksInput),
}

/// `{"checks": {"<gateway id>": {"holds", "evidence"}}}`: only the named checks change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayChecksInput {
    pub checks: BTreeMap<String, CheckAnswer>,
}

/// Who last confirmed (or changed) a gateway field, and when.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGateway {
    #[serde(default)]
    pub answers: GatewayAnswers,
    #[serde(default)]
    pub confirmations: BTreeMap<String, Confirmation>,
    /// The knowledge criteria the named qualification's achieved units do not cover (where the
    /// viva should probe); None when that cannot be told (no mapped qualification or no units).
    #[serde(default)]
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
    /// Whether the units named make the qualification by its rule of combination; None when
    /// there is nothing to judge (no units, or no rule in the guide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Each check's state by id; None in a gateway saved before checks were recorded (they are
    /// then those the answers give, see [`StoredGateway::states`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<CheckStates>,
    /// Whether the last save gave the v1 fields (then `unmet` names fields, else check ids).
    #[serde(default = "by_fields_before_checks")]
    pub by_fields: bool,
}

fn by_fields_before_checks() -> bool {
    true
}

impl StoredGateway {
    /// Each check's state: as recorded, or for a gateway saved before checks, from its answers.
    pub fn states(&self) -> CheckStates {
        match &self.checks {
            Some(states) => states.clone(),
            None => gateway::states_of_fields(&self.answers, self.certificate.as_ref(), |f| {
                self.confirmations.get(f).map(|c| (c.by.clone(), c.at.clone()))
            }),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeGap {
    pub criterion: String,
    pub area: String,
}

/// One of the guide's gateway checks as it stands: whether it holds, its evidence, and who last
/// changed it and when (null until a save changed it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckView {
    pub id: String,
    pub title: String,
    pub holds: bool,
    pub evidence: String,
    pub by: Option<String>,
    pub at: Option<String>,
}

/// The guide's checks, in its order, as `states` has them.
pub fn check_views(guide: &Guide, states: &CheckStates) -> Vec<CheckView> {
    guide
        .gateway_checks()
        .into_iter()
        .map(|c| {
            let s = states.get(&c.id).cloned().unwrap_or_default();
            CheckView { id: c.id, title: c.title, holds: s.holds, evidence: s.evidence, by: s.by, at: s.at }
        })
        .collect()
}

/// What is unmet of a gateway as stored (None: never saved): the v1 field names when the guide
/// takes the fields and no save gave checks, else the check ids.
pub fn unmet_of(guide: &Guide, stored: Option<&StoredGateway>) -> Vec<String> {
    let by_fields = guide.gateway_takes_fields() && stored.is_none_or(|g| g.by_fields);
    match (by_fields, stored) {
        (true, Some(g)) => g.answers.unmet(g.certificate.as_ref()).into_iter().map(str::to_string).collect(),
        (true, None) => GatewayAnswers::FIELDS.iter().map(|f| f.to_string()).collect(),
        (false, _) => {
            let states = stored.map(StoredGateway::states).unwrap_or_default();
            gateway::unmet(&guide.gateway_checks(), &states).into_iter().map(str::to_string).collect()
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GatewayOutcome {
    #[schema(value_type = String)]
    pub status: Status,
    /// What does not hold: v1 field names for a v1 body, gateway ids for a `checks` body.
    pub unmet: Vec<String>,
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
    /// Whether the units named make the qualification (null when nothing was judged).
    pub certificate: Option<Certificate>,
    /// The guide's checks, in order.
    pub checks: Vec<CheckView>,
}

/// Checks the achieved units against the qualification the reference names, and works out the
/// knowledge they leave uncovered.
fn knowledge_gaps(guide: &Guide, answers: &GatewayAnswers) -> AppResult<Option<Vec<KnowledgeGap>>> {
    if answers.knowledge_units.is_empty() {
        return Ok(None);
    }
    if answers.knowledge_route != Some(KnowledgeRoute::Qualification) {
        return Err(AppError::bad_input(
            ErrorCode::KnowledgeUnitsWithoutQualification,
            "units are given only when the knowledge was shown by a regulated qualification",
        )
        .at("knowledge_units"));
    }
    let reference = answers.knowledge_reference.as_deref().unwrap_or_default();
    let Some(qualification) = guide.qualification_named_in(reference) else {
        let known: Vec<&str> = guide.qualifications.iter().map(|q| q.reference.as_str()).collect();
        return Err(AppError::bad_input(
            ErrorCode::UnknownQualification,
            format!(
                "the knowledge_reference names no qualification this standard maps (it knows: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ),
        )
        .at("knowledge_units"));
    };
    let gaps = qualification.knowledge_gaps(guide, &answers.knowledge_units).map_err(|unit| {
        AppError::bad_input(ErrorCode::UnknownUnit, format!("{unit:?} is not a unit of {}", qualification.title))
            .at("knowledge_units")
    })?;
    Ok(Some(gaps.into_iter().map(|c| KnowledgeGap { criterion: c.id.clone(), area: c.area.clone() }).collect()))
}

/// The v1 fields as answers, refused (naming the field) when one is not what the contract takes.
fn answers_of(input: GatewayInput) -> AppResult<GatewayAnswers> {
    let knowledge_route = input.knowledge_route.as_deref().map(KnowledgeRoute::parse).transpose()?;
    check_optional("knowledge_reference", input.knowledge_reference.as_deref(), 500)?;
    let answers = GatewayAnswers {
        portfolio_complete: input.portfolio_complete,
        knowledge_route,
        knowledge_reference: input.knowledge_reference.map(|r| r.trim().to_string()),
        knowledge_units: input.knowledge_units.unwrap_or_default(),
        english_level2: input.english_level2,
        maths_level2: input.maths_level2,
        employer_ready: input.employer_ready,
        provider_ready: input.provider_ready,
    };
    if answers.knowledge_units.len() > 100 {
        return Err(AppError::bad_input(ErrorCode::TooMany, "at most 100").at("knowledge_units"));
    }
    Ok(answers)
}

/// Whether the units named make the qualification the reference names (None: no units, or no
/// rule of combination for it). Called once the units are known to be the qualification's.
fn certificate_of(guide: &Guide, answers: &GatewayAnswers) -> Option<Certificate> {
    if answers.knowledge_units.is_empty() {
        return None;
    }
    guide.qualification_named_in(answers.knowledge_reference.as_deref()?)?.certificate(&answers.knowledge_units)
}

pub fn record_gateway(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<GatewayBody>,
) -> AppResult<GatewayOutcome> {
    change(conn, actor, id, Action::RecordGateway, input, |Change { conn, row, status, body, .. }| {
        let guide = guide_of(conn, guides, row)?;
        let checks = guide.gateway_checks();
        let before: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
        let mut states = before.as_ref().map(StoredGateway::states).unwrap_or_default();
        let at = now();
        let (stored, unmet, detail) = match body {
            GatewayBody::Fields(input) => {
                if !guide.gateway_takes_fields() {
                    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
                    return Err(AppError::bad_input(
                        ErrorCode::GatewayHasOwnChecks,
                        format!(
                            "this standard's gateway has its own checks ({}): send them as {{\"checks\": {{\"<id>\": {{\"holds\": true, \"evidence\": \"...\"}}}}}}",
                            ids.join(", ")
                        ),
                    )
                    .at("checks"));
                }
                let answers = answers_of(input)?;
                let gaps = knowledge_gaps(&guide, &answers)?;
                let certificate = certificate_of(&guide, &answers);
                status.allows(Step::RecordGateway)?;
                let changed = answers.changed_from(before.as_ref().map(|b| &b.answers));
                let mut confirmations = before.map(|b| b.confirmations).unwrap_or_default();
                for field in &changed {
                    confirmations.insert(field.to_string(), Confirmation { by: actor.id.clone(), at: at.clone() });
                }
                let unmet_fields = answers.unmet(certificate.as_ref());
                let changed_checks =
                    gateway::answer(&checks, &mut states, &gateway::answers_of_fields(&unmet_fields), &actor.id, &at)?;
                let detail = json!({"answers": answers, "changed": changed, "checks_changed": changed_checks,
                                    "unmet": unmet_fields, "knowledge_gaps": gaps, "certificate": certificate});
                let unmet: Vec<String> = unmet_fields.into_iter().map(str::to_string).collect();
                let stored = StoredGateway {
                    answers,
                    confirmations,
                    knowledge_gaps: gaps,
                    certificate,
                    checks: Some(states),
                    by_fields: true,
                };
                (stored, unmet, detail)
            }
            GatewayBody::Checks(input) => {
                let changed = gateway::answer(&checks, &mut states, &input.checks, &actor.id, &at)?;
                status.allows(Step::RecordGateway)?;
                let unmet: Vec<String> = gateway::unmet(&checks, &states).into_iter().map(str::to_string).collect();
                let recorded: BTreeMap<&str, &gateway::CheckState> =
                    changed.iter().filter_map(|id| states.get(id).map(|s| (id.as_str(), s))).collect();
                let detail = json!({"checks": recorded, "checks_changed": changed, "unmet": unmet});
                let stored = match before {
                    Some(b) => StoredGateway { checks: Some(states), by_fields: false, ..b },
                    None => StoredGateway {
                        answers: GatewayAnswers::default(),
                        confirmations: BTreeMap::new(),
                        knowledge_gaps: None,
                        certificate: None,
                        checks: Some(states),
                        by_fields: false,
                    },
                };
                (stored, unmet, detail)
            }
        };
        let met = gateway::unmet(&checks, &stored.states()).is_empty();
        let next = status.after(Event::GatewayRecorded { met })?;
        let mut detail = detail;
        detail["status"] = json!(next);
        let outcome = GatewayOutcome {
            status: next,
            unmet,
            knowledge_gaps: stored.knowledge_gaps.clone(),
            certificate: stored.certificate.clone(),
            checks: check_views(&guide, &stored.states()),
        };
        row.gateway_json = Some(to_json(&stored));
        row.status = next.as_str().to_string();
        Ok(Done::saved(outcome, "gateway.recorded", detail))
    })
}
