//! Moderation: the queue of decided assessments, those that deserve a look first at the top
//! (tie-breaks, distinctions, not achieved, large spreads between scorers); one assessment's
//! decision to confirm or refer back; and released outcomes with their email delivery.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::assessment::{email_rows, sign_off_lines, Done, EmailRow, SignOffLine};
use super::consensus::{rows, ConsensusRow};
use super::scores::by_item;
use super::view::{all_seats_words, component_title, day, decided_by_label, seat_words, status_label, when, Header};
use super::{see_other, Form, FormError, Page, PageError};
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{Role, Seat};
use crate::domain::workflow::{NextStep, Status, Step};
use crate::error::AppError;
use crate::services::assessments::{self, ModerationInput, SheetsView};
use crate::services::views::AssessmentView;
use crate::services::Input;

/// A spread of this many points or more between the panel's scores on one item is worth a look
/// (the external-verification sample's wide spread: one rule, in the domain).
pub const LARGE_SPREAD: i32 = crate::domain::verification::WIDE_SPREAD;

/// Why a decided assessment deserves a moderator's look, most telling first.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Flags {
    pub tie_breaks: usize,
    /// The seat whose own score decided them (the independent assessor in v1).
    pub tie_breaker: Option<Seat>,
    pub top_grade: bool,
    pub lowest_grade: bool,
    pub widest_spread: i32,
}

impl Flags {
    pub fn of(guide: &Guide, data: &AssessmentView, sheets: &SheetsView) -> Self {
        let decision = data.decision.as_ref().map(|d| &d.decision);
        let grade = data.grade.as_deref().or(decision.map(|d| d.grade.as_str()));
        let grades = &guide.grading.grades;
        let widest_spread = by_item(sheets)
            .values()
            .map(|by_seat| crate::domain::scoring::spread(by_seat.values().map(|s| s.score)))
            .max()
            .unwrap_or(0);
        Flags {
            tie_breaks: decision.map_or(0, crate::domain::scoring::Decision::tie_breaks),
            tie_breaker: data.seating.tie_breaker,
            top_grade: grades.len() > 1 && grade.is_some_and(|g| grades.last().is_some_and(|t| t.name == g)),
            lowest_grade: grade.is_some_and(|g| grades.first().is_some_and(|l| l.name == g)),
            widest_spread,
        }
    }

    /// How much this deserves a look: one point per reason.
    pub fn weight(&self) -> usize {
        usize::from(self.tie_breaks > 0)
            + usize::from(self.top_grade)
            + usize::from(self.lowest_grade)
            + usize::from(self.widest_spread >= LARGE_SPREAD)
    }

    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.tie_breaks > 0 {
            out.push(format!(
                "{} item{} decided by {}",
                self.tie_breaks,
                if self.tie_breaks == 1 { "" } else { "s" },
                self.tie_breaker.map_or_else(|| "the tie-breaker".to_string(), seat_words)
            ));
        }
        if self.top_grade {
            out.push("highest grade".into());
        }
        if self.lowest_grade {
            out.push("not achieved".into());
        }
        if self.widest_spread >= LARGE_SPREAD {
            out.push(format!("scores {} points apart on an item", self.widest_spread));
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct QueueRow {
    pub id: String,
    pub apprentice: String,
    pub standard: String,
    pub grade: String,
    pub weighted_score: String,
    pub decided: String,
    pub reasons: Vec<String>,
    pub weight: usize,
    #[serde(skip)]
    pub decided_at: String,
}

#[derive(Debug, Serialize)]
pub struct ReleasedRow {
    pub id: String,
    pub apprentice: String,
    pub grade: String,
    pub released: String,
    pub emails: Vec<EmailRow>,
    pub all_delivered: bool,
}

#[derive(Debug, Serialize)]
pub struct QueueView {
    pub queue: Vec<QueueRow>,
    pub released: Vec<ReleasedRow>,
    pub can_moderate: bool,
}

/// Those that deserve a look first, then the oldest decision first.
pub fn order_queue(rows: &mut [QueueRow]) {
    rows.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.decided_at.cmp(&b.decided_at)));
}

