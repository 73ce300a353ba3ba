//! The consensus console (the panel's tie-breaker leads it, the independent assessor in v1; the
//! panel and staff may watch): the scores of the seats that score side by side, disagreements
//! first with the range highlighted; agree a score or mark a deadlock (the tie-breaker's own score
//! decides). A one-seat panel has no console: its only sheet is the agreed scores. Then the
//! decision page: the grade and weighted score the service resolves, before the decider confirms.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::assessment::Done;
use super::scores::by_item;
use super::view::{all_seats_words, component_title, decided_by_label, seat_words, when, Header, Loaded};
use super::{see_other, Form, FormError, Page, PageError};
use crate::domain::guide::ItemKey;
use crate::domain::permissions::Action;
use crate::domain::scoring::{AgreedItem, DecidedBy, Decision};
use crate::domain::workflow::{NextStep, Step};
use crate::error::AppError;
use crate::services::assessments::{
    self, find_for, resolve_decision, ConsensusInput, ConsensusItemInput, DecisionInput, SheetsView,
};
use crate::services::Input;

#[derive(Debug, Serialize)]
pub struct Cell {
    pub score: Option<i32>,
    /// The lowest of the panel's scores, when they differ.
    pub low: bool,
    /// The highest of the panel's scores, when they differ.
    pub high: bool,
}

#[derive(Debug, Serialize)]
pub struct CommentView {
    pub role: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct AgreeOption {
    pub score: i32,
    pub label: String,
    pub checked: bool,
}

#[derive(Debug, Serialize)]
pub struct ConsensusRow {
    pub key: String,
    pub field: String,
    pub rationale_field: String,
    pub component: String,
    pub criterion: String,
    pub area: String,
    pub cells: Vec<Cell>,
    pub comments: Vec<CommentView>,
    pub min: i32,
    pub max: i32,
    pub range: i32,
    pub disagreement: bool,
    pub options: Vec<AgreeOption>,
    pub deadlock: bool,
    /// The tie-breaker's own score (what a deadlock leaves the item at).
    pub decider_score: Option<i32>,
    pub rationale: String,
    pub agreed: Option<String>,
    pub error: bool,
    /// Not referred back: agreed as before the refer-back, read-only.
    pub kept: bool,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub role: &'static str,
    pub name: String,
    pub submitted: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConsensusView {
    pub header: Header,
    pub notice: Option<&'static str>,
    pub error: Option<FormError>,
    pub sealed: bool,
    /// The seats that score, as the table's columns name them.
    pub seats: Vec<&'static str>,
    /// "the independent assessor": whose own score decides a deadlock.
    pub decider: String,
    /// "all three", "both": the seats that score.
    pub all_seats: &'static str,
    pub members: Vec<Member>,
    pub disagreements: Vec<ConsensusRow>,
    pub agreed: Vec<ConsensusRow>,
    /// After a refer-back naming items: every other item, agreed as before and read-only.
    pub kept: Vec<ConsensusRow>,
    pub notes: String,
    pub can_edit: bool,
    pub recorded: Option<String>,
    pub decision_href: Option<String>,
    /// Moderation's reason for referring the decision back, until the next decision.
    pub referred_back: Option<ReferredBackView>,
}

#[derive(Debug, Serialize)]
pub struct ReferredBackView {
    pub by: String,
    pub at: String,
    pub rationale: String,
    /// The items moderation queries ("criterion (component)"); empty: every item.
    pub items: Vec<String>,
}

/// The items open in the consensus the panel works on now, beside those kept agreed: after a
/// refer-back naming items, the named ones are open (listed even where the three scored alike,
/// so the panel can reconsider them) and the rest are kept; otherwise the disagreements are open.
pub struct OpenItems {
    pub named: Vec<ItemKey>,
    pub kept: BTreeMap<ItemKey, AgreedItem>,
}

impl OpenItems {
    pub fn of(loaded: &Loaded) -> OpenItems {
        match loaded.data.referred_back.as_ref() {
            Some(r) => {
                OpenItems { named: r.items.clone(), kept: r.kept.iter().map(|i| (i.key(), i.clone())).collect() }
            }
            None => OpenItems { named: Vec::new(), kept: BTreeMap::new() },
        }
    }

