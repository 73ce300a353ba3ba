//! Assessments: one apprentice's EPA, step by step.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::assessments as svc;
use crate::services::views::{PanelAppointed, RegisteredView, Requeued};
use crate::web::{created, post_once, with_etag, AppState, Body, Caller};

type Id = web::Path<String>;

#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments", request_body = crate::services::assessments::NewAssessment, responses((status = 201, description = "the assessment registered", body = crate::services::views::RegisteredView)))]
pub async fn register(state: web::Data<AppState>, user: Caller, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &RegisteredView::from(svc::register(conn, &guides, actor, input)?))
    })
    .await
}

/// `GET /assessments[?limit=N&after=ID]`: the whole list, or one page of it.
#[utoipa::path(get, operation_id = "list_assessments", path = "/api/v1/assessments", tag = "assessments", params(("limit" = Option<i64>, Query, description = "at most this many (1-500)"), ("after" = Option<String>, Query, description = "start after the assessment with this id")), responses((status = 200, description = "the assessments the caller may see", body = Vec<crate::services::views::AssessmentView>)))]
pub async fn list(state: web::Data<AppState>, user: Caller, req: HttpRequest) -> AppResult<HttpResponse> {
    let page = page_of(req.query_string())?;
    let guides = state.guides.clone();
    let body = state.read_as(&user, move |conn, actor| svc::list_page_json(conn, &guides, actor, None, &page)).await?;
    Ok(HttpResponse::Ok().content_type(actix_web::http::header::ContentType::json()).body(body))
}

/// Reads `limit` and `after` from a query string (other parameters are ignored, as in v1).
fn page_of(query: &str) -> AppResult<svc::Page> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| AppError::bad_input(ErrorCode::InvalidQuery, format!("{e}")).at("query"))?
        .into_inner();
    let mut page = svc::Page::default();
    for (name, value) in pairs {
        match name.as_str() {
            "limit" => {
                let limit = value.trim().parse().map_err(|_| {
                    AppError::bad_input(
                        ErrorCode::InvalidQuery,
                        format!("{value:?} is not a whole number between 1 and {}", svc::LIST_LIMIT_MAX),
                    )
                    .at("limit")
                })?;
                page.limit = Some(limit);
            }
            "after" => page.after = Some(value),
            _ => {}
        }
    }
    Ok(page)
}

