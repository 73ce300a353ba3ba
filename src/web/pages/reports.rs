//! Reports (admin, moderator): the three CSV downloads with the contract's filters, and at a
//! glance the grade distribution and each scorer's lean against the agreed scores, drawn as SVG
//! on the server. The figures come from the same report service the CSV files do.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use tokio_stream::wrappers::ReceiverStream;

use super::charts::{bar_chart, lean_chart, lean_word, Lean};
use super::session::encode_component;
use super::{Page, PageError};
use crate::domain::permissions::Role;
use crate::error::{AppError, ErrorCode};
use crate::reports::AssessorTally;
use crate::services::people;
use crate::services::reports::{self as svc, Report, ReportFilter, TrendOptions};
use crate::services::verification;

/// The query's filters without the empty ones a form sends for fields left blank.
pub(super) fn filled(req: &HttpRequest) -> Result<Vec<(String, String)>, AppError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| AppError::bad_input(ErrorCode::InvalidQuery, format!("{e}")).at("query"))?
        .into_inner();
    Ok(pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect())
}

#[derive(Serialize)]
pub(super) struct Choice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Serialize)]
struct Download {
    href: String,
    name: &'static str,
    what: &'static str,
}

#[derive(Serialize)]
struct LeanRow {
    name: String,
    role: &'static str,
    items: usize,
    mean_difference: String,
    exact: String,
    adjacent: String,
    word: &'static str,
}

#[derive(Serialize)]
struct ReportsView {
    error: Option<String>,
    #[serde(flatten)]
    filters: FilterForm,
    downloads: Vec<Download>,
    /// The filters again, for the link to the standardisation page.
    standardisation_query: String,
    decided: usize,
    grades: Vec<(String, usize)>,
    grade_chart: String,
    lean_chart: String,
    leans: Vec<LeanRow>,
}

fn choices(options: Vec<(String, String)>, selected: Option<&str>) -> Vec<Choice> {
    options.into_iter().map(|(id, name)| Choice { selected: selected == Some(id.as_str()), id, name }).collect()
}

/// The report filters as a form shows them (`partials/report_filters.html`): the dates given and
/// every standard, employer, provider and assessor to choose from, the chosen ones marked.
#[derive(Serialize)]
pub(super) struct FilterForm {
    from: String,
    to: String,
    standards: Vec<Choice>,
    employers: Vec<Choice>,
    providers: Vec<Choice>,
    assessors: Vec<Choice>,
}

/// Loads what the filter form offers (one blocking hop), and the grade names of the latest
/// guides in their order, for the pages that count grades.
pub(super) async fn filter_form(page: &Page, filter: &ReportFilter) -> Result<(FilterForm, Vec<String>), PageError> {
    let (actor, guides) = (page.actor.clone(), page.state.guides.clone());
    let (standards, employers, providers, assessors, grade_order) = page
        .run(move |conn| {
            let latest = guides.list_latest(conn)?;
            let standards: Vec<(String, String)> = latest.iter().map(|g| (g.id.clone(), g.title.clone())).collect();
            let mut grade_order: Vec<String> = Vec::new();
            for g in &latest {
                for grade in &g.grading.grades {
                    if !grade_order.contains(&grade.name) {
                        grade_order.push(grade.name.clone());
                    }
                }
            }
            let employers = people::list_organisations(conn, &actor, "employer")?;
            let providers = people::list_organisations(conn, &actor, "training_provider")?;
            let assessors = people::list_users(conn, &actor, Role::IndependentAssessor)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect::<Vec<_>>();
            Ok((standards, employers, providers, assessors, grade_order))
        })
        .await?;
    let form = FilterForm {
        from: filter.from.map(|d| d.to_string()).unwrap_or_default(),
        to: filter.to.map(|d| d.to_string()).unwrap_or_default(),
        standards: choices(standards, filter.standard_id.as_deref()),
        employers: choices(employers, filter.employer_id.as_deref()),
        providers: choices(providers, filter.training_provider_id.as_deref()),
        assessors: choices(assessors, filter.assessor_id.as_deref()),
    };
    Ok((form, grade_order))
}