    /// Whether the console lists `key` to agree, given whether the three scores differ.
    pub fn is_open(&self, key: &ItemKey, differ: bool) -> bool {
        !self.kept.contains_key(key) && (differ || self.named.contains(key))
    }
}

/// Rows for every score item: disagreements first (widest range first, then the guide's order),
/// then the items all three scored alike, then (after a refer-back naming items) the items kept
/// agreed. `posted` re-shows a refused form as it was sent.
pub fn rows(
    loaded: &Loaded,
    sheets: &SheetsView,
    posted: Option<&Form>,
    unresolved: &[String],
) -> (Vec<ConsensusRow>, Vec<ConsensusRow>, Vec<ConsensusRow>) {
    let guide = &loaded.guide;
    let open = OpenItems::of(loaded);
    let scores = by_item(sheets);
    let seating = &loaded.data.seating;
    let seats: Vec<&str> = seating.seats.iter().map(|s| s.as_str()).collect();
    let decider_at = seating.seats.iter().position(|s| *s == seating.decider()).unwrap_or(0);
    let all_seats = all_seats_words(seating);
    let stored = loaded.data.consensus.as_ref().map(|c| &c.consensus);
    let mut rows: Vec<(usize, ConsensusRow, bool)> = Vec::new();
    for (order, key) in guide.score_items().into_iter().enumerate() {
        let by_seat = scores.get(&key);
        let values: Vec<Option<i32>> = seats.iter().map(|s| by_seat.and_then(|m| m.get(s)).map(|x| x.score)).collect();
        let present: Vec<i32> = values.iter().flatten().copied().collect();
        let (min, max) = (present.iter().copied().min().unwrap_or(0), present.iter().copied().max().unwrap_or(0));
        let disagreement = min != max;
        let cells = seats
            .iter()
            .map(|s| {
                let score = by_seat.and_then(|m| m.get(s)).map(|e| e.score);
                Cell { score, low: disagreement && score == Some(min), high: disagreement && score == Some(max) }
            })
            .collect();
        let comments = seats
            .iter()
            .filter_map(|s| {
                let text = by_seat.and_then(|m| m.get(s)).and_then(|e| e.comment.clone())?;
                Some(CommentView { role: super::role_label(s), text })
            })
            .collect();
        let field = format!("a:{}:{}", key.component, key.criterion);
        let rationale_field = format!("r:{}:{}", key.component, key.criterion);
        let saved = stored.and_then(|c| c.items.iter().find(|i| i.key() == key));
        let (choice, rationale) = match posted {
            Some(f) => (Some(f.text(&field)).filter(|v| !v.is_empty()), f.text(&rationale_field)),
            None => (
                saved.map(|i| i.agreed_score.map_or("deadlock".to_string(), |s| s.to_string())),
                saved.map(|i| i.rationale.clone()).unwrap_or_default(),
            ),
        };
        let decider_score = values.get(decider_at).copied().flatten();
        let kept = open.kept.get(&key);
        let agreed = match (disagreement, saved) {
            _ if kept.is_some() => kept.map(|k| format!("{}: kept as agreed before the refer-back", k.agreed_score)),
            (false, _) => Some(format!("{min}: {all_seats}")),
            (true, Some(i)) => Some(match i.agreed_score {
                Some(s) => format!("{s}: agreed"),
                None => format!("{}: {}'s score", decider_score.unwrap_or_default(), seat_words(seating.decider())),
            }),
            (true, None) => None,
        };
        let item_name = key.to_string();
        rows.push((
            order,
            ConsensusRow {
                key: item_name.clone(),
                field,
                rationale_field,
                component: component_title(guide, &key.component),
                criterion: key.criterion.clone(),
                area: guide.criterion(&key.criterion).map(|c| c.area.clone()).unwrap_or_default(),
                cells,
                comments,
                min,
                max,
                range: max - min,
                disagreement,
                options: (guide.scale.min..=guide.scale.max)
                    .map(|s| AgreeOption {
                        score: s,
                        label: guide.descriptor(s).unwrap_or_default().to_string(),
                        checked: choice.as_deref() == Some(s.to_string().as_str()),
                    })
                    .collect(),
                deadlock: choice.as_deref() == Some("deadlock"),
                decider_score,
                rationale,
                agreed,
                error: unresolved.contains(&item_name),
                kept: kept.is_some(),
            },
            open.is_open(&key, disagreement),
        ));
    }
    let (kept, rows): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, r, _)| r.kept);
    let (mut split, rest): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, _, open)| *open);
    split.sort_by(|(oa, a, _), (ob, b, _)| b.range.cmp(&a.range).then(oa.cmp(ob)));
    let strip = |v: Vec<(usize, ConsensusRow, bool)>| v.into_iter().map(|(_, r, _)| r).collect();
    (strip(split), strip(rest), strip(kept))
}

