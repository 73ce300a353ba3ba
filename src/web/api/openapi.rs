//! `GET /api/v1/openapi.json`: the v1 API described as OpenAPI 3.1, generated (utoipa) from the
//! handlers' `#[utoipa::path]` attributes and from the services' typed inputs and answers
//! (`#[derive(ToSchema)]` beside their `Deserialize`/`Serialize`). What belongs here: the list of
//! described operations and what every operation shares (the bearer token, the error body).
//!
//! Like `/healthz`, the description is public: it names routes and shapes, never data.

use actix_web::HttpResponse;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use super::{appeals, assessments, people, reports, standards};
use crate::domain::error::ErrorCode;

/// The contract's error body: `{"error": {"code", "message"}}`, on every 4xx and 5xx.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body AppError writes; never built")]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// A refusal: a stable snake_case code and a message for a person (naming the field at fault).
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes the body AppError writes; never built")]
pub struct ErrorDetail {
    #[schema(schema_with = error_codes)]
    code: String,
    message: String,
}

/// Every code a refusal may carry ([`ErrorCode::ALL`]), as the schema's enum.
fn error_codes() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("a stable snake_case code (the README's table of error codes)"))
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "epa-panel", description = "End-point assessment panel scoring: the v1 integration contract."),
    paths(
        people::create_organisation,
        people::create_user,
        people::show_user,
        people::assessor_record,
        people::create_apprentice,
        standards::list,
        standards::show,
        standards::import,
        assessments::register,
        assessments::list,
        assessments::show,
        assessments::gateway,
        assessments::panel,
        assessments::declaration,
        assessments::sign_off,
        assessments::adjustments,
        assessments::viva_record,
        assessments::record_evidence,
        assessments::evidence,
        assessments::save_scores,
        assessments::sheets,
        assessments::consensus,
        assessments::decision,
        assessments::moderation,
        assessments::audit,
        assessments::resend_emails,
        assessments::resits,
        appeals::lodge,
        appeals::list,
        appeals::show,
        appeals::reviewer,
        appeals::decision,
        reports::scores,
        reports::outcomes,
        reports::assessors,
        reports::agreement,
        reports::independence,
        reports::trends,
        reports::verification_sample,
        openapi_json,
    ),
    // SavedGateway's parts: GatewayView describes its fields inline (present once saved), so
    // the schemas its fields refer to are listed here.
    components(schemas(
        ErrorBody,
        ErrorDetail,
        crate::domain::assessment::KnowledgeRoute,
        crate::services::assessments::KnowledgeGap,
        crate::services::assessments::Confirmation,
        crate::services::views::GatewayChange,
    )),
    modifiers(&Shared)
)]
pub struct ApiDoc;

/// What every operation shares: the bearer token (except the description itself) and the error
/// body on every refusal.
struct Shared;

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        let error = ResponseBuilder::new()
            .description("a refusal: 400 bad input, 401 no or bad token, 403 not allowed, 404 unknown or not visible, 409 not possible now, 412 stale If-Match, 413 too large")
            .content("application/json", Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody")))))
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = path == "/api/v1/openapi.json";
            for operation in [&mut item.get, &mut item.put, &mut item.post].into_iter().flatten() {
                operation.responses.responses.insert("default".to_string(), RefOr::T(error.clone()));
                if !public {
                    let bearer = utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new());
                    operation.security = Some(vec![bearer]);
                }
            }
        }
    }
}

/// The description as JSON.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This description (public, like `/healthz`).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "this description (OpenAPI 3.1)", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_described_with_its_error_body() {
        let doc = serde_json::to_value(document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut ids = std::collections::HashSet::new();
        assert!(paths.contains_key("/api/v1/assessments/{id}/scores"), "{doc}");
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["responses"]["default"].is_object(), "{method} {path}: no error response");
                assert!(ids.insert(op["operationId"].to_string()), "{method} {path}: operationId used twice");
                let public = path == "/api/v1/openapi.json";
                assert_eq!(op.get("security").is_some(), !public, "{method} {path}: security");
            }
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let codes = &schemas["ErrorDetail"]["properties"]["code"]["enum"];
        assert_eq!(codes.as_array().map(Vec::len), Some(ErrorCode::ALL.len()), "{codes}");
        assert!(codes.as_array().unwrap().contains(&serde_json::json!("stale_version")), "{codes}");
        for name in [
            "GatewayInput",
            "GatewayChecksInput",
            "CheckAnswer",
            "CheckView",
            "Certificate",
            "ScoresInput",
            "SheetsView",
            "Decision",
            "ErrorBody",
            "ItemKey",
        ] {
            assert!(schemas.contains_key(name), "{name} missing: {schemas:?}");
        }
    }
}
