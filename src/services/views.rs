//! The typed views the services answer with when an assessment is read: the JSON API serialises
//! them (the contract's `GET /assessments/{id}` and `GET /assessments`), and the pages render the
//! same structs. Each carries, for the person who asked, what they may do next
//! ([`NextStep`]s, from `domain::workflow`) and the one step due (for the home page's groups).

use std::collections::BTreeMap;

use serde::Serialize;

use super::assessments::{
    check_views, kept_of, parse_stored, referred_items, unmet_of, CheckView, Confirmation, GradeChange, KnowledgeGap,
    SignOff, StoredAdjustments, StoredConsensus, StoredDecision, StoredDeclaration, StoredGateway, StoredVivaRecord,
};
use super::Actor;
use crate::db::assessments::ListRow;
use crate::db::models::{AssessmentRow, ModerationRow};
use crate::db::people::{Apprentice, Organisation, User};
use crate::db::sheets::ListedSheet;
use crate::domain::assessment::{GatewayAnswers, KnowledgeRoute, ModerationAction};
use crate::domain::eligibility::Warning;
use crate::domain::gateway::Certificate;
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{Seat, Seating};
use crate::domain::scoring::AgreedItem;
use crate::domain::workflow::{self, DeclarationState, Facts, NextStep, Panel, Status, Todo};
use crate::error::AppResult;

/// One assessment as the contract's `GET /assessments/{id}` shows it, for one viewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    pub id: String,
    pub status: Status,
    pub standard_id: String,
    pub standard_version: String,
    pub apprentice_id: String,
    pub apprentice: Option<ApprenticeView>,
    pub panel: PanelView,
    pub gateway: GatewayView,
    pub viva_record: Option<StoredVivaRecord>,
    pub consensus: Option<StoredConsensus>,
    pub decision: Option<StoredDecision>,
    /// The line manager's and training provider's sign-offs of the agreed scores (a v1
    /// addition; empty when none).
    pub sign_off: Vec<SignOff>,
    /// The reasonable adjustments and special consideration (a v1 addition; null until recorded).
    pub adjustments: Option<StoredAdjustments>,
    /// Moderation's refer-back, from the refer-back until the next decision.
    pub referred_back: Option<ReferredBack>,
    pub grade: Option<String>,
    pub weighted_score: Option<f64>,
    /// Whether an upheld appeal changed its agreed scores (a v1 addition).
    pub amended: bool,
    /// Every outcome it has had, oldest first, the last being `grade`: `[]` until an appeal
    /// amends it (a v1 addition).
    pub grade_history: Vec<GradeChange>,
    pub decided_at: Option<String>,
    pub released_at: Option<String>,
    pub emails: Vec<EmailView>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Which attempt of the apprentice's EPA this is (1 for a first attempt; a v1 addition).
    pub attempt: i32,
    /// The attempt before this one and the attempt after it, or null (v1 additions).
    pub previous_id: Option<String>,
    pub next_id: Option<String>,
    /// For a later attempt, what it was opened with: resit or retake, the components assessed
    /// again, the agreed scores carried over, exceptional circumstances (null for a first attempt).
    pub later_attempt: Option<super::assessments::StoredAttempt>,
    /// What the viewer may do now (a v1 addition).
    pub next_steps: Vec<NextStep>,
    /// The one step the viewer is due to take (the home page's grouping); not in the JSON.
    #[serde(skip)]
    pub todo: Todo,
    /// Who scores and who decides (from the guide); not in the JSON (the standard shows it).
    #[serde(skip)]
    pub seating: Seating,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprenticeView {
    pub id: String,
    pub name: String,
    pub employer_id: String,
    pub training_provider_id: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PanelView {
    pub line_manager_id: String,
    pub training_provider_user_id: String,
    pub independent_assessor_id: Option<String>,
    pub viva_at: Option<String>,
    pub mode: Option<String>,
    pub declaration: Option<StoredDeclaration>,
}

/// The gateway: what is unmet, the guide's checks (who last changed each and when), and once
/// saved the v1 answers and who changed each field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GatewayView {
    #[serde(flatten)]
    #[schema(schema_with = saved_gateway_until_saved)]
    pub saved: Option<SavedGateway>,
    /// What does not hold: v1 field names when the guide takes the v1 fields and no save gave
    /// checks, else the guide's check ids.
    pub unmet: Vec<String>,
    /// The guide's checks, in order (a v1 addition).
    pub checks: Vec<CheckView>,
}

