//! Assessments: one apprentice's EPA, step by step.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::assessments as svc;
use crate::web::{created, post_once, with_etag, AppState, Body, CurrentUser};

type Id = web::Path<String>;

pub async fn register(state: web::Data<AppState>, user: CurrentUser, body: Body) -> AppResult<HttpResponse> {
    let (input, actor, guides) = (body.json(), user.0.clone(), state.guides.clone());
    post_once(&state, &user, &body, move |conn| {
        let row = svc::register(conn, &guides, &actor, input)?;
        created(
            StatusCode::CREATED,
            &json!({"id": row.id, "status": row.status, "standard_id": row.standard_id,
                    "standard_version": row.standard_version, "apprentice_id": row.apprentice_id, "version": row.version}),
        )
    })
    .await
}

/// `GET /assessments[?limit=N&after=ID]`: the whole list, or one page of it.
pub async fn list(state: web::Data<AppState>, user: CurrentUser, req: HttpRequest) -> AppResult<HttpResponse> {
    let page = page_of(req.query_string())?;
    let all = state.db.run(move |conn| svc::list_page(conn, &user.0, None, &page)).await?;
    Ok(HttpResponse::Ok().json(all))
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

pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let (version, view) = state.db.run(move |conn| svc::view(conn, &user.0, &id)).await?;
    Ok(with_etag(version, &view))
}

pub async fn gateway(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.db.run(move |conn| svc::record_gateway(conn, &guides, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn panel(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let row = state.db.run(move |conn| svc::appoint_panel(conn, &user.0, &id, input)).await?;
    Ok(with_etag(
        row.version,
        &json!({"status": row.status, "independent_assessor_id": row.independent_assessor_id,
                "viva_at": row.viva_at, "mode": row.viva_mode, "version": row.version}),
    ))
}

pub async fn declaration(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.db.run(move |conn| svc::declare(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn viva_record(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let input = body.json();
    let out = state.db.run(move |conn| svc::record_viva(conn, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn save_scores(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.db.run(move |conn| svc::save_scores(conn, &guides, &user.0, &id, input)).await?;
    Ok(with_etag(out.version, &out))
}

pub async fn sheets(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let out = state.db.run(move |conn| svc::view_sheets(conn, &user.0, &id)).await?;
    Ok(with_etag(out.own_version, &out))
}

pub async fn consensus(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, guides) = (body.json(), state.guides.clone());
    let out = state.db.run(move |conn| svc::record_consensus(conn, &guides, &user.0, &id, input)).await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn decision(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, actor, guides) = (body.json(), user.0.clone(), state.guides.clone());
    post_once(&state, &user, &body, move |conn| {
        created(StatusCode::OK, &svc::decide(conn, &guides, &actor, &id, input)?)
    })
    .await
}

pub async fn moderation(state: web::Data<AppState>, user: CurrentUser, id: Id, body: Body) -> AppResult<HttpResponse> {
    let (input, actor, guides, composer) = (body.json(), user.0.clone(), state.guides.clone(), state.composer.clone());
    let reply = post_once(&state, &user, &body, move |conn| {
        created(StatusCode::OK, &svc::moderate(conn, &guides, &composer, &actor, &id, input)?)
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(reply)
}

pub async fn resend_emails(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Id,
    body: Body,
) -> AppResult<HttpResponse> {
    let input = crate::services::Input::new(Ok(()), body.if_match.clone());
    let actor = user.0.clone();
    let reply = post_once(&state, &user, &body, move |conn| {
        created(StatusCode::OK, &json!({"requeued": svc::resend_failed_emails(conn, &actor, &id, input)?}))
    })
    .await?;
    state.mail_queued.notify_one();
    Ok(reply)
}

pub async fn audit(state: web::Data<AppState>, user: CurrentUser, id: Id) -> AppResult<HttpResponse> {
    let out = state.db.run(move |conn| svc::audit_trail(conn, &user.0, &id)).await?;
    Ok(HttpResponse::Ok().json(out))
}
