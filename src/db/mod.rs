//! Storage: one diesel connection type over SQLite (the embedded default) and PostgreSQL, the
//! pool, migrations, and the one seam (`Db::run`) through which every blocking query runs.

pub mod appeals;
pub mod assessments;
pub mod audit;
pub mod copy;
pub mod idempotency;
pub mod models;
pub mod outbox;
pub mod people;
pub mod schema;
pub mod sessions;
pub mod sheets;
pub mod sign_offs;
pub mod standards;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL, checked once: `sqlite://PATH` or `postgres://…` / `postgresql://…`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    /// For SQLite, the file path; for PostgreSQL, the whole URL.
    target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("EPA_DATABASE_URL: sqlite:// needs a file path, e.g. sqlite://epa-panel.db".into());
            }
            Ok(Self { backend: Backend::Sqlite, target: path.to_string() })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self { backend: Backend::Postgres, target: url.to_string() })
        } else {
            Err(format!("EPA_DATABASE_URL: {:?} is neither sqlite://PATH nor postgres://…", redact(url)))
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connects the one backend the URL names (never trying the others: their errors would hide
    /// the real one).
    pub fn connect(&self) -> Result<DbConnection, ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)?;
                // Diesel sets no busy handler; WAL lets readers run beside the writer.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => Ok(DbConnection::Postgres(PgConnection::establish(&self.target)?)),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}({})", self.backend, redact(&self.target))
    }
}

/// Hides a password in a URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// r2d2 manager that connects by URL scheme.
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A connection checked out of the pool.
pub type Pooled = PooledConnection<Manager>;

/// Why a database call failed outside the query itself.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database task failed: {0}")]
    Join(String),
}

/// The pool, and the one way to run blocking diesel code from async handlers.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
}

impl Db {
    /// Opens the pool. SQLite gets one connection: SQLite allows one writer at a time anyway, and
    /// one connection makes "database is locked" impossible (a read that turns into a write in a
    /// WAL transaction cannot wait for another writer). PostgreSQL gets `pg_pool_size`.
    pub fn open(url: &DatabaseUrl, pg_pool_size: u32) -> anyhow::Result<Db> {
        // Connect once first so a bad URL or a down server fails at once with its own message.
        drop(url.connect().map_err(|e| anyhow::anyhow!("cannot open the database {url:?}: {e}"))?);
        let size = match url.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => pg_pool_size.max(1),
        };
        let pool = Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(30))
            .build(Manager { url: url.clone() })?;
        Ok(Db { pool, backend: url.backend() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for blocking code (the CLI, the start-up, tests).
    pub fn conn(&self) -> Result<Pooled, DbError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` on a blocking thread with a pooled connection checked out inside it.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Join(e.to_string())))?
    }
}

/// Runs `f` in one transaction (everything or nothing is saved; an error rolls it back).
pub fn transaction<T, E>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Checks the database answers (`SELECT 1`).
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Applies pending migrations; returns the names of those applied.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Runs start-up work (migrations, guide imports) under a PostgreSQL advisory lock, so several
/// instances starting at once take turns instead of racing. SQLite needs no lock.
pub fn with_startup_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    const KEY: i64 = 0x4550_4150_414e_454c; // "EPAPANEL"
    let postgres = matches!(conn, DbConnection::Postgres(_));
    if postgres {
        diesel::sql_query(format!("SELECT pg_advisory_lock({KEY})")).execute(conn)?;
    }
    let result = f(conn);
    if postgres {
        diesel::sql_query(format!("SELECT pg_advisory_unlock({KEY})")).execute(conn)?;
    }
    result
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.iter().map(ToString::to_string).collect()
}

/// The current time as stored: RFC 3339, UTC, microseconds, `Z` (fixed width, so it sorts).
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A new opaque id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(DatabaseUrl::parse("sqlite://epa.db").unwrap().backend(), Backend::Sqlite);
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap().target, "/tmp/x.db");
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(), Backend::Postgres);
        assert!(DatabaseUrl::parse("mysql://h/db").unwrap_err().contains("EPA_DATABASE_URL"));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://me:secret@db:5432/epa"), "postgres://me:***@db:5432/epa");
        assert_eq!(redact("postgres://me@db/epa"), "postgres://me@db/epa");
        let url = DatabaseUrl::parse("postgres://me:secret@db/epa").unwrap();
        assert!(!format!("{url:?}").contains("secret"));
    }

    #[test]
    fn times_are_fixed_width_utc() {
        let t = now();
        assert_eq!(t.len(), "2026-11-23T10:00:00.000000Z".len());
        assert!(t.ends_with('Z'));
    }

    #[test]
    fn migrations_run_up_down_up_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let mut conn = url.connect().unwrap();
        assert!(!migrate(&mut conn).unwrap().is_empty());
        assert!(migrate(&mut conn).unwrap().is_empty(), "a second run applies nothing");
        let DbConnection::Sqlite(c) = &mut conn else { unreachable!() };
        c.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
        assert!(!migrate(&mut conn).unwrap().is_empty());
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let list = |backend: &str| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(list("sqlite"), list("postgres"));
    }
}
