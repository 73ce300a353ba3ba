//! The external verifier's sample (admin, moderator): for one training provider and a period of
//! decision dates, the released assessments [`domain::verification`](crate::domain::verification)
//! chooses, read in one read-only snapshot.

use chrono::NaiveDate;
use serde::Serialize;

use super::reports::{authorise, page, ReportFilter};
use super::standards::Guides;
use super::Actor;
use crate::db::DbConnection;
use crate::domain::assessment::Status;
use crate::domain::scoring::spread;
use crate::domain::verification::{at_boundary, choose, Candidate};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::reports::{safe_text, CsvChunks, Number};

/// The CSV's columns, in order.
pub const COLUMNS: &[&str] = &[
    "assessment_id",
    "apprentice_id",
    "apprentice_name",
    "employer_name",
    "independent_assessor_id",
    "independent_assessor_name",
    "standard_id",
    "decided_on",
    "grade",
    "weighted_score",
    "risk",
    "reasons",
];

/// What the sample is asked for: all three are required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleQuery {
    pub training_provider_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl SampleQuery {
    const FIELDS: [&'static str; 3] = ["training_provider_id", "from", "to"];

    /// From the query string: an unknown, repeated, missing or bad parameter is a 400 naming it.
    pub fn parse(pairs: &[(String, String)]) -> AppResult<Self> {
        if let Some((key, _)) = pairs.iter().find(|(k, _)| !Self::FIELDS.contains(&k.as_str())) {
            return Err(AppError::bad_input(
                ErrorCode::UnknownFilter,
                format!("{key:?} is not a filter of the sample; its filters are {}.", Self::FIELDS.join(", ")),
            )
            .at(key.clone()));
        }
        let filter = ReportFilter::parse(pairs)?;
        let missing = |field: &str| {
            let words = ReportFilter::NAMES.iter().find(|(n, _)| *n == field).map_or(field, |(_, w)| *w);
            AppError::bad_input(ErrorCode::MissingValue, format!("{words} ({field}) is required for the sample."))
                .at(field)
        };
        Ok(Self {
            training_provider_id: filter.training_provider_id.ok_or_else(|| missing("training_provider_id"))?,
            from: filter.from.ok_or_else(|| missing("from"))?,
            to: filter.to.ok_or_else(|| missing("to"))?,
        })
    }
}

/// One chosen assessment as the CSV and the page show it.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRow {
    pub assessment_id: String,
    pub apprentice_id: String,
    pub apprentice_name: String,
    pub employer_name: String,
    pub independent_assessor_id: String,
    pub independent_assessor_name: String,
    pub standard_id: String,
    pub decided_on: String,
    pub grade: String,
    pub weighted_score: Number,
    pub risk: u32,
    /// `;`-separated: `tie_break;wide_spread`.
    pub reasons: String,
}

/// The sample for `query` (the parsed query string, or why it could not be read), as `actor`:
/// 403 before 400. Reads in one read-only snapshot. Also returns the provider's name.
pub fn sample(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    query: AppResult<Vec<(String, String)>>,
) -> AppResult<(String, Vec<SampleRow>)> {
    authorise(actor)?;
    let query = SampleQuery::parse(&query?)?;
    crate::db::transaction(conn, |conn| {
        crate::db::read_only_snapshot(conn)?;
        sample_in(conn, guides, &query)
    })
}

