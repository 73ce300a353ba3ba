//! Standards: the panel guides.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::standards::Imported;
use crate::services::views::{ImportedStandard, StandardSummary};
use crate::web::{created, post_once, AppState, Body, Caller};

#[utoipa::path(get, operation_id = "list_standards", path = "/api/v1/standards", tag = "standards", responses((status = 200, description = "the latest version of every standard", body = Vec<crate::services::views::StandardSummary>)))]
pub async fn list(state: web::Data<AppState>, user: Caller) -> AppResult<HttpResponse> {
    let guides = state.guides.clone();
    let all = state.read_as(&user, move |conn, _| guides.list_latest(conn)).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(|g| StandardSummary::from(&**g)).collect::<Vec<_>>()))
}

#[utoipa::path(get, operation_id = "show_standard", path = "/api/v1/standards/{id}", tag = "standards", params(("id" = String, Path, description = "the standard")), responses((status = 200, description = "the latest version of the guide, with its score_items: [{component, criterion}], seats, tie_breaker (null for one seat), viva_required, gateway (the guide's checks, or the four v1 checks when it lists none), and each criterion's title and group (or null)", body = crate::domain::guide::Guide)))]
pub async fn show(state: web::Data<AppState>, user: Caller, id: web::Path<String>) -> AppResult<HttpResponse> {
    let guides = state.guides.clone();
    let guide = state
        .read_as(&user, move |conn, _| guides.latest(conn, &id))
        .await?
        .ok_or_else(|| AppError::not_found("standard"))?;
    let mut body = serde_json::to_value(&*guide).map_err(anyhow::Error::from)?;
    body["score_items"] = serde_json::to_value(guide.score_items()).map_err(anyhow::Error::from)?;
    body["seats"] = serde_json::json!(guide.seats().iter().map(|s| s.as_str()).collect::<Vec<_>>());
    body["tie_breaker"] = serde_json::json!(guide.tie_breaker().map(|s| s.as_str()));
    body["viva_required"] = serde_json::json!(guide.viva_required());
    // The guide's gateway checks, in order (the four v1 checks for a guide that lists none).
    body["gateway"] = serde_json::to_value(guide.gateway_checks()).map_err(anyhow::Error::from)?;
    if let Some(criteria) = body["criteria"].as_array_mut() {
        for c in criteria.iter_mut().filter_map(|c| c.as_object_mut()) {
            for key in ["title", "group"] {
                c.entry(key).or_insert(serde_json::Value::Null);
            }
        }
    }
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(post, path = "/api/v1/standards", tag = "standards", request_body(content = String, content_type = "application/toml", description = "a panel guide file"), responses((status = 201, description = "a new guide or version", body = crate::services::views::ImportedStandard), (status = 200, description = "the same guide again", body = crate::services::views::ImportedStandard)))]
pub async fn import(state: web::Data<AppState>, user: Caller, body: Body) -> AppResult<HttpResponse> {
    let text = body.bytes().and_then(|bytes| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| AppError::bad_input(ErrorCode::InvalidBody, "a panel guide must be UTF-8 TOML").at("body"))
    });
    let guides = state.guides.clone();
    post_once(&state, &user, &body, move |conn, actor| {
        if actor.role != Role::Admin {
            return Err(AppError::forbidden("only an admin of the assessment body may import a panel guide"));
        }
        let (guide, how) = guides.import(conn, Some(actor), &text?)?;
        let status = if how == Imported::Created { StatusCode::CREATED } else { StatusCode::OK };
        created(status, &ImportedStandard::from(&*guide))
    })
    .await
}
