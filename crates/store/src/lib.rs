//! The only place with SQL. One [`Db`] handle over SQLite or PostgreSQL,
//! chosen from the URL; each backend owns its migrations, with the same
//! version numbers.
//!
//! Queries are written once, in portable SQL (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`), and run on either pool through the [`on_pool!`] macro.
//! Nothing here decides who may see what: callers ask `kindred_domain::access`
//! with the facts this crate gathers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub mod api_clients;
pub mod assessments;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod connections;
pub mod consents;
pub mod contacts;
pub mod development;
pub mod directory;
pub mod early_help;
pub mod early_identification;
pub mod episodes;
pub mod families;
pub mod feeds;
pub mod fhir;
pub mod flags;
pub mod kpi;
pub mod mfa;
pub mod notify;
pub mod openreferral;
pub mod organisations;
pub mod outcomes;
pub mod overrides;
pub mod panels;
pub mod pathway;
pub mod persons;
pub mod pinned;
pub mod plans;
pub mod portal;
pub mod profile;
pub mod public;
pub mod referrals;
pub mod reports;
pub mod restricted;
pub mod retention;
pub mod search;
pub mod sharing;
pub mod tasks;
pub mod testing;
pub mod transitions;
pub mod transparency;
pub mod users;

/// Runs `$body` with `$pool` bound to the concrete pool and `$DB` to its
/// database type, so a query is written once for both backends.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident, $DB:ident| $body:expr) => {
        match &$db.pool {
            $crate::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Sqlite;
                $body
            }
            $crate::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Postgres;
                $body
            }
        }
    };
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}

