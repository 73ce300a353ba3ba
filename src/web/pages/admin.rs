//! The assessment body's registration pages (admin only): organisations and users, one
//! apprentice and EPA at a time, and many from a CSV file.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::{role_label, see_other, Form, FormError, Page, PageError};
use crate::domain::permissions::Role;
use crate::error::AppError;
use crate::services::assessments::{self, NewAssessment};
use crate::services::import::{self, Registered, RowProblem};
use crate::services::people::{self, ApprenticeSummary, NewApprentice, NewOrganisation, NewUser, UserSummary};
use crate::services::Input;

/// Largest CSV accepted from the form (the form limit is 1 MiB).
const CSV_LIMIT: usize = 1024 * 1024;

fn require_admin(page: &Page) -> Result<(), PageError> {
    if page.actor.role == Role::Admin {
        Ok(())
    } else {
        Err(page.fail(&AppError::forbidden("only an admin of the assessment body registers people and EPAs")))
    }
}

/// A refusal shown beside the field of one of a page's forms: the field gets the form's prefix.
fn form_error(prefix: &str, e: &AppError) -> FormError {
    let mut error = FormError::from_app(e);
    error.field = error.field.map(|f| format!("{prefix}{f}"));
    error
}

#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(options: impl IntoIterator<Item = (String, String)>, chosen: &str) -> Vec<Choice> {
    options.into_iter().map(|(value, label)| Choice { selected: value == chosen, value, label }).collect()
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "employer" => "Employer",
        "training_provider" => "Training provider",
        "assessment_body" => "Assessment body",
        _ => "Organisation",
    }
}

/// The posted values, to fill a form again after a refusal (never the password).
fn values(form: Option<&Form>) -> BTreeMap<String, String> {
    form.map(|f| f.0.iter().filter(|(k, _)| k != "password" && k != "csrf").cloned().collect()).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    apprentice: Option<String>,
}

impl Notice {
    fn message(&self) -> Option<&'static str> {
        Some(match self.done.as_deref()? {
            "organisation" => "The organisation is added.",
            "apprentice" => "The apprentice is added. Now register their EPA.",
            _ => return None,
        })
    }
}

// ---- organisations and users

#[derive(Debug, Serialize)]
struct OrganisationRow {
    id: String,
    name: String,
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct UserRow {
    name: String,
    email: String,
    role: &'static str,
    organisation: Option<String>,
    /// An independent assessor's register entry in words ("none" when there is no record).
    assessor_record: Option<String>,
}

/// An assessor record in one line for the people page.
fn record_words(r: &crate::services::assessors::AssessorRecordView) -> String {
    let approved = if r.standards.is_empty() { "no standard".to_string() } else { r.standards.join(", ") };
    format!(
        "{} years; approved for {approved}; trained {}; standardised {}",
        r.experience_years,
        r.trained_on.as_deref().unwrap_or("never"),
        r.standardised_on.as_deref().unwrap_or("never")
    )
}

#[derive(Debug, Serialize)]
struct NewToken {
    name: String,
    email: String,
    token: String,
    password_set: bool,
}

#[derive(Debug, Serialize)]
struct PeopleView {
    notice: Option<&'static str>,
    error: Option<FormError>,
    organisations: Vec<OrganisationRow>,
    users: Vec<UserRow>,
    kinds: Vec<Choice>,
    roles: Vec<Choice>,
    organisation_choices: Vec<Choice>,
    values: BTreeMap<String, String>,
    created: Option<NewToken>,
    password_min: usize,
}

async fn people_view(
    page: &Page,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
    created: Option<NewToken>,
) -> Result<PeopleView, PageError> {
    let actor = page.actor.clone();
    let (orgs, users) = page
        .run(move |conn| {
            let mut orgs = Vec::new();
            for kind in people::ORGANISATION_KINDS {
                for (id, name) in people::list_organisations(conn, &actor, kind)? {
                    orgs.push((id, name, kind));
                }
            }
            let mut users: Vec<UserSummary> = Vec::new();
            for role in Role::ALL {
                users.extend(people::list_users(conn, &actor, role)?);
            }
            let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
            let records = crate::services::assessors::records_of(conn, &actor, &ids)?;
            Ok((orgs, (users, records)))
        })
        .await?;
    let (users, records) = users;
    let values = values(posted);
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let kinds =
        choices(people::ORGANISATION_KINDS.iter().map(|k| (k.to_string(), kind_label(k).to_string())), &get("kind"));
    let roles =
        choices(Role::ALL.iter().map(|r| (r.as_str().to_string(), role_label(r.as_str()).to_string())), &get("role"));
    let organisation_choices = choices(
        orgs.iter().map(|(id, name, kind)| (id.clone(), format!("{name} ({})", kind_label(kind)))),
        &get("organisation_id"),
    );
    Ok(PeopleView {
        password_min: people::PASSWORD_MIN,
        notice,
        error,
        organisations: orgs
            .into_iter()
            .map(|(id, name, kind)| OrganisationRow { id, name, kind: kind_label(kind) })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserRow {
                assessor_record: (u.role == Role::IndependentAssessor.as_str())
                    .then(|| records.get(&u.id).map_or_else(|| "none".to_string(), record_words)),
                role: role_label(&u.role),
                name: u.name,
                email: u.email,
                organisation: u.organisation,
            })
            .collect(),
        kinds,
        roles,
        organisation_choices,
        values,
        created,
    })
}

