//! Reviews and appeals against a released outcome: lodged on the assessment, then reviewed and
//! decided under `/appeals/{appeal_id}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::error::AppResult;
use crate::services::assessments as svc;
use crate::web::{created, post_once, AppState, Body, Caller};

type Id = web::Path<String>;

#[utoipa::path(post, operation_id = "lodge_appeal", path = "/api/v1/assessments/{id}/appeals", tag = "appeals", params(("id" = String, Path, description = "the released assessment")), request_body = crate::services::assessments::LodgeAppealInput, responses((status = 201, description = "the appeal lodged (status open)", body = crate::services::assessments::AppealView)))]
pub async fn lodge(state: web::Data<AppState>, user: Caller, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &svc::lodge_appeal(conn, &guides, actor, &id, input)?)
    })
    .await
}

#[utoipa::path(get, operation_id = "list_appeals", path = "/api/v1/appeals", tag = "appeals", responses((status = 200, description = "every appeal, newest first", body = Vec<crate::services::assessments::AppealView>)))]
pub async fn list(state: web::Data<AppState>, user: Caller) -> AppResult<HttpResponse> {
    let out = state.read_as(&user, svc::list_appeals).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(get, operation_id = "show_appeal", path = "/api/v1/appeals/{appeal_id}", tag = "appeals", params(("appeal_id" = String, Path, description = "the appeal")), responses((status = 200, body = crate::services::assessments::AppealView)))]
pub async fn show(state: web::Data<AppState>, user: Caller, appeal_id: Id) -> AppResult<HttpResponse> {
    let out = state.read_as(&user, move |conn, actor| svc::view_appeal(conn, actor, &appeal_id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, operation_id = "appoint_reviewer", path = "/api/v1/appeals/{appeal_id}/reviewer", tag = "appeals", params(("appeal_id" = String, Path, description = "the appeal")), request_body = crate::services::assessments::ReviewerInput, responses((status = 200, description = "the appeal, under review", body = crate::services::assessments::AppealView)))]
pub async fn reviewer(state: web::Data<AppState>, user: Caller, appeal_id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.run_as(&user, move |conn, actor| svc::appoint_reviewer(conn, actor, &appeal_id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(post, operation_id = "decide_appeal", path = "/api/v1/appeals/{appeal_id}/decision", tag = "appeals", params(("appeal_id" = String, Path, description = "the appeal")), request_body = crate::services::assessments::AppealDecisionInput, responses((status = 200, description = "the appeal, decided (with related)", body = crate::services::assessments::AppealView)))]
pub async fn decision(state: web::Data<AppState>, user: Caller, appeal_id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides, composer) = (body.json(), state.guides.clone(), state.composer.clone());
    let reply = post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::OK, &svc::decide_appeal(conn, &guides, &composer, actor, &appeal_id, input)?)
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(reply)
}