/// The items a refusal names as unresolved (the disagreements the consensus leaves open).
fn unresolved_in(e: &AppError) -> Vec<String> {
    e.fault().map(|f| f.items.clone()).unwrap_or_default()
}

fn members(loaded: &Loaded, sheets: &SheetsView) -> Vec<Member> {
    sheets
        .sheets
        .iter()
        .map(|s| Member {
            role: super::role_label(s.role),
            name: loaded.name(&s.user_id),
            submitted: s.submitted_at.as_deref().map(|t| when(loaded.zone, t)),
        })
        .collect()
}

async fn context(page: &Page, id: &str) -> Result<(Loaded, SheetsView), PageError> {
    let loaded = page.load(id).await?;
    let (actor, target) = (page.actor.clone(), id.to_string());
    let sheets = page.run(move |conn| assessments::view_sheets(conn, &actor, &target)).await?;
    Ok((loaded, sheets))
}

fn console_view(
    loaded: &Loaded,
    sheets: &SheetsView,
    posted: Option<&Form>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> ConsensusView {
    let sealed = !sheets.all_submitted;
    let unresolved = error.map(unresolved_in).unwrap_or_default();
    let (disagreements, agreed, kept) =
        if sealed { (vec![], vec![], vec![]) } else { rows(loaded, sheets, posted, &unresolved) };
    let can_edit = loaded.may(NextStep::RecordConsensus);
    let error = error.map(|e| {
        let mut f = FormError::from_app(e);
        if !unresolved.is_empty() {
            f.message = format!(
                "{} disagreement{} not resolved yet: choose a score for each, or mark that the panel cannot agree.",
                unresolved.len(),
                if unresolved.len() == 1 { " is" } else { "s are" }
            );
        }
        f
    });
    // The decision is offered only once there is nothing left to agree.
    let decision_href =
        (loaded.may(NextStep::Decide) && !sealed && (loaded.data.consensus.is_some() || disagreements.is_empty()))
            .then(|| format!("/assessments/{}/decision", loaded.data.id));
    let seating = &loaded.data.seating;
    ConsensusView {
        header: loaded.header(),
        notice,
        error,
        sealed,
        seats: seating.seats.iter().map(|s| super::role_label(s.as_str())).collect(),
        decider: seat_words(seating.decider()),
        all_seats: all_seats_words(seating),
        members: members(loaded, sheets),
        disagreements,
        agreed,
        kept,
        notes: posted
            .map(|f| f.text("notes"))
            .or_else(|| loaded.data.consensus.as_ref().map(|c| c.consensus.notes.clone()))
            .unwrap_or_default(),
        can_edit,
        recorded: loaded
            .data
            .consensus
            .as_ref()
            .map(|c| format!("{}, {}", loaded.name(&c.by), when(loaded.zone, &c.at))),
        decision_href,
        referred_back: loaded.data.referred_back.as_ref().map(|r| ReferredBackView {
            by: loaded.name(&r.by),
            at: when(loaded.zone, &r.at),
            rationale: r.rationale.clone(),
            items: r
                .items
                .iter()
                .map(|k| format!("{} ({})", k.criterion, component_title(&loaded.guide, &k.component)))
                .collect(),
        }),
    }
}

/// `GET /assessments/{id}/consensus`
pub async fn console_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let (loaded, sheets) = context(&page, path.as_str()).await?;
    if loaded.data.seating.is_single() && loaded.data.referred_back.is_none() {
        // Nothing to agree on a one-seat panel: its only sheet is the agreed scores (unless
        // moderation referred the decision back: then its assessor revises what is queried).
        return Ok(see_other(&format!("/assessments/{}/decision", loaded.data.id)));
    }
    let view = console_view(&loaded, &sheets, None, None, done.message());
    page.render("pages/consensus.html", "Consensus", &view)
}

/// The consensus as posted: every disagreement with a choice (a score, or `deadlock`).
pub fn posted_consensus(disagreements: &[ItemKey], form: &Form) -> ConsensusInput {
    let items = disagreements
        .iter()
        .filter_map(|key| {
            let choice = form.text(&format!("a:{}:{}", key.component, key.criterion));
            let agreed_score = match choice.as_str() {
                "" => return None,
                "deadlock" => None,
                n => Some(n.parse::<i32>().unwrap_or(i32::MIN)),
            };
            Some(ConsensusItemInput {
                component: key.component.clone(),
                criterion: key.criterion.clone(),
                agreed_score,
                rationale: form.text(&format!("r:{}:{}", key.component, key.criterion)),
            })
        })
        .collect();
    ConsensusInput { items, notes: form.text("notes") }
}

