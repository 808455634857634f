//! Retention and erasure (issue 9).
//!
//! Each tenant has a rule: a family whose work has ended — no open episode,
//! no referral awaiting triage — is flagged for the privacy officer's review
//! once the rule's years have passed since anything last happened on its
//! record (a change, a contact, an episode closing). The officer keeps it
//! (until a date, when it is flagged again) or erases it.
//!
//! Erasure deletes the family and everything that refers to it, and every
//! person who belongs to no other family with everything that refers to
//! them, found by walking the schema's foreign keys, so a table added later
//! is covered without changing this module. The audit trail is not touched:
//! its events carry ids and codes only, never names or text, so the chain
//! still verifies. The decision itself is kept, with counts, and audited in
//! the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use kindred_domain::audit::AuditAction;
use time::Date;

use crate::families::Actor;
use crate::{BeginWrite, Db, Result, StoreError, id_list, on_pool};

/// Years after a family's last activity before it is flagged, when a tenant
/// has set no rule of its own.
pub const DEFAULT_YEARS: i64 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub years: i64,
    /// `None` while the tenant uses the default.
    pub updated_at_ms: Option<i64>,
}

/// A family flagged for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub family_id: i64,
    pub family_name: String,
    pub last_activity: Date,
    /// Current and past members.
    pub members: i64,
    /// Kept at an earlier review, and flagged again since.
    pub kept_before: bool,
}

/// A decision on a flagged family, as the privacy officer's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Decision {
    pub id: i64,
    pub family_id: i64,
    pub decision: String,
    pub reason: String,
    pub keep_until: Option<Date>,
    pub persons_erased: i64,
    pub rows_erased: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: i64,
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub persons: i64,
    pub rows: i64,
}

/// The date `years` before `today` (29 February falls back to the 28th).
pub fn cutoff(today: Date, years: i64) -> Date {
    let year = today.year() - years as i32;
    Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, today.month(), today.day() - 1))
        .expect("a real date")
}

/// The cut-off date and the same instant in ms, for `DUE_WHERE`'s `$2` and `$3`.
fn cutoffs(today: Date, years: i64) -> (Date, i64) {
    let cut = cutoff(today, years);
    (cut, cut.midnight().assume_utc().unix_timestamp() * 1000)
}

/// The families of tenant `$1` due for review: work ended, nothing since the
/// cut-off (`$2` as a date, `$3` in ms), not kept past `$4` (today).
const DUE_WHERE: &str = "f.tenant_id = $1
    AND f.updated_at_ms < $3
    AND NOT EXISTS (SELECT 1 FROM episodes e WHERE e.family_id = f.id AND (e.status = 'open' OR e.closed_on >= $2))
    AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.family_id = f.id AND r.status = 'open')
    AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.family_id = f.id AND c.occurred_on >= $2)
    AND NOT EXISTS (SELECT 1 FROM retention_decisions d WHERE d.tenant_id = f.tenant_id AND d.family_id = f.id
                    AND d.decision = 'keep' AND d.keep_until > $4)";

/// One foreign key: `child.column` refers to `parent.id`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ForeignKey {
    child: String,
    column: String,
    parent: String,
    /// Whether the child table has an `id` column of its own (so rows that
    /// refer to it can be found in turn).
    child_has_id: bool,
}

