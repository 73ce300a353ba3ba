//! The server-rendered web interface (Tera): what panel members, moderators and admins use in a
//! browser. Every page calls the same service functions as the JSON API, with the signed-in
//! person as the `Actor`, so the rules live in one place. A handler parses the form, calls the
//! service inside `Db::run`, and renders a typed view or redirects (POST/redirect/GET).
//!
//! Security: encrypted session cookies ([`session`]), a CSRF token on every form, checked on every
//! POST, sign-in throttling and Argon2id passwords (`services::people`), a Content-Security-Policy
//! without `unsafe-inline` on every page (scripts and styles are files under `/static/`), and
//! Tera's autoescaping (templates are `.html`).
//!
//! The rooms: `state` (what the pages share, rendering), `layout` (the frame around every page
//! and what a signed-in [`Page`] does), `errors` (error pages and refusals shown on forms),
//! `assets` (static files) and `routes` (the route table); then one module per group of pages.

pub mod admin;
pub mod appeals;
pub mod assessment;
pub mod assessors;
pub mod auth;
pub mod charts;
pub mod consensus;
pub mod home;
pub mod moderation;
pub mod reports;
pub mod scores;
pub mod session;
pub mod standardisation;
pub mod view;

mod assets;
mod errors;
mod layout;
mod routes;
mod state;

pub use crate::config::WebConfig;
pub use assets::static_url;
pub use errors::{capitalise, csrf_refused, field_words, in_words, is_form_error, see_other, FormError, PageError};
pub use layout::{role_label, Layout, NavItem, UserChrome};
pub use routes::routes;
pub use session::{Form, Page, Visitor};
pub use state::{PagesState, PAGE_CSP};