/// `POST /assessments/{id}/consensus`
pub async fn console_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let (loaded, sheets) = context(&page, &id).await?;
    let scores = by_item(&sheets);
    let open = OpenItems::of(&loaded);
    let disagreements: Vec<ItemKey> = loaded
        .guide
        .score_items()
        .into_iter()
        .filter(|k| {
            let s: Vec<i32> = scores.get(k).map(|m| m.values().map(|x| x.score).collect()).unwrap_or_default();
            open.is_open(k, s.iter().min() != s.iter().max())
        })
        .collect();
    let input = posted_consensus(&disagreements, &form);
    let (actor, guides, target, if_match) =
        (page.actor.clone(), page.state.guides.clone(), id.clone(), form.if_match());
    let result = page
        .attempt(move |conn| {
            assessments::record_consensus(conn, &guides, &actor, &target, Input::new(Ok(input), if_match))
        })
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/decision?done=consensus"))),
        Err(e) => {
            let view = console_view(&loaded, &sheets, Some(&form), Some(&e), None);
            page.render_status(FormError::status(&e), "pages/consensus.html", "Consensus", &view)
        }
    }
}

// ---- the decision

#[derive(Debug, Serialize)]
pub struct DecisionItem {
    pub component: String,
    pub criterion: String,
    pub agreed_score: i32,
    pub descriptor: String,
    pub decided_by: String,
    /// A deadlock left this item to the tie-breaker's own score.
    pub tie_break: bool,
    /// Every seat scored it alike (on a one-seat panel, every item).
    pub unanimous: bool,
    pub rationale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DecisionView {
    pub header: Header,
    pub notice: Option<&'static str>,
    pub error: Option<FormError>,
    pub problem: Option<String>,
    pub grade: Option<String>,
    /// What the scores alone give when a later attempt's cap lowered the grade.
    pub uncapped_grade: Option<String>,
    pub weighted_score: Option<String>,
    pub items: Vec<DecisionItem>,
    pub unanimous: Vec<DecisionItem>,
    pub tie_breaks: usize,
    /// "the independent assessor": whose own score decides a deadlock.
    pub decider: String,
    /// "all three", "both", "the one scorer": the seats that score.
    pub all_seats: &'static str,
    /// A one-seat panel: no consensus console to go back to (unless referred back).
    pub single: bool,
    /// A one-seat panel: its sheet is the agreed scores ("as scored by the one scorer").
    pub one_scorer: bool,
    pub viva_questions: usize,
    /// Whether the decision waits for the viva record (not when a later attempt carries the viva over).
    pub viva_required: bool,
    pub consensus_notes: Option<String>,
    pub notes: String,
    pub decided: Option<String>,
    pub can_decide: bool,
}

fn decision_items(loaded: &Loaded, decision: &Decision) -> Vec<DecisionItem> {
    let guide = &loaded.guide;
    decision
        .items
        .iter()
        .map(|i| DecisionItem {
            component: component_title(guide, &i.component),
            criterion: i.criterion.clone(),
            agreed_score: i.agreed_score,
            descriptor: guide.descriptor(i.agreed_score).unwrap_or_default().to_string(),
            decided_by: decided_by_label(i.decided_by, &loaded.data.seating),
            tie_break: i.decided_by.is_tie_break(),
            unanimous: i.decided_by == DecidedBy::Unanimous,
            rationale: i.rationale.clone(),
        })
        .collect()
}

async fn decision_view(
    page: &Page,
    id: &str,
    posted: Option<&Form>,
    error: Option<&AppError>,
    notice: Option<&'static str>,
) -> Result<DecisionView, PageError> {
    let loaded = page.load(id).await?;
    let d = &loaded.data;
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.to_string());
    // The recorded decision once there is one; before, what the service would decide now.
    let preview: Result<Decision, String> = match &d.decision {
        Some(stored) => Ok(stored.decision.clone()),
        None if d.status.is_open(Step::Decide) => page
            .attempt(move |conn| {
                let found = find_for(conn, &actor, &target, Action::ViewAssessment)?;
                let guide = guides
                    .get(conn, &found.row.standard_id, &found.row.standard_version)?
                    .ok_or_else(|| anyhow::anyhow!("missing standard"))?;
                resolve_decision(conn, &guide, &found.row)
            })
            .await?
            .map_err(|e| decision_problem(&e)),
        None => Err(
            "There is no decision yet: the panel decides once every score sheet is in and any disagreement is agreed."
                .into(),
        ),
    };
    let viva_questions = d.viva_record.as_ref().map_or(0, |v| v.questions.len());
    let (grade, weighted, all_items, tie_breaks, problem) = match &preview {
        Ok(dec) => (
            Some(dec.grade.clone()),
            Some(format!("{:.2}", dec.weighted_score)),
            decision_items(&loaded, dec),
            dec.tie_breaks(),
            None,
        ),
        Err(message) => (None, None, vec![], 0, Some(message.clone())),
    };
    let (unanimous, items): (Vec<DecisionItem>, Vec<DecisionItem>) = all_items.into_iter().partition(|i| i.unanimous);
    Ok(DecisionView {
        header: loaded.header(),
        unanimous,
        notice,
        error: error.map(FormError::from_app),
        can_decide: loaded.may(NextStep::Decide) && problem.is_none(),
        problem,
        grade,
        uncapped_grade: preview.as_ref().ok().and_then(|d| d.uncapped_grade.clone()),
        weighted_score: weighted,
        items,
        tie_breaks,
        decider: seat_words(d.seating.decider()),
        all_seats: all_seats_words(&d.seating),
        // No console to go back to on a one-seat panel, unless its decision was referred back.
        single: d.seating.is_single() && d.referred_back.is_none(),
        one_scorer: d.seating.is_single(),
        viva_questions,
        viva_required: crate::services::assessments::viva_record_required(&loaded.guide, d.later_attempt.as_ref()),
        consensus_notes: d.consensus.as_ref().map(|c| c.consensus.notes.clone()).filter(|n| !n.is_empty()),
        notes: posted.map(|f| f.text("notes")).unwrap_or_default(),
        decided: d
            .decision
            .as_ref()
            .map(|s| format!("{}, {}: {}", loaded.name(&s.by), when(loaded.zone, &s.at), s.notes)),
    })
}