/// `GET /admin/people`
pub async fn people_page(page: Page, notice: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    let view = people_view(&page, None, None, notice.message(), None).await?;
    page.render("pages/admin_people.html", "People and organisations", &view)
}

/// `POST /admin/people`: `action` is `organisation` or `user`.
pub async fn people_save(page: Page, form: Form) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    page.check_csrf(&form)?;
    let actor = page.actor.clone();
    if form.text("action") == "organisation" {
        let input = NewOrganisation { name: form.text("name"), kind: form.text("kind") };
        return match page.attempt(move |conn| people::create_organisation(conn, &actor, Input::from(input))).await? {
            Ok(_) => Ok(see_other("/admin/people?done=organisation")),
            Err(e) => refused_people(&page, &form, "org_", &e).await,
        };
    }
    let password = form.get("password").unwrap_or_default().to_string();
    let hash = if password.is_empty() {
        None
    } else {
        match web::block(move || people::hash_password(&password))
            .await
            .map_err(|e| PageError::plain(500, &e.to_string()))?
        {
            Ok(hash) => Some(hash),
            Err(e) => return refused_people(&page, &form, "user_", &e).await,
        }
    };
    let organisation_id = Some(form.text("organisation_id")).filter(|o| !o.is_empty());
    let input =
        NewUser { email: form.text("email"), name: form.text("name"), role: form.text("role"), organisation_id };
    let created = page
        .attempt(move |conn| {
            let (user, token) = people::create_user(conn, Some(&actor), Input::from(input))?;
            if let Some(hash) = &hash {
                people::set_password_hash(conn, Some(&actor), &user.email, hash)?;
            }
            Ok((user, token))
        })
        .await?;
    match created {
        Ok((user, token)) => {
            let created = NewToken {
                name: user.name,
                email: user.email,
                token,
                password_set: form.get("password").is_some_and(|p| !p.is_empty()),
            };
            let view = people_view(&page, None, None, Some("The user is added."), Some(created)).await?;
            page.render("pages/admin_people.html", "People and organisations", &view)
        }
        Err(e) => refused_people(&page, &form, "user_", &e).await,
    }
}

async fn refused_people(page: &Page, form: &Form, prefix: &str, e: &AppError) -> Result<HttpResponse, PageError> {
    let view = people_view(page, Some(form), Some(form_error(prefix, e)), None, None).await?;
    page.render_status(FormError::status(e), "pages/admin_people.html", "People and organisations", &view)
}

// ---- one apprentice and their EPA

#[derive(Debug, Serialize)]
struct RegisterView {
    notice: Option<&'static str>,
    error: Option<FormError>,
    employers: Vec<Choice>,
    providers: Vec<Choice>,
    apprentices: Vec<Choice>,
    standards: Vec<Choice>,
    line_managers: Vec<Choice>,
    provider_users: Vec<Choice>,
    values: BTreeMap<String, String>,
}

async fn register_view(
    page: &Page,
    posted: Option<&Form>,
    error: Option<FormError>,
    notice: Option<&'static str>,
    apprentice: Option<String>,
) -> Result<RegisterView, PageError> {
    let actor = page.actor.clone();
    let guides = page.state.guides.clone();
    type Lists = (
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<ApprenticeSummary>,
        Vec<(String, String)>,
        Vec<UserSummary>,
        Vec<UserSummary>,
    );
    let (employers, providers, apprentices, standards, lms, tps): Lists = page
        .run(move |conn| {
            Ok((
                people::list_organisations(conn, &actor, "employer")?,
                people::list_organisations(conn, &actor, "training_provider")?,
                people::list_apprentices(conn, &actor)?,
                guides
                    .list_latest(conn)?
                    .iter()
                    .map(|g| {
                        (
                            g.id.clone(),
                            match g.level {
                                Some(level) => format!("{} (level {level}, version {})", g.title, g.version),
                                None => format!("{} (version {})", g.title, g.version),
                            },
                        )
                    })
                    .collect(),
                people::list_users(conn, &actor, Role::LineManager)?,
                people::list_users(conn, &actor, Role::TrainingProvider)?,
            ))
        })
        .await?;
    let mut values = values(posted);
    if let Some(a) = apprentice {
        values.entry("apprentice_id".into()).or_insert(a);
    }
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let people_choices = |users: Vec<UserSummary>, chosen: &str| {
        choices(
            users.into_iter().map(|u| {
                let label = match u.organisation {
                    Some(org) => format!("{} ({org})", u.name),
                    None => u.name,
                };
                (u.id, label)
            }),
            chosen,
        )
    };
    Ok(RegisterView {
        notice,
        error,
        employers: choices(employers, &get("employer_id")),
        providers: choices(providers, &get("training_provider_id")),
        apprentices: choices(
            apprentices.into_iter().map(|a| (a.id, format!("{} <{}>, {}", a.name, a.email, a.employer))),
            &get("apprentice_id"),
        ),
        standards: choices(standards, &get("standard_id")),
        line_managers: people_choices(lms, &get("line_manager_id")),
        provider_users: people_choices(tps, &get("training_provider_user_id")),
        values,
    })
}

