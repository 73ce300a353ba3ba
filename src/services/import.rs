//! Registering many EPAs from one CSV file: each row creates an apprentice and registers their
//! assessment. All rows run in one transaction: if any row is bad, nothing is saved and every bad
//! row is reported with its line number and the column at fault.

use serde::Serialize;

use super::assessments::{register, NewAssessment};
use super::people::{create_apprentice, NewApprentice};
use super::standards::Guides;
use super::{transaction, Actor, Input};
use crate::db::DbConnection;
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult, ErrorCode};

/// The header the file must start with, in this order.
pub const COLUMNS: [&str; 7] = [
    "apprentice_name",
    "apprentice_email",
    "employer_id",
    "training_provider_id",
    "standard_id",
    "line_manager_email",
    "training_provider_email",
];

/// The same header with the organisations by name (`employer`, `training_provider`): either
/// header may hold a name or an id in those two columns.
pub const NAMED_COLUMNS: [&str; 7] = [
    "apprentice_name",
    "apprentice_email",
    "employer",
    "training_provider",
    "standard_id",
    "line_manager_email",
    "training_provider_email",
];

/// Largest file accepted, in rows.
pub const MAX_ROWS: usize = 2000;

/// One data row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub apprentice_name: String,
    pub apprentice_email: String,
    pub employer_id: String,
    pub training_provider_id: String,
    pub standard_id: String,
    pub line_manager_email: String,
    pub training_provider_email: String,
    /// The header's names of the employer and training provider columns.
    pub organisation_columns: (&'static str, &'static str),
}

/// What is wrong with one row (or with the file, `line` 1 for the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub line: u64,
    /// The column at fault (`header` or `file` for the file as a whole).
    pub field: String,
    pub message: String,
}

impl RowProblem {
    fn new(line: u64, field: &str, message: impl Into<String>) -> Self {
        Self { line, field: field.to_string(), message: message.into() }
    }
}

/// One registered assessment.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub line: u64,
    pub apprentice_id: String,
    pub apprentice_name: String,
    pub assessment_id: String,
}