/// [`SavedGateway`]'s fields as [`GatewayView`] shows them: each present once the gateway is
/// saved, none before.
fn saved_gateway_until_saved() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::Schema;
    match <SavedGateway as utoipa::PartialSchema>::schema() {
        utoipa::openapi::RefOr::T(Schema::Object(mut fields)) => {
            fields.required.clear();
            utoipa::openapi::RefOr::T(Schema::Object(fields))
        }
        other => other,
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedGateway {
    pub portfolio_complete: bool,
    pub knowledge_route: Option<KnowledgeRoute>,
    pub knowledge_reference: Option<String>,
    pub english_level2: bool,
    pub maths_level2: bool,
    pub employer_ready: bool,
    pub provider_ready: bool,
    pub knowledge_units: Vec<String>,
    /// Knowledge the named qualification's achieved units do not cover (where the viva probes).
    pub knowledge_gaps: Option<Vec<KnowledgeGap>>,
    /// Whether the units named make the qualification by its rule of combination (null when
    /// nothing was judged).
    pub certificate: Option<Certificate>,
    pub confirmations: BTreeMap<String, Confirmation>,
    pub changes: BTreeMap<&'static str, GatewayChange>,
}

/// Who last changed a gateway field and when, and whether it holds now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GatewayChange {
    pub changed_by: String,
    pub changed_at: String,
    pub holds: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferredBack {
    pub at: String,
    pub by: String,
    pub rationale: String,
    /// The items moderation queries (a v1 addition): only these are open in the consensus.
    /// Empty: the refer-back named none, and every item is open (as in v1).
    pub items: Vec<ItemKey>,
    /// The items that stay agreed as the referred-back decision agreed them (every item the
    /// refer-back did not name; empty when it named none).
    pub kept: Vec<AgreedItem>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmailView {
    pub to: String,
    pub recipient_role: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
}

/// Who sits on the assessment's panel.
pub fn panel_of(row: &AssessmentRow) -> Panel<'_> {
    Panel {
        line_manager: &row.line_manager_id,
        training_provider: &row.training_provider_user_id,
        independent_assessor: row.independent_assessor_id.as_deref(),
    }
}

/// Who scores and who decides on the assessment's panel, as registered from its guide (the v1
/// panel for an assessment registered before the guide said).
pub fn seating_of(row: &AssessmentRow) -> AppResult<Seating> {
    Ok(parse_stored::<Seating>("panel seating", &row.seating_json)?.unwrap_or_default())
}

/// Where the appointed assessor's declaration stands. A panel without the independent assessor
/// has no declaration to make: it holds.
pub fn declaration_state(row: &AssessmentRow) -> AppResult<DeclarationState> {
    let seating = seating_of(row)?;
    // Read only where there is one to make (a save checks this on every change).
    let stored: Option<StoredDeclaration> =
        if seating.has_assessor() { parse_stored("declaration", &row.declaration_json)? } else { None };
    Ok(declaration_state_on(&seating, stored.as_ref(), row.independent_assessor_id.as_deref()))
}

/// Where the declaration `stored` stands on a panel seated as `seating` with `assessor`
/// appointed: it holds on a panel without the independent assessor (there is none to make).
fn declaration_state_on(
    seating: &Seating,
    stored: Option<&StoredDeclaration>,
    assessor: Option<&str>,
) -> DeclarationState {
    if !seating.has_assessor() {
        return DeclarationState::Holds;
    }
    DeclarationState::of(stored.map(|d| (d.holds, d.by.as_str())), assessor)
}

impl AssessmentView {
    /// The seat `user_id` holds on this panel.
    pub fn seat_of(&self, user_id: &str) -> Option<Seat> {
        Panel {
            line_manager: &self.panel.line_manager_id,
            training_provider: &self.panel.training_provider_user_id,
            independent_assessor: self.panel.independent_assessor_id.as_deref(),
        }
        .seat_of(user_id)
    }

    /// Where the appointed assessor's declaration stands (holds when the panel has no
    /// independent assessor: there is none to make).
    pub fn declaration_state(&self) -> DeclarationState {
        declaration_state_on(
            &self.seating,
            self.panel.declaration.as_ref(),
            self.panel.independent_assessor_id.as_deref(),
        )
    }

    /// The declaration holds for the assessor now appointed (as scoring requires).
    pub fn declaration_holds(&self) -> bool {
        self.declaration_state() == DeclarationState::Holds
    }
}

/// The assessment as `actor` sees it, from its row, what was read beside it and its score
/// sheets (behind the viewer's next steps), on its guide. Reads nothing: a list reads what every
/// view of its page needs at once.
pub fn assessment<S: ListedSheet>(actor: &Actor, loaded: &ListRow<S>, guide: &Guide) -> AppResult<AssessmentView> {
    let (row, sheets) = (&loaded.row, &loaded.sheets);
    let status: Status = row.status.parse().map_err(|e: String| anyhow::anyhow!("assessment {}: {e}", row.id))?;
    let apprentice = loaded.apprentice.clone().map(|a| ApprenticeView {
        id: a.id,
        name: a.name,
        employer_id: a.employer_id,
        training_provider_id: a.training_provider_id,
    });
    let gateway: Option<StoredGateway> = parse_stored("gateway", &row.gateway_json)?;
    // Each stored field is read once: the declaration's state and the view share them.
    let seating = seating_of(row)?;
    let declaration: Option<StoredDeclaration> = parse_stored("declaration", &row.declaration_json)?;
    let emails = loaded
        .emails
        .iter()
        .map(|m| EmailView {
            to: m.recipient.clone(),
            recipient_role: m.recipient_role.clone(),
            status: m.status.clone(),
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            sent_at: m.sent_at.clone(),
        })
        .collect();
    let facts = Facts {
        declaration: declaration_state_on(&seating, declaration.as_ref(), row.independent_assessor_id.as_deref()),
        own_sheet_submitted: sheets.iter().find(|s| s.user_id() == actor.id).map(|s| s.submitted_at().is_some()),
        any_sheet_submitted: sheets.iter().any(|s| s.submitted_at().is_some()),
        own_sign_off: false,
        referred_back: false,
    };
    let seat = panel_of(row).seat_of(&actor.id);
    let own_sign_off = seat.is_some_and(|seat| loaded.sign_offs.iter().any(|s| s.seat == seat.as_str()));
    let referred_back = referred_back(loaded.latest_moderation.as_ref(), status)?;
    let facts = Facts { own_sign_off, referred_back: referred_back.is_some(), ..facts };
    // A member whose seat scores, with no sheet saved yet, has one to fill.
    let scorer = seat.filter(|s| seating.scores(*s));
    let facts = Facts { own_sheet_submitted: facts.own_sheet_submitted.or(scorer.map(|_| false)), ..facts };
    Ok(AssessmentView {
        id: row.id.clone(),
        status,
        standard_id: row.standard_id.clone(),
        standard_version: row.standard_version.clone(),
        apprentice_id: row.apprentice_id.clone(),
        apprentice,
        panel: PanelView {
            line_manager_id: row.line_manager_id.clone(),
            training_provider_user_id: row.training_provider_user_id.clone(),
            independent_assessor_id: row.independent_assessor_id.clone(),
            viva_at: row.viva_at.clone(),
            mode: row.viva_mode.clone(),
            declaration,
        },
        gateway: GatewayView {
            unmet: unmet_of(guide, gateway.as_ref()),
            checks: check_views(guide, &gateway.as_ref().map(StoredGateway::states).unwrap_or_default()),
            saved: gateway.map(saved_gateway),
        },
        viva_record: parse_stored("viva record", &row.viva_record_json)?,
        consensus: parse_stored("consensus", &row.consensus_json)?,
        decision: parse_stored("decision", &row.decision_json)?,
        sign_off: loaded.sign_offs.iter().map(SignOff::from).collect(),
        adjustments: parse_stored("adjustments", &row.adjustments_json)?,
        referred_back,
        grade: row.grade.clone(),
        weighted_score: row.weighted_score,
        amended: loaded.appeals.iter().any(super::assessments::amends),
        grade_history: super::assessments::grade_history(row, &loaded.appeals),
        decided_at: row.decided_at.clone(),
        released_at: row.released_at.clone(),
        emails,
        version: row.version,
        created_at: row.created_at.clone(),
        updated_at: row.updated_at.clone(),
        attempt: row.attempt,
        previous_id: row.previous_id.clone(),
        next_id: loaded.next_id.clone(),
        later_attempt: super::assessments::attempt_of(row)?,
        next_steps: workflow::next_steps(status, actor.role, seat, &seating, &facts),
        todo: workflow::todo(status, actor.role, seat, &seating, &facts),
        seating,
    })
}

fn saved_gateway(g: StoredGateway) -> SavedGateway {
    let unmet = g.answers.unmet(g.certificate.as_ref());
    let changes = GatewayAnswers::FIELDS
        .into_iter()
        .filter_map(|f| {
            let c = g.confirmations.get(f)?;
            Some((f, GatewayChange { changed_by: c.by.clone(), changed_at: c.at.clone(), holds: !unmet.contains(&f) }))
        })
        .collect();
    let a = g.answers;
    SavedGateway {
        portfolio_complete: a.portfolio_complete,
        knowledge_route: a.knowledge_route,
        knowledge_reference: a.knowledge_reference,
        english_level2: a.english_level2,
        maths_level2: a.maths_level2,
        employer_ready: a.employer_ready,
        provider_ready: a.provider_ready,
        knowledge_units: a.knowledge_units,
        knowledge_gaps: g.knowledge_gaps,
        certificate: g.certificate,
        confirmations: g.confirmations,
        changes,
    }
}

/// Moderation's refer-back the panel is answering: from the refer-back until the next decision
/// (the assessment is back in `consensus`), else none.
fn referred_back(latest_moderation: Option<&ModerationRow>, status: Status) -> AppResult<Option<ReferredBack>> {
    if status != Status::Consensus {
        return Ok(None);
    }
    match latest_moderation {
        Some(m) if m.action == ModerationAction::ReferBack.as_str() => Ok(Some(ReferredBack {
            at: m.at.clone(),
            by: m.moderator_id.clone(),
            rationale: m.rationale.clone(),
            items: referred_items(m)?,
            kept: kept_of(Some(m), status)?.into_values().collect(),
        })),
        _ => Ok(None),
    }
}

/// A standard in the contract's `GET /standards`: the latest version of its guide.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StandardSummary {
    pub id: String,
    pub title: String,
    /// Null when the guide has no level (a NOS).
    pub level: Option<u32>,
    pub version: String,
}

