//! The standardisation reports, streamed as CSV.

use actix_web::{web, HttpRequest, HttpResponse};
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::reports::{self as svc, Report, TrendOptions};
use crate::services::verification;
use crate::web::{authenticate, AppState, Caller};

async fn respond(
    state: web::Data<AppState>,
    user: Caller,
    req: HttpRequest,
    report: Report,
    name: &str,
) -> AppResult<HttpResponse> {
    let query: AppResult<Vec<(String, String)>> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| AppError::bad_input(ErrorCode::InvalidQuery, format!("{e}")).at("query"));
    // A small channel: the export waits for the client, so memory stays bounded. The caller is
    // checked (401, 403, 400) in the export's own snapshot, before the first byte.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let (ready, started) = tokio::sync::oneshot::channel();
    let (db, token) = (state.db.clone(), user.token().to_string());
    tokio::task::spawn_blocking(move || {
        let start = |conn: &mut crate::db::DbConnection| {
            svc::authorise(&authenticate(conn, &token)?)?;
            svc::parse_query(report, &query?)
        };
        svc::export(&db, start, ready, tx)
    });
    started.await.map_err(|e| anyhow::anyhow!("the report did not start: {e}"))??;
    Ok(crate::web::csv_attachment(name).streaming(ReceiverStream::new(rx)))
}

#[utoipa::path(get, path = "/api/v1/reports/scores.csv", tag = "reports", responses((status = 200, description = "the scores report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn scores(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Scores, "scores.csv").await
}

#[utoipa::path(get, path = "/api/v1/reports/outcomes.csv", tag = "reports", responses((status = 200, description = "the outcomes report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn outcomes(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Outcomes, "outcomes.csv").await
}

#[utoipa::path(get, path = "/api/v1/reports/assessors.csv", tag = "reports", responses((status = 200, description = "the assessors report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn assessors(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Assessors, "assessors.csv").await
}

#[utoipa::path(get, path = "/api/v1/reports/agreement.csv", tag = "reports", responses((status = 200, description = "the agreement report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn agreement(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Agreement, "agreement.csv").await
}

#[utoipa::path(get, path = "/api/v1/reports/independence.csv", tag = "reports", responses((status = 200, description = "the independence report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn independence(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Independence, "independence.csv").await
}

/// `?period=month|quarter|year&by=standard|employer|training_provider|assessor` plus the filters.
#[utoipa::path(get, path = "/api/v1/reports/trends.csv", tag = "reports", responses((status = 200, description = "the trends report (filters in the query: from, to, standard_id, employer_id, training_provider_id, assessor_id)", content_type = "text/csv", body = String)))]
pub async fn trends(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    respond(state, user, req, Report::Trends(TrendOptions::default()), "trends.csv").await
}

/// `?training_provider_id=…&from=YYYY-MM-DD&to=YYYY-MM-DD`, all three required.
#[utoipa::path(get, path = "/api/v1/reports/verification-sample.csv", tag = "reports", responses((status = 200, description = "the external verifier's sample: twelve released assessments of one training provider decided in the period, or all where fewer, risk first (query: training_provider_id, from, to, all required)", content_type = "text/csv", body = String)))]
pub async fn verification_sample(
    state: web::Data<AppState>,
    user: Caller,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query: AppResult<Vec<(String, String)>> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| AppError::bad_input(ErrorCode::InvalidQuery, format!("{e}")).at("query"));
    let guides = state.guides.clone();
    let (_, rows) = state.read_as(&user, move |conn, actor| verification::sample(conn, &guides, actor, query)).await?;
    Ok(crate::web::csv_attachment("verification-sample.csv").body(verification::csv(&rows)?))
}