/// Reads the file: the header must be exactly [`COLUMNS`]; every row must have every field.
/// Returns every problem found, not only the first.
pub fn parse(text: &str) -> Result<Vec<ImportRow>, Vec<RowProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(vec![RowProblem::new(1, "file", "the file is empty; it needs a header and at least one row")]);
    }
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(vec![RowProblem::new(1, "header", format!("the header could not be read: {e}"))]),
    };
    let known = |i: usize| header.get(i).is_some_and(|h| h == COLUMNS[i] || h == NAMED_COLUMNS[i]);
    if header.len() != COLUMNS.len() || !(0..COLUMNS.len()).all(known) {
        return Err(vec![RowProblem::new(
            1,
            "header",
            format!(
                "the header must be {} (or with employer_id,training_provider_id), not {}",
                NAMED_COLUMNS.join(","),
                header.join(",")
            ),
        )]);
    }
    let organisation_columns = (
        if header[2] == COLUMNS[2] { COLUMNS[2] } else { NAMED_COLUMNS[2] },
        if header[3] == COLUMNS[3] { COLUMNS[3] } else { NAMED_COLUMNS[3] },
    );
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i as u64 + 2, |p| line_at(text, p.byte()));
                problems.push(RowProblem::new(line, "file", format!("the row could not be read: {e}")));
                continue;
            }
        };
        // The line from the byte offset: csv's own line count misses skipped blank lines.
        let line = record.position().map_or(i as u64 + 2, |p| line_at(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != COLUMNS.len() {
            problems.push(RowProblem::new(
                line,
                "file",
                format!("the row has {} fields, not {}", record.len(), COLUMNS.len()),
            ));
            continue;
        }
        let mut missing = false;
        for (name, value) in header.iter().zip(record.iter()) {
            if value.is_empty() {
                problems.push(RowProblem::new(line, name, "must not be empty"));
                missing = true;
            } else if let Some(c) = crate::domain::text::invalid_char(value) {
                problems.push(RowProblem::new(line, name, crate::domain::text::problem(c)));
                missing = true;
            }
        }
        if missing {
            continue;
        }
        let f = |i: usize| record.get(i).unwrap_or_default().to_string();
        rows.push(ImportRow {
            line,
            apprentice_name: f(0),
            apprentice_email: f(1),
            employer_id: f(2),
            training_provider_id: f(3),
            standard_id: f(4),
            line_manager_email: f(5),
            training_provider_email: f(6),
            organisation_columns,
        });
    }
    if rows.len() + problems.len() > MAX_ROWS {
        return Err(vec![RowProblem::new(1, "file", format!("the file has more than {MAX_ROWS} rows; split it"))]);
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(RowProblem::new(1, "file", "the file has a header but no rows"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// The line (from 1) of the record at byte `offset` of `text` (csv reports the offset before any
/// blank lines it skipped, so those are passed over first).
fn line_at(text: &str, offset: u64) -> u64 {
    let mut end = usize::try_from(offset).unwrap_or(usize::MAX).min(text.len());
    while end < text.len() && matches!(text.as_bytes()[end], b'\n' | b'\r') {
        end += 1;
    }
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// The field a service's refusal names (`employer_id: …`), with its message.
fn split_refusal(e: &AppError) -> (Option<String>, String) {
    let text = e.to_string();
    match text.split_once(':') {
        Some((f, rest)) if !f.trim().is_empty() && f.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            (Some(f.trim().to_string()), rest.trim().to_string())
        }
        _ => (None, text),
    }
}

/// A refusal a row can cause (bad input, a conflict); anything else stops the import.
fn row_refusal(e: &AppError) -> bool {
    matches!(e, AppError::BadInput { .. } | AppError::Conflict { .. })
}

/// The id of the (unrevoked) user with this email and role, or the row's problem.
fn user_by_email(
    conn: &mut DbConnection,
    line: u64,
    field: &str,
    email: &str,
    role: Role,
) -> AppResult<Result<String, RowProblem>> {
    Ok(match crate::db::people::role_of_email(conn, &email.trim().to_lowercase())? {
        None => Err(RowProblem::new(line, field, format!("no user {email:?}"))),
        Some((_, _, Some(_))) => Err(RowProblem::new(line, field, format!("{email}'s access is revoked"))),
        Some((_, r, None)) if r != role.as_str() => {
            Err(RowProblem::new(line, field, format!("{email} is a {r}, not a {}", role.as_str())))
        }
        Some((id, _, None)) => Ok(id),
    })
}

/// The organisation a row names, by id or by name (case and outer spaces aside), or why not.
fn organisation(known: &[(String, String)], value: &str, kind: &str) -> Result<String, String> {
    if known.iter().any(|(id, _)| id == value) {
        return Ok(value.to_string());
    }
    let wanted = value.trim().to_lowercase();
    let named: Vec<&String> =
        known.iter().filter(|(_, n)| n.trim().to_lowercase() == wanted).map(|(id, _)| id).collect();
    match named.as_slice() {
        [id] => Ok((*id).clone()),
        [] => Err(format!(
            "no {kind} is called {value:?} (nor has that id): use the name as the People and organisations page shows it"
        )),
        many => Err(format!("{} {kind}s are called {value:?}: give this one's id instead", many.len())),
    }
}

/// Creates every row's apprentice and registers their EPA, in one transaction (admin only).
/// `Ok(Err(problems))`: the file had bad rows and nothing was saved.
pub fn import_csv(
    conn: &mut DbConnection,
    guides: &Guides,
    actor: &Actor,
    text: &str,
) -> AppResult<Result<Vec<Registered>, Vec<RowProblem>>> {
    if actor.role != Role::Admin {
        return Err(AppError::forbidden("only an admin of the assessment body may import registrations"));
    }
    let rows = match parse(text) {
        Ok(rows) => rows,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut problems: Vec<RowProblem> = Vec::new();
    let result = transaction(conn, |conn| {
        let employers = super::people::list_organisations(conn, actor, "employer")?;
        let providers = super::people::list_organisations(conn, actor, "training_provider")?;
        let mut done = Vec::new();
        for row in &rows {
            let line = row.line;
            let mut row_problems = Vec::new();
            let (employer_column, provider_column) = row.organisation_columns;
            let employer = organisation(&employers, &row.employer_id, "employer")
                .map_err(|m| row_problems.push(RowProblem::new(line, employer_column, m)));
            let provider = organisation(&providers, &row.training_provider_id, "training provider")
                .map_err(|m| row_problems.push(RowProblem::new(line, provider_column, m)));
            let lm = user_by_email(conn, line, "line_manager_email", &row.line_manager_email, Role::LineManager)?;
            let tp = user_by_email(
                conn,
                line,
                "training_provider_email",
                &row.training_provider_email,
                Role::TrainingProvider,
            )?;
            let apprentice = match (employer, provider) {
                (Ok(employer_id), Ok(training_provider_id)) => create_apprentice(
                    conn,
                    actor,
                    Input::from(NewApprentice {
                        name: row.apprentice_name.clone(),
                        email: row.apprentice_email.clone(),
                        employer_id,
                        training_provider_id,
                    }),
                )
                .map(Some),
                _ => Ok(None),
            };
            let apprentice = match apprentice {
                Ok(a) => a,
                Err(e) if row_refusal(&e) => {
                    let (field, message) = split_refusal(&e);
                    let field = match field.as_deref() {
                        Some("name") => "apprentice_name",
                        Some("email") => "apprentice_email",
                        Some("training_provider_id") => provider_column,
                        _ => employer_column,
                    };
                    row_problems.push(RowProblem::new(line, field, message));
                    None
                }
                Err(e) => return Err(e),
            };
            let (lm, tp) = match (lm, tp) {
                (Ok(lm), Ok(tp)) => (Some(lm), Some(tp)),
                (lm, tp) => {
                    row_problems.extend(lm.err());
                    row_problems.extend(tp.err());
                    (None, None)
                }
            };
            match (apprentice, lm, tp) {
                (Some(a), Some(lm), Some(tp)) => {
                    let registered = register(
                        conn,
                        guides,
                        actor,
                        Input::from(NewAssessment {
                            apprentice_id: a.id.clone(),
                            standard_id: row.standard_id.clone(),
                            line_manager_id: lm,
                            training_provider_user_id: tp,
                        }),
                    );
                    match registered {
                        Ok(assessment) => done.push(Registered {
                            line,
                            apprentice_id: a.id,
                            apprentice_name: a.name,
                            assessment_id: assessment.id,
                        }),
                        Err(e) if row_refusal(&e) => {
                            let (field, message) = split_refusal(&e);
                            let field = match field.as_deref() {
                                Some("line_manager_id") => "line_manager_email",
                                Some("training_provider_user_id") => "training_provider_email",
                                _ => "standard_id",
                            };
                            row_problems.push(RowProblem::new(line, field, message));
                        }
                        Err(e) => return Err(e),
                    }
                }
                (None, _, _) | (_, None, _) | (_, _, None) => {
                    // The standard is checked too, so the row's every problem is shown at once.
                    if guides.latest(conn, &row.standard_id)?.is_none() {
                        row_problems.push(RowProblem::new(
                            line,
                            "standard_id",
                            format!("no standard {:?}", row.standard_id),
                        ));
                    }
                }
            }
            problems.extend(row_problems);
        }
        if problems.is_empty() {
            Ok(done)
        } else {
            Err(AppError::bad_input(ErrorCode::InvalidRows, "some rows are not valid; nothing was saved").at("import"))
        }
    });
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(_) if !problems.is_empty() => Ok(Err(problems)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{migrate, DatabaseUrl};
    use crate::services::people::{create_organisation, create_user, NewOrganisation, NewUser};

    const HEADER: &str = "apprentice_name,apprentice_email,employer_id,training_provider_id,standard_id,line_manager_email,training_provider_email";
    const STANDARD: &str = "senior-housing-property-management-l4";

    #[test]
    fn parsing_reads_rows_with_their_line_numbers() {
        let text = format!("{HEADER}\nAmy Apprentice,amy@x.test,e1,p1,s1,lm@x.test,tp@x.test\n\n\"Bo, Jr\",bo@x.test,e1,p1,s1,lm@x.test,tp@x.test\n");
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].apprentice_name, "Amy Apprentice");
        assert_eq!(rows[1].line, 4, "blank lines are skipped but counted");
        assert_eq!(rows[1].apprentice_name, "Bo, Jr");
        assert_eq!(rows[1].training_provider_email, "tp@x.test");
    }

    #[test]
    fn control_characters_are_refused_naming_line_and_column() {
        let row = |name: &str| {
            let cells: Vec<String> = COLUMNS
                .iter()
                .map(|c| if *c == "apprentice_name" { name.to_string() } else { format!("{c}-x") })
                .collect();
            cells.join(",")
        };
        let text = format!("{}\n{}\n{}\n", COLUMNS.join(","), row("Amy"), row("Bo\u{0}b"));
        let problems = parse(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].field.as_str()), (3, "apprentice_name"));
        assert!(problems[0].message.contains("control character (U+0000)"), "{problems:?}");
    }

    #[test]
    fn parsing_names_every_bad_row_and_field() {
        let text = format!(
            "{HEADER}\nAmy,amy@x.test,e1,p1,s1,lm@x.test,tp@x.test\n,bo@x.test,e1,p1,,lm@x.test,tp@x.test\nCy,cy@x.test,e1\n"
        );
        let problems = parse(&text).unwrap_err();
        assert_eq!(
            problems,
            vec![
                RowProblem::new(3, "apprentice_name", "must not be empty"),
                RowProblem::new(3, "standard_id", "must not be empty"),
                RowProblem::new(4, "file", "the row has 3 fields, not 7"),
            ]
        );
        let problems = parse("name,email\nAmy,amy@x.test\n").unwrap_err();
        assert_eq!(problems[0].line, 1);
        assert_eq!(problems[0].field, "header");
        assert_eq!(parse("").unwrap_err()[0].field, "file");
        assert!(parse(HEADER).unwrap_err()[0].message.contains("no rows"));
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        conn: DbConnection,
        guides: Guides,
        admin: Actor,
        employer: String,
        provider: String,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let mut conn = url.connect().unwrap();
        migrate(&mut conn).unwrap();
        let guides = Guides::new();
        guides.import_dir(&mut conn, &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("panel-guides")).unwrap();
        let (admin, _) = create_user(
            &mut conn,
            None,
            Input::from(NewUser {
                email: "ada@x.test".into(),
                name: "Ada".into(),
                role: "admin".into(),
                organisation_id: None,
            }),
        )
        .unwrap();
        let admin = Actor::from_user(&admin).unwrap();
        let org = |conn: &mut DbConnection, name: &str, kind: &str| {
            create_organisation(conn, &admin, Input::from(NewOrganisation { name: name.into(), kind: kind.into() }))
                .unwrap()
                .id
        };
        let employer = org(&mut conn, "Northgate Homes", "employer");
        let provider = org(&mut conn, "Riverside Training", "training_provider");
        for (email, role, org) in
            [("lm@x.test", "line_manager", &employer), ("tp@x.test", "training_provider", &provider)]
        {
            create_user(
                &mut conn,
                None,
                Input::from(NewUser {
                    email: email.into(),
                    name: email.into(),
                    role: role.into(),
                    organisation_id: Some(org.clone()),
                }),
            )
            .unwrap();
        }
        Fixture { _dir: dir, conn, guides, admin, employer, provider }
    }

    fn counts(conn: &mut DbConnection) -> (i64, i64) {
        (crate::db::people::count_apprentices(conn).unwrap(), crate::db::assessments::count_assessments(conn).unwrap())
    }

    #[test]
    fn a_good_file_registers_every_row() {
        let mut f = fixture();
        let (e, p) = (&f.employer, &f.provider);
        let text = format!(
            "{HEADER}\nAmy,amy@x.test,{e},{p},{STANDARD},lm@x.test,tp@x.test\nBo,bo@x.test,{e},{p},{STANDARD},LM@x.test,tp@x.test\n"
        );
        let done = import_csv(&mut f.conn, &f.guides, &f.admin, &text).unwrap().unwrap();
        assert_eq!(done.len(), 2);
        assert_eq!((done[0].line, done[1].line), (2, 3));
        assert_eq!(done[1].apprentice_name, "Bo");
        assert_eq!(counts(&mut f.conn), (2, 2));
    }

    #[test]
    fn a_bad_row_names_its_line_and_field_and_saves_nothing() {
        let mut f = fixture();
        let (e, p) = (&f.employer, &f.provider);
        let text = format!(
            "{HEADER}\nAmy,amy@x.test,{e},{p},{STANDARD},lm@x.test,tp@x.test\nBo,bo@x.test,{p},{p},{STANDARD},nobody@x.test,tp@x.test\nCy,cy@x.test,{e},{p},no-such-standard,lm@x.test,lm@x.test\n"
        );
        let problems = import_csv(&mut f.conn, &f.guides, &f.admin, &text).unwrap().unwrap_err();
        let named: Vec<(u64, &str)> = problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert!(named.contains(&(3, "employer_id")), "{problems:?}");
        assert!(named.contains(&(3, "line_manager_email")), "{problems:?}");
        assert!(named.contains(&(4, "training_provider_email")), "{problems:?}");
        assert!(named.contains(&(4, "standard_id")), "{problems:?}");
        assert!(!named.iter().any(|(l, _)| *l == 2), "line 2 is good: {problems:?}");
        assert_eq!(counts(&mut f.conn), (0, 0), "nothing is saved");
    }

    #[test]
    fn organisations_are_found_by_name_or_id() {
        let mut f = fixture();
        let admin = f.admin.clone();
        let org = |conn: &mut DbConnection, name: &str, kind: &str| {
            create_organisation(conn, &admin, Input::from(NewOrganisation { name: name.into(), kind: kind.into() }))
                .unwrap()
        };
        org(&mut f.conn, "Twin Homes", "employer");
        org(&mut f.conn, "twin homes ", "employer");
        let named = NAMED_COLUMNS.join(",");
        let p = &f.provider;
        let text = format!(
            "{named}\nAmy,amy@x.test,northgate homes,Riverside Training,{STANDARD},lm@x.test,tp@x.test\nBo,bo@x.test,Nowhere Ltd,{p},{STANDARD},lm@x.test,tp@x.test\nCy,cy@x.test,Twin Homes,{p},{STANDARD},lm@x.test,tp@x.test\n"
        );
        let problems = import_csv(&mut f.conn, &f.guides, &f.admin, &text).unwrap().unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].field.as_str()), (3, "employer"));
        assert!(problems[0].message.contains("no employer is called \"Nowhere Ltd\""), "{problems:?}");
        assert_eq!((problems[1].line, problems[1].field.as_str()), (4, "employer"));
        assert!(problems[1].message.contains("2 employers are called"), "{problems:?}");
        assert_eq!(counts(&mut f.conn), (0, 0), "nothing is saved");
        // Names and ids mixed, in either header.
        let e = &f.employer;
        let text = format!("{named}\nAmy,amy@x.test,Northgate Homes,{p},{STANDARD},lm@x.test,tp@x.test\n");
        assert_eq!(import_csv(&mut f.conn, &f.guides, &f.admin, &text).unwrap().unwrap().len(), 1);
        let text = format!("{HEADER}\nBo,bo@x.test,{e},Riverside Training,{STANDARD},lm@x.test,tp@x.test\n");
        assert_eq!(import_csv(&mut f.conn, &f.guides, &f.admin, &text).unwrap().unwrap().len(), 1);
        assert_eq!(counts(&mut f.conn), (2, 2));
    }

    #[test]
    fn only_an_admin_imports() {
        let mut f = fixture();
        let mut moderator = f.admin.clone();
        moderator.role = Role::Moderator;
        let e = import_csv(&mut f.conn, &f.guides, &moderator, HEADER).unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)));
    }
}
