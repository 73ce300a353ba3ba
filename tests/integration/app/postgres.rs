//! A PostgreSQL database of a test's own, created on the server `EPA_TEST_POSTGRES_URL` names
//! and dropped (with its connections) when the test is done.

use diesel::{Connection, RunQueryDsl};

use super::test_app::init_once;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

// ---------------------------------------------------------------- PostgreSQL

/// A database of one test's own, dropped (with its connections) when this value is.
pub(super) struct PgDatabase {
    pub(super) admin_url: String,
    pub(super) name: String,
    pub(super) url: String,
}

impl PgDatabase {
    /// None (after saying so, loudly) when no PostgreSQL answers and `CI` is not set.
    pub(super) fn create() -> Option<PgDatabase> {
        let admin_url = std::env::var("EPA_TEST_POSTGRES_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES.to_string());
        let mut conn = match diesel::PgConnection::establish(&admin_url) {
            Ok(conn) => conn,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("no PostgreSQL at {admin_url} ({e}), and CI is set: the PostgreSQL tests must run")
            }
            Err(e) => {
                eprintln!("SKIPPED (no PostgreSQL at {admin_url}): {e}");
                return None;
            }
        };
        let name = format!("epa_test_{}", uuid::Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let (head, query) = match admin_url.split_once('?') {
            Some((h, q)) => (h, format!("?{q}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = match head.rfind('/') {
            Some(slash) if slash > head.find("://").map_or(0, |s| s + 2) => &head[..slash],
            _ => head,
        };
        let url = format!("{server}/{name}{query}");
        Some(PgDatabase { admin_url, name, url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        match diesel::PgConnection::establish(&self.admin_url) {
            Ok(mut conn) => {
                if let Err(e) =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut conn)
                {
                    eprintln!("could not drop the test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("could not drop the test database {}: {e}", self.name),
        }
    }
}

// ---------------------------------------------------------------- for the fault-tolerance tests

/// A fresh PostgreSQL database of a test's own, dropped (with its connections) with this value.
pub struct FreshPostgres(PgDatabase);

impl FreshPostgres {
    /// None (after saying so, loudly) when no PostgreSQL answers and `CI` is not set.
    pub fn create() -> Option<FreshPostgres> {
        init_once();
        PgDatabase::create().map(FreshPostgres)
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }
}