/// `GET /admin/register`
pub async fn register_page(page: Page, notice: web::Query<Notice>) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    let view = register_view(&page, None, None, notice.message(), notice.apprentice.clone()).await?;
    page.render("pages/admin_register.html", "Register an EPA", &view)
}

/// `POST /admin/register`: `action` is `apprentice` (add one) or `assessment` (register an EPA).
pub async fn register_save(page: Page, form: Form) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    page.check_csrf(&form)?;
    let actor = page.actor.clone();
    if form.text("action") == "apprentice" {
        let input = NewApprentice {
            name: form.text("name"),
            email: form.text("email"),
            employer_id: form.text("employer_id"),
            training_provider_id: form.text("training_provider_id"),
        };
        return match page.attempt(move |conn| people::create_apprentice(conn, &actor, Input::from(input))).await? {
            Ok(a) => Ok(see_other(&format!("/admin/register?done=apprentice&apprentice={}", a.id))),
            Err(e) => refused_register(&page, &form, "apprentice_", &e).await,
        };
    }
    let input = NewAssessment {
        apprentice_id: form.text("apprentice_id"),
        standard_id: form.text("standard_id"),
        line_manager_id: form.text("line_manager_id"),
        training_provider_user_id: form.text("training_provider_user_id"),
    };
    let guides = page.state.guides.clone();
    match page.attempt(move |conn| assessments::register(conn, &guides, &actor, Input::from(input))).await? {
        Ok(row) => Ok(see_other(&format!("/assessments/{}?done=registered", row.id))),
        Err(e) => refused_register(&page, &form, "epa_", &e).await,
    }
}

async fn refused_register(page: &Page, form: &Form, prefix: &str, e: &AppError) -> Result<HttpResponse, PageError> {
    let view = register_view(page, Some(form), Some(form_error(prefix, e)), None, None).await?;
    page.render_status(FormError::status(e), "pages/admin_register.html", "Register an EPA", &view)
}

// ---- many from a CSV file

#[derive(Debug, Serialize)]
struct ImportView {
    columns: String,
    csv: String,
    problems: Vec<RowProblem>,
    registered: Vec<Registered>,
    error: Option<FormError>,
}

fn import_view(csv: String, problems: Vec<RowProblem>, registered: Vec<Registered>) -> ImportView {
    let error = (!problems.is_empty()).then(|| FormError {
        field: Some("csv".into()),
        message: format!(
            "{} problem{} in the file: nothing was registered. Correct the rows below and send the file again.",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ),
        stale: false,
    });
    ImportView { columns: import::NAMED_COLUMNS.join(","), csv, problems, registered, error }
}

/// `GET /admin/import`
pub async fn import_page(page: Page) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    page.render("pages/admin_import.html", "Import registrations", &import_view(String::new(), Vec::new(), Vec::new()))
}

/// `POST /admin/import`: the CSV pasted into (or loaded into) the `csv` field.
pub async fn import_save(page: Page, form: Form) -> Result<HttpResponse, PageError> {
    require_admin(&page)?;
    page.check_csrf(&form)?;
    let csv = form.get("csv").unwrap_or_default().to_string();
    if csv.len() > CSV_LIMIT {
        let problems = vec![RowProblem {
            line: 1,
            field: "file".into(),
            message: "the file is larger than 1 MiB; split it".into(),
        }];
        let view = import_view(String::new(), problems, Vec::new());
        return page.render_status(StatusCode::BAD_REQUEST, "pages/admin_import.html", "Import registrations", &view);
    }
    let (actor, guides, text) = (page.actor.clone(), page.state.guides.clone(), csv.clone());
    match page.run(move |conn| import::import_csv(conn, &guides, &actor, &text)).await? {
        Ok(registered) => page.render(
            "pages/admin_import.html",
            "Import registrations",
            &import_view(String::new(), Vec::new(), registered),
        ),
        Err(problems) => {
            let view = import_view(csv, problems, Vec::new());
            page.render_status(StatusCode::BAD_REQUEST, "pages/admin_import.html", "Import registrations", &view)
        }
    }
}