/// `GET /moderation`
pub async fn queue_page(page: Page) -> Result<HttpResponse, PageError> {
    if !page.actor.role.is_staff() {
        return Err(page.fail(&AppError::forbidden("moderation is for the assessment body's moderators")));
    }
    let (actor, guides, zone) = (page.actor.clone(), page.state.guides.clone(), page.pages.zone);
    let (mut queue, released) = page
        .run(move |conn| {
            let mut queue = Vec::new();
            let mut released = Vec::new();
            // Only decided and released assessments are shown: the others are not read at all.
            let statuses = [Status::Decided.as_str(), Status::Released.as_str()];
            let loaded = assessments::list_loaded(conn, &actor, Some(&statuses), &assessments::Page::default())?;
            for l in &loaded {
                let guide = guides.get(conn, &l.row.standard_id, &l.row.standard_version)?;
                let data = match &guide {
                    Some(g) => crate::services::views::assessment(&actor, l, g)?,
                    None => Err(anyhow::anyhow!("assessment {} names a missing standard version", l.row.id))?,
                };
                let standard = guide.as_ref().map(|g| g.title.clone()).unwrap_or_default();
                // The workflow says which group: awaiting moderation, or released.
                if data.status.is_open(Step::Moderate) {
                    let sheets = assessments::sheets_view_of(&actor, l)?;
                    let flags = guide.as_ref().map(|g| Flags::of(g, &data, &sheets)).unwrap_or_default();
                    queue.push(QueueRow {
                        id: data.id.clone(),
                        apprentice: data.apprentice_name(),
                        standard,
                        grade: data.grade.clone().unwrap_or_default(),
                        weighted_score: data.weighted_score.map(|w| format!("{w:.2}")).unwrap_or_default(),
                        decided: data.decided_at.as_deref().map(|t| day(zone, t)).unwrap_or_default(),
                        reasons: flags.reasons(),
                        weight: flags.weight(),
                        decided_at: data.decided_at.clone().unwrap_or_default(),
                    });
                } else if data.status.is_released() {
                    let emails = email_rows(zone, &data.emails);
                    released.push(ReleasedRow {
                        id: data.id.clone(),
                        apprentice: data.apprentice_name(),
                        grade: data.grade.clone().unwrap_or_default(),
                        released: data.released_at.as_deref().map(|t| day(zone, t)).unwrap_or_default(),
                        all_delivered: emails.iter().all(|e| e.status == "sent" || e.status == "written"),
                        emails,
                    });
                }
            }
            Ok((queue, released))
        })
        .await?;
    order_queue(&mut queue);
    let view = QueueView { queue, released, can_moderate: page.actor.role == Role::Moderator };
    page.render("pages/moderation.html", "Moderation", &view)
}

#[derive(Debug, Serialize)]
struct ModerateView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    grade: Option<String>,
    weighted_score: Option<String>,
    reasons: Vec<String>,
    items: Vec<ConsensusRow>,
    alike: Vec<ConsensusRow>,
    /// The seats that score, abbreviated for the table's columns ("LM", with the role as title).
    seats: Vec<(&'static str, &'static str)>,
    /// "all three", "both", "the one scorer".
    all_seats: &'static str,
    consensus_notes: String,
    decision_notes: String,
    decided: Option<String>,
    viva_questions: usize,
    can_moderate: bool,
    action: String,
    rationale: String,
    emails: Vec<EmailRow>,
    sign_offs: Vec<SignOffLine>,
    status_label: &'static str,
    /// The score items a refer-back may name (`query` checkboxes, value `component:criterion`).
    queryable: Vec<QueryOption>,
}

/// A seat in a narrow table's column heading.
fn seat_abbreviation(seat: Seat) -> &'static str {
    match seat {
        Seat::LineManager => "LM",
        Seat::TrainingProvider => "TP",
        Seat::IndependentAssessor => "IA",
    }
}

