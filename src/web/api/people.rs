//! Organisations, users and apprentices (admin).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::error::AppResult;
use crate::services::views::{NewApprenticeView, NewUserView, OrganisationView};
use crate::services::{assessors, people};
use crate::web::{created, post_once, AppState, Body, Caller};

#[utoipa::path(post, path = "/api/v1/organisations", tag = "people", request_body = crate::services::people::NewOrganisation, responses((status = 201, description = "the organisation created", body = crate::services::views::OrganisationView)))]
pub async fn create_organisation(state: web::Data<AppState>, user: Caller, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &OrganisationView::from(people::create_organisation(conn, actor, input)?))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = crate::services::people::NewUser, responses((status = 201, description = "the user and its token, shown this once", body = crate::services::views::NewUserView)))]
pub async fn create_user(state: web::Data<AppState>, user: Caller, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &NewUserView::from(people::create_user(conn, Some(actor), input)?))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/apprentices", tag = "people", request_body = crate::services::people::NewApprentice, responses((status = 201, description = "the apprentice registered", body = crate::services::views::NewApprenticeView)))]
pub async fn create_apprentice(state: web::Data<AppState>, user: Caller, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    post_once(&state, &user, &body, move |conn, actor| {
        created(StatusCode::CREATED, &NewApprenticeView::from(people::create_apprentice(conn, actor, input)?))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "people", params(("id" = String, Path, description = "the user")), responses((status = 200, description = "the user, with their assessor record (independent assessors)", body = crate::services::assessors::UserView)))]
pub async fn show_user(state: web::Data<AppState>, user: Caller, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let out = state.read_as(&user, move |conn, actor| assessors::show_user(conn, actor, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(put, path = "/api/v1/users/{id}/assessor-record", tag = "people", params(("id" = String, Path, description = "the independent assessor")), request_body = crate::services::assessors::AssessorRecordInput, responses((status = 200, description = "the record as saved (it replaces the one before)", body = crate::services::assessors::AssessorRecordView)))]
pub async fn assessor_record(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<String>,
    body: Body,
) -> AppResult<HttpResponse> {
    let (id, input, guides) = (id.into_inner(), body.json(), state.guides.clone());
    let out = state
        .run_as(&user, move |conn, actor| assessors::save_assessor_record(conn, &guides, actor, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
