//! Assessments: one apprentice's EPA, step by step.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::AppResult;
use crate::services::{assessments as svc, parse_json};
use crate::web::{AppState, CurrentUser, RawBody};

type Id = web::Path<String>;

pub async fn register(state: web::Data<AppState>, user: CurrentUser, body: RawBody) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let guides = state.guides.clone();
    let row = state.db.run(move |conn| svc::register(conn, &guides, &user.0, input)).await?;
    Ok(crate::web::json(
        StatusCode::CREATED,
        &json!({"id": row.id, "status": row.status, "standard_id": row.standard_id, "standard_version": row.standard_version,
                "apprentice_id": row.apprentice_id}),
    ))
}

pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> AppResult<HttpResponse> {
    let all = state.db.run(move |conn| svc::list(conn, &user.0)).await?;
    Ok(HttpResponse::Ok().json(all))
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let view = state.db.run(move |conn| svc::view(conn, &user.0, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn gateway(state: web::Data<AppState>, user: CurrentUser, id: Id, body: RawBody) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let out = state.db.run(move |conn| svc::record_gateway(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn panel(state: web::Data<AppState>, user: CurrentUser, id: Id, body: RawBody) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let row = state.db.run(move |conn| svc::appoint_panel(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": row.status, "independent_assessor_id": row.independent_assessor_id,
        "viva_at": row.viva_at, "mode": row.viva_mode,
    })))
}

pub async fn declaration(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let out = state.db.run(move |conn| svc::declare(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn viva_record(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let out = state.db.run(move |conn| svc::record_viva(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn save_scores(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let guides = state.guides.clone();
    let out = state.db.run(move |conn| svc::save_scores(conn, &guides, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn sheets(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let out = state.db.run(move |conn| svc::view_sheets(conn, &user.0, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn consensus(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let guides = state.guides.clone();
    let out = state.db.run(move |conn| svc::record_consensus(conn, &guides, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn decision(state: web::Data<AppState>, user: CurrentUser, id: Id, body: RawBody) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let guides = state.guides.clone();
    let out = state.db.run(move |conn| svc::decide(conn, &guides, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn moderation(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: RawBody,
) -> AppResult<HttpResponse> {
    let input = parse_json(&body.0);
    let guides = state.guides.clone();
    let composer = state.composer.clone();
    let out = state.db.run(move |conn| svc::moderate(conn, &guides, &composer, &user.0, &id, input)).await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Ok().json(out))
}

pub async fn audit(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let out = state.db.run(move |conn| svc::audit_trail(conn, &user.0, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}