/// `GET /reports`
pub async fn reports_page(page: Page, req: HttpRequest) -> Result<HttpResponse, PageError> {
    svc::authorise(&page.actor).map_err(|e| page.fail(&e))?;
    let pairs = filled(&req).map_err(|e| page.fail(&e))?;
    let (filter, error) = match ReportFilter::parse(&pairs) {
        Ok(f) => (f, None),
        Err(e) => (ReportFilter::default(), Some(e.to_string())),
    };
    let query: String = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let suffix = if query.is_empty() || error.is_some() { String::new() } else { format!("?{query}") };
    let (filters, grade_order) = filter_form(&page, &filter).await?;
    let f = filter.clone();
    // Every decided assessment the filter selects, page by page, as the CSV reports read them.
    let mut grades: Vec<(String, usize)> = grade_order.into_iter().map(|g| (g, 0)).collect();
    let mut tally = AssessorTally::default();
    let mut decided = 0;
    let mut after: Option<(String, String)> = None;
    loop {
        let (f, a) = (f.clone(), after.clone());
        let chunk = page.run(move |conn| svc::page(conn, &f, a.as_ref())).await?;
        let Some(last) = chunk.last() else { break };
        after = Some((last.row.decided_at.clone().unwrap_or_default(), last.row.id.clone()));
        for d in &chunk {
            decided += 1;
            let grade = d.decision().map_err(|e| page.fail(&e))?.grade.clone();
            match grades.iter_mut().find(|(g, _)| *g == grade) {
                Some((_, n)) => *n += 1,
                None => grades.push((grade, 1)),
            }
            d.score_rows().map_err(|e| page.fail(&e))?.iter().for_each(|r| tally.add(r));
        }
    }
    let ids: Vec<String> = tally.scorer_ids().cloned().collect();
    let names = page.run(move |conn| people::names_of(conn, &ids)).await?;
    let rows = tally.rows(|id| names.get(id).cloned().unwrap_or_default());
    let leans: Vec<Lean> = rows
        .iter()
        .map(|r| Lean { name: r.name.clone(), mean_difference: r.mean_difference.0, items: r.items_scored })
        .collect();
    let lean_rows = rows
        .iter()
        .map(|r| LeanRow {
            name: r.name.clone(),
            role: super::role_label(&r.role),
            items: r.items_scored,
            mean_difference: format!("{:+.2}", r.mean_difference.0),
            exact: format!("{:.0} %", r.exact_agreement.0 * 100.0),
            adjacent: format!("{:.0} %", r.adjacent_agreement.0 * 100.0),
            word: lean_word(r.mean_difference.0),
        })
        .collect();
    let downloads = [
        ("scores.csv", "one row per score: who scored what, the agreed score and the difference"),
        ("outcomes.csv", "one row per assessment: grade, weighted score, tie-breaks, moderation"),
        (
            "assessors.csv",
            "one row per scorer: lean against the other members of the same panels, with its 95 % interval and flag",
        ),
        ("agreement.csv", "one row per score item, then all: how far the seats agree (Krippendorff's alpha, kappa)"),
        ("independence.csv", "one row per submitted sheet: first saved, submitted, and when the sheets were revealed"),
        (
            "trends.csv",
            "one row per month and standard: grade counts, mean weighted score, tie-breaks (period=quarter or year and by=employer, training_provider or assessor give the other cuts, with the mean lean)",
        ),
    ]
    .into_iter()
    .map(|(name, what)| Download { href: format!("/reports/{name}{suffix}"), name, what })
    .collect();
    let view = ReportsView {
        error,
        filters,
        downloads,
        standardisation_query: suffix.clone(),
        decided,
        grade_chart: bar_chart("grades", "Outcomes by grade", &grades),
        lean_chart: lean_chart("lean", "Each scorer's lean against the agreed scores", &leans),
        grades,
        leans: lean_rows,
    };
    page.render("pages/reports.html", "Reports", &view)
}

