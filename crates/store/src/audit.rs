//! The audit writer and reader: the only code that touches `audit_events`.
//!
//! Appends take the chain head row with an `UPDATE … RETURNING` (a write lock
//! on both backends), so appends from any number of processes form one chain.
//!
//! On SQLite the trail lives in a file of its own beside the database
//! ([`crate::sqlite_audit_file`]), attached to every connection as `audit`;
//! unqualified `audit_events` and `audit_head` resolve there, so queries are
//! the same on both backends. Migration 0001 creates the tables in the main
//! file; [`settle_audit_file`] moves them out when a database is opened.

use std::path::Path;

use kindred_domain::audit::{Broken, Event, NewEvent, Verifier};

use crate::{Db, Result, StoreError, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    at_ms: i64,
    tenant_id: Option<i64>,
    actor_user_id: Option<i64>,
    action: String,
    record_kind: String,
    record_id: Option<i64>,
    family_id: Option<i64>,
    route: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            seq: r.seq,
            at_ms: r.at_ms,
            tenant_id: r.tenant_id,
            actor_user_id: r.actor_user_id,
            action: r.action,
            record_kind: r.record_kind,
            record_id: r.record_id,
            family_id: r.family_id,
            route: r.route,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

type Reply = tokio::sync::oneshot::Sender<std::result::Result<Event, String>>;

/// The audit writer: one task per process that appends events in batches, so
/// that many concurrent reads share one write transaction (group commit).
/// A caller's `append` returns only after its event is committed.
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    queue: tokio::sync::mpsc::UnboundedSender<(NewEvent, Reply)>,
}

/// The most events appended in one transaction.
const MAX_BATCH: usize = 256;

impl Writer {
    pub(crate) fn spawn(pool: crate::Pool) -> Writer {
        let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<(NewEvent, Reply)>();
        tokio::spawn(async move {
            let w = PoolRef { pool };
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let events: Vec<&NewEvent> = batch.iter().map(|(e, _)| e).collect();
                match append_batch(&w, &events).await {
                    Ok(stored) => {
                        for ((_, reply), ev) in batch.into_iter().zip(stored) {
                            let _ = reply.send(Ok(ev));
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        for (_, reply) in batch {
                            let _ = reply.send(Err(msg.clone()));
                        }
                    }
                }
            }
        });
        Writer { queue }
    }

    async fn append(&self, e: NewEvent) -> Result<Event> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Sql(sqlx::Error::PoolClosed);
        self.queue.send((e, reply)).map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|msg| StoreError::Sql(sqlx::Error::Protocol(msg)))
    }
}

struct PoolRef {
    pool: crate::Pool,
}

/// Appends `events` to the chain inside the open transaction `$tx`, and
/// evaluates to them as stored. Taking the head row first (a write) orders
/// them against every other writer, in any process. A change that appends
/// its own event this way commits both or neither.
macro_rules! append_events {
    ($tx:ident, $events:expr) => {{
        let events: &[&kindred_domain::audit::NewEvent] = $events;
        let at_ms = crate::now_ms();
        let n = events.len() as i64;
        let (last_seq, mut prev_hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind(n)
                .fetch_one(&mut *$tx)
                .await?;
        let mut stored = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let mut ev = kindred_domain::audit::Event {
                seq: last_seq - n + 1 + i as i64,
                at_ms,
                tenant_id: e.tenant_id,
                actor_user_id: e.actor_user_id,
                action: e.action.code().to_string(),
                record_kind: e.record_kind.to_string(),
                record_id: e.record_id,
                family_id: e.family_id,
                route: e.route.clone(),
                detail: e.detail.clone(),
                prev_hash: prev_hash.clone(),
                hash: String::new(),
            };
            ev.hash = kindred_domain::audit::hash_event(&ev);
            prev_hash = ev.hash.clone();
            sqlx::query(
                "INSERT INTO audit_events (seq, at_ms, tenant_id, actor_user_id, action, record_kind, record_id, family_id,
                   route, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(ev.seq)
            .bind(ev.at_ms)
            .bind(ev.tenant_id)
            .bind(ev.actor_user_id)
            .bind(&ev.action)
            .bind(&ev.record_kind)
            .bind(ev.record_id)
            .bind(ev.family_id)
            .bind(&ev.route)
            .bind(&ev.detail)
            .bind(&ev.prev_hash)
            .bind(&ev.hash)
            .execute(&mut *$tx)
            .await?;
            stored.push(ev);
        }
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&prev_hash)
            .execute(&mut *$tx)
            .await?;
        stored
    }};
}
pub(crate) use append_events;

