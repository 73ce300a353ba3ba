//! The viva page: preparation from the guide (the criteria the viva covers, the knowledge gaps
//! the gateway found) and the record of questions and responses.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, path_id, Done};
use crate::domain::assessment::{KnowledgeRoute, VivaQuestion};
use crate::domain::guide::Guide;
use crate::domain::workflow::NextStep;
use crate::services::assessments::{self, VivaRecordInput};
use crate::services::Input;
use crate::web::pages::view::{component_title, item_value, kind_label, posted_items, when, Header, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

#[derive(Serialize)]
struct PrepCriterion {
    id: String,
    area: String,
    requirement: Option<String>,
    indicators: Vec<String>,
    also_in: Vec<String>,
}

#[derive(Serialize)]
struct PrepGroup {
    kind: &'static str,
    heading: &'static str,
    criteria: Vec<PrepCriterion>,
}

#[derive(Serialize)]
struct QuestionRow {
    n: usize,
    question: String,
    response: String,
    /// The items it probes, as `component:criterion` (the choices' values).
    chosen: Vec<String>,
    /// The same, as a person reads them.
    probes: Vec<String>,
}

/// The items a question may name, by component (the choices of each question's list).
#[derive(Serialize)]
struct ItemChoices {
    title: String,
    items: Vec<ItemChoice>,
}

#[derive(Serialize)]
struct ItemChoice {
    value: String,
    label: String,
}

fn question_row(guide: &Guide, n: usize, q: VivaQuestion) -> QuestionRow {
    QuestionRow {
        n,
        chosen: q.criteria.iter().map(item_value).collect(),
        probes: q
            .criteria
            .iter()
            .map(|k| format!("{} ({})", k.criterion, component_title(guide, &k.component)))
            .collect(),
        question: q.question,
        response: q.response,
    }
}

#[derive(Serialize)]
struct VivaView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    component: String,
    knowledge_route: Option<String>,
    /// Knowledge areas the qualification's achieved units do not cover (from the gateway).
    knowledge_gaps: Vec<crate::services::assessments::KnowledgeGap>,
    groups: Vec<PrepGroup>,
    questions: Vec<QuestionRow>,
    choices: Vec<ItemChoices>,
    new_chosen: Vec<String>,
    recorded_by: Option<String>,
    can_record: bool,
    new_question: String,
    new_response: String,
    /// The guide's notes for the panel (scope, values, …).
    guide_notes: Vec<crate::domain::guide::Note>,
}

