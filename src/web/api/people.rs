//! Organisations, users and apprentices (admin).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::AppResult;
use crate::services::people;
use crate::web::{created, post_once, AppState, Body, CurrentUser};

#[utoipa::path(post, path = "/api/v1/organisations", tag = "people", request_body = crate::services::people::NewOrganisation, responses((status = 201, description = "the organisation: {id, name, kind}")))]
pub async fn create_organisation(state: web::Data<AppState>, user: CurrentUser, body: Body) -> AppResult<HttpResponse> {
    let (input, actor) = (body.json(), user.0.clone());
    post_once(&state, &user, &body, move |conn| {
        created(StatusCode::CREATED, &people::create_organisation(conn, &actor, input)?)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = crate::services::people::NewUser, responses((status = 201, description = "the user and its token, shown this once: {id, email, name, role, organisation_id, token}")))]
pub async fn create_user(state: web::Data<AppState>, user: CurrentUser, body: Body) -> AppResult<HttpResponse> {
    let (input, actor) = (body.json(), user.0.clone());
    post_once(&state, &user, &body, move |conn| {
        let (u, token) = people::create_user(conn, Some(&actor), input)?;
        created(
            StatusCode::CREATED,
            &json!({"id": u.id, "email": u.email, "name": u.name, "role": u.role,
                    "organisation_id": u.organisation_id, "token": token}),
        )
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/apprentices", tag = "people", request_body = crate::services::people::NewApprentice, responses((status = 201, description = "the apprentice: {id, name, email, employer_id, training_provider_id, created_at}")))]
pub async fn create_apprentice(state: web::Data<AppState>, user: CurrentUser, body: Body) -> AppResult<HttpResponse> {
    let (input, actor) = (body.json(), user.0.clone());
    post_once(&state, &user, &body, move |conn| {
        created(StatusCode::CREATED, &people::create_apprentice(conn, &actor, input)?)
    })
    .await
}
