//! Early identification (F20): the facts partners already hold about a
//! tenant's families, gathered for `kindred_domain::early_identification` to
//! decide on, and workers' decisions about the families it lists.
//!
//! Facts are the feeds' source records linked to a current family member
//! (missed immunisations, school attendance, rent arrears) and open
//! involvements of adult mental health and police organisations. Only the
//! tenant's own families are read. The store judges nothing: which facts are
//! signals, which a viewer may see and which families are listed is the
//! domain's.

use std::collections::{BTreeMap, BTreeSet};

use kindred_domain::early_identification::{Decision, DecisionFact, Fact, FamilyInput, SignalKind};
use kindred_domain::feeds::{FeedKind, FeedRow};
use kindred_domain::model::{FlagKind, OrgKind};
use time::Date;

use crate::{Db, Result, on_pool};

/// (source record, kind, organisation, source system, payload, event date, updated, person, family)
type RecordRow = (i64, String, i64, String, String, Option<Date>, i64, i64, i64);
/// (involvement, family, organisation, organisation kind, service, started)
type InvolvementRow = (i64, i64, i64, String, String, Date);

/// A decision as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub id: i64,
    pub family_id: i64,
    pub fact: DecisionFact,
    pub reason: String,
    pub decided_by_name: String,
}

/// What early identification reads about a tenant.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// Every family with at least one fact, with its facts, whether it is
    /// already known, and its latest decision.
    pub families: Vec<FamilyInput>,
    /// Each family's name.
    pub names: BTreeMap<i64, String>,
    /// The name of every organisation a fact comes from.
    pub organisations: BTreeMap<i64, String>,
    /// The latest decision about each family, with its reason and who made it.
    pub decisions: BTreeMap<i64, DecisionRow>,
}

/// The statutory flags that mean a family is already known.
const STATUTORY_FLAGS: [FlagKind; 4] = [
    FlagKind::ChildProtectionEnquiry,
    FlagKind::ChildProtectionPlan,
    FlagKind::ChildInNeed,
    FlagKind::LookedAfter,
];

/// Midnight UTC at the start of a date, in unix milliseconds.
fn start_ms(d: Date) -> i64 {
    (d.midnight().assume_utc().unix_timestamp()) * 1000
}

/// A source record's row as early identification reads it, or none when its
/// payload holds nothing to read (a counted-only record).
fn record_fact(r: &RecordRow) -> Option<(i64, Fact)> {
    let (id, kind, organisation_id, source_system, payload, event_on, updated_at_ms, person_id, family_id) = r;
    let row: FeedRow = serde_json::from_str(payload).ok()?;
    let (kind, measure, detail) = match FeedKind::parse(kind)? {
        FeedKind::MissedImmunisations => (
            SignalKind::MissedImmunisation,
            None,
            row.vaccine.clone().unwrap_or_else(|| "An immunisation".into()),
        ),
        FeedKind::SchoolAttendance => (
            SignalKind::SchoolAbsence,
            Some(row.attendance_tenths?),
            row.term.clone().unwrap_or_default(),
        ),
        FeedKind::HousingArrears => (SignalKind::RentArrears, Some(row.arrears_weeks_tenths?), String::new()),
        _ => return None,
    };
    Some((
        *family_id,
        Fact {
            kind,
            measure,
            detail,
            person_id: Some(*person_id),
            on: (*event_on)?,
            recorded_at_ms: *updated_at_ms,
            organisation_id: *organisation_id,
            source: source_system.clone(),
            key: format!("source_record:{id}"),
        },
    ))
}

