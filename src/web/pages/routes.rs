//! The pages' route table: every page's path and method, and the handler that answers it.

use actix_web::web;

use super::assets::{favicon, static_file};
use super::{
    admin, appeals, assessment, assessors, auth, consensus, home, moderation, reports, scores, standardisation,
};

/// Largest form accepted (a score sheet with a comment on every item).
const FORM_LIMIT: usize = 1024 * 1024;

/// The pages' routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(FORM_LIMIT))
        .route("/", web::get().to(auth::sign_in_page))
        .route("/sign-in", web::post().to(auth::sign_in))
        .route("/sign-out", web::post().to(auth::sign_out))
        .route("/static/{name}", web::get().to(static_file))
        .route("/favicon.ico", web::get().to(favicon))
        .route("/assessments", web::get().to(home::my_assessments))
        .route("/assessments/{id}", web::get().to(assessment::overview))
        .route("/assessments/{id}/gateway", web::get().to(assessment::gateway_page))
        .route("/assessments/{id}/gateway", web::post().to(assessment::gateway_save))
        .route("/assessments/{id}/panel", web::get().to(assessment::panel_page))
        .route("/assessments/{id}/panel", web::post().to(assessment::panel_save))
        .route("/assessments/{id}/declaration", web::get().to(assessment::declaration_page))
        .route("/assessments/{id}/declaration", web::post().to(assessment::declaration_save))
        .route("/assessments/{id}/sign-off", web::post().to(assessment::sign_off_save))
        .route("/assessments/{id}/viva", web::get().to(assessment::viva_page))
        .route("/assessments/{id}/viva", web::post().to(assessment::viva_save))
        .route("/assessments/{id}/evidence", web::get().to(assessment::evidence_page))
        .route("/assessments/{id}/evidence", web::post().to(assessment::evidence_save))
        .route("/assessments/{id}/audit", web::get().to(assessment::audit_page))
        .route("/assessments/{id}/scores", web::get().to(scores::sheet_page))
        .route("/assessments/{id}/scores", web::post().to(scores::sheet_save))
        .route("/assessments/{id}/scores/review", web::get().to(scores::review_page))
        .route("/assessments/{id}/scores/submit", web::post().to(scores::submit))
        .route("/assessments/{id}/consensus", web::get().to(consensus::console_page))
        .route("/assessments/{id}/consensus", web::post().to(consensus::console_save))
        .route("/assessments/{id}/decision", web::get().to(consensus::decision_page))
        .route("/assessments/{id}/decision", web::post().to(consensus::decision_save))
        .route("/assessments/{id}/moderation", web::get().to(moderation::moderate_page))
        .route("/assessments/{id}/moderation", web::post().to(moderation::moderate_save))
        .route("/assessments/{id}/appeals", web::post().to(assessment::appeal_lodge_save))
        .route("/assessments/{id}/resits", web::post().to(assessment::later_attempt_save))
        .route("/moderation", web::get().to(moderation::queue_page))
        .route("/appeals", web::get().to(appeals::list_page))
        .route("/appeals/{id}", web::get().to(appeals::appeal_page))
        .route("/appeals/{id}/reviewer", web::post().to(appeals::reviewer_save))
        .route("/appeals/{id}/decision", web::post().to(appeals::decision_save))
        .route("/admin/people", web::get().to(admin::people_page))
        .route("/admin/people", web::post().to(admin::people_save))
        .route("/admin/register", web::get().to(admin::register_page))
        .route("/admin/register", web::post().to(admin::register_save))
        .route("/admin/import", web::get().to(admin::import_page))
        .route("/admin/import", web::post().to(admin::import_save))
        .route("/admin/standardisation-due", web::get().to(assessors::standardisation_due_page))
        .route("/reports", web::get().to(reports::reports_page))
        .route("/reports/standardisation", web::get().to(standardisation::standardisation_page))
        .route("/reports/verification-sample", web::get().to(reports::verification_sample_page))
        .route("/reports/verification-sample.csv", web::get().to(reports::verification_sample_csv))
        .route("/reports/{name}", web::get().to(reports::download));
}
