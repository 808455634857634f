//! `kindred backup FILE`: an online, consistent copy of the database while the
//! server keeps running, then a check of the copy.
//!
//! SQLite: `VACUUM INTO` writes a transactionally consistent snapshot of the
//! live file (readers and writers carry on; WAL keeps them apart). The audit
//! trail, which lives in a file of its own ([`crate::sqlite_audit_file`]), is
//! then copied into it in one read of that file, taken after the records'
//! snapshot so it holds every event they need: the backup is one file, with
//! the trail inside as before the split, and opening it as a database moves
//! the trail out again. The copy is then opened on its own and checked:
//! `PRAGMA integrity_check`, its tables, and the audit hash chain walked end
//! to end against its own head row.
//!
//! PostgreSQL: the machine's `pg_dump --format=custom` (from postgresql-client),
//! which reads everything in one repeatable-read snapshot. The archive's table
//! of contents is read back with `pg_restore --list`; its audit chain is checked
//! after restoring it (`pg_restore` into an empty database, then
//! `kindred audit verify`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

use crate::{Db, Pool, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file; choose a new name")]
    Exists(PathBuf),
    #[error(
        "pg_dump was not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client, \
         the server's major version or newer)"
    )]
    PgDumpMissing,
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error("the copy failed its integrity check: {0}")]
    Integrity(String),
    #[error("the copy's audit chain is broken: {0}")]
    ChainBroken(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(e.into())
    }
}

/// What was written and what the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub bytes: u64,
    /// Tables in the copy (SQLite) or table-data entries in the archive (PostgreSQL).
    pub tables: u64,
    /// Audit events in the copy, each verified; `None` for a PostgreSQL archive,
    /// whose chain is checked once restored.
    pub audit_events: Option<u64>,
}

impl BackupSummary {
    /// The one-line summary `kindred backup` prints.
    pub fn line(&self) -> String {
        match self.audit_events {
            Some(n) => format!(
                "Backup {}: {} bytes, {} tables, integrity ok, {n} audit events, audit chain OK.",
                self.file.display(),
                self.bytes,
                self.tables
            ),
            None => format!(
                "Backup {}: {} bytes, {} tables (pg_dump custom archive, read back with pg_restore --list); \
                 restore it into an empty database and run `kindred audit verify` there to check its audit chain.",
                self.file.display(),
                self.bytes,
                self.tables
            ),
        }
    }
}

/// Copies the live database at `url` to `file` (which must not exist) and checks the copy.
pub async fn backup(url: &str, file: &Path) -> Result<BackupSummary, BackupError> {
    if file.exists() {
        return Err(BackupError::Exists(file.to_path_buf()));
    }
    if url.starts_with("sqlite:") {
        vacuum_into(url, file).await?;
        if let Some(trail) = crate::sqlite_audit_file(url)?.filter(|f| f.exists()) {
            let copy = open_copy(file).await?;
            let copied = crate::audit::copy_trail_into(&copy, &trail).await;
            copy.close().await;
            copied?;
        }
        verify_sqlite_copy(file).await
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let (url, file) = (url.to_string(), file.to_path_buf());
        tokio::task::spawn_blocking(move || pg_dump(&url, &file))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    } else {
        Err(BackupError::UnsupportedUrl)
    }
}

/// `VACUUM INTO` from a connection of its own to the live file (never
/// creating one: a mistyped path is an error, not an empty backup).
async fn vacuum_into(url: &str, file: &Path) -> Result<(), BackupError> {
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
    let done = sqlx::query("VACUUM INTO $1")
        .bind(file.to_string_lossy().into_owned())
        .execute(&pool)
        .await;
    pool.close().await;
    done?;
    Ok(())
}

/// One connection to a backup file, which must exist, and nothing attached.
async fn open_copy(file: &Path) -> Result<sqlx::SqlitePool, BackupError> {
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
        .create_if_missing(false)
        // One self-contained file, with no -wal beside it.
        .journal_mode(SqliteJournalMode::Delete)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    Ok(SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?)
}

/// Opens a SQLite copy on its own and checks it: integrity, tables, audit chain.
pub async fn verify_sqlite_copy(file: &Path) -> Result<BackupSummary, BackupError> {
    let pool = open_copy(file).await?;
    let copy = Db::from_pool(Pool::Sqlite(pool.clone()));
    let result = async {
        let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&pool).await?;
        if problems != ["ok"] {
            return Err(BackupError::Integrity(problems.join("; ")));
        }
        let tables: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .fetch_one(&pool)
                .await?;
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
            .fetch_one(&pool)
            .await?;
        let report = copy.verify_audit().await?;
        if let Some(b) = report.broken {
            return Err(BackupError::ChainBroken(format!(
                "{b} ({} events verified before it)",
                report.checked
            )));
        }
        if report.checked != events as u64 {
            return Err(BackupError::ChainBroken(format!(
                "{} events verified of {events}",
                report.checked
            )));
        }
        Ok(BackupSummary {
            file: file.to_path_buf(),
            bytes: std::fs::metadata(file)?.len(),
            tables: tables as u64,
            audit_events: Some(events as u64),
        })
    }
    .await;
    copy.close().await;
    result
}

fn run(tool: &'static str, cmd: &mut Command) -> Result<String, BackupError> {
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => BackupError::PgDumpMissing,
        _ => BackupError::Io(e),
    })?;
    if !out.status.success() {
        return Err(BackupError::ToolFailed {
            tool,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn pg_dump(url: &str, file: &Path) -> Result<BackupSummary, BackupError> {
    run(
        "pg_dump",
        Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--file")
            .arg(file)
            .arg("--dbname")
            .arg(url),
    )?;
    let list = run("pg_restore --list", Command::new("pg_restore").arg("--list").arg(file))?;
    let tables = list.lines().filter(|l| l.contains(" TABLE DATA ")).count() as u64;
    if !list
        .lines()
        .any(|l| l.contains(" TABLE DATA ") && l.contains(" audit_events "))
    {
        return Err(BackupError::Integrity("the archive holds no audit_events table".into()));
    }
    Ok(BackupSummary {
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file)?.len(),
        tables,
        audit_events: None,
    })
}
