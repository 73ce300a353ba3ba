//! The frame around every page ([`Layout`]: title, who is signed in, navigation, the versioned
//! style sheet and script) and what a signed-in [`Page`] does with it: render, fail, run service
//! code, check the CSRF token.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::errors::error_title;
use super::{csrf_refused, is_form_error, static_url, Form, Page, PageError};
use crate::db::DbConnection;
use crate::domain::permissions::Role;
use crate::error::{AppError, AppResult};

/// The frame around every page: title, who is signed in, navigation, the CSRF token for the
/// sign-out form, and the versioned URLs of the style sheet and script.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub title: String,
    pub user: Option<UserChrome>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub css: String,
    pub js: String,
    pub icon: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserChrome {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Layout {
    pub fn signed_out(title: &str) -> Self {
        Self {
            title: title.to_string(),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            css: static_url("app.css"),
            js: static_url("autosave.js"),
            icon: static_url("favicon.svg"),
        }
    }
}

/// A role as people say it.
pub fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "moderator" => "Moderator",
        "independent_assessor" => "Independent assessor",
        "line_manager" => "Line manager",
        "training_provider" => "Training provider",
        _ => "User",
    }
}

impl Page {
    pub fn layout(&self, title: &str) -> Layout {
        let role = self.actor.role;
        let mut nav = vec![NavItem { href: "/assessments", label: "My assessments", current: false }];
        if role == Role::Moderator {
            nav.push(NavItem { href: "/moderation", label: "Moderation", current: false });
        }
        if role == Role::Admin {
            nav.push(NavItem { href: "/admin/register", label: "Register", current: false });
            nav.push(NavItem { href: "/admin/import", label: "Import", current: false });
            nav.push(NavItem { href: "/admin/people", label: "People", current: false });
        }
        if role.is_staff() {
            nav.push(NavItem { href: "/appeals", label: "Appeals", current: false });
            nav.push(NavItem { href: "/reports", label: "Reports", current: false });
            nav.push(NavItem { href: "/reports/standardisation", label: "Standardisation", current: false });
        }
        let path = self.here.split('?').next().unwrap_or_default();
        for item in &mut nav {
            item.current = path == item.href;
        }
        Layout {
            title: title.to_string(),
            user: Some(UserChrome { name: self.actor.name.clone(), role: role_label(role.as_str()).to_string() }),
            csrf: self.csrf.clone(),
            nav,
            css: static_url("app.css"),
            js: static_url("autosave.js"),
            icon: static_url("favicon.svg"),
        }
    }

    /// Renders `template` with `view` (200).
    pub fn render<T: Serialize>(&self, template: &str, title: &str, view: &T) -> Result<HttpResponse, PageError> {
        Ok(self.pages.render(StatusCode::OK, template, &self.layout(title), view))
    }

    /// Renders a form again with a status that says why (400/409/412).
    pub fn render_status<T: Serialize>(
        &self,
        status: StatusCode,
        template: &str,
        title: &str,
        view: &T,
    ) -> Result<HttpResponse, PageError> {
        Ok(self.pages.render(status, template, &self.layout(title), view))
    }

    /// The error page for `e`, in this person's frame.
    pub fn fail(&self, e: &AppError) -> PageError {
        self.pages.error_page(Some(self.layout(error_title(e.status_code()))), e)
    }

    /// Runs service code on the database (the writer for a form's POST, a reader for a GET);
    /// any error becomes its error page.
    pub async fn run<T, F>(&self, f: F) -> Result<T, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        self.on_db(f).await.map_err(|e| self.fail(&e))
    }

    /// Runs service code and hands back its refusal, for forms that show it beside the field.
    pub async fn attempt<T, F>(&self, f: F) -> Result<AppResult<T>, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        match self.on_db(f).await {
            Ok(v) => Ok(Ok(v)),
            Err(e) if is_form_error(&e) => Ok(Err(e)),
            Err(e) => Err(self.fail(&e)),
        }
    }

    /// The writer for a request that may change something, else a reader.
    async fn on_db<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
    {
        if self.writes {
            self.state.db.run(f).await
        } else {
            self.state.db.read(f).await
        }
    }

    /// Refuses a POST without this session's CSRF token (403 page).
    pub fn check_csrf(&self, form: &Form) -> Result<(), PageError> {
        form.check_csrf(&self.csrf).map_err(|_| csrf_refused(&self.pages, Some(self.layout("Form expired"))))
    }
}
