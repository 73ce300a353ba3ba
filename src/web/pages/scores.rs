//! The score sheet: every score item grouped by component and area, the scale as radio buttons
//! with the guide's descriptors, the criterion's indicators at hand, a comment per item. Drafts
//! are saved by the "Save draft" button, or as you go by `autosave.js` posting the changed items
//! to the same address. A review step lists what is missing before the final submit. Other
//! members' scores are never on this page: the service seals them until every seat that scores has submitted.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::assessment::Done;
use super::view::{component_title, when, Header, Loaded};
use super::{see_other, Form, FormError, Page, PageError};
use crate::domain::guide::{Guide, ItemKey};

use crate::domain::attempt;
use crate::domain::scoring::{self, Kept, ScoreEntry, Sheet};
use crate::domain::workflow::{NextStep, Step};
use crate::error::AppError;
use crate::services::assessments::{
    self, EvidenceRecord, ScoreItemInput, ScoresInput, SheetsView, StoredScore, StoredVivaRecord,
};
use crate::services::Input;

/// Form field names for one item: `s:component:criterion` (score), `c:…` (comment).
pub fn score_field(key: &ItemKey) -> String {
    format!("s:{}:{}", key.component, key.criterion)
}

pub fn comment_field(key: &ItemKey) -> String {
    format!("c:{}:{}", key.component, key.criterion)
}

/// The anchor of an item on the sheet.
pub fn anchor(key: &ItemKey) -> String {
    format!("item-{}-{}", key.component, key.criterion).replace('.', "_")
}

/// What a posted sheet holds: the items with a score (to save), and those with only a comment
/// (which cannot be saved without a score).
#[derive(Debug, Default)]
pub struct PostedSheet {
    pub scores: Vec<ScoreItemInput>,
    pub comment_only: Vec<ItemKey>,
    /// A score field that is not a whole number.
    pub unreadable: Vec<ItemKey>,
}

pub fn read_posted(guide: &Guide, form: &Form) -> PostedSheet {
    let mut out = PostedSheet::default();
    for key in guide.score_items() {
        let score = form.text(&score_field(&key));
        let comment = form.get(&comment_field(&key)).map(|c| c.trim().to_string());
        if score.is_empty() {
            if comment.as_deref().is_some_and(|c| !c.is_empty()) {
                out.comment_only.push(key);
            }
            continue;
        }
        match score.parse::<i64>() {
            Ok(score) => out.scores.push(ScoreItemInput {
                component: key.component.clone(),
                criterion: key.criterion.clone(),
                score,
                comment,
            }),
            Err(_) => out.unreadable.push(key),
        }
    }
    out
}

/// One radio button of an item's scale: only the number; what it means is in the sheet's one
/// scale key (`SheetPageView::scale`), not repeated in every item.
#[derive(Debug, Serialize)]
pub struct ScaleOption {
    pub score: i32,
    pub checked: bool,
}

