//! `GET /healthz`: 200 once the database answers.

use actix_web::{web, HttpResponse};

use crate::error::AppResult;
use crate::web::AppState;

pub async fn healthz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state.db.run(|conn| crate::db::ping(conn).map_err(crate::error::AppError::from)).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok\n"))
}
