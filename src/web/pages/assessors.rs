//! The assessor register's page (admin): which independent assessors are due for
//! standardisation in the next 60 days, which are overdue, and which have no record or no
//! standardisation at all.

use actix_web::HttpResponse;
use serde::Serialize;

use super::{Page, PageError};
use crate::domain::eligibility::Day;
use crate::services::assessors::{self, StandardisationDue};

/// How far ahead the page looks.
pub const HORIZON_DAYS: i64 = 60;

#[derive(Serialize)]
struct DueView {
    today: String,
    horizon: String,
    horizon_days: i64,
    due: Vec<StandardisationDue>,
}

fn day_of(d: chrono::NaiveDate) -> Result<Day, anyhow::Error> {
    let text = d.format("%Y-%m-%d").to_string();
    Day::parse(&text).ok_or_else(|| anyhow::anyhow!("{text} is not a day"))
}

/// `GET /admin/standardisation-due`
pub async fn standardisation_due_page(page: Page) -> Result<HttpResponse, PageError> {
    let today = chrono::Utc::now().date_naive();
    let horizon = today + chrono::Duration::days(HORIZON_DAYS);
    let (actor, guides) = (page.actor.clone(), page.state.guides.clone());
    let due = page
        .run(move |conn| assessors::standardisation_due(conn, &guides, &actor, day_of(today)?, day_of(horizon)?))
        .await?;
    let view = DueView {
        today: today.format("%Y-%m-%d").to_string(),
        horizon: horizon.format("%Y-%m-%d").to_string(),
        horizon_days: HORIZON_DAYS,
        due,
    };
    page.render("pages/admin_standardisation_due.html", "Standardisation due", &view)
}
