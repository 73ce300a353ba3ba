//! The gateway: the checks that the apprentice is ready for the EPA, who confirmed each, and the
//! knowledge a named qualification's units leave for the viva to probe.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::{now, DbConnection};
use crate::domain::assessment::{GatewayAnswers, KnowledgeRoute, Status};
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

/// Who last confirmed (or changed) a gateway check, and when.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGateway {
    pub answers: GatewayAnswers,
    pub confirmations: BTreeMap<String, Confirmation>,
    /// The knowledge criteria the named qualification's achieved units do not cover (where the
    /// viva should probe); None when that cannot be told (no mapped qualification or no units).
    #[serde(default)]
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeGap {
    pub criterion: String,
    pub area: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GatewayOutcome {
    #[schema(value_type = String)]
    pub status: Status,
    pub unmet: Vec<&'static str>,
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
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

pub fn record_gateway(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    id: &str,
    input: Input<GatewayInput>,
) -> AppResult<GatewayOutcome> {
    change(conn, actor, id, Action::RecordGateway, input, |Change { conn, row, status, body: input, .. }| {
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
        let guide = guide_of(conn, guides, row)?;
        let gaps = knowledge_gaps(&guide, &answers)?;
        status.allows(Step::RecordGateway)?;
        let before: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
        let changed = answers.changed_from(before.as_ref().map(|b| &b.answers));
        let mut confirmations = before.map(|b| b.confirmations).unwrap_or_default();
        let at = now();
        for field in &changed {
            confirmations.insert(field.to_string(), Confirmation { by: actor.id.clone(), at: at.clone() });
        }
        let unmet = answers.unmet();
        let next = status.after(Event::GatewayRecorded { met: unmet.is_empty() })?;
        let detail =
            json!({"answers": answers, "changed": changed, "unmet": unmet, "status": next, "knowledge_gaps": gaps});
        row.gateway_json = Some(to_json(&StoredGateway { answers, confirmations, knowledge_gaps: gaps.clone() }));
        row.status = next.as_str().to_string();
        Ok(Done::saved(GatewayOutcome { status: next, unmet, knowledge_gaps: gaps }, "gateway.recorded", detail))
    })
}