/// Appends `events` in one transaction of their own. A deferred `BEGIN`, not
/// `BEGIN IMMEDIATE`: the first statement writes the head row, so on SQLite
/// the transaction takes the write lock of the audit file alone and does not
/// wait for writers of the records' file.
async fn append_batch(w: &PoolRef, events: &[&NewEvent]) -> std::result::Result<Vec<Event>, sqlx::Error> {
    on_pool!(w, |p| {
        let mut tx = p.begin().await?;
        let stored = append_events!(tx, events);
        tx.commit().await?;
        Ok(stored)
    })
}

/// The audit tables' definitions as schema `from` holds them (their `CREATE`
/// statements from `sqlite_master`: migration 0001's, and whatever later
/// migrations made), rewritten to create the same in schema `to`.
async fn audit_schema(c: &mut sqlx::SqliteConnection, from: &str, to: &str) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT type, name, sql FROM {from}.sqlite_master
         WHERE tbl_name IN ('audit_events', 'audit_head') AND sql IS NOT NULL
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
    );
    let rows: Vec<(String, String, String)> = sqlx::query_as(&sql).fetch_all(&mut *c).await?;
    rows.into_iter()
        .map(|(kind, name, sql)| {
            let head = format!("CREATE {} {name}", kind.to_uppercase());
            match sql.strip_prefix(&head) {
                Some(rest) => Ok(format!("CREATE {} {to}.{name}{rest}", kind.to_uppercase())),
                None => Err(StoreError::AuditFile(format!(
                    "cannot copy the audit trail's {kind} {name}: its definition does not start `{head}`"
                ))),
            }
        })
        .collect()
}

/// Every column of `audit_events`, in order, for copying between files.
const COPY_COLUMNS: &str =
    "seq, at_ms, tenant_id, actor_user_id, action, record_kind, record_id, family_id, route, detail, prev_hash, hash";

async fn has_trail(c: &mut sqlx::SqliteConnection, schema: &str) -> sqlx::Result<bool> {
    let sql = format!("SELECT count(*) FROM {schema}.sqlite_master WHERE type = 'table' AND name = 'audit_events'");
    Ok(sqlx::query_scalar::<_, i64>(&sql).fetch_one(&mut *c).await? > 0)
}

async fn head_of(c: &mut sqlx::SqliteConnection, schema: &str) -> sqlx::Result<(i64, String)> {
    let sql = format!("SELECT seq, hash FROM {schema}.audit_head WHERE id = 1");
    Ok(sqlx::query_as(&sql)
        .fetch_optional(&mut *c)
        .await?
        .unwrap_or((0, String::new())))
}

async fn hash_at(c: &mut sqlx::SqliteConnection, schema: &str, seq: i64) -> sqlx::Result<Option<String>> {
    let sql = format!("SELECT hash FROM {schema}.audit_events WHERE seq = $1");
    sqlx::query_scalar(&sql).bind(seq).fetch_optional(&mut *c).await
}