/// The scale's key, shown once above the items.
#[derive(Debug, Serialize)]
pub struct ScaleKey {
    pub score: i32,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct ItemView {
    pub anchor: String,
    pub criterion: String,
    pub title: Option<String>,
    pub kind: String,
    pub area: String,
    pub requirement: Option<String>,
    pub indicators: Vec<String>,
    pub score_field: String,
    pub comment_field: String,
    pub options: Vec<ScaleOption>,
    pub score: Option<i32>,
    pub comment: String,
    pub missing: bool,
    /// The evidence records that name this item, and the viva questions that probe it.
    pub evidence: Vec<EvidenceLine>,
    pub probed_by: Vec<String>,
}

/// One evidence record as the sheet shows it beside an item.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceLine {
    /// The record's anchor on the evidence page.
    pub anchor: String,
    pub kind: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct AreaView {
    pub area: String,
    /// The area's heading is left out when it only repeats the section's title.
    pub heading: bool,
    pub items: Vec<ItemView>,
}

/// A section of a component's items: one of the guide's `[[groups]]` (a NOS section, a unit), or
/// the component's items without a group (no title: they read as before groups existed).
#[derive(Debug, Serialize)]
pub struct SectionView {
    pub anchor: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The jump list's label: the section's title, or the component's for items without a group.
    pub label: String,
    pub scored: usize,
    pub total: usize,
    pub areas: Vec<AreaView>,
}

#[derive(Debug, Serialize)]
pub struct ComponentView {
    pub id: String,
    pub title: String,
    pub weight: u32,
    pub sections: Vec<SectionView>,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct MemberState {
    pub role: &'static str,
    pub name: String,
    pub submitted: Option<String>,
    pub is_me: bool,
}

#[derive(Debug, Serialize)]
pub struct SheetPageView {
    pub header: Header,
    pub notice: Option<&'static str>,
    pub error: Option<FormError>,
    pub warnings: Vec<String>,
    pub components: Vec<ComponentView>,
    pub scale: Vec<ScaleKey>,
    /// The anchor of the first item still to score (the "next unscored item" link without the
    /// page script); none when every item is scored.
    pub next_unscored: Option<String>,
    pub total: usize,
    pub scored: usize,
    pub editable: bool,
    pub submitted: bool,
    pub blocked: Option<&'static str>,
    pub members: Vec<MemberState>,
    pub all_submitted: bool,
    /// A one-seat panel: the sheet is the agreed scores, the decision follows it.
    pub single: bool,
    /// "all three", "both": the seats that score.
    pub all_seats: &'static str,
    pub autosave_key: String,
    pub scale_min: i32,
    pub scale_max: i32,
}

/// What the sheet shows beside each item besides its score: evidence records and viva
/// questions naming it.
#[derive(Debug, Default)]
pub struct Beside {
    pub evidence: HashMap<ItemKey, Vec<EvidenceLine>>,
    pub probed_by: HashMap<ItemKey, Vec<String>>,
}

/// The anchor of an evidence record on the evidence page.
pub fn evidence_anchor(id: &str) -> String {
    format!("evidence-{id}")
}

/// How much of a viva question the sheet shows beside an item.
const QUESTION_SHOWN: usize = 160;

/// What the sheet shows beside each item: the evidence records naming it, and the viva questions
/// that probe it.
pub fn beside(evidence: &[EvidenceRecord], viva: Option<&StoredVivaRecord>) -> Beside {
    let mut out = Beside::default();
    for record in evidence {
        for key in &record.criteria {
            let line = EvidenceLine {
                anchor: evidence_anchor(&record.id),
                kind: record.kind_title.clone(),
                title: record.title.clone(),
            };
            out.evidence.entry(key.clone()).or_default().push(line);
        }
    }
    for q in viva.map_or(&[][..], |v| v.questions.as_slice()) {
        let shown = match q.question.char_indices().nth(QUESTION_SHOWN) {
            Some((at, _)) => format!("{}…", &q.question[..at]),
            None => q.question.clone(),
        };
        for key in &q.criteria {
            out.probed_by.entry(key.clone()).or_default().push(shown.clone());
        }
    }
    out
}

/// The anchor of a section of a component: its group, or the component's items without one.
fn section_anchor(component: &str, group: Option<&str>) -> String {
    match group {
        Some(g) => format!("sec-{component}-{g}"),
        None => format!("sec-{component}"),
    }
    .replace('.', "_")
}

/// Builds the sheet from the guide and the member's own scores (or what they just posted):
/// component by component, each in sections (the guide's groups, in the order their items come),
/// each section in areas.
pub fn components(
    guide: &Guide,
    own: &Sheet,
    posted: Option<&Form>,
    missing: &[ItemKey],
    carried_over: &Kept,
    beside: &Beside,
) -> Vec<ComponentView> {
    let mut out: Vec<ComponentView> = Vec::new();
    for key in attempt::items_assessed(guide, carried_over) {
        let Some(criterion) = guide.criterion(&key.criterion) else { continue };
        let saved = own.get(&key);
        let score = match posted {
            Some(f) => f.text(&score_field(&key)).parse().ok(),
            None => saved.map(|e| e.score),
        };
        let comment = match posted {
            Some(f) => f.text(&comment_field(&key)),
            None => saved.and_then(|e| e.comment.clone()).unwrap_or_default(),
        };
        let item = ItemView {
            anchor: anchor(&key),
            criterion: criterion.id.clone(),
            title: criterion.title.clone(),
            kind: guide.kind_title(&criterion.kind),
            area: criterion.area.clone(),
            requirement: criterion.requirement.clone(),
            indicators: criterion.indicators.clone(),
            score_field: score_field(&key),
            comment_field: comment_field(&key),
            options: (guide.scale.min..=guide.scale.max)
                .map(|s| ScaleOption { score: s, checked: score == Some(s) })
                .collect(),
            score,
            comment,
            missing: missing.contains(&key),
            evidence: beside.evidence.get(&key).cloned().unwrap_or_default(),
            probed_by: beside.probed_by.get(&key).cloned().unwrap_or_default(),
        };
        if out.last().is_none_or(|c| c.id != key.component) {
            let component = guide.component(&key.component);
            out.push(ComponentView {
                id: key.component.clone(),
                title: component_title(guide, &key.component),
                weight: component.map_or(0, |c| c.weight),
                sections: Vec::new(),
                count: 0,
            });
        }
        let Some(component) = out.last_mut() else { continue };
        component.count += 1;
        let group = criterion.group.as_deref().and_then(|g| guide.groups.iter().find(|x| x.id == g));
        let section_id = section_anchor(&key.component, group.map(|g| g.id.as_str()));
        let section = match component.sections.iter().position(|s| s.anchor == section_id) {
            Some(i) => &mut component.sections[i],
            None => {
                component.sections.push(SectionView {
                    anchor: section_id,
                    title: group.map(|g| g.title.clone()),
                    description: group.and_then(|g| g.description.clone()),
                    label: group.map_or_else(|| component.title.clone(), |g| g.title.clone()),
                    scored: 0,
                    total: 0,
                    areas: Vec::new(),
                });
                let last = component.sections.len() - 1;
                &mut component.sections[last]
            }
        };
        section.total += 1;
        section.scored += usize::from(item.score.is_some());
        match section.areas.iter_mut().find(|a| a.area == criterion.area) {
            Some(area) => area.items.push(item),
            None => {
                let heading = section.title.as_deref() != Some(criterion.area.as_str());
                section.areas.push(AreaView { area: criterion.area.clone(), heading, items: vec![item] })
            }
        }
    }
    out
}

/// A later attempt's carried-over items: not on its sheets.
fn carried_over(loaded: &Loaded) -> Kept {
    loaded.data.later_attempt.as_ref().map(|a| a.kept()).unwrap_or_default()
}

fn items_of(components: &[ComponentView]) -> impl Iterator<Item = &ItemView> {
    components.iter().flat_map(|c| &c.sections).flat_map(|s| &s.areas).flat_map(|a| &a.items)
}

/// The member's own sheet from the service's (sealed) view of the panel's sheets.
pub fn own_sheet(sheets: &SheetsView, user_id: &str) -> (Sheet, bool) {
    let own = sheets.sheets.iter().find(|s| s.user_id == user_id);
    let sheet =
        own.and_then(|s| s.scores.as_ref()).map(|scores| scores.iter().map(stored_entry).collect()).unwrap_or_default();
    (sheet, own.is_some_and(|s| s.submitted))
}

fn stored_entry(s: &StoredScore) -> (ItemKey, ScoreEntry) {
    (ItemKey::new(&s.component, &s.criterion), ScoreEntry { score: s.score, comment: s.comment.clone() })
}

fn members(loaded: &Loaded, sheets: &SheetsView, me: &str) -> Vec<MemberState> {
    sheets
        .sheets
        .iter()
        .map(|s| MemberState {
            role: super::role_label(s.role),
            name: loaded.name(&s.user_id),
            submitted: s.submitted_at.as_deref().map(|t| when(loaded.zone, t)),
            is_me: s.user_id == me,
        })
        .collect()
}

struct SheetContext {
    loaded: Loaded,
    sheets: SheetsView,
    beside: Beside,
}

async fn sheet_context(page: &Page, id: &str) -> Result<SheetContext, PageError> {
    let loaded = page.load(id).await?;
    if !loaded.seat.is_some_and(|s| loaded.data.seating.scores(s)) {
        return Err(page.fail(&AppError::forbidden(
            "score sheets belong to the panel's members whose seats score (the standard's guide names them); staff see the scores on the consensus or decision page once every sheet is in",
        )));
    }
    let (actor, target, guides) = (page.actor.clone(), id.to_string(), page.state.guides.clone());
    let (sheets, evidence) = page
        .run(move |conn| {
            Ok((
                assessments::view_sheets(conn, &actor, &target)?,
                assessments::view_evidence(conn, &guides, &actor, &target)?,
            ))
        })
        .await?;
    let beside = beside(&evidence.evidence, loaded.data.viva_record.as_ref());
    Ok(SheetContext { loaded, sheets, beside })
}

fn sheet_view(
    page: &Page,
    ctx: &SheetContext,
    posted: Option<&Form>,
    error: Option<FormError>,
    warnings: Vec<String>,
    notice: Option<&'static str>,
    show_missing: bool,
) -> SheetPageView {
    let loaded = &ctx.loaded;
    let guide = &loaded.guide;
    let (own, submitted) = own_sheet(&ctx.sheets, &page.actor.id);
    let declared = loaded.data.declaration_holds();
    let blocked = if submitted {
        None
    } else if !loaded.data.status.is_open(Step::Score) {
        Some("Scoring is closed: the assessment is past the scoring step.")
    } else if !declared {
        Some("Scoring opens once the independent assessor has declared no prior involvement and no conflict of interest.")
    } else {
        None
    };
    // Coming from the review's "still to score" list: every item still to score is marked.
    let carried_over = carried_over(loaded);
    let missing = if show_missing && !submitted { scoring::missing_items(guide, &own, &carried_over) } else { vec![] };
    let comps = components(guide, &own, posted, &missing, &carried_over, &ctx.beside);
    let total = attempt::items_assessed(guide, &carried_over).len();
    let scored = items_of(&comps).filter(|i| i.score.is_some()).count();
    let next_unscored = items_of(&comps).find(|i| i.score.is_none()).map(|i| i.anchor.clone());
    SheetPageView {
        header: loaded.header(),
        notice,
        error,
        warnings,
        components: comps,
        scale: guide.scale.descriptors.iter().map(|d| ScaleKey { score: d.score, label: d.label.clone() }).collect(),
        next_unscored,
        total,
        scored,
        editable: loaded.may(NextStep::ScoreSheet),
        submitted,
        blocked,
        members: members(loaded, &ctx.sheets, &page.actor.id),
        all_submitted: ctx.sheets.all_submitted,
        single: loaded.data.seating.is_single(),
        all_seats: super::view::all_seats_words(&loaded.data.seating),
        autosave_key: format!("{}:{}", loaded.data.id, page.actor.id),
        scale_min: guide.scale.min,
        scale_max: guide.scale.max,
    }
}

/// `?missing=1`: the sheet marks every item still to score (the review links here).
#[derive(serde::Deserialize, Default)]
pub struct ShowMissing {
    #[serde(default)]
    pub missing: Option<String>,
}

/// `GET /assessments/{id}/scores`
pub async fn sheet_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
    missing: web::Query<ShowMissing>,
) -> Result<HttpResponse, PageError> {
    let ctx = sheet_context(&page, path.as_str()).await?;
    let view = sheet_view(&page, &ctx, None, None, vec![], done.message(), missing.missing.is_some());
    page.render("pages/scores.html", "My score sheet", &view)
}

fn names_of_items(guide: &Guide, keys: &[ItemKey]) -> String {
    keys.iter()
        .map(|k| format!("{} ({})", k.criterion, component_title(guide, &k.component)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /assessments/{id}/scores`: saves a draft. From `autosave.js` (field `autosave`) it
/// answers JSON; from the "Save draft" / "Review and submit" buttons it redirects.
pub async fn sheet_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    let autosave = form.has("autosave");
    if form.check_csrf(&page.csrf).is_err() {
        if autosave {
            return Ok(HttpResponse::Forbidden().json(
                json!({"error": "this page is too old to save from: reload it (your changes are kept on this device)"}),
            ));
        }
        page.check_csrf(&form)?;
    }
    let id = path.as_str().to_string();
    let guide = page.load(&id).await?.guide;
    let posted = read_posted(&guide, &form);
    let saved = posted.scores.len();
    let input = ScoresInput { scores: posted.scores, submit: false };
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.clone());
    let result = if saved == 0 && posted.unreadable.is_empty() {
        None
    } else {
        Some(
            page.attempt(move |conn| assessments::save_scores(conn, &guides, &actor, &target, Input::from(input)))
                .await?,
        )
    };
    if autosave {
        return Ok(match result {
            None => HttpResponse::Ok().json(json!({"saved": 0})),
            Some(Ok(state)) => HttpResponse::Ok().json(json!({"saved": saved, "missing": state.missing.len()})),
            Some(Err(e)) => HttpResponse::build(e_status(&e)).json(json!({"error": e.to_string()})),
        });
    }
    let mut warnings = Vec::new();
    if !posted.comment_only.is_empty() {
        warnings.push(format!(
            "A comment is saved with its score: give a score for {} to keep the comment.",
            names_of_items(&guide, &posted.comment_only)
        ));
    }
    if !posted.unreadable.is_empty() {
        warnings.push(format!("These scores could not be read: {}.", names_of_items(&guide, &posted.unreadable)));
    }
    match result {
        Some(Err(e)) => {
            let ctx = sheet_context(&page, &id).await?;
            let view = sheet_view(&page, &ctx, Some(&form), Some(FormError::from_app(&e)), warnings, None, false);
            page.render_status(e_status(&e), "pages/scores.html", "My score sheet", &view)
        }
        _ if !warnings.is_empty() => {
            let ctx = sheet_context(&page, &id).await?;
            let view =
                sheet_view(&page, &ctx, Some(&form), None, warnings, Some("Your other scores are saved."), false);
            page.render_status(StatusCode::OK, "pages/scores.html", "My score sheet", &view)
        }
        _ if form.has("review") => Ok(see_other(&format!("/assessments/{id}/scores/review"))),
        _ => Ok(see_other(&format!("/assessments/{id}/scores?done=draft"))),
    }
}

fn e_status(e: &AppError) -> StatusCode {
    FormError::status(e)
}

#[derive(Serialize)]
struct MissingItem {
    href: String,
    label: String,
}

#[derive(Serialize)]
struct ReviewRow {
    component: String,
    criterion: String,
    area: String,
    score: i32,
    descriptor: String,
    comment: String,
}

#[derive(Serialize)]
struct ReviewView {
    header: Header,
    error: Option<FormError>,
    missing: Vec<MissingItem>,
    rows: Vec<ReviewRow>,
    submitted: bool,
    can_submit: bool,
}

fn review_view(page: &Page, ctx: &SheetContext, error: Option<FormError>) -> ReviewView {
    let loaded = &ctx.loaded;
    let guide = &loaded.guide;
    let (own, submitted) = own_sheet(&ctx.sheets, &page.actor.id);
    let missing = scoring::missing_items(guide, &own, &carried_over(loaded));
    let id = &loaded.data.id;
    ReviewView {
        header: loaded.header(),
        error,
        missing: missing
            .iter()
            .map(|k| MissingItem {
                href: format!("/assessments/{id}/scores?missing=1#{}", anchor(k)),
                label: format!(
                    "{} {} · {}",
                    k.criterion,
                    guide.criterion(&k.criterion).map(|c| c.area.clone()).unwrap_or_default(),
                    component_title(guide, &k.component)
                ),
            })
            .collect(),
        rows: guide
            .score_items()
            .iter()
            .filter_map(|k| {
                let e = own.get(k)?;
                Some(ReviewRow {
                    component: component_title(guide, &k.component),
                    criterion: k.criterion.clone(),
                    area: guide.criterion(&k.criterion).map(|c| c.area.clone()).unwrap_or_default(),
                    score: e.score,
                    descriptor: guide.descriptor(e.score).unwrap_or_default().to_string(),
                    comment: e.comment.clone().unwrap_or_default(),
                })
            })
            .collect(),
        submitted,
        can_submit: missing.is_empty() && loaded.may(NextStep::ScoreSheet),
    }
}

/// `GET /assessments/{id}/scores/review`: what is missing, or everything to check before submitting.
pub async fn review_page(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let ctx = sheet_context(&page, path.as_str()).await?;
    let view = review_view(&page, &ctx, None);
    page.render("pages/review.html", "Review and submit", &view)
}

/// `POST /assessments/{id}/scores/submit`: the final submit (the service refuses an incomplete
/// sheet, naming what is missing).
pub async fn submit(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path.as_str().to_string();
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.clone());
    let input = ScoresInput { scores: vec![], submit: true };
    let result =
        page.attempt(move |conn| assessments::save_scores(conn, &guides, &actor, &target, Input::from(input))).await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/assessments/{id}/scores?done=submitted"))),
        Err(e) => {
            let ctx = sheet_context(&page, &id).await?;
            let view = review_view(&page, &ctx, Some(FormError::from_app(&e)));
            page.render_status(e_status(&e), "pages/review.html", "Review and submit", &view)
        }
    }
}

/// Scores by item for the seats that score, for pages that show them side by side.
pub fn by_item(sheets: &SheetsView) -> HashMap<ItemKey, BTreeMap<&'static str, StoredScore>> {
    let mut out: HashMap<ItemKey, BTreeMap<&'static str, StoredScore>> = HashMap::new();
    for sheet in &sheets.sheets {
        for s in sheet.scores.iter().flatten() {
            out.entry(ItemKey::new(&s.component, &s.criterion)).or_default().insert(sheet.role, s.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment::VivaQuestion;

    fn guide() -> Guide {
        Guide::from_toml(include_str!("../../../panel-guides/senior-housing-property-management-l4.toml")).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_posted_sheet_keeps_scored_items_and_names_the_rest() {
        let g = guide();
        let items = g.score_items();
        let (a, b, c) = (&items[0], &items[1], &items[2]);
        let f = form(&[
            (&score_field(a), "4"),
            (&comment_field(a), " good "),
            (&comment_field(b), "no score yet"),
            (&score_field(c), "four"),
            ("s:nope:X", "3"),
        ]);
        let posted = read_posted(&g, &f);
        assert_eq!(posted.scores.len(), 1);
        assert_eq!(posted.scores[0].score, 4);
        assert_eq!(posted.scores[0].comment.as_deref(), Some("good"));
        assert_eq!(posted.comment_only, vec![b.clone()]);
        assert_eq!(posted.unreadable, vec![c.clone()]);
    }

    #[test]
    fn the_sheet_groups_items_by_component_then_area() {
        let g = guide();
        let mut own = Sheet::new();
        let first = g.score_items()[0].clone();
        own.insert(first.clone(), ScoreEntry { score: 3, comment: Some("ok".into()) });
        let comps = components(&g, &own, None, &[], &Kept::new(), &Beside::default());
        let ids: Vec<&str> = comps.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["project", "viva"]);
        assert_eq!(comps.iter().map(|c| c.count).sum::<usize>(), g.score_items().len());
        // No groups in the L4 guide: one untitled section a component, labelled by the component.
        for c in &comps {
            assert_eq!(c.sections.len(), 1, "{}", c.id);
            assert_eq!((c.sections[0].title.as_deref(), c.sections[0].label.as_str()), (None, c.title.as_str()));
            assert_eq!(c.sections[0].total, c.count);
        }
        assert_eq!(comps[0].sections[0].scored, 1);
        let item = &comps[0].sections[0].areas[0].items[0];
        assert_eq!(item.score, Some(3));
        assert_eq!(item.options.len(), 5);
        assert!(item.options[2].checked && !item.options[1].checked);
        assert_eq!(item.comment, "ok");
        for c in &comps {
            let mut areas: Vec<&str> = c.sections[0].areas.iter().map(|a| a.area.as_str()).collect();
            let n = areas.len();
            areas.dedup();
            assert_eq!(areas.len(), n, "each area appears once per component");
            assert!(c.sections[0].areas.iter().all(|a| a.heading), "areas keep their headings");
        }
    }

    #[test]
    fn a_grouped_guide_reads_in_sections_with_their_progress() {
        let g = Guide::from_toml(include_str!("../../../tests/guides/long-sheet.toml")).unwrap();
        let items = g.score_items();
        let mut own = Sheet::new();
        for key in items.iter().take(3) {
            own.insert(key.clone(), ScoreEntry { score: 4, comment: None });
        }
        let comps = components(&g, &own, None, &[], &Kept::new(), &Beside::default());
        assert_eq!(comps.len(), 1);
        let sections = &comps[0].sections;
        assert_eq!(sections.len(), g.groups.len());
        let titles: Vec<&str> = sections.iter().map(|s| s.label.as_str()).collect();
        let groups: Vec<&str> = g.groups.iter().map(|x| x.title.as_str()).collect();
        assert_eq!(titles, groups, "sections in the guide's order, titled as its groups");
        assert_eq!(sections.iter().map(|s| s.total).sum::<usize>(), items.len());
        assert_eq!(sections[0].scored, 3);
        assert!(sections[1..].iter().all(|s| s.scored == 0));
        // The NOS's areas repeat their section's title: no second heading.
        assert!(sections[0].areas.iter().all(|a| !a.heading));
        assert_eq!(sections[0].areas[0].items[0].kind, "Performance criterion");
    }

    #[test]
    fn beside_each_item_the_evidence_naming_it_and_the_viva_questions_probing_it() {
        let (a, b) = (ItemKey::new("project", "K1"), ItemKey::new("viva", "S1"));
        let record = EvidenceRecord {
            id: "e1".into(),
            assessment_id: "x".into(),
            kind: "witness_testimony".into(),
            kind_title: "Witness testimony".into(),
            title: "From the manager".into(),
            description: String::new(),
            criteria: vec![a.clone(), b.clone()],
            by: "u".into(),
            at: "2026-12-01T10:00:00Z".into(),
        };
        let long = "é".repeat(QUESTION_SHOWN + 5);
        let viva = StoredVivaRecord {
            questions: vec![
                VivaQuestion { question: long.clone(), response: String::new(), criteria: vec![b.clone()] },
                VivaQuestion { question: "Unlinked?".into(), response: String::new(), criteria: vec![] },
            ],
            by: "u".into(),
            at: "2026-12-01T10:00:00Z".into(),
        };
        let out = beside(std::slice::from_ref(&record), Some(&viva));
        for key in [&a, &b] {
            let lines = &out.evidence[key];
            assert_eq!(
                (lines.len(), lines[0].kind.as_str(), lines[0].anchor.as_str()),
                (1, "Witness testimony", "evidence-e1")
            );
        }
        assert!(!out.probed_by.contains_key(&a));
        let shown = &out.probed_by[&b];
        assert_eq!(shown.len(), 1, "only the question naming it");
        assert_eq!(shown[0].chars().count(), QUESTION_SHOWN + 1, "cut at a character, with an ellipsis");
        assert!(shown[0].ends_with('…') && long.starts_with(shown[0].trim_end_matches('…')));
    }

    #[test]
    fn kinds_read_as_the_guide_names_them() {
        let g = Guide::from_toml(include_str!("../../../tests/guides/long-sheet.toml")).unwrap();
        assert_eq!(
            g.kind_title(&crate::domain::guide::CriterionKind::new("knowledge_statement")),
            "Knowledge statement"
        );
        assert_eq!(g.kind_title(&crate::domain::guide::CriterionKind::new("skill")), "Skill");
    }
}