/// As `on_pool!`, for reads: on the handle's pinned connection if it has one
/// ([`Db::pinned`]), else on the pool. Only for statements that read.
macro_rules! on_read {
    ($db:expr, |$pool:ident, $DB:ident| $body:expr) => {
        match (&$db.pinned, &$db.pool) {
            (Some($crate::pinned::PinnedConn::Sqlite(c)), _) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Sqlite;
                let $pool = &**c;
                $body
            }
            (Some($crate::pinned::PinnedConn::Postgres(c)), _) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Postgres;
                let $pool = &**c;
                $body
            }
            (None, $crate::Pool::Sqlite($pool)) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Sqlite;
                $body
            }
            (None, $crate::Pool::Postgres($pool)) => {
                #[allow(dead_code)]
                type $DB = ::sqlx::Postgres;
                $body
            }
        }
    };
    ($db:expr, |$pool:ident| $body:expr) => {
        on_read!($db, |$pool, __ReadDb| $body)
    };
}
pub(crate) use on_read;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error(transparent)]
    Sql(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite database and its audit file do not belong together (or the
    /// audit file is missing): Kindred will not start on them.
    #[error("{0}")]
    AuditFile(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(d.constraint().unwrap_or("unique").to_string())
            }
            _ => StoreError::Sql(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Starts a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN IMMEDIATE`, so a transaction that reads before it writes waits
/// for another writer (the busy timeout) instead of failing with "database
/// is locked" when that writer committed in between (SQLite cannot upgrade
/// a stale read snapshot). PostgreSQL's `BEGIN` needs nothing more.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for sqlx::SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for sqlx::PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>>> + Send {
        self.begin()
    }
}

/// The database handle. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: Pool,
    /// SQLite: the file beside the database that holds the audit trail,
    /// attached to every connection as `audit` ([`sqlite_audit_file`]).
    audit_file: Option<std::path::PathBuf>,
    /// Hands events to this process's audit writer, which appends them in
    /// batches; the chain head row serialises appends across processes.
    audit_writer: audit::Writer,
    /// A connection held for this handle's reads ([`Db::pinned`]).
    pinned: Option<pinned::PinnedConn>,
    /// How many more connections may be pinned (shared by clones).
    pin_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens (and for SQLite, creates) the database at `url`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Db> {
        let mut audit_file = None;
        let pool = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Every read appends an audit row, and any write makes each pooled
                // connection drop its page cache: keep that cache small and read
                // through memory-mapped pages, which survive, instead.
                .pragma("cache_size", "-8192")
                .pragma("mmap_size", "1073741824")
                .pragma("temp_store", "memory")
                // The connection's thread hands rows to the request in a
                // channel; past this many it waits for the request to take
                // them, a round of thread switches. A page's largest reads
                // (a search's policy facts, a family's contacts) fit.
                .row_buffer_size(256);
            audit_file = sqlite_audit_file(url)?;
            let attach = audit_file.as_ref().map(|f| f.to_string_lossy().into_owned());
            let pool = SqlitePoolOptions::new()
                // More than `pinned::PINNED_MAX`, so that pages holding
                // connections leave some for writes and the audit writer.
                .max_connections(10)
                .min_connections(1)
                // An embedded database cannot hang up: the ping sqlx sends on
                // every acquire would be one more round trip to the
                // connection's thread for each statement, for nothing.
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    let attach = attach.clone();
                    Box::pin(async move {
                        // The audit trail's own file (created if missing;
                        // `audit::settle_audit_file` refuses an empty one
                        // that should not be).
                        if let Some(file) = attach {
                            sqlx::query("ATTACH DATABASE $1 AS audit")
                                .bind(file)
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA audit.journal_mode = WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA audit.synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(opts)
                .await?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let mut db = Db::from_pool(pool);
        db.audit_file = audit_file;
        Ok(db)
    }

    /// A handle over an already open pool, with its own audit writer.
    pub(crate) fn from_pool(pool: Pool) -> Db {
        let audit_writer = audit::Writer::spawn(pool.clone());
        Db {
            pool,
            audit_file: None,
            audit_writer,
            pinned: None,
            pin_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(pinned::PINNED_MAX)),
        }
    }

    /// Opens and brings the schema up to date: what `serve` and `demo` do at start.
    pub async fn open(url: &str) -> Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                SQLITE_MIGRATOR.run(p).await?;
                if let Some(file) = &self.audit_file {
                    audit::settle_audit_file(p, file).await?;
                }
            }
            Pool::Postgres(p) => POSTGRES_MIGRATOR.run(p).await?,
        }
        // The built-in directory taxonomy is data the code defines, kept current at start.
        self.ensure_needs_taxonomy().await?;
        // Migrations `ANALYZE`; keep only the row estimates (`Db::analyze`).
        self.forget_stat4_samples().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await)
    }
}

/// The file that holds a SQLite database's audit trail: the database's own
/// path with `-audit` added (`kindred.db` → `kindred.db-audit`), beside its
/// `-wal` and `-shm`. `None` for an in-memory database, which keeps its trail
/// in its own `audit_events`.
///
/// Why a file of its own: every read of personal data appends an event, and
/// every commit to a SQLite file makes each other connection to it drop its
/// page cache and memory map before its next read. With the trail apart,
/// reads leave the records' file unchanged and its pages stay warm.
pub fn sqlite_audit_file(url: &str) -> Result<Option<std::path::PathBuf>> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let opts = SqliteConnectOptions::from_str(url)?;
    let mut name = opts.get_filename().as_os_str().to_os_string();
    name.push("-audit");
    Ok(Some(std::path::PathBuf::from(name)))
}

/// Milliseconds since the Unix epoch: how Kindred stores instants.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Ids as a comma-separated list, for `IN (…)`: integers only, so nothing
/// a user typed can reach the SQL text.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// A set of ids bound as one text parameter (`param`, holding them
/// comma-separated: bind [`id_set`]) as a table `alias` of one column,
/// `value`, to join on with [`ids_join`]:
/// `FROM {ids} {join} families f ON f.id = j.value`.
/// The statement's text is the same whatever the ids, so it is prepared once
/// and reused, where an inlined list ([`id_list`]) is new text, parsed and
/// planned afresh, each time. Joined, not `IN (SELECT …)`: SQLite builds a
/// temporary B-tree for each such subquery, every time the statement runs.
pub(crate) fn bound_ids(backend: Backend, param: &str, alias: &str) -> String {
    match backend {
        Backend::Sqlite => format!("json_each('[' || {param} || ']') AS {alias}"),
        Backend::Postgres => format!("unnest(CAST(string_to_array({param}, ',') AS BIGINT[])) AS {alias}(value)"),
    }
}

/// The join that follows a [`bound_ids`] table. For SQLite, `CROSS JOIN`,
/// which keeps the ids as the outer loop: the planner knows nothing of how
/// many ids a `json_each` holds, and without fresh statistics it chose to
/// scan the whole joined table (every open involvement, every team member)
/// and look each row up in the list, seconds where a probe per id takes
/// microseconds. PostgreSQL plans `unnest` well and has no such keyword
/// with `ON`.
pub(crate) fn ids_join(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    }
}

/// `ids` sorted and without repeats, comma-separated, to bind for
/// [`bound_ids`]: as a joined table each repeat would repeat its rows.
pub(crate) fn id_set(ids: &[i64]) -> String {
    let set: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
    set.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Where a test or the demo should put its data when no URL is given.
pub const DEFAULT_URL: &str = "sqlite://kindred.db";
