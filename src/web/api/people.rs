//! Organisations, users and apprentices (admin).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::AppResult;
use crate::services::{parse_json, people};
use crate::web::{AppState, CurrentUser, RawBody};

pub async fn create_organisation(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let org = state.db.run(move |conn| people::create_organisation(conn, &user.0, input)).await?;
    Ok(crate::web::json(StatusCode::CREATED, &org))
}

pub async fn create_user(state: web::Data<AppState>, user: CurrentUser, body: RawBody) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let (created, token) = state.db.run(move |conn| people::create_user(conn, Some(&user.0), input)).await?;
    Ok(crate::web::json(
        StatusCode::CREATED,
        &json!({"id": created.id, "email": created.email, "name": created.name, "role": created.role,
                "organisation_id": created.organisation_id, "token": token}),
    ))
}

pub async fn create_apprentice(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let apprentice = state.db.run(move |conn| people::create_apprentice(conn, &user.0, input)).await?;
    Ok(crate::web::json(StatusCode::CREATED, &apprentice))
}