/// Brings a SQLite database's audit trail into its audit file, once its
/// migrations have run: a new database's empty tables from migration 0001, a
/// database from before the split, or a restored backup (which carries its
/// trail inside). Each step commits in one file only, so a crash between
/// them is finished by the next start:
///
/// 1. the events the audit file lacks are copied into it, with the head;
/// 2. the tables in the main file are dropped.
///
/// The two trails must agree: one a prefix of the other, checked by the hash
/// at the shorter one's head (a restored backup beside the live audit file
/// is such a prefix, and keeps the longer trail). Otherwise, or when the
/// trail is nowhere, it refuses with a message naming the file.
pub(crate) async fn settle_audit_file(pool: &sqlx::SqlitePool, file: &Path) -> Result<()> {
    let mut c = pool.acquire().await?;
    let shown = file.display();
    let in_main = has_trail(&mut c, "main").await?;
    let in_file = has_trail(&mut c, "audit").await?;
    if !in_main {
        if in_file {
            return mark_or_check_trail(&mut c, file).await;
        }
        return Err(StoreError::AuditFile(format!(
            "the audit trail is missing: {shown} holds no audit_events table, and the database's own tables \
             were moved there when it was first opened. Put the audit file back (from where it was moved, or \
             from the backup), then start again."
        )));
    }
    let (main_seq, main_hash) = head_of(&mut c, "main").await?;
    let (file_seq, file_hash) = if in_file {
        head_of(&mut c, "audit").await?
    } else {
        (0, String::new())
    };
    let foreign = |detail: String| {
        StoreError::AuditFile(format!(
            "{shown} holds an audit trail that is not this database's ({detail}). If a backup was restored \
             over the database, the audit file beside it belongs to another database: move {shown} aside \
             (keep it: it is an audit record) and start again."
        ))
    };
    if main_seq == 0 && file_seq > 0 {
        return Err(foreign(format!(
            "{file_seq} events, while the database is new and has none"
        )));
    }
    if in_file && file_seq >= main_seq {
        if main_seq > 0 && hash_at(&mut c, "audit", main_seq).await?.as_deref() != Some(main_hash.as_str()) {
            return Err(foreign(format!("the two trails differ at event {main_seq}")));
        }
    } else {
        // Copy what the file lacks (for a new database: its empty tables and head).
        if file_seq > 0 && hash_at(&mut c, "main", file_seq).await?.as_deref() != Some(file_hash.as_str()) {
            return Err(foreign(format!("the two trails differ at event {file_seq}")));
        }
        let create = if in_file {
            vec![]
        } else {
            audit_schema(&mut c, "main", "audit").await?
        };
        let mut tx = sqlx::Connection::begin(&mut *c).await?;
        for statement in &create {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query(&format!(
            "INSERT INTO audit.audit_events ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM main.audit_events WHERE seq > $1"
        ))
        .bind(file_seq)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit.audit_head (id, seq, hash) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(main_seq)
        .bind(&main_hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let mut tx = sqlx::Connection::begin(&mut *c).await?;
    sqlx::raw_sql("DROP TABLE main.audit_events; DROP TABLE main.audit_head")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    mark_or_check_trail(&mut c, file).await
}

/// Once its trail has moved out, the main file keeps a mark of which trail
/// is its own, so that another database's audit file put beside it is
/// refused: 31 bits of the first event's hash in the header's `user_version`
/// (which nothing else uses), written once, when there is a first event.
async fn mark_or_check_trail(c: &mut sqlx::SqliteConnection, file: &Path) -> Result<()> {
    let first: Option<String> = sqlx::query_scalar("SELECT hash FROM audit.audit_events WHERE seq = 1")
        .fetch_optional(&mut *c)
        .await?;
    let Some(mark) = first.and_then(|h| i64::from_str_radix(h.get(..8)?, 16).ok()) else {
        return Ok(());
    };
    let mark = (mark & 0x7fff_ffff).max(1);
    let have: i64 = sqlx::query_scalar("PRAGMA main.user_version")
        .fetch_one(&mut *c)
        .await?;
    if have == 0 {
        sqlx::query(&format!("PRAGMA main.user_version = {mark}"))
            .execute(&mut *c)
            .await?;
    } else if have != mark {
        let shown = file.display();
        return Err(StoreError::AuditFile(format!(
            "{shown} holds an audit trail that is not this database's (its first event is not the one this \
             database recorded). Move {shown} aside (keep it: it is an audit record), put this database's own \
             audit file back, and start again."
        )));
    }
    Ok(())
}

/// Copies the live audit file's trail into `copy` (a `VACUUM INTO` of the
/// main file, holding no trail), so that a backup is one self-contained file
/// laid out as before the split. Read after the main file was copied, the
/// trail is a superset of what the copy's records need.
pub(crate) async fn copy_trail_into(copy: &sqlx::SqlitePool, audit_file: &Path) -> Result<()> {
    let mut c = copy.acquire().await?;
    if has_trail(&mut c, "main").await? {
        return Ok(());
    }
    sqlx::query("ATTACH DATABASE $1 AS live")
        .bind(audit_file.to_string_lossy().into_owned())
        .execute(&mut *c)
        .await?;
    let copied = async {
        let create = audit_schema(&mut c, "live", "main").await?;
        let mut tx = sqlx::Connection::begin(&mut *c).await?;
        for statement in &create {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query(&format!(
            "INSERT INTO main.audit_events ({COPY_COLUMNS}) SELECT {COPY_COLUMNS} FROM live.audit_events"
        ))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO main.audit_head (id, seq, hash) SELECT id, seq, hash FROM live.audit_head")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await;
    sqlx::query("DETACH DATABASE live").execute(&mut *c).await?;
    copied?;
    Ok(())
}

/// An event with the actor's name and organisation, for "who viewed this record".
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub event: Event,
    pub actor_name: Option<String>,
    pub actor_organisation: Option<String>,
}

pub(crate) const EVENT_COLUMNS: &str = "e.seq, e.at_ms, e.tenant_id, e.actor_user_id, e.action, e.record_kind, e.record_id, \
     e.family_id, e.route, e.detail, e.prev_hash, e.hash";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    pub broken: Option<Broken>,
}

impl Db {
    /// Appends one event to the chain and returns it as stored, once committed.
    pub async fn audit(&self, e: NewEvent) -> Result<Event> {
        self.audit_writer.append(e).await
    }

    /// Events about one family, newest first, with who did them.
    pub async fn family_access_log(&self, family_id: i64, limit: i64) -> Result<Vec<AccessEntry>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            e: EventRow,
            actor_name: Option<String>,
            actor_organisation: Option<String>,
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, u.display_name AS actor_name, o.name AS actor_organisation
             FROM audit_events e LEFT JOIN users u ON u.id = e.actor_user_id LEFT JOIN organisations o ON o.id = u.organisation_id
             WHERE e.family_id = $1 ORDER BY e.seq DESC LIMIT $2"
        );
        let rows = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(family_id)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| AccessEntry {
                event: r.e.into(),
                actor_name: r.actor_name,
                actor_organisation: r.actor_organisation,
            })
            .collect())
    }

    pub async fn audit_events_since(&self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2");
        let rows = on_pool!(self, |p| sqlx::query_as::<_, EventRow>(&sql)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Walks the whole chain and reports the first broken link, if any.
    pub async fn verify_audit(&self) -> Result<VerifyReport> {
        let mut v = Verifier::default();
        let mut after = 0;
        loop {
            let page = self.audit_events_since(after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(b) = v.check(e) {
                    return Ok(VerifyReport {
                        checked: v.checked,
                        broken: Some(b),
                    });
                }
            }
        }
        let (head_seq, head_hash): (i64, String) = on_pool!(self, |p| sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        )
        .fetch_one(p)
        .await)?;
        Ok(VerifyReport {
            checked: v.checked,
            broken: v.finish(head_seq, &head_hash).err(),
        })
    }
}