#[utoipa::path(get, operation_id = "show_assessment", path = "/api/v1/assessments/{id}", tag = "assessments", params(("id" = String, Path, description = "the assessment")), responses((status = 200, description = "the assessment (its version as ETag)", body = crate::services::views::AssessmentView)))]
pub async fn show(state: web::Data<AppState>, user: Caller, id: Id) -> AppResult<HttpResponse> {
    let guides = state.guides.clone();
    let (version, view) = state.read_as(&user, move |conn, actor| svc::view(conn, &guides, actor, &id)).await?;
    Ok(with_etag(version, &view))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/gateway", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::GatewayBody, responses((status = 200, body = crate::services::assessments::GatewayOutcome)))]
pub async fn gateway(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    // A body with `checks` answers the guide's checks; any other is the v1 fields.
    let names_checks = body
        .bytes()
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .is_some_and(|v| v.get("checks").is_some());
    let input = match names_checks {
        true => body.json().map(svc::GatewayBody::Checks),
        false => body.json().map(svc::GatewayBody::Fields),
    };
    let guides = state.guides.clone();
    let out = state.run_as(&user, move |conn, actor| svc::record_gateway(conn, &guides, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/panel", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::PanelInput, responses((status = 200, description = "the panel (its version as ETag)", body = crate::services::views::PanelAppointed)))]
pub async fn panel(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides, rules) = (body.json(), state.guides.clone(), state.assessor_rules);
    let (row, warnings) =
        state.run_as(&user, move |conn, actor| svc::appoint_panel(conn, &guides, rules, actor, &id, input)).await?;
    Ok(with_etag(row.version, &PanelAppointed::new(row, warnings)))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/declaration", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::DeclarationInput, responses((status = 200, body = crate::services::assessments::StoredDeclaration)))]
pub async fn declaration(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.run_as(&user, move |conn, actor| svc::declare(conn, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/adjustments", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::AdjustmentsInput, responses((status = 200, description = "the record as saved (it replaces the one before)", body = crate::services::assessments::StoredAdjustments)))]
pub async fn adjustments(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.run_as(&user, move |conn, actor| svc::record_adjustments(conn, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/sign-off", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::SignOffInput, responses((status = 200, body = crate::services::assessments::SignOff)))]
pub async fn sign_off(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.run_as(&user, move |conn, actor| svc::sign_off(conn, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/viva-record", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::VivaRecordInput, responses((status = 200, body = crate::services::assessments::StoredVivaRecord)))]
pub async fn viva_record(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.run_as(&user, move |conn, actor| svc::record_viva(conn, &guides, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/evidence", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::EvidenceInput, responses((status = 201, description = "the evidence record", body = crate::services::assessments::EvidenceRecord)))]
pub async fn record_evidence(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &svc::record_evidence(conn, &guides, actor, &id, input)?)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}/evidence", tag = "assessments", params(("id" = String, Path, description = "the assessment")), responses((status = 200, description = "the evidence kinds of its guide and its evidence records, oldest first", body = crate::services::assessments::EvidenceView)))]
pub async fn evidence(state: web::Data<AppState>, user: Caller, id: Id) -> AppResult<HttpResponse> {
    let guides = state.guides.clone();
    let out = state.read_as(&user, move |conn, actor| svc::view_evidence(conn, &guides, actor, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/scores", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::ScoresInput, responses((status = 200, body = crate::services::assessments::SheetState)))]
pub async fn save_scores(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.run_as(&user, move |conn, actor| svc::save_scores(conn, &guides, actor, &id, input)).await?;
    Ok(with_etag(out.version, &out))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}/scores", tag = "assessments", params(("id" = String, Path, description = "the assessment")), responses((status = 200, body = crate::services::assessments::SheetsView)))]
pub async fn sheets(state: web::Data<AppState>, user: Caller, id: Id) -> AppResult<HttpResponse> {
    let out = state.read_as(&user, move |conn, actor| svc::view_sheets(conn, actor, &id)).await?;
    Ok(with_etag(out.own_version, &out))
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}/consensus", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::ConsensusInput, responses((status = 200, body = crate::services::assessments::ConsensusOutcome)))]
pub async fn consensus(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.run_as(&user, move |conn, actor| svc::record_consensus(conn, &guides, actor, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/decision", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::DecisionInput, responses((status = 200, body = crate::domain::scoring::Decision)))]
pub async fn decision(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::OK, &svc::decide(conn, &guides, actor, &id, input)?)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/moderation", tag = "assessments", params(("id" = String, Path, description = "the assessment")), request_body = crate::services::assessments::ModerationInput, responses((status = 200, body = crate::services::assessments::ModerationOutcome)))]
pub async fn moderation(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides, composer) = (body.json(), state.guides.clone(), state.composer.clone());
    let reply = post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::OK, &svc::moderate(conn, &guides, &composer, actor, &id, input)?)
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(reply)
}

#[utoipa::path(post, operation_id = "open_later_attempt", path = "/api/v1/assessments/{id}/resits", tag = "assessments", params(("id" = String, Path, description = "the released attempt that did not pass")), request_body = crate::services::assessments::LaterAttemptInput, responses((status = 201, description = "the later attempt (resit or retake) opened", body = crate::services::assessments::LaterAttemptOpened)))]
pub async fn resits(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &svc::open_later_attempt(conn, &guides, actor, &id, input)?)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/assessments/{id}/emails/resend", tag = "assessments", params(("id" = String, Path, description = "the assessment")), responses((status = 200, description = "how many failed emails were queued again", body = crate::services::views::Requeued)))]
pub async fn resend_emails(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = crate::services::Input::new(Ok(()), body.if_match.clone());
    let reply = post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::OK, &Requeued { requeued: svc::resend_failed_emails(conn, actor, &id, input)? })
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(reply)
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}/audit", tag = "assessments", params(("id" = String, Path, description = "the assessment")), responses((status = 200, body = Vec<crate::services::assessments::AuditView>)))]
pub async fn audit(state: web::Data<AppState>, user: Caller, id: Id) -> AppResult<HttpResponse> {
    let out = state.read_as(&user, move |conn, actor| svc::audit_trail(conn, actor, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}
