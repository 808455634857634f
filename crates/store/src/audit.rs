//! The audit writer and reader: the only code that touches `audit_events`.
//!
//! Appends take the chain head row with an `UPDATE … RETURNING` (a write lock
//! on both backends), so appends from any number of processes form one chain.

use kindred_domain::audit::{Broken, Event, NewEvent, Verifier};

use crate::BeginWrite;
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

/// Appends `events` in one transaction of their own.
async fn append_batch(w: &PoolRef, events: &[&NewEvent]) -> std::result::Result<Vec<Event>, sqlx::Error> {
    on_pool!(w, |p| {
        let mut tx = p.begin_write().await?;
        let stored = append_events!(tx, events);
        tx.commit().await?;
        Ok(stored)
    })
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
