//! HTTP: the route table, the shared state, and the extractors (the calling user, the raw body).
//! Handlers live in `api/` and stay thin: parse, call a service, respond.

pub mod api;
pub mod error;
pub mod pages;
pub mod text_guard;

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use tokio::sync::Notify;

use crate::db::{Db, DbConnection};
use crate::error::{AppError, ErrorCode};
use crate::mail::Composer;
use crate::services::standards::Guides;
use crate::services::{idempotency, parse_json, people, Actor, Input};
use actix_web::http::StatusCode;

/// Largest request body accepted (a panel guide is the biggest thing anyone sends).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub guides: Arc<Guides>,
    pub composer: Composer,
    /// Wakes the outbox worker when mail is queued.
    pub mail_queued: Arc<Notify>,
    /// `EPA_ASSESSOR_RULES`: whether an ineligible independent assessor is reported or refused.
    pub assessor_rules: crate::domain::eligibility::AssessorRules,
}

/// The route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use api::*;
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .route("/healthz", web::get().to(health::healthz))
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(openapi::openapi_json))
                .route("/organisations", web::post().to(people::create_organisation))
                .route("/users", web::post().to(people::create_user))
                .route("/users/{id}", web::get().to(people::show_user))
                .route("/users/{id}/assessor-record", web::put().to(people::assessor_record))
                .route("/apprentices", web::post().to(people::create_apprentice))
                .route("/standards", web::get().to(standards::list))
                .route("/standards", web::post().to(standards::import))
                .route("/standards/{id}", web::get().to(standards::show))
                .route("/assessments", web::get().to(assessments::list))
                .route("/assessments", web::post().to(assessments::register))
                .service(
                    web::scope("/assessments/{id}")
                        .route("", web::get().to(assessments::show))
                        .route("/gateway", web::put().to(assessments::gateway))
                        .route("/panel", web::put().to(assessments::panel))
                        .route("/declaration", web::put().to(assessments::declaration))
                        .route("/viva-record", web::put().to(assessments::viva_record))
                        .route("/evidence", web::post().to(assessments::record_evidence))
                        .route("/evidence", web::get().to(assessments::evidence))
                        .route("/scores", web::put().to(assessments::save_scores))
                        .route("/scores", web::get().to(assessments::sheets))
                        .route("/consensus", web::put().to(assessments::consensus))
                        .route("/decision", web::post().to(assessments::decision))
                        .route("/sign-off", web::put().to(assessments::sign_off))
                        .route("/adjustments", web::put().to(assessments::adjustments))
                        .route("/moderation", web::post().to(assessments::moderation))
                        .route("/audit", web::get().to(assessments::audit))
                        .route("/emails/resend", web::post().to(assessments::resend_emails))
                        .route("/resits", web::post().to(assessments::resits))
                        .route("/appeals", web::post().to(appeals::lodge)),
                )
                .route("/appeals", web::get().to(appeals::list))
                .route("/appeals/{appeal_id}", web::get().to(appeals::show))
                .route("/appeals/{appeal_id}/reviewer", web::put().to(appeals::reviewer))
                .route("/appeals/{appeal_id}/decision", web::post().to(appeals::decision))
                .route("/reports/scores.csv", web::get().to(reports::scores))
                .route("/reports/outcomes.csv", web::get().to(reports::outcomes))
                .route("/reports/assessors.csv", web::get().to(reports::assessors))
                .route("/reports/agreement.csv", web::get().to(reports::agreement))
                .route("/reports/independence.csv", web::get().to(reports::independence))
                .route("/reports/trends.csv", web::get().to(reports::trends))
                .route("/reports/verification-sample.csv", web::get().to(reports::verification_sample)),
        )
        .configure(pages::routes)
        .default_service(web::to(not_found));
}

/// Unknown addresses: the contract's JSON 404 under `/api/`, the HTML "page not found" elsewhere.
async fn not_found(req: HttpRequest, pages: Option<web::Data<pages::PagesState>>) -> HttpResponse {
    use actix_web::ResponseError;
    match pages {
        Some(pages) if !req.path().starts_with("/api/") => {
            let e = AppError::NotFound("There is no page at this address.".into());
            pages.error_page(None, &e).error_response()
        }
        _ => AppError::NotFound("no such route".into()).error_response(),
    }
}

/// Headers on every response unless a handler sets its own: no sniffing, no framing, no
/// referrer, nothing cached (responses carry people's assessments), and a CSP that allows
/// nothing to load for JSON and CSV.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cache-Control", "no-store"))
        .add(("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"))
}

/// Compresses responses (gzip) for clients that ask for it with `Accept-Encoding`; streamed
/// bodies (the CSV reports) are compressed as they stream.
pub fn compression() -> actix_web::middleware::Compress {
    actix_web::middleware::Compress::default()
}

/// The caller's bearer token, taken from the header without touching the database (401 when
/// missing). Who it belongs to is looked up by [`AppState::run_as`] / [`AppState::read_as`] on
/// the connection and in the blocking hop that also runs the request's service call: one hop
/// and one check-out per request.
pub struct Caller {
    token: String,
}

impl Caller {
    pub fn token(&self) -> &str {
        &self.token
    }

    fn from_headers(req: &HttpRequest) -> Result<Self, AppError> {
        req.headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(|token| Caller { token })
            .ok_or_else(|| AppError::Unauthorized("send your token as `Authorization: Bearer <token>`".into()))
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Caller::from_headers(req))
    }
}

