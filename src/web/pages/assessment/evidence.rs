//! The evidence page: the assessment's evidence records (kind, title, description, the criteria
//! each supports, who recorded it and when), and for a panel member until the decision the form
//! that records one (the service's rules: `services::assessments::record_evidence`).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{e_status, path_id, Done};
use crate::domain::guide::{Guide, ItemKey};
use crate::domain::permissions::{may, Action, Role};
use crate::domain::workflow::Step;
use crate::services::assessments::{self, EvidenceInput, EvidenceView};
use crate::services::Input;
use crate::web::pages::scores::evidence_anchor;
use crate::web::pages::view::{component_title, item_value, posted_items, when, Header, Loaded};
use crate::web::pages::{see_other, Form, FormError, Page, PageError};

#[derive(Serialize)]
struct KindChoice {
    id: String,
    title: String,
    description: Option<String>,
    chosen: bool,
}

#[derive(Serialize)]
struct CriterionChoice {
    value: String,
    criterion: String,
    text: String,
    chosen: bool,
}

/// The items to choose from, under the component's and section's titles.
#[derive(Serialize)]
struct ChoiceGroup {
    title: String,
    items: Vec<CriterionChoice>,
}

#[derive(Serialize)]
struct RecordLine {
    anchor: String,
    kind: String,
    title: String,
    description: String,
    criteria: Vec<String>,
    by: String,
}

#[derive(Serialize)]
struct EvidencePageView {
    header: Header,
    notice: Option<&'static str>,
    error: Option<FormError>,
    records: Vec<RecordLine>,
    can_record: bool,
    kinds: Vec<KindChoice>,
    groups: Vec<ChoiceGroup>,
    title: String,
    description: String,
}

fn item_label(guide: &Guide, key: &ItemKey) -> String {
    format!("{} ({})", key.criterion, component_title(guide, &key.component))
}

fn choice_groups(guide: &Guide, chosen: &[String]) -> Vec<ChoiceGroup> {
    let mut out: Vec<ChoiceGroup> = Vec::new();
    for key in guide.score_items() {
        let Some(c) = guide.criterion(&key.criterion) else { continue };
        let section = c.group.as_deref().and_then(|g| guide.groups.iter().find(|x| x.id == g));
        let title = match section {
            Some(s) => format!("{}: {}", component_title(guide, &key.component), s.title),
            None => component_title(guide, &key.component),
        };
        if out.last().is_none_or(|g| g.title != title) {
            out.push(ChoiceGroup { title, items: vec![] });
        }
        let value = item_value(&key);
        let text = c.title.clone().or_else(|| c.requirement.clone()).unwrap_or_else(|| c.area.clone());
        if let Some(group) = out.last_mut() {
            group.items.push(CriterionChoice {
                chosen: chosen.contains(&value),
                value,
                criterion: key.criterion,
                text,
            });
        }
    }
    out
}

fn page_view(
    role: Role,
    loaded: &Loaded,
    evidence: &EvidenceView,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
) -> EvidencePageView {
    let guide = &loaded.guide;
    let chosen = posted.map(|f| f.all("criteria")).unwrap_or_default();
    let kind = posted.map(|f| f.text("kind")).unwrap_or_default();
    EvidencePageView {
        header: loaded.header(),
        notice,
        error,
        records: evidence
            .evidence
            .iter()
            .map(|r| RecordLine {
                anchor: evidence_anchor(&r.id),
                kind: r.kind_title.clone(),
                title: r.title.clone(),
                description: r.description.clone(),
                criteria: r.criteria.iter().map(|k| item_label(guide, k)).collect(),
                by: format!("{}, {}", loaded.name(&r.by), when(loaded.zone, &r.at)),
            })
            .collect(),
        can_record: may(role, loaded.seat, Action::RecordEvidence, &loaded.data.seating)
            && loaded.data.status.is_open(Step::RecordEvidence),
        kinds: evidence
            .kinds
            .iter()
            .map(|k| KindChoice {
                id: k.id.clone(),
                title: k.title.clone(),
                description: k.description.clone(),
                chosen: k.id == kind,
            })
            .collect(),
        groups: choice_groups(guide, &chosen),
        title: posted.map(|f| f.text("title")).unwrap_or_default(),
        description: posted.map(|f| f.text("description")).unwrap_or_default(),
    }
}

async fn evidence_of(page: &Page, id: &str) -> Result<EvidenceView, PageError> {
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.to_string());
    page.run(move |conn| assessments::view_evidence(conn, &guides, &actor, &target)).await
}

/// `GET /assessments/{id}/evidence`
pub async fn evidence_page(
    page: Page,
    path: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path);
    let loaded = page.load(&id).await?;
    let evidence = evidence_of(&page, &id).await?;
    let view = page_view(page.actor.role, &loaded, &evidence, None, None, done.message());
    page.render("pages/evidence.html", "Evidence", &view)
}

/// `POST /assessments/{id}/evidence`: records one piece of evidence.
pub async fn evidence_save(page: Page, path: web::Path<String>, form: Form) -> Result<HttpResponse, PageError> {
    page.check_csrf(&form)?;
    let id = path_id(&path);
    let input = EvidenceInput {
        kind: form.text("kind"),
        title: form.text("title"),
        description: form.text("description"),
        criteria: posted_items(&form, "criteria"),
    };
    let (actor, guides, target) = (page.actor.clone(), page.state.guides.clone(), id.clone());
    let result = page
        .attempt(move |conn| assessments::record_evidence(conn, &guides, &actor, &target, Input::from(input)))
        .await?;
    match result {
        Ok(record) => {
            Ok(see_other(&format!("/assessments/{id}/evidence?done=evidence#{}", evidence_anchor(&record.id))))
        }
        Err(e) => {
            let loaded = page.load(&id).await?;
            let evidence = evidence_of(&page, &id).await?;
            let view = page_view(page.actor.role, &loaded, &evidence, Some(&form), Some(FormError::from_app(&e)), None);
            page.render_status(e_status(&e), "pages/evidence.html", "Evidence", &view)
        }
    }
}
