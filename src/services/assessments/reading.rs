//! Reading an assessment: its view (built by `services::views`), the list a caller may see (one
//! keyset page read in a fixed number of queries), and its audit trail.

use serde::Serialize;
use serde_json::Value;

use crate::db::assessments::Visible;
pub use crate::db::assessments::{ListRow, Page};
use crate::db::models::*;
use crate::db::sheets::{ListedSheet, SheetStateRow};
use crate::db::DbConnection;
use crate::domain::assessment::Status;
use crate::domain::permissions::Action;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::services::views::{self, AssessmentView};
use crate::services::Actor;

use super::{find_for, guide_of};
use crate::services::standards::Guides;

/// The assessment as the contract's `GET /assessments/{id}` shows it to `actor`, with its
/// version (for the `ETag`).
pub fn view(conn: &mut DbConnection, guides: &Guides, actor: &Actor, id: &str) -> AppResult<(i64, AssessmentView)> {
    let found = find_for(conn, actor, id, Action::ViewAssessment)?;
    let loaded = ListRow {
        apprentice: find_apprentice(conn, &found.row.apprentice_id)?,
        emails: outbox_of(conn, &found.row.id)?,
        // Only an assessment back in consensus shows its refer-back.
        latest_moderation: match found.status == Status::Consensus {
            true => latest_moderation_of(conn, &found.row.id)?,
            false => None,
        },
        sign_offs: sign_offs_of(conn, std::slice::from_ref(&found.row.id))?,
        sheets: SheetStateRow::among(conn, std::slice::from_ref(&found.row.id))?,
        appeals: crate::db::appeals::appeals_of(conn, std::slice::from_ref(&found.row.id))?,
        next_id: crate::db::assessments::later_attempts_of(conn, std::slice::from_ref(&found.row.id))?
            .remove(&found.row.id),
        row: found.row,
    };
    let guide = guide_of(conn, guides, &loaded.row)?;
    Ok((loaded.row.version, views::assessment(actor, &loaded, &guide)?))
}

/// Most assessments one page of `GET /assessments` holds.
pub const LIST_LIMIT_MAX: i64 = 500;

/// The assessments `actor` may see, newest first (the whole list).
pub fn list(conn: &mut DbConnection, guides: &Guides, actor: &Actor) -> AppResult<Vec<AssessmentView>> {
    list_page(conn, guides, actor, None, &Page::default())
}

/// One page of the assessments `actor` may see whose status is one of `statuses` (None: any),
/// newest first, in a number of queries that does not grow with the page (see
/// [`crate::db::assessments::list_page`]). 400 naming `limit` outside 1–500, naming `after`
/// when it is not an assessment of this list.
pub fn list_page(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    statuses: Option<&[&str]>,
    page: &Page,
) -> AppResult<Vec<AssessmentView>> {
    limit_allowed(page)?;
    let loaded = list_loaded::<SheetStateRow>(conn, actor, statuses, page)?;
    views_of(conn, guides, actor, &loaded)
}

/// [`list_page`] as the contract's JSON body (the same bytes as serialising its views): each
/// view is serialised as soon as it is made, straight into the body, and dropped.
pub fn list_page_json(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    statuses: Option<&[&str]>,
    page: &Page,
) -> AppResult<Vec<u8>> {
    use serde::ser::{SerializeSeq, Serializer as _};
    limit_allowed(page)?;
    let loaded = list_loaded::<SheetStateRow>(conn, actor, statuses, page)?;
    let failed = |e: serde_json::Error| anyhow::anyhow!("the list's JSON: {e}");
    // About the size of an entry of the full view, so the body is seldom copied as it grows.
    let mut body = Vec::with_capacity(2 + loaded.len() * 10 * 1024);
    let mut json = serde_json::Serializer::new(&mut body);
    let mut seq = json.serialize_seq(Some(loaded.len())).map_err(failed)?;
    for l in &loaded {
        let guide = guide_of(conn, guides, &l.row)?;
        seq.serialize_element(&views::assessment(actor, l, &guide)?).map_err(failed)?;
    }
    seq.end().map_err(failed)?;
    Ok(body)
}

/// 400 naming `limit` outside 1–500.
fn limit_allowed(page: &Page) -> AppResult<()> {
    match page.limit {
        Some(limit) if !(1..=LIST_LIMIT_MAX).contains(&limit) => {
            Err(AppError::bad_input(ErrorCode::InvalidQuery, format!("{limit} is not between 1 and {LIST_LIMIT_MAX}"))
                .at("limit"))
        }
        _ => Ok(()),
    }
}

/// The views of assessments a list already read (with everything they show): reads nothing
/// but a guide not yet cached.
pub fn views_of<S: ListedSheet>(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    loaded: &[ListRow<S>],
) -> AppResult<Vec<AssessmentView>> {
    loaded
        .iter()
        .map(|l| {
            let guide = guide_of(conn, guides, &l.row)?;
            views::assessment(actor, l, &guide)
        })
        .collect()
}

/// The rows of [`list_page`], each with what its view shows beside it (for pages that show
/// more of each, e.g. its sheets' scores with `S` = `ScoreSheetRow`; [`views_of`] makes their
/// views).
pub fn list_loaded<S: ListedSheet>(
    conn: &mut DbConnection,
    actor: &Actor,
    statuses: Option<&[&str]>,
    page: &Page,
) -> AppResult<Vec<ListRow<S>>> {
    let visible = if actor.role.is_staff() { Visible::All } else { Visible::SeatedOn(&actor.id) };
    crate::db::assessments::list_page(conn, visible, statuses, page)?.ok_or_else(|| {
        AppError::bad_input(
            ErrorCode::InvalidQuery,
            format!("{:?} is not an assessment of this list", page.after.as_deref().unwrap_or_default()),
        )
        .at("after")
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: Value,
}

pub fn audit_trail(conn: &mut DbConnection, actor: &Actor, id: &str) -> AppResult<Vec<AuditView>> {
    find_for(conn, actor, id, Action::ViewAudit)?;
    Ok(audit_of(conn, id)?
        .into_iter()
        .map(|e| AuditView {
            seq: e.seq,
            at: e.at,
            actor_id: e.actor_id,
            action: e.action,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        })
        .collect())
}