fn viva_view(
    loaded: &Loaded,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> VivaView {
    let guide = &loaded.guide;
    let component = guide.viva_component();
    let cid = component.map(|c| c.id.clone()).unwrap_or_default();
    let mut groups: BTreeMap<u8, PrepGroup> = BTreeMap::new();
    for c in guide.criteria.iter().filter(|c| c.methods.contains(&cid)) {
        let (order, kind) = match c.kind.as_str() {
            "knowledge" => (0, "knowledge"),
            "skill" => (1, "skill"),
            "behaviour" => (2, "behaviour"),
            _ => (3, "other"),
        };
        let group =
            groups.entry(order).or_insert_with(|| PrepGroup { kind, heading: kind_label(kind), criteria: vec![] });
        group.criteria.push(PrepCriterion {
            id: c.id.clone(),
            area: c.area.clone(),
            requirement: c.requirement.clone(),
            indicators: c.indicators.clone(),
            also_in: c
                .methods
                .iter()
                .filter(|m| **m != cid && guide.component(m).is_some())
                .map(|m| component_title(guide, m))
                .collect(),
        });
    }
    let d = &loaded.data;
    // After a refusal the rows are shown as posted, unless someone else saved the record
    // meanwhile (412): then theirs is shown, with this person's new question kept below it.
    let stale = error.as_ref().is_some_and(|e| e.stale);
    let questions: Vec<QuestionRow> = match posted.filter(|_| !stale) {
        Some(form) => {
            posted_questions(form).into_iter().enumerate().map(|(i, q)| question_row(guide, i + 1, q)).collect()
        }
        None => d
            .viva_record
            .as_ref()
            .map(|v| v.questions.iter().enumerate().map(|(i, q)| question_row(guide, i + 1, q.clone())).collect())
            .unwrap_or_default(),
    };
    let saved = d.gateway.saved.as_ref();
    let reference = || saved.and_then(|s| s.knowledge_reference.clone()).unwrap_or_default();
    VivaView {
        guide_notes: guide.notes.clone(),
        header: loaded.header(),
        notice,
        error,
        component: component.map(|c| component_title(guide, &c.id)).unwrap_or_default(),
        knowledge_gaps: saved.and_then(|s| s.knowledge_gaps.clone()).unwrap_or_default(),
        knowledge_route: match saved.and_then(|s| s.knowledge_route) {
            Some(KnowledgeRoute::Qualification) => Some(format!(
                "Knowledge was shown by a regulated qualification ({}): probe the areas it does not cover.",
                reference()
            )),
            Some(KnowledgeRoute::Assessment) => {
                Some(format!("Knowledge was shown by an alternative assessment ({}).", reference()))
            }
            None => None,
        },
        groups: groups.into_values().collect(),
        questions,
        recorded_by: d.viva_record.as_ref().map(|v| format!("{}, {}", loaded.name(&v.by), when(loaded.zone, &v.at))),
        can_record: loaded.may(NextStep::RecordViva),
        choices: item_choices(guide),
        new_chosen: posted.map(|f| f.all("new_criteria")).unwrap_or_default(),
        new_question: posted.map(|f| f.text("new_question")).unwrap_or_default(),
        new_response: posted.map(|f| f.text("new_response")).unwrap_or_default(),
    }
}

fn item_choices(guide: &Guide) -> Vec<ItemChoices> {
    let mut out: Vec<ItemChoices> = Vec::new();
    for key in guide.score_items() {
        if out.last().is_none_or(|c| c.title != component_title(guide, &key.component)) {
            out.push(ItemChoices { title: component_title(guide, &key.component), items: vec![] });
        }
        let area = guide.criterion(&key.criterion).map(|c| c.area.clone()).unwrap_or_default();
        if let Some(group) = out.last_mut() {
            group.items.push(ItemChoice { value: item_value(&key), label: format!("{} · {area}", key.criterion) });
        }
    }
    out
}

/// The record as posted: the existing rows (`question_N`/`response_N`/`criteria_N`; a row whose
/// question is emptied is removed) and then the new one.
pub fn posted_questions(form: &Form) -> Vec<VivaQuestion> {
    let mut out = Vec::new();
    for n in 1..=500 {
        let Some(question) = form.get(&format!("question_{n}")) else { break };
        let response = form.text(&format!("response_{n}"));
        if !question.trim().is_empty() {
            let criteria = posted_items(form, &format!("criteria_{n}"));
            out.push(VivaQuestion { question: question.trim().to_string(), response, criteria });
        }
    }
    let new_q = form.text("new_question");
    if !new_q.is_empty() {
        let criteria = posted_items(form, "new_criteria");
        out.push(VivaQuestion { question: new_q, response: form.text("new_response"), criteria });
    }
    out
}

/// `GET /assessments/{id}/viva`
pub async fn viva_page(page: Page, path: web::Path<String>, done: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let loaded = page.load(&path_id(&path)).await?;
    let view = viva_view(&loaded, None, None, done.message());
    page.render("pages/viva.html", "Viva", &view)
}

/// `POST /assessments/{id}/viva`: saves the whole record (the rows shown plus the new one).
pub async fn viva_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let input = VivaRecordInput { questions: posted_questions(&form) };
    let (actor, target, if_match, guides) =
        (page.actor.clone(), id.clone(), form.if_match(), page.state.guides.clone());
    let result = page
        .attempt(move |conn| assessments::record_viva(conn, &guides, &actor, &target, Input::new(Ok(input), if_match)))
        .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/viva?done=viva#new-question"))),
        Err(e) => {
            let loaded = page.load(&id).await?;
            let view = viva_view(&loaded, Some(&form), Some(FormError::from_app(&e)), None);
            page.render_status(e_status(&e), "pages/viva.html", "Viva", &view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_viva_record_is_the_rows_shown_plus_the_new_one() {
        let f = form(&[
            ("question_1", "Why?"),
            ("response_1", "Because."),
            ("question_2", "  "),
            ("response_2", "dropped"),
            ("question_3", "How?"),
            ("new_question", "And then?"),
            ("new_response", "It worked."),
        ]);
        let q = posted_questions(&f);
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].question, "Why?");
        assert_eq!(q[1].response, "");
        assert_eq!(q[2].response, "It worked.");
        assert!(posted_questions(&form(&[])).is_empty());
    }
}
