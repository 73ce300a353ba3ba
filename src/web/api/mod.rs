//! The v1 JSON API: one file per resource, each handler parse → service → respond.

pub mod appeals;
pub mod assessments;
pub mod health;
pub mod openapi;
pub mod people;
pub mod reports;
pub mod standards;
