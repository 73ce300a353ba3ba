//! HTTP: the route table, the shared state, and the extractors (the calling user, the raw body).
//! Handlers live in `api/` and stay thin: parse, call a service, respond.

pub mod api;

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use tokio::sync::Notify;

use crate::db::Db;
use crate::error::AppError;
use crate::mail::Composer;
use crate::services::standards::Guides;
use crate::services::{people, Actor};

/// Largest request body accepted (a panel guide is the biggest thing anyone sends).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub guides: Arc<Guides>,
    pub composer: Composer,
    /// Wakes the outbox worker when mail is queued.
    pub mail_queued: Arc<Notify>,
}

/// The route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use api::*;
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .route("/healthz", web::get().to(health::healthz))
        .service(
            web::scope("/api/v1")
                .route("/organisations", web::post().to(people::create_organisation))
                .route("/users", web::post().to(people::create_user))
                .route("/apprentices", web::post().to(people::create_apprentice))
                .route("/standards", web::get().to(standards::list))
                .route("/standards", web::post().to(standards::import))
                .route("/standards/{id}", web::get().to(standards::show))
                .route("/assessments", web::get().to(assessments::list))
                .route("/assessments", web::post().to(assessments::register))
                .route("/assessments/{id}", web::get().to(assessments::show))
                .route("/assessments/{id}/gateway", web::put().to(assessments::gateway))
                .route("/assessments/{id}/panel", web::put().to(assessments::panel))
                .route("/assessments/{id}/declaration", web::put().to(assessments::declaration))
                .route("/assessments/{id}/viva-record", web::put().to(assessments::viva_record))
                .route("/assessments/{id}/scores", web::put().to(assessments::save_scores))
                .route("/assessments/{id}/scores", web::get().to(assessments::sheets))
                .route("/assessments/{id}/consensus", web::put().to(assessments::consensus))
                .route("/assessments/{id}/decision", web::post().to(assessments::decision))
                .route("/assessments/{id}/moderation", web::post().to(assessments::moderation))
                .route("/assessments/{id}/audit", web::get().to(assessments::audit))
                .route("/reports/scores.csv", web::get().to(reports::scores))
                .route("/reports/outcomes.csv", web::get().to(reports::outcomes))
                .route("/reports/assessors.csv", web::get().to(reports::assessors)),
        )
        .default_service(web::to(|| async { Err::<HttpResponse, _>(AppError::NotFound("no such route".into())) }));
}

/// The user behind the request's bearer token (401 when missing, unknown or revoked).
pub struct CurrentUser(pub Actor);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::Unauthorized("send your token as `Authorization: Bearer <token>`".into()))?;
            let user = state.db.run(move |conn| people::user_for_token(conn, &token)).await?;
            let user = user.ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))?;
            Ok(CurrentUser(Actor::from_user(&user)?))
        })
    }
}

/// The request body as bytes, with the size limit answered as the contract's 413.
pub struct RawBody(pub web::Bytes);

impl FromRequest for RawBody {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            bytes.await.map(RawBody).map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge(BODY_LIMIT)
                } else {
                    AppError::bad_input("invalid_body", format!("body: {e}"))
                }
            })
        })
    }
}

/// A JSON response with a status.
pub fn json<T: serde::Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}