impl Db {
    /// Everything early identification decides on for one tenant: facts
    /// dated on or after `since` (open involvements whenever they started),
    /// about current members of the tenant's families.
    pub async fn early_identification_facts(&self, tenant_id: i64, since: Date) -> Result<Gathered> {
        let kinds = [
            FeedKind::MissedImmunisations,
            FeedKind::SchoolAttendance,
            FeedKind::HousingArrears,
        ];
        let kind_list = kinds
            .iter()
            .map(|k| format!("'{}'", k.code()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT s.id, s.kind, s.organisation_id, s.source_system, s.payload, s.event_on, s.updated_at_ms, s.person_id, m.family_id
             FROM source_records s
             JOIN family_members m ON m.person_id = s.person_id AND m.left_on IS NULL
             JOIN families f ON f.id = m.family_id
             WHERE s.tenant_id = $1 AND f.tenant_id = $1 AND s.kind IN ({kind_list}) AND s.event_on >= $2
             ORDER BY s.id, m.family_id"
        );
        let records: Vec<RecordRow> = on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(tenant_id)
            .bind(since)
            .fetch_all(p)
            .await)?;
        let involvements: Vec<InvolvementRow> = on_pool!(self, |p| sqlx::query_as(
            "SELECT i.id, i.family_id, i.organisation_id, o.kind, i.service, i.started_on
             FROM involvements i JOIN families f ON f.id = i.family_id JOIN organisations o ON o.id = i.organisation_id
             WHERE f.tenant_id = $1 AND i.ended_on IS NULL AND o.kind IN ($2, $3)
             ORDER BY i.id"
        )
        .bind(tenant_id)
        .bind(OrgKind::AdultMentalHealth.code())
        .bind(OrgKind::Police.code())
        .fetch_all(p)
        .await)?;
        let mut facts: BTreeMap<i64, Vec<Fact>> = BTreeMap::new();
        for (family_id, fact) in records.iter().filter_map(record_fact) {
            facts.entry(family_id).or_default().push(fact);
        }
        for (id, family_id, organisation_id, kind, service, started_on) in involvements {
            let kind = match OrgKind::parse(&kind) {
                Some(OrgKind::AdultMentalHealth) => SignalKind::AdultMentalHealth,
                Some(OrgKind::Police) => SignalKind::PoliceInvolvement,
                _ => continue,
            };
            facts.entry(family_id).or_default().push(Fact {
                kind,
                measure: None,
                detail: service,
                person_id: None,
                on: started_on,
                recorded_at_ms: start_ms(started_on),
                organisation_id,
                source: "Kindred (recorded involvement)".into(),
                key: format!("involvement:{id}"),
            });
        }
        let ids: Vec<i64> = facts.keys().copied().collect();
        let known = self.known_families(&ids).await?;
        let names = self.family_names(&ids).await?;
        let decisions = self.early_identification_decisions(tenant_id).await?;
        let org_ids: BTreeSet<i64> = facts.values().flatten().map(|f| f.organisation_id).collect();
        let organisations = self
            .organisation_names_by_id(&org_ids.into_iter().collect::<Vec<_>>())
            .await?;
        Ok(Gathered {
            families: facts
                .into_iter()
                .map(|(family_id, facts)| FamilyInput {
                    family_id,
                    known: known.contains(&family_id),
                    facts,
                    decision: decisions.get(&family_id).map(|d| d.fact.clone()),
                })
                .collect(),
            names,
            organisations,
            decisions,
        })
    }

    /// Of these families, those already known: sealed, or with an open
    /// episode, an open statutory flag, or a referral waiting for triage.
    pub async fn known_families(&self, family_ids: &[i64]) -> Result<BTreeSet<i64>> {
        let flags = STATUTORY_FLAGS
            .iter()
            .map(|k| format!("'{}'", k.code()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = BTreeSet::new();
        for chunk in family_ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT f.id FROM families f WHERE f.id IN ({list}) AND (f.sealed
                   OR EXISTS (SELECT 1 FROM episodes e WHERE e.family_id = f.id AND e.status = 'open')
                   OR EXISTS (SELECT 1 FROM flags g WHERE g.family_id = f.id AND g.ended_on IS NULL AND g.kind IN ({flags}))
                   OR EXISTS (SELECT 1 FROM referrals r WHERE r.family_id = f.id AND r.status = 'open'))"
            );
            let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
            out.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    async fn family_names(&self, family_ids: &[i64]) -> Result<BTreeMap<i64, String>> {
        let mut out = BTreeMap::new();
        for chunk in family_ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT id, name FROM families WHERE id IN ({list})");
            let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }

    async fn organisation_names_by_id(&self, ids: &[i64]) -> Result<BTreeMap<i64, String>> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT id, name FROM organisations WHERE id IN ({list})");
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    /// The latest decision about each of a tenant's families.
    pub async fn early_identification_decisions(&self, tenant_id: i64) -> Result<BTreeMap<i64, DecisionRow>> {
        let rows: Vec<(i64, i64, String, String, i64, String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT d.id, d.family_id, d.decision, d.reason, d.decided_by_user_id, u.display_name, d.decided_at_ms
             FROM early_identification_decisions d JOIN users u ON u.id = d.decided_by_user_id
             WHERE d.tenant_id = $1 ORDER BY d.decided_at_ms, d.id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let mut out = BTreeMap::new();
        for (id, family_id, decision, reason, by, name, at_ms) in rows {
            let Some(decision) = Decision::parse(&decision) else {
                continue;
            };
            out.insert(
                family_id,
                DecisionRow {
                    id,
                    family_id,
                    fact: DecisionFact {
                        decision,
                        at_ms,
                        by_user_id: by,
                    },
                    reason,
                    decided_by_name: name,
                },
            );
        }
        Ok(out)
    }

    /// Records a decision about a family, now; returns its id.
    pub async fn record_early_identification_decision(
        &self,
        tenant_id: i64,
        family_id: i64,
        decision: Decision,
        reason: &str,
        by_user_id: i64,
    ) -> Result<i64> {
        self.record_early_identification_decision_at(
            tenant_id,
            family_id,
            decision,
            reason,
            by_user_id,
            crate::now_ms(),
        )
        .await
    }

    /// As [`Db::record_early_identification_decision`], at a given instant (the demo's history).
    pub async fn record_early_identification_decision_at(
        &self,
        tenant_id: i64,
        family_id: i64,
        decision: Decision,
        reason: &str,
        by_user_id: i64,
        at_ms: i64,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO early_identification_decisions (tenant_id, family_id, decision, reason, decided_by_user_id, decided_at_ms)
             SELECT $1, id, $3, $4, $5, $6 FROM families WHERE id = $2 AND tenant_id = $1 RETURNING id"
        )
        .bind(tenant_id)
        .bind(family_id)
        .bind(decision.code())
        .bind(reason)
        .bind(by_user_id)
        .bind(at_ms)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }
}
