//! The standardisation page (admin, moderator): with the reports' filters, each seat's leans as
//! a forest plot, Krippendorff's alpha per score item and the trends per period, each an SVG
//! drawn on the server with its numbers in a table beside it; a flagged scorer's assessments
//! are listed and linked. The figures are those of `assessors.csv`, `agreement.csv` and
//! `trends.csv`, from the same report service.

use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::charts::{alpha_chart, forest_plot, trend_chart, ForestRow, TrendPoint, ALPHA_REFERENCE};
use super::reports::{filled, filter_form, FilterForm};
use super::{Page, PageError};
use crate::domain::permissions::Seat;
use crate::reports::{format_number, AssessorRow, Number, TrendPeriod};
use crate::services::reports::{self as svc, ReportFilter, TrendOptions};

#[derive(Serialize)]
struct Linked {
    /// The assessment's id (the template writes the link).
    id: String,
    apprentice: String,
}

#[derive(Serialize)]
struct ScorerRow {
    id: String,
    name: String,
    role: &'static str,
    epas: usize,
    lean: String,
    interval: String,
    flag: &'static str,
    flagged: bool,
    assessments: Vec<Linked>,
}

#[derive(Serialize)]
struct SeatView {
    id: &'static str,
    title: &'static str,
    chart: String,
    scorers: Vec<ScorerRow>,
    flagged: usize,
    too_few: usize,
}

#[derive(Serialize)]
struct AlphaRow {
    item: String,
    assessments: usize,
    alpha: String,
    below: bool,
}

#[derive(Serialize)]
struct TrendTableRow {
    period: String,
    standard: String,
    assessments: usize,
    grade_counts: String,
    mean_weighted_score: String,
    tie_breaks: usize,
}

#[derive(Serialize)]
struct PeriodChoice {
    id: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct StandardisationPage {
    error: Option<String>,
    #[serde(flatten)]
    filters: FilterForm,
    periods: Vec<PeriodChoice>,
    period: &'static str,
    /// Whether any filter narrows the selection.
    filtered: bool,
    decided: usize,
    seats: Vec<SeatView>,
    alpha_chart: String,
    alphas: Vec<AlphaRow>,
    alpha_all: String,
    alpha_low: usize,
    alpha_reference: f64,
    trend_chart: String,
    trends: Vec<TrendTableRow>,
}

/// A number as the CSV reports write it, or a dash when it cannot be estimated.
fn cell(x: Option<Number>) -> String {
    x.map_or_else(|| "–".to_string(), |n| format_number(n.0))
}

fn flag_label(flag: &str) -> &'static str {
    match flag {
        "lenient" => "lenient",
        "severe" => "severe",
        "too_few" => "too few to judge",
        _ => "in line",
    }
}

fn scorer_row(r: &AssessorRow, listed: Option<&Vec<(String, String)>>) -> ScorerRow {
    let interval = match (r.lean_low, r.lean_high) {
        (Some(lo), Some(hi)) => format!("{} to {}", format_number(lo.0), format_number(hi.0)),
        _ => "–".to_string(),
    };
    ScorerRow {
        id: r.scorer_id.clone(),
        name: r.name.clone(),
        role: super::role_label(&r.role),
        epas: r.epas,
        lean: cell(r.lean),
        interval,
        flag: flag_label(&r.flag),
        flagged: r.flag == "lenient" || r.flag == "severe",
        assessments: listed
            .map(|list| {
                list.iter().map(|(id, apprentice)| Linked { id: id.clone(), apprentice: apprentice.clone() }).collect()
            })
            .unwrap_or_default(),
    }
}

