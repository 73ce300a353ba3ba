//! Storage: one diesel connection type over SQLite (the embedded default) and PostgreSQL, the
//! pool, migrations, and the one seam (`Db::run`) through which every blocking query runs.

pub mod appeals;
pub mod assessments;
pub mod assessors;
pub mod audit;
pub mod copy;
pub mod evidence;
pub mod idempotency;
pub mod models;
pub mod outbox;
pub mod people;
pub mod schema;
pub mod sessions;
pub mod sheets;
pub mod sign_offs;
pub mod standards;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
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

/// r2d2 manager that connects by URL scheme: the writer, or (SQLite) a read-only reader.
pub struct Manager {
    url: DatabaseUrl,
    read_only: bool,
    statements: Arc<AtomicU64>,
}

impl Manager {
    fn open(&self) -> Result<DbConnection, ConnectionError> {
        let mut conn = self.url.connect()?;
        if self.read_only {
            // A reader never writes: a write sent here by mistake fails loudly instead of
            // taking SQLite's one write lock beside the writer.
            conn.batch_execute("PRAGMA query_only = ON;").map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        let statements = self.statements.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                statements.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(conn)
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        let conn = self.open().map_err(r2d2::Error::ConnectionError)?;
        Ok(Conn { conn, last_used: Instant::now(), broken: false })
    }

    /// Only for an idle connection (see [`Db`]): the pool tests nothing on check-out.
    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        conn.conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.broken || conn.conn.is_broken()
    }
}

/// A pooled connection with what the pool needs to know about it: when it was last used (an
/// idle one is tested before use, a busy one never) and whether a failed call found it broken
/// (then the pool drops it on return and opens another).
pub struct Conn {
    conn: DbConnection,
    last_used: Instant,
    broken: bool,
}

impl std::ops::Deref for Conn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// A connection checked out of the pool.
pub type Pooled = PooledConnection<Manager>;

/// How long a connection may sit unused before it is tested (`SELECT 1`) on its next check-out.
/// Under load connections are never idle that long, so the hot path runs no test query; after a
/// database restart or a killed backend the first check-out finds out and reconnects.
const IDLE_BEFORE_TEST: Duration = Duration::from_secs(1);

/// Why a database call failed outside the query itself.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database connection: {0}")]
    Connect(#[from] ConnectionError),
    #[error("database task failed: {0}")]
    Join(String),
}

/// The pools, and the one way to run blocking diesel code from async handlers.
///
/// SQLite: one writer connection (SQLite allows one writer at a time anyway, and one connection
/// makes "database is locked" impossible: a read that turns into a write in a WAL transaction
/// cannot wait for another writer) and a small pool of read-only readers, which WAL lets run
/// beside the writer without waiting for it. PostgreSQL: one pool of `pg_pool_size`, for both.
#[derive(Clone)]
pub struct Db {
    writer: Pool<Manager>,
    /// SQLite: the thread that runs [`Db::run`]'s calls on the writer, one after another.
    writer_thread: Option<std::sync::mpsc::Sender<WriterJob>>,
    /// SQLite's readers; `None` on PostgreSQL, where reads use the one pool.
    readers: Option<Pool<Manager>>,
    backend: Backend,
    url: DatabaseUrl,
    checkouts: Arc<AtomicU64>,
    statements: Arc<AtomicU64>,
}

/// A call queued for SQLite's writer thread.
type WriterJob = Box<dyn FnOnce() + Send>;

/// Starts the thread that runs SQLite's changes. The writer is one connection, so the changes
/// run one at a time whatever runs them; on one thread that takes them from a queue, the next
/// call starts as soon as the last one ends, where blocking threads waiting for the connection
/// had each to be woken in turn (measured: most of a draft save's time under load was threads
/// switching). It ends when the last [`Db`] holding its queue is dropped.
fn writer_thread() -> std::io::Result<std::sync::mpsc::Sender<WriterJob>> {
    let (queue, jobs) = std::sync::mpsc::channel::<WriterJob>();
    std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || {
        for job in jobs {
            job();
        }
    })?;
    Ok(queue)
}

/// How many read-only connections SQLite gets beside its writer.
pub const SQLITE_READERS: u32 = 4;

