//! One pooled connection held for a run of reads (a page's worth), inside
//! one read transaction: the page's sections all come from one snapshot.
//!
//! Every statement run on the pool takes a connection and gives it back, and
//! sqlx pings a connection as it comes back: for SQLite that is one more trip
//! to the connection's own thread, and a spawned task, per statement. And on
//! SQLite each statement outside a transaction is a read transaction of its
//! own: whenever anything was committed since (an audit event, on a busy
//! server nearly always), the connection throws away its page cache and
//! memory map and builds them again. A page that reads thirty sections paid
//! both thirty times. [`Db::pinned`] takes one connection and begins one
//! transaction for the page instead, and the store's read functions (those
//! written with `on_read!`) run in it. It is never committed: dropping the
//! last handle rolls it back and returns the connection to the pool.
//!
//! Writes never use the pinned connection: they go to the pool as before. So
//! that pages holding connections cannot starve the writes (and the audit
//! writer) of them, at most [`PINNED_MAX`] connections are pinned at once and
//! the pool holds more than that.

use std::fmt;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use sqlx::{Database, Describe, Either, Error, Execute, Executor};
use tokio::sync::{Mutex, OwnedSemaphorePermit};

use crate::{Db, Pool, Result};

/// How many connections may be pinned at once, per pool.
pub(crate) const PINNED_MAX: usize = 6;

/// A connection taken from the pool, in a transaction, for one run of
/// reads; rolled back and back in the pool when the last handle is dropped.
pub struct Pinned<DB: Database> {
    conn: Mutex<sqlx::Transaction<'static, DB>>,
    _slot: OwnedSemaphorePermit,
}

impl<DB: Database> fmt::Debug for Pinned<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pinned")
    }
}

#[derive(Clone, Debug)]
pub(crate) enum PinnedConn {
    Sqlite(Arc<Pinned<sqlx::Sqlite>>),
    Postgres(Arc<Pinned<sqlx::Postgres>>),
}

impl<'c, DB: Database> Executor<'c> for &'c Pinned<DB>
where
    for<'x> &'x mut DB::Connection: Executor<'x, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, std::result::Result<Either<DB::QueryResult, DB::Row>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        // The rows are gathered under the lock, then handed on: callers of
        // the store read whole results anyway.
        futures_util::stream::once(async move {
            let mut conn = self.conn.lock().await;
            let conn: &mut DB::Connection = &mut conn;
            let rows: Vec<_> = conn.fetch_many(query).collect().await;
            futures_util::stream::iter(rows)
        })
        .flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, std::result::Result<Option<DB::Row>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        async move {
            let mut conn = self.conn.lock().await;
            let conn: &mut DB::Connection = &mut conn;
            conn.fetch_optional(query).await
        }
        .boxed()
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, std::result::Result<DB::Statement<'q>, Error>>
    where
        'c: 'e,
    {
        async move {
            let mut conn = self.conn.lock().await;
            let conn: &mut DB::Connection = &mut conn;
            conn.prepare_with(sql, parameters).await
        }
        .boxed()
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, std::result::Result<Describe<DB>, Error>>
    where
        'c: 'e,
    {
        async move {
            let mut conn = self.conn.lock().await;
            let conn: &mut DB::Connection = &mut conn;
            conn.describe(sql).await
        }
        .boxed()
    }
}

impl Db {
    /// This handle with one pooled connection, in a transaction, held for
    /// its reads until the returned handle (and its clones) are dropped.
    /// Reads see the database as it was at the first of them (on SQLite;
    /// on PostgreSQL each sees what was committed when it ran), not what
    /// is written meanwhile, even through this handle: pin for a page's
    /// reads, not across its writes. Already pinned: itself.
    pub async fn pinned(&self) -> Result<Db> {
        if self.pinned.is_some() {
            return Ok(self.clone());
        }
        let slot = self
            .pin_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| crate::StoreError::Sql(Error::PoolClosed))?;
        let conn = match &self.pool {
            Pool::Sqlite(p) => PinnedConn::Sqlite(Arc::new(Pinned {
                conn: Mutex::new(p.begin().await?),
                _slot: slot,
            })),
            Pool::Postgres(p) => PinnedConn::Postgres(Arc::new(Pinned {
                conn: Mutex::new(p.begin().await?),
                _slot: slot,
            })),
        };
        Ok(Db {
            pinned: Some(conn),
            ..self.clone()
        })
    }
}