/// `GET /reports/standardisation`
pub async fn standardisation_page(page: Page, req: HttpRequest) -> Result<HttpResponse, PageError> {
    svc::authorise(&page.actor).map_err(|e| page.fail(&e))?;
    let pairs = filled(&req).map_err(|e| page.fail(&e))?;
    let (options, filter, error) =
        match TrendOptions::split(&pairs).and_then(|(o, rest)| Ok((o, ReportFilter::parse(&rest)?))) {
            Ok((o, f)) => (o, f, None),
            Err(e) => (TrendOptions::default(), ReportFilter::default(), Some(e.to_string())),
        };
    let (filters, _) = filter_form(&page, &filter).await?;
    let figures =
        svc::standardisation(&page.state.db, filter.clone(), options.period).await.map_err(|e| page.fail(&e))?;

    let seats = Seat::ALL
        .iter()
        .map(|seat| {
            let rows: Vec<&AssessorRow> = figures.assessors.iter().filter(|r| r.role == seat.as_str()).collect();
            let forest: Vec<ForestRow> = rows
                .iter()
                .map(|r| ForestRow {
                    name: r.name.clone(),
                    lean: r.lean.map(|n| n.0),
                    low: r.lean_low.map(|n| n.0),
                    high: r.lean_high.map(|n| n.0),
                    flag: r.flag.clone(),
                })
                .collect();
            let title = match seat.as_str() {
                "line_manager" => "Line managers",
                "training_provider" => "Training providers",
                _ => "Independent assessors",
            };
            let scorers: Vec<ScorerRow> =
                rows.iter().map(|r| scorer_row(r, figures.flagged_assessments.get(&r.scorer_id))).collect();
            SeatView {
                id: seat.as_str(),
                title,
                chart: forest_plot(
                    &format!("forest-{}", seat.as_str()),
                    &format!("{title}: lean with its 95 % interval"),
                    &forest,
                ),
                flagged: scorers.iter().filter(|s| s.flagged).count(),
                too_few: rows.iter().filter(|r| r.flag == "too_few").count(),
                scorers,
            }
        })
        .collect();

    let (items, all): (Vec<_>, Vec<_>) = figures.agreement.iter().partition(|a| a.component != "all");
    let label = |a: &crate::reports::AgreementRow| format!("{} / {}", a.component, a.criterion);
    let bars: Vec<(String, Option<f64>)> = items.iter().map(|a| (label(a), a.alpha_ordinal.map(|n| n.0))).collect();
    let alphas: Vec<AlphaRow> = items
        .iter()
        .map(|a| AlphaRow {
            item: label(a),
            assessments: a.assessments,
            alpha: cell(a.alpha_ordinal),
            below: a.alpha_ordinal.is_some_and(|n| n.0 < ALPHA_REFERENCE),
        })
        .collect();

    // The chart shows each period over all standards; the table each standard in each period.
    let mut points: Vec<TrendPoint> = Vec::new();
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for t in &figures.trends {
        if points.last().is_none_or(|p| p.period != t.period) {
            points.push(TrendPoint { period: t.period.clone(), assessments: 0, mean_weighted_score: None });
            sums.push((0.0, 0));
        }
        if let (Some(p), Some(s)) = (points.last_mut(), sums.last_mut()) {
            p.assessments += t.assessments;
            if let Some(m) = t.mean_weighted_score {
                s.0 += m.0 * t.assessments as f64;
                s.1 += t.assessments;
                p.mean_weighted_score = Some(s.0 / s.1 as f64);
            }
        }
    }
    let trends = figures
        .trends
        .iter()
        .map(|t| TrendTableRow {
            period: t.period.clone(),
            standard: t.name.clone(),
            assessments: t.assessments,
            grade_counts: t.grade_counts.replace('=', ": ").replace(';', ", "),
            mean_weighted_score: cell(t.mean_weighted_score),
            tie_breaks: t.tie_breaks,
        })
        .collect();

    let view = StandardisationPage {
        error,
        filters,
        periods: TrendPeriod::ALL
            .iter()
            .map(|p| PeriodChoice { id: p.as_str(), selected: *p == options.period })
            .collect(),
        period: options.period.as_str(),
        filtered: filter.from.is_some()
            || filter.to.is_some()
            || filter.standard_id.is_some()
            || filter.employer_id.is_some()
            || filter.training_provider_id.is_some()
            || filter.assessor_id.is_some(),
        decided: figures.decided,
        seats,
        alpha_chart: alpha_chart("alpha", "Krippendorff's alpha (ordinal) per score item", &bars),
        alpha_low: alphas.iter().filter(|a| a.below).count(),
        alphas,
        alpha_all: all.first().map_or_else(|| "–".to_string(), |a| cell(a.alpha_ordinal)),
        alpha_reference: ALPHA_REFERENCE,
        trend_chart: trend_chart("trend", &format!("Mean weighted score per {}", options.period.as_str()), &points),
        trends,
    };
    page.render("pages/standardisation.html", "Standardisation", &view)
}