impl Db {
    /// Opens the pools (see [`Db`]).
    pub fn open(url: &DatabaseUrl, pg_pool_size: u32) -> anyhow::Result<Db> {
        // Connect once first so a bad URL or a down server fails at once with its own message.
        drop(url.connect().map_err(|e| anyhow::anyhow!("cannot open the database {url:?}: {e}"))?);
        let statements = Arc::new(AtomicU64::new(0));
        let pool = |size: u32, read_only: bool| {
            Pool::builder()
                .max_size(size)
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(30))
                .build(Manager { url: url.clone(), read_only, statements: statements.clone() })
        };
        let (writer, readers) = match url.backend() {
            Backend::Sqlite => (pool(1, false)?, Some(pool(SQLITE_READERS, true)?)),
            Backend::Postgres => (pool(pg_pool_size.max(1), false)?, None),
        };
        let writer_thread = match url.backend() {
            Backend::Sqlite => Some(writer_thread()?),
            Backend::Postgres => None,
        };
        Ok(Db {
            writer,
            writer_thread,
            readers,
            backend: url.backend(),
            url: url.clone(),
            checkouts: Arc::new(AtomicU64::new(0)),
            statements,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many connections have been checked out so far (for tests: one per request).
    pub fn checkouts(&self) -> u64 {
        self.checkouts.load(Ordering::SeqCst)
    }

    /// How many statements the pools' connections have started so far (for tests).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }

    /// A connection for blocking code (the CLI, the start-up, tests): the writer.
    pub fn conn(&self) -> Result<Pooled, DbError> {
        self.checkout(&self.writer)
    }

    /// A connection that only reads: one of SQLite's readers, or on PostgreSQL a pooled one.
    pub fn reader(&self) -> Result<Pooled, DbError> {
        self.checkout(self.readers.as_ref().unwrap_or(&self.writer))
    }

    fn checkout(&self, pool: &Pool<Manager>) -> Result<Pooled, DbError> {
        let mut conn = pool.get()?;
        self.checkouts.fetch_add(1, Ordering::SeqCst);
        if conn.last_used.elapsed() >= IDLE_BEFORE_TEST && conn.conn.batch_execute("SELECT 1").is_err() {
            // The server went away while this connection sat idle: open another in its place.
            let read_only = self.readers.as_ref().is_some_and(|r| std::ptr::eq(r, pool));
            let manager = Manager { url: self.url.clone(), read_only, statements: self.statements.clone() };
            conn.conn = manager.open()?;
        }
        Ok(conn)
    }

    /// Runs `f` off the async workers with the writer (on SQLite's writer thread) or a pooled
    /// connection (on a blocking thread), checked out there: for changes, and reads that must
    /// see them.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        let Some(queue) = &self.writer_thread else {
            return tokio::task::spawn_blocking(move || db.with(Db::conn, f))
                .await
                .map_err(|e| E::from(DbError::Join(e.to_string())))?;
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: WriterJob = Box::new(move || {
            // A panic fails this call alone, as on a blocking thread; the thread goes on.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| db.with(Db::conn, f)));
            let _ = done.send(ran.map_err(|_| DbError::Join("the database call panicked".into())));
        });
        queue.send(job).map_err(|_| E::from(DbError::Join("the writer thread has stopped".into())))?;
        result
            .await
            .map_err(|_| E::from(DbError::Join("the writer thread dropped the call".into())))?
            .map_err(E::from)?
    }

    /// Runs `f`, which only reads, on a blocking thread with a reader checked out inside it
    /// (SQLite's readers do not wait for the writer).
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.with(Db::reader, f))
            .await
            .map_err(|e| E::from(DbError::Join(e.to_string())))?
    }

    /// Blocking: runs `f` on a connection from `checkout`. A failed call tests the connection,
    /// and a broken one is dropped on return instead of being handed to the next caller.
    pub fn with<T, E, F>(&self, checkout: fn(&Db) -> Result<Pooled, DbError>, f: F) -> Result<T, E>
    where
        E: From<DbError>,
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
    {
        let mut conn = checkout(self)?;
        let result = f(&mut conn.conn);
        if result.is_err() && conn.conn.batch_execute("SELECT 1").is_err() {
            conn.broken = true;
        }
        conn.last_used = Instant::now();
        result
    }
}

