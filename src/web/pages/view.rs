//! One assessment loaded for a page (the service's typed view, its guide, names for its people),
//! and the small formatting every page shares (status names, dates, roles). Nothing here decides
//! anything: it only words what the services answer.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::attempt::AttemptKind;
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{Seat, Seating};
use crate::domain::scoring::DecidedBy;
use crate::domain::workflow::{NextStep, Status};
use crate::error::AppResult;
use crate::local_time::Zone;
use crate::services::assessments;
use crate::services::standards::Guides;
use crate::services::views::AssessmentView;
use crate::services::{people, Actor};

/// How the pages word an assessment's view (the service's [`AssessmentView`]).
impl AssessmentView {
    /// The status as a person reads it: a decision referred back by moderation says so.
    pub fn status_label(&self) -> &'static str {
        if self.referred_back.is_some() {
            "Referred back"
        } else if self.status == Status::Consensus && self.seating.is_single() {
            // A one-seat panel has nothing to agree: its sheet is in, the decision is next.
            "Scored: decision to record"
        } else {
            status_label(self.status)
        }
    }

    pub fn apprentice_name(&self) -> String {
        self.apprentice.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| "(unknown apprentice)".into())
    }

    /// Every user id the pages may want to name.
    pub fn people(&self) -> Vec<String> {
        let mut ids = vec![self.panel.line_manager_id.clone(), self.panel.training_provider_user_id.clone()];
        ids.extend(self.panel.independent_assessor_id.clone());
        ids.extend(self.gateway.saved.iter().flat_map(|g| g.confirmations.values()).map(|c| c.by.clone()));
        ids.extend(self.gateway.checks.iter().filter_map(|c| c.by.clone()));
        ids.extend(self.panel.declaration.as_ref().map(|d| d.by.clone()));
        ids.extend(self.viva_record.as_ref().map(|v| v.by.clone()));
        ids.extend(self.consensus.as_ref().map(|c| c.by.clone()));
        ids.extend(self.decision.as_ref().map(|d| d.by.clone()));
        ids.extend(self.referred_back.as_ref().map(|r| r.by.clone()));
        ids.extend(self.adjustments.as_ref().map(|a| a.by.clone()));
        ids.sort();
        ids.dedup();
        ids
    }
}

/// "all three", "both", "the one scorer": the seats that score, as a sentence names them.
pub fn all_seats_words(seating: &Seating) -> &'static str {
    match seating.seats.len() {
        1 => "the one scorer",
        2 => "both",
        3 => "all three",
        _ => "every member",
    }
}

/// "the independent assessor": a seat as a sentence names it.
pub fn seat_words(seat: Seat) -> String {
    format!("the {}", super::role_label(seat.as_str()).to_lowercase())
}

/// How an agreed score was reached, as the decision and moderation pages word it.
pub fn decided_by_label(by: DecidedBy, seating: &Seating) -> String {
    match by {
        DecidedBy::Unanimous if seating.is_single() => "As scored".to_string(),
        DecidedBy::Unanimous => {
            let words = all_seats_words(seating);
            let mut chars = words.chars();
            chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
        }
        DecidedBy::Consensus => "Agreed by the panel".to_string(),
        DecidedBy::IndependentAssessor => "The independent assessor's score (no agreement)".to_string(),
        DecidedBy::LineManager => "The line manager's score (no agreement)".to_string(),
        DecidedBy::TrainingProvider => "The training provider's score (no agreement)".to_string(),
        DecidedBy::Appeal => "Amended on appeal".to_string(),
        DecidedBy::CarriedOver => "Carried over from the attempt before".to_string(),
    }
}

/// One assessment loaded for a page: the service's view, its guide, and names for its people.
pub struct Loaded {
    pub data: AssessmentView,
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

    /// Whether the viewer may take `step` now (the service's answer, in the view).
    pub fn may(&self, step: NextStep) -> bool {
        self.data.next_steps.contains(&step)
    }