impl From<&Guide> for StandardSummary {
    fn from(g: &Guide) -> Self {
        StandardSummary { id: g.id.clone(), title: g.title.clone(), level: g.level, version: g.version.clone() }
    }
}

/// `POST /standards`: the guide and version imported (or found again).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedStandard {
    pub id: String,
    pub version: String,
}

impl From<&Guide> for ImportedStandard {
    fn from(g: &Guide) -> Self {
        ImportedStandard { id: g.id.clone(), version: g.version.clone() }
    }
}

/// `POST /organisations`: the organisation created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    pub kind: String,
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        OrganisationView { id: o.id, name: o.name, kind: o.kind }
    }
}

/// `POST /users`: the user created and its token, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewUserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<String>,
    pub token: String,
}

impl From<(User, String)> for NewUserView {
    fn from((u, token): (User, String)) -> Self {
        NewUserView { id: u.id, email: u.email, name: u.name, role: u.role, organisation_id: u.organisation_id, token }
    }
}

/// `POST /apprentices`: the apprentice registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewApprenticeView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub employer_id: String,
    pub training_provider_id: String,
    pub created_at: String,
}

impl From<Apprentice> for NewApprenticeView {
    fn from(a: Apprentice) -> Self {
        NewApprenticeView {
            id: a.id,
            name: a.name,
            email: a.email,
            employer_id: a.employer_id,
            training_provider_id: a.training_provider_id,
            created_at: a.created_at,
        }
    }
}