/// Why there is no decision to confirm yet, in words (the service's refusal names API fields).
fn decision_problem(e: &AppError) -> String {
    let unresolved = unresolved_in(e);
    if unresolved.is_empty() {
        return FormError::from_app(e).message;
    }
    format!(
        "The panel has not agreed {} yet ({}): agree a score for each on the consensus console, or mark that the panel cannot agree, and save the consensus. Then the decision can be confirmed.",
        if unresolved.len() == 1 { "1 disagreement".to_string() } else { format!("{} disagreements", unresolved.len()) },
        unresolved.join(", ")
    )
}

/// `GET /assessments/{id}/decision`
pub async fn decision_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let view = decision_view(&page, path.as_str(), None, None, done.message()).await?;
    page.render("pages/decision.html", "Decision", &view)
}

/// `POST /assessments/{id}/decision`
pub async fn decision_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let input = DecisionInput { notes: form.text("notes") };
    let (actor, guides, target, if_match) =
        (page.actor.clone(), page.state.guides.clone(), id.clone(), form.if_match());
    let result = page
        .attempt(move |conn| assessments::decide(conn, &guides, &actor, &target, Input::new(Ok(input), if_match)))
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}?done=decided"))),
        Err(e) => {
            let view = decision_view(&page, &id, Some(&form), Some(&e), None).await?;
            page.render_status(FormError::status(&e), "pages/decision.html", "Decision", &view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_consensus_lists_the_chosen_disagreements() {
        let keys = vec![ItemKey::new("project", "S1"), ItemKey::new("viva", "K1"), ItemKey::new("viva", "K4")];
        let form = Form(
            [("a:project:S1", "4"), ("r:project:S1", "strong"), ("a:viva:K1", "deadlock"), ("notes", " n ")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        let input = posted_consensus(&keys, &form);
        assert_eq!(input.items.len(), 2, "an item without a choice is left for the service to name");
        assert_eq!(input.items[0].agreed_score, Some(4));
        assert_eq!(input.items[0].rationale, "strong");
        assert_eq!(input.items[1].agreed_score, None);
        assert_eq!(input.notes, "n");
    }

    #[test]
    fn unresolved_items_are_read_from_the_refusal() {
        use crate::error::ErrorCode;
        let e = AppError::bad_input(
            ErrorCode::UnresolvedItems,
            "these disagreements are not resolved: project/S1, viva/K4 (give an agreed_score, or null where the panel cannot agree)",
        )
        .at("items")
        .with_items(vec!["project/S1".into(), "viva/K4".into()]);
        assert_eq!(unresolved_in(&e), vec!["project/S1".to_string(), "viva/K4".to_string()]);
        let said = decision_problem(&e);
        assert!(said.starts_with("The panel has not agreed 2 disagreements yet (project/S1, viva/K4)"), "{said}");
        assert!(!said.contains("agreed_score") && !said.contains("null"), "{said}");
    }
}