    /// What every assessment page shows at its top.
    pub fn header(&self) -> Header {
        let d = &self.data;
        Header {
            id: d.id.clone(),
            apprentice: d.apprentice_name(),
            standard: self.guide.title_with_level(),
            status: d.status.as_str().to_string(),
            status_label: d.status_label().to_string(),
            employer: self.employer.clone(),
            provider: self.provider.clone(),
            viva: viva_text(self.zone, d.panel.viva_at.as_deref(), d.panel.mode.as_deref()),
            has_viva: self.guide.viva_required(),
            seat: self.seat.map(|s| super::role_label(s.as_str()).to_string()),
            version: d.version,
            adjustments: d.adjustments.as_ref().map(|a| AdjustmentsShown {
                items: a.items.clone(),
                special_consideration: a.special_consideration.clone(),
                by: self.name(&a.by),
                at: self.zone.when(&a.at),
            }),
            attempt: d.attempt,
            previous_id: d.previous_id.clone(),
            next_id: d.next_id.clone(),
            later_attempt: d.later_attempt.as_ref().map(|a| LaterAttemptShown {
                kind: match a.kind {
                    AttemptKind::Resit => "Resit",
                    AttemptKind::Retake => "Retake",
                },
                components: a.components.iter().map(|c| component_title(&self.guide, c)).collect(),
                carried_over: a
                    .carried_over
                    .iter()
                    .map(|i| CarriedOverShown {
                        criterion: i.criterion.clone(),
                        component: component_title(&self.guide, &i.component),
                        agreed_score: i.agreed_score,
                        descriptor: self.guide.descriptor(i.agreed_score).unwrap_or_default().to_string(),
                    })
                    .collect(),
                exceptional_circumstances: a.exceptional_circumstances,
                reason: a.reason.clone(),
                cap: a.cap().map(str::to_string),
                by: self.name(&a.by),
                at: self.zone.when(&a.at),
            }),
        }
    }
}

/// A later attempt as the pages show it: what is assessed again, what carries over.
#[derive(Debug, Clone, Serialize)]
pub struct LaterAttemptShown {
    pub kind: &'static str,
    /// The components assessed again, by title.
    pub components: Vec<String>,
    pub carried_over: Vec<CarriedOverShown>,
    pub exceptional_circumstances: bool,
    pub reason: Option<String>,
    /// The grade this attempt is capped at (None: no cap, or lifted).
    pub cap: Option<String>,
    pub by: String,
    pub at: String,
}

/// One agreed score carried over from the attempt before.
#[derive(Debug, Clone, Serialize)]
pub struct CarriedOverShown {
    pub criterion: String,
    pub component: String,
    pub agreed_score: i32,
    pub descriptor: String,
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
    /// Whether the guide has a viva (its record required before the decision): else the header
    /// names no viva until one is scheduled.
    pub has_viva: bool,
    /// The viewer's seat on this panel, if any.
    pub seat: Option<String>,
    pub version: i64,
    /// The reasonable adjustments and special consideration, once recorded (the assessment,
    /// viva and score-sheet pages show them to the panel).
    pub adjustments: Option<AdjustmentsShown>,
    /// Which attempt this is, and the attempts before and after it.
    pub attempt: i32,
    pub previous_id: Option<String>,
    pub next_id: Option<String>,
    /// For a later attempt: what it assesses again and what carries over.
    pub later_attempt: Option<LaterAttemptShown>,
}

/// The adjustments as the pages show them: who recorded them by name, when in the zone.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentsShown {
    pub items: Vec<crate::services::assessments::Adjustment>,
    pub special_consideration: Option<String>,
    pub by: String,
    pub at: String,
}

/// Loads an assessment through the service (404 when it is not the actor's to see).
pub fn load(conn: &mut DbConnection, guides: &Guides, actor: &Actor, id: &str, zone: Zone) -> AppResult<Loaded> {
    let (_, data) = assessments::view(conn, guides, actor, id)?;
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

/// An item as a form posts it: `component:criterion` (a viva question's or an evidence record's
/// choices).
pub fn item_value(key: &ItemKey) -> String {
    format!("{}:{}", key.component, key.criterion)
}

/// The items a form posts under `name` (repeated, `component:criterion` each). A value that names
/// nothing goes to the service as it is, which refuses it naming the field.
pub fn posted_items(form: &super::Form, name: &str) -> Vec<ItemKey> {
    form.all(name)
        .iter()
        .map(|v| match v.split_once(':') {
            Some((component, criterion)) => ItemKey::new(component, criterion),
            None => ItemKey::new("", v.as_str()),
        })
        .collect()
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
}