fn sample_in(conn: &mut DbConnection, guides: &Guides, query: &SampleQuery) -> AppResult<(String, Vec<SampleRow>)> {
    let provider = crate::db::people::organisations_of_kind(conn, "training_provider")?
        .into_iter()
        .find(|(id, _)| *id == query.training_provider_id)
        .map(|(_, name)| name)
        .ok_or_else(|| {
            AppError::bad_input(
                ErrorCode::UnknownOrganisation,
                format!(
                    "The training provider (training_provider_id) {:?} is not a training provider here.",
                    query.training_provider_id
                ),
            )
            .at("training_provider_id")
        })?;
    let filter = ReportFilter {
        from: Some(query.from),
        to: Some(query.to),
        training_provider_id: Some(query.training_provider_id.clone()),
        ..ReportFilter::default()
    };
    let mut candidates = Vec::new();
    let mut rows = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let chunk = page(conn, &filter, after.as_ref())?;
        let Some(last) = chunk.last() else { break };
        after = Some((last.row.decided_at.clone().unwrap_or_default(), last.row.id.clone()));
        for d in chunk.iter().filter(|d| d.row.status == Status::Released.as_str()) {
            let decision = d.decision()?;
            let mut sheets = d.read_sheets()?;
            let widest_spread = decision
                .items
                .iter()
                .map(|item| spread(sheets.iter_mut().filter_map(|s| s.score_of(&item.component, &item.criterion))))
                .max()
                .unwrap_or(0);
            let agreed: Vec<i32> = decision.items.iter().map(|i| i.agreed_score).collect();
            let boundary = guides
                .get(conn, &d.row.standard_id, &d.row.standard_version)?
                .is_some_and(|guide| at_boundary(&guide, &agreed));
            let decided_at = d.row.decided_at.clone().unwrap_or_default();
            let assessor = d.row.independent_assessor_id.clone().unwrap_or_default();
            candidates.push(Candidate {
                id: d.row.id.clone(),
                decided_at: decided_at.clone(),
                tie_breaks: decision.tie_breaks(),
                widest_spread,
                at_boundary: boundary,
                // Counted below, for every candidate in one query.
                assessors_nth: 0,
            });
            rows.push(SampleRow {
                assessment_id: d.row.id.clone(),
                apprentice_id: d.row.apprentice_id.clone(),
                apprentice_name: safe_text(&d.apprentice.name),
                employer_name: d.names.employer.clone(),
                independent_assessor_id: assessor,
                independent_assessor_name: d.names.independent_assessor.clone(),
                standard_id: d.row.standard_id.clone(),
                decided_on: decided_at.get(..10).unwrap_or_default().to_string(),
                grade: safe_text(&decision.grade),
                weighted_score: Number(decision.weighted_score),
                risk: 0,
                reasons: String::new(),
            });
        }
        if chunk.len() < super::reports::PAGE as usize {
            break;
        }
    }
    number_each_assessors_epas(conn, &rows, &mut candidates)?;
    let chosen = choose(&candidates)
        .into_iter()
        .filter_map(|c| {
            let mut row = rows.iter().find(|r| r.assessment_id == c.id)?.clone();
            row.risk = c.risk;
            row.reasons = c.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(";");
            Some(row)
        })
        .collect();
    Ok((provider, chosen))
}

/// Which of its assessor's decided EPAs each candidate is (1 for the first), from one read of
/// those assessors' decisions up to the latest candidate.
fn number_each_assessors_epas(
    conn: &mut DbConnection,
    rows: &[SampleRow],
    candidates: &mut [Candidate],
) -> AppResult<()> {
    let mut assessors: Vec<String> = rows.iter().map(|r| r.independent_assessor_id.clone()).collect();
    assessors.sort();
    assessors.dedup();
    let until = candidates.iter().map(|c| c.decided_at.as_str()).max().unwrap_or_default().to_string();
    let mut nth: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (assessor, _, id) in crate::db::assessments::decided_by_assessors(conn, &assessors, &until)? {
        let n = seen.entry(assessor).or_default();
        *n += 1;
        nth.insert(id, *n);
    }
    for c in candidates.iter_mut() {
        c.assessors_nth = nth.get(&c.id).copied().unwrap_or(usize::MAX);
    }
    Ok(())
}

/// The sample as CSV: the header, then one row per chosen assessment in the sample's order.
pub fn csv(rows: &[SampleRow]) -> AppResult<Vec<u8>> {
    let io = |e: std::io::Error| AppError::from(anyhow::Error::from(e));
    let mut out = CsvChunks::new();
    out.header(COLUMNS).map_err(io)?;
    for row in rows {
        out.row(row).map_err(io)?;
    }
    out.take().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> AppResult<SampleQuery> {
        let pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SampleQuery::parse(&pairs)
    }

    #[test]
    fn each_parameter_is_required_and_named() {
        let all = [("training_provider_id", "p"), ("from", "2026-01-01"), ("to", "2026-12-31")];
        assert!(parse(&all).is_ok());
        for (i, (field, _)) in all.iter().enumerate() {
            let rest: Vec<(&str, &str)> = all.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| *p).collect();
            let e = parse(&rest).unwrap_err();
            assert_eq!(e.code(), "missing_value", "{field}: {e}");
            assert!(e.to_string().contains(&format!("({field}) is required")), "{field}: {e}");
        }
        let e = parse(&[("standard_id", "x")]).unwrap_err();
        assert_eq!(e.code(), "unknown_filter");
        let e = parse(&[("training_provider_id", "p"), ("from", "2026-1-1"), ("to", "2026-12-31")]).unwrap_err();
        assert!(e.to_string().starts_with("The start date (from) must be a date"), "{e}");
    }
}