/// `POST /assessments`: the assessment registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisteredView {
    pub id: String,
    pub status: String,
    pub standard_id: String,
    pub standard_version: String,
    pub apprentice_id: String,
    pub version: i64,
}

impl From<AssessmentRow> for RegisteredView {
    fn from(r: AssessmentRow) -> Self {
        RegisteredView {
            id: r.id,
            status: r.status,
            standard_id: r.standard_id,
            standard_version: r.standard_version,
            apprentice_id: r.apprentice_id,
            version: r.version,
        }
    }
}

/// `PUT /assessments/{id}/panel`: the panel appointed (its version as ETag).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PanelAppointed {
    pub status: String,
    pub independent_assessor_id: Option<String>,
    pub viva_at: Option<String>,
    pub mode: Option<String>,
    pub version: i64,
    /// Why the independent assessor does not meet the assessor register's rules (a v1 addition;
    /// empty when they do, or with `EPA_ASSESSOR_RULES=enforce`, which refuses instead).
    pub warnings: Vec<Warning>,
}

impl PanelAppointed {
    pub fn new(r: AssessmentRow, warnings: Vec<Warning>) -> Self {
        PanelAppointed {
            status: r.status,
            independent_assessor_id: r.independent_assessor_id,
            viva_at: r.viva_at,
            mode: r.viva_mode,
            version: r.version,
            warnings,
        }
    }
}

/// `POST /assessments/{id}/emails/resend`: how many failed emails were queued again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requeued {
    pub requeued: usize,
}