/// `GET /reports/{name}.csv`: the same streamed CSV as the API, for a signed-in person.
pub async fn download(page: Page, path: web::Path<String>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    svc::authorise(&page.actor).map_err(|e| page.fail(&e))?;
    let (report, name) = match path.as_str() {
        "scores.csv" => (Report::Scores, "scores.csv"),
        "outcomes.csv" => (Report::Outcomes, "outcomes.csv"),
        "assessors.csv" => (Report::Assessors, "assessors.csv"),
        "agreement.csv" => (Report::Agreement, "agreement.csv"),
        "independence.csv" => (Report::Independence, "independence.csv"),
        "trends.csv" => (Report::Trends(TrendOptions::default()), "trends.csv"),
        _ => return Err(page.fail(&AppError::not_found("report"))),
    };
    let (report, filter) =
        filled(&req).and_then(|pairs| svc::parse_query(report, &pairs)).map_err(|e| page.fail(&e))?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    svc::stream(page.state.db.clone(), report, filter, tx);
    Ok(crate::web::csv_attachment(name).streaming(ReceiverStream::new(rx)))
}

#[derive(Serialize)]
struct SampleView {
    error: Option<String>,
    from: String,
    to: String,
    providers: Vec<Choice>,
    /// Whether a sample was asked for and read.
    shown: bool,
    provider_name: String,
    rows: Vec<SampleLine>,
    /// The query again (encoded), for the link to the CSV.
    csv_query: String,
    sample_size: usize,
}

#[derive(Serialize)]
struct SampleLine {
    #[serde(flatten)]
    row: verification::SampleRow,
    /// The reasons for a person: `tie_break, wide_spread`.
    reasons_words: String,
}

/// The sample `pairs` ask for, as the caller: a refused query (400) comes back to be said on
/// the page; any other failure is the error page.
async fn read_sample(
    page: &Page,
    pairs: &[(String, String)],
) -> Result<Result<(String, Vec<verification::SampleRow>), AppError>, PageError> {
    let (actor, guides, query) = (page.actor.clone(), page.state.guides.clone(), pairs.to_vec());
    page.attempt(move |conn| verification::sample(conn, &guides, &actor, Ok(query))).await
}

/// `GET /reports/verification-sample`: the provider and period form, and once asked the sample
/// with links to its assessments and to the same sample as CSV.
pub async fn verification_sample_page(page: Page, req: HttpRequest) -> Result<HttpResponse, PageError> {
    svc::authorise(&page.actor).map_err(|e| page.fail(&e))?;
    let pairs = filled(&req).map_err(|e| page.fail(&e))?;
    let given = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
    let (from, to, provider) = (given("from"), given("to"), given("training_provider_id"));
    let actor = page.actor.clone();
    let providers = page.run(move |conn| people::list_organisations(conn, &actor, "training_provider")).await?;
    let mut view = SampleView {
        error: None,
        from,
        to,
        providers: choices(providers, Some(provider.as_str())),
        shown: false,
        provider_name: String::new(),
        rows: Vec::new(),
        csv_query: pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&"),
        sample_size: crate::domain::verification::SAMPLE_SIZE,
    };
    if !pairs.is_empty() {
        match read_sample(&page, &pairs).await? {
            Ok((name, rows)) => {
                view.shown = true;
                view.provider_name = name;
                view.rows = rows
                    .into_iter()
                    .map(|row| SampleLine { reasons_words: row.reasons.replace(';', ", "), row })
                    .collect();
            }
            Err(e) => view.error = Some(e.to_string()),
        }
    }
    page.render("pages/verification_sample.html", "External-verification sample", &view)
}

/// `GET /reports/verification-sample.csv`: the same CSV as the API, for a signed-in person.
pub async fn verification_sample_csv(page: Page, req: HttpRequest) -> Result<HttpResponse, PageError> {
    svc::authorise(&page.actor).map_err(|e| page.fail(&e))?;
    let pairs = filled(&req).map_err(|e| page.fail(&e))?;
    let (_, rows) = read_sample(&page, &pairs).await?.map_err(|e| page.fail(&e))?;
    let body = verification::csv(&rows).map_err(|e| page.fail(&e))?;
    Ok(crate::web::csv_attachment("verification-sample.csv").body(body))
}
