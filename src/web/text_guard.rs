//! Refuses a request whose address holds a control character (`/assessments/%00`, `?after=%00`)
//! before any handler looks it up: PostgreSQL cannot compare with a NUL (it answers with an
//! error), SQLite would, and neither means anything in an id. The API answers with the contract's
//! 400 naming the part at fault; the pages with a page that says the same. `next` is left to the
//! sign-in page, which sends anything odd there to the home page.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use super::pages::session::percent_decode;
use super::pages::PageError;
use crate::domain::text::{invalid_char, problem};
use crate::error::{AppError, ErrorCode};

/// The middleware (`App::wrap(from_fn(refuse_control_characters))`).
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(message) = problem_in(req.path(), req.query_string()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let response = if req.path().starts_with("/api/") {
        AppError::bad_input(ErrorCode::InvalidText, message).error_response()
    } else {
        PageError::plain(400, &format!("{message}. Check the address and try again.")).error_response()
    };
    Ok(req.into_response(response).map_into_boxed_body())
}

/// What is wrong with a request's path or query, if anything.
fn problem_in(path: &str, query: &str) -> Option<String> {
    if let Some(c) = percent_decode(path).as_deref().and_then(invalid_char) {
        return Some(format!("the address (path) {}", problem(c)));
    }
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(&key.replace('+', " ")).unwrap_or_default();
        if key == "next" {
            continue;
        }
        let bad =
            invalid_char(&key).or_else(|| percent_decode(&value.replace('+', " ")).as_deref().and_then(invalid_char));
        if let Some(c) = bad {
            let key: String = key.chars().filter(|c| !c.is_control()).collect();
            return Some(format!("{key}: {}", problem(c)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_the_address_are_named() {
        assert_eq!(problem_in("/api/v1/assessments/abc", "after=x&limit=2"), None);
        assert!(problem_in("/api/v1/assessments/%00", "").unwrap().starts_with("the address (path) contains"));
        assert!(problem_in("/api/v1/assessments", "limit=2&after=a%00").unwrap().starts_with("after: contains"));
        assert!(problem_in("/reports", "standard_id=%1B").unwrap().starts_with("standard_id: contains"));
        assert_eq!(problem_in("/", "next=%2F%00evil"), None, "the sign-in page deals with next");
        assert_eq!(problem_in("/reports", "from=2026-01-01&x=a+b%20c%0A"), None, "line feeds are text");
    }
}
