//! The migrations on both backends: each one runs up, down and up again, leaving the schema as it
//! found it; and the schema they build is the same on SQLite and PostgreSQL, table by table and
//! column by column (names, compatible types, nullability), so that one `schema.rs` serves both.

use std::collections::BTreeMap;

use diesel::migration::MigrationSource;
use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use epa_panel::db::{DatabaseUrl, DbConnection};

use crate::app::FreshPostgres;

// The same folders the service embeds (`epa_panel::db::migrate` runs them up).
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One column as the database describes it.
#[derive(QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    /// SQLite only: the column is the table's rowid (`INTEGER PRIMARY KEY`), 64 bits wide.
    #[diesel(sql_type = Bool)]
    rowid: bool,
}

/// What a column is, in terms both backends share.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    /// `text`, `integer` (32 bits), `bigint`, `double` or `bool`; a SQLite rowid is `rowid`.
    kind: String,
    nullable: bool,
}

/// Table → column → shape, without diesel's own bookkeeping table.
type Schema = BTreeMap<String, BTreeMap<String, Shape>>;

fn kind(data_type: &str) -> String {
    match data_type.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => "text",
        "integer" | "int" | "int4" => "integer",
        "bigint" | "int8" => "bigint",
        "real" | "double" | "double precision" | "float8" => "double",
        "boolean" | "bool" => "bool",
        other => panic!("a column type both backends do not share: {other}"),
    }
    .to_string()
}

fn schema(conn: &mut DbConnection) -> Schema {
    let columns: Vec<Column> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                    (p.\"notnull\" = 0 AND p.pk = 0) AS nullable, \
                    (p.pk = 1 AND upper(p.type) = 'INTEGER' \
                     AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) = 1) AS rowid \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.cid",
        )
        .load(c),
        DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
                    (is_nullable = 'YES') AS nullable, false AS rowid \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, ordinal_position",
        )
        .load(c),
    }
    .expect("the database describes its columns");
    let mut schema = Schema::new();
    for c in columns {
        let kind = if c.rowid { "rowid".to_string() } else { kind(&c.data_type) };
        schema.entry(c.table_name).or_default().insert(c.column_name, Shape { kind, nullable: c.nullable });
    }
    schema
}

/// Runs every migration up one at a time, then each down and up again, then all down: after each
/// down the schema is what it was before that migration's up, and after all of them nothing is
/// left. Ends with every migration applied (through the service's own `migrate`).
fn round_trip(url: &str) {
    let mut conn = DatabaseUrl::parse(url).expect("a database URL").connect().expect("a connection");
    let count = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE).expect("the migrations").len();
    assert!(count >= 4, "every migration is embedded: {count}");
    // before[i]: the schema before migration i ran.
    let mut before: Vec<Schema> = vec![schema(&mut conn)];
    assert!(before[0].is_empty(), "a fresh database: {:?}", before[0]);
    for i in 0..count {
        match &mut conn {
            DbConnection::Sqlite(c) => c.run_next_migration(SQLITE).map(|_| ()),
            DbConnection::Postgres(c) => c.run_next_migration(POSTGRES).map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("migration {i} up: {e}"));
        let after = schema(&mut conn);
        match &mut conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE).map(|_| ()),
            DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES).map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("migration {i} down: {e}"));
        assert_eq!(schema(&mut conn), before[i], "migration {i}'s down undoes its up");
        match &mut conn {
            DbConnection::Sqlite(c) => c.run_next_migration(SQLITE).map(|_| ()),
            DbConnection::Postgres(c) => c.run_next_migration(POSTGRES).map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("migration {i} up again: {e}"));
        assert_eq!(schema(&mut conn), after, "migration {i} up again builds the same");
        before.push(after);
    }
    assert!(epa_panel::db::migrate(&mut conn).expect("migrate").is_empty(), "all applied: nothing pending");
    match &mut conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    }
    .expect("every migration down");
    assert_eq!(schema(&mut conn), Schema::new(), "all down: no table is left");
    assert_eq!(epa_panel::db::migrate(&mut conn).expect("migrate").len(), count, "and all up again");
    assert_eq!(&schema(&mut conn), before.last().expect("a schema"));
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("t.db").display())
}

#[test]
fn every_migration_runs_up_down_up_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temp dir");
    round_trip(&sqlite_url(&dir));
}

#[test]
fn every_migration_runs_up_down_up_on_postgres() {
    let Some(pg) = FreshPostgres::create() else { return };
    round_trip(pg.url());
}

#[test]
fn both_backends_build_the_same_tables_and_columns() {
    let Some(pg) = FreshPostgres::create() else { return };
    let dir = tempfile::tempdir().expect("a temp dir");
    let connect = |url: &str| {
        let mut conn = DatabaseUrl::parse(url).expect("a database URL").connect().expect("a connection");
        epa_panel::db::migrate(&mut conn).expect("migrate");
        conn
    };
    let sqlite = schema(&mut connect(&sqlite_url(&dir)));
    let postgres = schema(&mut connect(pg.url()));
    assert_eq!(sqlite.keys().collect::<Vec<_>>(), postgres.keys().collect::<Vec<_>>(), "the same tables");
    let mut differences = Vec::new();
    for (table, columns) in &sqlite {
        let theirs = &postgres[table];
        let names = |c: &BTreeMap<String, Shape>| c.keys().cloned().collect::<Vec<_>>();
        if names(columns) != names(theirs) {
            differences.push(format!("{table}: SQLite {:?} vs PostgreSQL {:?}", names(columns), names(theirs)));
            continue;
        }
        for (column, ours) in columns {
            let pg = &theirs[column];
            // A SQLite rowid is a 64-bit integer that PostgreSQL spells integer or bigint (serial).
            let same_kind =
                ours.kind == pg.kind || (ours.kind == "rowid" && ["integer", "bigint"].contains(&&*pg.kind));
            if !same_kind || ours.nullable != pg.nullable {
                differences.push(format!("{table}.{column}: SQLite {ours:?} vs PostgreSQL {pg:?}"));
            }
        }
    }
    assert!(differences.is_empty(), "the backends' schemas differ:\n{}", differences.join("\n"));
    let columns: usize = sqlite.values().map(BTreeMap::len).sum();
    assert!(sqlite.len() >= 10 && columns >= 80, "every table is compared: {} tables, {columns} columns", sqlite.len());
}