/// The user a bearer token belongs to (401 when unknown or revoked).
pub fn authenticate(conn: &mut DbConnection, token: &str) -> Result<Actor, AppError> {
    let user = people::user_for_token(conn, token)?
        .ok_or_else(|| AppError::Unauthorized("the token is unknown or revoked".into()))?;
    Actor::from_user(&user)
}

impl AppState {
    /// Authenticates the caller and runs `f` as them, on one connection (SQLite's writer) in one
    /// blocking hop: for changes. The token is checked first, so 401 comes before anything else.
    pub async fn run_as<T, F>(&self, caller: &Caller, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &Actor) -> Result<T, AppError> + Send + 'static,
    {
        let token = caller.token.clone();
        self.db
            .run(move |conn| {
                let actor = authenticate(conn, &token)?;
                f(conn, &actor)
            })
            .await
    }

    /// As [`run_as`](Self::run_as) for a request that only reads: on SQLite one of the
    /// read-only readers, which do not wait for the writer.
    pub async fn read_as<T, F>(&self, caller: &Caller, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &Actor) -> Result<T, AppError> + Send + 'static,
    {
        let token = caller.token.clone();
        self.db
            .read(move |conn| {
                let actor = authenticate(conn, &token)?;
                f(conn, &actor)
            })
            .await
    }
}

/// A request's body (size limit answered as the contract's 413) and the headers that qualify it:
/// `If-Match` (the version the caller last saw) and `Idempotency-Key`.
///
/// A body over the limit is not refused while it is extracted: the refusal waits until the body
/// is used, after the caller's token is checked, so an unknown token is 401 whatever it sent.
pub struct Body {
    bytes: web::Bytes,
    too_large: bool,
    pub if_match: Option<String>,
    pub idempotency_key: Option<String>,
    /// Method and path, which with the bytes identify a request for idempotency.
    pub request: (String, String),
}

impl Body {
    /// The body's bytes, or the contract's 413 when it was over the limit.
    pub fn bytes(&self) -> Result<&web::Bytes, AppError> {
        if self.too_large {
            return Err(AppError::TooLarge(BODY_LIMIT));
        }
        Ok(&self.bytes)
    }

    /// The body as JSON for a service, with the caller's `If-Match`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Input<T> {
        Input::new(self.bytes().and_then(|bytes| parse_json(bytes)), self.if_match.clone())
    }

    fn fingerprint(&self) -> String {
        idempotency::fingerprint(&self.request.0, &self.request.1, &self.bytes)
    }
}

impl FromRequest for Body {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let if_match = header("if-match");
        let idempotency_key = header("idempotency-key");
        let request = (req.method().to_string(), req.path().to_string());
        Box::pin(async move {
            let (bytes, too_large) = match bytes.await {
                Ok(bytes) => (bytes, false),
                Err(e) if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => {
                    (web::Bytes::new(), true)
                }
                Err(e) => return Err(AppError::bad_input(ErrorCode::InvalidBody, format!("{e}")).at("body")),
            };
            Ok(Body { bytes, too_large, if_match, idempotency_key, request })
        })
    }
}

/// Runs a POST's service call as the caller, once per `Idempotency-Key` when the client sends
/// one: a retry gets the first response back (marked `Idempotent-Replayed: true`) and changes
/// nothing. Authentication, the key and the call share one connection and one blocking hop.
pub async fn post_once<F>(state: &AppState, caller: &Caller, body: &Body, f: F) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection, &Actor) -> Result<(u16, serde_json::Value), AppError> + Send + 'static,
{
    // Over the limit: refused once the token is known good, before the key is looked at.
    let too_large = body.bytes().err();
    let response = match body.idempotency_key.clone() {
        None => {
            let (status, body) = state
                .run_as(caller, move |conn, actor| match too_large {
                    Some(e) => Err(e),
                    None => f(conn, actor),
                })
                .await?;
            idempotency::Response { status, body, replayed: false }
        }
        Some(key) => {
            let request = body.fingerprint();
            state
                .run_as(caller, move |conn, actor| {
                    if let Some(e) = too_large {
                        return Err(e);
                    }
                    let actor = actor.clone();
                    idempotency::once(conn, &actor.id, &key, &request, |conn| f(conn, &actor), error::answer_of)
                })
                .await?
        }
    };
    let status = StatusCode::from_u16(response.status).map_err(anyhow::Error::from)?;
    let mut reply = HttpResponse::build(status);
    if response.replayed {
        reply.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(reply.json(response.body))
}

/// Serialises a service result for [`post_once`].
pub fn created<T: serde::Serialize>(status: StatusCode, value: &T) -> Result<(u16, serde_json::Value), AppError> {
    Ok((status.as_u16(), serde_json::to_value(value).map_err(anyhow::Error::from)?))
}

/// The start of a CSV download named `name` (the API's reports and the pages' alike).
pub fn csv_attachment(name: &str) -> actix_web::HttpResponseBuilder {
    let mut reply = HttpResponse::Ok();
    reply
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")));
    reply
}

/// A JSON response carrying the version it shows as its `ETag`.
pub fn with_etag<T: serde::Serialize>(version: i64, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header(("ETag", crate::services::etag(version))).json(body)
}