/// A score item a form may query (a `query` checkbox, value `component:criterion`).
#[derive(Debug, Serialize)]
pub struct QueryOption {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The guide's score items as `query` checkboxes, those in `ticked` ticked.
pub fn query_options(guide: &Guide, ticked: &[ItemKey]) -> Vec<QueryOption> {
    guide
        .score_items()
        .into_iter()
        .map(|k| QueryOption {
            value: format!("{}:{}", k.component, k.criterion),
            label: item_label(guide, &k.component, &k.criterion),
            checked: ticked.contains(&k),
        })
        .collect()
}

/// A score item in words: "criterion (component's title)".
pub fn item_label(guide: &Guide, component: &str, criterion: &str) -> String {
    format!("{criterion} ({})", component_title(guide, component))
}

/// The items a form names (`query` checkboxes, `component:criterion`).
pub fn queried_items(form: &Form) -> Vec<ItemKey> {
    form.all("query")
        .iter()
        .map(|v| match v.split_once(':') {
            Some((component, criterion)) => ItemKey::new(component, criterion),
            None => ItemKey::new(v.as_str(), ""),
        })
        .collect()
}

async fn moderate_view(
    page: &Page,
    id: &str,
    posted: Option<&Form>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> Result<ModerateView, PageError> {
    let loaded = page.load(id).await?;
    let (actor, target) = (page.actor.clone(), id.to_string());
    let sheets = page.run(move |conn| assessments::view_sheets(conn, &actor, &target)).await?;
    let d = &loaded.data;
    let flags = Flags::of(&loaded.guide, d, &sheets);
    let (mut disagreements, agreed, _) =
        if sheets.all_submitted { rows(&loaded, &sheets, None, &[]) } else { (vec![], vec![], vec![]) };
    // What the decision says for each item (the agreed score and who decided it).
    if let Some(decision) = d.decision.as_ref() {
        for row in disagreements.iter_mut() {
            if let Some(item) = decision.decision.items.iter().find(|i| i.key().to_string() == row.key) {
                row.agreed = Some(format!(
                    "{}: {}",
                    item.agreed_score,
                    decided_by_label(item.decided_by, &d.seating).to_lowercase()
                ));
                row.rationale = item.rationale.clone().unwrap_or_default();
            }
        }
    }
    Ok(ModerateView {
        header: loaded.header(),
        notice,
        error: error.map(FormError::from_app),
        grade: d.grade.clone(),
        weighted_score: d.weighted_score.map(|w| format!("{w:.2}")),
        reasons: flags.reasons(),
        items: disagreements,
        alike: agreed,
        seats: d.seating.seats.iter().map(|s| (seat_abbreviation(*s), super::role_label(s.as_str()))).collect(),
        all_seats: all_seats_words(&d.seating),
        consensus_notes: d.consensus.as_ref().map(|c| c.consensus.notes.clone()).unwrap_or_default(),
        decision_notes: d.decision.as_ref().map(|s| s.notes.clone()).unwrap_or_default(),
        decided: d.decision.as_ref().map(|s| format!("{}, {}", loaded.name(&s.by), when(loaded.zone, &s.at))),
        viva_questions: d.viva_record.as_ref().map_or(0, |v| v.questions.len()),
        can_moderate: loaded.may(NextStep::Moderate),
        action: posted.map(|f| f.text("action")).unwrap_or_default(),
        rationale: posted.map(|f| f.text("rationale")).unwrap_or_default(),
        emails: email_rows(loaded.zone, &d.emails),
        sign_offs: sign_off_lines(&loaded),
        status_label: status_label(d.status),
        queryable: query_options(&loaded.guide, &posted.map(queried_items).unwrap_or_default()),
    })
}

/// `GET /assessments/{id}/moderation`
pub async fn moderate_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let view = moderate_view(&page, path.as_str(), None, None, done.message()).await?;
    page.render("pages/moderate.html", "Moderate", &view)
}

/// `POST /assessments/{id}/moderation`
pub async fn moderate_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let items = if form.text("action") == "refer_back" { queried_items(&form) } else { Vec::new() };
    let input = ModerationInput { action: form.text("action"), rationale: form.text("rationale"), items };
    let confirm = input.action == "confirm";
    let (actor, target, if_match) = (page.actor.clone(), id.clone(), form.if_match());
    let (guides, composer) = (page.state.guides.clone(), page.state.composer.clone());
    let result = page
        .attempt(move |conn| {
            assessments::moderate(conn, &guides, &composer, &actor, &target, Input::new(Ok(input), if_match))
        })
        .await?;
    match result {
        Ok(_) => {
            page.state.mail_queued.notify_one();
            let done = if confirm { "confirmed" } else { "referred" };
            Ok(see_other(&format!("/assessments/{id}/moderation?done={done}")))
        }
        Err(e) => {
            let view = moderate_view(&page, &id, Some(&form), Some(&e), None).await?;
            page.render_status(FormError::status(&e), "pages/moderate.html", "Moderate", &view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, weight: usize, at: &str) -> QueueRow {
        QueueRow {
            id: id.into(),
            apprentice: String::new(),
            standard: String::new(),
            grade: String::new(),
            weighted_score: String::new(),
            decided: String::new(),
            reasons: vec![],
            weight,
            decided_at: at.into(),
        }
    }

    #[test]
    fn what_deserves_a_look_comes_first_then_the_oldest() {
        let mut rows =
            vec![row("plain-old", 0, "1"), row("flagged-new", 2, "3"), row("flagged-old", 2, "2"), row("one", 1, "0")];
        order_queue(&mut rows);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["flagged-old", "flagged-new", "one", "plain-old"]);
    }

    #[test]
    fn flags_say_why_in_words() {
        let f = Flags {
            tie_breaks: 2,
            tie_breaker: Some(Seat::IndependentAssessor),
            top_grade: true,
            lowest_grade: false,
            widest_spread: 3,
        };
        assert_eq!(f.weight(), 3);
        let reasons = f.reasons().join("; ");
        assert!(reasons.contains("2 items decided by the independent assessor"), "{reasons}");
        let by_lm = Flags { tie_breaks: 1, tie_breaker: Some(Seat::LineManager), ..Flags::default() };
        assert_eq!(by_lm.reasons(), ["1 item decided by the line manager"]);
        assert!(reasons.contains("3 points apart"), "{reasons}");
        assert_eq!(Flags::default().weight(), 0);
    }
}