const SQLITE_FOREIGN_KEYS: &str = "SELECT m.name AS child, k.\"from\" AS \"column\", k.\"table\" AS parent,
       EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'id') AS child_has_id
     FROM sqlite_master m, pragma_foreign_key_list(m.name) k
     WHERE m.type = 'table' AND (k.\"to\" = 'id' OR k.\"to\" IS NULL) AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'";

const POSTGRES_FOREIGN_KEYS: &str = "SELECT c.conrelid::regclass::text AS child, a.attname::text AS \"column\",
       c.confrelid::regclass::text AS parent,
       EXISTS (SELECT 1 FROM pg_attribute i WHERE i.attrelid = c.conrelid AND i.attname = 'id' AND NOT i.attisdropped) AS child_has_id
     FROM pg_constraint c
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
     WHERE c.contype = 'f' AND pa.attname = 'id' AND c.connamespace = 'public'::regnamespace";

/// Tables an erasure never deletes from, whatever refers to what: the people
/// and organisations who use Kindred, and the tenant's own settings.
const NEVER_ERASED: &[&str] = &["tenants", "organisations", "users", "hub_sites", "teams"];

struct DueCheck {
    sql: String,
    tenant_id: i64,
    family_id: i64,
    cut: Date,
    cut_ms: i64,
    today: Date,
}

/// Inside the open transaction `$tx`: ends it with `RowNotFound` (the
/// store's `NotFound`) unless the family is flagged now, so nothing that
/// lands on the record while the officer decides can be erased with it.
macro_rules! still_due {
    ($tx:ident, $check:expr) => {{
        let c: &DueCheck = &$check;
        let (n,): (i64,) = sqlx::query_as(&c.sql)
            .bind(c.tenant_id)
            .bind(c.cut)
            .bind(c.cut_ms)
            .bind(c.today)
            .bind(c.family_id)
            .fetch_one(&mut *$tx)
            .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
    }};
}

impl Db {
    pub async fn retention_rule(&self, tenant_id: i64) -> Result<Rule> {
        let row: Option<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT years, updated_at_ms FROM retention_rules WHERE tenant_id = $1"
        )
        .bind(tenant_id)
        .fetch_optional(p)
        .await)?;
        Ok(match row {
            Some((years, at)) => Rule {
                years,
                updated_at_ms: Some(at),
            },
            None => Rule {
                years: DEFAULT_YEARS,
                updated_at_ms: None,
            },
        })
    }

    pub async fn set_retention_rule(&self, tenant_id: i64, years: i64, by_user_id: Option<i64>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO retention_rules (tenant_id, years, updated_by_user_id, updated_at_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE SET years = $2, updated_by_user_id = $3, updated_at_ms = $4"
        )
        .bind(tenant_id)
        .bind(years)
        .bind(by_user_id)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Families flagged for review under the tenant's rule, longest quiet
    /// first, at most `limit`; and how many there are in all.
    pub async fn retention_due(&self, tenant_id: i64, today: Date, limit: i64) -> Result<(Vec<Due>, i64)> {
        let years = self.retention_rule(tenant_id).await?.years;
        let (cut, cut_ms) = cutoffs(today, years);
        let due = self.due_rows(tenant_id, today, (cut, cut_ms), None, limit).await?;
        let count = format!("SELECT COUNT(*) FROM families f WHERE {DUE_WHERE}");
        let (total,): (i64,) = on_pool!(self, |p| sqlx::query_as(&count)
            .bind(tenant_id)
            .bind(cut)
            .bind(cut_ms)
            .bind(today)
            .fetch_one(p)
            .await)?;
        Ok((due, total))
    }

    /// One family of the tenant, if it is flagged for review now.
    pub async fn retention_flagged(&self, tenant_id: i64, family_id: i64, today: Date) -> Result<Option<Due>> {
        let years = self.retention_rule(tenant_id).await?.years;
        let cuts = cutoffs(today, years);
        Ok(self.due_rows(tenant_id, today, cuts, Some(family_id), 1).await?.pop())
    }

    async fn due_rows(
        &self,
        tenant_id: i64,
        today: Date,
        (cut, cut_ms): (Date, i64),
        only: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Due>> {
        let list = format!(
            "SELECT f.id, f.name, f.updated_at_ms,
                    (SELECT MAX(e.closed_on) FROM episodes e WHERE e.family_id = f.id) AS closed_on,
                    (SELECT COUNT(*) FROM family_members m WHERE m.family_id = f.id) AS members,
                    EXISTS (SELECT 1 FROM retention_decisions d WHERE d.tenant_id = f.tenant_id AND d.family_id = f.id
                            AND d.decision = 'keep') AS kept_before
             FROM families f WHERE {DUE_WHERE} AND ($6 IS NULL OR f.id = $6)
             ORDER BY f.updated_at_ms, f.id LIMIT $5"
        );
        type Row = (i64, String, i64, Option<Date>, i64, bool);
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(&list)
            .bind(tenant_id)
            .bind(cut)
            .bind(cut_ms)
            .bind(today)
            .bind(limit)
            .bind(only)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(
                |(family_id, family_name, updated_at_ms, closed_on, members, kept_before)| {
                    let updated = time::OffsetDateTime::from_unix_timestamp(updated_at_ms / 1000)
                        .map(|t| t.date())
                        .unwrap_or(today);
                    Due {
                        family_id,
                        family_name,
                        last_activity: closed_on.map_or(updated, |c| c.max(updated)),
                        members,
                        kept_before,
                    }
                },
            )
            .collect())
    }

    /// Keeps a flagged family until `until`, when it is flagged again.
    pub async fn keep_family(
        &self,
        family_id: i64,
        until: Date,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> Result<()> {
        let event = actor.event(
            AuditAction::Update,
            "family",
            family_id,
            family_id,
            "retention: kept".to_string(),
        );
        let due = self.due_check(actor.tenant_id, family_id, today).await?;
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            still_due!(tx, due);
            sqlx::query(
                "INSERT INTO retention_decisions (tenant_id, family_id, decision, reason, keep_until, decided_by_user_id, decided_at_ms)
                 VALUES ($1, $2, 'keep', $3, $4, $5, $6)",
            )
            .bind(actor.tenant_id)
            .bind(family_id)
            .bind(reason.trim())
            .bind(until)
            .bind(actor.user_id)
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
            crate::audit::append_events!(tx, &[&event]);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }

    /// Erases a family flagged for review: the family, every person in no
    /// other family, and every row that refers to either, in one
    /// transaction with the record of the decision and its audit event.
    /// `NotFound` when the family is not flagged now (or not the tenant's).
    pub async fn erase_family(&self, family_id: i64, reason: &str, today: Date, actor: &Actor) -> Result<Erased> {
        let due = self.due_check(actor.tenant_id, family_id, today).await?;
        let sql = match self.backend() {
            crate::Backend::Sqlite => SQLITE_FOREIGN_KEYS,
            crate::Backend::Postgres => POSTGRES_FOREIGN_KEYS,
        };
        let keys: Vec<ForeignKey> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        let keys: Vec<ForeignKey> = keys
            .into_iter()
            .filter(|k| !NEVER_ERASED.contains(&k.child.as_str()) && k.child != "retention_decisions")
            .collect();
        let order = deletion_order(&keys);
        let erased = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            still_due!(tx, due);
            let persons: Vec<(i64,)> = sqlx::query_as(
                "SELECT DISTINCT person_id FROM family_members WHERE family_id = $1
                 AND person_id NOT IN (SELECT person_id FROM family_members WHERE family_id <> $1)",
            )
            .bind(family_id)
            .fetch_all(&mut *tx)
            .await?;
            // Every row to delete, by table, found by following foreign keys
            // from the family and its persons until nothing new turns up.
            let mut doomed: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
            doomed.entry("families".into()).or_default().insert(family_id);
            doomed
                .entry("persons".into())
                .or_default()
                .extend(persons.iter().map(|p| p.0));
            let persons_erased = persons.len() as i64;
            loop {
                let mut grew = false;
                for k in keys.iter().filter(|k| k.child_has_id) {
                    let Some(parents) = doomed.get(&k.parent).filter(|s| !s.is_empty()) else {
                        continue;
                    };
                    let parents: Vec<i64> = parents.iter().copied().collect();
                    let found: Vec<(i64,)> = sqlx::query_as(&format!(
                        "SELECT id FROM {} WHERE {} IN ({})",
                        k.child,
                        k.column,
                        id_list(&parents)
                    ))
                    .fetch_all(&mut *tx)
                    .await?;
                    let set = doomed.entry(k.child.clone()).or_default();
                    for (id,) in found {
                        grew |= set.insert(id);
                    }
                }
                if !grew {
                    break;
                }
            }
            // A feed row rejected once and imported later under the same key
            // is about one of these people: its raw line goes too.
            if let Some(records) = doomed.get("source_records").filter(|s| !s.is_empty()) {
                let ids: Vec<i64> = records.iter().copied().collect();
                let keys: Vec<(String, String)> = sqlx::query_as(&format!(
                    "SELECT source_system, source_key FROM source_records WHERE id IN ({})",
                    id_list(&ids)
                ))
                .fetch_all(&mut *tx)
                .await?;
                let keys: BTreeSet<(String, String)> = keys.into_iter().collect();
                let systems: BTreeSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
                for system in systems {
                    let rejects: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT r.id, r.raw FROM import_rejects r JOIN import_runs u ON u.id = r.import_run_id
                         WHERE u.tenant_id = $1 AND u.source_system = $2",
                    )
                    .bind(actor.tenant_id)
                    .bind(system)
                    .fetch_all(&mut *tx)
                    .await?;
                    let about = |raw: &str| {
                        kindred_domain::feeds::raw_fields(raw)
                            .iter()
                            .any(|f| keys.contains(&(system.to_string(), f.trim().to_string())))
                    };
                    doomed
                        .entry("import_rejects".into())
                        .or_default()
                        .extend(rejects.into_iter().filter(|(_, raw)| about(raw)).map(|(id, _)| id));
                }
            }
            // Children before parents: rows without an id of their own go by
            // the keys that name doomed parents; the rest by id.
            let mut rows_erased = 0i64;
            for table in &order {
                for k in keys.iter().filter(|k| &k.child == table && !k.child_has_id) {
                    if let Some(parents) = doomed.get(&k.parent).filter(|s| !s.is_empty()) {
                        let parents: Vec<i64> = parents.iter().copied().collect();
                        rows_erased += sqlx::query(&format!(
                            "DELETE FROM {} WHERE {} IN ({})",
                            k.child,
                            k.column,
                            id_list(&parents)
                        ))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as i64;
                    }
                }
                if let Some(ids) = doomed.get(table).filter(|s| !s.is_empty()) {
                    let ids: Vec<i64> = ids.iter().copied().collect();
                    rows_erased += sqlx::query(&format!("DELETE FROM {table} WHERE id IN ({})", id_list(&ids)))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as i64;
                }
            }
            sqlx::query(
                "INSERT INTO retention_decisions (tenant_id, family_id, decision, reason, persons_erased, rows_erased,
                   decided_by_user_id, decided_at_ms) VALUES ($1, $2, 'erase', $3, $4, $5, $6, $7)",
            )
            .bind(actor.tenant_id)
            .bind(family_id)
            .bind(reason.trim())
            .bind(persons_erased)
            .bind(rows_erased)
            .bind(actor.user_id)
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
            let event = actor.event(
                AuditAction::Erase,
                "family",
                family_id,
                family_id,
                format!("retention: {persons_erased} persons, {rows_erased} rows"),
            );
            crate::audit::append_events!(tx, &[&event]);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Erased {
                persons: persons_erased,
                rows: rows_erased,
            })
        })?;
        Ok(erased)
    }

    /// The query that says whether one family is flagged now, with its
    /// parameters, to run inside the transaction that acts on the answer.
    async fn due_check(&self, tenant_id: i64, family_id: i64, today: Date) -> Result<DueCheck> {
        let years = self.retention_rule(tenant_id).await?.years;
        let (cut, cut_ms) = cutoffs(today, years);
        Ok(DueCheck {
            sql: format!("SELECT COUNT(*) FROM families f WHERE {DUE_WHERE} AND f.id = $5"),
            tenant_id,
            family_id,
            cut,
            cut_ms,
            today,
        })
    }

    /// Sets when anything last happened on a family's record, for records
    /// whose history predates Kindred (brought over from an older system,
    /// or the demo's).
    pub async fn set_family_last_activity(&self, family_id: i64, on: Date) -> Result<()> {
        let ms = on.midnight().assume_utc().unix_timestamp() * 1000;
        on_pool!(self, |p| sqlx::query(
            "UPDATE families SET updated_at_ms = $1 WHERE id = $2"
        )
        .bind(ms)
        .bind(family_id)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The tenant's retention decisions, newest first.
    pub async fn retention_decisions(&self, tenant_id: i64, limit: i64) -> Result<Vec<Decision>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Decision>(
            "SELECT d.id, d.family_id, d.decision, d.reason, d.keep_until, d.persons_erased, d.rows_erased,
                    u.display_name AS decided_by, d.decided_at_ms
             FROM retention_decisions d LEFT JOIN users u ON u.id = d.decided_by_user_id
             WHERE d.tenant_id = $1 ORDER BY d.id DESC LIMIT $2"
        )
        .bind(tenant_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }
}

/// Every table that foreign keys mention, ordered so that a table comes
/// before every table it refers to (children first). A table referring to
/// itself is deleted in one statement, so its own key does not order it.
fn deletion_order(keys: &[ForeignKey]) -> Vec<String> {
    let mut tables: BTreeSet<&str> = BTreeSet::new();
    for k in keys {
        tables.insert(&k.child);
        tables.insert(&k.parent);
    }
    // refers_to[t]: the tables t refers to; t must be deleted before them.
    let mut waiting_on: BTreeMap<&str, BTreeSet<&str>> = tables.iter().map(|t| (*t, BTreeSet::new())).collect();
    for k in keys.iter().filter(|k| k.child != k.parent) {
        // The parent must wait for every child to go first.
        waiting_on.get_mut(k.parent.as_str()).expect("listed").insert(&k.child);
    }
    let mut order = Vec::with_capacity(tables.len());
    while !waiting_on.is_empty() {
        let ready: Vec<&str> = waiting_on
            .iter()
            .filter(|(_, children)| children.is_empty())
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            // A cycle of keys: delete what is left in name order and let
            // the database refuse if the rows truly depend on each other.
            order.extend(waiting_on.keys().map(|t| t.to_string()));
            break;
        }
        for t in ready {
            waiting_on.remove(t);
            for children in waiting_on.values_mut() {
                children.remove(t);
            }
            order.push(t.to_string());
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(child: &str, parent: &str) -> ForeignKey {
        ForeignKey {
            child: child.into(),
            column: format!("{parent}_id"),
            parent: parent.into(),
            child_has_id: true,
        }
    }

    #[test]
    fn children_are_deleted_before_what_they_refer_to() {
        let keys = vec![
            key("contact_people", "contacts"),
            key("contacts", "families"),
            key("contact_people", "persons"),
            key("family_members", "families"),
            key("family_members", "persons"),
            key("plan_versions", "plan_versions"),
        ];
        let order = deletion_order(&keys);
        let at = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert!(at("contact_people") < at("contacts"));
        assert!(at("contacts") < at("families"));
        assert!(at("contact_people") < at("persons"));
        assert!(at("family_members") < at("families") && at("family_members") < at("persons"));
        assert!(order.contains(&"plan_versions".to_string()));
    }

    #[test]
    fn the_cutoff_is_the_same_day_years_before() {
        let d = |y, m, day| Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap();
        assert_eq!(cutoff(d(2026, 11, 30), 6), d(2020, 11, 30));
        assert_eq!(cutoff(d(2028, 2, 29), 1), d(2027, 2, 28));
    }
}