/// Runs a query, written once, on the backend's own connection instead of through
/// [`DbConnection`]: `on_backend!(conn, c => query.load(c))`.
///
/// Through the multi-backend connection diesel writes a statement's whole SQL text out again
/// (quoting every identifier) each time it runs, even when the statement is already prepared and
/// cached; on the backend's own connection a cached statement is only bound and run. Measured on
/// a draft save, that SQL writing was about a quarter of the server's instructions; the save's
/// statements (and the caller's token lookup) run this way.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Reads the one row a lookup by a unique key finds, if any: [`load`](RunQueryDsl::load) and
/// keep the row, instead of diesel's `first`, which adds `LIMIT ?`.
///
/// SQLite's planner reads the value bound to a `LIMIT ?`, so every time such a statement is
/// bound again SQLite throws its prepared form away and parses and plans it anew: measured on a
/// draft save, four such lookups re-prepared on every request were a quarter of the server's
/// instructions. A lookup by a unique key needs no limit; queries that pick the newest of many
/// say so in SQL instead (see `db::audit::chain_tail`).
pub trait UniqueRow<Conn>: RunQueryDsl<Conn> + Sized {
    fn unique_row<'query, U>(self, conn: &mut Conn) -> QueryResult<Option<U>>
    where
        Self: diesel::query_dsl::LoadQuery<'query, Conn, U>,
    {
        let mut rows = self.load(conn)?;
        debug_assert!(rows.len() <= 1, "a lookup by a unique key found {} rows", rows.len());
        Ok(rows.pop())
    }
}

impl<Q: RunQueryDsl<Conn>, Conn> UniqueRow<Conn> for Q {}

/// The SQL backend of [`DbConnection`] (either engine's).
pub type SqlBackend = <DbConnection as diesel::Connection>::Backend;

/// Which side of a key a keyset page reads: the rows after it in ascending order, or before it
/// in descending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beyond {
    After,
    Before,
}

/// The rows beyond the key `(first, second)` in the order of the columns `columns` (two columns,
/// written as SQL: `"assessments.decided_at, assessments.id"`), as one SQL row-value comparison
/// `(a, b) > (?, ?)`. Both engines read it as one range of an index on those columns; written as
/// `a > ? OR (a = ? AND b > ?)` PostgreSQL filtered the index from its start on every page, so
/// walking a long list page by page cost its length squared.
pub fn beyond_key<QS>(
    columns: &'static str,
    side: Beyond,
    first: String,
    second: String,
) -> Box<dyn BoxableExpression<QS, SqlBackend, SqlType = diesel::sql_types::Bool>> {
    use diesel::sql_types::Text;
    let op = match side {
        Beyond::After => ">",
        Beyond::Before => "<",
    };
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("({columns}) {op} ("))
            .bind::<Text, _>(first)
            .sql(", ")
            .bind::<Text, _>(second)
            .sql(")"),
    )
}

/// Runs `f` in one transaction (everything or nothing is saved; an error rolls it back).
pub fn transaction<T, E>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Makes the transaction just begun one read-only snapshot (a long export sees one moment):
/// on PostgreSQL `REPEATABLE READ, READ ONLY`, which must be its first statement; on SQLite a
/// read transaction is a snapshot from its first read on (and the readers are `query_only`).
pub fn read_only_snapshot(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgres(_) => conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
        DbConnection::Sqlite(_) => Ok(()),
    }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_changes_run_one_at_a_time_and_a_panic_fails_only_its_own_call() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let db = Db::open(&url, 1).unwrap();
        db.run(|c| c.batch_execute("CREATE TABLE n (v INTEGER NOT NULL)").map_err(anyhow::Error::from)).await.unwrap();
        // Many changes at once: every one runs, each alone (read-then-write never interleaves).
        let calls = (0..64).map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                db.run(|c| -> anyhow::Result<()> {
                    let DbConnection::Sqlite(c) = c else { unreachable!() };
                    c.batch_execute("INSERT INTO n (v) SELECT COALESCE(MAX(v), 0) + 1 FROM n")?;
                    Ok(())
                })
                .await
            })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap().unwrap();
        }
        let panicked: Result<(), anyhow::Error> = db
            .run(|_| -> anyhow::Result<()> {
                panic!("a bug in one call");
            })
            .await;
        assert!(panicked.unwrap_err().to_string().contains("panicked"));
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            top: i64,
        }
        let counted = db
            .run(|c| {
                diesel::sql_query("SELECT COUNT(*) AS n, MAX(v) AS top FROM n")
                    .get_result::<Count>(c)
                    .map_err(anyhow::Error::from)
            })
            .await
            .expect("the writer goes on after a panic");
        assert_eq!((counted.n, counted.top), (64, 64));
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
